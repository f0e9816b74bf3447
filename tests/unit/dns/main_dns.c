/*
 * main_dns.c - the test_dns executable: every table of tests/unit/dns.
 * Usage: test_dns [-l | NAME...]  (no argument runs all tests)
 */
#define TM_TEST_IMPL
#include "harness.h"

#include "suites.h"

int
main(int argc, char **argv)
{
    static const struct tm_test *const suites[] = {tests_dns_zone, tests_dns_front, tests_dns_cares,
                                                   NULL};

    return tm_test_main(argc, argv, suites);
}
