/*
 * suites.h - the test tables that the files of tests/unit/http export;
 * main_http.c runs them in this order.
 */
#ifndef TM_TESTS_HTTP_SUITES_H
#define TM_TESTS_HTTP_SUITES_H

#include "harness.h"

extern const struct tm_test tests_http[];

#endif
