/*
 * auth.h - sender authentication of one message: SPF, DKIM, ARC and DMARC
 * run together (auth.c), their DNS lookups batched through scanner/dns,
 * and summed up for the rules (symbols), the verdict JSON (`auth`) and an
 * RFC 8601 Authentication-Results header.
 *
 * The envelope comes from the relay (milter macros and commands, the
 * spamd/HTTP request headers) or from `tamis scan --ip --helo --mail-from
 * --rcpt --user`. Without a client IP there is no SPF (result "none",
 * reason "no client IP"); without a resolver nothing runs at all.
 */
#ifndef TM_AUTH_AUTH_H
#define TM_AUTH_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

struct tm_arena;
struct tm_task;
struct tm_dns;

#define TM_AUTH_MAX_RCPT 64 /* recipients kept in the envelope */

struct tm_auth_env {
    const char *ip;        /* client IP, v4 or v6 text, or NULL */
    const char *helo;      /* HELO/EHLO argument, or NULL */
    const char *mail_from; /* envelope sender as given ("<a@b>", "a@b", "<>"), or NULL */
    const char *user;      /* authenticated submitter (SASL login), or NULL */
    const char *const *rcpt;
    size_t nrcpt;
};

struct tm_auth_config {
    const char *authserv_id; /* the Authentication-Results authserv-id (host name) */
    unsigned min_rsa_bits;   /* DKIM keys below this are a permerror; default 1024 */
    unsigned max_lookups;    /* DNS lookups per message; default 50 */
    unsigned timeout_ms;     /* all of a message's DNS, at most; default 5000 */
    unsigned max_signatures; /* DKIM signatures verified per message; default 8 */
};

struct tm_auth_dkim {
    const char *result; /* pass fail neutral policy temperror permerror */
    const char *reason; /* why, or NULL */
    const char *domain; /* d= */
    const char *selector;
    const char *algorithm;
    const char *identity; /* i=, or NULL */
    const char *b;        /* first characters of b=, for header.b */
    unsigned key_bits;
    int weak;    /* rsa-sha1 */
    int testing; /* key t=y */
    int body_length; /* l= used */
    int aligned;     /* d= aligns with the From domain (DMARC relaxed) */
};

struct tm_auth_report {
    int ran;                 /* auth ran for this message */
    const char *from_domain; /* RFC5322.From domain, or NULL */
    /* SPF */
    const char *spf;        /* none neutral pass fail softfail temperror permerror */
    const char *spf_domain; /* the identity checked (MAIL FROM domain, or HELO) */
    const char *spf_reason;
    /* DKIM */
    struct tm_auth_dkim *dkim;
    size_t ndkim;
    /* ARC */
    const char *arc; /* none pass fail */
    unsigned arc_instances;
    const char *arc_reason;
    /* DMARC */
    const char *dmarc;        /* none pass fail temperror permerror */
    const char *dmarc_policy; /* the record's p (or sp): none quarantine reject, or NULL */
    const char *dmarc_disposition; /* what the policy asks for this message: none quarantine reject */
    const char *dmarc_domain; /* where the record was found */
    /* the Authentication-Results field value (after "Authentication-Results: ") */
    const char *ar;
    unsigned lookups; /* DNS lookups used */
};

void tm_auth_config_default(struct tm_auth_config *c);

/*
 * tm_auth_mail_from_domain - the domain of an envelope sender ("<a@b>",
 * "a@b"), in the arena; NULL for "<>", no '@', or NULL.
 */
const char *tm_auth_mail_from_domain(struct tm_arena *a, const char *mail_from);

/*
 * tm_auth_run - authenticate the message of task t (its raw bytes msg,len,
 * already MIME-parsed into t) and attach the report to t->auth. DNS
 * failures are results (temperror), not errors; TM_ENOMEM when the task's
 * arena is spent.
 */
tm_rc tm_auth_run(struct tm_task *t, struct tm_dns *dns, const struct tm_auth_config *cfg,
                  const struct tm_auth_env *env, const unsigned char *msg, size_t len);

#endif
