/*
 * fuzz_zone.c - the zone-file parser of scanner/dns (tm_dns_new_zone_mem)
 * with small limits, then lookups of every name the zone knows (the first
 * FUZZ_NAMES of them), of one name under each and of fixed names, in every
 * type.
 *
 * Invariants: a failed load names "fuzz.zone:LINE: " and leaves no resolver;
 * every answer has a known status, at most TM_DNS_MAX_RR records, records
 * exactly when the status is OK; an A record is 4 bytes of family 4, AAAA
 * family 6; text is NUL-terminated, a TXT at most TM_DNS_MAX_TXT bytes and a
 * name (MX, PTR) at most TM_DNS_MAX_QNAME; the same batch asked twice
 * gets the same statuses. Leaks show up when the resolver is freed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/core.h"
#include "dns/dns.h"
#include "dns/dns_impl.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ARENA (16u << 20)
#define FUZZ_NAMES 64
#define FUZZ_ERR   512

static const enum tm_dns_type types[] = {TM_DNS_A, TM_DNS_AAAA, TM_DNS_MX, TM_DNS_TXT, TM_DNS_PTR};

static void
check_rrset(const struct tm_dns_query *q)
{
    const struct tm_dns_rrset *rs = &q->res;
    size_t i;

    TM_ASSERT(rs->status == TM_DNS_OK || rs->status == TM_DNS_NODATA ||
              rs->status == TM_DNS_NXDOMAIN || rs->status == TM_DNS_TEMPFAIL);
    TM_ASSERT(rs->n <= TM_DNS_MAX_RR);
    TM_ASSERT((rs->status == TM_DNS_OK) == (rs->n > 0));
    for (i = 0; i < rs->n; i++) {
        const struct tm_dns_rr *rr = &rs->rr[i];

        if (q->type == TM_DNS_A || q->type == TM_DNS_AAAA) {
            TM_ASSERT(rr->family == (q->type == TM_DNS_A ? 4 : 6));
            continue;
        }
        TM_ASSERT(rr->text != NULL && rr->text[rr->len] == '\0');
        TM_ASSERT(rr->len <= (q->type == TM_DNS_TXT ? (size_t)TM_DNS_MAX_TXT : TM_DNS_MAX_QNAME));
        TM_ASSERT(q->type != TM_DNS_MX || rr->pref <= 65535);
    }
}

/* ask - one name in every type, all in one batch, twice */
static void
ask(struct tm_dns *d, struct tm_arena *a, const char *name)
{
    struct tm_dns_query q[TM_NELEM(types)], r[TM_NELEM(types)];
    size_t i;

    for (i = 0; i < TM_NELEM(types); i++) {
        q[i].name = name;
        q[i].type = types[i];
    }
    memcpy(r, q, sizeof(q));
    if (tm_dns_lookup_many(d, a, q, TM_NELEM(types), NULL) != TM_OK ||
        tm_dns_lookup_many(d, a, r, TM_NELEM(types), NULL) != TM_OK)
        return; /* the arena ran out: fine */
    for (i = 0; i < TM_NELEM(types); i++) {
        check_rrset(&q[i]);
        TM_ASSERT(q[i].res.status == r[i].res.status && q[i].res.n == r[i].res.n);
    }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tm_dns_zone_limits lim = tm_dns_zone_limits_default();
    struct tm_dns *d = NULL;
    struct tm_arena *a;
    char err[FUZZ_ERR], sub[TM_DNS_MAX_QNAME + 8];
    const char *name;
    size_t i;

    /* Small bounds so every "limit reached" branch is a few mutations away. */
    lim.max_bytes = 1u << 20;
    lim.max_line = 512;
    lim.max_entry = 2048;
    lim.max_tokens = 64;
    lim.max_records = 256;
    if (tm_dns_new_zone_mem((const char *)data, size, "fuzz.zone", &lim, &d, err, sizeof(err)) !=
        TM_OK) {
        TM_ASSERT(d == NULL);
        TM_ASSERT(strncmp(err, "fuzz.zone:", 10) == 0);
        return 0;
    }
    if ((a = tm_arena_new(FUZZ_ARENA)) == NULL)
        abort();
    for (i = 0; i < FUZZ_NAMES && (name = tm_dns_zone_name_at(d, i)) != NULL; i++) {
        TM_ASSERT(strlen(name) <= TM_DNS_MAX_QNAME);
        ask(d, a, name);
        memcpy(sub, "x.", 2);
        memcpy(sub + 2, name, strlen(name) + 1);
        ask(d, a, sub); /* wildcards, NXDOMAIN, and a name one byte too long */
    }
    ask(d, a, "example.com");
    ask(d, a, "www.example.com");
    ask(d, a, "a.b.c.example.com");
    tm_arena_free(a);
    tm_dns_free(d);
    return 0;
}
