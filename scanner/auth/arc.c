/*
 * arc.c - ARC chain validation and sealing (RFC 8617), on the signature
 * engine of dkim_core.c: an ARC-Message-Signature is checked like a
 * DKIM-Signature (its i= an instance, not an identity), an ARC-Seal over
 * the ARC sets 1..i with relaxed header canonicalisation.
 */
#include <stdio.h>
#include <string.h>

#include "auth/arc.h"
#include "auth/dkim_int.h"
#include "core/arena.h"
#include "core/str.h"

#define ARC_MAX_AAR_SHOWN 1024 /* bytes of an AAR's results kept for the report */
#define ARC_MAX_COMMENT   8    /* nesting of comments before an AAR's i= */
#define ARC_MAX_AUTHSERV  255  /* bytes of the authserv-id given to tm_arc_seal */

enum arc_kind { ARC_AAR, ARC_AMS, ARC_AS };

struct arc_inst {
    const struct dkim_field *f[3]; /* by enum arc_kind */
};

/* The ARC fields of a message grouped by instance, and the first structural fault. */
struct arc_chain {
    struct arc_inst set[TM_ARC_MAX_INSTANCES + 1]; /* 1..50 */
    unsigned n;                                    /* highest instance seen */
    const char *err;
    unsigned err_inst;
};

struct tm_arc_verify {
    struct dkim_ctx c;
    struct arc_chain ch;
    struct dkim_sv *ams;
    struct dkim_sv *as; /* as[i] for i = 1..n */
    struct tm_arc_set *sets;
    int decided;
    struct tm_arc_result res;
};

static const char *const kind_name[] = {"ARC-Authentication-Results", "ARC-Message-Signature",
                                        "ARC-Seal"};

const char *
tm_arc_cv_name(enum tm_arc_cv cv)
{
    switch (cv) {
    case TM_ARC_NONE:
        return "none";
    case TM_ARC_PASS:
        return "pass";
    case TM_ARC_FAIL:
        return "fail";
    }
    return "fail";
}

static int
is_fws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* skip_cfws - FWS and (nested, bounded) comments; -1 on an unclosed or too deep comment */
static int
skip_cfws(const unsigned char *p, size_t len, size_t *pos)
{
    unsigned depth = 0;

    while (*pos < len) {
        unsigned char c = p[*pos];

        if (depth > 0 && c == '\\' && *pos + 1 < len) {
            *pos += 2;
            continue;
        }
        if (c == '(') {
            if (++depth > ARC_MAX_COMMENT)
                return -1;
        } else if (c == ')' && depth > 0) {
            depth--;
        } else if (depth == 0 && !is_fws(c)) {
            return 0;
        }
        (*pos)++;
    }
    return depth == 0 ? 0 : -1;
}

/*
 * aar_instance - RFC 8617 4.1.1: "i" "=" 1*2DIGIT ";" with CFWS around,
 * at the start of an ARC-Authentication-Results value. Sets *rest to the
 * offset after the ";". 0 when there is none.
 */
static unsigned
aar_instance(const unsigned char *v, size_t len, size_t *rest)
{
    size_t pos = 0;
    unsigned n = 0, digits = 0;

    if (skip_cfws(v, len, &pos) != 0 || pos == len || (v[pos] != 'i' && v[pos] != 'I'))
        return 0;
    pos++;
    if (skip_cfws(v, len, &pos) != 0 || pos == len || v[pos] != '=')
        return 0;
    pos++;
    if (skip_cfws(v, len, &pos) != 0)
        return 0;
    while (pos < len && v[pos] >= '0' && v[pos] <= '9' && digits < 3) {
        n = n * 10 + (unsigned)(v[pos++] - '0');
        digits++;
    }
    if (digits == 0 || digits > 2 || skip_cfws(v, len, &pos) != 0 || pos == len || v[pos] != ';')
        return 0;
    *rest = pos + 1;
    return n;
}

/* sig_instance - i= of an ARC-Seal or ARC-Message-Signature, 0 when unreadable */
static unsigned
sig_instance(const struct dkim_field *f)
{
    struct dkim_tag tags[TM_DKIM_MAX_TAGS];
    const struct dkim_tag *t;
    const char *why;
    size_t n, i;
    unsigned v = 0;

    if (dkim_tags_parse(f->p + f->valoff, dkim_field_value_len(f), tags, TM_NELEM(tags), &n,
                        &why) != 0 ||
        (t = dkim_tag_find(tags, n, "i")) == NULL || t->vallen == 0 || t->vallen > 2)
        return 0;
    for (i = 0; i < t->vallen; i++) {
        if (t->val[i] < '0' || t->val[i] > '9')
            return 0;
        v = v * 10 + (unsigned)(t->val[i] - '0');
    }
    return v;
}

static void
chain_fault(struct tm_arena *a, struct arc_chain *ch, unsigned inst, const char *what)
{
    if (ch->err != NULL)
        return;
    ch->err = inst > 0 ? dkim_reason(a, "%s (i=%u)", what, inst) : what;
    ch->err_inst = inst;
}

/*
 * arc_collect - RFC 8617 5.2 steps 1 and 3 (structure): every ARC field
 * gets its instance, each instance must have exactly one field of each
 * kind, and instances must run from 1 to the highest with no gap. The
 * first fault is kept; n is the highest instance even when there is one
 * (sealing needs it).
 */
static void
arc_collect(struct tm_arena *a, const struct dkim_msg *m, struct arc_chain *ch)
{
    size_t i, count = 0, rest;
    unsigned k, inst;

    memset(ch, 0, sizeof(*ch));
    for (i = 0; i < m->nf; i++) {
        const struct dkim_field *f = &m->f[i];

        if (dkim_field_is(f, "ARC-Authentication-Results"))
            k = ARC_AAR;
        else if (dkim_field_is(f, "ARC-Message-Signature"))
            k = ARC_AMS;
        else if (dkim_field_is(f, "ARC-Seal"))
            k = ARC_AS;
        else
            continue;
        if (++count > TM_ARC_MAX_FIELDS) {
            chain_fault(a, ch, 0, "too many ARC fields");
            return;
        }
        inst = k == ARC_AAR ? aar_instance(f->p + f->valoff, dkim_field_value_len(f), &rest)
                            : sig_instance(f);
        if (inst < 1 || inst > TM_ARC_MAX_INSTANCES) {
            chain_fault(a, ch, 0, dkim_reason(a, "%s without a valid instance (i=)", kind_name[k]));
            continue;
        }
        if (ch->set[inst].f[k] != NULL)
            chain_fault(a, ch, inst, dkim_reason(a, "more than one %s", kind_name[k]));
        else
            ch->set[inst].f[k] = f;
        if (inst > ch->n)
            ch->n = inst;
    }
    for (inst = 1; inst <= ch->n; inst++)
        for (k = 0; k < 3; k++)
            if (ch->set[inst].f[k] == NULL)
                chain_fault(a, ch, inst, dkim_reason(a, "no %s", kind_name[k]));
}

/* aar_text - the results of an AAR after "i=N;", unfolded, WSP runs one space, clipped */
static char *
aar_text(struct tm_arena *a, const struct dkim_field *f)
{
    const unsigned char *v = f->p + f->valoff;
    size_t len = dkim_field_value_len(f), rest = 0, i, o = 0;
    char *s;
    int sp = 0;

    (void)aar_instance(v, len, &rest);
    if ((s = tm_arena_alloc(a, ARC_MAX_AAR_SHOWN + 1)) == NULL)
        return NULL;
    for (i = rest; i < len && o < ARC_MAX_AAR_SHOWN; i++) {
        if (is_fws(v[i])) {
            sp = 1;
            continue;
        }
        if (sp && o > 0 && o < ARC_MAX_AAR_SHOWN)
            s[o++] = ' ';
        sp = 0;
        if (o < ARC_MAX_AAR_SHOWN)
            s[o++] = (char)v[i];
    }
    s[o] = '\0';
    return s;
}

static void
verify_decide(struct tm_arc_verify *v, enum tm_arc_cv cv, unsigned inst, const char *reason)
{
    v->decided = 1;
    v->res.cv = cv;
    v->res.fail_instance = cv == TM_ARC_FAIL ? inst : 0;
    v->res.reason = cv == TM_ARC_FAIL ? reason : NULL;
}

/* sv_failed - the reason a signature of set inst gives the chain */
static const char *
sv_failed(struct tm_arena *a, const struct dkim_sv *s, unsigned inst)
{
    return dkim_reason(a, "%s i=%u: %s",
                       s->kind == DKIM_KIND_AS ? "ARC-Seal" : "ARC-Message-Signature", inst,
                       s->pub.reason != NULL ? s->pub.reason : "invalid");
}

/*
 * tm_arc_verify_begin - the structure (arc_collect), then RFC 8617 5.2
 * steps 2 and 3 on the seals' cv= (newest not fail; i=1 none, the others
 * pass), then the key-less checks of the newest AMS and of every AS. What
 * is left for phase 2 is their keys and signatures.
 */
tm_rc
tm_arc_verify_begin(struct tm_arena *a, const struct tm_dkim_config *cfg, const unsigned char *msg,
                    size_t len, struct tm_arc_verify **out)
{
    struct tm_arc_verify *v;
    struct arc_chain *ch;
    unsigned i, k;
    tm_rc rc;

    *out = NULL;
    if ((v = tm_arena_calloc(a, 1, sizeof(*v))) == NULL)
        return TM_ENOMEM;
    if ((rc = dkim_ctx_init(&v->c, a, cfg, msg, len, TM_ARC_MAX_INSTANCES + 1)) != TM_OK)
        return rc;
    ch = &v->ch;
    arc_collect(a, &v->c.msg, ch);
    v->res.instances = ch->n;
    *out = v;
    if (ch->n == 0 && ch->err == NULL) {
        verify_decide(v, TM_ARC_NONE, 0, NULL);
        return TM_OK;
    }
    if (ch->err != NULL) {
        verify_decide(v, TM_ARC_FAIL, ch->err_inst, ch->err);
        return TM_OK;
    }
    if ((v->as = tm_arena_calloc(a, ch->n + 1, sizeof(*v->as))) == NULL ||
        (v->ams = tm_arena_calloc(a, 1, sizeof(*v->ams))) == NULL ||
        (v->sets = tm_arena_calloc(a, ch->n, sizeof(*v->sets))) == NULL)
        return TM_ENOMEM;
    for (i = ch->n; i >= 1; i--) {
        struct dkim_sv *s = &v->as[i];

        if ((rc = dkim_sv_parse(&v->c, s, DKIM_KIND_AS, ch->set[i].f[ARC_AS])) != TM_OK)
            return rc;
        if (s->decided && s->pub.result != TM_DKIM_PASS) {
            verify_decide(v, TM_ARC_FAIL, i, sv_failed(a, s, i));
            return TM_OK;
        }
        if (i == ch->n && tm_str_ieq(tm_str_make(s->cv, strlen(s->cv)), "fail")) {
            verify_decide(v, TM_ARC_FAIL, i,
                          dkim_reason(a, "chain already failed (cv=fail at i=%u)", i));
            return TM_OK;
        }
        if (!tm_str_ieq(tm_str_make(s->cv, strlen(s->cv)), i == 1 ? "none" : "pass")) {
            verify_decide(v, TM_ARC_FAIL, i, dkim_reason(a, "ARC-Seal i=%u has cv=%s", i, s->cv));
            return TM_OK;
        }
        /* what the seal covers: the sets 1..i, its own b= left out by the engine */
        s->nasf = 3 * (size_t)i - 1;
        if ((s->asf = tm_arena_calloc(a, s->nasf, sizeof(*s->asf))) == NULL)
            return TM_ENOMEM;
        for (k = 1; k <= i; k++) {
            s->asf[3 * (k - 1)] = ch->set[k].f[ARC_AAR];
            s->asf[3 * (k - 1) + 1] = ch->set[k].f[ARC_AMS];
            if (k < i)
                s->asf[3 * (k - 1) + 2] = ch->set[k].f[ARC_AS];
        }
    }
    if ((rc = dkim_sv_parse(&v->c, v->ams, DKIM_KIND_AMS, ch->set[ch->n].f[ARC_AMS])) != TM_OK)
        return rc;
    if (v->ams->decided && v->ams->pub.result != TM_DKIM_PASS) {
        verify_decide(v, TM_ARC_FAIL, ch->n, sv_failed(a, v->ams, ch->n));
        return TM_OK;
    }
    if (v->ams->instance != ch->n) {
        verify_decide(v, TM_ARC_FAIL, ch->n, "ARC-Message-Signature instance mismatch");
        return TM_OK;
    }
    if ((rc = dkim_sv_plan(&v->c, v->ams)) != TM_OK)
        return rc;
    for (i = ch->n; i >= 1; i--)
        if ((rc = dkim_sv_plan(&v->c, &v->as[i])) != TM_OK)
            return rc;
    return TM_OK;
}

size_t
tm_arc_verify_nqueries(const struct tm_arc_verify *v)
{
    return v->c.nq;
}

const char *
tm_arc_verify_query(const struct tm_arc_verify *v, size_t i)
{
    return i < v->c.nq ? v->c.q[i].name : NULL;
}

tm_rc
tm_arc_verify_answer(struct tm_arc_verify *v, size_t i, enum tm_dns_status st, const char *txt,
                     size_t len)
{
    return dkim_ctx_answer(&v->c, i, st, txt, len);
}

/* fill_sets - what the report lists of each set; results only for what was checked */
static tm_rc
fill_sets(struct tm_arc_verify *v)
{
    struct tm_arena *a = v->c.a;
    unsigned i;

    if (v->sets == NULL)
        return TM_OK;
    for (i = 1; i <= v->ch.n; i++) {
        struct tm_arc_set *s = &v->sets[i - 1];
        const struct dkim_sv *as = &v->as[i];

        s->instance = i;
        if ((s->aar = aar_text(a, v->ch.set[i].f[ARC_AAR])) == NULL)
            return TM_ENOMEM;
        s->cv = as->cv;
        s->as_domain = as->pub.domain;
        s->as_selector = as->pub.selector;
        s->as = as->decided ? as->pub.result : TM_DKIM_NONE;
        if (as->pub.flags & TM_DKIM_F_WEAK)
            v->res.flags |= TM_ARC_F_WEAK;
        if (i == v->ch.n) {
            s->ams_domain = v->ams->pub.domain;
            s->ams_selector = v->ams->pub.selector;
            s->ams = v->ams->decided ? v->ams->pub.result : TM_DKIM_NONE;
            if (v->ams->pub.flags & TM_DKIM_F_WEAK)
                v->res.flags |= TM_ARC_F_WEAK;
        }
    }
    v->res.set = v->sets;
    v->res.nset = v->ch.n;
    return TM_OK;
}

/*
 * tm_arc_verify_finish - RFC 8617 5.2 steps 4 and 6: the newest AMS must
 * pass, then every AS from the newest down. The first failure is the
 * chain's; a DNS tempfail behind it is flagged, as the result may change.
 */
tm_rc
tm_arc_verify_finish(struct tm_arc_verify *v, struct tm_arc_result *res)
{
    unsigned i;
    tm_rc rc;

    if (!v->decided) {
        if ((rc = dkim_sv_check(&v->c, v->ams)) != TM_OK)
            return rc;
        if (v->ams->pub.result != TM_DKIM_PASS) {
            verify_decide(v, TM_ARC_FAIL, v->ch.n, sv_failed(v->c.a, v->ams, v->ch.n));
            if (v->ams->pub.result == TM_DKIM_TEMPERROR)
                v->res.flags |= TM_ARC_F_TEMPERROR;
        }
        for (i = v->ch.n; !v->decided && i >= 1; i--) {
            struct dkim_sv *s = &v->as[i];

            if ((rc = dkim_sv_check(&v->c, s)) != TM_OK)
                return rc;
            if (s->pub.result != TM_DKIM_PASS) {
                verify_decide(v, TM_ARC_FAIL, i, sv_failed(v->c.a, s, i));
                if (s->pub.result == TM_DKIM_TEMPERROR)
                    v->res.flags |= TM_ARC_F_TEMPERROR;
            }
        }
        if (!v->decided)
            verify_decide(v, TM_ARC_PASS, 0, NULL);
    }
    if ((rc = fill_sets(v)) != TM_OK)
        return rc;
    *res = v->res;
    return TM_OK;
}

tm_rc
tm_arc_verify_with_dns(struct tm_arena *a, const struct tm_dkim_config *cfg,
                       const unsigned char *msg, size_t len, struct tm_dns *dns,
                       struct tm_dns_budget *budget, struct tm_arc_result *res)
{
    struct tm_arc_verify *v;
    tm_rc rc;

    if ((rc = tm_arc_verify_begin(a, cfg, msg, len, &v)) != TM_OK)
        return rc;
    if (!v->decided && (rc = dkim_ctx_lookup(&v->c, dns, budget)) != TM_OK)
        return rc;
    return tm_arc_verify_finish(v, res);
}

tm_rc
tm_arc_ar(struct tm_arena *a, const struct tm_arc_result *r, char **out)
{
    struct tm_buf b;
    char head[64];
    tm_rc rc;

    tm_buf_init(&b, a, 1024);
    if (r->cv == TM_ARC_NONE)
        (void)snprintf(head, sizeof(head), "arc=none");
    else if (r->cv == TM_ARC_PASS)
        (void)snprintf(head, sizeof(head), "arc=pass (i=%u)", r->instances);
    else
        (void)snprintf(head, sizeof(head), "arc=fail (i=%u%s)", r->fail_instance,
                       r->flags & TM_ARC_F_TEMPERROR ? "; DNS tempfail" : "");
    if ((rc = tm_buf_append(&b, head, strlen(head))) != TM_OK)
        return rc;
    if (r->reason != NULL && ((rc = tm_buf_append(&b, " reason=", 8)) != TM_OK ||
                              (rc = dkim_ar_value(&b, r->reason)) != TM_OK))
        return rc;
    if (tm_buf_cstr(&b) == NULL)
        return TM_ENOMEM;
    *out = (char *)b.data;
    return TM_OK;
}

/* ---- sealing ---- */

void
tm_arc_seal_opts_default(struct tm_arc_seal_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->cv = TM_ARC_NONE;
    o->t = -1;
}

/* text_ok - printable one-line text (8-bit allowed), at most max bytes */
static int
text_ok(const char *s, size_t max, int spaces)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < ' ' || c == 0x7f || (!spaces && (c == ' ' || c == ';')))
            return 0;
    }
    return i <= max;
}

/*
 * gen_aar - "ARC-Authentication-Results: i=N; authserv-id; results", the
 * results folded at their whitespace (CFWS everywhere in RFC 8601 syntax).
 */
static tm_rc
gen_aar(struct dkim_gen *g, struct tm_arena *a, unsigned inst, const char *id, const char *res)
{
    char piece[32];
    const char *p = res != NULL && *res != '\0' ? res : "none";
    tm_rc rc;

    (void)snprintf(piece, sizeof(piece), "i=%u;", inst);
    if ((rc = dkim_gen_start(g, a, "ARC-Authentication-Results")) != TM_OK ||
        (rc = dkim_gen_piece(g, piece, strlen(piece), 1)) != TM_OK ||
        (rc = dkim_gen_piece(g, id, strlen(id), 1)) != TM_OK ||
        (rc = dkim_gen_piece(g, ";", 1, 0)) != TM_OK)
        return rc;
    while (*p != '\0') {
        size_t n;

        while (*p == ' ' || *p == '\t')
            p++;
        for (n = 0; p[n] != '\0' && p[n] != ' ' && p[n] != '\t'; n++)
            ;
        if (n > 0 && (rc = dkim_gen_piece(g, p, n, 1)) != TM_OK)
            return rc;
        p += n;
    }
    return tm_buf_append(&g->b, "\r\n", 2);
}

/* seal_opts_ok - the options tm_arc_seal can work with; the reason in err */
static int
seal_opts_ok(const struct tm_arc_seal_opts *o, char *err, size_t errlen)
{
    if (o->key == NULL || !dkim_name_ok(o->domain) || !dkim_name_ok(o->selector)) {
        (void)snprintf(err, errlen, "a key, a domain and a selector ([A-Za-z0-9._-]) are needed");
        return 0;
    }
    if (o->authserv_id == NULL || *o->authserv_id == '\0' ||
        !text_ok(o->authserv_id, ARC_MAX_AUTHSERV, 0)) {
        (void)snprintf(err, errlen, "a one-word authserv-id is needed");
        return 0;
    }
    if (o->results != NULL && !text_ok(o->results, TM_ARC_MAX_AAR, 1)) {
        (void)snprintf(err, errlen, "results must be one line of at most %u bytes", TM_ARC_MAX_AAR);
        return 0;
    }
    if (o->headers != NULL &&
        dkim_list_has((const unsigned char *)o->headers, strlen(o->headers), "arc-seal")) {
        (void)snprintf(err, errlen, "an ARC-Message-Signature must not sign ARC-Seal");
        return 0;
    }
    return 1;
}

/* seal_chain_ok - cv= must fit the chain found: none for the first set, pass only if sound */
static tm_rc
seal_chain_ok(const struct arc_chain *ch, enum tm_arc_cv cv, char *err, size_t errlen)
{
    if (ch->n >= TM_ARC_MAX_INSTANCES) {
        (void)snprintf(err, errlen, "the message has ARC instance %u already", ch->n);
        return TM_ELIMIT;
    }
    if (ch->n == 0 && cv != TM_ARC_NONE) {
        (void)snprintf(err, errlen, "no ARC set on the message: cv must be none");
        return TM_EINVAL;
    }
    if (ch->n > 0 && cv == TM_ARC_NONE) {
        (void)snprintf(err, errlen, "the message has ARC sets: cv must be pass or fail");
        return TM_EINVAL;
    }
    if (cv == TM_ARC_PASS && ch->err != NULL) {
        (void)snprintf(err, errlen, "the chain is broken (%s): seal with cv=fail", ch->err);
        return TM_EINVAL;
    }
    return TM_OK;
}

/* gen_start_tags - "Name: i=N; [cv=..;] a=..; [c=..;] d=..; s=..; [t=..;]" */
static tm_rc
gen_start_tags(struct dkim_gen *g, struct tm_arena *a, const char *name, unsigned inst,
               const char *cv, enum tm_dkim_alg alg, const char *canon,
               const struct tm_arc_seal_opts *o)
{
    char num[32];
    tm_rc rc;

    (void)snprintf(num, sizeof(num), "%u", inst);
    if ((rc = dkim_gen_start(g, a, name)) != TM_OK || (rc = dkim_gen_tag(g, "i", num)) != TM_OK)
        return rc;
    if (cv != NULL && (rc = dkim_gen_tag(g, "cv", cv)) != TM_OK)
        return rc;
    if ((rc = dkim_gen_tag(g, "a", tm_dkim_alg_name(alg))) != TM_OK)
        return rc;
    if (canon != NULL && (rc = dkim_gen_tag(g, "c", canon)) != TM_OK)
        return rc;
    if ((rc = dkim_gen_tag(g, "d", o->domain)) != TM_OK ||
        (rc = dkim_gen_tag(g, "s", o->selector)) != TM_OK)
        return rc;
    if (o->t >= 0) {
        (void)snprintf(num, sizeof(num), "%lld", (long long)o->t);
        if ((rc = dkim_gen_tag(g, "t", num)) != TM_OK)
            return rc;
    }
    return TM_OK;
}

/* seal_ams - the ARC-Message-Signature: the message signed as DKIM would, relaxed/relaxed */
static tm_rc
seal_ams(struct tm_arena *a, const struct dkim_msg *m, unsigned inst,
         const struct tm_arc_seal_opts *o, struct dkim_gen *g, char *err, size_t errlen)
{
    enum tm_dkim_alg alg = tm_dkim_key_alg(o->key);
    struct dkim_hash *h;
    char *hnames, *bh;
    uint64_t total;
    tm_rc rc;

    if ((rc = dkim_sign_hlist(a, m, o->headers, o->oversign, &hnames, err, errlen)) != TM_OK ||
        (rc = dkim_sign_bh(a, m, alg, TM_DKIM_RELAXED, &bh, &total)) != TM_OK ||
        (rc = gen_start_tags(g, a, "ARC-Message-Signature", inst, NULL, alg, "relaxed/relaxed",
                             o)) != TM_OK ||
        (rc = dkim_gen_tag(g, "h", hnames)) != TM_OK || (rc = dkim_gen_tag(g, "bh", bh)) != TM_OK ||
        (rc = dkim_gen_piece(g, "b=", 2, 1)) != TM_OK)
        return rc;
    if ((h = dkim_hash_new(alg)) == NULL)
        return TM_ENOMEM;
    rc = dkim_hash_signed(a, m, TM_DKIM_RELAXED, (const unsigned char *)hnames, strlen(hnames),
                          NULL, h);
    if (rc == TM_OK)
        rc = dkim_sign_finish(a, g, TM_DKIM_RELAXED, h, o->key, alg, err, errlen);
    dkim_hash_free(h);
    return rc;
}

/*
 * seal_as - the ARC-Seal over the sets 1..N (none of them when cv=fail,
 * RFC 8617 5.1.2) and then the new AAR and AMS as they will be written.
 */
static tm_rc
seal_as(struct tm_arena *a, const struct arc_chain *ch, const struct dkim_gen *aar,
        const struct dkim_gen *ams, const struct tm_arc_seal_opts *o, struct dkim_gen *g, char *err,
        size_t errlen)
{
    enum tm_dkim_alg alg = tm_dkim_key_alg(o->key);
    struct dkim_hash *h;
    unsigned k, kk;
    tm_rc rc;

    if ((rc = gen_start_tags(g, a, "ARC-Seal", ch->n + 1, tm_arc_cv_name(o->cv), alg, NULL, o)) !=
            TM_OK ||
        (rc = dkim_gen_piece(g, "b=", 2, 1)) != TM_OK)
        return rc;
    if ((h = dkim_hash_new(alg)) == NULL)
        return TM_ENOMEM;
    for (k = 1; o->cv != TM_ARC_FAIL && k <= ch->n; k++) {
        for (kk = ARC_AAR; kk <= ARC_AS; kk++) {
            const struct dkim_field *f = ch->set[k].f[kk];
            dkim_canon_header(TM_DKIM_RELAXED, f->p, f->len, 1, dkim_hash_put, h);
        }
    }
    dkim_canon_header(TM_DKIM_RELAXED, aar->b.data, aar->b.len, 1, dkim_hash_put, h);
    dkim_canon_header(TM_DKIM_RELAXED, ams->b.data, ams->b.len, 1, dkim_hash_put, h);
    rc = dkim_sign_finish(a, g, TM_DKIM_RELAXED, h, o->key, alg, err, errlen);
    dkim_hash_free(h);
    return rc;
}

/*
 * tm_arc_seal - RFC 8617 5.1: the AAR with this relay's results, an AMS
 * over the message, and an AS over the sets 1..N and the new one in order.
 * The new AAR and AMS enter the seal's hash from the text made here, which
 * is exactly what will be prepended.
 */
tm_rc
tm_arc_seal(struct tm_arena *a, const unsigned char *msg, size_t len,
            const struct tm_arc_seal_opts *o, char **out, size_t *outlen, char *err, size_t errlen)
{
    struct dkim_ctx c;
    struct arc_chain *ch;
    struct dkim_gen aar, ams, as;
    struct tm_buf all;
    char dummy[1];
    tm_rc rc;

    if (err == NULL || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    *out = NULL;
    *outlen = 0;
    if (!seal_opts_ok(o, err, errlen))
        return TM_EINVAL;
    if ((ch = tm_arena_calloc(a, 1, sizeof(*ch))) == NULL)
        return TM_ENOMEM;
    if ((rc = dkim_ctx_init(&c, a, NULL, msg, len, 0)) != TM_OK)
        return rc;
    arc_collect(a, &c.msg, ch);
    if ((rc = seal_chain_ok(ch, o->cv, err, errlen)) != TM_OK ||
        (rc = gen_aar(&aar, a, ch->n + 1, o->authserv_id, o->results)) != TM_OK ||
        (rc = seal_ams(a, &c.msg, ch->n + 1, o, &ams, err, errlen)) != TM_OK ||
        (rc = seal_as(a, ch, &aar, &ams, o, &as, err, errlen)) != TM_OK)
        return rc;
    tm_buf_init(&all, a, as.b.len + ams.b.len + aar.b.len);
    if (tm_buf_append(&all, as.b.data, as.b.len) != TM_OK ||
        tm_buf_append(&all, ams.b.data, ams.b.len) != TM_OK ||
        tm_buf_append(&all, aar.b.data, aar.b.len) != TM_OK)
        return TM_ENOMEM;
    return dkim_out_lines(a, all.data, all.len, o->lf, out, outlen);
}
