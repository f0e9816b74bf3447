/*
 * prep.c - the bytes libxml2 is given, and the charset prescan.
 *
 * HTML.pm (SpamAssassin) rewrites "&nbsp;" to a space and "<x/>" to "<x>"
 * before HTML::Parser sees the text; HTML::Parser decodes entities its own
 * way (a known name without ';' still counts, invalid numeric references
 * stay literal). libxml2 decodes differently, so text entities are rewritten
 * here into what libxml2 decodes to the same characters: a decimal reference
 * for what HTML::Parser would decode, "&amp;" for any '&' that it would leave.
 * Raw U+201C/U+201D in text become '"' as in HTML.pm. </html> and </body>
 * become empty comments: libxml2's push parser stops at the end of the
 * root element, HTML::Parser goes on (and neither tag gives whitespace).
 *
 * Control characters other than tab, CR and LF are carried the same way as
 * U+10FE00..U+10FE1F (libxml2 drops them, HTML::Parser keeps them).
 *
 * In octet mode (the text is not held as characters) every byte >= 0x80 is
 * carried through libxml2 as a private code point U+10FF80..U+10FFFF (in
 * character mode only the bytes that are not well-formed UTF-8 are), so
 * html.c gives back exactly the input bytes while entities still decode;
 * a raw C2 A0 in text is a space there, as Perl's \s sees it.
 *
 * The output is at most 4 bytes per input byte plus a little; one pass, no
 * recursion, no quadratic rescans.
 */
#include "html/html_int.h"

#include <string.h>

#include "core/buf.h"
#include "core/task.h"
#include "html/html.h"

static int
is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_alnum(unsigned char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9');
}

static int
is_hws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Named entities HTML::Parser decodes: the HTML 4 Latin-1 set from 160 in order, then others. */
static const char *const latin1_names[96] = {
    "nbsp",   "iexcl",  "cent",   "pound",  "curren", "yen",    "brvbar", "sect",   "uml",
    "copy",   "ordf",   "laquo",  "not",    "shy",    "reg",    "macr",   "deg",    "plusmn",
    "sup2",   "sup3",   "acute",  "micro",  "para",   "middot", "cedil",  "sup1",   "ordm",
    "raquo",  "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc",  "Atilde",
    "Auml",   "Aring",  "AElig",  "Ccedil", "Egrave", "Eacute", "Ecirc",  "Euml",   "Igrave",
    "Iacute", "Icirc",  "Iuml",   "ETH",    "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde",
    "Ouml",   "times",  "Oslash", "Ugrave", "Uacute", "Ucirc",  "Uuml",   "Yacute", "THORN",
    "szlig",  "agrave", "aacute", "acirc",  "atilde", "auml",   "aring",  "aelig",  "ccedil",
    "egrave", "eacute", "ecirc",  "euml",   "igrave", "iacute", "icirc",  "iuml",   "eth",
    "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",   "divide", "oslash", "ugrave",
    "uacute", "ucirc",  "uuml",   "yacute", "thorn",  "yuml",
};

static const struct {
    const char *name;
    unsigned long cp;
} other_names[] = {
    {"amp", 38},      {"lt", 60},       {"gt", 62},       {"quot", 34},     {"apos", 39},
    {"OElig", 338},   {"oelig", 339},   {"Scaron", 352},  {"scaron", 353},  {"Yuml", 376},
    {"fnof", 402},    {"circ", 710},    {"tilde", 732},   {"ensp", 8194},   {"emsp", 8195},
    {"thinsp", 8201}, {"zwnj", 8204},   {"zwj", 8205},    {"lrm", 8206},    {"rlm", 8207},
    {"ndash", 8211},  {"mdash", 8212},  {"lsquo", 8216},  {"rsquo", 8217},  {"sbquo", 8218},
    {"ldquo", 8220},  {"rdquo", 8221},  {"bdquo", 8222},  {"dagger", 8224}, {"Dagger", 8225},
    {"bull", 8226},   {"hellip", 8230}, {"permil", 8240}, {"prime", 8242},  {"Prime", 8243},
    {"lsaquo", 8249}, {"rsaquo", 8250}, {"oline", 8254},  {"frasl", 8260},  {"euro", 8364},
    {"trade", 8482},  {"larr", 8592},   {"uarr", 8593},   {"rarr", 8594},   {"darr", 8595},
    {"harr", 8596},   {"hearts", 9829}, {"spades", 9824}, {"clubs", 9827},  {"diams", 9830},
    {"Alpha", 913},   {"Beta", 914},    {"Gamma", 915},   {"Delta", 916},   {"alpha", 945},
    {"beta", 946},    {"gamma", 947},   {"delta", 948},   {"pi", 960},      {"mu", 956},
    {"sigma", 963},   {"omega", 969},   {"infin", 8734},  {"ne", 8800},     {"le", 8804},
    {"ge", 8805},     {"loz", 9674},    {"minus", 8722},  {"radic", 8730},  {"sum", 8721},
};

/* entity_lookup - code point of a named entity (case-sensitive), or 0 */
static unsigned long
entity_lookup(const unsigned char *p, size_t n)
{
    size_t i;

    for (i = 0; i < 96; i++)
        if (strlen(latin1_names[i]) == n && memcmp(latin1_names[i], p, n) == 0)
            return 160 + i;
    for (i = 0; i < TM_NELEM(other_names); i++)
        if (strlen(other_names[i].name) == n && memcmp(other_names[i].name, p, n) == 0)
            return other_names[i].cp;
    return 0;
}

/*
 * entity - decode the entity at p[0] == '&' as HTML::Parser does; returns
 * bytes consumed (0: not an entity) and the code point.
 */
static size_t
entity(const unsigned char *p, size_t n, unsigned long *cp)
{
    size_t i = 1, s;
    unsigned long v = 0;

    if (n < 3)
        return 0;
    if (p[1] == '#') {
        int hex = p[2] == 'x' || p[2] == 'X';
        i = hex ? 3 : 2;
        s = i;
        while (i < n && i - s < 8) {
            unsigned char c = p[i];
            if (c >= '0' && c <= '9')
                v = v * (hex ? 16 : 10) + (c - '0');
            else if (hex && c >= 'a' && c <= 'f')
                v = v * 16 + (unsigned long)(c - 'a' + 10);
            else if (hex && c >= 'A' && c <= 'F')
                v = v * 16 + (unsigned long)(c - 'A' + 10);
            else
                break;
            i++;
        }
        if (i == s || v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            return 0;
        if (i < n && p[i] == ';')
            i++;
        *cp = v;
        return i;
    }
    s = 1;
    while (i < n && is_alnum(p[i]) && i - s < 10)
        i++;
    if (i == s)
        return 0;
    /* The longest known prefix, as HTML::Parser matches entities without ';'. */
    for (; i > s; i--) {
        if ((v = entity_lookup(p + s, i - s)) != 0) {
            if (i < n && p[i] == ';')
                i++;
            else if (i < n && is_alnum(p[i]))
                return 0;
            *cp = v;
            return i;
        }
    }
    return 0;
}

struct prep {
    struct tm_buf *b;
    int octets;
    tm_rc rc;
};

/*
 * utf8_len - length of the well-formed UTF-8 sequence at p (RFC 3629, no
 * surrogates, not U+FFFE/U+FFFF which libxml2 refuses), 0 if there is none
 */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
    size_t k, j;
    unsigned long cp;

    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        k = 2;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF)
        k = 3;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        k = 4;
    else
        return 0;
    if (n < k)
        return 0;
    cp = p[0] & (0x7Fu >> k);
    for (j = 1; j < k; j++) {
        if ((p[j] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[j] & 0x3Fu);
    }
    if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
        return 0;
    return k;
}

/* emit - one byte; controls and bytes >= 0x80 as private code points */
static void
emit(struct prep *s, unsigned char c)
{
    unsigned char u[4];

    if (s->rc != TM_OK)
        return;
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        /* U+10FE00 + c: libxml2 drops control characters, HTML::Parser keeps them */
        u[0] = 0xF4;
        u[1] = 0x8F;
        u[2] = 0xB8;
        u[3] = (unsigned char)(0x80 | c);
        s->rc = tm_buf_append(s->b, u, 4);
        return;
    }
    if (c < 0x80) {
        s->rc = tm_buf_putc(s->b, c);
        return;
    }
    /* U+10FF00 + c: F4 8F BC|BD|BE|BF 80..BF */
    u[0] = 0xF4;
    u[1] = 0x8F;
    u[2] = (unsigned char)(0xBC | (c >> 6));
    u[3] = (unsigned char)(0x80 | (c & 0x3F));
    s->rc = tm_buf_append(s->b, u, 4);
}

/*
 * emit_at - the character at p[i]: valid UTF-8 as it is in character
 * mode, any other byte >= 0x80 (all of them in octet mode) as a private
 * code point, so libxml2 never sees malformed UTF-8 (it would switch to
 * Latin-1 for the rest of the document). Returns bytes consumed.
 */
static size_t
emit_at(struct prep *s, const unsigned char *p, size_t n, size_t i)
{
    size_t k;

    if (p[i] >= 0x80 && !s->octets && (k = utf8_len(p + i, n - i)) > 0) {
        if (s->rc == TM_OK)
            s->rc = tm_buf_append(s->b, p + i, k);
        return k;
    }
    emit(s, p[i]);
    return 1;
}

static void
emit_str(struct prep *s, const char *str)
{
    if (s->rc == TM_OK)
        s->rc = tm_buf_append(s->b, str, strlen(str));
}

/* tag - copy a tag starting at p[i] == '<' (name alnum); returns the offset after it */
static size_t
tag(struct prep *s, const unsigned char *p, size_t n, size_t i)
{
    size_t j = i + 1, k;

    while (j < n && (is_alnum(p[j]) || p[j] == '_'))
        j++;
    k = j;
    while (k < n && is_hws(p[k]))
        k++;
    if (k + 1 < n && p[k] == '/' && p[k + 1] == '>') { /* HTML.pm: <x/> is <x> */
        for (; i < j; i++)
            emit(s, p[i]);
        emit(s, '>');
        return k + 2;
    }
    for (; i < j; i++)
        emit(s, p[i]);
    /* attributes: quoted values after '=' may hold '>' */
    while (i < n && p[i] != '>' && p[i] != '<') {
        unsigned char c = p[i];
        if (c == '&' && n - i >= 6 && memcmp(p + i, "&nbsp;", 6) == 0) {
            emit(s, ' ');
            i += 6;
            continue;
        }
        i += emit_at(s, p, n, i);
        if (c == '=') {
            while (i < n && is_hws(p[i]))
                emit(s, p[i++]);
            if (i < n && (p[i] == '"' || p[i] == '\'')) {
                unsigned char q = p[i];
                emit(s, p[i++]);
                while (i < n && p[i] != q)
                    i += emit_at(s, p, n, i);
                if (i < n)
                    emit(s, p[i++]);
            }
        }
    }
    return i;
}

/* end_is - p[i..] is the end tag "</name" */
static int
end_is(const unsigned char *p, size_t n, size_t i, const char *name)
{
    size_t k = strlen(name);

    return n - i > k + 2 && p[i + 1] == '/' && tm_mem_ieq(p + i + 2, name, k) &&
           !is_alnum(p[i + 2 + k]);
}

/* start_is - p[i..] is the start tag "<name" */
static int
start_is(const unsigned char *p, size_t n, size_t i, const char *name)
{
    size_t k = strlen(name);

    return n - i > k + 1 && tm_mem_ieq(p + i + 1, name, k) && !is_alnum(p[i + 1 + k]);
}

/* comment - copy "<!--" through "-->" unchanged (libxml2 drops it) */
static size_t
comment(struct prep *s, const unsigned char *p, size_t n, size_t i)
{
    size_t j;

    for (j = i + 4; j + 2 < n; j++)
        if (p[j] == '-' && p[j + 1] == '-' && p[j + 2] == '>')
            break;
    j = j + 2 < n ? j + 3 : n;
    while (i < j)
        i += emit_at(s, p, j, i);
    return j;
}

/* text_amp - an '&' in text: the reference libxml2 decodes as HTML::Parser would */
static size_t
text_amp(struct prep *s, const unsigned char *p, size_t n, size_t i)
{
    unsigned long cp;
    size_t k;
    char num[16];

    if (n - i >= 6 && memcmp(p + i, "&nbsp;", 6) == 0) {
        emit(s, ' ');
        return i + 6;
    }
    if ((k = entity(p + i, n - i, &cp)) != 0) {
        size_t d = sizeof(num) - 1;
        num[d] = '\0';
        num[--d] = ';';
        do {
            num[--d] = (char)('0' + cp % 10);
            cp /= 10;
        } while (cp > 0 && d > 2);
        num[--d] = '#';
        num[--d] = '&';
        emit_str(s, num + d);
        return i + k;
    }
    emit_str(s, "&amp;"); /* what HTML::Parser leaves alone stays literal */
    return i + 1;
}

tm_rc
tm_html_prep(struct tm_task *t, const unsigned char *p, size_t n, int octets, struct tm_str *out)
{
    static const char *const lits[] = {"iframe", "xmp", "textarea", "plaintext"};
    struct tm_buf b;
    struct prep s;
    size_t i = 0;
    const char *lit = NULL;

    *out = TM_STR_NULL;
    if (n > ((size_t)-1 - 64) / 4)
        return TM_ELIMIT;
    tm_buf_init(&b, t->arena, 4 * n + 64);
    s.b = &b;
    s.octets = octets;
    s.rc = TM_OK;
    while (i < n && s.rc == TM_OK) {
        unsigned char c = p[i];
        if (lit != NULL && c == '<') {
            if (lit != lits[3] && end_is(p, n, i, lit)) {
                lit = NULL;
            } else {
                emit_str(&s, "&#60;"); /* HTML::Parser's literal elements hold text */
                i++;
                continue;
            }
        }
        if (c == '<' && i + 3 < n && p[i + 1] == '!' && p[i + 2] == '-' && p[i + 3] == '-') {
            i = comment(&s, p, n, i);
        } else if (c == '<' && i + 1 < n && is_alnum(p[i + 1])) {
            size_t k, at = i;
            i = tag(&s, p, n, i);
            for (k = 0; k < TM_NELEM(lits) && lit == NULL; k++)
                if (start_is(p, n, at, lits[k]))
                    lit = lits[k];
        } else if (c == '<' && i + 1 < n && p[i + 1] == '!') {
            /* a declaration or <![if ...]>: HTML::Parser drops it, libxml2 might not */
            const unsigned char *gt = memchr(p + i, '>', n - i);
            emit_str(&s, "<!---->");
            i = gt ? (size_t)(gt - p) + 1 : n;
        } else if (c == '<' && (end_is(p, n, i, "html") || end_is(p, n, i, "body"))) {
            /* libxml2's push parser drops everything after </html>; HTML::Parser does not */
            const unsigned char *gt = memchr(p + i, '>', n - i);
            emit_str(&s, "<!---->");
            i = gt ? (size_t)(gt - p) + 1 : n;
        } else if (c == '&') {
            i = text_amp(&s, p, n, i);
        } else if (c == 0xE2 && i + 2 < n && p[i + 1] == 0x80 &&
                   (p[i + 2] == 0x9C || p[i + 2] == 0x9D)) {
            emit(&s, '"');
            i += 3;
        } else if (octets && c == 0xC2 && i + 1 < n && p[i + 1] == 0xA0) {
            emit(&s, ' ');
            i += 2;
        } else {
            i += emit_at(&s, p, n, i);
        }
    }
    if (s.rc != TM_OK)
        return s.rc;
    *out = tm_str_make(b.data ? b.data : (const unsigned char *)"", b.len);
    return TM_OK;
}

/* ---- charset prescan (HTML standard, "prescan a byte stream") ---------- */

struct attr {
    struct tm_str name, value;
};

/* get_attr - the next attribute of a tag at p[*i]; 0 at '>' or the end */
static int
get_attr(const unsigned char *p, size_t n, size_t *i, struct attr *a)
{
    size_t k = *i, s;

    while (k < n && (is_hws(p[k]) || p[k] == '/'))
        k++;
    if (k >= n || p[k] == '>') {
        *i = k;
        return 0;
    }
    s = k;
    while (k < n && !is_hws(p[k]) && p[k] != '/' && p[k] != '>' && (p[k] != '=' || k == s))
        k++;
    a->name = tm_str_make(p + s, k - s);
    a->value = TM_STR_NULL;
    while (k < n && is_hws(p[k]))
        k++;
    if (k < n && p[k] == '=') {
        k++;
        while (k < n && is_hws(p[k]))
            k++;
        if (k < n && (p[k] == '"' || p[k] == '\'')) {
            unsigned char q = p[k++];
            s = k;
            while (k < n && p[k] != q)
                k++;
            a->value = tm_str_make(p + s, k - s);
            if (k < n)
                k++;
        } else {
            s = k;
            while (k < n && !is_hws(p[k]) && p[k] != '>')
                k++;
            a->value = tm_str_make(p + s, k - s);
        }
    }
    *i = k;
    return 1;
}

struct tm_str
tm_html_content_charset(struct tm_str v)
{
    size_t i = 0, s;

    while (i + 7 <= v.len) {
        if (!tm_mem_ieq(v.p + i, "charset", 7)) {
            i++;
            continue;
        }
        i += 7;
        while (i < v.len && is_hws(v.p[i]))
            i++;
        if (i >= v.len || v.p[i] != '=')
            continue;
        i++;
        while (i < v.len && is_hws(v.p[i]))
            i++;
        if (i < v.len && (v.p[i] == '"' || v.p[i] == '\'')) {
            unsigned char q = v.p[i++];
            s = i;
            while (i < v.len && v.p[i] != q)
                i++;
            if (i >= v.len)
                return TM_STR_NULL;
            return tm_str_make(v.p + s, i - s);
        }
        s = i;
        while (i < v.len && !is_hws(v.p[i]) && v.p[i] != ';')
            i++;
        return tm_str_make(v.p + s, i - s);
    }
    return TM_STR_NULL;
}

/* meta - the attributes of one <meta>: the declared charset, or empty */
static struct tm_str
meta(const unsigned char *p, size_t n, size_t *i)
{
    struct attr a;
    struct tm_str cs = TM_STR_NULL, content = TM_STR_NULL;
    int pragma = 0, have_cs = 0;

    while (get_attr(p, n, i, &a)) {
        if (tm_str_ieq(a.name, "http-equiv") && tm_str_ieq(tm_str_trim(a.value), "content-type"))
            pragma = 1;
        else if (tm_str_ieq(a.name, "content") && content.p == NULL)
            content = a.value;
        else if (tm_str_ieq(a.name, "charset") && !have_cs) {
            cs = tm_str_trim(a.value);
            have_cs = 1;
        }
    }
    if (have_cs && cs.len > 0)
        return cs;
    if (pragma && content.p != NULL)
        return tm_str_trim(tm_html_content_charset(content));
    return TM_STR_NULL;
}

struct tm_str
tm_html_sniff_charset(const unsigned char *p, size_t n)
{
    size_t i = 0;
    struct attr a;

    if (n > 1024)
        n = 1024;
    while (i < n) {
        if (p[i] != '<') {
            i++;
            continue;
        }
        if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
            size_t j;
            for (j = i + 2; j + 2 < n; j++)
                if (p[j] == '-' && p[j + 1] == '-' && p[j + 2] == '>')
                    break;
            i = j + 3;
        } else if (n - i >= 6 && tm_mem_ieq(p + i, "<meta", 5) &&
                   (is_hws(p[i + 5]) || p[i + 5] == '/')) {
            struct tm_str cs;
            i += 5;
            cs = meta(p, n, &i);
            if (cs.len > 0)
                return cs;
        } else if (i + 1 < n && (is_alpha(p[i + 1]) ||
                                 (p[i + 1] == '/' && i + 2 < n && is_alpha(p[i + 2])))) {
            i += 2;
            while (i < n && !is_hws(p[i]) && p[i] != '>')
                i++;
            while (get_attr(p, n, &i, &a))
                ;
        } else if (i + 1 < n && (p[i + 1] == '!' || p[i + 1] == '/' || p[i + 1] == '?')) {
            const unsigned char *gt = memchr(p + i, '>', n - i);
            i = gt ? (size_t)(gt - p) + 1 : n;
        } else {
            i++;
        }
    }
    return TM_STR_NULL;
}

const char *
tm_html_hidden_name(unsigned k)
{
    static const char *const names[TM_HTML_HID_KINDS] = {"display", "zero_size", "colour",
                                                         "tiny_font"};

    return k < TM_HTML_HID_KINDS ? names[k] : NULL;
}

const char *
tm_html_link_kind_name(enum tm_html_link_kind k)
{
    switch (k) {
    case TM_HTML_LINK_A:
        return "a";
    case TM_HTML_LINK_AREA:
        return "area";
    case TM_HTML_LINK_IMG:
        return "img";
    case TM_HTML_LINK_FORM:
        return "form";
    case TM_HTML_LINK_IFRAME:
        return "iframe";
    case TM_HTML_LINK_META:
        return "meta";
    case TM_HTML_LINK_OTHER:
        return "other";
    }
    return "other";
}
