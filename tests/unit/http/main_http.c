/*
 * main_http.c - the test_http executable: every table of tests/unit/http.
 * Usage: test_http [-l | NAME...]  (no argument runs all tests)
 */
#define TM_TEST_IMPL
#include "harness.h"

#include "suites.h"

int
main(int argc, char **argv)
{
    static const struct tm_test *const suites[] = {tests_http, NULL};

    return tm_test_main(argc, argv, suites);
}
