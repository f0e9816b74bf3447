/* suites.h - the test tables of tests/unit/daemon */
#ifndef TM_TEST_DAEMON_SUITES_H
#define TM_TEST_DAEMON_SUITES_H

#include "harness.h"

extern const struct tm_test tests_daemon_config[];

#endif
