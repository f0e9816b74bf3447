/*
 * extract.c - URL candidates in plain text (tm_url_extract_text).
 *
 * The text is cut into words at whitespace, NBSP, the delimiters
 * <>"'`{}|\^ and common Unicode punctuation (curly quotes, guillemets,
 * dashes, ideographic space); "{.}" does not cut. Inside a word, at each
 * position that starts a token, we try in turn: a scheme (http, https,
 * ftp and their defanged spellings hxxp, h**p, fxp, with "://", "[:]//"
 * or "[://]"), a mail address (local@host, the host with a known public
 * suffix), a "www." name, and a bare host name whose last label is a
 * public suffix. A URL runs to the end of its word, then trailing
 * punctuation .,;:!?*~ and unbalanced ')' and ']' are dropped (what mail
 * readers and SpamAssassin do). Bare names must stand at a word boundary
 * (not after a letter, digit, '@', '.', '-', '/' or '_'), have two or more
 * labels, an alphabetic known TLD that is not capitalised like a sentence
 * ("end.The"), and for TLDs that look like file extensions (zip, mov, py,
 * sh, md ...) a path, a port or a "www." first label.
 *
 * Work is linear: every token start is tried once, a local part is looked
 * at for at most TM_URL_LOCAL_MAX bytes and a host for TM_URL_MAX_HOST, and
 * the paren balance is counted once per URL. Candidates longer than
 * TM_URL_MAX_LEN are cut (flag CUT).
 */
#include "url/url.h"

#include <string.h>

#include "core/arena.h"
#include "url/url_int.h"

#define TM_URL_LOCAL_MAX 64u /* bytes of a mail address's local part (RFC 5321 4.5.3.1.1) */

/* TLDs that are also common file extensions: a bare name needs more evidence. */
static const char *const ext_tlds[] = {
    "zip", "mov", "py", "sh", "md", "pl", "rs", "so",  "cc",  "ps", "ai", "ml", "mk",   "in",
    "am",  "ac",  "pm", "sb", "sc", "do", "ms", "app", "cab", "js", "cs", "bz", "name",
};

struct ctx {
    const unsigned char *p;
    size_t n;
    tm_url_found_fn fn;
    void *ud;
    unsigned char *scratch; /* "mailto:" + address */
    size_t ws;              /* start of the current word */
};

/* A host name run: its end in the text and the undefanged, lower-case name. */
struct hrun {
    size_t end; /* after the last byte of the name (a trailing dot excluded) */
    size_t tld; /* offset in the text of the last label */
    unsigned char name[TM_URL_MAX_HOST + 1];
    size_t len;
    size_t labels;
    int defanged;
    int toolong;
};

static int
is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/*
 * Byte classes for the word loop of tm_url_extract_text: CL_DELIM, a byte
 * that may start a delimiter (delim decides); CL_URL, a byte without which
 * a word cannot hold a URL: "://" or a defanged scheme needs ':', a mail
 * address '@', a host name a dot ('.', a defanged "[.]" "(.)" "{.}"
 * "[dot]", or a full-width dot, non-ASCII). Most words of a text have no
 * CL_URL byte and are skipped whole.
 */
#define CL_DELIM 1u
#define CL_URL   2u
static const unsigned char cls[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 0, 1, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 2, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 1, 0,
    2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 1, 0,
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1, 1, 0, 1,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* delim - length of a word delimiter at i (0 if none) */
static size_t
delim(const unsigned char *p, size_t n, size_t i)
{
    unsigned char c = p[i];

    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == '\'' || c == '`' ||
        c == '|' || c == '\\' || c == '^')
        return 1;
    if (c == '{' || c == '}')
        return 1;
    if (c == 0xc2 && n - i >= 2 && (p[i + 1] == 0xa0 || p[i + 1] == 0xab || p[i + 1] == 0xbb))
        return 2;
    if (n - i >= 3 && c == 0xe2 && p[i + 1] == 0x80 && p[i + 2] >= 0x80 && p[i + 2] <= 0xaf)
        return 3;
    if (n - i >= 3 && c == 0xe3 && p[i + 1] == 0x80 &&
        (p[i + 2] == 0x80 || p[i + 2] == 0x81 || (p[i + 2] >= 0x8c && p[i + 2] <= 0x8f)))
        return 3;
    if (n - i >= 3 && c == 0xef && p[i + 1] == 0xbc && (p[i + 2] == 0x88 || p[i + 2] == 0x89))
        return 3;
    return 0;
}

/* brace_dot - "{.}" at i: a defanged dot inside a word, though braces delimit words */
static int
brace_dot(const unsigned char *p, size_t n, size_t i)
{
    return p[i] == '{' && n - i >= 3 && p[i + 1] == '.' && p[i + 2] == '}';
}

/* scheme_at - length of "scheme://" (or a defanged form) at p, 0 if none */
static size_t
scheme_at(const unsigned char *p, size_t n, int *defanged)
{
#define S(s) TM_STR_LIT(s)
    static const struct tm_str sch[] = {S("http"),  S("https"),  S("ftp"),   S("hxxp"),
                                        S("hxxps"), S("h**p"),   S("h**ps"), S("fxp"),
                                        S("hxxxp"), S("hxxxps"), S("hxtp"),  S("hxtps")};
#undef S
    size_t k = 0, i, m = 0;

    /* every scheme starts with h or f: most words are out at once */
    if (n == 0 || (tm_lower(p[0]) != 'h' && tm_lower(p[0]) != 'f'))
        return 0;
    while (k < n && k < 7 && (is_alnum(p[k]) || p[k] == '*'))
        k++;
    for (i = 0; i < TM_NELEM(sch); i++)
        if (sch[i].len == k && tm_mem_ieq(p, sch[i].p, k))
            break;
    if (i == TM_NELEM(sch))
        return 0;
    *defanged = i > 2;
    if (n - k > 3 && memcmp(p + k, "://", 3) == 0)
        m = 3;
    else if (n - k > 5 && memcmp(p + k, "[:]//", 5) == 0)
        m = 5;
    else if (n - k > 5 && memcmp(p + k, "[://]", 5) == 0)
        m = 5;
    if (m == 0)
        return 0;
    if (m == 5)
        *defanged = 1;
    return k + m;
}

/* url_end - the end of a URL that starts at s in a word ending at we: trailing junk dropped */
static size_t
url_end(const unsigned char *p, size_t s, size_t we)
{
    long paren = 0, brack = 0;
    size_t e = we, i;

    for (i = s; i < we; i++) {
        paren += p[i] == '(' ? 1 : p[i] == ')' ? -1 : 0;
        brack += p[i] == '[' ? 1 : p[i] == ']' ? -1 : 0;
    }
    while (e > s) {
        unsigned char c = p[e - 1];
        if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '*' ||
            c == '~') {
            e--;
        } else if (c == ')' && paren < 0) {
            paren++;
            e--;
        } else if (c == ']' && brack < 0) {
            brack++;
            e--;
        } else if (c == '(' && paren > 0) {
            paren--;
            e--;
        } else {
            break;
        }
    }
    return e;
}

/* host_run - scan a host name at s (labels of letters, digits, '-', '_', non-ASCII) */
static void
host_run(const unsigned char *p, size_t s, size_t we, struct hrun *h)
{
    size_t k = s, lab = 0, w, last_end = s;

    /* no memset: name is written up to len (a 256-byte clear per word was
       1.6% of a default-rules scan) */
    h->len = h->labels = 0;
    h->defanged = h->toolong = 0;
    h->tld = s;
    while (k < we) {
        unsigned char c = p[k];
        if (is_alnum(c) || c == '-' || c == '_' ||
            (c >= 0x80 && tm_url_fullwidth_dot(p + k, we - k) == 0)) {
            if (lab == 0)
                h->tld = k;
            if (h->len < TM_URL_MAX_HOST)
                h->name[h->len++] = tm_lower(c);
            else
                h->toolong = 1;
            lab++;
            k++;
            last_end = k;
            continue;
        }
        w = c == '.' ? 1 : tm_url_fullwidth_dot(p + k, we - k);
        if (w == 0 && (w = tm_url_defang_at(p + k, we - k)) != 0)
            h->defanged = 1;
        if (w == 0 || lab == 0)
            break;
        if (h->len < TM_URL_MAX_HOST)
            h->name[h->len++] = '.';
        h->labels++;
        lab = 0;
        k += w;
    }
    if (lab > 0)
        h->labels++;
    else if (h->len > 0 && h->name[h->len - 1] == '.')
        h->len--;
    h->end = last_end;
    h->name[h->len] = '\0';
}

/* tld_ok - the last label is an alphabetic known public suffix, not "The" in "end.The" */
static int
tld_ok(const unsigned char *p, const struct hrun *h, int sentence_check)
{
    const unsigned char *t = p + h->tld;
    size_t tl = h->end - h->tld, i, upper = 0;

    if (h->toolong || h->labels < 2 || tl < 2)
        return 0;
    if (tl > 4 && tm_mem_ieq(t, "xn--", 4))
        return tm_url_is_known_suffix(t, tl);
    for (i = 0; i < tl; i++) {
        if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z')))
            return 0;
        upper += t[i] <= 'Z';
    }
    if (sentence_check && upper > 0 && upper < tl && t[0] <= 'Z')
        return 0;
    return tm_url_is_known_suffix(t, tl);
}

static int
ext_tld(const unsigned char *t, size_t tl)
{
    size_t i;

    for (i = 0; i < TM_NELEM(ext_tlds); i++)
        if (strlen(ext_tlds[i]) == tl && tm_mem_ieq(t, ext_tlds[i], tl))
            return 1;
    return 0;
}

static int
host_boundary(const unsigned char *p, size_t j, size_t ws)
{
    unsigned char c;

    if (j == ws)
        return 1;
    c = p[j - 1];
    return !(is_alnum(c) || c == '@' || c == '.' || c == '-' || c == '/' || c == '_' || c >= 0x80);
}

static int
is_local(unsigned char c)
{
    return is_alnum(c) || (c != 0 && strchr("!#$%&*+-/=?_.~", c) != NULL);
}

static tm_rc
emit(struct ctx *x, const unsigned char *s, size_t len, unsigned flags)
{
    if (len > TM_URL_MAX_LEN) {
        len = TM_URL_MAX_LEN;
        flags |= TM_URLF_CUT;
    }
    return x->fn(x->ud, s, len, flags);
}

/* authority_defanged - a defanged dot before the first '/' after "://" */
static int
authority_defanged(const unsigned char *p, size_t s, size_t e)
{
    size_t i;

    for (i = s; i < e && p[i] != '/'; i++)
        if (tm_url_defang_at(p + i, e - i))
            return 1;
    return 0;
}

/* try_mail - local@host starting at j; 1 (and *end) when one was passed to fn */
static int
try_mail(struct ctx *x, size_t j, size_t we, size_t *end, tm_rc *rc)
{
    const unsigned char *p = x->p;
    size_t l = j;
    struct hrun h;
    unsigned flags = TM_URLF_MAILTO;

    if (j > x->ws && is_local(p[j - 1]))
        return 0;
    while (l < we && l - j <= TM_URL_LOCAL_MAX && is_local(p[l]))
        l++;
    if (l == j || l >= we || p[l] != '@' || l - j > TM_URL_LOCAL_MAX || p[j] == '.')
        return 0;
    host_run(p, l + 1, we, &h);
    if (!tld_ok(p, &h, 0))
        return 0;
    if (h.defanged)
        flags |= TM_URLF_DEFANGED;
    memcpy(x->scratch, "mailto:", 7);
    memcpy(x->scratch + 7, p + j, h.end - j);
    *rc = emit(x, x->scratch, h.end - j + 7, flags);
    *end = h.end;
    return 1;
}

/* is_www - the name starts with "www." or "www" and up to three digits and a dot, any case */
static int
is_www(const unsigned char *n, size_t len)
{
    size_t k = 3;

    if (len < 5 || tm_lower(n[0]) != 'w' || tm_lower(n[1]) != 'w' || tm_lower(n[2]) != 'w')
        return 0;
    while (k < len && k < 6 && n[k] >= '0' && n[k] <= '9')
        k++;
    return k < len && n[k] == '.';
}

/* try_host - "www." name or bare host with a known suffix at j; 1 when passed to fn */
static int
try_host(struct ctx *x, size_t j, size_t we, size_t *end, tm_rc *rc)
{
    const unsigned char *p = x->p;
    struct hrun h;
    size_t e, k;
    int www, more = 0;
    unsigned flags = TM_URLF_SCHEMELESS;

    if (!host_boundary(p, j, x->ws))
        return 0;
    host_run(p, j, we, &h);
    *end = h.end > j ? h.end : j + 1;
    www = h.labels >= 3 && is_www(h.name, h.len);
    if (!www && !tld_ok(p, &h, 1))
        return 0;
    if (h.toolong || (h.end < we && p[h.end] == '@'))
        return 0; /* the local part of something that is not a mail address */
    e = h.end;
    /* "host.example:2703" alone in text is a host and a number, as
       SpamAssassin and mail readers take it; with a www. name or a path
       after the port it is a URL */
    if (e + 1 < we && p[e] == ':' && p[e + 1] >= '0' && p[e + 1] <= '9') {
        for (k = e + 1; k < we && k - e <= 5 && p[k] >= '0' && p[k] <= '9'; k++)
            ;
        if (www || (k < we && p[k] == '/')) {
            e = k;
            more = 1;
        }
    }
    if (e < we && (p[e] == '/' || p[e] == '?' || p[e] == '#')) {
        e = url_end(p, j, we);
        more = e > h.end;
    }
    if (!www && !more && ext_tld(p + h.tld, h.end - h.tld))
        return 0;
    if (h.defanged)
        flags |= TM_URLF_DEFANGED;
    *rc = emit(x, p + j, e - j, flags);
    *end = e;
    return 1;
}

/* scan_word - every candidate in the word [s, we) */
static tm_rc
scan_word(struct ctx *x, size_t s, size_t we)
{
    const unsigned char *p = x->p;
    size_t j = s, k, e, skip;
    int df;
    tm_rc rc = TM_OK;

    x->ws = s;

    while (j < we) {
        e = j;
        if ((j == s || !is_alnum(p[j - 1])) && (k = scheme_at(p + j, we - j, &df)) != 0) {
            e = url_end(p, j, we);
            if (e > j + k) {
                if (authority_defanged(p, j + k, e))
                    df = 1;
                if ((rc = emit(x, p + j, e - j, df ? TM_URLF_DEFANGED : 0)) != TM_OK)
                    return rc;
            }
            j = e > j + k ? e : j + k;
            continue;
        }
        if (try_mail(x, j, we, &e, &rc) || try_host(x, j, we, &e, &rc)) {
            if (rc != TM_OK)
                return rc;
            j = e;
            continue;
        }
        skip = e > j ? e : j + 1;
        j = skip;
    }
    return TM_OK;
}

tm_rc
tm_url_extract_text(struct tm_arena *a, const unsigned char *p, size_t n, tm_url_found_fn fn,
                    void *ud)
{
    struct ctx x;
    size_t i = 0, w, we;
    tm_rc rc;

    x.p = p;
    x.n = n;
    x.fn = fn;
    x.ud = ud;
    if ((x.scratch = tm_arena_alloc(a, TM_URL_LOCAL_MAX + TM_URL_MAX_HOST * 5 + 32)) == NULL)
        return TM_ENOMEM;
    while (i < n) {
        unsigned seen = 0;
        if ((cls[p[i]] & CL_DELIM) && (w = delim(p, n, i)) != 0 && !brace_dot(p, n, i)) {
            i += w;
            continue;
        }
        for (we = i; we < n;) {
            unsigned k = cls[p[we]];
            seen |= k;
            if (!(k & CL_DELIM))
                we++;
            else if (brace_dot(p, n, we))
                we += 3; /* a defanged dot, not a delimiter */
            else if (delim(p, n, we) == 0)
                we++;
            else
                break;
        }
        if ((seen & CL_URL) && (rc = scan_word(&x, i, we)) != TM_OK)
            return rc;
        i = we;
    }
    return TM_OK;
}
