/*
 * arc.h - Authenticated Received Chain (RFC 8617): validate the chain of
 * ARC sets on a message, and seal it as a relay that adds its own set.
 *
 * Validation is two-phase like DKIM's (dkim.h): tm_arc_verify_begin finds
 * the ARC-Authentication-Results / ARC-Message-Signature / ARC-Seal fields,
 * groups them by instance (i=1..50), checks the structure and lists the
 * TXT names of the keys of the newest AMS and of every AS; the caller
 * answers them and tm_arc_verify_finish validates the newest AMS and every
 * AS and gives none / pass / fail.
 *
 * Sealing (tm_arc_seal) produces the three new fields for instance N+1,
 * ARC-Seal first, to be prepended to the message; cv= comes from the
 * caller's validation of the incoming chain (tm_arc_result.cv).
 */
#ifndef TM_AUTH_ARC_H
#define TM_AUTH_ARC_H

#include <stddef.h>
#include <stdint.h>

#include "auth/dkim.h"
#include "core/core.h"
#include "dns/dns.h"

struct tm_arena;

#define TM_ARC_MAX_INSTANCES 50   /* RFC 8617 4.2.1 */
#define TM_ARC_MAX_FIELDS    160  /* ARC fields looked at (50 sets and some junk) */
#define TM_ARC_MAX_AAR       4096 /* bytes of the results text given to tm_arc_seal */

enum tm_arc_cv {
    TM_ARC_NONE,
    TM_ARC_PASS,
    TM_ARC_FAIL,
};

/* tm_arc_result.flags */
#define TM_ARC_F_TEMPERROR 0x01u /* fail came from a DNS tempfail: try again later */
#define TM_ARC_F_WEAK      0x02u /* some signature used rsa-sha1 */

/* One ARC set as found (instance i). Strings are NUL-terminated, in the arena. */
struct tm_arc_set {
    unsigned instance;
    const char *aar; /* the ARC-Authentication-Results value after "i=N;", unfolded */
    const char *cv;  /* the AS's cv= as written */
    const char *ams_domain, *ams_selector;
    const char *as_domain, *as_selector;
    enum tm_dkim_result ams; /* checked only for the newest set, else NONE */
    enum tm_dkim_result as;
};

struct tm_arc_result {
    enum tm_arc_cv cv;
    unsigned instances;           /* N, the highest instance (0 = no ARC fields) */
    unsigned fail_instance;       /* the set that failed, 0 when the structure did */
    const char *reason;           /* why fail, NULL otherwise */
    unsigned flags;               /* TM_ARC_F_* */
    const struct tm_arc_set *set; /* sets 1..N in order, when the structure was sound */
    size_t nset;
};

struct tm_arc_verify; /* opaque, in the caller's arena */

/*
 * tm_arc_verify_begin - phase 1 over the raw message. cfg (NULL = the
 * defaults) gives the key-size bounds, the clock and the field limits.
 */
tm_rc tm_arc_verify_begin(struct tm_arena *a, const struct tm_dkim_config *cfg,
                          const unsigned char *msg, size_t len, struct tm_arc_verify **out);

size_t tm_arc_verify_nqueries(const struct tm_arc_verify *v);
const char *tm_arc_verify_query(const struct tm_arc_verify *v, size_t i);

/* tm_arc_verify_answer - as tm_dkim_verify_answer */
tm_rc tm_arc_verify_answer(struct tm_arc_verify *v, size_t i, enum tm_dns_status st,
                           const char *txt, size_t len);

tm_rc tm_arc_verify_finish(struct tm_arc_verify *v, struct tm_arc_result *res);

/* tm_arc_verify_with_dns - both phases with one tm_dns_lookup_many */
tm_rc tm_arc_verify_with_dns(struct tm_arena *a, const struct tm_dkim_config *cfg,
                             const unsigned char *msg, size_t len, struct tm_dns *dns,
                             struct tm_dns_budget *budget, struct tm_arc_result *res);

const char *tm_arc_cv_name(enum tm_arc_cv cv); /* "none" "pass" "fail" */

/* tm_arc_ar - the chain as an RFC 8601 resinfo: "arc=pass (i=2)", "arc=fail (i=1) reason=..." */
tm_rc tm_arc_ar(struct tm_arena *a, const struct tm_arc_result *r, char **out);

struct tm_arc_seal_opts {
    const char *domain;   /* d= of the AMS and the AS */
    const char *selector; /* s= */
    const struct tm_dkim_key *key;
    const char *authserv_id; /* this relay's authserv-id */
    /* This relay's results, as in its Authentication-Results after the
     * authserv-id: "spf=pass smtp.mailfrom=a.example; dkim=pass ...". One
     * line; NULL or "" = "none". */
    const char *results;
    enum tm_arc_cv cv;    /* the incoming chain's validation (tm_arc_result.cv) */
    const char *headers;  /* AMS h= list, as tm_dkim_sign_opts.headers; NULL = default */
    const char *oversign; /* NULL = "from" */
    int64_t t;            /* t= of AMS and AS, or -1 for none */
    int lf;               /* LF line ends instead of CRLF */
};

void tm_arc_seal_opts_default(struct tm_arc_seal_opts *o);

/*
 * tm_arc_seal - the ARC-Seal, ARC-Message-Signature and
 * ARC-Authentication-Results fields of the next instance, in that order,
 * each folded and ending with its line end; prepend them to the message.
 * With cv = fail the seal covers the new set only (RFC 8617 5.1.2).
 * TM_EINVAL with err: cv = none on a message that has ARC sets, pass or
 * fail on one without, a missing From; TM_ELIMIT: instance 50 is taken.
 */
tm_rc tm_arc_seal(struct tm_arena *a, const unsigned char *msg, size_t len,
                  const struct tm_arc_seal_opts *o, char **out, size_t *outlen, char *err,
                  size_t errlen);

#endif
