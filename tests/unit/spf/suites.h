/* suites.h - the test tables of tests/unit/spf */
#ifndef TM_TEST_SPF_SUITES_H
#define TM_TEST_SPF_SUITES_H

#include "harness.h"

extern const struct tm_test tests_spf_macro[];
extern const struct tm_test tests_spf_parse[];
extern const struct tm_test tests_spf_eval[];
extern const struct tm_test tests_spf_suite[];
extern const struct tm_test tests_dmarc[];

#endif
