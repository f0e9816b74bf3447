/*
 * dkim_sign.c - the pieces of signing that DKIM-Signature and ARC share:
 * the h= list (every present instance, then the over-signed names), the
 * body hash, a header field generator that folds at TM_DKIM_MAX_LINE
 * columns between tags (and between h= names, and inside b=), the final
 * signature, and the safe rendering of values for Authentication-Results.
 *
 * Every generated field is capped at GEN_MAX bytes (tm_buf).
 */
#include <stdio.h>
#include <string.h>

#include "auth/dkim_int.h"
#include "core/arena.h"
#include "core/str.h"

#define GEN_MAX (64u * 1024u) /* bytes of one generated field */

static int
is_fws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

tm_rc
dkim_gen_start(struct dkim_gen *g, struct tm_arena *a, const char *name)
{
    tm_buf_init(&g->b, a, GEN_MAX);
    g->col = strlen(name) + 1;
    if (tm_buf_append(&g->b, name, strlen(name)) != TM_OK || tm_buf_putc(&g->b, ':') != TM_OK)
        return TM_ENOMEM;
    return TM_OK;
}

tm_rc
dkim_gen_piece(struct dkim_gen *g, const char *p, size_t n, int space)
{
    tm_rc rc;

    if (g->col > 1 && g->col + (space ? 1u : 0u) + n > TM_DKIM_MAX_LINE) {
        if ((rc = tm_buf_append(&g->b, "\r\n ", 3)) != TM_OK)
            return rc;
        g->col = 1;
    } else if (space) {
        if ((rc = tm_buf_putc(&g->b, ' ')) != TM_OK)
            return rc;
        g->col++;
    }
    if ((rc = tm_buf_append(&g->b, p, n)) != TM_OK)
        return rc;
    g->col += n;
    return TM_OK;
}

tm_rc
dkim_gen_tag(struct dkim_gen *g, const char *name, const char *val)
{
    char piece[TM_DKIM_MAX_LINE + 8];
    const char *c;
    int first = 1;
    tm_rc rc;

    if (strcmp(name, "h") != 0) {
        size_t n = strlen(name), v = strlen(val);
        char *tmp = tm_arena_alloc(g->b.arena, n + v + 2);

        if (tmp == NULL)
            return TM_ENOMEM;
        memcpy(tmp, name, n);
        tmp[n] = '=';
        memcpy(tmp + n + 1, val, v);
        tmp[n + v + 1] = ';';
        return dkim_gen_piece(g, tmp, n + v + 2, 1);
    }
    /* h=: one piece per name, so the folds fall after a colon */
    do {
        size_t len;

        c = strchr(val, ':');
        len = c != NULL ? (size_t)(c - val) : strlen(val);
        if (len > TM_DKIM_MAX_LINE)
            return TM_EINVAL;
        (void)snprintf(piece, sizeof(piece), "%s%.*s%c", first ? "h=" : "", (int)len, val,
                       c != NULL ? ':' : ';');
        if ((rc = dkim_gen_piece(g, piece, strlen(piece), first)) != TM_OK)
            return rc;
        first = 0;
        val = c != NULL ? c + 1 : val + len;
    } while (c != NULL);
    return TM_OK;
}

tm_rc
dkim_gen_bvalue(struct dkim_gen *g, const char *b64)
{
    size_t left = strlen(b64), room, n;
    tm_rc rc;

    while (left > 0) {
        room = g->col < TM_DKIM_MAX_LINE ? TM_DKIM_MAX_LINE - g->col : 0;
        if (room < 8) {
            if ((rc = tm_buf_append(&g->b, "\r\n ", 3)) != TM_OK)
                return rc;
            g->col = 1;
            continue;
        }
        n = left < room ? left : room;
        if ((rc = tm_buf_append(&g->b, b64, n)) != TM_OK)
            return rc;
        g->col += n;
        b64 += n;
        left -= n;
    }
    return tm_buf_append(&g->b, "\r\n", 2);
}

/* next_item - the next name of a colon-separated list, trimmed; 0 at the end */
static int
next_item(const char **pp, const char **s, size_t *n)
{
    const char *p = *pp, *e;

    if (p == NULL)
        return 0;
    for (;;) {
        e = strchr(p, ':');
        if (e == NULL)
            e = p + strlen(p);
        *s = p;
        *n = (size_t)(e - p);
        while (*n > 0 && is_fws((unsigned char)**s)) {
            (*s)++;
            (*n)--;
        }
        while (*n > 0 && is_fws((unsigned char)(*s)[*n - 1]))
            (*n)--;
        *pp = *e == ':' ? e + 1 : NULL;
        if (*n > 0)
            return 1;
        if (*pp == NULL)
            return 0;
        p = *pp;
    }
}

/* item_seen - the same name (case-insensitive) came earlier in the list */
static int
item_seen(const char *list, const char *s, size_t n)
{
    const char *p = list, *is;
    size_t in;

    while (next_item(&p, &is, &in) && is < s)
        if (in == n && tm_mem_ieq(is, s, n))
            return 1;
    return 0;
}

static tm_rc
put_name(struct tm_buf *b, const char *s, size_t n, size_t *count)
{
    size_t i;

    if (++*count > TM_DKIM_MAX_SIGNED)
        return TM_ELIMIT;
    if (b->len > 0 && tm_buf_putc(b, ':') != TM_OK)
        return TM_ENOMEM;
    for (i = 0; i < n; i++)
        if (tm_buf_putc(b, tm_lower((unsigned char)s[i])) != TM_OK)
            return TM_ENOMEM;
    return TM_OK;
}

/*
 * dkim_sign_hlist - each listed name as many times as the message has it
 * (so every instance is signed, bottom-up), then the over-signed names once
 * more. From must be listed and present (RFC 6376 5.4). A message whose
 * first line is folded (starts with WSP) is not signed: the field put on
 * top of it would take that line in and no longer verify.
 */
tm_rc
dkim_sign_hlist(struct tm_arena *a, const struct dkim_msg *m, const char *headers,
                const char *oversign, char **hnames, char *err, size_t errlen)
{
    const char *list = headers != NULL ? headers : TM_DKIM_DEFAULT_HEADERS;
    const char *ov = oversign != NULL ? oversign : "from";
    const char *p, *s;
    struct tm_buf b;
    size_t n, i, j, count = 0, from = 0;
    tm_rc rc;

    if (m->len > 0 && (m->buf[0] == ' ' || m->buf[0] == '\t')) {
        (void)snprintf(err, errlen,
                       "the message starts with a folded line (a field added on "
                       "top would take it in)");
        return TM_EINVAL;
    }
    tm_buf_init(&b, a, GEN_MAX);
    for (p = list; next_item(&p, &s, &n);) {
        for (i = 0; i < n; i++) {
            if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f) {
                (void)snprintf(err, errlen, "bad header name in the list");
                return TM_EINVAL;
            }
        }
        if (item_seen(list, s, n))
            continue;
        for (j = 0; j < m->nf; j++) {
            if (!dkim_field_name_eq(&m->f[j], (const unsigned char *)s, n))
                continue;
            if (n == 4 && tm_mem_ieq(s, "from", 4))
                from++;
            if ((rc = put_name(&b, s, n, &count)) != TM_OK)
                goto bad;
        }
    }
    for (p = ov; next_item(&p, &s, &n);) {
        if (item_seen(ov, s, n))
            continue;
        if ((rc = put_name(&b, s, n, &count)) != TM_OK)
            goto bad;
    }
    if (from == 0) {
        (void)snprintf(err, errlen, "no From field to sign (it must be listed and present)");
        return TM_EINVAL;
    }
    if (tm_buf_cstr(&b) == NULL)
        return TM_ENOMEM;
    *hnames = (char *)b.data;
    return TM_OK;
bad:
    if (rc == TM_ELIMIT) {
        (void)snprintf(err, errlen, "more than %u header fields to sign", TM_DKIM_MAX_SIGNED);
        return TM_EINVAL;
    }
    return rc;
}

tm_rc
dkim_sign_bh(struct tm_arena *a, const struct dkim_msg *m, enum tm_dkim_alg alg,
             enum tm_dkim_canon bc, char **b64, uint64_t *total)
{
    struct dkim_hash *h = dkim_hash_new(alg);
    unsigned char d[DKIM_MAX_HASH];
    size_t n;

    if (h == NULL)
        return TM_ENOMEM;
    *total = dkim_canon_body(bc, m->body, m->bodylen, dkim_hash_put, h);
    n = dkim_hash_final(h, d);
    dkim_hash_free(h);
    if (n == 0 || (*b64 = tm_arena_alloc(a, DKIM_B64_LEN(n))) == NULL)
        return TM_ENOMEM;
    (void)dkim_b64_encode(d, n, *b64);
    return TM_OK;
}

tm_rc
dkim_sign_finish(struct tm_arena *a, struct dkim_gen *g, enum tm_dkim_canon hc, struct dkim_hash *h,
                 const struct tm_dkim_key *key, enum tm_dkim_alg alg, char *err, size_t errlen)
{
    unsigned char hash[DKIM_MAX_HASH], sig[TM_DKIM_MAX_SIG_BYTES];
    size_t hlen, slen;
    char *b64;

    dkim_canon_header(hc, g->b.data, g->b.len, 0, dkim_hash_put, h);
    hlen = dkim_hash_final(h, hash);
    if (hlen == 0 || dkim_sign_hash(key, alg, hash, hlen, sig, sizeof(sig), &slen) != 0) {
        (void)snprintf(err, errlen, "signing failed (OpenSSL)");
        return TM_EINVAL;
    }
    if ((b64 = tm_arena_alloc(a, DKIM_B64_LEN(slen))) == NULL)
        return TM_ENOMEM;
    (void)dkim_b64_encode(sig, slen, b64);
    return dkim_gen_bvalue(g, b64);
}

tm_rc
dkim_ar_value(struct tm_buf *b, const char *v)
{
    size_t i, n = strlen(v);
    int plain = n > 0;
    tm_rc rc;

    if (n > DKIM_AR_MAX_VALUE)
        n = DKIM_AR_MAX_VALUE;
    for (i = 0; i < n && plain; i++) {
        unsigned char c = (unsigned char)v[i];
        plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                strchr("-._@+/=", c) != NULL;
    }
    if (plain)
        return tm_buf_append(b, v, n);
    if ((rc = tm_buf_putc(b, '"')) != TM_OK)
        return rc;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];

        if (c == '"' || c == '\\')
            rc = tm_buf_putc(b, '\\');
        if (rc == TM_OK)
            rc = tm_buf_putc(b, c >= ' ' && c < 0x7f ? c : '?');
        if (rc != TM_OK)
            return rc;
    }
    return tm_buf_putc(b, '"');
}

tm_rc
dkim_out_lines(struct tm_arena *a, const unsigned char *p, size_t n, int lf, char **out,
               size_t *outlen)
{
    char *o;
    size_t i, k = 0;

    if ((o = tm_arena_alloc(a, n + 1)) == NULL)
        return TM_ENOMEM;
    for (i = 0; i < n; i++) {
        if (lf && p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
            continue;
        o[k++] = (char)p[i];
    }
    o[k] = '\0';
    *out = o;
    *outlen = k;
    return TM_OK;
}
