/*
 * dmarc.h - DMARC (RFC 7489): policy discovery at the RFC5322.From domain
 * and its organisational domain (Public Suffix List, libpsl), record
 * parsing, SPF and DKIM identifier alignment, and the disposition the
 * policy asks for (p or sp, sampled by pct).
 *
 * The caller brings the SPF result of the MAIL FROM identity and the d=
 * of every DKIM signature that verified; the sampling draw for pct is the
 * caller's too (0..99), so results are reproducible. Mapping the
 * disposition to an action (reject, quarantine as add-header or hold) is
 * the caller's policy.
 */
#ifndef TM_AUTH_DMARC_H
#define TM_AUTH_DMARC_H

#include <stddef.h>

#include "auth/spf.h"
#include "core/core.h"

struct tm_arena;
struct tm_dns;
struct tm_dns_budget;

#define TM_DMARC_MAX_RECORD 2048 /* bytes of a DMARC TXT record parsed */
#define TM_DMARC_MAX_DOMAIN 253  /* a domain name */
#define TM_DMARC_MAX_DKIM   32   /* passing DKIM domains looked at */
#define TM_DMARC_MAX_FROM   16   /* addresses read from one From header */

enum tm_dmarc_res {
    TM_DMARC_NONE, /* no policy record (or no usable one): DMARC does not apply */
    TM_DMARC_PASS,
    TM_DMARC_FAIL,
    TM_DMARC_TEMPERROR,
    TM_DMARC_PERMERROR,
};

enum tm_dmarc_policy {
    TM_DMARC_P_NONE,
    TM_DMARC_P_QUARANTINE,
    TM_DMARC_P_REJECT,
};

enum tm_dmarc_align {
    TM_DMARC_RELAXED,
    TM_DMARC_STRICT,
};

/* A parsed record (RFC 7489 6.3). Strings point into the arena. */
struct tm_dmarc_record {
    enum tm_dmarc_policy p;
    enum tm_dmarc_policy sp; /* p when the record has no sp */
    int has_sp;
    int p_fallback; /* p or sp was missing or bad, rua valid: acting as p=none (6.6.3) */
    unsigned pct;   /* 0..100; 100 when absent or bad */
    enum tm_dmarc_align adkim, aspf; /* relaxed when absent or bad */
    const char *rua, *ruf, *fo, *rf; /* as written (trimmed), or NULL; kept, unused */
    unsigned long ri;                /* 86400 when absent or bad */
};

enum tm_dmarc_parse_status {
    TM_DMARC_REC_OK,
    TM_DMARC_REC_NOT_DMARC, /* does not begin with v=DMARC1: not a DMARC record */
    TM_DMARC_REC_NO_POLICY, /* p or sp missing/bad and no valid rua: no DMARC processing */
};

struct tm_dmarc_inputs {
    enum tm_spf_res spf;          /* SPF result of the MAIL FROM identity */
    const char *spf_domain;       /* that identity's domain (postmaster@HELO's for "<>") */
    const char *const *dkim_pass; /* d= of each DKIM signature that verified */
    size_t ndkim;                 /* at most TM_DMARC_MAX_DKIM are looked at */
};

struct tm_dmarc_result {
    enum tm_dmarc_res result;
    const char *from_domain;   /* lower case, no trailing dot */
    const char *org_domain;    /* its organisational domain */
    const char *record_domain; /* where the record was found (From or org domain), or NULL */
    int have_record;
    struct tm_dmarc_record rec;
    int spf_aligned;
    int dkim_aligned;
    const char *dkim_domain;          /* the aligned d=, or NULL */
    enum tm_dmarc_policy policy;      /* the p or sp that applies to this From domain */
    int sampled;                      /* the draw fell inside pct */
    enum tm_dmarc_policy disposition; /* what to do: the policy on a sampled fail, one
                                          step milder on an unsampled one, none otherwise */
    const char *reason;               /* a short phrase for none/temperror/permerror */
    unsigned queries;                 /* DNS queries asked */
};

/* RFC5322.From domain extraction (tm_dmarc_from_domain) */
enum tm_dmarc_from_status {
    TM_DMARC_FROM_OK,
    TM_DMARC_FROM_NONE,     /* no address, or an address without a domain */
    TM_DMARC_FROM_MULTIPLE, /* addresses in different domains */
};

/*
 * tm_dmarc_parse - parse one TXT string as a DMARC record. TM_OK with
 * *status saying whether it is one and whether it carries a policy;
 * TM_ENOMEM only.
 */
tm_rc tm_dmarc_parse(struct tm_arena *a, const char *txt, size_t len, struct tm_dmarc_record *out,
                     enum tm_dmarc_parse_status *status);

/*
 * tm_dmarc_org_domain - the organisational domain of domain (RFC 7489
 * 3.2): the registrable domain by the Public Suffix List, lower case and
 * without a trailing dot; a domain that is itself a public suffix (or not
 * under a known one) is its own. TM_ELIMIT when out is too small,
 * TM_EINVAL for an empty or over-long name.
 */
tm_rc tm_dmarc_org_domain(const char *domain, char *out, size_t outlen);

/*
 * tm_dmarc_aligned - do two domains align in this mode: strict is equal
 * (case-insensitive, trailing dots ignored), relaxed is the same
 * organisational domain.
 */
int tm_dmarc_aligned(const char *a, const char *b, enum tm_dmarc_align mode);

/*
 * tm_dmarc_from_domain - the domain of an RFC5322.From field value (raw,
 * unfolded or not): display names, comments and groups are skipped. Our
 * choice for several addresses (RFC 7489 6.6.1 leaves it to the receiver):
 * all in one domain is that domain; different domains are MULTIPLE, which
 * the caller should treat as a DMARC permerror.
 */
tm_rc tm_dmarc_from_domain(struct tm_arena *a, const unsigned char *value, size_t len,
                           const char **domain, enum tm_dmarc_from_status *status);

/*
 * tm_dmarc_check - DMARC for a message whose RFC5322.From domain is
 * from_domain: discover the record (6.6.3), check SPF and DKIM alignment,
 * and pick the disposition. sample is the caller's draw in 0..99 for
 * pct (a message is sampled when sample < pct). DNS trouble is a
 * temperror result; TM_ENOMEM when the arena is spent; TM_OK otherwise.
 */
tm_rc tm_dmarc_check(struct tm_dns *dns, struct tm_arena *a, struct tm_dns_budget *b,
                     const char *from_domain, const struct tm_dmarc_inputs *in, unsigned sample,
                     struct tm_dmarc_result *out);

/* tm_dmarc_result_name - "none" "pass" "fail" "temperror" "permerror" */
const char *tm_dmarc_result_name(enum tm_dmarc_res r);

/* tm_dmarc_policy_name - "none" "quarantine" "reject" */
const char *tm_dmarc_policy_name(enum tm_dmarc_policy p);

#endif
