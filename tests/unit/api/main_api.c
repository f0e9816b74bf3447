/*
 * main_api.c - the test_api executable: the public API of include/tamis/.
 * Usage: test_api [-l | NAME...]
 */
#define TM_TEST_IMPL
#include "harness.h"

#include "suites.h"

int
main(int argc, char **argv)
{
    static const struct tm_test *const suites[] = {tests_api, NULL};

    return tm_test_main(argc, argv, suites);
}
