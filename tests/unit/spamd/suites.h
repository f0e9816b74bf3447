/*
 * suites.h - the test tables that the files of tests/unit/spamd export;
 * main_spamd.c runs them in this order.
 */
#ifndef TM_TESTS_SPAMD_SUITES_H
#define TM_TESTS_SPAMD_SUITES_H

#include "harness.h"

extern const struct tm_test tests_spamd[];

#endif
