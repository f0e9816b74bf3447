/*
 * auth.c - sender authentication of one message (auth.h): DKIM and ARC
 * verified with their key lookups batched, SPF for the MAIL FROM
 * identity (or postmaster@HELO for the null sender), then DMARC over both;
 * summed up in t->auth and in an RFC 8601 Authentication-Results value.
 * (DKIM's key lookups go out as one batch and ARC's as a second; merging
 * the two into one tm_dns_lookup_many is left to do.)
 *
 * Every lookup of the message counts against one tm_dns_budget
 * (cfg->max_lookups, cfg->timeout_ms). DKIM and ARC go first but may use
 * at most half of it, so a message with many signatures cannot starve SPF
 * and DMARC into a temperror.
 */
#include "auth/auth.h"

#include <stdio.h>
#include <string.h>

#include "auth/arc.h"
#include "auth/dkim.h"
#include "auth/dmarc.h"
#include "auth/spf.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/task.h"
#include "dns/dns.h"
#include "mime/mime.h"

#define AUTH_AR_MAX 8192 /* bytes of the Authentication-Results value */

void
tm_auth_config_default(struct tm_auth_config *c)
{
    memset(c, 0, sizeof(*c));
    c->authserv_id = "tamis";
    c->min_rsa_bits = 1024;
    c->max_lookups = 50;
    c->timeout_ms = 5000;
    c->max_signatures = 8;
}

/* ar_add - append ";" and a resinfo (the concatenation of up to four strings) */
static void
ar_add(char *ar, size_t *n, const char *s1, const char *s2, const char *s3, const char *s4)
{
    const char *part[5] = {";\n\t", s1, s2, s3, s4};
    size_t i, k;

    for (i = 0; i < 5; i++) {
        if (part[i] == NULL)
            continue;
        k = strlen(part[i]);
        if (*n + k >= AUTH_AR_MAX)
            k = AUTH_AR_MAX - 1 - *n;
        memcpy(ar + *n, part[i], k);
        *n += k;
    }
    ar[*n] = '\0';
}

const char *
tm_auth_mail_from_domain(struct tm_arena *a, const char *mf)
{
    const char *at, *end;

    if (mf == NULL)
        return NULL;
    at = strrchr(mf, '@');
    if (at == NULL)
        return NULL;
    end = at + 1 + strcspn(at + 1, ">");
    return end > at + 1 ? tm_arena_strndup(a, at + 1, (size_t)(end - at - 1)) : NULL;
}

/* sample - a draw in 0..99 for DMARC pct, stable for the same message */
static unsigned
sample(const unsigned char *msg, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    size_t i;

    for (i = 0; i < len && i < 4096; i++)
        h = (h ^ msg[i]) * 1099511628211ull;
    return (unsigned)(h % 100);
}

tm_rc
tm_auth_run(struct tm_task *t, struct tm_dns *dns, const struct tm_auth_config *cfg,
            const struct tm_auth_env *env, const unsigned char *msg, size_t len)
{
    struct tm_auth_report *r;
    struct tm_dns_budget budget, half;
    struct tm_dkim_config dc;
    struct tm_dkim_results dres;
    struct tm_arc_result arc;
    struct tm_spf_request sreq;
    struct tm_spf_result sres;
    struct tm_dmarc_inputs din;
    struct tm_dmarc_result dm;
    enum tm_dmarc_from_status fst = TM_DMARC_FROM_NONE;
    const char **pass_d;
    const char *from, *fdom = NULL;
    char *ar;
    size_t i, np = 0, arn = 0;
    tm_rc rc;

    if ((r = tm_arena_calloc(t->arena, 1, sizeof(*r))) == NULL ||
        (ar = tm_arena_alloc(t->arena, AUTH_AR_MAX)) == NULL)
        return TM_ENOMEM;
    t->auth = r;
    r->ran = 1;
    memset(&budget, 0, sizeof(budget));
    budget.max_queries = cfg->max_lookups;
    budget.deadline_ms = tm_now_ms() + cfg->timeout_ms;
    arn = (size_t)snprintf(ar, AUTH_AR_MAX, "%s", cfg->authserv_id ? cfg->authserv_id : "tamis");
    if (arn >= AUTH_AR_MAX)
        arn = AUTH_AR_MAX - 1;

    /* DKIM and ARC: at most half of the budget */
    tm_dkim_config_default(&dc);
    dc.min_rsa_bits = cfg->min_rsa_bits;
    dc.max_signatures = cfg->max_signatures;
    half = budget;
    half.max_queries = budget.max_queries / 2;
    memset(&dres, 0, sizeof(dres));
    if ((rc = tm_dkim_verify_with_dns(t->arena, &dc, msg, len, dns, &half, &dres)) != TM_OK)
        return rc;
    memset(&arc, 0, sizeof(arc));
    if ((rc = tm_arc_verify_with_dns(t->arena, &dc, msg, len, dns, &half, &arc)) != TM_OK)
        return rc;
    budget.used += half.used;

    /* the From domain, for alignment */
    from = tm_mime_root_header(t, "from");
    if (from != NULL &&
        (rc = tm_dmarc_from_domain(t->arena, (const unsigned char *)from, strlen(from), &fdom,
                                   &fst)) != TM_OK)
        return rc;
    r->from_domain = fst == TM_DMARC_FROM_OK ? fdom : NULL;

    r->ndkim = dres.n;
    r->dkim = tm_arena_calloc(t->arena, dres.n ? dres.n : 1, sizeof(*r->dkim));
    pass_d = tm_arena_calloc(t->arena, dres.n ? dres.n : 1, sizeof(*pass_d));
    if (r->dkim == NULL || pass_d == NULL)
        return TM_ENOMEM;
    for (i = 0; i < dres.n; i++) {
        const struct tm_dkim_sig *s = &dres.sig[i];
        struct tm_auth_dkim *d = &r->dkim[i];
        char *res = NULL;
        d->result = tm_dkim_result_name(s->result);
        d->reason = s->reason;
        d->domain = s->domain;
        d->selector = s->selector;
        d->algorithm = s->algorithm;
        d->identity = s->identity;
        d->b = s->header_b;
        d->key_bits = s->key_bits;
        d->weak = (s->flags & TM_DKIM_F_WEAK) != 0;
        d->testing = (s->flags & TM_DKIM_F_TESTING) != 0;
        d->body_length = (s->flags & TM_DKIM_F_LENGTH) != 0;
        d->aligned = s->domain != NULL && r->from_domain != NULL &&
                     tm_dmarc_aligned(s->domain, r->from_domain, TM_DMARC_RELAXED);
        if (s->result == TM_DKIM_PASS && s->domain != NULL)
            pass_d[np++] = s->domain;
        if ((rc = tm_dkim_ar(t->arena, s, &res)) != TM_OK)
            return rc;
        ar_add(ar, &arn, res, NULL, NULL, NULL);
    }
    if (dres.n == 0)
        ar_add(ar, &arn, "dkim=none", NULL, NULL, NULL);
    r->arc = tm_arc_cv_name(arc.cv);
    r->arc_instances = arc.instances;
    r->arc_reason = arc.reason;
    {
        char *res = NULL;
        if ((rc = tm_arc_ar(t->arena, &arc, &res)) != TM_OK)
            return rc;
        ar_add(ar, &arn, res, NULL, NULL, NULL);
    }

    /* SPF */
    memset(&sreq, 0, sizeof(sreq));
    memset(&sres, 0, sizeof(sres));
    sreq.ip = env->ip;
    sreq.helo = env->helo;
    sreq.mail_from = env->mail_from;
    sreq.receiver = cfg->authserv_id;
    if (env->ip == NULL || env->ip[0] == '\0') {
        sres.result = TM_SPF_NONE;
        sres.reason = "no client IP";
    } else if ((rc = tm_spf_check(dns, t->arena, &budget, &sreq, &sres)) != TM_OK &&
               rc != TM_EINVAL) {
        return rc;
    }
    r->spf = tm_spf_result_name(sres.result);
    r->spf_domain = sres.domain;
    r->spf_reason = sres.reason != NULL ? sres.reason : sres.mechanism;
    {
        const char *mf = env->mail_from;
        const char *md = tm_auth_mail_from_domain(t->arena, mf);
        ar_add(ar, &arn, "spf=", r->spf, " smtp.mailfrom=",
               md != NULL ? md : (sres.domain != NULL ? sres.domain : "unknown"));
    }

    /* DMARC */
    memset(&dm, 0, sizeof(dm));
    if (fst == TM_DMARC_FROM_MULTIPLE) {
        r->dmarc = "permerror";
        r->dmarc_disposition = "none";
        ar_add(ar, &arn, "dmarc=permerror reason=\"From domains differ\"", NULL, NULL, NULL);
    } else if (r->from_domain == NULL) {
        r->dmarc = "none";
        ar_add(ar, &arn, "dmarc=none reason=\"no From domain\"", NULL, NULL, NULL);
    } else {
        memset(&din, 0, sizeof(din));
        din.spf = sres.result;
        din.spf_domain = sres.domain;
        din.dkim_pass = pass_d;
        din.ndkim = np;
        if ((rc = tm_dmarc_check(dns, t->arena, &budget, r->from_domain, &din, sample(msg, len),
                                 &dm)) != TM_OK)
            return rc;
        r->dmarc = tm_dmarc_result_name(dm.result);
        r->dmarc_policy = dm.have_record ? tm_dmarc_policy_name(dm.policy) : NULL;
        r->dmarc_disposition = tm_dmarc_policy_name(dm.disposition);
        r->dmarc_domain = dm.record_domain;
        ar_add(ar, &arn, "dmarc=", r->dmarc, " header.from=", r->from_domain);
    }
    r->lookups = budget.used;
    ar[arn] = '\0';
    r->ar = ar;
    return TM_OK;
}
