/*
 * main_av.c - the test_av executable: every table of tests/unit/av.
 * Usage: test_av [-l | NAME...]  (no argument runs all tests)
 */
#define TM_TEST_IMPL
#include "harness.h"

#include "suites.h"

int
main(int argc, char **argv)
{
    static const struct tm_test *const suites[] = {tests_av, NULL};

    return tm_test_main(argc, argv, suites);
}
