/*
 * main_hostset.c - the test_hostset executable: the host lists of
 * scanner/url/list.c. Usage: test_hostset [-l | NAME...]  (no argument runs all)
 */
#define TM_TEST_IMPL
#include "harness.h"

#include "suites.h"

int
main(int argc, char **argv)
{
    static const struct tm_test *const suites[] = {tests_hostset, NULL};

    return tm_test_main(argc, argv, suites);
}
