/*
 * spf.h - Sender Policy Framework (RFC 7208): check_host() for the MAIL
 * FROM identity (tm_spf_check) and the HELO identity (tm_spf_check_helo).
 *
 * Every DNS lookup goes through scanner/dns with the message's budget;
 * answers and results live in the caller's arena (the task's). The RFC's
 * processing limits (4.6.4: 10 DNS-querying terms, 2 void lookups, 10 MX
 * and 10 PTR names per mechanism) are fields of tm_spf_limits, so tests
 * and fuzzers can run with smaller ones; the RFC values are the defaults.
 * What a record or an answer can make us hold is capped by the
 * TM_SPF_MAX_* constants below.
 */
#ifndef TM_AUTH_SPF_H
#define TM_AUTH_SPF_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

struct tm_arena;
struct tm_dns;
struct tm_dns_budget;

#define TM_SPF_MAX_DEPTH  16   /* include/redirect nesting, hard cap of limits.max_depth */
#define TM_SPF_MAX_RECORD 4096 /* bytes of one SPF record (TXT strings joined) */
#define TM_SPF_MAX_TERMS  256  /* terms in one record */
#define TM_SPF_MAX_DOMAIN 253  /* a domain name, after macro expansion (RFC 7208 7.3) */
#define TM_SPF_MAX_VALUE  512  /* a macro value (s, l, h, r ...) is clipped to this */
#define TM_SPF_MAX_EXP    512  /* bytes of an expanded explanation kept */

enum tm_spf_res {
    TM_SPF_NONE,
    TM_SPF_NEUTRAL,
    TM_SPF_PASS,
    TM_SPF_FAIL,
    TM_SPF_SOFTFAIL,
    TM_SPF_TEMPERROR,
    TM_SPF_PERMERROR,
};

struct tm_spf_limits {
    unsigned max_dns_terms; /* include a mx ptr exists redirect; 10 (4.6.4) */
    unsigned max_void;      /* lookups answering NXDOMAIN or no data; 2 (4.6.4) */
    unsigned max_mx;        /* MX names looked up per mx mechanism; 10, more = permerror */
    unsigned max_ptr;       /* PTR names looked up per ptr/%{p}; 10, more are ignored */
    unsigned max_depth;     /* include/redirect nesting; 10, at most TM_SPF_MAX_DEPTH */
};

struct tm_spf_request {
    /* The client IP: as text (v4, v6, IPv4-mapped v6), or when ip is NULL
     * as family 4 or 6 and addr in network order. */
    const char *ip;
    int family;
    unsigned char addr[16];
    const char *helo;      /* HELO/EHLO argument; NULL = none */
    const char *mail_from; /* reverse-path as given: "a@b", "<a@b>", "<>", ""; NULL = "" */
    const char *receiver;  /* the receiving host, for %{r} in explanations; NULL = "unknown" */
    int64_t now;           /* %{t}; 0 = the current time */
    const struct tm_spf_limits *limits; /* NULL = tm_spf_limits_default() */
};

struct tm_spf_result {
    enum tm_spf_res result;
    const char *domain;      /* the identity's domain that was checked, or NULL */
    const char *mechanism;   /* the top-level term that decided ("-all", "include:x"), or NULL */
    const char *explanation; /* fail only: the exp= text, expanded and clipped, or NULL */
    const char *reason;      /* why none/neutral/temperror/permerror (a short phrase) */
    unsigned dns_terms;      /* DNS-querying terms evaluated */
    unsigned void_lookups;
    unsigned queries; /* DNS queries asked, address lookups and exp= included */
};

/* tm_spf_limits_default - the RFC 7208 limits */
void tm_spf_limits_default(struct tm_spf_limits *l);

/*
 * tm_spf_check - check_host() for the MAIL FROM identity: its domain, or
 * postmaster@HELO for the null reverse-path (RFC 7208 2.4). DNS trouble
 * and bad records are results (temperror, permerror), not errors. Returns
 * TM_ENOMEM when the arena is spent, TM_EINVAL when the client IP does not
 * parse (out then says none, "no client IP"), TM_OK otherwise.
 */
tm_rc tm_spf_check(struct tm_dns *dns, struct tm_arena *a, struct tm_dns_budget *b,
                   const struct tm_spf_request *req, struct tm_spf_result *out);

/* tm_spf_check_helo - check_host() for the HELO identity (RFC 7208 2.3); mail_from unused */
tm_rc tm_spf_check_helo(struct tm_dns *dns, struct tm_arena *a, struct tm_dns_budget *b,
                        const struct tm_spf_request *req, struct tm_spf_result *out);

/* tm_spf_result_name - "none" "neutral" "pass" "fail" "softfail" "temperror" "permerror" */
const char *tm_spf_result_name(enum tm_spf_res r);

#endif
