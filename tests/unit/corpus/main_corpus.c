/*
 * main_corpus.c - the test_corpus executable: every table of tests/unit/corpus.
 * Usage: test_corpus [-l | NAME...]  (no argument runs all tests)
 */
#define TM_TEST_IMPL
#include "harness.h"

#include "suites.h"

int
main(int argc, char **argv)
{
    static const struct tm_test *const suites[] = {tests_corpus_fit, NULL};

    return tm_test_main(argc, argv, suites);
}
