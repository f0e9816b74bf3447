/*
 * dkim_tags.c - the tag=value lists of DKIM-Signature, ARC-Seal,
 * ARC-Message-Signature and DKIM key records (RFC 6376 3.2), and base64
 * with folding whitespace allowed anywhere (3.5, b= and p=).
 *
 * The parser is strict where the RFC is: a duplicate tag makes the whole
 * list invalid, as does a tag without "=" or a name that is not
 * ALPHA *ALNUMPUNC. Positions are kept so the b= value can be cut out of
 * the field as written.
 */
#include <string.h>

#include "auth/dkim_int.h"
#include "core/str.h"

static int
is_fws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
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

/* VALCHAR (%x21-3A / %x3C-7E) and, leniently, 8-bit bytes (UTF-8 in z= copies) */
static int
is_valchar(unsigned char c)
{
    return (c >= 0x21 && c <= 0x7e && c != ';') || c >= 0x80;
}

/*
 * dkim_tags_parse - one pass: FWS, name, FWS, "=", value up to ";" (its
 * FWS trimmed at both ends), ";" or the end. An empty list and a trailing
 * ";" are allowed; ";;" is not (an empty tag-spec).
 */
int
dkim_tags_parse(const unsigned char *p, size_t len, struct dkim_tag *t, size_t max, size_t *n,
                const char **why)
{
    size_t pos = 0, k = 0, i;

    *n = 0;
    for (;;) {
        size_t name, namelen, eq, vs, ve;

        while (pos < len && is_fws(p[pos]))
            pos++;
        if (pos == len)
            break;
        if (!is_alpha(p[pos])) {
            *why = p[pos] == ';' ? "empty tag" : "bad tag name";
            return -1;
        }
        name = pos;
        while (pos < len && (is_alpha(p[pos]) || is_digit(p[pos]) || p[pos] == '_'))
            pos++;
        namelen = pos - name;
        while (pos < len && is_fws(p[pos]))
            pos++;
        if (pos == len || p[pos] != '=') {
            *why = "tag without \"=\"";
            return -1;
        }
        eq = ++pos;
        while (pos < len && is_fws(p[pos]))
            pos++;
        vs = ve = pos;
        while (pos < len && p[pos] != ';') {
            if (is_fws(p[pos])) {
                pos++;
                continue;
            }
            if (!is_valchar(p[pos])) {
                *why = "bad character in a tag value";
                return -1;
            }
            ve = ++pos;
        }
        for (i = 0; i < k; i++) {
            if (t[i].namelen == namelen && memcmp(t[i].name, p + name, namelen) == 0) {
                *why = "duplicate tag";
                return -1;
            }
        }
        if (k == max) {
            *why = "too many tags";
            return -1;
        }
        t[k].name = p + name;
        t[k].namelen = namelen;
        t[k].val = p + vs;
        t[k].vallen = ve - vs;
        t[k].eq = eq;
        t[k].vend = ve;
        k++;
        if (pos == len)
            break;
        pos++; /* ';' */
    }
    *n = k;
    return 0;
}

const struct dkim_tag *
dkim_tag_find(const struct dkim_tag *t, size_t n, const char *name)
{
    size_t i, len = strlen(name);

    for (i = 0; i < n; i++)
        if (t[i].namelen == len && memcmp(t[i].name, name, len) == 0)
            return &t[i];
    return NULL;
}

int
dkim_tag_eq(const struct dkim_tag *t, const char *lit)
{
    size_t n = strlen(lit);

    return t->vallen == n && tm_mem_ieq(t->val, lit, n);
}

int
dkim_list_has(const unsigned char *p, size_t len, const char *item)
{
    size_t pos = 0, n = strlen(item);

    while (pos <= len) {
        size_t s, e;
        const unsigned char *c = pos < len ? memchr(p + pos, ':', len - pos) : NULL;

        e = c != NULL ? (size_t)(c - p) : len;
        s = pos;
        while (s < e && is_fws(p[s]))
            s++;
        while (e > s && is_fws(p[e - 1]))
            e--;
        if (e - s == n && tm_mem_ieq(p + s, item, n))
            return 1;
        if (c == NULL)
            break;
        pos = (size_t)(c - p) + 1;
    }
    return 0;
}

static int
b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/*
 * dkim_b64_decode - FWS is skipped anywhere; "=" padding may only end the
 * data (nothing but FWS after it), and a lone trailing sextet is an error.
 */
size_t
dkim_b64_decode(const unsigned char *in, size_t len, unsigned char *out, size_t max)
{
    size_t i, o = 0, pad = 0;
    unsigned acc = 0, nbits = 0, ndig = 0;

    for (i = 0; i < len; i++) {
        int v;

        if (is_fws(in[i]))
            continue;
        if (in[i] == '=') {
            if (++pad > 2)
                return (size_t)-1;
            continue;
        }
        if (pad > 0 || (v = b64val(in[i])) < 0)
            return (size_t)-1;
        acc = (acc << 6 | (unsigned)v) & 0xffffu;
        nbits += 6;
        ndig++;
        if (nbits >= 8) {
            nbits -= 8;
            if (o == max)
                return (size_t)-1;
            out[o++] = (unsigned char)(acc >> nbits);
        }
    }
    if (ndig % 4 == 1 || (pad > 0 && (ndig + pad) % 4 != 0))
        return (size_t)-1;
    return o;
}

size_t
dkim_b64_encode(const unsigned char *in, size_t len, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;

    for (i = 0; i + 2 < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = tab[v >> 6 & 63];
        out[o++] = tab[v & 63];
    }
    if (i < len) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0u);
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < len ? tab[v >> 6 & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}
