/*
 * main_url.c - the test_url executable: every table of tests/unit/url.
 * Usage: test_url [-l | NAME...]  (no argument runs all tests)
 */
#define TM_TEST_IMPL
#include "harness.h"

#include "suites.h"

int
main(int argc, char **argv)
{
    static const struct tm_test *const suites[] = {tests_url, NULL};

    return tm_test_main(argc, argv, suites);
}
