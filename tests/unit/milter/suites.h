/*
 * suites.h - the test tables that the files of tests/unit/milter export;
 * main_milter.c runs them in this order.
 */
#ifndef TM_TESTS_MILTER_SUITES_H
#define TM_TESTS_MILTER_SUITES_H

#include "harness.h"

extern const struct tm_test tests_milter[];

#endif
