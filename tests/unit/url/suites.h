/*
 * suites.h - the test tables that the files of tests/unit/url export;
 * main_url.c runs them in this order.
 */
#ifndef TM_TESTS_URL_SUITES_H
#define TM_TESTS_URL_SUITES_H

#include "harness.h"

extern const struct tm_test tests_url[];

#endif
