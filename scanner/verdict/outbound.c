/*
 * outbound.c - the sender-domain policy, DKIM signing, ARC sealing and the
 * Authentication-Results field for the mail a relay passes on; see
 * outbound.h.
 */
#include "verdict/outbound.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/arc.h"
#include "auth/auth.h"
#include "auth/dkim.h"
#include "auth/dmarc.h"
#include "core/arena.h"
#include "core/task.h"
#include "mime/mime.h"
#include "verdict/verdict.h"

struct submitter {
    char *login;    /* lower case */
    char **domains; /* lower case, no trailing dot; "*.d" kept as written */
    size_t n;
};

struct signer {
    char *domain; /* lower case */
    char *selector;
    struct tm_dkim_key *key;
};

struct tm_outbound {
    struct submitter *subs;
    size_t nsubs;
    int has_policy;
    struct signer *signers;
    size_t nsigners;
    struct signer seal;
    int has_seal;
    const char *headers; /* owned copy or NULL */
    enum tm_dkim_canon hcanon, bcanon;
    int sign_all;
    int auth_results;
    char *authserv_id;
};

/* ---- parsing --------------------------------------------------------------------- */

static void
lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* norm_domain - lower case, one trailing dot dropped; 0 when empty or not a plausible name */
static int
norm_domain(char *d)
{
    size_t n, i;

    lower(d);
    n = strlen(d);
    if (n > 0 && d[n - 1] == '.')
        d[--n] = '\0';
    if (n == 0 || n > 253 || strstr(d, "..") != NULL || d[0] == '.')
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)d[i];
        if (!(c == '.' || c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
              c >= 0x80 || (c == '*' && i == 0 && n > 2 && d[1] == '.')))
            return 0;
    }
    return 1;
}

static int
cmp_sub(const void *a, const void *b)
{
    return strcmp(((const struct submitter *)a)->login, ((const struct submitter *)b)->login);
}

/* read_file - the whole file, NUL-terminated, at most max bytes */
static tm_rc
read_file(const char *path, size_t max, char **out, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return TM_EIO;
    }
    buf = tm_xmalloc(max + 1);
    n = fread(buf, 1, max + 1, f);
    if (ferror(f) || n > max) {
        int ioerr = ferror(f);
        snprintf(err, errlen, "%s: %s", path, ioerr ? strerror(errno) : "file too large");
        fclose(f);
        tm_free(buf);
        return ioerr ? TM_EIO : TM_EINVAL;
    }
    fclose(f);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return TM_OK;
}

static tm_rc
load_map(struct tm_outbound *ob, const char *path, char *err, size_t errlen)
{
    char *text, *line, *next;
    size_t len, cap = 0, lineno = 0, i;
    tm_rc rc;

    if ((rc = read_file(path, TM_OUTBOUND_MAX_MAP_BYTES, &text, &len, err, errlen)) != TM_OK)
        return rc;
    if (memchr(text, '\0', len) != NULL) {
        snprintf(err, errlen, "%s: a NUL byte: not a text file", path);
        tm_free(text);
        return TM_EINVAL;
    }
    for (line = text; line != NULL && *line; line = next) {
        struct submitter s;
        char *tok, *save = NULL, *hash;
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        lineno++;
        if (strlen(line) > TM_OUTBOUND_MAX_LINE) {
            snprintf(err, errlen, "%s:%zu: line longer than %u bytes", path, lineno,
                     TM_OUTBOUND_MAX_LINE);
            goto fail;
        }
        if ((hash = strchr(line, '#')) != NULL)
            *hash = '\0';
        if ((tok = strtok_r(line, " \t\r,", &save)) == NULL)
            continue;
        memset(&s, 0, sizeof(s));
        s.login = tm_xstrdup(tok);
        lower(s.login);
        while ((tok = strtok_r(NULL, " \t\r,", &save)) != NULL) {
            if (s.n == TM_OUTBOUND_MAX_DOMAINS) {
                snprintf(err, errlen, "%s:%zu: more than %u domains for %s", path, lineno,
                         TM_OUTBOUND_MAX_DOMAINS, s.login);
                goto fail_sub;
            }
            s.domains = tm_xrealloc(s.domains, (s.n + 1) * sizeof(*s.domains));
            s.domains[s.n] = tm_xstrdup(tok);
            if (!norm_domain(s.domains[s.n])) {
                snprintf(err, errlen, "%s:%zu: '%.200s' is not a domain", path, lineno, tok);
                s.n++;
                goto fail_sub;
            }
            s.n++;
        }
        for (i = 0; i < ob->nsubs; i++)
            if (strcmp(ob->subs[i].login, s.login) == 0) {
                snprintf(err, errlen, "%s:%zu: %.200s is listed twice", path, lineno, s.login);
                goto fail_sub;
            }
        if (ob->nsubs == cap) {
            cap = cap ? 2 * cap : 16;
            ob->subs = tm_xrealloc(ob->subs, cap * sizeof(*ob->subs));
        }
        ob->subs[ob->nsubs++] = s;
        continue;
    fail_sub:
        for (i = 0; i < s.n; i++)
            tm_free(s.domains[i]);
        tm_free(s.domains);
        tm_free(s.login);
        goto fail;
    }
    tm_free(text);
    if (ob->nsubs > 0)
        qsort(ob->subs, ob->nsubs, sizeof(*ob->subs), cmp_sub);
    ob->has_policy = 1;
    return TM_OK;
fail:
    tm_free(text);
    return TM_EINVAL;
}

/* parse_signer - "DOMAIN SELECTOR KEYFILE" */
static tm_rc
parse_signer(const char *spec, const char *what, struct signer *s, char *err, size_t errlen)
{
    char buf[4096 + 512], *save = NULL, *d, *sel, *file, *extra;
    char e[256];
    tm_rc rc;

    memset(s, 0, sizeof(*s));
    if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf)) {
        snprintf(err, errlen, "%s: too long", what);
        return TM_EINVAL;
    }
    d = strtok_r(buf, " \t", &save);
    sel = strtok_r(NULL, " \t", &save);
    file = strtok_r(NULL, " \t", &save);
    extra = strtok_r(NULL, " \t", &save);
    if (d == NULL || sel == NULL || file == NULL || extra != NULL) {
        snprintf(err, errlen, "%s: '%.200s': expected DOMAIN SELECTOR KEYFILE", what, spec);
        return TM_EINVAL;
    }
    if (!norm_domain(d) || d[0] == '*' || strlen(sel) > 63) {
        snprintf(err, errlen, "%s: '%.200s': bad domain or selector", what, spec);
        return TM_EINVAL;
    }
    if ((rc = tm_dkim_key_load(file, &s->key, e, sizeof(e))) != TM_OK) {
        snprintf(err, errlen, "%s: %s", what, e);
        return rc;
    }
    s->domain = tm_xstrdup(d);
    s->selector = tm_xstrdup(sel);
    return TM_OK;
}

static void
signer_free(struct signer *s)
{
    tm_dkim_key_free(s->key);
    tm_free(s->domain);
    tm_free(s->selector);
}

tm_rc
tm_outbound_new(const struct tm_outbound_opts *o, struct tm_outbound **out, char *err,
                size_t errlen)
{
    struct tm_outbound *ob;
    size_t i;
    tm_rc rc;

    *out = NULL;
    if (o->sender_domains == NULL && o->ndkim_keys == 0 && o->arc_seal == NULL && !o->auth_results)
        return TM_OK;
    if (o->ndkim_keys > TM_OUTBOUND_MAX_KEYS) {
        snprintf(err, errlen, "dkim_sign: more than %u keys", TM_OUTBOUND_MAX_KEYS);
        return TM_EINVAL;
    }
    ob = tm_xcalloc(1, sizeof(*ob));
    ob->hcanon = ob->bcanon = TM_DKIM_RELAXED;
    ob->sign_all = o->dkim_sign_all;
    ob->auth_results = o->auth_results;
    ob->authserv_id = tm_xstrdup(o->authserv_id ? o->authserv_id : "tamis");
    if (o->dkim_headers != NULL)
        ob->headers = tm_xstrdup(o->dkim_headers);
    if (o->dkim_canon != NULL && tm_dkim_canon_parse(o->dkim_canon, &ob->hcanon, &ob->bcanon) != 0) {
        snprintf(err, errlen, "dkim_sign_canon: '%.100s': expected relaxed/relaxed, "
                 "relaxed/simple, simple/relaxed or simple/simple", o->dkim_canon);
        rc = TM_EINVAL;
        goto fail;
    }
    if (o->sender_domains != NULL && (rc = load_map(ob, o->sender_domains, err, errlen)) != TM_OK)
        goto fail;
    ob->signers = tm_xcalloc(o->ndkim_keys ? o->ndkim_keys : 1, sizeof(*ob->signers));
    for (i = 0; i < o->ndkim_keys; i++) {
        size_t k, same = 0;
        if ((rc = parse_signer(o->dkim_keys[i], "dkim_sign", &ob->signers[i], err, errlen)) != TM_OK)
            goto fail;
        ob->nsigners++;
        for (k = 0; k < i; k++)
            if (strcmp(ob->signers[k].domain, ob->signers[i].domain) == 0)
                same++;
        if (same >= TM_OUTBOUND_MAX_KEYS_DOMAIN) {
            snprintf(err, errlen, "dkim_sign: more than %u keys for %s",
                     TM_OUTBOUND_MAX_KEYS_DOMAIN, ob->signers[i].domain);
            rc = TM_EINVAL;
            goto fail;
        }
    }
    if (o->arc_seal != NULL) {
        if ((rc = parse_signer(o->arc_seal, "arc_seal", &ob->seal, err, errlen)) != TM_OK)
            goto fail;
        ob->has_seal = 1;
    }
    *out = ob;
    return TM_OK;
fail:
    tm_outbound_free(ob);
    return rc;
}

void
tm_outbound_free(struct tm_outbound *ob)
{
    size_t i, k;

    if (ob == NULL)
        return;
    for (i = 0; i < ob->nsubs; i++) {
        for (k = 0; k < ob->subs[i].n; k++)
            tm_free(ob->subs[i].domains[k]);
        tm_free(ob->subs[i].domains);
        tm_free(ob->subs[i].login);
    }
    tm_free(ob->subs);
    for (i = 0; i < ob->nsigners; i++)
        signer_free(&ob->signers[i]);
    tm_free(ob->signers);
    if (ob->has_seal)
        signer_free(&ob->seal);
    tm_free((void *)(uintptr_t)ob->headers);
    tm_free(ob->authserv_id);
    tm_free(ob);
}

int
tm_outbound_has_policy(const struct tm_outbound *ob)
{
    return ob != NULL && ob->has_policy;
}

/* ---- the policy ---------------------------------------------------------------- */

static const struct submitter *
find_sub(const struct tm_outbound *ob, const char *user)
{
    struct submitter key;
    char buf[512];

    if (snprintf(buf, sizeof(buf), "%s", user) >= (int)sizeof(buf) || ob->nsubs == 0)
        return NULL;
    lower(buf);
    key.login = buf;
    return bsearch(&key, ob->subs, ob->nsubs, sizeof(*ob->subs), cmp_sub);
}

/* domain_in - is d (any case, optional trailing dot) one of s's domains */
static int
domain_in(const struct submitter *s, const char *d)
{
    char buf[256];
    size_t i, n;

    if (snprintf(buf, sizeof(buf), "%s", d) >= (int)sizeof(buf))
        return 0;
    lower(buf);
    n = strlen(buf);
    if (n > 0 && buf[n - 1] == '.')
        buf[--n] = '\0';
    for (i = 0; i < s->n; i++) {
        const char *e = s->domains[i];
        if (e[0] == '*') { /* "*.d": a proper subdomain of d */
            size_t el = strlen(e + 1);
            if (n > el && strcmp(buf + n - el, e + 1) == 0)
                return 1;
        } else if (strcmp(buf, e) == 0) {
            return 1;
        }
    }
    return 0;
}

int
tm_outbound_sender_ok(const struct tm_outbound *ob, const char *user, const char *domain)
{
    const struct submitter *s;

    if (!tm_outbound_has_policy(ob))
        return 1;
    s = find_sub(ob, user);
    return s != NULL && domain != NULL && domain_in(s, domain);
}

/* from_domain - the RFC5322.From domain, or NULL (none, several, unparsable) */
static tm_rc
from_domain(struct tm_task *t, const char **out)
{
    const char *from = tm_mime_root_header(t, "from"), *d = NULL;
    enum tm_dmarc_from_status st = TM_DMARC_FROM_NONE;
    tm_rc rc;

    *out = NULL;
    if (t->auth != NULL && t->auth->ran) {
        *out = t->auth->from_domain;
        return TM_OK;
    }
    if (from == NULL)
        return TM_OK;
    if ((rc = tm_dmarc_from_domain(t->arena, (const unsigned char *)from, strlen(from), &d, &st)) !=
        TM_OK)
        return rc;
    *out = st == TM_DMARC_FROM_OK ? d : NULL;
    return TM_OK;
}

static tm_rc
refuse(struct tm_task *t, const char *user, const char *what, const char *domain,
       struct tm_verdict *v)
{
    const char **opt = tm_arena_calloc(t->arena, 1, sizeof(*opt));
    char buf[600], rep[400];
    const char *reply;

    if (opt == NULL)
        return TM_ENOMEM;
    snprintf(buf, sizeof(buf), "%.200s: %s %.253s", user, what, domain ? domain : "(none)");
    if (domain != NULL)
        snprintf(rep, sizeof(rep), "550 5.7.1 Sender domain %.253s is not verified for this account",
                 domain);
    else
        snprintf(rep, sizeof(rep), "550 5.7.1 The From header must name one sender domain");
    if ((opt[0] = tm_arena_strdup(t->arena, buf)) == NULL ||
        (reply = tm_arena_strdup(t->arena, rep)) == NULL)
        return TM_ENOMEM;
    return tm_verdict_force(t, TM_ACT_REJECT, TM_SYM_SENDER_UNVERIFIED,
                            "the sender domain is not verified for the authenticated submitter",
                            opt, 1, reply, v);
}

static tm_rc
policy(const struct tm_outbound *ob, struct tm_task *t, const struct tm_auth_env *env,
       const char *fdom, struct tm_verdict *v)
{
    const struct submitter *s;
    const char *edom;

    if (!ob->has_policy || env == NULL || env->user == NULL || env->user[0] == '\0')
        return TM_OK;
    s = find_sub(ob, env->user);
    if (fdom == NULL)
        return refuse(t, env->user, "From", NULL, v);
    if (s == NULL || !domain_in(s, fdom))
        return refuse(t, env->user, "From", fdom, v);
    edom = tm_auth_mail_from_domain(t->arena, env->mail_from);
    if (edom != NULL && !domain_in(s, edom))
        return refuse(t, env->user, "MAIL FROM", edom, v);
    return TM_OK;
}

/* ---- the fields ---------------------------------------------------------------- */

/*
 * add_fields - split text ("Name: value\r\n\tmore\r\nName2: ...") into
 * fields and append them to v->prepend, in order.
 */
static tm_rc
add_fields(struct tm_task *t, const char *text, size_t len, struct tm_verdict *v)
{
    size_t i = 0;

    while (i < len) {
        size_t s = i, colon, e;
        struct tm_verdict_header *h;
        /* the field ends at a line end not followed by a blank */
        for (e = i; e < len; e++)
            if (text[e] == '\n' && !(e + 1 < len && (text[e + 1] == ' ' || text[e + 1] == '\t')))
                break;
        i = e < len ? e + 1 : len;
        if (e > s && text[e - 1] == '\r')
            e--;
        for (colon = s; colon < e && text[colon] != ':'; colon++)
            ;
        if (colon == e || colon == s)
            continue;
        if (v->nprepend == TM_VERDICT_MAX_PREPEND)
            return TM_OK; /* cannot happen with 2 keys a domain and one seal; never an error */
        h = &v->prepend[v->nprepend];
        if ((h->name = tm_arena_strndup(t->arena, text + s, colon - s)) == NULL)
            return TM_ENOMEM;
        colon++;
        if (colon < e && text[colon] == ' ')
            colon++;
        if ((h->value = tm_arena_strndup(t->arena, text + colon, e - colon)) == NULL)
            return TM_ENOMEM;
        v->nprepend++;
    }
    return TM_OK;
}

/* crlf_fold - s with every bare LF made CRLF (the AR text folds with "\n\t") */
static char *
crlf_fold(struct tm_arena *a, const char *s)
{
    size_t n = strlen(s), k = 0, i;
    char *o = tm_arena_alloc(a, 2 * n + 1);

    if (o == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            o[k++] = '\r';
        o[k++] = s[i];
    }
    o[k] = '\0';
    return o;
}

/* one_line - the AR resinfo list (after the authserv-id and ';') on one line */
static char *
one_line(struct tm_arena *a, const char *ar)
{
    const char *p = strchr(ar, ';');
    char *o, *w;

    if (p == NULL)
        return tm_arena_strdup(a, "none");
    p++;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if ((o = tm_arena_strdup(a, p)) == NULL)
        return NULL;
    for (w = o; *w; w++)
        if (*w == '\r' || *w == '\n' || *w == '\t')
            *w = ' ';
    return o;
}

static enum tm_arc_cv
cv_of(const struct tm_auth_report *r)
{
    if (r->arc != NULL && strcmp(r->arc, "pass") == 0)
        return TM_ARC_PASS;
    if (r->arc != NULL && strcmp(r->arc, "fail") == 0)
        return TM_ARC_FAIL;
    return TM_ARC_NONE;
}

/* text_of - the prepended fields so far as message text (CRLF), for the seal to cover */
static char *
text_of(struct tm_arena *a, const struct tm_verdict *v, size_t *len)
{
    size_t i, n = 0, k = 0;
    char *o;

    for (i = 0; i < v->nprepend; i++)
        n += strlen(v->prepend[i].name) + 2 + strlen(v->prepend[i].value) + 2;
    if ((o = tm_arena_alloc(a, n + 1)) == NULL)
        return NULL;
    for (i = 0; i < v->nprepend; i++)
        k += (size_t)snprintf(o + k, n + 1 - k, "%s: %s\r\n", v->prepend[i].name,
                              v->prepend[i].value);
    *len = k;
    return o;
}

static tm_rc
seal(const struct tm_outbound *ob, struct tm_task *t, const unsigned char *msg, size_t len,
     struct tm_verdict *v)
{
    struct tm_arc_seal_opts so;
    struct tm_verdict below = *v;
    const unsigned char *m = msg;
    char *pre, *out = NULL, err[256];
    size_t plen = 0, outlen = 0, i;
    tm_rc rc;

    tm_arc_seal_opts_default(&so);
    so.domain = ob->seal.domain;
    so.selector = ob->seal.selector;
    so.key = ob->seal.key;
    so.authserv_id = ob->authserv_id;
    so.cv = cv_of(t->auth);
    if (t->auth->ar != NULL && (so.results = one_line(t->arena, t->auth->ar)) == NULL)
        return TM_ENOMEM;
    if (v->nprepend > 0) { /* the seal covers what this hop adds below it */
        unsigned char *buf;
        if ((pre = text_of(t->arena, v, &plen)) == NULL ||
            (buf = tm_arena_alloc(t->arena, plen + len + 1)) == NULL)
            return TM_ENOMEM;
        memcpy(buf, pre, plen);
        memcpy(buf + plen, msg, len);
        m = buf;
    }
    rc = tm_arc_seal(t->arena, m, plen + len, &so, &out, &outlen, err, sizeof(err));
    if (rc == TM_ENOMEM)
        return rc;
    if (rc != TM_OK)
        return TM_OK; /* a chain that cannot be extended (50 sets, no From): not sealed */
    v->nprepend = 0;
    if ((rc = add_fields(t, out, outlen, v)) != TM_OK)
        return rc;
    for (i = 0; i < below.nprepend && v->nprepend < TM_VERDICT_MAX_PREPEND; i++)
        v->prepend[v->nprepend++] = below.prepend[i];
    return TM_OK;
}

static tm_rc
sign(const struct tm_outbound *ob, struct tm_task *t, const char *fdom,
     const unsigned char *msg, size_t len, struct tm_verdict *v)
{
    struct tm_verdict_header keep[TM_VERDICT_MAX_PREPEND];
    size_t nkeep = v->nprepend, i;
    char lfdom[256];
    tm_rc rc;

    if (snprintf(lfdom, sizeof(lfdom), "%s", fdom) >= (int)sizeof(lfdom))
        return TM_OK;
    lower(lfdom);
    memcpy(keep, v->prepend, nkeep * sizeof(*keep));
    v->nprepend = 0;
    for (i = 0; i < ob->nsigners; i++) {
        struct tm_dkim_sign_opts so;
        char *out = NULL, err[256];
        size_t outlen = 0;
        if (strcmp(ob->signers[i].domain, lfdom) != 0)
            continue;
        tm_dkim_sign_opts_default(&so);
        so.domain = ob->signers[i].domain;
        so.selector = ob->signers[i].selector;
        so.key = ob->signers[i].key;
        so.headers = ob->headers;
        so.hcanon = ob->hcanon;
        so.bcanon = ob->bcanon;
        rc = tm_dkim_sign(t->arena, msg, len, &so, &out, &outlen, err, sizeof(err));
        if (rc == TM_ENOMEM)
            return rc;
        if (rc == TM_OK && (rc = add_fields(t, out, outlen, v)) != TM_OK)
            return rc;
    }
    for (i = 0; i < nkeep && v->nprepend < TM_VERDICT_MAX_PREPEND; i++)
        v->prepend[v->nprepend++] = keep[i];
    return TM_OK;
}

/* claims - does this Authentication-Results value name `id` as its authserv-id */
static int
claims(const struct tm_str *val, const char *id)
{
    const char *p = (const char *)val->p, *e = p + val->len, *s;
    size_t n = strlen(id);
    int depth = 0;

    /* skip blanks, line ends and (nested) comments before the authserv-id */
    for (; p < e; p++) {
        if (*p == '(')
            depth++;
        else if (*p == ')' && depth > 0)
            depth--;
        else if (depth == 0 && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            break;
    }
    for (s = p; p < e && *p != ';' && *p != ' ' && *p != '\t' && *p != '(' && *p != '\r' &&
                *p != '\n';
         p++)
        ;
    return (size_t)(p - s) == n && n > 0 && strncasecmp(s, id, n) == 0;
}

/* forged_results - the message's Authentication-Results fields that claim our authserv-id */
static void
forged_results(const struct tm_outbound *ob, struct tm_task *t, struct tm_verdict *v)
{
    const struct tm_mime_part *root = t->msg != NULL ? t->msg->root : NULL;
    const struct tm_mime_header *h;
    size_t i;

    for (i = 0; root != NULL && v->nremove_ar < TM_VERDICT_MAX_REMOVE &&
                (h = tm_mime_header_find(root, "authentication-results", i)) != NULL;
         i++)
        if (claims(&h->value, ob->authserv_id))
            v->remove_ar[v->nremove_ar++] = (unsigned)(i + 1);
}

tm_rc
tm_outbound_apply(const struct tm_outbound *ob, struct tm_task *t, const struct tm_auth_env *env,
                  const unsigned char *msg, size_t len, struct tm_verdict *v)
{
    const struct tm_auth_report *r = t->auth;
    const char *fdom = NULL;
    int ran = r != NULL && r->ran;
    tm_rc rc;

    v->nprepend = v->nremove_ar = 0;
    if (ob == NULL)
        return TM_OK;
    if ((rc = from_domain(t, &fdom)) != TM_OK || (rc = policy(ob, t, env, fdom, v)) != TM_OK)
        return rc;
    if (v->action == TM_ACT_SOFT_REJECT || v->action == TM_ACT_REJECT ||
        v->action == TM_ACT_DISCARD)
        return TM_OK;
    /* built bottom-up: results, then signatures above them, then the seal on top */
    if (ob->auth_results && ran && r->ar != NULL) {
        forged_results(ob, t, v);
        char *ar = crlf_fold(t->arena, r->ar);
        if (ar == NULL)
            return TM_ENOMEM;
        v->prepend[0].name = "Authentication-Results";
        v->prepend[0].value = ar;
        v->nprepend = 1;
    }
    if (fdom != NULL && ob->nsigners > 0 &&
        (ob->sign_all || (env != NULL && env->user != NULL && env->user[0] != '\0')) &&
        (rc = sign(ob, t, fdom, msg, len, v)) != TM_OK)
        return rc;
    if (ob->has_seal && ran && (rc = seal(ob, t, msg, len, v)) != TM_OK)
        return rc;
    return TM_OK;
}
