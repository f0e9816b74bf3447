/* suites.h - the test tables of tests/unit/dns, and the helpers they share (util.c) */
#ifndef TM_TEST_DNS_SUITES_H
#define TM_TEST_DNS_SUITES_H

#include "harness.h"

#include "dns/dns.h"

struct tm_arena;

extern const struct tm_test tests_dns_zone[];
extern const struct tm_test tests_dns_front[];
extern const struct tm_test tests_dns_cares[];

/* dns_zone - a zone resolver over text (default limits); NULL and a failed check on error */
struct tm_dns *dns_zone(const char *text);

/*
 * dns_ans - one lookup, answered as "STATUS V1 V2..." in the arena: addresses,
 * "PREF HOST" for MX (as "10:mx.test"), names, TXT text with bytes outside
 * printable ASCII as \xHH. No budget.
 */
const char *dns_ans(struct tm_dns *d, struct tm_arena *a, const char *name, enum tm_dns_type t);

/* dns_fmt - the same text for a filled rrset */
const char *dns_fmt(struct tm_arena *a, const struct tm_dns_rrset *rs, enum tm_dns_type t);

#endif
