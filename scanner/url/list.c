/*
 * list.c - host/domain sets for URL block and allow lists (see list.h).
 *
 * Layout. The set is an open-addressing table with linear probing, split
 * in two parallel arrays (as in SwissTable): a control byte per slot (0 is
 * empty, else the top byte of the entry's 64-bit hash, 0 mapped to 1) and a
 * 32-bit offset per slot into one growing string pool where the entries sit
 * NUL-terminated. The low hash bits pick the home slot. Offsets (not
 * pointers) live in the table, so growing the pool moves nothing. A probe
 * scans control bytes only, and reads an offset and the pool only when
 * the byte matches (1 in 255 for a foreign entry), so a lookup miss stays
 * in the small control array. The load factor stays at or below 1/2 and the
 * capacity is a power of two; growth rehashes every entry from the pool. A
 * file load counts its newlines first and reserves for them, so a big file
 * is inserted without any rehash.
 *
 * Entries. A line loses its comment ('#' at line start or after a blank),
 * surrounding blanks, a URL's scheme, userinfo, port and path, a leading
 * "*." or ".", one trailing dot and ASCII case. What remains must be an
 * IPv4 dotted quad, an IPv6 address (optionally in brackets; stored in
 * inet_ntop form), or a host name of LDH labels ('_' tolerated) of 1-63
 * bytes, 253 in all, whose last label is not all digits. Names with
 * non-ASCII bytes go through libidn2 (UTS #46 non-transitional) to punycode
 * first. Anything else is a bad line: counted, the first few logged, the
 * first one copied to the caller's err, never fatal.
 *
 * Lookup of a name tries the name and then each parent domain; an IP
 * address only matches itself. After loading the set is read-only, so any
 * number of threads may call tm_hostset_match.
 *
 * Limits: a list file is read whole and refused above TM_HOSTSET_MAX_FILE
 * (1 GiB, TM_EIO with errno EFBIG); the pool is capped at 4 GiB by its 32-bit offsets (TM_ELIMIT);
 * an entry before normalisation is capped at TM_HOSTSET_MAX_RAW bytes.
 * RFC 1035 2.3.4 and RFC 1123 2.1 (name syntax), RFC 3986 3.2 (authority),
 * RFC 5952 (IPv6 text form), UTS #46 (IDNA mapping).
 */
#include "url/list.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <idn2.h>

#include "core/core.h"

/* Largest list file read (bytes). */
#define TM_HOSTSET_MAX_FILE ((size_t)1 << 30)
/* Longest host name (RFC 1035: 253 text bytes without the root dot). */
#define TM_HOSTSET_MAX_NAME 253
/* Longest label. */
#define TM_HOSTSET_MAX_LABEL 63
/* Longest raw host part handed to libidn2 (UTF-8 bytes). */
#define TM_HOSTSET_MAX_RAW 1024
/* Bad lines per file logged (all are counted). */
#define TM_HOSTSET_LOG_BAD 5
/* Smallest table. */
#define TM_HOSTSET_MIN_CAP 64
/* Pool offsets are 32-bit. */
#define TM_HOSTSET_MAX_POOL ((size_t)UINT32_MAX)

struct tm_hostset {
    uint8_t *ctrl;  /* per slot: 0 empty, else 1..255 from the hash's top byte */
    uint32_t *off;  /* per slot: entry offset in pool */
    size_t cap;     /* slots, a power of two */
    size_t entries; /* used slots */
    char *pool;     /* NUL-terminated entries; pool[0] is unused */
    size_t pool_len;
    size_t pool_cap;
    unsigned min_labels; /* label counts of the shortest and longest entry, */
    unsigned max_labels; /* so that lookups skip suffixes nothing can match */
    size_t lines;
    size_t bad;
    double load_ms;
};

/* ---- hashing ------------------------------------------------------------ */

#define TM_HS_K1 0x9e3779b97f4a7c15ULL
#define TM_HS_K2 0xbf58476d1ce4e5b9ULL
#define TM_HS_K3 0x94d049bb133111ebULL

static inline uint64_t
hs_load64(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t
hs_mix(uint64_t h, uint64_t w)
{
    h ^= w * TM_HS_K1;
    h = (h << 27 | h >> 37) * TM_HS_K2;
    return h;
}

static inline uint64_t
hs_load32(const unsigned char *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return v;
}

/*
 * hs_hash - 64-bit hash of n bytes: eight bytes at a time through a
 * multiply-rotate step, the length mixed in first and the splitmix64
 * finalizer last so that both the low (slot) and high (control byte) bits
 * depend on every input byte. The last 1-8 bytes are read as one
 * overlapping 8-byte word (or two 4-byte words, or three bytes, for short
 * keys), wyhash's trick, so there is no byte loop and no memcpy call of a
 * variable size. Host names are short: a handful of multiplications each.
 */
static uint64_t
hs_hash(const unsigned char *p, size_t n)
{
    uint64_t h = TM_HS_K3 ^ ((uint64_t)n * TM_HS_K1);
    const unsigned char *e = p + n;

    if (n > 8) {
        while (e - p > 8) {
            h = hs_mix(h, hs_load64(p));
            p += 8;
        }
        h = hs_mix(h, hs_load64(e - 8));
    } else if (n >= 4) {
        h = hs_mix(h, hs_load32(p) << 32 | hs_load32(e - 4));
    } else if (n > 0) {
        h = hs_mix(h, (uint64_t)p[0] << 16 | (uint64_t)p[n / 2] << 8 | p[n - 1]);
    }
    h ^= h >> 30;
    h *= TM_HS_K2;
    h ^= h >> 27;
    h *= TM_HS_K3;
    h ^= h >> 31;
    return h;
}

/* ---- table ---------------------------------------------------------------- */

static inline uint8_t
hs_ctrl(uint64_t h)
{
    uint8_t c = (uint8_t)(h >> 56);

    return c != 0 ? c : 1;
}

struct tm_hostset *
tm_hostset_new(void)
{
    struct tm_hostset *s = tm_xcalloc(1, sizeof(*s));

    s->cap = TM_HOSTSET_MIN_CAP;
    s->ctrl = tm_xcalloc(s->cap, sizeof(*s->ctrl));
    s->off = tm_xcalloc(s->cap, sizeof(*s->off));
    s->pool_cap = 4096;
    s->pool = tm_xmalloc(s->pool_cap);
    s->pool[0] = '\0';
    s->pool_len = 1;
    s->min_labels = UINT_MAX;
    return s;
}

void
tm_hostset_free(struct tm_hostset *s)
{
    if (s == NULL)
        return;
    tm_free(s->ctrl);
    tm_free(s->off);
    tm_free(s->pool);
    tm_free(s);
}

/*
 * hs_find - slot index holding key, or of the empty slot where it would go.
 * The probe reads the control bytes (one per slot, so a million entries
 * take 2 MiB that stay in cache) and touches the offsets and the pool only
 * on a control-byte match: a miss usually costs no memory access outside
 * the control array.
 */
static size_t
hs_find(const struct tm_hostset *s, const char *key, size_t n, uint64_t h, int *found)
{
    size_t mask = s->cap - 1, i = (size_t)h & mask;
    uint8_t c = hs_ctrl(h), ci;
    uint32_t o;

    for (;; i = (i + 1) & mask) {
        ci = s->ctrl[i];
        if (ci == 0) {
            *found = 0;
            return i;
        }
        if (ci != c)
            continue;
        o = s->off[i];
        /* pool_len - o > n keeps memcmp and the NUL test inside the pool */
        if (s->pool_len - o > n && memcmp(s->pool + o, key, n) == 0 && s->pool[o + n] == '\0') {
            *found = 1;
            return i;
        }
    }
}

/*
 * hs_reserve - make room for `more` entries at load <= 1/2. Growing
 * rehashes every entry from the pool: the table keeps no full hashes.
 */
static void
hs_reserve(struct tm_hostset *s, size_t more)
{
    uint8_t *octrl = s->ctrl;
    uint32_t *ooff = s->off;
    size_t oldcap = s->cap, need, cap, i, j, mask;

    TM_ASSERT(more <= SIZE_MAX / 4 - s->entries);
    need = (s->entries + more) * 2;
    if (need <= s->cap)
        return;
    for (cap = s->cap; cap < need; cap *= 2)
        ;
    s->ctrl = tm_xcalloc(cap, sizeof(*s->ctrl));
    s->off = tm_xmalloc(cap * sizeof(*s->off));
    s->cap = cap;
    mask = cap - 1;
    for (i = 0; i < oldcap; i++) {
        const char *e;
        uint64_t h;

        if (octrl[i] == 0)
            continue;
        e = s->pool + ooff[i];
        h = hs_hash((const unsigned char *)e, strlen(e));
        for (j = (size_t)h & mask; s->ctrl[j] != 0; j = (j + 1) & mask)
            ;
        s->ctrl[j] = octrl[i];
        s->off[j] = ooff[i];
    }
    tm_free(octrl);
    tm_free(ooff);
}

/* hs_labels - labels in a name */
static unsigned
hs_labels(const char *p, size_t n)
{
    unsigned l = 1;
    size_t i;

    for (i = 0; i < n; i++)
        l += p[i] == '.';
    return l;
}

/* hs_insert - add a normalised name; TM_ELIMIT when the pool is full */
static tm_rc
hs_insert(struct tm_hostset *s, const char *key, size_t n)
{
    uint64_t h = hs_hash((const unsigned char *)key, n);
    size_t i, cap;
    unsigned l;
    int found;

    if (s->pool_len + n + 1 > TM_HOSTSET_MAX_POOL)
        return TM_ELIMIT;
    hs_reserve(s, 1);
    i = hs_find(s, key, n, h, &found);
    if (found)
        return TM_OK;
    if (s->pool_len + n + 1 > s->pool_cap) {
        for (cap = s->pool_cap; cap < s->pool_len + n + 1; cap *= 2)
            ;
        s->pool = tm_xrealloc(s->pool, cap);
        s->pool_cap = cap;
    }
    s->ctrl[i] = hs_ctrl(h);
    s->off[i] = (uint32_t)s->pool_len;
    memcpy(s->pool + s->pool_len, key, n);
    s->pool[s->pool_len + n] = '\0';
    s->pool_len += n + 1;
    s->entries++;
    l = hs_labels(key, n);
    s->min_labels = TM_MIN(s->min_labels, l);
    s->max_labels = TM_MAX(s->max_labels, l);
    return TM_OK;
}

/* hs_lookup - the pooled entry equal to key, or NULL */
static const char *
hs_lookup(const struct tm_hostset *s, const char *key, size_t n)
{
    uint64_t h = hs_hash((const unsigned char *)key, n);
    int found;
    size_t i = hs_find(s, key, n, h, &found);

    return found ? s->pool + s->off[i] : NULL;
}

/* ---- entry syntax ------------------------------------------------------- */

static inline int
hs_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static inline int
hs_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int
hs_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static inline unsigned char
hs_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/*
 * hs_strip_line - cut the comment ('#' first on the line or after a blank)
 * and the surrounding blanks; returns the new length, *p moved past the
 * leading blanks. A '#' inside a word is kept: it is a URL fragment.
 */
static size_t
hs_strip_line(const unsigned char **pp, size_t n)
{
    const unsigned char *p = *pp;
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] == '#' && (i == 0 || hs_blank(p[i - 1]))) {
            n = i;
            break;
        }
    }
    while (n > 0 && hs_blank(p[n - 1]))
        n--;
    while (n > 0 && hs_blank(p[0])) {
        p++;
        n--;
    }
    *pp = p;
    return n;
}

/*
 * hs_take_host - reduce an entry to its host part: drop a "scheme://",
 * then everything from the first '/', '?' or '#', a userinfo before the
 * last '@', and a ":port" (for "[v6]:port" too). A bare IPv6 address has
 * several colons and no brackets, and is kept whole. Returns 0, or -1 with
 * *why set.
 */
static int
hs_take_host(const unsigned char **pp, size_t *np, const char **why)
{
    const unsigned char *p = *pp, *at;
    size_t n = *np, i, colons = 0, last = 0;

    if (n > 0 && hs_alpha(p[0])) {
        for (i = 1; i < n &&
                    (hs_alpha(p[i]) || hs_digit(p[i]) || p[i] == '+' || p[i] == '-' || p[i] == '.');
             i++)
            ;
        if (n - i >= 3 && p[i] == ':' && p[i + 1] == '/' && p[i + 2] == '/') {
            p += i + 3;
            n -= i + 3;
        }
    }
    for (i = 0; i < n; i++)
        if (p[i] == '/' || p[i] == '?' || p[i] == '#')
            break;
    n = i;
    for (at = NULL, i = 0; i < n; i++)
        if (p[i] == '@')
            at = p + i;
    if (at != NULL) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    if (n > 0 && p[0] == '[') {
        for (i = 1; i < n && p[i] != ']'; i++)
            ;
        if (i == n) {
            *why = "unclosed '[' in host";
            return -1;
        }
        if (i + 1 < n && p[i + 1] != ':') {
            *why = "junk after ']'";
            return -1;
        }
        *pp = p;
        *np = i + 1;
        return 0;
    }
    for (i = 0; i < n; i++)
        if (p[i] == ':') {
            colons++;
            last = i;
        }
    if (colons == 1) {
        for (i = last + 1; i < n; i++)
            if (!hs_digit(p[i])) {
                *why = "bad port";
                return -1;
            }
        n = last;
    }
    *pp = p;
    *np = n;
    return 0;
}

/*
 * hs_check_name - validate a lower-case ASCII name in place: labels of
 * letters, digits, '-' (not first or last) and '_', 1-63 bytes each, 253
 * in all, the last label not all digits (that would be a mangled IPv4).
 */
static int
hs_check_name(const char *p, size_t n, const char **why)
{
    size_t i, start = 0;
    int alldigit = 1;

    if (n == 0) {
        *why = "empty host";
        return -1;
    }
    if (n > TM_HOSTSET_MAX_NAME) {
        *why = "host name longer than 253 bytes";
        return -1;
    }
    for (i = 0; i <= n; i++) {
        unsigned char c = i < n ? (unsigned char)p[i] : '.';

        if (c == '.') {
            if (i == start) {
                *why = "empty label";
                return -1;
            }
            if (i - start > TM_HOSTSET_MAX_LABEL) {
                *why = "label longer than 63 bytes";
                return -1;
            }
            if (p[start] == '-' || p[i - 1] == '-') {
                *why = "label starts or ends with '-'";
                return -1;
            }
            if (i < n)
                alldigit = 1;
            start = i + 1;
            continue;
        }
        if (!hs_digit(c))
            alldigit = 0;
        if (!(hs_digit(c) || (c >= 'a' && c <= 'z') || c == '-' || c == '_')) {
            *why = "bad character in host name";
            return -1;
        }
    }
    if (alldigit) {
        *why = "not a host name or IPv4 address";
        return -1;
    }
    return 0;
}

/*
 * hs_ip - when p is an IP literal (digits and dots, or containing ':'),
 * write its canonical text form to out and return 1; -1 when it looks
 * like one but is malformed; 0 when it is a name.
 */
static int
hs_ip(const char *p, size_t n, char *out, size_t outlen, size_t *outn, const char **why)
{
    char tmp[INET6_ADDRSTRLEN + 2];
    unsigned char bin[16];
    size_t i;
    int v6 = 0, v4 = 1;

    for (i = 0; i < n; i++) {
        if (p[i] == ':')
            v6 = 1;
        if (!hs_digit((unsigned char)p[i]) && p[i] != '.')
            v4 = 0;
    }
    if (!v6 && !v4)
        return 0;
    if (v4) {
        size_t dots = 0;

        for (i = 0; i < n; i++)
            dots += p[i] == '.';
        if (dots != 3)
            return 0; /* "1.2.3" etc.: hs_check_name rejects the numeric TLD */
    }
    if (n >= sizeof(tmp)) {
        *why = v6 ? "bad IPv6 address" : "bad IPv4 address";
        return -1;
    }
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    if (inet_pton(v6 ? AF_INET6 : AF_INET, tmp, bin) != 1 ||
        inet_ntop(v6 ? AF_INET6 : AF_INET, bin, out, (socklen_t)outlen) == NULL) {
        *why = v6 ? "bad IPv6 address" : "bad IPv4 address";
        return -1;
    }
    *outn = strlen(out);
    return 1;
}

/*
 * hs_idn - convert a UTF-8 name to punycode ASCII with libidn2 (UTS #46
 * non-transitional: "ß" stays "ß" and becomes xn--), into out.
 */
static int
hs_idn(const unsigned char *p, size_t n, char *out, size_t outlen, size_t *outn, const char **why)
{
    char in[TM_HOSTSET_MAX_RAW + 1];
    char *res = NULL;
    size_t len;
    int rc;

    if (n > TM_HOSTSET_MAX_RAW) {
        *why = "host name too long";
        return -1;
    }
    memcpy(in, p, n);
    in[n] = '\0';
    rc = idn2_to_ascii_8z(in, &res, IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK) {
        *why = "bad international domain name";
        return -1;
    }
    len = strlen(res);
    if (len >= outlen) {
        idn2_free(res);
        *why = "host name longer than 253 bytes";
        return -1;
    }
    memcpy(out, res, len + 1);
    idn2_free(res);
    *outn = len;
    return 0;
}

/* Byte classes of the one-pass name scanner; 0 ends a plain name. */
#define HS_C_NAME   0x01 /* a-z, A-Z, '_' */
#define HS_C_DIGIT  0x02
#define HS_C_HYPHEN 0x04
#define HS_C_DOT    0x08
#define HS_C_UPPER  0x20 /* added to the byte, it lower-cases */

/* clang-format off */
static const uint8_t hs_class[256] = {
    ['-'] = HS_C_HYPHEN, ['.'] = HS_C_DOT, ['0'] = HS_C_DIGIT, ['1'] = HS_C_DIGIT,
    ['2'] = HS_C_DIGIT, ['3'] = HS_C_DIGIT, ['4'] = HS_C_DIGIT, ['5'] = HS_C_DIGIT,
    ['6'] = HS_C_DIGIT, ['7'] = HS_C_DIGIT, ['8'] = HS_C_DIGIT, ['9'] = HS_C_DIGIT,
    ['A'] = HS_C_NAME | HS_C_UPPER, ['B'] = HS_C_NAME | HS_C_UPPER,
    ['C'] = HS_C_NAME | HS_C_UPPER, ['D'] = HS_C_NAME | HS_C_UPPER,
    ['E'] = HS_C_NAME | HS_C_UPPER, ['F'] = HS_C_NAME | HS_C_UPPER,
    ['G'] = HS_C_NAME | HS_C_UPPER, ['H'] = HS_C_NAME | HS_C_UPPER,
    ['I'] = HS_C_NAME | HS_C_UPPER, ['J'] = HS_C_NAME | HS_C_UPPER,
    ['K'] = HS_C_NAME | HS_C_UPPER, ['L'] = HS_C_NAME | HS_C_UPPER,
    ['M'] = HS_C_NAME | HS_C_UPPER, ['N'] = HS_C_NAME | HS_C_UPPER,
    ['O'] = HS_C_NAME | HS_C_UPPER, ['P'] = HS_C_NAME | HS_C_UPPER,
    ['Q'] = HS_C_NAME | HS_C_UPPER, ['R'] = HS_C_NAME | HS_C_UPPER,
    ['S'] = HS_C_NAME | HS_C_UPPER, ['T'] = HS_C_NAME | HS_C_UPPER,
    ['U'] = HS_C_NAME | HS_C_UPPER, ['V'] = HS_C_NAME | HS_C_UPPER,
    ['W'] = HS_C_NAME | HS_C_UPPER, ['X'] = HS_C_NAME | HS_C_UPPER,
    ['Y'] = HS_C_NAME | HS_C_UPPER, ['Z'] = HS_C_NAME | HS_C_UPPER, ['_'] = HS_C_NAME,
    ['a'] = HS_C_NAME, ['b'] = HS_C_NAME, ['c'] = HS_C_NAME, ['d'] = HS_C_NAME,
    ['e'] = HS_C_NAME, ['f'] = HS_C_NAME, ['g'] = HS_C_NAME, ['h'] = HS_C_NAME,
    ['i'] = HS_C_NAME, ['j'] = HS_C_NAME, ['k'] = HS_C_NAME, ['l'] = HS_C_NAME,
    ['m'] = HS_C_NAME, ['n'] = HS_C_NAME, ['o'] = HS_C_NAME, ['p'] = HS_C_NAME,
    ['q'] = HS_C_NAME, ['r'] = HS_C_NAME, ['s'] = HS_C_NAME, ['t'] = HS_C_NAME,
    ['u'] = HS_C_NAME, ['v'] = HS_C_NAME, ['w'] = HS_C_NAME, ['x'] = HS_C_NAME,
    ['y'] = HS_C_NAME, ['z'] = HS_C_NAME,
};
/* clang-format on */

/*
 * hs_fast_name - the common entry, a plain name in any case with at most
 * one trailing dot, in one table-driven pass: copy it lower-cased to out
 * and validate it as it goes (labels 1-63 bytes, no '-' at either end, the
 * last label not all digits, 253 bytes in all). Stops at the first byte
 * that cannot be in a name and returns its index; *ok tells whether the
 * bytes before it are a valid name, with *outn its stored length. Anything
 * else (a URL, "*.", IDN, an address, a bad name) leaves *ok 0 for the
 * slow path, which gives the same result or the reason for rejecting it.
 */
static size_t
hs_fast_name(const unsigned char *p, size_t n, char *out, size_t *outn, int *ok)
{
    size_t i, m = 0, label = 0, lim = TM_MIN(n, (size_t)TM_HOSTSET_MAX_NAME + 1);
    unsigned k, prev = HS_C_DOT, digits = 1, pdigits = 1;

    *ok = 0;
    for (i = 0; i < lim; i++) {
        unsigned char c = p[i];

        k = hs_class[c];
        if (k == 0)
            break;
        if (k & (HS_C_DOT | HS_C_HYPHEN)) {
            if (k == HS_C_DOT) {
                if ((prev & (HS_C_DOT | HS_C_HYPHEN)) || label > TM_HOSTSET_MAX_LABEL)
                    return i;
                label = 0;
                pdigits = digits;
                digits = 1;
                out[m++] = '.';
                prev = k;
                continue;
            }
            if (prev == HS_C_DOT)
                return i;
        }
        digits &= k == HS_C_DIGIT;
        out[m++] = (char)(c + (k & HS_C_UPPER));
        label++;
        prev = k;
    }
    if (i < n && hs_class[p[i]] != 0)
        return i; /* longer than any name */
    if (m == 0)
        return i;
    if (prev == HS_C_DOT) { /* one trailing dot: the label before it was checked */
        m--;
        digits = pdigits;
    } else if (prev == HS_C_HYPHEN || label > TM_HOSTSET_MAX_LABEL) {
        return i;
    }
    if (m == 0 || m > TM_HOSTSET_MAX_NAME || digits)
        return i;
    *outn = m;
    *ok = 1;
    return i;
}

/* hs_fast - hs_fast_name on a whole line: leading blanks, then only blanks or a comment after */
static int
hs_fast(const unsigned char *p, size_t n, char *out, size_t *outn)
{
    const unsigned char *rest;
    size_t i = 0, end;
    int ok;

    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    end = i + hs_fast_name(p + i, n - i, out, outn, &ok);
    if (!ok)
        return 0;
    if (end == n)
        return 1;
    rest = p + end;
    return hs_blank(p[end]) && hs_strip_line(&rest, n - end) == 0;
}

/* hs_strip_wild - drop a leading "*." or "." (every entry covers its subdomains anyway) */
static void
hs_strip_wild(const unsigned char **pp, size_t *np)
{
    if (*np >= 2 && (*pp)[0] == '*' && (*pp)[1] == '.') {
        *pp += 2;
        *np -= 2;
    } else if (*np >= 1 && (*pp)[0] == '.') {
        *pp += 1;
        *np -= 1;
    }
}

/*
 * hs_hosts_line - a hosts-file line ("0.0.0.0 evil.example", the form many
 * published blocklists use): skip the null-route address and keep the name;
 * the loopback names of a hosts file ("localhost" ...) give an empty entry.
 */
static void
hs_hosts_line(const unsigned char **pp, size_t *np)
{
    static const char *const sink[] = {"0.0.0.0", "127.0.0.1", "::1", "::", "::0", "0"};
    const unsigned char *p = *pp;
    size_t n = *np, i, k;

    for (i = 0; i < n && !hs_blank(p[i]); i++)
        ;
    if (i == n)
        return;
    for (k = 0; k < sizeof(sink) / sizeof(sink[0]); k++)
        if (strlen(sink[k]) == i && memcmp(p, sink[k], i) == 0)
            break;
    if (k == sizeof(sink) / sizeof(sink[0]))
        return;
    while (i < n && hs_blank(p[i]))
        i++;
    p += i;
    n -= i;
    if ((n >= 9 && memcmp(p, "localhost", 9) == 0 && (n == 9 || p[9] == '.')) ||
        (n == 13 && memcmp(p, "broadcasthost", 13) == 0) ||
        (n == 15 && memcmp(p, "ip6-localloopback", 15) == 0))
        n = 0;
    *pp = p;
    *np = n;
}

/*
 * hs_normalize - one list line (already without its line end) to the
 * stored form in out (TM_HOSTSET_MAX_NAME + 1 bytes or more). Returns 1
 * for an entry, 0 for a blank or comment line, -1 with *why for a bad line.
 */
static int
hs_normalize(const unsigned char *p, size_t n, char *out, size_t outlen, size_t *outn,
             const char **why)
{
    size_t i, m;
    int nonascii = 0, ip;

    if (hs_fast(p, n, out, outn))
        return 1;
    n = hs_strip_line(&p, n);
    if (n == 0)
        return 0;
    hs_hosts_line(&p, &n);
    if (n == 0)
        return 0;
    for (i = 0; i < n; i++)
        if (hs_blank(p[i]) || p[i] == '\n' || p[i] == '\0') {
            *why = "blank or control byte inside the entry";
            return -1;
        }
    hs_strip_wild(&p, &n);
    if (hs_take_host(&p, &n, why) < 0)
        return -1;
    if (n >= 2 && p[0] == '[' && p[n - 1] == ']') {
        ip = hs_ip((const char *)p + 1, n - 2, out, outlen, outn, why);
        if (ip == 1)
            return 1;
        if (ip == 0)
            *why = "bad IPv6 address";
        return -1;
    }
    hs_strip_wild(&p, &n);
    if (n > 0 && p[n - 1] == '.')
        n--;
    for (i = 0; i < n; i++)
        if (p[i] >= 0x80)
            nonascii = 1;
    if (nonascii) {
        if (hs_idn(p, n, out, outlen, &m, why) < 0)
            return -1;
        for (i = 0; i < m; i++)
            out[i] = (char)hs_lower((unsigned char)out[i]);
    } else {
        if (n > TM_HOSTSET_MAX_NAME) {
            *why = "host name longer than 253 bytes";
            return -1;
        }
        for (i = 0; i < n; i++)
            out[i] = (char)hs_lower(p[i]);
        m = n;
    }
    ip = hs_ip(out, m, out, outlen, outn, why);
    if (ip != 0)
        return ip;
    if (hs_check_name(out, m, why) < 0)
        return -1;
    *outn = m;
    return 1;
}

/* ---- loading ------------------------------------------------------------ */

/* Room for a name, or an IPv6 text form, plus NUL. */
#define TM_HOSTSET_OUT (TM_HOSTSET_MAX_NAME + INET6_ADDRSTRLEN + 2)

tm_rc
tm_hostset_add(struct tm_hostset *s, const char *entry, size_t n)
{
    char out[TM_HOSTSET_OUT];
    const char *why = NULL;
    size_t m = 0;

    if (hs_normalize((const unsigned char *)entry, n, out, sizeof(out), &m, &why) != 1)
        return TM_EINVAL;
    return hs_insert(s, out, m);
}

/* hs_read_file - the whole file in one read; TM_EIO with err (EFBIG above 1 GiB) */
static tm_rc
hs_read_file(const char *path, unsigned char **data, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    unsigned char *buf;
    size_t size, got = 0;
    ssize_t r;
    int fd, e;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        e = errno;
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: %s", path, strerror(e));
        errno = e;
        return TM_EIO;
    }
    if (fstat(fd, &st) < 0) {
        e = errno;
        close(fd);
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: %s", path, strerror(e));
        errno = e;
        return TM_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: not a regular file", path);
        errno = EINVAL;
        return TM_EIO;
    }
    if ((uintmax_t)st.st_size > TM_HOSTSET_MAX_FILE) {
        close(fd);
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: larger than %zu bytes", path, TM_HOSTSET_MAX_FILE);
        errno = EFBIG;
        return TM_EIO;
    }
    size = (size_t)st.st_size;
    buf = tm_xmalloc(size + 1);
    while (got < size) {
        r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            e = errno;
            tm_free(buf);
            close(fd);
            if (err != NULL && errlen > 0)
                snprintf(err, errlen, "%s: %s", path, strerror(e));
            errno = e;
            return TM_EIO;
        }
        if (r == 0)
            break; /* shrank under us: take what is there */
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *len = got;
    return TM_OK;
}

/* hs_count_lines - newlines, plus one for an unterminated last line */
static size_t
hs_count_lines(const unsigned char *p, size_t n)
{
    const unsigned char *e = p + n, *q;
    size_t c = 0;

    while (p < e && (q = memchr(p, '\n', (size_t)(e - p))) != NULL) {
        c++;
        p = q + 1;
    }
    return c + (p < e);
}

/* hs_bad - count a rejected line; the first goes to err, the first few to the log */
static void
hs_bad(struct tm_hostset *s, const char *path, size_t lineno, const char *why, size_t nbad,
       char *err, size_t errlen)
{
    s->bad++;
    if (nbad == 1 && err != NULL && errlen > 0)
        snprintf(err, errlen, "%s:%zu: %s", path, lineno, why);
    if (nbad <= TM_HOSTSET_LOG_BAD)
        tm_log(TM_LOG_WARN, "%s:%zu: %s", path, lineno, why);
}

/*
 * tm_hostset_load - read a list file whole (one read, fstat-sized), reserve
 * table room for its line count, then normalise and insert line by line.
 * Bad lines do not fail the load: the caller gets TM_OK, the count in the
 * stats, and the first one in err.
 */
tm_rc
tm_hostset_load(struct tm_hostset *s, const char *path, char *err, size_t errlen)
{
    char out[TM_HOSTSET_OUT];
    unsigned char *data = NULL;
    const unsigned char *p, *e, *nl;
    const char *why = NULL;
    size_t len = 0, lineno = 0, nbad = 0, m = 0, end;
    double t0 = tm_now_ms();
    int full = 0, ok, r;
    tm_rc rc;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if ((rc = hs_read_file(path, &data, &len, err, errlen)) != TM_OK)
        return rc;
    hs_reserve(s, hs_count_lines(data, len));
    /* names are mostly no longer than their lines: one pool allocation */
    if (len < TM_HOSTSET_MAX_POOL - s->pool_len && s->pool_cap < s->pool_len + len + 1) {
        s->pool_cap = s->pool_len + len + 1;
        s->pool = tm_xrealloc(s->pool, s->pool_cap);
    }
    for (p = data, e = data + len; p < e && !full; p = nl + 1) {
        lineno++;
        /* most lines are a plain name and a '\n': no memchr, no second pass */
        end = hs_fast_name(p, (size_t)(e - p), out, &m, &ok);
        if (ok && (p + end == e || p[end] == '\n')) {
            nl = p + end;
            r = 1;
        } else {
            if ((nl = memchr(p + end, '\n', (size_t)(e - p) - end)) == NULL)
                nl = e;
            why = "bad entry";
            r = hs_normalize(p, (size_t)(nl - p), out, sizeof(out), &m, &why);
        }
        if (r == 1 && hs_insert(s, out, m) != TM_OK) {
            hs_bad(s, path, lineno, "list too large (4 GiB of names)", ++nbad, err, errlen);
            full = 1;
        } else if (r < 0) {
            hs_bad(s, path, lineno, why, ++nbad, err, errlen);
        }
    }
    s->lines += lineno;
    tm_free(data);
    /* give back what comments, blanks and URL parts left unused */
    if (s->pool_cap - s->pool_len > s->pool_cap / 4 && s->pool_cap > 4096) {
        s->pool_cap = s->pool_len;
        s->pool = tm_xrealloc(s->pool, s->pool_cap);
    }
    if (nbad > TM_HOSTSET_LOG_BAD)
        tm_log(TM_LOG_WARN, "%s: %zu bad lines in all", path, nbad);
    s->load_ms += tm_now_ms() - t0;
    return TM_OK;
}

/* ---- lookup ------------------------------------------------------------- */

/*
 * tm_hostset_match - try the host, then every parent domain, with exact
 * lookups. The host is expected lower-case (tm_url_normalize) but is folded
 * anyway, into a bounded copy: only its last 253 bytes can ever match, so a
 * longer host costs no more. A trailing dot is ignored. A host of digits and
 * dots only, or with a ':', or in brackets is an IP literal: looked up whole
 * in canonical form, never by suffix (so "1.198.51.100.7" does not match an
 * entry 198.51.100.7).
 */
const char *
tm_hostset_match(const struct tm_hostset *s, const char *host, size_t n)
{
    char buf[TM_HOSTSET_OUT];
    uint8_t dot[TM_HOSTSET_MAX_NAME];         /* positions of the dots in buf */
    size_t cand[TM_HOSTSET_MAX_NAME / 2 + 1]; /* suffixes to probe, as offsets in buf */
    uint64_t hash[TM_HOSTSET_MAX_NAME / 2 + 1];
    const char *why = NULL;
    size_t i, off = 0, m = 0, ndots = 0, labels, nc;
    int numeric = 1, colon = 0;

    if (s == NULL || host == NULL || s->entries == 0)
        return NULL;
    if (n > 0 && host[n - 1] == '.')
        n--;
    if (n == 0)
        return NULL;
    if (n > TM_HOSTSET_MAX_NAME) {
        off = n - TM_HOSTSET_MAX_NAME;
        host += off;
        n -= off;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)host[i];

        if ((unsigned)(c - 'A') < 26u)
            c = (unsigned char)(c + 32);
        buf[i] = (char)c;
        if (c == '.')
            dot[ndots++] = (uint8_t)i;
        else if (c == ':')
            colon = 1;
        else if ((unsigned)(c - '0') >= 10u)
            numeric = 0;
    }
    if (off == 0 && (colon || numeric || buf[0] == '[')) {
        const char *q = buf;

        if (n >= 2 && buf[0] == '[' && buf[n - 1] == ']') {
            q = buf + 1;
            n -= 2;
        }
        if (hs_ip(q, n, buf, sizeof(buf), &m, &why) == 1)
            return hs_lookup(s, buf, m);
        return NULL;
    }
    /*
     * The candidates: suffixes starting at 0 (unless the copy was clipped)
     * or after a '.', with min_labels..max_labels labels (no other can be
     * in the set). All are hashed and their control bytes prefetched
     * first, so the cache misses of a big set overlap; then they are
     * probed longest first.
     */
    nc = 0;
    labels = ndots + 1;
    if ((off == 0 || host[-1] == '.') && labels <= s->max_labels && labels >= s->min_labels)
        cand[nc++] = 0;
    for (i = 0; i < ndots; i++) {
        size_t at = (size_t)dot[i] + 1;

        labels = ndots - i;
        if (labels < s->min_labels)
            break;
        if (labels <= s->max_labels && at < n)
            cand[nc++] = at;
    }
    for (i = 0; i < nc; i++) {
        hash[i] = hs_hash((const unsigned char *)buf + cand[i], n - cand[i]);
        __builtin_prefetch(&s->ctrl[(size_t)hash[i] & (s->cap - 1)]);
    }
    for (i = 0; i < nc; i++) {
        int found;
        size_t at = hs_find(s, buf + cand[i], n - cand[i], hash[i], &found);

        if (found)
            return s->pool + s->off[at];
    }
    return NULL;
}

void
tm_hostset_stats(const struct tm_hostset *s, struct tm_hostset_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (s == NULL)
        return;
    st->entries = s->entries;
    st->lines = s->lines;
    st->bad = s->bad;
    st->bytes = sizeof(*s) + s->cap * (sizeof(*s->ctrl) + sizeof(*s->off)) + s->pool_cap;
    st->load_ms = s->load_ms;
}
