/*
 * dkim_core.c - the signature engine DKIM-Signature, ARC-Message-Signature
 * and ARC-Seal share: parse and check a signature field (phase 1), look at
 * its key record, body hash and header hash (phase 2), and the header-field
 * hashing that signing uses too.
 *
 * The three kinds differ only in their tags (RFC 6376 3.5, RFC 8617 4.1)
 * and in what the header hash covers: the h= fields for DKIM and AMS, the
 * ARC sets up to its own for an AS. Signing's pieces are in dkim_sign.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/dkim_int.h"
#include "core/arena.h"
#include "core/str.h"

static int
is_fws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

const char *
dkim_reason(struct tm_arena *a, const char *fmt, ...)
{
    char buf[160];
    va_list ap;
    char *r;

    va_start(ap, fmt);
    (void)vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    r = tm_arena_strdup(a, buf);
    return r != NULL ? r : "out of memory";
}

char *
dkim_cstr(struct tm_arena *a, const unsigned char *p, size_t n)
{
    return tm_arena_strndup(a, p, n);
}

int
dkim_name_ok(const char *s)
{
    size_t i;

    if (s == NULL || *s == '\0')
        return 0;
    for (i = 0; s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_'))
            return 0;
    }
    return i <= TM_DKIM_MAX_NAME;
}

/* name_bytes_ok - as dkim_name_ok for a tag value; no leading, trailing or double dot */
static int
name_bytes_ok(const unsigned char *p, size_t n)
{
    size_t i;

    if (n == 0 || n > TM_DKIM_MAX_NAME || p[0] == '.' || p[n - 1] == '.')
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_'))
            return 0;
        if (c == '.' && i > 0 && p[i - 1] == '.')
            return 0;
    }
    return 1;
}

tm_rc
dkim_ctx_init(struct dkim_ctx *c, struct tm_arena *a, const struct tm_dkim_config *cfg,
              const unsigned char *msg, size_t len, size_t maxq)
{
    memset(c, 0, sizeof(*c));
    c->a = a;
    if (cfg != NULL)
        c->cfg = *cfg;
    else
        tm_dkim_config_default(&c->cfg);
    if (c->cfg.now == 0)
        c->cfg.now = (int64_t)time(NULL);
    c->maxq = maxq;
    if (maxq > 0 && (c->q = tm_arena_calloc(a, maxq, sizeof(*c->q))) == NULL)
        return TM_ENOMEM;
    return dkim_msg_parse(a, msg, len, c->cfg.max_header_fields, &c->msg);
}

void
dkim_sv_decide(struct dkim_sv *s, enum tm_dkim_result r, enum tm_dkim_why why, const char *reason)
{
    s->pub.result = r;
    s->pub.why = why;
    s->pub.reason = r == TM_DKIM_PASS ? NULL : reason;
    s->decided = 1;
}

/* parse_num - 1..digits decimal digits; saturates at UINT64_MAX; -1 when not a number */
static int
parse_num(const struct dkim_tag *t, size_t digits, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (t->vallen == 0 || t->vallen > digits)
        return -1;
    for (i = 0; i < t->vallen; i++) {
        unsigned d;
        if (t->val[i] < '0' || t->val[i] > '9')
            return -1;
        d = (unsigned)(t->val[i] - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    *out = v;
    return 0;
}

/* parse_alg - a= of a signature */
static int
parse_alg(const struct dkim_tag *t, enum tm_dkim_alg *alg)
{
    if (dkim_tag_eq(t, "rsa-sha256"))
        *alg = TM_DKIM_RSA_SHA256;
    else if (dkim_tag_eq(t, "ed25519-sha256"))
        *alg = TM_DKIM_ED25519_SHA256;
    else if (dkim_tag_eq(t, "rsa-sha1"))
        *alg = TM_DKIM_RSA_SHA1;
    else
        return -1;
    return 0;
}

/* parse_canon - c= is "header[/body]", body simple when left out (3.5) */
static int
parse_canon(const struct dkim_tag *t, enum tm_dkim_canon *hc, enum tm_dkim_canon *bc)
{
    const unsigned char *slash = memchr(t->val, '/', t->vallen);
    struct dkim_tag part = *t;

    *hc = *bc = TM_DKIM_SIMPLE;
    if (slash != NULL)
        part.vallen = (size_t)(slash - t->val);
    if (dkim_tag_eq(&part, "relaxed"))
        *hc = TM_DKIM_RELAXED;
    else if (!dkim_tag_eq(&part, "simple"))
        return -1;
    if (slash == NULL)
        return 0;
    part.val = slash + 1;
    part.vallen = t->vallen - part.vallen - 1;
    if (dkim_tag_eq(&part, "relaxed"))
        *bc = TM_DKIM_RELAXED;
    else if (!dkim_tag_eq(&part, "simple"))
        return -1;
    return 0;
}

/*
 * check_hlist - h= names: non-empty, no WSP inside, at most
 * TM_DKIM_MAX_SIGNED; reports whether From and ARC-Seal are among them.
 */
static int
check_hlist(const struct dkim_tag *t, int *has_from, int *has_as)
{
    size_t pos = 0, n = 0;

    *has_from = *has_as = 0;
    for (;;) {
        const unsigned char *c = memchr(t->val + pos, ':', t->vallen - pos);
        size_t e = c != NULL ? (size_t)(c - t->val) : t->vallen, s = pos, i;

        while (s < e && is_fws(t->val[s]))
            s++;
        while (e > s && is_fws(t->val[e - 1]))
            e--;
        if (e == s || ++n > TM_DKIM_MAX_SIGNED)
            return -1;
        for (i = s; i < e; i++)
            if (t->val[i] <= ' ' || t->val[i] >= 0x7f)
                return -1;
        if (e - s == 4 && tm_mem_ieq(t->val + s, "from", 4))
            *has_from = 1;
        if (e - s == 8 && tm_mem_ieq(t->val + s, "arc-seal", 8))
            *has_as = 1;
        if (c == NULL)
            return 0;
        pos = (size_t)(c - t->val) + 1;
    }
}

/* domain_within - dom (n bytes) is d or a subdomain of it */
static int
domain_within(const unsigned char *dom, size_t n, const unsigned char *d, size_t dn)
{
    if (n == dn)
        return tm_mem_ieq(dom, d, n);
    return n > dn && dom[n - dn - 1] == '.' && tm_mem_ieq(dom + n - dn, d, dn);
}

/* identity_domain - the domain of i= (after its last '@'), or NULL */
static const unsigned char *
identity_domain(const struct dkim_tag *t, size_t *n)
{
    size_t i = t->vallen;

    while (i > 0 && t->val[i - 1] != '@')
        i--;
    if (i == 0)
        return NULL;
    *n = t->vallen - i;
    return t->val + i;
}

#define TAG(n) dkim_tag_find(s->tags, s->ntags, n)

/* permerror - decide s as a permerror; the helpers below then return TM_OK with s->decided */
static tm_rc
permerror(struct dkim_sv *s, enum tm_dkim_why why, const char *reason)
{
    dkim_sv_decide(s, TM_DKIM_PERMERROR, why, reason);
    return TM_OK;
}

/* sv_show - what the report shows of a signature, even one that goes no further */
static tm_rc
sv_show(struct tm_arena *a, struct dkim_sv *s)
{
    const struct dkim_tag *t;
    size_t i, n;

    if ((t = TAG("d")) != NULL && (s->pub.domain = dkim_cstr(a, t->val, t->vallen)) == NULL)
        return TM_ENOMEM;
    if ((t = TAG("s")) != NULL && (s->pub.selector = dkim_cstr(a, t->val, t->vallen)) == NULL)
        return TM_ENOMEM;
    if ((t = TAG("a")) != NULL && (s->pub.algorithm = dkim_cstr(a, t->val, t->vallen)) == NULL)
        return TM_ENOMEM;
    if (s->kind == DKIM_KIND_DKIM && (t = TAG("i")) != NULL &&
        (s->pub.identity = dkim_cstr(a, t->val, t->vallen)) == NULL)
        return TM_ENOMEM;
    if ((t = TAG("b")) != NULL) {
        if ((s->b64 = tm_arena_alloc(a, t->vallen + 1)) == NULL)
            return TM_ENOMEM;
        for (i = 0, n = 0; i < t->vallen; i++)
            if (!is_fws(t->val[i]))
                s->b64[n++] = (char)t->val[i];
        s->b64[n] = '\0';
    }
    return TM_OK;
}

/* sv_tags - the tag-list, the tags the kind requires, v= and i= (instance) */
static tm_rc
sv_tags(struct dkim_ctx *c, struct dkim_sv *s)
{
    static const char *const req_dkim[] = {"v", "a", "b", "bh", "d", "h", "s", NULL};
    static const char *const req_ams[] = {"i", "a", "b", "bh", "d", "h", "s", NULL};
    static const char *const req_as[] = {"i", "a", "b", "cv", "d", "s", NULL};
    struct dkim_tag tags[TM_DKIM_MAX_TAGS];
    const char *const *req;
    const char *why;
    size_t n, i;
    uint64_t num;
    tm_rc rc;

    if (s->field->len > c->cfg.max_field_len)
        return permerror(s, TM_DKIM_E_SYNTAX, "signature field too long");
    if (dkim_tags_parse(s->field->p + s->field->valoff, dkim_field_value_len(s->field), tags,
                        TM_NELEM(tags), &n, &why) != 0)
        return permerror(s, TM_DKIM_E_SYNTAX, dkim_reason(c->a, "bad tag list: %s", why));
    if ((s->tags = tm_arena_alloc(c->a, (n ? n : 1) * sizeof(*tags))) == NULL)
        return TM_ENOMEM;
    memcpy(s->tags, tags, n * sizeof(*tags));
    s->ntags = n;
    if ((rc = sv_show(c->a, s)) != TM_OK)
        return rc;
    req = s->kind == DKIM_KIND_DKIM ? req_dkim : s->kind == DKIM_KIND_AMS ? req_ams : req_as;
    for (i = 0; req[i] != NULL; i++)
        if (TAG(req[i]) == NULL)
            return permerror(s, TM_DKIM_E_SYNTAX, dkim_reason(c->a, "missing %s= tag", req[i]));
    if (s->kind == DKIM_KIND_DKIM && !dkim_tag_eq(TAG("v"), "1"))
        return permerror(s, TM_DKIM_E_VERSION, "unsupported version (v=)");
    if (s->kind != DKIM_KIND_DKIM) {
        if (parse_num(TAG("i"), 2, &num) != 0 || num < 1 || num > 50)
            return permerror(s, TM_DKIM_E_SYNTAX, "bad i= instance");
        s->instance = (unsigned)num;
    }
    return TM_OK;
}

/* sv_algorithms - a=, c= and q= */
static tm_rc
sv_algorithms(struct dkim_ctx *c, struct dkim_sv *s)
{
    const struct dkim_tag *t;

    if (parse_alg(TAG("a"), &s->alg) != 0)
        return permerror(s, TM_DKIM_E_ALGORITHM, "unknown algorithm (a=)");
    if (s->alg == TM_DKIM_RSA_SHA1) {
        s->pub.flags |= TM_DKIM_F_WEAK;
        if (!c->cfg.allow_sha1)
            return permerror(s, TM_DKIM_E_SHA1, "rsa-sha1 not accepted");
    }
    s->hc = s->bc = TM_DKIM_SIMPLE;
    if (s->kind == DKIM_KIND_AS)
        s->hc = TM_DKIM_RELAXED; /* RFC 8617 5.1.1: always relaxed */
    else if ((t = TAG("c")) != NULL && parse_canon(t, &s->hc, &s->bc) != 0)
        return permerror(s, TM_DKIM_E_ALGORITHM, "unknown canonicalization (c=)");
    if (s->kind == DKIM_KIND_DKIM && (t = TAG("q")) != NULL &&
        !dkim_list_has(t->val, t->vallen, "dns/txt"))
        return permerror(s, TM_DKIM_E_ALGORITHM, "unsupported query method (q=)");
    return TM_OK;
}

/* sv_values - d=, s=, b=, and bh= and h= (DKIM, AMS) or cv= (AS), and i= within d= */
static tm_rc
sv_values(struct dkim_ctx *c, struct dkim_sv *s)
{
    const struct dkim_tag *t, *d = TAG("d");
    const unsigned char *dom;
    int has_from, has_as;
    size_t n;

    if (!name_bytes_ok(d->val, d->vallen))
        return permerror(s, TM_DKIM_E_SYNTAX, "bad d= domain");
    if (!name_bytes_ok(TAG("s")->val, TAG("s")->vallen))
        return permerror(s, TM_DKIM_E_SYNTAX, "bad s= selector");
    t = TAG("b");
    if ((s->b = tm_arena_alloc(c->a, TM_DKIM_MAX_SIG_BYTES)) == NULL)
        return TM_ENOMEM;
    s->blen = dkim_b64_decode(t->val, t->vallen, s->b, TM_DKIM_MAX_SIG_BYTES);
    if (s->blen == (size_t)-1 || s->blen == 0)
        return permerror(s, TM_DKIM_E_SYNTAX, "bad b= value");
    if (s->kind == DKIM_KIND_AS) {
        if (TAG("h") != NULL)
            return permerror(s, TM_DKIM_E_SYNTAX, "h= in an ARC-Seal");
        t = TAG("cv");
        if (!dkim_tag_eq(t, "none") && !dkim_tag_eq(t, "pass") && !dkim_tag_eq(t, "fail"))
            return permerror(s, TM_DKIM_E_SYNTAX, "bad cv= value");
        return (s->cv = dkim_cstr(c->a, t->val, t->vallen)) == NULL ? TM_ENOMEM : TM_OK;
    }
    t = TAG("bh");
    s->bhlen = dkim_b64_decode(t->val, t->vallen, s->bh, sizeof(s->bh));
    if (s->bhlen == (size_t)-1 || s->bhlen == 0)
        return permerror(s, TM_DKIM_E_SYNTAX, "bad bh= value");
    s->h = TAG("h");
    if (check_hlist(s->h, &has_from, &has_as) != 0)
        return permerror(s, TM_DKIM_E_SYNTAX, "bad h= list");
    if (s->kind == DKIM_KIND_DKIM && !has_from)
        return permerror(s, TM_DKIM_E_FROM, "From field not signed");
    if (s->kind == DKIM_KIND_AMS && has_as)
        return permerror(s, TM_DKIM_E_SYNTAX, "h= signs ARC-Seal");
    if (s->kind == DKIM_KIND_DKIM && (t = TAG("i")) != NULL &&
        ((dom = identity_domain(t, &n)) == NULL || !domain_within(dom, n, d->val, d->vallen)))
        return permerror(s, TM_DKIM_E_IDENTITY, "i= not within d=");
    return TM_OK;
}

/* sv_times - l=, t= and x=; an expired signature fails, one from the future is a permerror */
static tm_rc
sv_times(struct dkim_ctx *c, struct dkim_sv *s)
{
    const struct dkim_tag *t;
    uint64_t num;

    if (s->kind != DKIM_KIND_AS && (t = TAG("l")) != NULL) {
        if (parse_num(t, 76, &s->pub.l) != 0)
            return permerror(s, TM_DKIM_E_SYNTAX, "bad l= value");
        s->pub.flags |= TM_DKIM_F_LENGTH;
    }
    if ((t = TAG("t")) != NULL) {
        if (parse_num(t, 12, &num) != 0)
            return permerror(s, TM_DKIM_E_SYNTAX, "bad t= value");
        s->pub.t = (int64_t)num;
    }
    if ((t = TAG("x")) != NULL) {
        if (parse_num(t, 12, &num) != 0 || (s->pub.t >= 0 && (int64_t)num < s->pub.t))
            return permerror(s, TM_DKIM_E_SYNTAX, "bad x= value");
        s->pub.x = (int64_t)num;
    }
    if (s->pub.t > c->cfg.now + (int64_t)c->cfg.clock_skew)
        return permerror(s, TM_DKIM_E_FUTURE, "signature timestamp in the future");
    if (s->pub.x >= 0 && s->pub.x < c->cfg.now)
        dkim_sv_decide(s, TM_DKIM_FAIL, TM_DKIM_E_EXPIRED, "signature expired (x=)");
    return TM_OK;
}

/* sv_key_name - selector._domainkey.domain in lower case */
static tm_rc
sv_key_name(struct dkim_ctx *c, struct dkim_sv *s)
{
    const struct dkim_tag *d = TAG("d"), *sel = TAG("s");
    size_t n = sel->vallen + 12 + d->vallen, i;
    char *name;

    if (n > TM_DKIM_MAX_NAME)
        return permerror(s, TM_DKIM_E_SYNTAX, "key name too long");
    if ((name = tm_arena_alloc(c->a, n + 1)) == NULL)
        return TM_ENOMEM;
    for (i = 0; i < sel->vallen; i++)
        name[i] = (char)tm_lower(sel->val[i]);
    memcpy(name + i, "._domainkey.", 12);
    for (i = 0; i < d->vallen; i++)
        name[sel->vallen + 12 + i] = (char)tm_lower(d->val[i]);
    name[n] = '\0';
    s->pub.key_name = name;
    return TM_OK;
}

/*
 * dkim_sv_parse - every check a signature allows without its key, in the
 * order RFC 6376 6.1.1 gives them; the first failure decides. The key
 * query name is made here but only asked for by whoever plans it.
 */
tm_rc
dkim_sv_parse(struct dkim_ctx *c, struct dkim_sv *s, enum dkim_kind kind,
              const struct dkim_field *f)
{
    static tm_rc (*const step[])(struct dkim_ctx *, struct dkim_sv *) = {
        sv_tags, sv_algorithms, sv_values, sv_times, sv_key_name};
    size_t i;
    tm_rc rc;

    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->field = f;
    s->q = DKIM_NO_QUERY;
    s->pub.t = s->pub.x = -1;
    for (i = 0; i < TM_NELEM(step); i++)
        if ((rc = step[i](c, s)) != TM_OK || s->decided)
            return rc;
    return TM_OK;
}

tm_rc
dkim_sv_plan(struct dkim_ctx *c, struct dkim_sv *s)
{
    size_t i;

    if (s->decided)
        return TM_OK;
    for (i = 0; i < c->nq; i++) {
        if (strcmp(c->q[i].name, s->pub.key_name) == 0) {
            s->q = i;
            return TM_OK;
        }
    }
    if (c->nq == c->maxq)
        return TM_ELIMIT;
    c->q[c->nq].name = s->pub.key_name;
    s->q = c->nq++;
    return TM_OK;
}

tm_rc
dkim_ctx_answer(struct dkim_ctx *c, size_t i, enum tm_dns_status st, const char *txt, size_t len)
{
    struct dkim_keyq *q;
    char *copy;

    if (i >= c->nq)
        return TM_EINVAL;
    q = &c->q[i];
    if (!q->answered || (q->st != TM_DNS_OK && st == TM_DNS_OK))
        q->st = st; /* a record beats an earlier error */
    q->answered = 1;
    if (st != TM_DNS_OK || txt == NULL || q->ntxt == DKIM_MAX_KEY_RRS)
        return TM_OK;
    if (len > TM_DKIM_MAX_KEY_RECORD) {
        q->txt[q->ntxt] = NULL; /* too long: key_parse says so */
        q->txtlen[q->ntxt++] = len;
        return TM_OK;
    }
    if ((copy = tm_arena_strndup(c->a, txt, len)) == NULL)
        return TM_ENOMEM;
    q->txt[q->ntxt] = copy;
    q->txtlen[q->ntxt++] = len;
    return TM_OK;
}

/* dkim_ctx_lookup - every query with one tm_dns_lookup_many, the answers recorded */
tm_rc
dkim_ctx_lookup(struct dkim_ctx *c, struct tm_dns *dns, struct tm_dns_budget *budget)
{
    struct tm_dns_query *q;
    size_t i, k;
    tm_rc rc;

    if (c->nq == 0)
        return TM_OK;
    if ((q = tm_arena_calloc(c->a, c->nq, sizeof(*q))) == NULL)
        return TM_ENOMEM;
    for (i = 0; i < c->nq; i++) {
        q[i].name = c->q[i].name;
        q[i].type = TM_DNS_TXT;
    }
    if ((rc = tm_dns_lookup_many(dns, c->a, q, c->nq, budget)) != TM_OK)
        return rc;
    for (i = 0; i < c->nq; i++) {
        const struct tm_dns_rrset *rs = &q[i].res;

        if (rs->status != TM_DNS_OK || rs->n == 0) {
            rc = dkim_ctx_answer(c, i, rs->status == TM_DNS_OK ? TM_DNS_NODATA : rs->status, NULL,
                                 0);
            if (rc != TM_OK)
                return rc;
            continue;
        }
        for (k = 0; k < rs->n && k < DKIM_MAX_KEY_RRS; k++)
            if ((rc = dkim_ctx_answer(c, i, TM_DNS_OK, rs->rr[k].text, rs->rr[k].len)) != TM_OK)
                return rc;
    }
    return TM_OK;
}

/*
 * key_parse - RFC 6376 3.6.1 on one TXT record, with the checks of 6.1.2
 * that tie the key to the signature: k= against a=, h= against the hash,
 * s= email, t=s against i=. Fills k and flags on success; else the why.
 */
static enum tm_dkim_why
key_parse(struct dkim_ctx *c, struct dkim_sv *s, const char *txt, size_t len, struct dkim_pubkey *k,
          unsigned *flags, const char **reason)
{
    struct dkim_tag tags[TM_DKIM_MAX_TAGS];
    const struct dkim_tag *t, *p;
    unsigned char *der;
    const char *why;
    size_t n, dlen;
    int ed;

    *flags = 0;
    if (txt == NULL || len > TM_DKIM_MAX_KEY_RECORD) {
        *reason = "key record too long";
        return TM_DKIM_E_KEY_SYNTAX;
    }
    if (dkim_tags_parse((const unsigned char *)txt, len, tags, TM_NELEM(tags), &n, &why) != 0) {
        *reason = dkim_reason(c->a, "bad key record: %s", why);
        return TM_DKIM_E_KEY_SYNTAX;
    }
    if ((t = dkim_tag_find(tags, n, "v")) != NULL && (t != &tags[0] || !dkim_tag_eq(t, "DKIM1"))) {
        *reason = "bad key record version (v=)";
        return TM_DKIM_E_KEY_SYNTAX;
    }
    if ((p = dkim_tag_find(tags, n, "p")) == NULL) {
        *reason = "key record without p=";
        return TM_DKIM_E_KEY_SYNTAX;
    }
    if (p->vallen == 0) {
        *reason = "key revoked";
        return TM_DKIM_E_KEY_REVOKED;
    }
    t = dkim_tag_find(tags, n, "k");
    if (t == NULL || dkim_tag_eq(t, "rsa")) {
        ed = 0;
    } else if (dkim_tag_eq(t, "ed25519")) {
        ed = 1;
    } else {
        *reason = "unknown key type (k=)";
        return TM_DKIM_E_KEY_TYPE;
    }
    if (ed != (s->alg == TM_DKIM_ED25519_SHA256)) {
        *reason = "key type does not match a=";
        return TM_DKIM_E_KEY_TYPE;
    }
    if ((t = dkim_tag_find(tags, n, "h")) != NULL &&
        !dkim_list_has(t->val, t->vallen, s->alg == TM_DKIM_RSA_SHA1 ? "sha1" : "sha256")) {
        *reason = "hash not allowed by the key (h=)";
        return TM_DKIM_E_KEY_HASH;
    }
    if ((t = dkim_tag_find(tags, n, "s")) != NULL && !dkim_list_has(t->val, t->vallen, "*") &&
        !dkim_list_has(t->val, t->vallen, "email")) {
        *reason = "key not for email (s=)";
        return TM_DKIM_E_KEY_SERVICE;
    }
    if ((t = dkim_tag_find(tags, n, "t")) != NULL) {
        if (dkim_list_has(t->val, t->vallen, "y"))
            *flags |= TM_DKIM_F_TESTING;
        if (dkim_list_has(t->val, t->vallen, "s"))
            *flags |= TM_DKIM_F_STRICT;
    }
    if ((*flags & TM_DKIM_F_STRICT) && s->kind == DKIM_KIND_DKIM) {
        const struct dkim_tag *i = TAG("i"), *d = TAG("d");
        const unsigned char *dom;
        size_t dn;

        if (i != NULL && ((dom = identity_domain(i, &dn)) == NULL || dn != d->vallen ||
                          !tm_mem_ieq(dom, d->val, dn))) {
            *reason = "i= domain is not d= (key t=s)";
            return TM_DKIM_E_KEY_STRICT;
        }
    }
    if ((der = tm_arena_alloc(c->a, p->vallen)) == NULL) {
        *reason = "out of memory";
        return TM_DKIM_E_CRYPTO;
    }
    dlen = dkim_b64_decode(p->val, p->vallen, der, p->vallen);
    if (dlen == (size_t)-1 || dkim_pubkey_parse(ed, der, dlen, k) != 0) {
        *reason = "unparsable public key (p=)";
        return TM_DKIM_E_KEY_SYNTAX;
    }
    return TM_DKIM_OK;
}

struct bsink {
    struct dkim_hash *h;
    uint64_t left;
};

static void
bsink_put(void *ud, const unsigned char *p, size_t n)
{
    struct bsink *b = ud;

    if ((uint64_t)n > b->left)
        n = (size_t)b->left;
    b->left -= n;
    dkim_hash_put(b->h, p, n);
}

/* body_hash - the canonical body hash for (hash, canon, l), computed once per message */
static const struct dkim_bh *
body_hash(struct dkim_ctx *c, enum tm_dkim_alg alg, enum tm_dkim_canon canon, uint64_t l)
{
    struct dkim_bh *e;
    struct bsink sink;
    size_t i;

    if (alg == TM_DKIM_ED25519_SHA256)
        alg = TM_DKIM_RSA_SHA256; /* the same SHA-256 */
    for (i = 0; i < c->nbh; i++) {
        e = &c->bh[i];
        if (e->alg == alg && e->c == canon && e->l == l)
            return e;
    }
    e = &c->bh[c->nbh < DKIM_MAX_BH_CACHE ? c->nbh++ : DKIM_MAX_BH_CACHE - 1];
    if ((sink.h = dkim_hash_new(alg)) == NULL)
        return NULL;
    sink.left = l;
    e->alg = alg;
    e->c = canon;
    e->l = l;
    e->total = dkim_canon_body(canon, c->msg.body, c->msg.bodylen, bsink_put, &sink);
    e->hlen = dkim_hash_final(sink.h, e->h);
    dkim_hash_free(sink.h);
    return e->hlen > 0 ? e : NULL;
}

tm_rc
dkim_hash_signed(struct tm_arena *a, const struct dkim_msg *m, enum tm_dkim_canon hc,
                 const unsigned char *hv, size_t hlen, const struct dkim_field *self,
                 struct dkim_hash *h)
{
    unsigned char *used;
    size_t pos = 0, j;

    if ((used = tm_arena_calloc(a, m->nf ? m->nf : 1, 1)) == NULL)
        return TM_ENOMEM;
    while (pos <= hlen) {
        const unsigned char *c = pos < hlen ? memchr(hv + pos, ':', hlen - pos) : NULL;
        size_t e = c != NULL ? (size_t)(c - hv) : hlen, s = pos;

        while (s < e && is_fws(hv[s]))
            s++;
        while (e > s && is_fws(hv[e - 1]))
            e--;
        for (j = m->nf; e > s && j-- > 0;) {
            const struct dkim_field *f = &m->f[j];
            if (f == self || used[j] || !dkim_field_name_eq(f, hv + s, e - s))
                continue;
            used[j] = 1;
            dkim_canon_header(hc, f->p, f->len, 1, dkim_hash_put, h);
            break;
        }
        if (c == NULL)
            break;
        pos = (size_t)(c - hv) + 1;
    }
    return TM_OK;
}

tm_rc
dkim_hash_self(struct tm_arena *a, enum tm_dkim_canon hc, const unsigned char *p, size_t len,
               size_t b_eq, size_t b_end, struct dkim_hash *h)
{
    unsigned char *cp;
    size_t n;

    TM_ASSERT(b_eq <= b_end && b_end <= len);
    n = len - (b_end - b_eq);
    if ((cp = tm_arena_alloc(a, n ? n : 1)) == NULL)
        return TM_ENOMEM;
    memcpy(cp, p, b_eq);
    memcpy(cp + b_eq, p + b_end, len - b_end);
    dkim_canon_header(hc, cp, n, 0, dkim_hash_put, h);
    return TM_OK;
}

/* answer_why - the result a DNS status gives, or TM_DKIM_OK when there are records */
static enum tm_dkim_why
answer_why(const struct dkim_keyq *q, enum tm_dkim_result *r, const char **reason)
{
    *r = TM_DKIM_TEMPERROR;
    if (!q->answered) {
        *reason = "no DNS answer for the key";
        return TM_DKIM_E_DNS;
    }
    switch (q->st) {
    case TM_DNS_OK:
        if (q->ntxt > 0)
            return TM_DKIM_OK;
        break;
    case TM_DNS_TEMPFAIL:
        *reason = "DNS temporary failure for the key";
        return TM_DKIM_E_DNS;
    case TM_DNS_LIMIT:
        *reason = "DNS lookup limit reached";
        return TM_DKIM_E_DNS;
    case TM_DNS_NXDOMAIN:
    case TM_DNS_NODATA:
        break;
    }
    *r = TM_DKIM_PERMERROR;
    *reason = "no key";
    return TM_DKIM_E_NOKEY;
}

/*
 * dkim_sv_check - phase 2 in RFC 6376 6.1.2/6.1.3 order: the key (the
 * first TXT record that makes one; else the first record's error), its
 * size, then the body hash (so a changed body says so), then the header
 * hash and the signature.
 */
tm_rc
dkim_sv_check(struct dkim_ctx *c, struct dkim_sv *s)
{
    struct dkim_pubkey k = {NULL, 0};
    enum tm_dkim_why why = TM_DKIM_E_NOKEY, w;
    enum tm_dkim_result r;
    const char *reason = NULL, *rs;
    const struct dkim_bh *bh;
    struct dkim_hash *h;
    const struct dkim_keyq *q;
    const struct dkim_tag *bt;
    unsigned char hash[DKIM_MAX_HASH];
    size_t hlen, i;
    unsigned flags = 0, fl;
    uint64_t l;
    tm_rc rc;
    int ok;

    if (s->decided)
        return TM_OK;
    TM_ASSERT(s->q < c->nq);
    q = &c->q[s->q];
    if ((why = answer_why(q, &r, &reason)) != TM_DKIM_OK) {
        dkim_sv_decide(s, r, why, reason);
        return TM_OK;
    }
    for (i = 0; i < q->ntxt; i++) {
        w = key_parse(c, s, q->txt[i], q->txtlen[i], &k, &fl, &rs);
        if (w == TM_DKIM_OK) {
            flags = fl;
            break;
        }
        if (i == 0) {
            why = w;
            reason = rs;
        }
    }
    if (k.pkey == NULL) {
        dkim_sv_decide(s, why == TM_DKIM_E_CRYPTO ? TM_DKIM_TEMPERROR : TM_DKIM_PERMERROR, why,
                       reason);
        return TM_OK;
    }
    s->pub.flags |= flags;
    s->pub.key_bits = k.bits;
    if (s->alg != TM_DKIM_ED25519_SHA256 && k.bits < c->cfg.min_rsa_bits) {
        dkim_sv_decide(s, TM_DKIM_PERMERROR, TM_DKIM_E_KEY_SMALL,
                       dkim_reason(c->a, "key too small (%u bits)", k.bits));
        goto out;
    }
    if (s->alg != TM_DKIM_ED25519_SHA256 && k.bits > c->cfg.max_rsa_bits) {
        dkim_sv_decide(s, TM_DKIM_PERMERROR, TM_DKIM_E_KEY_LARGE,
                       dkim_reason(c->a, "key too large (%u bits)", k.bits));
        goto out;
    }
    if (s->kind != DKIM_KIND_AS) {
        l = (s->pub.flags & TM_DKIM_F_LENGTH) ? s->pub.l : UINT64_MAX;
        if ((bh = body_hash(c, s->alg, s->bc, l)) == NULL) {
            dkim_sv_decide(s, TM_DKIM_TEMPERROR, TM_DKIM_E_CRYPTO, "hash failure");
            goto out;
        }
        if (l != UINT64_MAX && l > bh->total) {
            dkim_sv_decide(s, TM_DKIM_PERMERROR, TM_DKIM_E_BODY_LENGTH, "l= exceeds the body");
            goto out;
        }
        if (l != UINT64_MAX && l < bh->total)
            s->pub.flags |= TM_DKIM_F_PARTIAL;
        if (bh->hlen != s->bhlen || memcmp(bh->h, s->bh, bh->hlen) != 0) {
            dkim_sv_decide(s, TM_DKIM_FAIL, TM_DKIM_E_BODY_HASH, "body hash mismatch");
            goto out;
        }
    }
    if ((h = dkim_hash_new(s->alg)) == NULL) {
        dkim_sv_decide(s, TM_DKIM_TEMPERROR, TM_DKIM_E_CRYPTO, "hash failure");
        goto out;
    }
    if (s->kind == DKIM_KIND_AS) {
        for (i = 0; i < s->nasf; i++)
            dkim_canon_header(TM_DKIM_RELAXED, s->asf[i]->p, s->asf[i]->len, 1, dkim_hash_put, h);
        rc = TM_OK;
    } else {
        rc = dkim_hash_signed(c->a, &c->msg, s->hc, s->h->val, s->h->vallen, s->field, h);
    }
    bt = TAG("b");
    if (rc == TM_OK)
        rc = dkim_hash_self(c->a, s->hc, s->field->p, s->field->len, s->field->valoff + bt->eq,
                            s->field->valoff + bt->vend, h);
    hlen = rc == TM_OK ? dkim_hash_final(h, hash) : 0;
    dkim_hash_free(h);
    if (rc != TM_OK) {
        dkim_pubkey_free(&k);
        return rc;
    }
    ok = hlen > 0 ? dkim_verify_hash(&k, s->alg, hash, hlen, s->b, s->blen) : -1;
    if (ok == 1)
        dkim_sv_decide(s, TM_DKIM_PASS, TM_DKIM_OK, NULL);
    else if (ok == 0)
        dkim_sv_decide(s, TM_DKIM_FAIL, TM_DKIM_E_SIGNATURE, "signature mismatch");
    else
        dkim_sv_decide(s, TM_DKIM_TEMPERROR, TM_DKIM_E_CRYPTO, "signature check failed");
out:
    dkim_pubkey_free(&k);
    return TM_OK;
}

/*
 * dkim_header_b - RFC 6008: header.b must tell the signatures apart, so a
 * prefix is made longer than what it shares with any other b= (at least
 * TM_DKIM_HEADER_B_MIN characters, at most the whole value).
 */
tm_rc
dkim_header_b(struct tm_arena *a, struct dkim_sv *s, size_t n)
{
    size_t i, j, len, want, cp;

    for (i = 0; i < n; i++) {
        if (s[i].b64 == NULL || s[i].b64[0] == '\0')
            continue; /* no b=, or an empty one: no header.b */
        len = strlen(s[i].b64);
        want = TM_DKIM_HEADER_B_MIN;
        for (j = 0; j < n; j++) {
            if (j == i || s[j].b64 == NULL)
                continue;
            for (cp = 0; s[i].b64[cp] != '\0' && s[i].b64[cp] == s[j].b64[cp]; cp++)
                ;
            if (cp + 1 > want)
                want = cp + 1;
        }
        if (want > len)
            want = len;
        if ((s[i].pub.header_b = tm_arena_strndup(a, s[i].b64, want)) == NULL)
            return TM_ENOMEM;
    }
    return TM_OK;
}
