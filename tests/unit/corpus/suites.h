/* suites.h - the test tables of tests/unit/corpus */
#ifndef TM_TEST_CORPUS_SUITES_H
#define TM_TEST_CORPUS_SUITES_H

#include "harness.h"

extern const struct tm_test tests_corpus_fit[];

#endif
