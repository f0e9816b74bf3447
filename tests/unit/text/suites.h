/* suites.h - the test tables of tests/unit/text */
#ifndef TM_TESTS_TEXT_SUITES_H
#define TM_TESTS_TEXT_SUITES_H

#include "harness.h"

extern const struct tm_test tests_text[];

#endif
