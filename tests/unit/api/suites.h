/* suites.h - the test tables of tests/unit/api (the public embedder API) */
#ifndef TM_TESTS_API_SUITES_H
#define TM_TESTS_API_SUITES_H

#include "harness.h"

extern const struct tm_test tests_api[];

#endif
