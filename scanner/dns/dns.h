/*
 * dns.h - DNS lookups for sender authentication (SPF, DKIM keys, DMARC
 * policies, ARC): one interface, two resolvers behind it.
 *
 *   - tm_dns_new_cares: real DNS through c-ares (asynchronous; the queries
 *     of one tm_dns_lookup_many call are in flight together and waited for
 *     with one deadline), with a bounded, TTL-respecting answer cache
 *     shared by all threads;
 *   - tm_dns_new_zone: answers from a zone file in standard master-file
 *     syntax (RFC 1035 section 5: $ORIGIN, $TTL, @, relative names,
 *     parentheses, ; comments, quoted TXT strings with \DDD escapes), for
 *     offline use (`tamis scan --dns-zone FILE`) and tests.
 *
 * A tm_dns is safe to use from any number of threads at once (the daemon's
 * scan workers). Lookups block the calling thread at most until the
 * budget's deadline. Every message gets a tm_dns_budget: at most
 * max_queries lookups (cache hits included) and an absolute deadline, so a
 * hostile message (an SPF include chain, fifty DKIM signatures) costs a
 * bounded amount of DNS work; past either bound a lookup answers
 * TM_DNS_LIMIT without asking anyone.
 *
 * Answers live in the caller's arena (the task's).
 */
#ifndef TM_DNS_DNS_H
#define TM_DNS_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

struct tm_arena;
struct tm_dns;

enum tm_dns_type {
    TM_DNS_A = 1,
    TM_DNS_PTR = 12,
    TM_DNS_MX = 15,
    TM_DNS_TXT = 16,
    TM_DNS_AAAA = 28,
};

enum tm_dns_status {
    TM_DNS_OK,       /* n >= 1 records */
    TM_DNS_NODATA,   /* the name exists, no record of this type (n == 0) */
    TM_DNS_NXDOMAIN, /* no such name */
    TM_DNS_TEMPFAIL, /* timeout, SERVFAIL, network error: try again later */
    TM_DNS_LIMIT,    /* the message's lookup budget or deadline is spent: not asked */
};

struct tm_dns_rr {
    /* A, AAAA: family 4 or 6 and the address in network order */
    int family;
    unsigned char addr[16];
    /* MX: preference and exchange; PTR: the name; TXT: the record's strings
     * concatenated (RFC 7208 3.3, RFC 6376 3.6.2.2), text[len] == '\0' */
    unsigned pref;
    const char *text;
    size_t len;
    uint32_t ttl;
};

struct tm_dns_rrset {
    enum tm_dns_status status;
    struct tm_dns_rr *rr;
    size_t n;
};

struct tm_dns_budget {
    unsigned max_queries; /* lookups allowed for the message */
    unsigned used;
    double deadline_ms;   /* absolute, on tm_now_ms()'s clock; 0 = none */
};

struct tm_dns_opts {
    const char *servers;   /* "IP[:port],..." or NULL for /etc/resolv.conf */
    unsigned timeout_ms;   /* per try; default 2000 */
    unsigned tries;        /* default 2 */
    size_t cache_entries;  /* default 10000; 0 = no cache */
    uint32_t max_ttl;      /* cap on cached TTLs, seconds; default 3600 */
};

struct tm_dns_query {
    const char *name;      /* a domain name, no trailing dot needed */
    enum tm_dns_type type;
    struct tm_dns_rrset res; /* filled by the lookup */
};

/* tm_dns_new_cares - a resolver over real DNS; TM_EIO with err when c-ares cannot start */
tm_rc tm_dns_new_cares(const struct tm_dns_opts *o, struct tm_dns **out, char *err, size_t errlen);

/*
 * tm_dns_new_zone - a resolver answering from a zone file (and only from
 * it: a name the file does not have is NXDOMAIN). Errors name file:line.
 */
tm_rc tm_dns_new_zone(const char *path, struct tm_dns **out, char *err, size_t errlen);

void tm_dns_free(struct tm_dns *d);

/*
 * tm_dns_lookup_many - look the n queries up together and fill each one's
 * res (records in the arena). Always TM_OK unless the arena is exhausted
 * (TM_ENOMEM); DNS failures are statuses, not errors.
 */
tm_rc tm_dns_lookup_many(struct tm_dns *d, struct tm_arena *a, struct tm_dns_query *q, size_t n,
                         struct tm_dns_budget *b);

/* tm_dns_lookup - one query */
tm_rc tm_dns_lookup(struct tm_dns *d, struct tm_arena *a, const char *name, enum tm_dns_type type,
                    struct tm_dns_budget *b, struct tm_dns_rrset *out);

/* tm_dns_status_name - "ok", "nodata", "nxdomain", "tempfail", "limit" */
const char *tm_dns_status_name(enum tm_dns_status s);

#endif
