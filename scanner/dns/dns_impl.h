/*
 * dns_impl.h - private to scanner/dns: the resolver object shared by the
 * two back ends, the answer cache, the bounds on what a DNS answer or a
 * zone file controls, and the hooks the unit tests and the fuzz harness use
 * (a fake clock, small limits, a zone parsed from memory).
 *
 * tm_dns_lookup_many (dns.c) is the one front door: it checks names and the
 * message's budget, answers from the cache, and hands only what must really
 * be asked to the back end (cares.c or zone.c) as an array of tm_dns_ask.
 */
#ifndef TM_DNS_DNS_IMPL_H
#define TM_DNS_DNS_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "dns/dns.h"

struct tm_arena;

/* ---- bounds on what an answer controls (documented in the report of issue 9) ---- */
#define TM_DNS_MAX_RR      64    /* records kept per answer; the rest are dropped */
#define TM_DNS_MAX_TXT     65536 /* bytes of one TXT record, its strings concatenated; cut there */
#define TM_DNS_MAX_NAME    255 /* bytes of a name in record data (MX, PTR, CNAME); longer: dropped */
#define TM_DNS_MAX_QNAME   253 /* bytes of a query name, without the trailing dot */
#define TM_DNS_MAX_LABEL   63  /* bytes of one label */
#define TM_DNS_MAX_CNAME   8   /* CNAME links the zone resolver follows before TEMPFAIL */
#define TM_DNS_NEG_TTL     60  /* negative answer without an SOA: cached this long (s) */
#define TM_DNS_NEG_TTL_MAX 300 /* negative answers are never cached longer (s) */

/* ---- c-ares settings ---- */
#define TM_DNS_DEF_TIMEOUT_MS 2000
#define TM_DNS_MAX_TIMEOUT_MS 60000
#define TM_DNS_DEF_TRIES      2
#define TM_DNS_MAX_TRIES      10
#define TM_DNS_DEF_CACHE      10000
#define TM_DNS_MAX_CACHE      (1u << 22)
#define TM_DNS_DEF_MAX_TTL    3600
#define TM_DNS_EDNS_SIZE      1232 /* UDP payload we advertise (DNS flag day 2020) */
#define TM_DNS_MAX_IDLE_CHANS 64   /* idle c-ares channels kept in the pool */

/* ---- the cache ---- */
#define TM_DNS_CACHE_MAX_BYTES (64u << 20)  /* all entries together */
#define TM_DNS_CACHE_MAX_ENTRY (256u << 10) /* one answer larger than this is not cached */

/* Per-answer bounds; the defaults are the constants above, tests lower them. */
struct tm_dns_limits {
    size_t max_rr;
    size_t max_txt;
};

/* One query that the front door could not answer itself. */
struct tm_dns_ask {
    struct tm_dns_query *q;
    const char *name; /* lower case, no trailing dot, checked (tm_dns_name_norm) */
    size_t len;
};

struct tm_dns_ops {
    /* Answer every ask (q->res); may stop at deadline_ms (0 = none). TM_ENOMEM only. */
    tm_rc (*lookup)(struct tm_dns *d, struct tm_arena *a, struct tm_dns_ask *asks, size_t n,
                    double deadline_ms);
    void (*destroy)(struct tm_dns *d);
};

struct tm_dns_cache;

struct tm_dns {
    const struct tm_dns_ops *ops;
    struct tm_dns_limits lim;
    struct tm_dns_cache *cache; /* NULL: no cache */
    uint32_t max_ttl;
    double (*now_ms)(void); /* the cache's clock: tm_now_ms unless a test fakes it */
    void *impl;             /* the back end's state */
};

/* tm_dns_init - fill the common part of a new resolver */
void tm_dns_init(struct tm_dns *d, const struct tm_dns_ops *ops, void *impl);

/* tm_dns_name_norm - lower-cased copy of a query name without the trailing
 * dot into buf (TM_DNS_MAX_QNAME + 1 bytes); 0 when it is not a valid name */
int tm_dns_name_norm(const char *name, char *buf, size_t *len);

/* tm_dns_rrset_copy - copy n records (and their text) into the arena */
tm_rc tm_dns_rrset_copy(struct tm_arena *a, const struct tm_dns_rr *rr, size_t n,
                        struct tm_dns_rrset *out);

/* ---- the cache (cache.c): shared, mutex-protected, LRU, bounded ---- */
struct tm_dns_cache_stats {
    size_t entries, bytes;
    unsigned long hits, misses, inserts, evictions, expired;
};

struct tm_dns_cache *tm_dns_cache_new(size_t max_entries, size_t max_bytes);
void tm_dns_cache_free(struct tm_dns_cache *c);
/* tm_dns_cache_get - 1: hit, res filled (records in the arena); 0: miss; TM_ENOMEM */
int tm_dns_cache_get(struct tm_dns_cache *c, struct tm_arena *a, const char *name, size_t len,
                     enum tm_dns_type type, double now_ms, struct tm_dns_rrset *res);
/* tm_dns_cache_put - remember an OK/NODATA/NXDOMAIN answer for ttl seconds (0: not at all) */
void tm_dns_cache_put(struct tm_dns_cache *c, const char *name, size_t len, enum tm_dns_type type,
                      const struct tm_dns_rrset *res, uint32_t ttl, double now_ms);
void tm_dns_cache_stats(struct tm_dns_cache *c, struct tm_dns_cache_stats *st);

/* ---- hooks for tests and fuzzing ---- */

/* tm_dns_set_clock - the clock the cache's TTLs run on (NULL: tm_now_ms) */
void tm_dns_set_clock(struct tm_dns *d, double (*now_ms)(void));
/* tm_dns_set_limits - lower the per-answer bounds (never above the defaults) */
void tm_dns_set_limits(struct tm_dns *d, size_t max_rr, size_t max_txt);
/* tm_dns_get_cache_stats - 0 and all-zero stats when the resolver has no cache */
int tm_dns_get_cache_stats(struct tm_dns *d, struct tm_dns_cache_stats *st);

/* Bounds of the zone-file parser; tm_dns_zone_limits_default gives the ones below. */
#define TM_DNS_ZONE_MAX_BYTES   (64u << 20) /* zone file size */
#define TM_DNS_ZONE_MAX_LINE    65536       /* bytes of one physical line */
#define TM_DNS_ZONE_MAX_ENTRY   (256u << 10) /* decoded bytes of one entry (parentheses join lines) */
#define TM_DNS_ZONE_MAX_TOKENS  70000   /* tokens of one entry (a 64 KB TXT of 1-byte strings) */
#define TM_DNS_ZONE_MAX_RECORDS 2000000 /* records in the file, ignored types included */

struct tm_dns_zone_limits {
    size_t max_bytes, max_line, max_entry, max_tokens, max_records;
};

struct tm_dns_zone_limits tm_dns_zone_limits_default(void);

/*
 * tm_dns_new_zone_mem - tm_dns_new_zone over text in memory; `name` is what
 * error messages call the file. lim NULL: the defaults.
 */
tm_rc tm_dns_new_zone_mem(const char *text, size_t len, const char *name,
                          const struct tm_dns_zone_limits *lim, struct tm_dns **out, char *err,
                          size_t errlen);

/* tm_dns_zone_name_at - the i-th name a zone resolver knows (owners and empty
 * non-terminals, in sorted order), or NULL past the end (fuzzing) */
const char *tm_dns_zone_name_at(const struct tm_dns *d, size_t i);

#endif
