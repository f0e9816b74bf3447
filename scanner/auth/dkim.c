/*
 * dkim.c - DKIM verification in two phases and DKIM signing (dkim.h); the
 * signature engine itself is in dkim_core.c, shared with ARC.
 */
#include <stdio.h>
#include <string.h>

#include "auth/dkim.h"
#include "auth/dkim_int.h"
#include "core/arena.h"
#include "core/str.h"

#define DKIM_SIGN_MAX_FIELDS 10000 /* header fields a message to sign may have */

struct tm_dkim_verify {
    struct dkim_ctx c;
    struct dkim_sv *sv;
    size_t nsv;
    size_t ignored;
};

void
tm_dkim_config_default(struct tm_dkim_config *c)
{
    memset(c, 0, sizeof(*c));
    c->min_rsa_bits = 1024;
    c->max_rsa_bits = 8192;
    c->max_signatures = 16;
    c->max_reported = 64;
    c->max_header_fields = 1000;
    c->max_field_len = 16384;
    c->now = 0;
    c->clock_skew = 300;
    c->allow_sha1 = 1;
}

const char *
tm_dkim_result_name(enum tm_dkim_result r)
{
    switch (r) {
    case TM_DKIM_NONE:
        return "none";
    case TM_DKIM_PASS:
        return "pass";
    case TM_DKIM_FAIL:
        return "fail";
    case TM_DKIM_NEUTRAL:
        return "neutral";
    case TM_DKIM_TEMPERROR:
        return "temperror";
    case TM_DKIM_PERMERROR:
        return "permerror";
    }
    return "permerror";
}

const char *
tm_dkim_alg_name(enum tm_dkim_alg alg)
{
    switch (alg) {
    case TM_DKIM_RSA_SHA256:
        return "rsa-sha256";
    case TM_DKIM_ED25519_SHA256:
        return "ed25519-sha256";
    case TM_DKIM_RSA_SHA1:
        return "rsa-sha1";
    }
    return "rsa-sha256";
}

/*
 * tm_dkim_verify_begin - every DKIM-Signature field, top first, is parsed
 * (up to max_reported; the rest only counted). The first max_signatures
 * that survive the key-less checks get a key query; any more are reported
 * as neutral, not checked.
 */
tm_rc
tm_dkim_verify_begin(struct tm_arena *a, const struct tm_dkim_config *cfg, const unsigned char *msg,
                     size_t len, struct tm_dkim_verify **out)
{
    struct tm_dkim_verify *v;
    size_t i, count = 0, checked = 0;
    tm_rc rc;

    *out = NULL;
    if ((v = tm_arena_calloc(a, 1, sizeof(*v))) == NULL)
        return TM_ENOMEM;
    if (cfg == NULL) {
        struct tm_dkim_config d;
        tm_dkim_config_default(&d);
        rc = dkim_ctx_init(&v->c, a, &d, msg, len, d.max_signatures);
    } else {
        rc = dkim_ctx_init(&v->c, a, cfg, msg, len, cfg->max_signatures);
    }
    if (rc != TM_OK)
        return rc;
    for (i = 0; i < v->c.msg.nf; i++)
        if (dkim_field_is(&v->c.msg.f[i], "DKIM-Signature"))
            count++;
    v->nsv = count < v->c.cfg.max_reported ? count : v->c.cfg.max_reported;
    v->ignored = count - v->nsv;
    if (v->nsv > 0 && (v->sv = tm_arena_calloc(a, v->nsv, sizeof(*v->sv))) == NULL)
        return TM_ENOMEM;
    for (i = 0, count = 0; i < v->c.msg.nf && count < v->nsv; i++) {
        struct dkim_sv *s = &v->sv[count];

        if (!dkim_field_is(&v->c.msg.f[i], "DKIM-Signature"))
            continue;
        count++;
        if ((rc = dkim_sv_parse(&v->c, s, DKIM_KIND_DKIM, &v->c.msg.f[i])) != TM_OK)
            return rc;
        if (s->decided)
            continue;
        if (checked == v->c.cfg.max_signatures) {
            dkim_sv_decide(
                s, TM_DKIM_NEUTRAL, TM_DKIM_E_LIMIT,
                dkim_reason(a, "not checked: more than %zu signatures", v->c.cfg.max_signatures));
            continue;
        }
        checked++;
        if ((rc = dkim_sv_plan(&v->c, s)) != TM_OK)
            return rc;
    }
    if ((rc = dkim_header_b(a, v->sv, v->nsv)) != TM_OK)
        return rc;
    *out = v;
    return TM_OK;
}

size_t
tm_dkim_verify_nqueries(const struct tm_dkim_verify *v)
{
    return v->c.nq;
}

const char *
tm_dkim_verify_query(const struct tm_dkim_verify *v, size_t i)
{
    return i < v->c.nq ? v->c.q[i].name : NULL;
}

tm_rc
tm_dkim_verify_answer(struct tm_dkim_verify *v, size_t i, enum tm_dns_status st, const char *txt,
                      size_t len)
{
    return dkim_ctx_answer(&v->c, i, st, txt, len);
}

tm_rc
tm_dkim_verify_finish(struct tm_dkim_verify *v, struct tm_dkim_results *res)
{
    struct tm_dkim_sig *out = NULL;
    size_t i;
    tm_rc rc;

    memset(res, 0, sizeof(*res));
    if (v->nsv > 0 && (out = tm_arena_calloc(v->c.a, v->nsv, sizeof(*out))) == NULL)
        return TM_ENOMEM;
    for (i = 0; i < v->nsv; i++) {
        if ((rc = dkim_sv_check(&v->c, &v->sv[i])) != TM_OK)
            return rc;
        out[i] = v->sv[i].pub;
    }
    res->sig = out;
    res->n = v->nsv;
    res->ignored = v->ignored;
    return TM_OK;
}

tm_rc
tm_dkim_verify_with_dns(struct tm_arena *a, const struct tm_dkim_config *cfg,
                        const unsigned char *msg, size_t len, struct tm_dns *dns,
                        struct tm_dns_budget *budget, struct tm_dkim_results *res)
{
    struct tm_dkim_verify *v;
    tm_rc rc;

    if ((rc = tm_dkim_verify_begin(a, cfg, msg, len, &v)) != TM_OK ||
        (rc = dkim_ctx_lookup(&v->c, dns, budget)) != TM_OK)
        return rc;
    return tm_dkim_verify_finish(v, res);
}

/* ar_prop - " name=value", the value made safe by dkim_ar_value; nothing when v is NULL */
static tm_rc
ar_prop(struct tm_buf *b, const char *name, const char *v)
{
    tm_rc rc;

    if (v == NULL)
        return TM_OK;
    if ((rc = tm_buf_putc(b, ' ')) != TM_OK ||
        (rc = tm_buf_append(b, name, strlen(name))) != TM_OK || (rc = tm_buf_putc(b, '=')) != TM_OK)
        return rc;
    return dkim_ar_value(b, v);
}

/*
 * tm_dkim_ar - the comment carries what the properties cannot (key size
 * and the weak, testing and l= flags), as OpenDKIM and rspamd write it.
 */
tm_rc
tm_dkim_ar(struct tm_arena *a, const struct tm_dkim_sig *s, char **out)
{
    struct tm_buf b;
    char c[96];
    size_t k = 0;
    tm_rc rc;

    c[0] = '\0';
    tm_buf_init(&b, a, 4096);
    if (s->key_bits > 0)
        k += (size_t)snprintf(c + k, sizeof(c) - k, "%u-bit key", s->key_bits);
    if (s->flags & TM_DKIM_F_WEAK)
        k += (size_t)snprintf(c + k, sizeof(c) - k, "%sweak", k ? "; " : "");
    if (s->flags & TM_DKIM_F_TESTING)
        k += (size_t)snprintf(c + k, sizeof(c) - k, "%stesting", k ? "; " : "");
    if (s->flags & TM_DKIM_F_LENGTH)
        (void)snprintf(c + k, sizeof(c) - k, "%s%s", k ? "; " : "",
                       s->flags & TM_DKIM_F_PARTIAL ? "partial body (l=)" : "l=");
    if ((rc = tm_buf_append(&b, "dkim=", 5)) != TM_OK ||
        (rc = tm_buf_append(&b, tm_dkim_result_name(s->result),
                            strlen(tm_dkim_result_name(s->result)))) != TM_OK)
        return rc;
    if (c[0] != '\0') {
        if ((rc = tm_buf_append(&b, " (", 2)) != TM_OK ||
            (rc = tm_buf_append(&b, c, strlen(c))) != TM_OK || (rc = tm_buf_putc(&b, ')')) != TM_OK)
            return rc;
    }
    if ((rc = ar_prop(&b, "reason", s->reason)) != TM_OK ||
        (rc = ar_prop(&b, "header.d", s->domain)) != TM_OK ||
        (rc = ar_prop(&b, "header.i", s->identity)) != TM_OK ||
        (rc = ar_prop(&b, "header.s", s->selector)) != TM_OK ||
        (rc = ar_prop(&b, "header.a", s->algorithm)) != TM_OK ||
        (rc = ar_prop(&b, "header.b", s->header_b)) != TM_OK)
        return rc;
    if (tm_buf_cstr(&b) == NULL)
        return TM_ENOMEM;
    *out = (char *)b.data;
    return TM_OK;
}

/* ---- signing ---- */

void
tm_dkim_sign_opts_default(struct tm_dkim_sign_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->hcanon = TM_DKIM_RELAXED;
    o->bcanon = TM_DKIM_RELAXED;
    o->t = -1;
    o->x = -1;
}

int
tm_dkim_canon_parse(const char *s, enum tm_dkim_canon *h, enum tm_dkim_canon *b)
{
    const char *slash = strchr(s, '/');
    size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
    const char *bs = slash != NULL ? slash + 1 : "simple";

    if (n == 7 && memcmp(s, "relaxed", 7) == 0)
        *h = TM_DKIM_RELAXED;
    else if (n == 6 && memcmp(s, "simple", 6) == 0)
        *h = TM_DKIM_SIMPLE;
    else
        return -1;
    if (strcmp(bs, "relaxed") == 0)
        *b = TM_DKIM_RELAXED;
    else if (strcmp(bs, "simple") == 0)
        *b = TM_DKIM_SIMPLE;
    else
        return -1;
    return 0;
}

static const char *
canon_name(enum tm_dkim_canon c)
{
    return c == TM_DKIM_RELAXED ? "relaxed" : "simple";
}

/* identity_ok - i= for our own signature: printable, no ';', its domain within d= */
static int
identity_ok(const char *i, const char *d)
{
    const char *at = strrchr(i, '@');
    size_t n, dn = strlen(d), k;

    for (k = 0; i[k] != '\0'; k++)
        if ((unsigned char)i[k] <= ' ' || i[k] == ';' || (unsigned char)i[k] >= 0x7f)
            return 0;
    if (at == NULL)
        return 0;
    at++;
    n = strlen(at);
    if (n == dn)
        return tm_mem_ieq(at, d, n);
    return n > dn && at[n - dn - 1] == '.' && tm_mem_ieq(at + n - dn, d, dn);
}

/*
 * tm_dkim_sign - the tags in the order dkimpy and OpenDKIM write them, the
 * header hash over the h= fields and then this field up to "b=" (with the
 * folding it will have, so simple header canonicalisation works too), the
 * signature appended last.
 */
tm_rc
tm_dkim_sign(struct tm_arena *a, const unsigned char *msg, size_t len,
             const struct tm_dkim_sign_opts *o, char **out, size_t *outlen, char *err,
             size_t errlen)
{
    struct dkim_msg m;
    struct dkim_gen g;
    struct dkim_hash *h;
    enum tm_dkim_alg alg;
    char *hnames, *bh, num[32], cbuf[32];
    uint64_t total;
    char dummy[1];
    tm_rc rc;

    if (err == NULL || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    *out = NULL;
    *outlen = 0;
    if (o->key == NULL || !dkim_name_ok(o->domain) || !dkim_name_ok(o->selector)) {
        (void)snprintf(err, errlen, "a key, a domain and a selector ([A-Za-z0-9._-]) are needed");
        return TM_EINVAL;
    }
    if (o->identity != NULL && !identity_ok(o->identity, o->domain)) {
        (void)snprintf(err, errlen, "i= must be an address within d=");
        return TM_EINVAL;
    }
    if (o->t >= 0 && o->x >= 0 && o->x <= o->t) {
        (void)snprintf(err, errlen, "x= must be later than t=");
        return TM_EINVAL;
    }
    alg = tm_dkim_key_alg(o->key);
    if ((rc = dkim_msg_parse(a, msg, len, DKIM_SIGN_MAX_FIELDS, &m)) != TM_OK)
        return rc;
    if ((rc = dkim_sign_hlist(a, &m, o->headers, o->oversign, &hnames, err, errlen)) != TM_OK)
        return rc;
    if ((rc = dkim_sign_bh(a, &m, alg, o->bcanon, &bh, &total)) != TM_OK)
        return rc;
    (void)snprintf(cbuf, sizeof(cbuf), "%s/%s", canon_name(o->hcanon), canon_name(o->bcanon));
    if ((rc = dkim_gen_start(&g, a, "DKIM-Signature")) != TM_OK ||
        (rc = dkim_gen_tag(&g, "v", "1")) != TM_OK ||
        (rc = dkim_gen_tag(&g, "a", tm_dkim_alg_name(alg))) != TM_OK ||
        (rc = dkim_gen_tag(&g, "c", cbuf)) != TM_OK ||
        (rc = dkim_gen_tag(&g, "d", o->domain)) != TM_OK ||
        (rc = dkim_gen_tag(&g, "s", o->selector)) != TM_OK)
        return rc;
    if (o->identity != NULL && (rc = dkim_gen_tag(&g, "i", o->identity)) != TM_OK)
        return rc;
    if (o->t >= 0) {
        (void)snprintf(num, sizeof(num), "%lld", (long long)o->t);
        if ((rc = dkim_gen_tag(&g, "t", num)) != TM_OK)
            return rc;
    }
    if (o->x >= 0) {
        (void)snprintf(num, sizeof(num), "%lld", (long long)o->x);
        if ((rc = dkim_gen_tag(&g, "x", num)) != TM_OK)
            return rc;
    }
    if (o->body_length) {
        (void)snprintf(num, sizeof(num), "%llu", (unsigned long long)total);
        if ((rc = dkim_gen_tag(&g, "l", num)) != TM_OK)
            return rc;
    }
    if ((rc = dkim_gen_tag(&g, "h", hnames)) != TM_OK ||
        (rc = dkim_gen_tag(&g, "bh", bh)) != TM_OK ||
        (rc = dkim_gen_piece(&g, "b=", 2, 1)) != TM_OK)
        return rc;
    if ((h = dkim_hash_new(alg)) == NULL)
        return TM_ENOMEM;
    rc = dkim_hash_signed(a, &m, o->hcanon, (const unsigned char *)hnames, strlen(hnames), NULL, h);
    if (rc == TM_OK)
        rc = dkim_sign_finish(a, &g, o->hcanon, h, o->key, alg, err, errlen);
    dkim_hash_free(h);
    if (rc != TM_OK)
        return rc;
    return dkim_out_lines(a, g.b.data, g.b.len, o->lf, out, outlen);
}
