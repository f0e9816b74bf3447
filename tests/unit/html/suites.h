/*
 * suites.h - the test tables that the files of tests/unit/html export;
 * main_html.c runs them in this order.
 */
#ifndef TM_TESTS_HTML_SUITES_H
#define TM_TESTS_HTML_SUITES_H

#include "harness.h"

extern const struct tm_test tests_html[];

#endif
