/*
 * main_spf.c - the test_spf executable: SPF (RFC 7208) and DMARC (RFC 7489)
 * of scanner/auth, over the in-memory resolver of fake_dns.c.
 * Usage: test_spf [-l | NAME...]  (no argument runs all tests)
 */
#define TM_TEST_IMPL
#include "harness.h"

#include "suites.h"

int
main(int argc, char **argv)
{
    static const struct tm_test *const suites[] = {tests_spf_macro, tests_spf_parse, tests_spf_eval,
                                                   tests_spf_suite, tests_dmarc,     NULL};

    return tm_test_main(argc, argv, suites);
}
