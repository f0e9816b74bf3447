/*
 * main_rules.c - the test_rules executable: every table of tests/unit/rules.
 * Usage: test_rules [-l | NAME...]  (no argument runs all tests)
 */
#define TM_TEST_IMPL
#include "harness.h"

#include "suites.h"

int
main(int argc, char **argv)
{
    static const struct tm_test *const suites[] = {tests_rules, tests_rules_stock, NULL};

    return tm_test_main(argc, argv, suites);
}
