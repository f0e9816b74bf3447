/*
 * zone.c - the zone-file back end: answers from one file in RFC 1035
 * section 5 master-file syntax, and from nothing else (a name the file does
 * not have is NXDOMAIN). For `tamis scan --dns-zone FILE`, tests and fuzzing.
 *
 * Syntax: $ORIGIN (relative to the current origin), $TTL (RFC 2308), "@",
 * relative and absolute names, an omitted owner (a line that starts with a
 * blank: the previous owner), optional TTL (seconds or 1h30m-style units) and
 * class IN in either order, parentheses joining lines, ; comments, quoted
 * strings with \" and \DDD escapes (also in unquoted tokens), several strings
 * per TXT record (joined: RFC 7208 3.3, RFC 6376 3.6.2.2). Types A AAAA MX
 * TXT PTR CNAME are kept; other known types (SOA, NS, SRV, ...) and RFC 3597
 * TYPEnnn are accepted and ignored, except that an SOA owner marks a zone
 * apex. Not supported (an error): $INCLUDE, $GENERATE, classes other than IN,
 * escaped dots inside labels. Errors are "file:line: message".
 *
 * Answers as a resolver gives them: names match case-insensitively; a name
 * that exists with other types (or only as an empty non-terminal between an
 * owner and its zone apex, the $ORIGIN or SOA owner above it) is NODATA; a
 * CNAME is followed for the other types, at most TM_DNS_MAX_CNAME links
 * (longer chains and loops: TEMPFAIL, a resolver's SERVFAIL); a "*" owner is
 * a wildcard with RFC 4592's closest-encloser rule.
 *
 * Bounds: struct tm_dns_zone_limits (file size, line length, decoded bytes
 * and tokens of one entry, records), names of TM_DNS_MAX_QNAME bytes,
 * character-strings of 255 bytes, TXT records of TM_DNS_MAX_TXT bytes; at
 * most lim.max_rr records per answer. After loading, the tables are only
 * read, so any number of threads may look up at once without a lock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/arena.h"
#include "core/core.h"
#include "dns/dns_impl.h"

#define TYPE_CNAME       5
#define TXT_STRING_MAX   255         /* one character-string (RFC 1035 3.3) */
#define ZONE_DEFAULT_TTL 3600        /* no $TTL and no TTL given yet */
#define ZONE_TTL_MAX     0x7fffffffu /* RFC 2181 section 8 */
#define NAMEBUF          (TM_DNS_MAX_QNAME + 2)

struct zrec {
    size_t owner;    /* pool offset of the lower-cased owner */
    size_t data;     /* pool offset: address bytes, or text / name + NUL */
    size_t data_len; /* bytes at data */
    size_t seq;      /* file order */
    uint32_t ttl;
    unsigned type;
    unsigned pref;
    unsigned line;
};

struct zname {
    size_t off, len; /* pool: the lower-cased name */
    size_t first, n; /* its records in the sorted record array (n 0: empty non-terminal) */
    size_t cname;    /* record index of its CNAME, or SIZE_MAX */
};

struct zone {
    struct tm_dns d;
    char *pool;
    size_t plen, pcap;
    struct zrec *rec;
    size_t nrec, rcap;
    struct zname *names;
    size_t nnames;
    size_t *index; /* open addressing: name index + 1, 0 empty */
    size_t nindex; /* a power of two */
};

struct ztok {
    size_t off, len; /* in the entry buffer, NUL-terminated there */
    unsigned line;
    int quoted, escdot;
};

/* The parser's state: the lexer over the text and the directives' effects. */
struct zparse {
    const char *p, *fname;
    size_t len, pos, line_start;
    unsigned line;
    struct tm_dns_zone_limits lim;
    char *buf; /* decoded tokens of the current entry */
    size_t blen, bcap;
    struct ztok *tok;
    size_t ntok, tcap;
    int owner_col0;
    char origin[NAMEBUF]; /* lower case, no trailing dot; "" is the root */
    size_t origin_len;
    size_t owner; /* pool offset of the current owner, SIZE_MAX: none yet */
    uint32_t default_ttl, last_ttl;
    int have_default_ttl;
    size_t *apex; /* pool offsets of zone apexes ($ORIGIN, SOA owners) */
    size_t napex, apcap;
    size_t nseen; /* records read, ignored types included */
    struct zone *z;
    char *err;
    size_t errlen;
};

static int fail(struct zparse *zp, unsigned line, const char *fmt, ...) TM_PRINTF(3, 4);

/* fail - "file:line: message" into err; always -1 */
static int
fail(struct zparse *zp, unsigned line, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (zp->err == NULL || zp->errlen == 0)
        return -1;
    n = snprintf(zp->err, zp->errlen, "%s:%u: ", zp->fname, line);
    if (n >= 0 && (size_t)n < zp->errlen) {
        va_start(ap, fmt);
        vsnprintf(zp->err + n, zp->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- the pool ---- */

static size_t
pool_add(struct zone *z, const void *p, size_t n)
{
    size_t off = z->plen;

    if (n + 1 > z->pcap - z->plen) {
        size_t cap = z->pcap ? z->pcap : 4096;

        while (n + 1 > cap - z->plen)
            cap *= 2;
        z->pool = tm_xrealloc(z->pool, cap);
        z->pcap = cap;
    }
    if (p != NULL && n > 0)
        memcpy(z->pool + off, p, n);
    z->pool[off + n] = '\0';
    z->plen += n + 1;
    return off;
}

/* ---- the lexer ---- */

static int
is_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static int
is_delim(int c)
{
    return is_blank(c) || c == '\n' || c == ';' || c == '(' || c == ')' || c == '"';
}

static int
buf_put(struct zparse *zp, char c)
{
    if (zp->blen >= zp->lim.max_entry)
        return fail(zp, zp->line, "entry longer than %zu bytes", zp->lim.max_entry);
    if (zp->blen == zp->bcap) {
        zp->bcap = zp->bcap ? zp->bcap * 2 : 1024;
        zp->buf = tm_xrealloc(zp->buf, zp->bcap);
    }
    zp->buf[zp->blen++] = c;
    return 0;
}

/* lex_escape - after a backslash: \DDD (a byte, decimal) or \X (X itself) */
static int
lex_escape(struct zparse *zp, char *out)
{
    const char *p = zp->p;
    size_t i = zp->pos;
    unsigned v;

    if (i >= zp->len || p[i] == '\n')
        return fail(zp, zp->line, "backslash at the end of a line");
    if (p[i] >= '0' && p[i] <= '9') {
        if (zp->len - i < 3 || p[i + 1] < '0' || p[i + 1] > '9' || p[i + 2] < '0' || p[i + 2] > '9')
            return fail(zp, zp->line, "\\DDD escape needs three digits");
        v = (unsigned)(p[i] - '0') * 100 + (unsigned)(p[i + 1] - '0') * 10 +
            (unsigned)(p[i + 2] - '0');
        if (v > 255)
            return fail(zp, zp->line, "\\%c%c%c escape is over 255", p[i], p[i + 1], p[i + 2]);
        *out = (char)v;
        zp->pos += 3;
        return 0;
    }
    *out = p[i];
    zp->pos++;
    return 0;
}

/* lex_token - one quoted or plain token at zp->pos, decoded into the entry buffer */
static int
lex_token(struct zparse *zp)
{
    struct ztok t;
    char c;

    if (zp->ntok >= zp->lim.max_tokens)
        return fail(zp, zp->line, "more than %zu tokens in one entry", zp->lim.max_tokens);
    memset(&t, 0, sizeof(t));
    t.off = zp->blen;
    t.line = zp->line;
    t.quoted = zp->p[zp->pos] == '"';
    if (t.quoted)
        zp->pos++;
    for (;;) {
        if (zp->pos - zp->line_start > zp->lim.max_line)
            return fail(zp, zp->line, "line longer than %zu bytes", zp->lim.max_line);
        if (zp->pos >= zp->len) {
            if (t.quoted)
                return fail(zp, t.line, "quoted string not closed");
            break;
        }
        c = zp->p[zp->pos];
        if (t.quoted && c == '"') {
            zp->pos++;
            break;
        }
        if (t.quoted && c == '\n')
            return fail(zp, zp->line, "end of line inside a quoted string");
        if (!t.quoted && is_delim((unsigned char)c))
            break;
        zp->pos++;
        if (c == '\\') {
            if (lex_escape(zp, &c) < 0)
                return -1;
            if (c == '.')
                t.escdot = 1;
        }
        if (buf_put(zp, c) < 0)
            return -1;
    }
    t.len = zp->blen - t.off;
    if (buf_put(zp, '\0') < 0)
        return -1;
    if (zp->ntok == zp->tcap) {
        zp->tcap = zp->tcap ? zp->tcap * 2 : 16;
        zp->tok = tm_xrealloc(zp->tok, zp->tcap * sizeof(*zp->tok));
    }
    zp->tok[zp->ntok++] = t;
    return 0;
}

/*
 * lex_entry - the tokens of the next entry: one line, or several joined by
 * parentheses. 1: an entry; 0: end of file; -1: error. owner_col0 tells
 * whether the first token starts in column 0 (an owner or a $directive).
 */
static int
lex_entry(struct zparse *zp)
{
    int depth = 0;
    unsigned open_line = 0;
    char c;

    zp->ntok = 0;
    zp->blen = 0;
    for (;;) {
        if (zp->pos - zp->line_start > zp->lim.max_line)
            return fail(zp, zp->line, "line longer than %zu bytes", zp->lim.max_line);
        if (zp->pos >= zp->len) {
            if (depth > 0)
                return fail(zp, open_line, "\"(\" not closed");
            return zp->ntok > 0;
        }
        c = zp->p[zp->pos];
        if (c == '\n') {
            zp->pos++;
            zp->line++;
            zp->line_start = zp->pos;
            if (depth == 0 && zp->ntok > 0)
                return 1;
        } else if (is_blank((unsigned char)c)) {
            zp->pos++;
        } else if (c == ';') {
            while (zp->pos < zp->len && zp->p[zp->pos] != '\n')
                zp->pos++;
        } else if (c == '(') {
            if (depth > 0)
                return fail(zp, zp->line, "nested \"(\"");
            depth = 1;
            open_line = zp->line;
            zp->pos++;
        } else if (c == ')') {
            if (depth == 0)
                return fail(zp, zp->line, "\")\" without \"(\"");
            depth = 0;
            zp->pos++;
        } else {
            if (zp->ntok == 0)
                zp->owner_col0 = zp->pos == zp->line_start;
            if (lex_token(zp) < 0)
                return -1;
        }
    }
}

/* ---- names, TTLs, types ---- */

static const char *
tok_str(const struct zparse *zp, const struct ztok *t)
{
    return zp->buf + t->off;
}

/*
 * make_name - a token as an absolute name without the trailing dot: "@" is
 * the origin, a name without a final dot is relative to it. Lower-cased
 * when `lower` (owners); record data keeps its case.
 */
static int
make_name(struct zparse *zp, const struct ztok *t, int lower, char *out, size_t *outlen)
{
    const char *s = tok_str(zp, t);
    size_t n = t->len, total, i, label = 0;

    if (t->escdot || memchr(s, '\0', n) != NULL)
        return fail(zp, t->line, "escaped dot or NUL in name \"%s\" not supported", s);
    if (n == 1 && s[0] == '@') {
        n = 0;
    } else if (n > 0 && s[n - 1] == '.') {
        if (n == 1)
            return fail(zp, t->line, "the root name \".\" is not usable here");
        n--;
    } else if (n == 0) {
        return fail(zp, t->line, "empty name");
    } else {
        total = n + (zp->origin_len > 0 ? 1 + zp->origin_len : 0);
        if (total > TM_DNS_MAX_QNAME)
            return fail(zp, t->line, "name \"%s\" longer than %d bytes", s, TM_DNS_MAX_QNAME);
        memcpy(out, s, n);
        if (zp->origin_len > 0) {
            out[n] = '.';
            memcpy(out + n + 1, zp->origin, zp->origin_len);
        }
        n = total;
        s = out;
    }
    if (n == 0) { /* "@" */
        if (zp->origin_len == 0)
            return fail(zp, t->line, "\"@\" with no $ORIGIN");
        s = zp->origin;
        n = zp->origin_len;
    }
    if (n > TM_DNS_MAX_QNAME)
        return fail(zp, t->line, "name longer than %d bytes", TM_DNS_MAX_QNAME);
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (c == '.') {
            if (label == 0)
                return fail(zp, t->line, "empty label in name \"%s\"", tok_str(zp, t));
            label = 0;
        } else if (++label > TM_DNS_MAX_LABEL) {
            return fail(zp, t->line, "label longer than %d bytes", TM_DNS_MAX_LABEL);
        }
        out[i] = (char)(lower && c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    if (label == 0)
        return fail(zp, t->line, "empty label in name \"%s\"", tok_str(zp, t));
    out[n] = '\0';
    *outlen = n;
    return 0;
}

/* parse_ttl - "3600", "1h30m", "2W" (BIND's units); 1 when it is a TTL */
static int
parse_ttl(const char *s, size_t n, uint32_t *out)
{
    uint64_t total = 0, v = 0;
    size_t i;
    int digits = 0;

    if (n == 0 || s[0] < '0' || s[0] > '9')
        return 0;
    for (i = 0; i < n; i++) {
        char c = s[i];
        uint64_t mul = 0;

        if (c >= '0' && c <= '9') {
            v = v * 10 + (uint64_t)(c - '0');
            digits = 1;
            if (v > ZONE_TTL_MAX)
                return 0;
            continue;
        }
        switch (c | 0x20) {
        case 's':
            mul = 1;
            break;
        case 'm':
            mul = 60;
            break;
        case 'h':
            mul = 3600;
            break;
        case 'd':
            mul = 86400;
            break;
        case 'w':
            mul = 604800;
            break;
        default:
            return 0;
        }
        if (!digits)
            return 0;
        total += v * mul;
        v = 0;
        digits = 0;
        if (total > ZONE_TTL_MAX)
            return 0;
    }
    total += v;
    if (total > ZONE_TTL_MAX)
        return 0;
    *out = (uint32_t)total;
    return 1;
}

static int
is_class(const char *s)
{
    return strcasecmp(s, "IN") == 0 || strcasecmp(s, "CH") == 0 || strcasecmp(s, "HS") == 0 ||
           strcasecmp(s, "CS") == 0 || strcasecmp(s, "ANY") == 0 || strcasecmp(s, "NONE") == 0;
}

/* Types that are accepted and ignored (their data is not even checked). */
static const char *const ignored_types[] = {
    "SOA",    "NS",         "SRV",     "CAA",    "DS",         "DNSKEY", "RRSIG", "NSEC",
    "NSEC3",  "NSEC3PARAM", "TLSA",    "SSHFP",  "NAPTR",      "HINFO",  "SPF",   "DNAME",
    "LOC",    "RP",         "AFSDB",   "CERT",   "OPENPGPKEY", "SVCB",   "HTTPS", "URI",
    "SMIMEA", "CDS",        "CDNSKEY", "ZONEMD", "DHCID",      "KEY",    "SIG",   "NULL",
    "WKS",    "MINFO",      "MB",      "MG",     "MR",         "MD",     "MF",    "X25",
    "ISDN",   "RT",         "NSAP",    "PX",     "GPOS",       "KX",     "APL",   "IPSECKEY",
    "EUI48",  "EUI64",      "CSYNC",   "HIP",    "NID",        "L32",    "L64",   "LP",
};

#define TYPE_IGNORED 0 /* type_code's answer for the list above; such records have no data */

/* type_code - the type number of a kept type, TYPE_IGNORED, or -1: unknown */
static int
type_code(const char *s)
{
    static const struct {
        const char *name;
        unsigned code;
    } kept[] = {{"A", TM_DNS_A},     {"AAAA", TM_DNS_AAAA}, {"MX", TM_DNS_MX},
                {"TXT", TM_DNS_TXT}, {"PTR", TM_DNS_PTR},   {"CNAME", TYPE_CNAME}};
    size_t i;

    for (i = 0; i < TM_NELEM(kept); i++)
        if (strcasecmp(s, kept[i].name) == 0)
            return (int)kept[i].code;
    for (i = 0; i < TM_NELEM(ignored_types); i++)
        if (strcasecmp(s, ignored_types[i]) == 0)
            return TYPE_IGNORED;
    if (strncasecmp(s, "TYPE", 4) == 0 && s[4] >= '0' && s[4] <= '9' &&
        strspn(s + 4, "0123456789") == strlen(s + 4) && strlen(s + 4) <= 5)
        return TYPE_IGNORED;
    return -1;
}

/* ---- entries ---- */

/* add_apex - remember a zone apex, a name already in the pool */
static int
add_apex(struct zparse *zp, size_t off)
{
    if (zp->napex == zp->apcap) {
        zp->apcap = zp->apcap ? zp->apcap * 2 : 8;
        zp->apex = tm_xrealloc(zp->apex, zp->apcap * sizeof(*zp->apex));
    }
    zp->apex[zp->napex++] = off;
    return 0;
}

static int
do_directive(struct zparse *zp)
{
    const struct ztok *t = zp->tok;
    const char *dir = tok_str(zp, &t[0]);
    char name[NAMEBUF];
    size_t n;

    if (strcasecmp(dir, "$ORIGIN") == 0) {
        if (zp->ntok != 2)
            return fail(zp, t[0].line, "$ORIGIN takes one name");
        if (zp->tok[1].len == 1 && tok_str(zp, &zp->tok[1])[0] == '.') {
            zp->origin[0] = '\0';
            zp->origin_len = 0;
            return 0;
        }
        if (make_name(zp, &t[1], 1, name, &n) < 0)
            return -1;
        memcpy(zp->origin, name, n + 1);
        zp->origin_len = n;
        return add_apex(zp, pool_add(zp->z, name, n));
    }
    if (strcasecmp(dir, "$TTL") == 0) {
        if (zp->ntok != 2 || !parse_ttl(tok_str(zp, &t[1]), t[1].len, &zp->default_ttl))
            return fail(zp, t[0].line, "$TTL takes one TTL (0 to %u seconds)", ZONE_TTL_MAX);
        zp->have_default_ttl = 1;
        return 0;
    }
    if (strcasecmp(dir, "$INCLUDE") == 0 || strcasecmp(dir, "$GENERATE") == 0)
        return fail(zp, t[0].line, "%s is not supported", dir);
    return fail(zp, t[0].line, "unknown directive %s", dir);
}

/* rdata_txt - the character-strings joined into one pool entry */
static int
rdata_txt(struct zparse *zp, size_t i, struct zrec *r)
{
    size_t k, total = 0;

    if (i >= zp->ntok)
        return fail(zp, zp->tok[0].line, "TXT needs at least one string");
    for (k = i; k < zp->ntok; k++) {
        if (zp->tok[k].len > TXT_STRING_MAX)
            return fail(zp, zp->tok[k].line, "TXT string longer than %d bytes", TXT_STRING_MAX);
        total += zp->tok[k].len;
        if (total > TM_DNS_MAX_TXT)
            return fail(zp, zp->tok[k].line, "TXT record longer than %d bytes", TM_DNS_MAX_TXT);
    }
    r->data = pool_add(zp->z, NULL, total);
    r->data_len = total;
    for (total = 0, k = i; k < zp->ntok; k++) {
        memcpy(zp->z->pool + r->data + total, tok_str(zp, &zp->tok[k]), zp->tok[k].len);
        total += zp->tok[k].len;
    }
    return 0;
}

/* rdata - the record data of a kept type into the pool */
static int
rdata(struct zparse *zp, size_t i, struct zrec *r)
{
    const struct ztok *t = zp->tok;
    unsigned char addr[16];
    char name[NAMEBUF];
    size_t n, want = r->type == TM_DNS_MX ? 2 : 1;
    unsigned long pref;
    char *end;

    if (r->type == TM_DNS_TXT)
        return rdata_txt(zp, i, r);
    if (zp->ntok - i != want)
        return fail(zp, t[0].line, "%s needs %zu field%s, not %zu",
                    r->type == TM_DNS_MX ? "MX" : "this type", want, want > 1 ? "s" : "",
                    zp->ntok - i);
    if (r->type == TM_DNS_A || r->type == TM_DNS_AAAA) {
        int af = r->type == TM_DNS_A ? AF_INET : AF_INET6;

        if (inet_pton(af, tok_str(zp, &t[i]), addr) != 1)
            return fail(zp, t[i].line, "bad %s address \"%s\"", af == AF_INET ? "IPv4" : "IPv6",
                        tok_str(zp, &t[i]));
        r->data_len = af == AF_INET ? 4 : 16;
        r->data = pool_add(zp->z, addr, r->data_len);
        return 0;
    }
    if (r->type == TM_DNS_MX) {
        errno = 0;
        pref = strtoul(tok_str(zp, &t[i]), &end, 10);
        if (t[i].len == 0 || *end != '\0' || errno != 0 || pref > 65535 ||
            tok_str(zp, &t[i])[0] == '-')
            return fail(zp, t[i].line, "bad MX preference \"%s\"", tok_str(zp, &t[i]));
        r->pref = (unsigned)pref;
        i++;
    }
    if (make_name(zp, &t[i], 0, name, &n) < 0)
        return -1;
    r->data = pool_add(zp->z, name, n);
    r->data_len = n;
    return 0;
}

static int
add_record(struct zparse *zp, const struct zrec *r)
{
    struct zone *z = zp->z;

    if (z->nrec == z->rcap) {
        z->rcap = z->rcap ? z->rcap * 2 : 256;
        z->rec = tm_xrealloc(z->rec, z->rcap * sizeof(*z->rec));
    }
    z->rec[z->nrec] = *r;
    z->rec[z->nrec].seq = z->nrec;
    z->nrec++;
    return 0;
}

/* owner_and_fields - the owner (given or the previous one), then TTL and class in either order */
static int
owner_and_fields(struct zparse *zp, size_t *ip, uint32_t *ttl)
{
    char name[NAMEBUF];
    size_t i = 0, n, k;
    int seen_ttl = 0, seen_class = 0;

    if (zp->owner_col0) {
        if (make_name(zp, &zp->tok[0], 1, name, &n) < 0)
            return -1;
        if (zp->owner == SIZE_MAX || strcmp(zp->z->pool + zp->owner, name) != 0)
            zp->owner = pool_add(zp->z, name, n); /* a run of "@" lines shares one copy */
        i = 1;
    } else if (zp->owner == SIZE_MAX) {
        return fail(zp, zp->tok[0].line, "no owner name (the line starts with a blank)");
    }
    for (k = 0; k < 2 && i < zp->ntok; k++) {
        const char *s = tok_str(zp, &zp->tok[i]);

        if (!seen_ttl && parse_ttl(s, zp->tok[i].len, ttl)) {
            seen_ttl = 1;
        } else if (!seen_class && is_class(s)) {
            if (strcasecmp(s, "IN") != 0)
                return fail(zp, zp->tok[i].line, "class %s is not supported (only IN)", s);
            seen_class = 1;
        } else {
            break;
        }
        i++;
    }
    if (!seen_ttl)
        *ttl = zp->have_default_ttl ? zp->default_ttl : zp->last_ttl;
    else if (!zp->have_default_ttl)
        zp->last_ttl = *ttl; /* RFC 1035: the last explicit TTL is the default */
    *ip = i;
    return 0;
}

static int
do_entry(struct zparse *zp)
{
    struct zrec r;
    size_t i = 0;
    int code;

    if (zp->owner_col0 && !zp->tok[0].quoted && tok_str(zp, &zp->tok[0])[0] == '$')
        return do_directive(zp);
    memset(&r, 0, sizeof(r));
    r.line = zp->tok[0].line;
    if (owner_and_fields(zp, &i, &r.ttl) < 0)
        return -1;
    if (i >= zp->ntok)
        return fail(zp, r.line, "no record type");
    if ((code = type_code(tok_str(zp, &zp->tok[i]))) < 0)
        return fail(zp, zp->tok[i].line, "unknown record type \"%s\"", tok_str(zp, &zp->tok[i]));
    if (zp->nseen++ >= zp->lim.max_records)
        return fail(zp, r.line, "more than %zu records", zp->lim.max_records);
    r.owner = zp->owner;
    if (code == TYPE_IGNORED) { /* kept without data: its owner exists */
        if (strcasecmp(tok_str(zp, &zp->tok[i]), "SOA") == 0)
            add_apex(zp, zp->owner);
        r.data = zp->owner;
        return add_record(zp, &r);
    }
    r.type = (unsigned)code;
    if (rdata(zp, i + 1, &r) < 0)
        return -1;
    return add_record(zp, &r);
}

/* ---- the lookup tables ---- */

static uint64_t
name_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return h ^ (h >> 29);
}

static _Thread_local struct zone *sort_zone; /* qsort has no context argument */

static int
rec_cmp(const void *a, const void *b)
{
    const struct zrec *x = a, *y = b;
    int c = strcmp(sort_zone->pool + x->owner, sort_zone->pool + y->owner);

    if (c != 0)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
name_cmp(const void *a, const void *b)
{
    const struct zname *x = a, *y = b;
    int c = strcmp(sort_zone->pool + x->off, sort_zone->pool + y->off);

    if (c != 0)
        return c;
    return (y->n > 0) - (x->n > 0); /* the one with records first */
}

static int
apex_cmp(const void *a, const void *b)
{
    return strcmp(sort_zone->pool + *(const size_t *)a, sort_zone->pool + *(const size_t *)b);
}

static int
is_apex(struct zparse *zp, const char *s)
{
    size_t lo = 0, hi = zp->napex;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s, zp->z->pool + zp->apex[mid]);

        if (c == 0)
            return 1;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

static void
push_name(struct zname **v, size_t *n, size_t *cap, const struct zname *nm)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *v = tm_xrealloc(*v, *cap * sizeof(**v));
    }
    (*v)[(*n)++] = *nm;
}

/*
 * add_ents - the empty non-terminals above one owner: every ancestor up to
 * the nearest zone apex above or at it (which exists too). An owner under
 * no apex gets none. Ancestors are suffixes of the owner, so they point into
 * its pool entry.
 */
static void
add_ents(struct zparse *zp, size_t owner, struct zname **v, size_t *n, size_t *cap)
{
    const char *s = zp->z->pool + owner, *p;
    struct zname nm;
    size_t top = SIZE_MAX;

    for (p = s; p != NULL; p = strchr(p, '.') ? strchr(p, '.') + 1 : NULL)
        if (is_apex(zp, p)) {
            top = (size_t)(p - s);
            break;
        }
    if (top == SIZE_MAX || top == 0)
        return;
    memset(&nm, 0, sizeof(nm));
    nm.cname = SIZE_MAX;
    for (p = strchr(s, '.') + 1; p != NULL; p = strchr(p, '.') ? strchr(p, '.') + 1 : NULL) {
        nm.off = owner + (size_t)(p - s);
        nm.len = strlen(p);
        push_name(v, n, cap, &nm);
        if ((size_t)(p - s) == top)
            break;
    }
}

/*
 * group - one zname per owner over the sorted records. CNAME exclusivity
 * (RFC 1034 3.6.2): one CNAME and no other kept type at its owner (ignored
 * types such as RRSIG and NSEC may sit beside it).
 */
static int
group(struct zparse *zp, struct zname **v, size_t *n, size_t *cap)
{
    struct zone *z = zp->z;
    struct zname nm;
    size_t i, j, k, other;

    for (i = 0; i < z->nrec; i = j) {
        other = 0;
        memset(&nm, 0, sizeof(nm));
        nm.off = z->rec[i].owner;
        nm.len = strlen(z->pool + nm.off);
        nm.first = i;
        nm.cname = SIZE_MAX;
        for (j = i; j < z->nrec && strcmp(z->pool + z->rec[j].owner, z->pool + nm.off) == 0; j++)
            ;
        nm.n = j - i;
        for (k = i; k < j; k++)
            if (z->rec[k].type != TYPE_IGNORED && z->rec[k].type != TYPE_CNAME)
                other++;
        for (k = i; k < j; k++)
            if (z->rec[k].type == TYPE_CNAME) {
                if (other > 0 || nm.cname != SIZE_MAX)
                    return fail(zp, z->rec[k].line, "CNAME and other data for %s",
                                z->pool + nm.off);
                nm.cname = k;
            }
        push_name(v, n, cap, &nm);
        add_ents(zp, nm.off, v, n, cap);
    }
    return 0;
}

/*
 * build - sort the records by owner, make the name table (owners and empty
 * non-terminals, sorted, unique) and the hash index over it.
 */
static int
build(struct zparse *zp)
{
    struct zone *z = zp->z;
    struct zname *v = NULL;
    size_t n = 0, cap = 0, i, k;

    sort_zone = z;
    if (z->nrec > 1)
        qsort(z->rec, z->nrec, sizeof(*z->rec), rec_cmp);
    if (zp->napex > 1)
        qsort(zp->apex, zp->napex, sizeof(*zp->apex), apex_cmp);
    if (group(zp, &v, &n, &cap) < 0) {
        tm_free(v);
        return -1;
    }
    if (n > 1)
        qsort(v, n, sizeof(*v), name_cmp);
    for (i = 0, k = 0; i < n; i++)
        if (k == 0 || strcmp(z->pool + v[k - 1].off, z->pool + v[i].off) != 0)
            v[k++] = v[i];
    z->names = v;
    z->nnames = k;
    for (z->nindex = 16; z->nindex < 2 * k;)
        z->nindex *= 2;
    z->index = tm_xcalloc(z->nindex, sizeof(*z->index));
    for (i = 0; i < k; i++) {
        size_t h = (size_t)name_hash(z->pool + v[i].off, v[i].len) & (z->nindex - 1);

        while (z->index[h] != 0)
            h = (h + 1) & (z->nindex - 1);
        z->index[h] = i + 1;
    }
    return 0;
}

/* ---- lookups ---- */

static const struct zname *
find(const struct zone *z, const char *s, size_t n)
{
    size_t h = (size_t)name_hash(s, n) & (z->nindex - 1), i;

    while ((i = z->index[h]) != 0) {
        const struct zname *nm = &z->names[i - 1];

        if (nm->len == n && memcmp(z->pool + nm->off, s, n) == 0)
            return nm;
        h = (h + 1) & (z->nindex - 1);
    }
    return NULL;
}

/* find_wild - RFC 4592: "*." + the closest existing ancestor of a name that does not exist */
static const struct zname *
find_wild(const struct zone *z, const char *s, size_t n)
{
    char buf[NAMEBUF + 2];
    const char *dot;

    while ((dot = memchr(s, '.', n)) != NULL) {
        n -= (size_t)(dot + 1 - s);
        s = dot + 1;
        if (find(z, s, n) != NULL) {
            buf[0] = '*';
            buf[1] = '.';
            memcpy(buf + 2, s, n);
            return find(z, buf, n + 2);
        }
    }
    return NULL;
}

/* answer - one query: follow CNAMEs, then the records of the type */
static tm_rc
answer(struct zone *z, struct tm_arena *a, struct tm_dns_ask *ask)
{
    struct tm_dns_rrset *res = &ask->q->res;
    struct tm_dns_rr rr[TM_DNS_MAX_RR];
    const struct zname *nm;
    char cur[2][NAMEBUF];
    const char *s = ask->name;
    size_t n = ask->len, i, k = 0, hops;

    for (hops = 0;; hops++) {
        if ((nm = find(z, s, n)) == NULL && (nm = find_wild(z, s, n)) == NULL) {
            res->status = TM_DNS_NXDOMAIN;
            return TM_OK;
        }
        if (nm->cname == SIZE_MAX)
            break;
        if (hops == TM_DNS_MAX_CNAME) {
            res->status = TM_DNS_TEMPFAIL;
            return TM_OK;
        }
        {
            const struct zrec *c = &z->rec[nm->cname];
            char *d = cur[hops % 2];

            for (i = 0; i < c->data_len; i++) {
                char ch = z->pool[c->data + i];

                d[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch);
            }
            d[c->data_len] = '\0';
            s = d;
            n = c->data_len;
        }
    }
    memset(rr, 0, sizeof(rr));
    for (i = nm->first; i < nm->first + nm->n && k < z->d.lim.max_rr; i++) {
        const struct zrec *r = &z->rec[i];

        if (r->type != (unsigned)ask->q->type)
            continue;
        rr[k].ttl = r->ttl;
        if (r->type == TM_DNS_A || r->type == TM_DNS_AAAA) {
            rr[k].family = r->type == TM_DNS_A ? 4 : 6;
            memcpy(rr[k].addr, z->pool + r->data, r->data_len);
        } else {
            rr[k].pref = r->pref;
            rr[k].text = z->pool + r->data;
            rr[k].len = TM_MIN(r->data_len, z->d.lim.max_txt);
        }
        k++;
    }
    for (i = 1; i < k; i++) /* RFC 2181 5.2: an RRset has one TTL, the lowest given */
        rr[0].ttl = TM_MIN(rr[0].ttl, rr[i].ttl);
    for (i = 1; i < k; i++)
        rr[i].ttl = rr[0].ttl;
    res->status = k > 0 ? TM_DNS_OK : TM_DNS_NODATA;
    if (tm_dns_rrset_copy(a, rr, k, res) != TM_OK) {
        res->status = TM_DNS_TEMPFAIL;
        return TM_ENOMEM;
    }
    return TM_OK;
}

static tm_rc
zone_lookup(struct tm_dns *d, struct tm_arena *a, struct tm_dns_ask *asks, size_t n,
            double deadline_ms)
{
    size_t i;
    tm_rc rc = TM_OK;

    (void)deadline_ms; /* answers are in memory: no waiting */
    for (i = 0; i < n; i++)
        if (answer(d->impl, a, &asks[i]) != TM_OK)
            rc = TM_ENOMEM;
    return rc;
}

static void
zone_destroy(struct tm_dns *d)
{
    struct zone *z = d->impl;

    tm_free(z->pool);
    tm_free(z->rec);
    tm_free(z->names);
    tm_free(z->index);
    tm_free(z);
}

static const struct tm_dns_ops zone_ops = {zone_lookup, zone_destroy};

/* tm_dns_zone_limits_default - the TM_DNS_ZONE_MAX_* bounds */
struct tm_dns_zone_limits
tm_dns_zone_limits_default(void)
{
    struct tm_dns_zone_limits l;

    l.max_bytes = TM_DNS_ZONE_MAX_BYTES;
    l.max_line = TM_DNS_ZONE_MAX_LINE;
    l.max_entry = TM_DNS_ZONE_MAX_ENTRY;
    l.max_tokens = TM_DNS_ZONE_MAX_TOKENS;
    l.max_records = TM_DNS_ZONE_MAX_RECORDS;
    return l;
}

/*
 * tm_dns_new_zone_mem - parse entries one by one (lex_entry, do_entry),
 * then build the tables. The parser's scratch memory is freed here; the
 * zone keeps the pool, the records, the names and the index.
 */
tm_rc
tm_dns_new_zone_mem(const char *text, size_t len, const char *name,
                    const struct tm_dns_zone_limits *lim, struct tm_dns **out, char *err,
                    size_t errlen)
{
    struct zparse zp;
    struct zone *z;
    int r = 0;

    *out = NULL;
    memset(&zp, 0, sizeof(zp));
    zp.p = text;
    zp.len = len;
    zp.fname = name != NULL ? name : "(zone)";
    zp.line = 1;
    zp.lim = lim != NULL ? *lim : tm_dns_zone_limits_default();
    zp.owner = SIZE_MAX;
    zp.last_ttl = ZONE_DEFAULT_TTL;
    zp.err = err;
    zp.errlen = errlen;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (len > zp.lim.max_bytes) {
        fail(&zp, 0, "zone file larger than %zu bytes", zp.lim.max_bytes);
        return TM_EINVAL;
    }
    z = tm_xcalloc(1, sizeof(*z));
    tm_dns_init(&z->d, &zone_ops, z);
    zp.z = z;
    while (r >= 0 && (r = lex_entry(&zp)) > 0)
        r = do_entry(&zp);
    if (r >= 0)
        r = build(&zp);
    tm_free(zp.buf);
    tm_free(zp.tok);
    tm_free(zp.apex);
    if (r < 0) {
        zone_destroy(&z->d);
        return TM_EINVAL;
    }
    *out = &z->d;
    return TM_OK;
}

/* tm_dns_new_zone - read the file whole (at most max_bytes) and parse it from memory */
tm_rc
tm_dns_new_zone(const char *path, struct tm_dns **out, char *err, size_t errlen)
{
    struct tm_dns_zone_limits lim = tm_dns_zone_limits_default();
    FILE *f;
    struct stat st;
    char *text;
    size_t n;
    tm_rc rc;

    *out = NULL;
    if ((f = fopen(path, "rb")) == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return TM_EIO;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (unsigned long long)st.st_size > lim.max_bytes) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: not a regular file of at most %zu bytes", path,
                     lim.max_bytes);
        fclose(f);
        return TM_EIO;
    }
    text = tm_xmalloc((size_t)st.st_size + 1);
    n = fread(text, 1, (size_t)st.st_size + 1, f);
    if (ferror(f) || n > (size_t)st.st_size) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: read error or file changed while read", path);
        fclose(f);
        tm_free(text);
        return TM_EIO;
    }
    fclose(f);
    rc = tm_dns_new_zone_mem(text, n, path, &lim, out, err, errlen);
    tm_free(text);
    return rc;
}

/* tm_dns_zone_name_at - the i-th known name, for the fuzz harness */
const char *
tm_dns_zone_name_at(const struct tm_dns *d, size_t i)
{
    const struct zone *z;

    if (d == NULL || d->ops != &zone_ops)
        return NULL;
    z = d->impl;
    return i < z->nnames ? z->pool + z->names[i].off : NULL;
}
