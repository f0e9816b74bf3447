/*
 * dns.c - the front door of scanner/dns: tm_dns_lookup_many checks each
 * query's name, charges the message's budget, answers from the shared cache
 * when it can, and hands the rest to the resolver's back end (cares.c for
 * real DNS, zone.c for a zone file) in one batch.
 *
 * Budget (struct tm_dns_budget): every lookup counts, cache hits and bad
 * names included, so the cost of a hostile message does not depend on what
 * happens to be cached; once `used` reaches `max_queries`, or the clock is
 * past `deadline_ms`, the remaining queries answer TM_DNS_LIMIT and nobody is
 * asked. A NULL budget means no limit (tools and tests).
 *
 * A query name is one to 253 bytes (one trailing dot allowed), labels of 1
 * to 63 bytes, no backslash (c-ares would read it as an escape); anything
 * else cannot exist and answers NXDOMAIN without a query.
 */
#include "dns/dns.h"

#include <string.h>

#include "core/arena.h"
#include "core/core.h"
#include "dns/dns_impl.h"

/* tm_dns_init - the common part of a new resolver: default bounds, real clock */
void
tm_dns_init(struct tm_dns *d, const struct tm_dns_ops *ops, void *impl)
{
    memset(d, 0, sizeof(*d));
    d->ops = ops;
    d->impl = impl;
    d->lim.max_rr = TM_DNS_MAX_RR;
    d->lim.max_txt = TM_DNS_MAX_TXT;
    d->max_ttl = TM_DNS_DEF_MAX_TTL;
    d->now_ms = tm_now_ms;
}

/* tm_dns_name_norm - lower-case a query name and drop one trailing dot; 0: not a name */
int
tm_dns_name_norm(const char *name, char *buf, size_t *len)
{
    size_t n = strlen(name), i, label = 0;

    if (n > 0 && name[n - 1] == '.')
        n--;
    if (n == 0 || n > TM_DNS_MAX_QNAME)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];

        if (c == '\\')
            return 0;
        if (c == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if (++label > TM_DNS_MAX_LABEL) {
            return 0;
        }
        buf[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    if (label == 0)
        return 0;
    buf[n] = '\0';
    *len = n;
    return 1;
}

/* tm_dns_rrset_copy - records and their text into the caller's arena */
tm_rc
tm_dns_rrset_copy(struct tm_arena *a, const struct tm_dns_rr *rr, size_t n,
                  struct tm_dns_rrset *out)
{
    size_t i;

    out->rr = NULL;
    out->n = 0;
    if (n == 0)
        return TM_OK;
    if ((out->rr = tm_arena_alloc(a, n * sizeof(*rr))) == NULL)
        return TM_ENOMEM;
    for (i = 0; i < n; i++) {
        out->rr[i] = rr[i];
        if (rr[i].text != NULL &&
            (out->rr[i].text = tm_arena_strndup(a, rr[i].text, rr[i].len)) == NULL)
            return TM_ENOMEM;
    }
    out->n = n;
    return TM_OK;
}

/* over_budget - charge one lookup; 1 when the budget or the deadline is spent */
static int
over_budget(struct tm_dns_budget *b, double now)
{
    if (b == NULL)
        return 0;
    if (b->deadline_ms > 0 && now >= b->deadline_ms)
        return 1;
    if (b->used >= b->max_queries)
        return 1;
    b->used++;
    return 0;
}

static int
type_ok(enum tm_dns_type t)
{
    return t == TM_DNS_A || t == TM_DNS_AAAA || t == TM_DNS_MX || t == TM_DNS_TXT ||
           t == TM_DNS_PTR;
}

/*
 * tm_dns_lookup_many - the batch front door. Why one pass that collects
 * "asks" instead of calling the back end per query: c-ares then has all the
 * queries in flight at once, and the whole batch waits for one deadline.
 */
tm_rc
tm_dns_lookup_many(struct tm_dns *d, struct tm_arena *a, struct tm_dns_query *q, size_t n,
                   struct tm_dns_budget *b)
{
    struct tm_dns_ask *asks;
    char norm[TM_DNS_MAX_QNAME + 1];
    size_t i, k = 0, len;
    double now = tm_now_ms();
    tm_rc rc = TM_OK;
    int hit;

    if (n == 0)
        return TM_OK;
    if ((asks = tm_arena_alloc(a, n * sizeof(*asks))) == NULL)
        return TM_ENOMEM;
    for (i = 0; i < n; i++) {
        struct tm_dns_rrset *res = &q[i].res;

        TM_ASSERT(q[i].name != NULL && type_ok(q[i].type));
        memset(res, 0, sizeof(*res));
        if (over_budget(b, now)) {
            res->status = TM_DNS_LIMIT;
            continue;
        }
        if (!tm_dns_name_norm(q[i].name, norm, &len)) {
            res->status = TM_DNS_NXDOMAIN;
            continue;
        }
        if (d->cache != NULL) {
            hit = tm_dns_cache_get(d->cache, a, norm, len, q[i].type, d->now_ms(), res);
            if (hit < 0) {
                res->status = TM_DNS_TEMPFAIL;
                rc = TM_ENOMEM;
                continue;
            }
            if (hit)
                continue;
        }
        asks[k].q = &q[i];
        asks[k].len = len;
        if ((asks[k].name = tm_arena_strndup(a, norm, len)) == NULL) {
            res->status = TM_DNS_TEMPFAIL;
            rc = TM_ENOMEM;
            continue;
        }
        k++;
    }
    if (k > 0 && d->ops->lookup(d, a, asks, k, b != NULL ? b->deadline_ms : 0) != TM_OK)
        rc = TM_ENOMEM;
    return rc;
}

/* tm_dns_lookup - one query through the batch path */
tm_rc
tm_dns_lookup(struct tm_dns *d, struct tm_arena *a, const char *name, enum tm_dns_type type,
              struct tm_dns_budget *b, struct tm_dns_rrset *out)
{
    struct tm_dns_query q;
    tm_rc rc;

    q.name = name;
    q.type = type;
    rc = tm_dns_lookup_many(d, a, &q, 1, b);
    *out = q.res;
    return rc;
}

/* tm_dns_status_name - the lower-case name of a status (verdict JSON, logs) */
const char *
tm_dns_status_name(enum tm_dns_status s)
{
    switch (s) {
    case TM_DNS_OK:
        return "ok";
    case TM_DNS_NODATA:
        return "nodata";
    case TM_DNS_NXDOMAIN:
        return "nxdomain";
    case TM_DNS_TEMPFAIL:
        return "tempfail";
    case TM_DNS_LIMIT:
        return "limit";
    }
    return "?";
}

/* tm_dns_free - the cache, then the back end (no lookup may be running) */
void
tm_dns_free(struct tm_dns *d)
{
    if (d == NULL)
        return;
    if (d->cache != NULL)
        tm_dns_cache_free(d->cache);
    d->ops->destroy(d);
}

/* tm_dns_set_clock - tests run the cache on a fake clock */
void
tm_dns_set_clock(struct tm_dns *d, double (*now_ms)(void))
{
    d->now_ms = now_ms != NULL ? now_ms : tm_now_ms;
}

/* tm_dns_set_limits - smaller per-answer bounds (tests, fuzzing); out of range: defaults */
void
tm_dns_set_limits(struct tm_dns *d, size_t max_rr, size_t max_txt)
{
    d->lim.max_rr = max_rr >= 1 && max_rr <= TM_DNS_MAX_RR ? max_rr : TM_DNS_MAX_RR;
    d->lim.max_txt = max_txt >= 1 && max_txt <= TM_DNS_MAX_TXT ? max_txt : TM_DNS_MAX_TXT;
}

/* tm_dns_get_cache_stats - a snapshot of the cache counters; 0 without a cache */
int
tm_dns_get_cache_stats(struct tm_dns *d, struct tm_dns_cache_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (d->cache == NULL)
        return 0;
    tm_dns_cache_stats(d->cache, st);
    return 1;
}
