/*
 * html.c - a small HTML-to-text renderer with the output shape of
 * SpamAssassin's HTML.pm (HTML::Parser driven), for the `body` target until
 * the libxml2 stage replaces it behind the same call.
 *
 * What it does, as HTML.pm: "&nbsp;" becomes a space and "<x/>" is "<x>"
 * before parsing; U+201C/U+201D become '"'; comments, declarations and
 * processing instructions are dropped; script and style content is skipped
 * (HTML::Parser treats it as CDATA); entities are decoded (named, decimal,
 * hex; a missing ';' is tolerated); in text, runs of ASCII whitespace become
 * one space; br and div give "\n", li/td/th/dd/dt/embed/h1-h6 a space,
 * p/hr/blockquote/pre/listing/plaintext/xmp/title "\n\n" (start and end tags
 * alike), with the trimming of spaces next to those that display_text does.
 * What it does not: font visibility (body uses all text anyway), <img alt>.
 *
 * URL attributes (a/area/link/base href, img/frame/iframe/embed/script src,
 * form action, body/table/td background) are collected when asked for.
 *
 * Input is bounded by the caller (a part's decoded size); no recursion, no
 * allocation besides the output buffer and URL views.
 */
#include "text/text.h"

#include <string.h>

#include "core/buf.h"
#include "core/task.h"
#include "mime/charset.h"
#include "text/text_int.h"

struct render {
    struct tm_task *t;
    struct tm_buf *out;
    size_t base;       /* where this part's text starts in out */
    size_t last_start; /* start of the last display_text chunk */
    int have_chunk;
    int last_ws; /* last chunk was whitespace from a tag */
    int chars;
    int in_script, in_style;
    struct tm_text_list *uris;
};

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

/* Named entities: the HTML 4 Latin-1 set from 160 in order, then others. */
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
 * entity - decode the entity at p[0] == '&'; returns bytes consumed (0: not
 * an entity) and the code point.
 */
static size_t
entity(const unsigned char *p, size_t n, unsigned long *cp)
{
    size_t i = 1, s;
    unsigned long v = 0;

    if (n < 3)
        return 0;
    if (p[1] == '#') {
        int hex = n > 2 && (p[2] == 'x' || p[2] == 'X');
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

/* ws_chunk - display_text(ws, whitespace => 1) */
static tm_rc
ws_chunk(struct render *r, const char *ws)
{
    struct tm_buf *o = r->out;

    if (r->have_chunk && !r->last_ws && o->len > r->last_start && o->data[o->len - 1] == ' ')
        o->len--;
    r->last_start = o->len;
    r->have_chunk = 1;
    r->last_ws = 1;
    return tm_buf_append(o, ws, strlen(ws));
}

/* text_chunk - html_text + display_text for one run of text between tags */
static tm_rc
text_chunk(struct render *r, const unsigned char *p, size_t n)
{
    struct tm_buf *o = r->out;
    size_t i = 0, start = o->len;
    int sp = 0;
    tm_rc rc = TM_OK;

    if (n == 0 || r->in_script > 0 || r->in_style > 0)
        return TM_OK;
    while (i < n && rc == TM_OK) {
        unsigned char c = p[i];
        unsigned long cp;
        size_t k;
        if (is_hws(c) || (!r->chars && c == 0xC2 && i + 1 < n && p[i + 1] == 0xA0)) {
            i += is_hws(c) ? 1 : 2;
            if (!sp)
                rc = tm_buf_putc(o, ' ');
            sp = 1;
            continue;
        }
        sp = 0;
        if (c == '&' && (k = entity(p + i, n - i, &cp)) != 0) {
            /* octet mode (HTML::Parser utf8_mode): code points below 256 stay one byte */
            rc = !r->chars && cp < 256 ? tm_buf_putc(o, (unsigned char)cp) : tm_utf8_put(o, cp);
            i += k;
            continue;
        }
        if (c == 0xE2 && i + 2 < n && p[i + 1] == 0x80 && (p[i + 2] == 0x9C || p[i + 2] == 0x9D)) {
            rc = tm_buf_putc(o, '"');
            i += 3;
            continue;
        }
        rc = tm_buf_putc(o, c);
        i++;
    }
    if (rc != TM_OK)
        return rc;
    if (r->have_chunk && r->last_ws && o->len > start && o->data[start] == ' ') {
        memmove(o->data + start, o->data + start + 1, o->len - start - 1);
        o->len--;
    }
    r->last_start = start;
    r->have_chunk = 1;
    r->last_ws = 0;
    return TM_OK;
}

/* tag_is - the lower-cased tag name equals lit */
static int
tag_is(const unsigned char *name, size_t n, const char *lit)
{
    return strlen(lit) == n && tm_mem_ieq(name, lit, n);
}

/* tag_ws - html_whitespace: what a tag contributes */
static const char *
tag_ws(const unsigned char *nm, size_t n)
{
    static const char *const nl1[] = {"br", "div", NULL};
    static const char *const sp[] = {"li", "th", "td", "dd", "dt", "embed", NULL};
    static const char *const nl2[] = {"p",         "hr",  "blockquote", "pre", "listing",
                                      "plaintext", "xmp", "title",      NULL};
    size_t i;

    for (i = 0; nl1[i] != NULL; i++)
        if (tag_is(nm, n, nl1[i]))
            return "\n";
    for (i = 0; sp[i] != NULL; i++)
        if (tag_is(nm, n, sp[i]))
            return " ";
    if (n == 2 && (nm[0] == 'h' || nm[0] == 'H') && nm[1] >= '1' && nm[1] <= '6')
        return " ";
    for (i = 0; nl2[i] != NULL; i++)
        if (tag_is(nm, n, nl2[i]))
            return "\n\n";
    return NULL;
}

/* uri_attr - the tag/attribute pairs whose values HTML.pm takes as URLs */
static int
uri_attr(const unsigned char *tg, size_t tn, const unsigned char *an, size_t aln)
{
    if (tag_is(an, aln, "href"))
        return tag_is(tg, tn, "a") || tag_is(tg, tn, "area") || tag_is(tg, tn, "link") ||
               tag_is(tg, tn, "base");
    if (tag_is(an, aln, "src"))
        return tag_is(tg, tn, "img") || tag_is(tg, tn, "frame") || tag_is(tg, tn, "iframe") ||
               tag_is(tg, tn, "embed") || tag_is(tg, tn, "script") || tag_is(tg, tn, "bgsound");
    if (tag_is(an, aln, "action"))
        return tag_is(tg, tn, "form");
    if (tag_is(an, aln, "background"))
        return tag_is(tg, tn, "body") || tag_is(tg, tn, "table") || tag_is(tg, tn, "td") ||
               tag_is(tg, tn, "tr");
    return 0;
}

/*
 * tag_end - scan the attributes of a tag starting after its name; returns
 * the offset just past '>' or n when the tag never closes. Collects URLs.
 */
static size_t
tag_end(struct render *r, const unsigned char *p, size_t n, size_t i, const unsigned char *tg,
        size_t tn, int start)
{
    while (i < n && p[i] != '>') {
        size_t as, al, vs = 0, vl = 0;
        if (is_hws(p[i]) || p[i] == '/') {
            i++;
            continue;
        }
        as = i;
        while (i < n && !is_hws(p[i]) && p[i] != '>' && p[i] != '=' && p[i] != '/')
            i++;
        if (i == as) { /* a stray '=' */
            i++;
            continue;
        }
        al = i - as;
        while (i < n && is_hws(p[i]))
            i++;
        if (i < n && p[i] == '=') {
            i++;
            while (i < n && is_hws(p[i]))
                i++;
            if (i < n && (p[i] == '"' || p[i] == '\'')) {
                unsigned char q = p[i++];
                const unsigned char *e = memchr(p + i, q, n - i);
                vs = i;
                vl = e ? (size_t)(e - (p + i)) : n - i;
                i = vs + vl + (e ? 1 : 0);
            } else {
                vs = i;
                while (i < n && !is_hws(p[i]) && p[i] != '>')
                    i++;
                vl = i - vs;
            }
        }
        if (start && r->uris != NULL && vl > 0 && uri_attr(tg, tn, p + as, al))
            (void)tm_text_list_push(r->t, r->uris, p + vs, vl);
    }
    return i < n ? i + 1 : n;
}

/* skip_cdata - past the "</name" that ends script/style content, or to the end */
static size_t
skip_cdata(const unsigned char *p, size_t n, size_t i, const char *name)
{
    size_t k = strlen(name);

    for (; i + 2 + k <= n; i++)
        if (p[i] == '<' && p[i + 1] == '/' && tm_mem_ieq(p + i + 2, name, k) &&
            (i + 2 + k == n || !is_alnum(p[i + 2 + k])))
            return i;
    return n;
}

/* markup - one '<' construct at p[i]; returns the offset after it, or i when it is text */
static size_t
markup(struct render *r, const unsigned char *p, size_t n, size_t i, tm_rc *rc)
{
    size_t s, j;
    int end = 0;
    const char *ws;

    if (i + 1 >= n)
        return i;
    if (p[i + 1] == '!') {
        if (i + 3 < n && p[i + 2] == '-' && p[i + 3] == '-') {
            for (j = i + 4; j + 2 < n; j++)
                if (p[j] == '-' && p[j + 1] == '-' && p[j + 2] == '>')
                    return j + 3;
            return n;
        }
        const unsigned char *gt = memchr(p + i, '>', n - i);
        return gt ? (size_t)(gt - p) + 1 : n;
    }
    if (p[i + 1] == '?') {
        const unsigned char *gt = memchr(p + i, '>', n - i);
        return gt ? (size_t)(gt - p) + 1 : n;
    }
    s = i + 1;
    if (p[s] == '/') {
        end = 1;
        s++;
    }
    if (s >= n || !is_alpha(p[s]))
        return i;
    j = s;
    while (j < n && (is_alnum(p[j]) || p[j] == ':' || p[j] == '-' || p[j] == '_' || p[j] == '.'))
        j++;
    {
        const unsigned char *tg = p + s;
        size_t tn = j - s, after = tag_end(r, p, n, j, tg, tn, !end);
        if (tag_is(tg, tn, "script")) {
            r->in_script = end ? 0 : 1;
        } else if (tag_is(tg, tn, "style")) {
            r->in_style = end ? 0 : 1;
        }
        if ((ws = tag_ws(tg, tn)) != NULL)
            *rc = ws_chunk(r, ws);
        if (!end && (tag_is(tg, tn, "script") || tag_is(tg, tn, "style")))
            return skip_cdata(p, n, after, tag_is(tg, tn, "script") ? "script" : "style");
        if (!end && *rc == TM_OK) {
            /* HTML::Parser's other literal elements: their content is text, markup and all */
            static const char *const lit[] = {"iframe", "xmp", "textarea", "plaintext", NULL};
            size_t k, e;
            for (k = 0; lit[k] != NULL; k++) {
                if (!tag_is(tg, tn, lit[k]))
                    continue;
                e = k == 3 ? n : skip_cdata(p, n, after, lit[k]);
                *rc = text_chunk(r, p + after, e - after);
                return e;
            }
        }
        return after;
    }
}

/* is_markup - '<' at i starts a tag, comment, declaration or processing instruction */
static int
is_markup(const unsigned char *p, size_t n, size_t i)
{
    if (i + 1 >= n)
        return 0;
    if (p[i + 1] == '!' || p[i + 1] == '?' || is_alpha(p[i + 1]))
        return 1;
    return p[i + 1] == '/' && i + 2 < n && is_alpha(p[i + 2]);
}

/* prep - the substitutions HTML.pm makes before parsing: &nbsp; and <x/> */
static tm_rc
prep(struct tm_task *t, const unsigned char *p, size_t n, struct tm_str *out)
{
    struct tm_buf b;
    size_t i = 0;
    tm_rc rc = TM_OK;

    tm_buf_init(&b, t->arena, n + 1);
    while (i < n && rc == TM_OK) {
        if (p[i] == '&' && n - i >= 6 && memcmp(p + i, "&nbsp;", 6) == 0) {
            rc = tm_buf_putc(&b, ' ');
            i += 6;
            continue;
        }
        if (p[i] == '<' && i + 1 < n && is_alnum(p[i + 1])) {
            size_t j = i + 1, k;
            while (j < n && (is_alnum(p[j]) || p[j] == '_'))
                j++;
            k = j;
            while (k < n && is_hws(p[k]))
                k++;
            if (k + 1 < n && p[k] == '/' && p[k + 1] == '>') {
                if ((rc = tm_buf_append(&b, p + i, j - i)) == TM_OK)
                    rc = tm_buf_putc(&b, '>');
                i = k + 2;
                continue;
            }
            rc = tm_buf_append(&b, p + i, j - i);
            i = j;
            continue;
        }
        rc = tm_buf_putc(&b, p[i]);
        i++;
    }
    *out = tm_str_make(b.data ? b.data : p, b.len);
    return rc;
}

tm_rc
tm_text_html_render(struct tm_task *t, const unsigned char *in, size_t inlen, int chars,
                    struct tm_buf *out, struct tm_text_list *uris)
{
    struct render r;
    struct tm_str src;
    size_t i = 0, run = 0;
    tm_rc rc;

    if ((rc = prep(t, in, inlen, &src)) != TM_OK)
        return rc;
    memset(&r, 0, sizeof(r));
    r.t = t;
    r.out = out;
    r.base = out->len;
    r.chars = chars;
    r.uris = uris;
    while (i < src.len && rc == TM_OK) {
        const unsigned char *lt = memchr(src.p + i, '<', src.len - i);
        size_t at = lt ? (size_t)(lt - src.p) : src.len, next;
        if (at == src.len) {
            rc = text_chunk(&r, src.p + run, src.len - run);
            break;
        }
        if (!is_markup(src.p, src.len, at)) { /* a '<' that is text */
            i = at + 1;
            continue;
        }
        if (at > run && (rc = text_chunk(&r, src.p + run, at - run)) != TM_OK)
            break;
        next = markup(&r, src.p, src.len, at, &rc);
        i = next;
        run = next;
    }
    return rc;
}
