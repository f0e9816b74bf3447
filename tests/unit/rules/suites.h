/*
 * suites.h - the test tables that the files of tests/unit/rules export; main_rules.c
 * runs them in this order. A new test file adds its table here and there.
 */
#ifndef TM_TESTS_RULES_SUITES_H
#define TM_TESTS_RULES_SUITES_H

#include "harness.h"

extern const struct tm_test tests_rules[];
extern const struct tm_test tests_rules_stock[];

#endif
