/*
 * resolve.c - RFC 3986 section 5.2 reference resolution for <base href>:
 * scheme-relative (//host), absolute-path, relative-path (merge, 5.2.3),
 * query-only and fragment-only references, with remove_dot_segments
 * (5.2.4). No normalisation beyond that (no case folding, no percent
 * decoding): the url stage does that.
 *
 * The output is at most base.len + ref.len + 2 bytes, written once into an
 * arena block of that size; every loop is linear in its input.
 */
#include "html/html_int.h"

#include <string.h>

#include "core/arena.h"

struct uri {
    struct tm_str scheme, auth, path, query; /* query includes '?', empty when absent */
    int has_auth;
};

/* scheme_len - length of "scheme" before ':' at p, 0 when p has no scheme */
static size_t
scheme_len(const unsigned char *p, size_t n)
{
    size_t i;

    if (n == 0 || !((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z'))
        return 0;
    for (i = 1; i < n; i++) {
        unsigned char c = p[i];
        if (c == ':')
            return i;
        if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9') && c != '+' &&
            c != '-' && c != '.')
            return 0;
    }
    return 0;
}

/* split - the components of an absolute URI or a reference (fragment dropped) */
static void
split(struct tm_str s, struct uri *u)
{
    size_t i = 0, k, e;

    memset(u, 0, sizeof(*u));
    if ((k = scheme_len(s.p, s.len)) > 0) {
        u->scheme = tm_str_make(s.p, k);
        i = k + 1;
    }
    e = i;
    while (e < s.len && s.p[e] != '#')
        e++;
    if (e - i >= 2 && s.p[i] == '/' && s.p[i + 1] == '/') {
        u->has_auth = 1;
        k = i + 2;
        while (k < e && s.p[k] != '/' && s.p[k] != '?')
            k++;
        u->auth = tm_str_make(s.p + i + 2, k - i - 2);
        i = k;
    }
    k = i;
    while (k < e && s.p[k] != '?')
        k++;
    u->path = tm_str_make(s.p + i, k - i);
    u->query = tm_str_make(s.p + k, e - k);
}

static void
put(unsigned char *o, size_t *n, const void *p, size_t len)
{
    if (len > 0)
        memcpy(o + *n, p, len);
    *n += len;
}

/* drop_seg - remove the last segment and its preceding '/' from the output path */
static void
drop_seg(const unsigned char *o, size_t start, size_t *n)
{
    while (*n > start && o[*n - 1] != '/')
        (*n)--;
    if (*n > start)
        (*n)--;
}

/* remove_dots - RFC 3986 5.2.4 on p[0..len) appended to o at *n */
static void
remove_dots(const unsigned char *p, size_t len, unsigned char *o, size_t *n)
{
    size_t i = 0, start = *n;

    while (i < len) {
        size_t r = len - i;
        const unsigned char *q = p + i;
        if (r >= 3 && memcmp(q, "../", 3) == 0) {
            i += 3;
        } else if (r >= 2 && memcmp(q, "./", 2) == 0) {
            i += 2;
        } else if (r >= 3 && memcmp(q, "/./", 3) == 0) {
            i += 2;
        } else if (r == 2 && memcmp(q, "/.", 2) == 0) {
            put(o, n, "/", 1);
            i += 2;
        } else if (r >= 4 && memcmp(q, "/../", 4) == 0) {
            drop_seg(o, start, n);
            i += 3;
        } else if (r == 3 && memcmp(q, "/..", 3) == 0) {
            drop_seg(o, start, n);
            put(o, n, "/", 1);
            i += 3;
        } else if ((r == 1 && q[0] == '.') || (r == 2 && q[0] == '.' && q[1] == '.')) {
            i = len;
        } else {
            size_t s = i++;
            while (i < len && p[i] != '/')
                i++;
            put(o, n, p + s, i - s);
        }
    }
}

tm_rc
tm_html_resolve(struct tm_arena *a, struct tm_str base, struct tm_str ref, struct tm_str *out)
{
    struct uri b, r;
    const unsigned char *frag;
    size_t flen, n = 0, k;
    unsigned char *o;

    *out = ref;
    if (scheme_len(ref.p, ref.len) > 0 || scheme_len(base.p, base.len) == 0)
        return TM_OK;
    if (base.len > ((size_t)-1) / 4 || ref.len > ((size_t)-1) / 4)
        return TM_OK;
    split(base, &b);
    split(ref, &r);
    frag = memchr(ref.p, '#', ref.len);
    flen = frag ? ref.len - (size_t)(frag - ref.p) : 0;
    if ((o = tm_arena_alloc(a, base.len + ref.len + 2)) == NULL)
        return TM_ENOMEM;
    put(o, &n, b.scheme.p, b.scheme.len);
    put(o, &n, ":", 1);
    if (r.has_auth) {
        put(o, &n, "//", 2);
        put(o, &n, r.auth.p, r.auth.len);
        remove_dots(r.path.p, r.path.len, o, &n);
        put(o, &n, r.query.p, r.query.len);
    } else {
        if (b.has_auth) {
            put(o, &n, "//", 2);
            put(o, &n, b.auth.p, b.auth.len);
        }
        if (r.path.len == 0) {
            put(o, &n, b.path.p, b.path.len);
            if (r.query.len > 0)
                put(o, &n, r.query.p, r.query.len);
            else
                put(o, &n, b.query.p, b.query.len);
        } else if (r.path.p[0] == '/') {
            remove_dots(r.path.p, r.path.len, o, &n);
            put(o, &n, r.query.p, r.query.len);
        } else {
            /* 5.2.3 merge: the base path up to its last '/', then the reference path */
            unsigned char *m = tm_arena_alloc(a, b.path.len + r.path.len + 2);
            size_t mn = 0;
            if (m == NULL)
                return TM_ENOMEM;
            if (b.has_auth && b.path.len == 0) {
                put(m, &mn, "/", 1);
            } else {
                for (k = b.path.len; k > 0 && b.path.p[k - 1] != '/'; k--)
                    ;
                put(m, &mn, b.path.p, k);
            }
            put(m, &mn, r.path.p, r.path.len);
            remove_dots(m, mn, o, &n);
            put(o, &n, r.query.p, r.query.len);
        }
    }
    put(o, &n, frag, flen);
    *out = tm_str_make(o, n);
    return TM_OK;
}
