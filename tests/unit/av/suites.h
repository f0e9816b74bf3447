/*
 * suites.h - the test tables that the files of tests/unit/av export;
 * main_av.c runs them in this order.
 */
#ifndef TM_TESTS_AV_SUITES_H
#define TM_TESTS_AV_SUITES_H

#include "harness.h"

extern const struct tm_test tests_av[];

#endif
