/*
 * main_mime.c - the test_mime executable: every table of tests/unit/mime.
 * Usage: test_mime [-l | NAME...]  (no argument runs all tests)
 */
#define TM_TEST_IMPL
#include "harness.h"

#include "suites.h"

int
main(int argc, char **argv)
{
    static const struct tm_test *const suites[] = {tests_decode, tests_rfc2047, tests_params,
                                                   tests_mime, NULL};

    return tm_test_main(argc, argv, suites);
}
