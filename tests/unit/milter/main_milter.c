/*
 * main_milter.c - the test_milter executable: every table of tests/unit/milter.
 * Usage: test_milter [-l | NAME...]  (no argument runs all tests)
 */
#define TM_TEST_IMPL
#include "harness.h"

#include "suites.h"

int
main(int argc, char **argv)
{
    static const struct tm_test *const suites[] = {tests_milter, NULL};

    return tm_test_main(argc, argv, suites);
}
