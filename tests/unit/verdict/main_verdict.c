/*
 * main_verdict.c - the test_verdict executable: every table of tests/unit/verdict.
 * Usage: test_verdict [-l | NAME...]  (no argument runs all tests)
 */
#define TM_TEST_IMPL
#include "harness.h"

#include "suites.h"

int
main(int argc, char **argv)
{
    static const struct tm_test *const suites[] = {tests_verdict, NULL};

    return tm_test_main(argc, argv, suites);
}
