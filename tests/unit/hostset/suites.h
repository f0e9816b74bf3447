/*
 * suites.h - the test tables that the files of tests/unit/hostset export;
 * main_hostset.c runs them in this order.
 */
#ifndef TM_TESTS_HOSTSET_SUITES_H
#define TM_TESTS_HOSTSET_SUITES_H

#include "harness.h"

extern const struct tm_test tests_hostset[];

#endif
