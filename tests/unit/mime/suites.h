/*
 * suites.h - the test tables that the files of tests/unit/mime export; main_mime.c
 * runs them in this order. A new test file adds its table here and there.
 */
#ifndef TM_TESTS_MIME_SUITES_H
#define TM_TESTS_MIME_SUITES_H

#include "harness.h"

extern const struct tm_test tests_decode[];
extern const struct tm_test tests_rfc2047[];
extern const struct tm_test tests_params[];
extern const struct tm_test tests_mime[];

#endif
