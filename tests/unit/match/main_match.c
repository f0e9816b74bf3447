/*
 * main_match.c - the test_match executable: every table of tests/unit/match.
 * Usage: test_match [-l | NAME...]  (no argument runs all tests)
 */
#define TM_TEST_IMPL
#include "harness.h"

extern const struct tm_test tests_relax[];

int
main(int argc, char **argv)
{
    static const struct tm_test *const suites[] = {tests_relax, NULL};

    return tm_test_main(argc, argv, suites);
}
