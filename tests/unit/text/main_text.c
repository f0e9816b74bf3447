/*
 * main_text.c - the test_text executable: every table of tests/unit/text.
 * Usage: test_text [-l | NAME...]  (no argument runs all tests)
 */
#define TM_TEST_IMPL
#include "harness.h"

#include "suites.h"

int
main(int argc, char **argv)
{
    static const struct tm_test *const suites[] = {tests_text, NULL};

    return tm_test_main(argc, argv, suites);
}
