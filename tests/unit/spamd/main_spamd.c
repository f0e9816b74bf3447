/*
 * main_spamd.c - the test_spamd executable: every table of tests/unit/spamd.
 * Usage: test_spamd [-l | NAME...]  (no argument runs all tests)
 */
#define TM_TEST_IMPL
#include "harness.h"

#include "suites.h"

int
main(int argc, char **argv)
{
    static const struct tm_test *const suites[] = {tests_spamd, NULL};

    return tm_test_main(argc, argv, suites);
}
