/*
 * url.c - one URL parsed and written in the normal form of url.h, and the
 * redirector unwrapping.
 *
 * Parsing follows RFC 3986 section 3 with the tolerance of browsers (the
 * WHATWG URL standard's "special" schemes): C0 controls and DEL are
 * stripped anywhere, leading and trailing spaces too; after http:, https:
 * and ftp: any run of '/' and '\' starts the authority ("http:/x",
 * "http:\\x"); '\' ends the authority and counts as '/' in the path; the
 * last '@' of the authority ends the userinfo; "//host" assumes http.
 * Defanged forms (hxxp, h**p, fxp schemes; "[.]", "(dot)" ... in the host;
 * "[:]" after the scheme) are undone and flagged, so extraction and
 * normalisation agree.
 *
 * Limits: TM_URL_MAX_LEN bytes of input are looked at and the normal form
 * is cut to TM_URL_MAX_LEN (flag CUT), never inside a %XX escape; hosts
 * are bounded by TM_URL_MAX_HOST (host.c).
 */
#include "url/url.h"

#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "url/url_int.h"

struct scheme_info {
    const char *name;
    unsigned port;
    int special;
};

static const struct scheme_info schemes[] = {
    {"http", 80, 1}, {"https", 443, 1}, {"ftp", 21, 1}, {"ws", 80, 1}, {"wss", 443, 1},
};

/* Defanged scheme spellings and what they stand for. */
static const struct {
    const char *from, *to;
} defanged[] = {
    {"hxxp", "http"}, {"hxxps", "https"}, {"h**p", "http"},    {"h**ps", "https"},
    {"hxtp", "http"}, {"hxtps", "https"}, {"htxp", "http"},    {"htxps", "https"},
    {"fxp", "ftp"},   {"hxxxp", "http"},  {"hxxxps", "https"},
};

size_t
tm_url_defang_at(const unsigned char *p, size_t n)
{
    if (n >= 3 && ((p[0] == '[' && p[1] == '.' && p[2] == ']') ||
                   (p[0] == '(' && p[1] == '.' && p[2] == ')') ||
                   (p[0] == '{' && p[1] == '.' && p[2] == '}')))
        return 3;
    if (n >= 5 && (p[0] == '[' || p[0] == '(') && tm_mem_ieq(p + 1, "dot", 3) &&
        p[4] == (p[0] == '[' ? ']' : ')'))
        return 5;
    return 0;
}

static int
is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Parsing state of one URL: the cleaned copy and the parts found in it. */
struct parse {
    unsigned char *c; /* input without controls, trimmed */
    size_t n;
    char scheme[16];
    const struct scheme_info *si;
    size_t rest; /* offset of what follows "scheme:" */
    unsigned flags;
};

/* clean - copy without C0 controls and DEL, leading and trailing spaces dropped */
static tm_rc
clean(struct tm_arena *a, const unsigned char *p, size_t n, struct parse *ps)
{
    size_t i, k = 0;

    if ((ps->c = tm_arena_alloc(a, n + 1)) == NULL)
        return TM_ENOMEM;
    for (i = 0; i < n; i++)
        if (p[i] > 0x20 && p[i] != 0x7f)
            break;
    for (; i < n; i++)
        if (p[i] >= 0x20 && p[i] != 0x7f)
            ps->c[k++] = p[i];
    while (k > 0 && ps->c[k - 1] == ' ')
        k--;
    ps->c[k] = '\0';
    ps->n = k;
    return TM_OK;
}

/* find_scheme - fill ps->scheme and ps->rest; 0 when there is no usable scheme */
static int
find_scheme(struct parse *ps)
{
    const unsigned char *c = ps->c;
    size_t k = 0, i;
    int dot = 0;

    while (k < ps->n && (is_alpha(c[k]) || is_digit(c[k]) || c[k] == '+' || c[k] == '-' ||
                         c[k] == '.' || c[k] == '*')) {
        dot |= c[k] == '.';
        k++;
    }
    if (k == 0 || k >= sizeof(ps->scheme) || !is_alpha(c[0]) || dot || k == ps->n)
        return 0;
    if (c[k] == ':') {
        if ((ps->flags & TM_URLF_SCHEMELESS) && k + 1 < ps->n && is_digit(c[k + 1]))
            return 0; /* "host:8080/..." */
        ps->rest = k + 1;
    } else if (ps->n - k >= 3 && memcmp(c + k, "[:]", 3) == 0) {
        ps->rest = k + 3;
        ps->flags |= TM_URLF_DEFANGED;
    } else if (ps->n - k >= 5 && memcmp(c + k, "[://]", 5) == 0) {
        ps->rest = k + 5;
        ps->flags |= TM_URLF_DEFANGED;
    } else {
        return 0;
    }
    for (i = 0; i < k; i++)
        ps->scheme[i] = (char)tm_lower(c[i]);
    ps->scheme[k] = '\0';
    for (i = 0; i < TM_NELEM(defanged); i++)
        if (strcmp(ps->scheme, defanged[i].from) == 0) {
            memcpy(ps->scheme, defanged[i].to, strlen(defanged[i].to) + 1);
            ps->flags |= TM_URLF_DEFANGED;
            break;
        }
    if (strchr(ps->scheme, '*') != NULL)
        return 0;
    if (ps->rest != k + 1 && !(ps->flags & TM_URLF_DEFANGED))
        return 0;
    return 1;
}

static const struct scheme_info *
scheme_lookup(const char *s)
{
    size_t i;

    for (i = 0; i < TM_NELEM(schemes); i++)
        if (strcmp(s, schemes[i].name) == 0)
            return &schemes[i];
    return NULL;
}

/* put_encoded - append bytes, %XX-encoding those outside printable ASCII; '\' -> '/' if bs */
static tm_rc
put_encoded(struct tm_buf *b, const unsigned char *p, size_t n, int bs)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;
    tm_rc rc;

    for (i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c <= 0x20 || c >= 0x7f) {
            unsigned char e[3] = {'%', (unsigned char)hex[c >> 4], (unsigned char)hex[c & 15]};
            rc = tm_buf_append(b, e, 3);
        } else {
            rc = tm_buf_putc(b, bs && c == '\\' ? '/' : c);
        }
        if (rc != TM_OK)
            return rc;
    }
    return TM_OK;
}

/* parse_port - digits to a port; -1 when not a port */
static long
parse_port(const unsigned char *p, size_t n)
{
    unsigned long v = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return -1;
        v = v * 10 + (unsigned long)(p[i] - '0');
        if (v > 65535)
            return -1;
    }
    return (long)v;
}

/* undefang_auth - copy of the authority without spaces and with defanged dots made '.' */
static unsigned char *
undefang_auth(struct tm_arena *a, const unsigned char *p, size_t n, size_t *outn, unsigned *flags)
{
    unsigned char *o = tm_arena_alloc(a, n + 1);
    size_t i = 0, k = 0, w;

    if (o == NULL)
        return NULL;
    while (i < n) {
        if ((w = tm_url_defang_at(p + i, n - i)) != 0) {
            o[k++] = '.';
            i += w;
            *flags |= TM_URLF_DEFANGED;
        } else if (p[i] == ' ') {
            i++;
        } else {
            o[k++] = p[i++];
        }
    }
    o[k] = '\0';
    *outn = k;
    return o;
}

/* finish - cut the normal form to TM_URL_MAX_LEN (not inside %XX) and NUL-terminate it */
static tm_rc
finish(struct tm_buf *b, struct tm_url *out)
{
    const char *s;

    if (b->len > TM_URL_MAX_LEN) {
        size_t k = TM_URL_MAX_LEN;
        if (b->data[k - 1] == '%')
            k -= 1;
        else if (b->data[k - 2] == '%')
            k -= 2;
        b->len = k;
        out->flags |= TM_URLF_CUT;
    }
    if ((s = tm_buf_cstr(b)) == NULL)
        return TM_ENOMEM;
    out->normalized = tm_str_make(s, b->len);
    return TM_OK;
}

static tm_rc
set_host(struct tm_arena *a, struct tm_url *out, const struct tm_url_host *h)
{
    out->host = tm_str_make(h->ascii, h->len);
    out->host_utf8 = tm_str_make(h->utf8, h->utf8_len);
    out->flags |= h->flags;
    out->domain = tm_url_registrable(a, out->host);
    return out->domain.p == NULL ? TM_ENOMEM : TM_OK;
}

/* do_mailto - "mailto:local@host[?query]": the host is the address's domain */
static tm_rc
do_mailto(struct tm_arena *a, struct parse *ps, struct tm_url *out)
{
    const unsigned char *r = ps->c + ps->rest;
    size_t n = ps->n - ps->rest, e, at, dn;
    struct tm_url_host h;
    struct tm_buf b;
    unsigned char *d;
    tm_rc rc;

    for (e = 0; e < n && r[e] != '?' && r[e] != '#'; e++)
        ;
    for (at = e; at > 0 && r[at - 1] != '@'; at--)
        ;
    if (at <= 1)
        return TM_EINVAL;
    if ((d = undefang_auth(a, r + at, e - at, &dn, &out->flags)) == NULL)
        return TM_ENOMEM;
    if ((rc = tm_url_host_norm(a, d, dn, &h)) != TM_OK)
        return rc;
    if (h.flags & TM_URLF_IP)
        return TM_EINVAL;
    out->flags |= TM_URLF_MAILTO;
    out->userinfo = tm_str_make(r, at - 1);
    tm_buf_init(&b, a, 3 * TM_URL_MAX_LEN + 512);
    if ((rc = tm_buf_append(&b, "mailto:", 7)) != TM_OK ||
        (rc = put_encoded(&b, r, at, 0)) != TM_OK ||
        (rc = tm_buf_append(&b, h.ascii, h.len)) != TM_OK ||
        (rc = put_encoded(&b, r + e, n - e, 0)) != TM_OK)
        return rc == TM_ELIMIT ? TM_EINVAL : rc;
    if ((rc = finish(&b, out)) != TM_OK)
        return rc;
    return set_host(a, out, &h);
}

/* do_hier - scheme "://" authority path: the general case */
static tm_rc
do_hier(struct tm_arena *a, struct parse *ps, struct tm_url *out)
{
    const unsigned char *c = ps->c;
    size_t i = ps->rest, e, at, hs, he, an;
    const unsigned char *auth;
    struct tm_url_host h;
    struct tm_buf b;
    long port = -1;
    tm_rc rc;

    if (ps->si != NULL && ps->si->special) {
        while (i < ps->n && (c[i] == '/' || c[i] == '\\'))
            i++;
    } else {
        if (ps->n - i < 2 || c[i] != '/' || c[i + 1] != '/')
            return TM_EINVAL;
        i += 2;
    }
    for (e = i; e < ps->n && c[e] != '/' && c[e] != '?' && c[e] != '#' &&
                !(c[e] == '\\' && ps->si != NULL);
         e++)
        ;
    if ((auth = undefang_auth(a, c + i, e - i, &an, &out->flags)) == NULL)
        return TM_ENOMEM;
    for (at = an; at > 0 && auth[at - 1] != '@'; at--)
        ;
    if (at > 0) {
        out->flags |= TM_URLF_USERINFO;
        out->userinfo = tm_str_make(auth, at - 1);
    }
    hs = at;
    he = an;
    if (hs < an && auth[hs] == '[') {
        const unsigned char *rb = memchr(auth + hs, ']', an - hs);
        if (rb == NULL)
            return TM_EINVAL;
        he = (size_t)(rb - auth) + 1;
        if (he < an && auth[he] != ':')
            return TM_EINVAL;
    } else {
        const unsigned char *colon = memchr(auth + hs, ':', an - hs);
        if (colon != NULL)
            he = (size_t)(colon - auth);
    }
    if (he < an && (port = parse_port(auth + he + 1, an - he - 1)) < 0)
        return TM_EINVAL;
    if (he == an - 1)
        port = -1; /* "host:" is the default port */
    if ((rc = tm_url_host_norm(a, auth + hs, he - hs, &h)) != TM_OK)
        return rc;
    if (port >= 0 && (ps->si == NULL || (unsigned)port != ps->si->port)) {
        out->port = (unsigned)port;
        out->flags |= TM_URLF_PORT;
    }
    tm_buf_init(&b, a, 3 * TM_URL_MAX_LEN + 512);
    if ((rc = tm_buf_append(&b, ps->scheme, strlen(ps->scheme))) != TM_OK ||
        (rc = tm_buf_append(&b, "://", 3)) != TM_OK ||
        (rc = tm_buf_append(&b, h.ascii, h.len)) != TM_OK)
        return rc;
    if (out->flags & TM_URLF_PORT) {
        char pb[8];
        size_t k = sizeof(pb);
        unsigned v = out->port;
        do {
            pb[--k] = (char)('0' + v % 10);
            v /= 10;
        } while (v > 0);
        pb[--k] = ':';
        if ((rc = tm_buf_append(&b, pb + k, sizeof(pb) - k)) != TM_OK)
            return rc;
    }
    if (e == ps->n || c[e] == '?' || c[e] == '#')
        rc = tm_buf_putc(&b, '/');
    if (rc == TM_OK) {
        size_t q = e;
        while (q < ps->n && c[q] != '?' && c[q] != '#')
            q++;
        if ((rc = put_encoded(&b, c + e, q - e, ps->si != NULL)) == TM_OK)
            rc = put_encoded(&b, c + q, ps->n - q, 0);
    }
    if (rc != TM_OK)
        return rc;
    if ((rc = finish(&b, out)) != TM_OK)
        return rc;
    return set_host(a, out, &h);
}

/* bad - the URL has no usable host: normalized is the raw bytes */
static tm_rc
bad(struct tm_arena *a, const unsigned char *p, size_t n, struct tm_url *out)
{
    char *s;

    out->flags |= TM_URLF_BAD;
    out->flags &= ~(TM_URLF_IP | TM_URLF_IP_OBFUSCATED | TM_URLF_IPV6 | TM_URLF_IDN |
                    TM_URLF_MIXED_SCRIPT | TM_URLF_PORT | TM_URLF_MAILTO);
    out->port = 0;
    if ((s = tm_arena_strndup(a, p, n)) == NULL)
        return TM_ENOMEM;
    out->normalized = tm_str_make(s, n);
    out->host = out->host_utf8 = out->domain = tm_str_make("", 0);
    return TM_OK;
}

tm_rc
tm_url_normalize(struct tm_arena *a, const unsigned char *p, size_t n, unsigned in_flags,
                 struct tm_url *out)
{
    struct parse ps;
    tm_rc rc;

    memset(out, 0, sizeof(*out));
    memset(&ps, 0, sizeof(ps));
    out->raw = tm_str_make(p, n);
    out->userinfo = tm_str_make("", 0);
    out->flags = in_flags & ~(TM_URLF_BAD | TM_URLF_CUT);
    if (n > TM_URL_MAX_LEN) {
        n = TM_URL_MAX_LEN;
        out->flags |= TM_URLF_CUT;
    }
    if ((rc = clean(a, p, n, &ps)) != TM_OK)
        return rc;
    ps.flags = in_flags;
    if (find_scheme(&ps)) {
        ps.si = scheme_lookup(ps.scheme);
    } else if (ps.n >= 2 && ps.c[0] == '/' && ps.c[1] == '/') {
        memcpy(ps.scheme, "http", 5);
        ps.si = &schemes[0];
        ps.rest = 0;
    } else if ((in_flags & TM_URLF_SCHEMELESS) || (ps.n > 4 && tm_mem_ieq(ps.c, "www.", 4))) {
        memcpy(ps.scheme, "http", 5);
        ps.si = &schemes[0];
        ps.rest = 0;
        ps.flags |= TM_URLF_SCHEMELESS;
    } else {
        return bad(a, p, n, out);
    }
    out->flags |= ps.flags & (TM_URLF_SCHEMELESS | TM_URLF_DEFANGED);
    if (strcmp(ps.scheme, "mailto") == 0)
        rc = do_mailto(a, &ps, out);
    else
        rc = do_hier(a, &ps, out);
    if (rc == TM_ENOMEM)
        return rc;
    if ((out->scheme.p = (const unsigned char *)tm_arena_strdup(a, ps.scheme)) == NULL)
        return TM_ENOMEM;
    out->scheme.len = strlen(ps.scheme);
    if (rc != TM_OK)
        return bad(a, p, n, out);
    return TM_OK;
}

/* ---- redirectors ----------------------------------------------------- */

static const char *const redirect_params[] = {
    "url",          "u",      "q",        "r",    "target", "dest", "destination", "redirect",
    "redirect_uri", "return", "returnto", "next", "link",   "goto", "out",         "to",
};

/* lenient_decode - %XX decoding that keeps a bad escape as written; out has n bytes */
static size_t
lenient_decode(const unsigned char *p, size_t n, unsigned char *out)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        int had = 0;
        if (p[i] == '%' && n - i >= 3 && tm_url_pct_decode(p + i, 3, out + o, &had) == 1) {
            o++;
            i += 2;
        } else {
            out[o++] = p[i];
        }
    }
    return o;
}

static int
starts_url(const unsigned char *p, size_t n)
{
    return (n > 7 && tm_mem_ieq(p, "http://", 7)) || (n > 8 && tm_mem_ieq(p, "https://", 8)) ||
           (n > 4 && tm_mem_ieq(p, "www.", 4)) || (n > 2 && p[0] == '/' && p[1] == '/');
}

/* inner_url - decode a candidate value (twice if it was encoded twice); 1 if it is a URL */
static int
inner_url(struct tm_arena *a, const unsigned char *v, size_t n, int decode, struct tm_str *inner)
{
    unsigned char *d, *o;
    size_t dn, pre = 0;

    if ((d = tm_arena_alloc(a, n + 1)) == NULL)
        return 0;
    if (decode) {
        dn = lenient_decode(v, n, d);
    } else {
        memcpy(d, v, n);
        dn = n;
    }
    if (dn > 13 && tm_mem_ieq(d, "http", 4) &&
        (tm_mem_ieq(d + 4, "%3a%2f%2f", 9) || tm_mem_ieq(d + 4, "s%3a%2f%2f", 10)))
        dn = lenient_decode(d, dn, d);
    if (!starts_url(d, dn))
        return 0;
    if (d[0] == '/' || tm_mem_ieq(d, "www.", 4))
        pre = d[0] == '/' ? 5 : 7;
    if ((o = tm_arena_alloc(a, dn + pre + 1)) == NULL)
        return 0;
    memcpy(o, "http://", pre);
    memcpy(o + pre, d, dn);
    o[dn + pre] = '\0';
    *inner = tm_str_make(o, dn + pre);
    return 1;
}

static int
param_named(const unsigned char *p, size_t n)
{
    size_t i;

    for (i = 0; i < TM_NELEM(redirect_params); i++)
        if (strlen(redirect_params[i]) == n && tm_mem_ieq(p, redirect_params[i], n))
            return 1;
    return 0;
}

int
tm_url_redirect_target(struct tm_arena *a, const struct tm_url *u, struct tm_str *inner)
{
    const unsigned char *s = u->normalized.p;
    size_t n = u->normalized.len, i = 0, ps, q, f, k;
    static const char *const emb[] = {"http://", "https://", "http%3a%2f%2f", "https%3a%2f%2f"};

    if (s == NULL || (u->flags & (TM_URLF_BAD | TM_URLF_MAILTO)))
        return 0;
    while (i + 2 < n && !(s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/'))
        i++;
    for (ps = i + 3; ps < n && s[ps] != '/'; ps++)
        ;
    for (q = ps; q < n && s[q] != '?' && s[q] != '#'; q++)
        ;
    for (f = q; f < n && s[f] != '#'; f++)
        ;
    if (q < n && s[q] == '?') {
        size_t b = q + 1;
        while (b < f) {
            size_t e = b, eq;
            while (e < f && s[e] != '&' && s[e] != ';')
                e++;
            for (eq = b; eq < e && s[eq] != '='; eq++)
                ;
            if (eq < e && param_named(s + b, eq - b) &&
                inner_url(a, s + eq + 1, e - eq - 1, 1, inner))
                return 1;
            b = e + 1;
        }
    }
    for (i = ps + 1; i < q; i++)
        for (k = 0; k < TM_NELEM(emb); k++) {
            size_t l = strlen(emb[k]);
            if (n - i > l && tm_mem_ieq(s + i, emb[k], l) &&
                inner_url(a, s + i, n - i, k >= 2, inner))
                return 1;
        }
    return 0;
}

const char *
tm_url_source_name(enum tm_url_source s)
{
    switch (s) {
    case TM_URL_SRC_TEXT:
        return "text";
    case TM_URL_SRC_HREF:
        return "href";
    case TM_URL_SRC_SRC:
        return "src";
    case TM_URL_SRC_FORM:
        return "form";
    case TM_URL_SRC_HEADER:
        return "header";
    case TM_URL_SRC_REDIRECT:
        return "redirect";
    }
    return "?";
}
