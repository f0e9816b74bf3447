/* suites.h - the test tables of tests/unit/auth, and the helpers of util.c */
#ifndef TM_TEST_AUTH_SUITES_H
#define TM_TEST_AUTH_SUITES_H

#include "harness.h"

#include <stddef.h>

#include "auth/arc.h"
#include "auth/dkim.h"
#include "core/core.h"
#include "dns/dns.h"

struct tm_arena;

extern const struct tm_test tests_dkim_tags[];   /* test_dkim_tags.c */
extern const struct tm_test tests_dkim_canon[];  /* test_dkim_canon.c */
extern const struct tm_test tests_dkim_verify[]; /* test_dkim_verify.c */
extern const struct tm_test tests_dkim_sign[];   /* test_dkim_sign.c */
extern const struct tm_test tests_arc[];         /* test_arc.c */

/* Debian's python3-dkim test data, and ours (tests/auth/data) */
#ifndef TM_AUTH_DKIMPY_DATA
#define TM_AUTH_DKIMPY_DATA "/usr/lib/python3/dist-packages/dkim/tests/data"
#endif
#ifndef TM_AUTH_DATA_DIR
#define TM_AUTH_DATA_DIR "tests/auth/data"
#endif
#define DKIMPY TM_AUTH_DKIMPY_DATA
#define OURS   TM_AUTH_DATA_DIR

#define TU_ARENA (64u << 20)

/* One entry of a test-local key table: the DNS of these tests. */
struct tu_key {
    const char *name;
    enum tm_dns_status st;
    const char *txt;
};

/* tu_read - a whole file (malloc, NUL-terminated), or NULL with a test failure */
unsigned char *tu_read(const char *dir, const char *name, size_t *len);
/* tu_read_record - a one-line file without its line end (a key record) */
char *tu_read_record(const char *dir, const char *name);
/* tu_replace - a malloc'd copy with the first `from` made `to` (a test failure if absent) */
unsigned char *tu_replace(const unsigned char *msg, size_t len, const char *from, const char *to,
                          size_t *outlen);
/* tu_crlf - a malloc'd copy with bare LFs made CRLF */
unsigned char *tu_crlf(const unsigned char *msg, size_t len, size_t *outlen);
/* tu_verify, tu_arc_verify - both phases, the queries answered from the key table */
tm_rc tu_verify(struct tm_arena *a, const struct tm_dkim_config *cfg, const unsigned char *msg,
                size_t len, const struct tu_key *keys, size_t nkeys, struct tm_dkim_results *res);
tm_rc tu_arc_verify(struct tm_arena *a, const struct tm_dkim_config *cfg, const unsigned char *msg,
                    size_t len, const struct tu_key *keys, size_t nkeys, struct tm_arc_result *res);

#endif
