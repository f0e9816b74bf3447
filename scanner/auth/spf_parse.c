/*
 * spf_parse.c - SPF record syntax (RFC 7208 4.5, 4.6.1, 5, 6) and macro
 * expansion (7). No DNS here.
 *
 * The whole record is parsed before anything is evaluated, so a syntax
 * error anywhere makes it a permerror even after a match (4.6). Terms are
 * split on SP only; every byte outside the grammar (controls, 8-bit) is a
 * syntax error. a and mx take their dual CIDR suffix from the end of the
 * term, so a domain-spec may itself hold ':' and '/' (5/10). A domain-spec
 * must end in a macro or in "." toplabel (7.1), checked before expansion.
 *
 * Bounds: a record is at most TM_SPF_MAX_RECORD bytes and TM_SPF_MAX_TERMS
 * terms; a macro value is clipped to TM_SPF_MAX_VALUE bytes before its
 * transformers run; an expanded domain keeps only its rightmost
 * SPF_KEEP bytes while expanding (all that 7.3's left truncation to 253
 * can use) and an explanation its first TM_SPF_MAX_EXP bytes.
 */
#include "auth/spf_int.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/str.h"

/* Bytes of a domain expansion kept while expanding: more than 253 + 1. */
#define SPF_KEEP 512

/* Digits of a macro transformer beyond which the count saturates. */
#define SPF_MAX_DIGITS 1000

/* Bytes of a term quoted in a syntax-error reason. */
#define SPF_ERR_QUOTE 64

static const char spf_delims[] = ".-+,/_=";

static int
spf_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
spf_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int
spf_alnum(int c)
{
    return spf_alpha(c) || spf_digit(c);
}

int
tm_spf_is_record(const char *p, size_t len)
{
    if (len < 6 || !tm_mem_ieq(p, "v=spf1", 6))
        return 0;
    return len == 6 || p[6] == ' ';
}

/* ---- macro-strings ------------------------------------------------------ */

enum spf_tok_kind { SPF_T_LIT, SPF_T_ESC, SPF_T_MACRO };

struct spf_tok {
    enum spf_tok_kind kind;
    char c;         /* LIT: the byte; ESC: '%', '_' or '-'; MACRO: the letter, lower case */
    int upper;      /* MACRO: URL-escape the value */
    unsigned count; /* MACRO: rightmost parts kept, 0 = all */
    int reverse;
    unsigned delims; /* bit i: spf_delims[i]; 0 = "." */
    size_t len;      /* bytes of the macro-string used */
};

/* spf_letter_ok - may macro letter c (lower case) appear in this mode */
static int
spf_letter_ok(char c, enum tm_spf_mode mode)
{
    if (strchr("slodiphv", c) != NULL)
        return 1;
    return (c == 'c' || c == 'r' || c == 't') && mode != TM_SPF_M_DOMAIN;
}

/*
 * spf_tok - read one token of a macro-string (7.1) at p. Returns 0 on a
 * syntax error: a '%' not followed by '{', '%', '_' or '-', an unknown
 * letter, a zero count, a missing '}', or a byte that is no macro-literal.
 */
static int
spf_tok(const char *p, size_t len, enum tm_spf_mode mode, struct spf_tok *t)
{
    unsigned char c = (unsigned char)p[0];
    size_t i;
    int digits = 0;

    memset(t, 0, sizeof(*t));
    if (c != '%') {
        if ((c < 0x21 || c > 0x7e) && !(c == ' ' && mode == TM_SPF_M_EXPLAIN))
            return 0;
        t->kind = SPF_T_LIT;
        t->c = (char)c;
        t->len = 1;
        return 1;
    }
    if (len < 2)
        return 0;
    if (p[1] == '%' || p[1] == '_' || p[1] == '-') {
        t->kind = SPF_T_ESC;
        t->c = p[1];
        t->len = 2;
        return 1;
    }
    if (p[1] != '{' || len < 4)
        return 0;
    t->kind = SPF_T_MACRO;
    t->c = (char)tm_lower((unsigned char)p[2]);
    t->upper = p[2] >= 'A' && p[2] <= 'Z';
    if (!spf_alpha(p[2]) || !spf_letter_ok(t->c, mode))
        return 0;
    for (i = 3; i < len && spf_digit(p[i]); i++) {
        digits = 1;
        if (t->count < SPF_MAX_DIGITS)
            t->count = t->count * 10 + (unsigned)(p[i] - '0');
    }
    if (digits && t->count == 0)
        return 0; /* "If a DIGIT is specified, the value MUST be nonzero." */
    if (i < len && (p[i] == 'r' || p[i] == 'R')) {
        t->reverse = 1;
        i++;
    }
    for (; i < len && p[i] != '}'; i++) {
        const char *d = p[i] != '\0' ? strchr(spf_delims, p[i]) : NULL;

        if (d == NULL)
            return 0;
        t->delims |= 1u << (d - spf_delims);
    }
    if (i >= len)
        return 0;
    t->len = i + 1;
    return 1;
}

/* spf_walk - validate a macro-string; *last_macro says whether it ends in a macro-expand */
static int
spf_walk(const char *p, size_t len, enum tm_spf_mode mode, int *last_macro)
{
    struct spf_tok t;
    size_t i = 0;

    *last_macro = 0;
    while (i < len) {
        if (!spf_tok(p + i, len - i, mode, &t))
            return 0;
        *last_macro = t.kind != SPF_T_LIT;
        i += t.len;
    }
    return 1;
}

int
tm_spf_macro_valid(const char *p, size_t len, enum tm_spf_mode mode)
{
    int last;

    return spf_walk(p, len, mode, &last);
}

int
tm_spf_macro_uses(const char *p, size_t len, char c)
{
    struct spf_tok t;
    size_t i = 0;

    while (i < len) {
        if (!spf_tok(p + i, len - i, TM_SPF_M_EXPLAIN, &t))
            return 0;
        if (t.kind == SPF_T_MACRO && t.c == c)
            return 1;
        i += t.len;
    }
    return 0;
}

/*
 * spf_toplabel - toplabel = ( *alphanum ALPHA *alphanum ) /
 * ( 1*alphanum "-" *( alphanum / "-" ) alphanum ): letters, digits and
 * inner hyphens, and not all digits unless it has a hyphen.
 */
static int
spf_toplabel(const char *s, size_t n)
{
    size_t i;
    int alpha = 0, dash = 0;

    if (n == 0 || !spf_alnum(s[0]) || !spf_alnum(s[n - 1]))
        return 0;
    for (i = 0; i < n; i++) {
        if (s[i] == '-')
            dash = 1;
        else if (spf_alpha(s[i]))
            alpha = 1;
        else if (!spf_digit(s[i]))
            return 0;
    }
    return alpha || dash;
}

/*
 * spf_domain_spec_ok - domain-spec = macro-string domain-end, domain-end
 * = ( "." toplabel [ "." ] ) / macro-expand. The toplabel is found from
 * the end: its bytes cannot be a macro's, since a macro ends in '}' or an
 * escape and a delimiter inside braces is never followed by alphanum.
 */
static int
spf_domain_spec_ok(const char *s, size_t n)
{
    int last_macro;
    size_t e, b;

    if (n == 0 || !spf_walk(s, n, TM_SPF_M_DOMAIN, &last_macro))
        return 0;
    if (last_macro)
        return 1;
    e = s[n - 1] == '.' ? n - 1 : n;
    for (b = e; b > 0 && (spf_alnum(s[b - 1]) || s[b - 1] == '-'); b--)
        ;
    return b > 0 && s[b - 1] == '.' && spf_toplabel(s + b, e - b);
}

/* ---- expansion ---------------------------------------------------------- */

struct spf_out {
    char *buf;
    size_t len, cap;
    enum tm_spf_mode mode;
    int cut;
};

/* spf_put - append one byte; a domain keeps its tail, an explanation its head */
static void
spf_put(struct spf_out *o, char c)
{
    if (o->len == o->cap) {
        o->cut = 1;
        if (o->mode != TM_SPF_M_DOMAIN)
            return;
        memmove(o->buf, o->buf + o->len - SPF_KEEP, SPF_KEEP);
        o->len = SPF_KEEP;
    }
    o->buf[o->len++] = c;
}

static void
spf_put_escaped(struct spf_out *o, const char *s, size_t n, int escape)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!escape || spf_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            spf_put(o, (char)c);
        } else {
            spf_put(o, '%');
            spf_put(o, hex[c >> 4]);
            spf_put(o, hex[c & 15]);
        }
    }
}

/* spf_is_delim - is c one of the token's delimiters (default ".") */
static int
spf_is_delim(char c, unsigned delims)
{
    const char *d;

    if (delims == 0)
        return c == '.';
    d = c != '\0' ? strchr(spf_delims, c) : NULL;
    return d != NULL && (delims & (1u << (d - spf_delims))) != 0;
}

/*
 * spf_put_value - 7.3: split the value on the delimiters, reverse if asked,
 * keep the rightmost count parts and join them with '.', then URL-escape
 * for an upper-case letter. The value is clipped to TM_SPF_MAX_VALUE bytes
 * first, so the part table below is bounded.
 */
static void
spf_put_value(struct spf_out *o, const char *v, size_t n, const struct spf_tok *t)
{
    uint16_t st[TM_SPF_MAX_VALUE + 1], en[TM_SPF_MAX_VALUE + 1];
    size_t np = 0, keep, k, i, s = 0;

    if (n > TM_SPF_MAX_VALUE)
        n = TM_SPF_MAX_VALUE;
    if (t->count == 0 && !t->reverse && t->delims == 0) {
        spf_put_escaped(o, v, n, t->upper);
        return;
    }
    for (i = 0; i <= n; i++) {
        if (i == n || spf_is_delim(v[i], t->delims)) {
            st[np] = (uint16_t)s;
            en[np] = (uint16_t)i;
            np++;
            s = i + 1;
        }
    }
    keep = t->count != 0 && t->count < np ? t->count : np;
    for (k = 0; k < keep; k++) {
        size_t part = t->reverse ? keep - 1 - k : np - keep + k;

        if (k > 0)
            spf_put_escaped(o, ".", 1, t->upper);
        spf_put_escaped(o, v + st[part], (size_t)(en[part] - st[part]), t->upper);
    }
}

/* spf_ip_text - %{i} (dotted, or 32 dotted nibbles) or %{c} (RFC 5952) into buf */
static size_t
spf_ip_text(const struct tm_spf_macro_env *env, int readable, char *buf, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0, i;

    if (env->family == 4) {
        int r = snprintf(buf, cap, "%u.%u.%u.%u", env->ip[0], env->ip[1], env->ip[2], env->ip[3]);
        return r > 0 && (size_t)r < cap ? (size_t)r : 0;
    }
    if (readable) {
        struct in6_addr a6;

        memcpy(&a6, env->ip, 16);
        return inet_ntop(AF_INET6, &a6, buf, (socklen_t)cap) != NULL ? strlen(buf) : 0;
    }
    for (i = 0; i < 16 && n + 4 <= cap; i++) {
        buf[n++] = hex[env->ip[i] >> 4];
        buf[n++] = '.';
        buf[n++] = hex[env->ip[i] & 15];
        if (i < 15)
            buf[n++] = '.';
    }
    return n;
}

/* spf_value - the string macro letter c stands for */
static const char *
spf_value(const struct tm_spf_macro_env *env, char c, char *buf, size_t cap, size_t *n)
{
    const char *v = NULL;

    switch (c) {
    case 's':
        v = env->s;
        break;
    case 'l':
        v = env->l;
        break;
    case 'o':
        v = env->o;
        break;
    case 'd':
        v = env->d;
        break;
    case 'h':
        v = env->h;
        break;
    case 'r':
        v = env->r != NULL ? env->r : "unknown";
        break;
    case 'p':
        v = env->p != NULL ? env->p : "unknown";
        break;
    case 'v':
        v = env->family == 4 ? "in-addr" : "ip6";
        break;
    case 'i':
    case 'c':
        *n = spf_ip_text(env, c == 'c', buf, cap);
        return buf;
    case 't': {
        int r = snprintf(buf, cap, "%" PRId64, env->t);
        *n = r > 0 && (size_t)r < cap ? (size_t)r : 0;
        return buf;
    }
    default:
        break;
    }
    if (v == NULL)
        v = "";
    *n = strnlen(v, TM_SPF_MAX_VALUE);
    return v;
}

/* spf_domain_finish - 7.3: drop one trailing dot, then labels from the left to fit 253 */
static void
spf_domain_finish(struct spf_out *o, size_t *start)
{
    size_t i;

    *start = 0;
    if (o->len > 0 && o->buf[o->len - 1] == '.')
        o->len--;
    if (o->len <= TM_SPF_MAX_DOMAIN)
        return;
    for (i = 0; i < o->len; i++) {
        if (o->buf[i] == '.' && o->len - (i + 1) <= TM_SPF_MAX_DOMAIN) {
            *start = i + 1;
            return;
        }
    }
    *start = o->len; /* no label boundary fits: nothing usable is left */
}

tm_rc
tm_spf_expand(struct tm_arena *a, const struct tm_spf_macro_env *env, const char *p, size_t len,
              enum tm_spf_mode mode, char **out, size_t *outlen)
{
    struct spf_out o;
    struct spf_tok t;
    char vbuf[80];
    size_t i = 0, start = 0;

    *out = NULL;
    *outlen = 0;
    if (mode == TM_SPF_M_UNKNOWN || !tm_spf_macro_valid(p, len, mode))
        return TM_EINVAL;
    memset(&o, 0, sizeof(o));
    o.mode = mode;
    o.cap = mode == TM_SPF_M_DOMAIN ? 2 * SPF_KEEP : TM_SPF_MAX_EXP;
    if ((o.buf = tm_arena_alloc(a, o.cap + 1)) == NULL)
        return TM_ENOMEM;
    while (i < len) {
        TM_ASSERT(spf_tok(p + i, len - i, mode, &t));
        if (t.kind == SPF_T_LIT) {
            spf_put(&o, t.c);
        } else if (t.kind == SPF_T_ESC) {
            if (t.c == '-')
                spf_put_escaped(&o, "%20", 3, 0);
            else
                spf_put(&o, t.c == '_' ? ' ' : '%');
        } else {
            size_t vn = 0;
            const char *v = spf_value(env, t.c, vbuf, sizeof(vbuf), &vn);

            spf_put_value(&o, v, vn, &t);
        }
        i += t.len;
    }
    if (mode == TM_SPF_M_DOMAIN)
        spf_domain_finish(&o, &start);
    o.buf[o.len] = '\0';
    *out = o.buf + start;
    *outlen = o.len - start;
    return TM_OK;
}

int
tm_spf_domain_ok(const char *name, size_t len, int multi)
{
    size_t i, lab = 0, labels = 1;

    if (len == 0 || len > TM_SPF_MAX_DOMAIN || (multi && name[0] == '['))
        return 0;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];

        if (c < 0x20 || c == 0x7f)
            return 0;
        if (c == '.') {
            if (lab == 0)
                return 0;
            lab = 0;
            labels++;
        } else if (++lab > 63) {
            return 0;
        }
    }
    return lab > 0 && (!multi || labels >= 2);
}

/* ---- terms -------------------------------------------------------------- */

static const struct {
    const char *name;
    enum tm_spf_kind kind;
} spf_mechs[] = {
    {"all", TM_SPF_K_ALL}, {"include", TM_SPF_K_INCLUDE}, {"a", TM_SPF_K_A},
    {"mx", TM_SPF_K_MX},   {"ptr", TM_SPF_K_PTR},         {"ip4", TM_SPF_K_IP4},
    {"ip6", TM_SPF_K_IP6}, {"exists", TM_SPF_K_EXISTS},
};

/* spf_num - a CIDR length: "0" or no leading zero, at most max; -1 if not */
static long
spf_num(const char *s, size_t n, unsigned max)
{
    size_t i;
    long v = 0;

    if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
        return -1;
    for (i = 0; i < n; i++) {
        if (!spf_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= (long)max ? v : -1;
}

/* spf_digits_tail - start of the run of digits that ends s[0..n) */
static size_t
spf_digits_tail(const char *s, size_t n)
{
    while (n > 0 && spf_digit(s[n - 1]))
        n--;
    return n;
}

/*
 * spf_dual_cidr - strip dual-cidr-length = [ "/" ip4 ] [ "//" ip6 ] from
 * the end of s[0..*n) (a and mx). -1 when a length is out of range.
 */
static int
spf_dual_cidr(const char *s, size_t *n, struct tm_spf_term *t)
{
    size_t j = spf_digits_tail(s, *n);
    long v;

    if (j < *n && j >= 2 && s[j - 1] == '/' && s[j - 2] == '/') {
        if ((v = spf_num(s + j, *n - j, 128)) < 0)
            return -1;
        t->cidr6 = (unsigned)v;
        *n = j - 2;
        j = spf_digits_tail(s, *n);
    }
    if (j < *n && j >= 1 && s[j - 1] == '/' && !(j >= 2 && s[j - 2] == '/')) {
        if ((v = spf_num(s + j, *n - j, 32)) < 0)
            return -1;
        t->cidr4 = (unsigned)v;
        *n = j - 1;
    }
    return 0;
}

/* spf_ip4 - ip4-network: four qnum without leading zeros */
static int
spf_ip4(const char *s, size_t n, unsigned char out[4])
{
    size_t i = 0, k;

    for (k = 0; k < 4; k++) {
        size_t b = i;
        long v;

        while (i < n && spf_digit(s[i]))
            i++;
        if ((v = spf_num(s + b, i - b, 255)) < 0)
            return 0;
        out[k] = (unsigned char)v;
        if (k < 3) {
            if (i >= n || s[i] != '.')
                return 0;
            i++;
        }
    }
    return i == n;
}

/* spf_ipnet - "ip4:" / "ip6:" argument: the network and an optional "/" length */
static int
spf_ipnet(const char *s, size_t n, struct tm_spf_term *t)
{
    const char *slash = memchr(s, '/', n);
    size_t an = slash != NULL ? (size_t)(slash - s) : n;
    char buf[INET6_ADDRSTRLEN + 1];
    long v;

    if (t->kind == TM_SPF_K_IP4) {
        if (!spf_ip4(s, an, t->net))
            return 0;
    } else {
        if (an == 0 || an >= sizeof(buf))
            return 0;
        memcpy(buf, s, an);
        buf[an] = '\0';
        if (inet_pton(AF_INET6, buf, t->net) != 1)
            return 0;
    }
    if (slash == NULL)
        return 1;
    v = spf_num(slash + 1, n - an - 1, t->kind == TM_SPF_K_IP4 ? 32 : 128);
    if (v < 0)
        return 0;
    if (t->kind == TM_SPF_K_IP4)
        t->cidr4 = (unsigned)v;
    else
        t->cidr6 = (unsigned)v;
    return 1;
}

/* spf_set_spec - ":" domain-spec (required when need); NULL when the syntax is wrong */
static const char *
spf_set_spec(struct tm_arena *a, const char *s, size_t n, int need, struct tm_spf_term *t, int *oom)
{
    if (n == 0)
        return need ? "missing domain" : NULL;
    if (s[0] != ':' || !spf_domain_spec_ok(s + 1, n - 1))
        return "bad domain-spec";
    if ((t->spec = tm_arena_strndup(a, s + 1, n - 1)) == NULL)
        *oom = 1;
    t->spec_len = n - 1;
    return NULL;
}

/* spf_modifier - name "=" value: redirect, exp, or an unknown one (ignored) */
static const char *
spf_modifier(struct tm_arena *a, const char *s, size_t n, size_t eq, struct tm_spf_term *t,
             int *oom)
{
    size_t i;

    if (eq == 0 || !spf_alpha(s[0]))
        return "bad modifier name";
    for (i = 1; i < eq; i++)
        if (!spf_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return "bad modifier name";
    if ((eq == 8 && tm_mem_ieq(s, "redirect", 8)) || (eq == 3 && tm_mem_ieq(s, "exp", 3))) {
        t->kind = eq == 8 ? TM_SPF_K_REDIRECT : TM_SPF_K_EXP;
        if (!spf_domain_spec_ok(s + eq + 1, n - eq - 1))
            return "bad domain-spec";
        if ((t->spec = tm_arena_strndup(a, s + eq + 1, n - eq - 1)) == NULL)
            *oom = 1;
        t->spec_len = n - eq - 1;
        return NULL;
    }
    t->kind = TM_SPF_K_UNKNOWN;
    return tm_spf_macro_valid(s + eq + 1, n - eq - 1, TM_SPF_M_UNKNOWN) ? NULL : "bad macro-string";
}

/* spf_mechanism - [ qualifier ] name [ ":" domain-spec | ":" network ] [ cidr ] */
static const char *
spf_mechanism(struct tm_arena *a, const char *s, size_t n, struct tm_spf_term *t, int *oom)
{
    size_t i, nl;

    t->qual = TM_SPF_PASS;
    if (n > 0 && s[0] != '\0' && strchr("+-~?", s[0]) != NULL) {
        t->qual = s[0] == '-'   ? TM_SPF_FAIL
                  : s[0] == '~' ? TM_SPF_SOFTFAIL
                  : s[0] == '?' ? TM_SPF_NEUTRAL
                                : TM_SPF_PASS;
        s++;
        n--;
    }
    for (nl = 0; nl < n && s[nl] != ':' && s[nl] != '/'; nl++)
        ;
    for (i = 0; i < TM_NELEM(spf_mechs); i++)
        if (strlen(spf_mechs[i].name) == nl && tm_mem_ieq(s, spf_mechs[i].name, nl))
            break;
    if (i == TM_NELEM(spf_mechs))
        return "unknown mechanism";
    t->kind = spf_mechs[i].kind;
    s += nl;
    n -= nl;
    switch (t->kind) {
    case TM_SPF_K_ALL:
        return n == 0 ? NULL : "bad all";
    case TM_SPF_K_INCLUDE:
    case TM_SPF_K_EXISTS:
        return spf_set_spec(a, s, n, 1, t, oom);
    case TM_SPF_K_PTR:
        return spf_set_spec(a, s, n, 0, t, oom);
    case TM_SPF_K_A:
    case TM_SPF_K_MX:
        if (spf_dual_cidr(s, &n, t) < 0)
            return "bad CIDR length";
        return spf_set_spec(a, s, n, 0, t, oom);
    case TM_SPF_K_IP4:
    case TM_SPF_K_IP6:
        if (n < 1 || s[0] != ':' || !spf_ipnet(s + 1, n - 1, t))
            return t->kind == TM_SPF_K_IP4 ? "bad ip4" : "bad ip6";
        return NULL;
    default:
        break;
    }
    return "unknown mechanism";
}

/*
 * spf_term - one term. A modifier is a name followed by '=' before any
 * ':' or '/' ("moo.cow/far_out=x" is a bad mechanism, not a modifier).
 */
static const char *
spf_term(struct tm_arena *a, const char *s, size_t n, struct tm_spf_term *t, int *oom)
{
    size_t i;

    t->cidr4 = 32;
    t->cidr6 = 128;
    if ((t->text = tm_arena_strndup(a, s, n)) == NULL) {
        *oom = 1;
        return NULL;
    }
    for (i = 0; i < n && s[i] != ':' && s[i] != '/' && s[i] != '='; i++)
        ;
    if (i < n && s[i] == '=')
        return spf_modifier(a, s, n, i, t, oom);
    return spf_mechanism(a, s, n, t, oom);
}

/* spf_error - out->error = "why: term" (clipped), in the arena */
static tm_rc
spf_error(struct tm_arena *a, struct tm_spf_record *out, const char *why, const char *s, size_t n)
{
    size_t need = strlen(why) + SPF_ERR_QUOTE + 8, i, k;
    char *e = tm_arena_alloc(a, need);

    if (e == NULL)
        return TM_ENOMEM;
    k = (size_t)snprintf(e, need, "%s: ", why);
    for (i = 0; i < n && i < SPF_ERR_QUOTE && k + 1 < need; i++) {
        unsigned char c = (unsigned char)s[i];
        e[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    e[k] = '\0';
    out->error = e;
    return TM_OK;
}

tm_rc
tm_spf_parse(struct tm_arena *a, const char *p, size_t len, struct tm_spf_record *out)
{
    size_t i, n = 0, k = 0;
    int oom = 0;

    memset(out, 0, sizeof(*out));
    if (!tm_spf_is_record(p, len)) {
        out->error = "not an SPF record";
        return TM_OK;
    }
    if (len > TM_SPF_MAX_RECORD) {
        out->error = "record too long";
        return TM_OK;
    }
    for (i = 6; i < len; i++)
        if (p[i] != ' ' && p[i - 1] == ' ')
            n++;
    if (n > TM_SPF_MAX_TERMS) {
        out->error = "too many terms";
        return TM_OK;
    }
    if (n > 0 && (out->terms = tm_arena_calloc(a, n, sizeof(*out->terms))) == NULL)
        return TM_ENOMEM;
    for (i = 6; i < len && k < n;) {
        struct tm_spf_term *t = &out->terms[k];
        const char *why;
        size_t b;

        while (i < len && p[i] == ' ')
            i++;
        for (b = i; i < len && p[i] != ' '; i++)
            ;
        why = spf_term(a, p + b, i - b, t, &oom);
        if (oom)
            return TM_ENOMEM;
        if (why == NULL && t->kind == TM_SPF_K_REDIRECT && out->redirect != NULL)
            why = "redirect twice";
        if (why == NULL && t->kind == TM_SPF_K_EXP && out->exp != NULL)
            why = "exp twice";
        if (why != NULL)
            return spf_error(a, out, why, p + b, i - b);
        if (t->kind == TM_SPF_K_REDIRECT)
            out->redirect = t;
        else if (t->kind == TM_SPF_K_EXP)
            out->exp = t;
        k++;
    }
    out->n = k;
    return TM_OK;
}
