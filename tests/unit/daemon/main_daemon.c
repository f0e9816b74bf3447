/*
 * main_daemon.c - the test_daemon executable: every table of tests/unit/daemon.
 * Usage: test_daemon [-l | NAME...]  (no argument runs all tests)
 */
#define TM_TEST_IMPL
#include "harness.h"

#include "suites.h"

int
main(int argc, char **argv)
{
    static const struct tm_test *const suites[] = {tests_daemon_config, NULL};

    return tm_test_main(argc, argv, suites);
}
