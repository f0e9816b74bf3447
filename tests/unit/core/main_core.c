/*
 * main_core.c - the test_core executable: every table of tests/unit/core.
 * Usage: test_core [-l | NAME...]  (no argument runs all tests)
 */
#define TM_TEST_IMPL
#include "harness.h"

#include "suites.h"

int
main(int argc, char **argv)
{
    static const struct tm_test *const suites[] = {tests_core, NULL};

    return tm_test_main(argc, argv, suites);
}
