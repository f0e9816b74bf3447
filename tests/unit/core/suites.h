/*
 * suites.h - the test tables that the files of tests/unit/core export;
 * main_core.c runs them in this order.
 */
#ifndef TM_TESTS_CORE_SUITES_H
#define TM_TESTS_CORE_SUITES_H

#include "harness.h"

extern const struct tm_test tests_core[];

#endif
