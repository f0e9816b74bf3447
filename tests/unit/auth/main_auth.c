/*
 * main_auth.c - the test_auth executable: every table of tests/unit/auth
 * (DKIM and ARC of scanner/auth).
 * Usage: test_auth [-l | NAME...]  (no argument runs all tests)
 */
#define TM_TEST_IMPL
#include "harness.h"

#include "suites.h"

int
main(int argc, char **argv)
{
    static const struct tm_test *const suites[] = {
        tests_dkim_tags, tests_dkim_canon, tests_dkim_verify, tests_dkim_sign, tests_arc, NULL};

    return tm_test_main(argc, argv, suites);
}
