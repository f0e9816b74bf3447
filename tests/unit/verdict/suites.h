/* suites.h - the test tables of tests/unit/verdict */
#ifndef TM_TEST_VERDICT_SUITES_H
#define TM_TEST_VERDICT_SUITES_H

#include "harness.h"

extern const struct tm_test tests_verdict[];

#endif
