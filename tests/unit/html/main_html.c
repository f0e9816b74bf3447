/*
 * main_html.c - the test_html executable: every table of tests/unit/html.
 * Usage: test_html [-l | NAME...]  (no argument runs all tests)
 */
#define TM_TEST_IMPL
#include "harness.h"

#include "suites.h"

int
main(int argc, char **argv)
{
    static const struct tm_test *const suites[] = {tests_html, NULL};

    return tm_test_main(argc, argv, suites);
}
