/*
 * host.c - URL hosts: percent-decoding, IPv4 in every inet_aton(3) form,
 * IPv6 literals (RFC 4291 text, written back in RFC 5952 form by
 * inet_ntop), IDNA (UTS#46 via libidn2), mixed-script labels, and the
 * Public Suffix List (libpsl) for registrable domains.
 *
 * Invariants: every output host is ASCII lower-case, NUL-terminated in the
 * arena and at most TM_URL_MAX_HOST bytes (IPv6 "[...]" included). A host
 * that cannot be made so gets TM_URLF_BAD and no output.
 *
 * The PSL context is loaded once per process (pthread_once) and shared
 * read-only by every thread; it lives until exit. Each thread keeps a
 * memo of its answers (psl_memo).
 */
#include "url/url_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>
#include <libpsl.h>

#include "core/arena.h"
#include "core/str.h"

#define TM_URL_PSL_FILE "/usr/share/publicsuffix/public_suffix_list.dafsa"

static pthread_once_t psl_once = PTHREAD_ONCE_INIT;
static const psl_ctx_t *psl_ctx;

static void
psl_init(void)
{
    psl_ctx_t *c = psl_latest(TM_URL_PSL_FILE);

    psl_ctx = c != NULL ? c : psl_builtin();
}

static const psl_ctx_t *
psl_get(void)
{
    (void)pthread_once(&psl_once, psl_init);
    return psl_ctx;
}

/*
 * psl_memo - a thread's memo of PSL answers, direct-mapped by the
 * lower-case key: the same few last labels (com, net, uk) come back at
 * every dotted word of a text, and the same hosts in every link of a
 * message. libpsl was 5.4 % of tamisd's samples with the default rules
 * (perf, milter, 4000 msgs/s; issue 10). The list never changes while
 * the process runs, so an entry never goes stale.
 */
#define PSL_MEMO_SLOTS 256
#define PSL_MEMO_KEY   48

struct psl_memo {
    uint8_t len; /* the key's length; 0: an empty slot */
    char key[PSL_MEMO_KEY];
    int16_t val;
};

static _Thread_local struct psl_memo suffix_memo[PSL_MEMO_SLOTS];
static _Thread_local struct psl_memo reg_memo[PSL_MEMO_SLOTS];

/* memo_find - key's slot in tab, or NULL for a key too long to keep; *hit when it holds key */
static struct psl_memo *
memo_find(struct psl_memo *tab, const char *key, size_t n, int *hit)
{
    uint32_t h = 2166136261u;
    size_t i;
    struct psl_memo *e;

    *hit = 0;
    if (n == 0 || n >= PSL_MEMO_KEY)
        return NULL;
    for (i = 0; i < n; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    e = &tab[h % PSL_MEMO_SLOTS];
    *hit = e->len == n && memcmp(e->key, key, n) == 0;
    return e;
}

static void
memo_put(struct psl_memo *e, const char *key, size_t n, int val)
{
    if (e == NULL)
        return;
    memcpy(e->key, key, n);
    e->len = (uint8_t)n;
    e->val = (int16_t)val;
}

/* tm_url_pct_decode - %XX decoding into out (room for n bytes); -1 on a bad escape */
long
tm_url_pct_decode(const unsigned char *p, size_t n, unsigned char *out, int *had)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (p[i] == '%') {
            int h, l;
            if (i + 2 >= n)
                return -1;
            h = tm_hexval(p[i + 1]);
            l = tm_hexval(p[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            out[o++] = (unsigned char)(h << 4 | l);
            i += 2;
            *had = 1;
        } else {
            out[o++] = p[i];
        }
    }
    return (long)o;
}

/*
 * parse_num - one inet_aton part: decimal, 0x hex or 0 octal, with the value
 * capped at 2^32 so overflow is caught whatever the length. -1 if not a number.
 */
static int
parse_num(const char *s, size_t n, uint64_t *v)
{
    unsigned base = 10;
    size_t i = 0;
    uint64_t x = 0;

    if (n == 0)
        return -1;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
        if (i == n) {
            *v = 0; /* "0x" alone is 0 for inet_aton */
            return 0;
        }
    } else if (n >= 2 && s[0] == '0') {
        base = 8;
        i = 1;
    }
    for (; i < n; i++) {
        int d = tm_hexval((unsigned char)s[i]);
        if (d < 0 || (unsigned)d >= base)
            return -1;
        x = x * base + (unsigned)d;
        if (x > 0xffffffffu)
            x = 0x100000000u; /* sticky overflow */
    }
    *v = x;
    return 0;
}

/*
 * tm_url_ipv4 - s[0..n) as an IPv4 address in any inet_aton form: a, a.b,
 * a.b.c, a.b.c.d, each part decimal, octal or hex, the last part filling the
 * remaining bytes. 1 and *addr (host order) if so; 0 if some part is not a
 * number; -1 when all parts are numbers but the value overflows (a host no
 * browser would resolve: bad).
 */
int
tm_url_ipv4(const char *s, size_t n, uint32_t *addr)
{
    uint64_t part[4], v;
    size_t np = 0, i, start = 0;

    if (n == 0)
        return 0;
    for (i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (parse_num(s + start, i - start, &v) != 0)
                return 0;
            if (np < 4)
                part[np] = v;
            np++;
            start = i + 1;
        }
    }
    if (np > 4)
        return -1; /* "1.2.3.4.5": numbers all, but no address */
    for (i = 0; i + 1 < np; i++)
        if (part[i] > 255)
            return -1;
    if (part[np - 1] >= (uint64_t)1 << (8 * (5 - np)))
        return -1;
    v = part[np - 1];
    for (i = 0; i + 1 < np; i++)
        v |= part[i] << (8 * (3 - i));
    *addr = (uint32_t)v;
    return 1;
}

/* utf8_next - decode one code point at s[*i] (advancing), U+FFFD on bad bytes */
uint32_t
tm_url_utf8_next(const unsigned char *s, size_t n, size_t *i)
{
    unsigned char c = s[*i];
    uint32_t cp;
    size_t k, need;

    if (c < 0x80) {
        (*i)++;
        return c;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
        cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        cp = c & 0x07u;
    } else {
        (*i)++;
        return 0xfffd;
    }
    if (n - *i <= need) {
        (*i)++;
        return 0xfffd;
    }
    for (k = 1; k <= need; k++) {
        if ((s[*i + k] & 0xc0) != 0x80) {
            (*i)++;
            return 0xfffd;
        }
        cp = cp << 6 | (s[*i + k] & 0x3fu);
    }
    *i += need + 1;
    return cp;
}

/* mixed_script - one label of the Unicode form mixes Latin with Cyrillic or Greek letters */
static int
mixed_script(const unsigned char *s, size_t n)
{
    size_t i = 0;
    int latin = 0, other = 0;

    while (i < n) {
        uint32_t cp = tm_url_utf8_next(s, n, &i);
        if (cp == '.') {
            if (latin && other)
                return 1;
            latin = other = 0;
        } else if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
                   (cp >= 0xc0 && cp <= 0x24f && cp != 0xd7 && cp != 0xf7)) {
            latin = 1;
        } else if (cp >= 0x370 && cp <= 0x4ff) {
            other = 1;
        }
    }
    return latin && other;
}

/* host_chars_ok - ASCII host: labels of letters, digits, '-' and '_', 1..63 bytes, none empty */
static int
host_chars_ok(const char *h, size_t n)
{
    size_t i, lab = 0;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c == '.') {
            if (lab == 0)
                return 0;
            lab = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
        if (++lab > 63)
            return 0;
    }
    return lab > 0;
}

static int
needs_idna(const char *h, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if ((unsigned char)h[i] >= 0x80)
            return 1;
        if ((i == 0 || h[i - 1] == '.') && n - i >= 4 && memcmp(h + i, "xn--", 4) == 0)
            return 1;
    }
    return 0;
}

/* idna - ASCII and Unicode forms of an IDN host via libidn2; 0 ok, -1 bad, TM_ENOMEM */
static int
idna(struct tm_arena *a, const char *h, struct tm_url_host *out)
{
    char *asc = NULL, *uni = NULL;
    int rc;

    rc = idn2_to_ascii_8z(h, &asc, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
    if (rc != IDN2_OK)
        rc = idn2_to_ascii_8z(h, &asc, IDN2_TRANSITIONAL | IDN2_NFC_INPUT);
    if (rc != IDN2_OK || asc == NULL)
        return -1;
    out->len = strlen(asc);
    if (out->len == 0 || out->len > TM_URL_MAX_HOST || !host_chars_ok(asc, out->len)) {
        idn2_free(asc);
        return -1;
    }
    out->ascii = tm_arena_lowerdup(a, asc, out->len);
    idn2_free(asc);
    if (out->ascii == NULL)
        return TM_ENOMEM;
    if (idn2_to_unicode_8z8z(out->ascii, &uni, 0) == IDN2_OK && uni != NULL) {
        out->utf8_len = strlen(uni);
        out->utf8 = tm_arena_strndup(a, uni, out->utf8_len);
        free(uni); /* checksrc: allow (libidn2 result) */
        if (out->utf8 == NULL)
            return TM_ENOMEM;
    } else {
        out->utf8 = out->ascii;
        out->utf8_len = out->len;
    }
    return 0;
}

static tm_rc
host_ipv6(struct tm_arena *a, const char *h, size_t n, struct tm_url_host *out)
{
    char in[64], txt[INET6_ADDRSTRLEN];
    struct in6_addr a6;

    if (n < 3 || h[n - 1] != ']' || n - 2 >= sizeof(in))
        return TM_EINVAL;
    memcpy(in, h + 1, n - 2);
    in[n - 2] = '\0';
    if (inet_pton(AF_INET6, in, &a6) != 1 || inet_ntop(AF_INET6, &a6, txt, sizeof(txt)) == NULL)
        return TM_EINVAL;
    out->len = strlen(txt) + 2;
    if ((out->ascii = tm_arena_alloc(a, out->len + 1)) == NULL)
        return TM_ENOMEM;
    out->ascii[0] = '[';
    memcpy(out->ascii + 1, txt, out->len - 2);
    out->ascii[out->len - 1] = ']';
    out->ascii[out->len] = '\0';
    out->utf8 = out->ascii;
    out->utf8_len = out->len;
    out->flags |= TM_URLF_IP | TM_URLF_IPV6;
    return TM_OK;
}

static tm_rc
host_ipv4(struct tm_arena *a, const char *h, size_t n, uint32_t ip, struct tm_url_host *out)
{
    char txt[16];
    size_t k = 0;
    int i;

    for (i = 3; i >= 0; i--) {
        unsigned b = (ip >> (8 * i)) & 0xffu;
        if (b >= 100)
            txt[k++] = (char)('0' + b / 100);
        if (b >= 10)
            txt[k++] = (char)('0' + b / 10 % 10);
        txt[k++] = (char)('0' + b % 10);
        if (i > 0)
            txt[k++] = '.';
    }
    if (k != n || memcmp(txt, h, n) != 0)
        out->flags |= TM_URLF_IP_OBFUSCATED;
    out->flags |= TM_URLF_IP;
    if ((out->ascii = tm_arena_strndup(a, txt, k)) == NULL)
        return TM_ENOMEM;
    out->len = k;
    out->utf8 = out->ascii;
    out->utf8_len = k;
    return TM_OK;
}

/*
 * tm_url_host_norm - the ASCII form of a raw host (no userinfo, no port):
 * %XX-decoded, fullwidth dots made '.', lower-cased, trailing dots dropped,
 * then an IP address or an IDNA host. TM_EINVAL for a host to flag BAD.
 */
tm_rc
tm_url_host_norm(struct tm_arena *a, const unsigned char *p, size_t n, struct tm_url_host *out)
{
    unsigned char *dec;
    char *h;
    size_t i, k = 0;
    long dn;
    int had = 0, r;
    uint32_t ip;

    memset(out, 0, sizeof(*out));
    if (n == 0 || n > 4 * TM_URL_MAX_HOST)
        return TM_EINVAL;
    if ((dec = tm_arena_alloc(a, n + 1)) == NULL || (h = tm_arena_alloc(a, n + 1)) == NULL)
        return TM_ENOMEM;
    if ((dn = tm_url_pct_decode(p, n, dec, &had)) < 0)
        return TM_EINVAL;
    if (had)
        out->flags |= TM_URLF_HOST_PCT;
    for (i = 0; i < (size_t)dn;) {
        size_t w = tm_url_fullwidth_dot(dec + i, (size_t)dn - i);
        if (w > 0) {
            h[k++] = '.';
            i += w;
            continue;
        }
        if (dec[i] == 0 || dec[i] < 0x21 || dec[i] == 0x7f)
            return TM_EINVAL;
        h[k++] = (char)tm_lower(dec[i++]);
    }
    while (k > 0 && h[k - 1] == '.')
        k--;
    h[k] = '\0';
    if (k == 0)
        return TM_EINVAL;
    if (h[0] == '[')
        return host_ipv6(a, h, k, out);
    if (needs_idna(h, k)) {
        if ((r = idna(a, h, out)) == TM_ENOMEM)
            return TM_ENOMEM;
        if (r != 0)
            return TM_EINVAL;
        /* as in browsers, the ASCII form may turn out to be an IPv4 address */
        if ((r = tm_url_ipv4(out->ascii, out->len, &ip)) == 1) {
            out->flags = (out->flags & TM_URLF_HOST_PCT) | TM_URLF_IP_OBFUSCATED;
            return host_ipv4(a, out->ascii, out->len, ip, out);
        }
        if (r < 0)
            return TM_EINVAL;
        out->flags |= TM_URLF_IDN;
        if (mixed_script((const unsigned char *)out->utf8, out->utf8_len))
            out->flags |= TM_URLF_MIXED_SCRIPT;
        return TM_OK;
    }
    if ((r = tm_url_ipv4(h, k, &ip)) == 1)
        return host_ipv4(a, h, k, ip, out);
    if (r < 0)
        return TM_EINVAL;
    if (k > TM_URL_MAX_HOST || !host_chars_ok(h, k))
        return TM_EINVAL;
    out->ascii = h;
    out->len = k;
    out->utf8 = h;
    out->utf8_len = k;
    return TM_OK;
}

int
tm_url_is_known_suffix(const unsigned char *host, size_t n)
{
    char lab[80];
    size_t i = n, k;
    struct psl_memo *e;
    int hit, r;

    while (n > 0 && host[n - 1] == '.')
        n--;
    i = n;
    while (i > 0 && host[i - 1] != '.')
        i--;
    if (n - i == 0 || n - i >= sizeof(lab))
        return 0;
    for (k = 0; i < n; i++, k++) {
        if (host[i] >= 0x80 || host[i] <= ' ')
            return 0;
        lab[k] = (char)tm_lower(host[i]);
    }
    lab[k] = '\0';
    if ((e = memo_find(suffix_memo, lab, k, &hit)) != NULL && hit)
        return e->val;
    r = psl_is_public_suffix2(psl_get(), lab, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
    memo_put(e, lab, k, r);
    return r;
}

struct tm_str
tm_url_registrable(struct tm_arena *a, struct tm_str host)
{
    const char *r = NULL;
    char *h;
    uint32_t ip;

    if ((h = tm_arena_lowerdup(a, host.p, host.len)) == NULL)
        return TM_STR_NULL;
    if (host.len == 0 || h[0] == '[' || tm_url_ipv4(h, host.len, &ip) != 0 ||
        memchr(host.p, '\0', host.len) != NULL)
        return tm_str_make(h, host.len);
    if (tm_url_is_known_suffix(host.p, host.len)) {
        int hit;
        struct psl_memo *e = memo_find(reg_memo, h, host.len, &hit);
        if (e != NULL && hit)
            return e->val < 0 ? tm_str_make(h, host.len)
                              : tm_str_make(h + e->val, host.len - (size_t)e->val);
        r = psl_registrable_domain(psl_get(), h);
        /* libpsl answers with a pointer into h, or NULL */
        if (r == NULL)
            memo_put(e, h, host.len, -1);
        else if (r >= h && r < h + host.len)
            memo_put(e, h, host.len, (int)(r - h));
    } else {
        /* unknown top-level label (.example, .test, .local, intranet names):
           the Public Suffix List's default rule "*" - the last two labels */
        size_t i = host.len, dots = 0;
        while (i > 0 && dots < 2)
            if (h[--i] == '.')
                dots++;
        if (dots == 2)
            r = h + i + 1;
        else if (dots == 1)
            r = h;
    }
    if (r == NULL)
        return tm_str_make(h, host.len);
    return tm_str_make(r, strlen(r));
}
