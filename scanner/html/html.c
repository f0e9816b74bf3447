/*
 * html.c - one text/html part through libxml2's HTML parser, driven by SAX
 * (see html.h for what comes out).
 *
 * Text shape. HTML::Parser, which SpamAssassin uses, only sees the tags that
 * are written; libxml2 also reports the elements it implies (html, body, p)
 * and closes elements on its own. The renderer reacts to a start tag only
 * when the parser's cursor sits on the '>' (or "/>") of a tag in our input,
 * and to an end tag only when the bytes just before the cursor are the
 * "</name ...>" actually written; everything else only moves the element
 * stack. Text runs between written tags are SpamAssassin's display_text
 * chunks: whitespace runs fold to one space, and a block tag's "\n" or
 * "\n\n" eats a space next to it.
 *
 * State. Our own element stack (bounded by html_max_depth; deeper elements
 * are flattened into the deepest one) carries what hides text: display /
 * visibility / hidden, zero sizes, tiny fonts, and the foreground and
 * background colours in force, all inherited. They come from attributes,
 * inline styles and the simple rules (tag, .class, tag.class) of <style>
 * sheets seen so far (TM_HTML_CSS_RULES rules, TM_HTML_CSS_SHEET_MAX bytes).
 *
 * Bounds: html_max_nodes elements (then xmlStopParser), html_max_depth,
 * text_max_uris links, text_max_uri_len per URL, text_max_body bytes of
 * text, TM_HTML_ANCHOR_MAX bytes of anchor text. libxml2's memory is its
 * own and freed before return on every path.
 */
#include "html/html.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/task.h"
#include "html/html_int.h"

#define TM_HTML_ANCHOR_MAX 256
#define TM_HTML_CHUNK      65536

struct elem {
    unsigned hid; /* DISPLAY / ZERO_SIZE / TINY_FONT in force */
    uint32_t fg, bg;
};

struct ctx {
    struct tm_task *t;
    struct tm_html_doc *doc;
    htmlParserCtxtPtr px;
    struct tm_str src; /* what libxml2 is fed (prep.c) */
    int chars;
    struct tm_buf out;
    /* display_text state (HTML.pm) */
    size_t last_start, chunk_start;
    size_t mark; /* input offset just past the last text or written tag seen */
    int have_chunk, last_ws, chunk_open, sp;
    /* element stack; root is the document default */
    struct elem root;
    struct elem *stack;
    size_t depth, cap, flat;
    unsigned raw; /* open script/style elements */
    /* <style> sheets: their text, and the simple rules found in them */
    unsigned in_style;
    struct tm_buf sheet;
    size_t sheet_from;
    struct tm_html_css_rule *rules;
    size_t nrules;
    /* links */
    size_t links_cap;
    size_t anchor; /* index+1 of the open a link, 0 when none */
    struct tm_buf abuf;
    int asp;
    int full, links_noted, depth_noted, stopped;
    tm_rc rc;
};

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void
xml_init(void)
{
    xmlInitParser();
}

static int
is_hws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void
fail(struct ctx *c, tm_rc rc)
{
    if (c->rc == TM_OK)
        c->rc = rc;
    c->stopped = 1;
    xmlStopParser(c->px);
}

/* pos - the absolute offset of libxml2's cursor in c->src */
static size_t
pos(const struct ctx *c)
{
    xmlParserInputPtr in = c->px->input;
    size_t off;

    if (in == NULL || in->cur == NULL || in->base == NULL || in->cur < in->base)
        return c->src.len;
    off = (size_t)in->consumed + (size_t)(in->cur - in->base);
    return off > c->src.len ? c->src.len : off;
}

static struct elem *
top(struct ctx *c)
{
    return c->depth > 0 ? &c->stack[c->depth - 1] : &c->root;
}

static unsigned
flags_now(struct ctx *c)
{
    const struct elem *e = top(c);

    return e->hid | (e->bg != TM_HTML_BG_IMAGE && tm_html_colour_close(e->fg, e->bg)
                         ? TM_HTML_HID_COLOUR
                         : 0u);
}

/* name_is - name equals lit, ASCII case folded (one pass: no strlen of either) */
static int
name_is(const xmlChar *name, const char *lit)
{
    for (; *lit != '\0'; name++, lit++)
        if (tm_lower(*name) != tm_lower((unsigned char)*lit))
            return 0; /* also where name ends first: tm_lower(0) is 0 */
    return *name == '\0';
}

/* ---- display_text ---------------------------------------------------- */

static void
put(struct ctx *c, const void *p, size_t n)
{
    tm_rc rc;

    if (c->full)
        return;
    if ((rc = tm_buf_append(&c->out, p, n)) == TM_ELIMIT) {
        c->full = 1;
        c->doc->clipped = 1;
    } else if (rc != TM_OK) {
        fail(c, rc);
    }
}

static void
close_chunk(struct ctx *c)
{
    if (!c->chunk_open)
        return;
    c->last_start = c->chunk_start;
    c->have_chunk = 1;
    c->last_ws = 0;
    c->chunk_open = 0;
}

/* ws_chunk - display_text(ws, whitespace => 1) */
static void
ws_chunk(struct ctx *c, const char *ws)
{
    struct tm_buf *o = &c->out;

    close_chunk(c);
    if (c->have_chunk && !c->last_ws && o->len > c->last_start && o->data[o->len - 1] == ' ')
        o->len--;
    c->last_start = o->len;
    c->have_chunk = 1;
    c->last_ws = 1;
    put(c, ws, strlen(ws));
}

/* tag_ws_n - HTML.pm html_whitespace: what a written tag named nm[0..n) contributes */
static const char *
tag_ws_n(const unsigned char *nm, size_t n)
{
    static const char *const nl1[] = {"br", "div", NULL};
    static const char *const sp[] = {"li", "th", "td", "dd", "dt", "embed", NULL};
    static const char *const nl2[] = {"p",         "hr",  "blockquote", "pre", "listing",
                                      "plaintext", "xmp", "title",      NULL};
    size_t i;

    for (i = 0; nl1[i] != NULL; i++)
        if (strlen(nl1[i]) == n && tm_mem_ieq(nm, nl1[i], n))
            return "\n";
    for (i = 0; sp[i] != NULL; i++)
        if (strlen(sp[i]) == n && tm_mem_ieq(nm, sp[i], n))
            return " ";
    if (n == 2 && (nm[0] | 0x20) == 'h' && nm[1] >= '1' && nm[1] <= '6')
        return " ";
    for (i = 0; nl2[i] != NULL; i++)
        if (strlen(nl2[i]) == n && tm_mem_ieq(nm, nl2[i], n))
            return "\n\n";
    return NULL;
}

static const char *
tag_ws(const xmlChar *nm)
{
    return tag_ws_n(nm, (size_t)xmlStrlen(nm));
}

/* ---- the octet view back ------------------------------------------------- */

/*
 * next_cp - the next character of libxml2's UTF-8 at p[*i], as the bytes
 * it stands for: private code points U+10FF80.. and U+10FE00.. are the
 * original bytes (prep.c); in octet mode U+0080..U+00FF from entities are single bytes
 * (HTML::Parser without utf8 mode). Returns the number of bytes put in o.
 */
static size_t
next_cp(const struct ctx *c, const unsigned char *p, size_t n, size_t *i, unsigned char o[4])
{
    unsigned char b = p[*i];
    size_t k = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4, j;
    unsigned long cp;

    if (b < 0x80 || b < 0xC0 || k > n - *i) {
        o[0] = b;
        (*i)++;
        return 1;
    }
    cp = b & (0x7Fu >> k);
    for (j = 1; j < k; j++)
        cp = cp << 6 | (p[*i + j] & 0x3Fu);
    if (cp >= 0x10FE00 && cp <= 0x10FE1F) {
        o[0] = (unsigned char)(cp - 0x10FE00);
        *i += k;
        return 1;
    }
    if (cp >= 0x10FF80 && cp <= 0x10FFFF) {
        o[0] = (unsigned char)(cp - 0x10FF00);
        *i += k;
        return 1;
    }
    if (!c->chars && cp < 0x100) {
        o[0] = (unsigned char)cp;
        *i += k;
        return 1;
    }
    memcpy(o, p + *i, k);
    *i += k;
    return k;
}

/* dup_octets - an attribute value in the arena, mapped back like text, trimmed */
static struct tm_str
dup_value(struct ctx *c, const xmlChar *v, size_t max, int *cut)
{
    size_t n = (size_t)xmlStrlen(v), i = 0, on = 0;
    unsigned char *o, u[4];

    *cut = 0;
    while (n > 0 && is_hws(v[n - 1]))
        n--;
    while (i < n && is_hws(v[i]))
        i++;
    if ((o = tm_arena_alloc(c->t->arena, (n - i < max ? n - i : max) + 1)) == NULL) {
        fail(c, TM_ENOMEM);
        return TM_STR_NULL;
    }
    while (i < n) {
        size_t k = next_cp(c, v, n, &i, u);
        if (on + k > max) {
            *cut = 1;
            break;
        }
        memcpy(o + on, u, k);
        on += k;
    }
    return tm_str_make(o, on);
}

/* fold - whitespace runs of an arena copy folded to one space, in place */
static struct tm_str
fold(struct tm_str v)
{
    unsigned char *o = (unsigned char *)(uintptr_t)v.p;
    size_t i, n = 0;
    int sp = 0;

    for (i = 0; i < v.len; i++) {
        if (is_hws(v.p[i])) {
            sp = 1;
            continue;
        }
        if (sp && n > 0)
            o[n++] = ' ';
        sp = 0;
        o[n++] = v.p[i];
    }
    return tm_str_make(v.p, n);
}

/* ---- text ------------------------------------------------------------ */

static void
anchor_put(struct ctx *c, const unsigned char *u, size_t k, int ws)
{
    if (ws) {
        c->asp = 1;
        return;
    }
    if (c->asp && c->abuf.len > 0 && c->abuf.len < TM_HTML_ANCHOR_MAX)
        (void)tm_buf_putc(&c->abuf, ' ');
    c->asp = 0;
    if (c->abuf.len + k <= TM_HTML_ANCHOR_MAX)
        (void)tm_buf_append(&c->abuf, u, k);
}

/* text_add - text libxml2 reports, as one piece of the current display_text chunk */
/*
 * counted - a character that shows as something: not a zero-width,
 * format, combining or space-like character (the padding marketing mail
 * and spam put in hidden preheaders)
 */
static int
counted(const unsigned char *u, size_t k)
{
    uint32_t cp;

    if (k == 1)
        return 1;
    if (k == 2)
        cp = (uint32_t)(u[0] & 0x1F) << 6 | (u[1] & 0x3Fu);
    else if (k == 3)
        cp = (uint32_t)(u[0] & 0x0F) << 12 | (uint32_t)(u[1] & 0x3F) << 6 | (u[2] & 0x3Fu);
    else
        return 1;
    return !(cp == 0xA0 || cp == 0xAD || (cp >= 0x300 && cp <= 0x36F) || cp == 0x115F ||
             cp == 0x1160 || cp == 0x17B4 || cp == 0x17B5 || cp == 0x180E ||
             (cp >= 0x2000 && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202F) ||
             (cp >= 0x205F && cp <= 0x206F) || cp == 0x3000 || cp == 0x3164 || cp == 0xFEFF ||
             cp == 0xFFA0);
}

static void
text_add(struct ctx *c, const xmlChar *ch, size_t n)
{
    size_t i = 0;
    unsigned fl;

    if (c->stopped || c->raw > 0 || n == 0)
        return;
    if (!c->chunk_open) {
        c->chunk_open = 1;
        c->chunk_start = c->out.len;
        c->sp = c->have_chunk && c->last_ws;
    }
    fl = flags_now(c);
    while (i < n && !c->stopped) {
        unsigned char u[4];
        size_t k = next_cp(c, ch, n, &i, u);
        int ws = k == 1 && is_hws(u[0]);
        if (c->anchor)
            anchor_put(c, u, k, ws);
        if (ws) {
            if (!c->sp)
                put(c, " ", 1);
            c->sp = 1;
            continue;
        }
        c->sp = 0;
        if (!counted(u, k)) {
            /* neither hidden nor visible text */
        } else if (fl) {
            unsigned b;
            c->doc->hidden_chars++;
            c->doc->hidden |= fl;
            for (b = 0; b < TM_HTML_HID_KINDS; b++)
                if (fl & (1u << b))
                    c->doc->hidden_kind_chars[b]++;
        } else {
            c->doc->visible_chars++;
        }
        put(c, u, k);
    }
}

static int
is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* skip_to - offset after the first `lit` at or after i in p[..to), or to */
static size_t
skip_to(const unsigned char *p, size_t i, size_t to, const char *lit)
{
    size_t k = strlen(lit);

    for (; i + k <= to; i++)
        if (memcmp(p + i, lit, k) == 0)
            return i + k;
    return to;
}

/*
 * gap - what HTML::Parser sees in src[c->mark, to) that libxml2 did not
 * report: tags it dropped (a stray </p>, a second <head>, </br>) still end
 * a display_text chunk and give their whitespace, and blanks it skipped
 * (in head, between table rows) are a text chunk of their own. `trailing`:
 * the run of text at `to` is unreported too (else it is the text being
 * reported now). Each byte is looked at once: mark only moves forward.
 * Returns where the last run of text in the range starts.
 */
static size_t
gap(struct ctx *c, size_t to, int trailing)
{
    const unsigned char *p = c->src.p;
    size_t i = c->mark, run = to;

    if (to > c->src.len)
        to = c->src.len;
    if (c->raw > 0 || i >= to) {
        if (to > c->mark)
            c->mark = to;
        return to;
    }
    while (i < to && !c->stopped) {
        if (p[i] == '<' && to - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
            close_chunk(c);
            i = skip_to(p, i + 4, to, "-->");
        } else if (p[i] == '<' && i + 1 < to &&
                   (is_alpha(p[i + 1]) || (p[i + 1] == '/' && i + 2 < to && is_alpha(p[i + 2])))) {
            size_t s = i + (p[i + 1] == '/' ? 2 : 1), e = s;
            const char *ws;
            while (e < to && (is_alpha(p[e]) || (p[e] >= '0' && p[e] <= '9')))
                e++;
            close_chunk(c);
            if ((ws = tag_ws_n(p + s, e - s)) != NULL)
                ws_chunk(c, ws);
            i = skip_to(p, e, to, ">");
        } else if (p[i] == '<' && i + 1 < to && (p[i + 1] == '!' || p[i + 1] == '?')) {
            close_chunk(c);
            i = skip_to(p, i + 2, to, ">");
        } else {
            size_t s = i, k;
            int blank = 1;
            for (i++; i < to && p[i] != '<'; i++)
                ;
            for (k = s; k < i && blank; k++)
                blank = is_hws(p[k]);
            if (blank && !c->chunk_open && (trailing || i < to))
                text_add(c, (const xmlChar *)" ", 1);
            run = s;
        }
    }
    c->mark = to;
    return run;
}

static void
on_text(void *ud, const xmlChar *ch, int len)
{
    struct ctx *c = ud;

    if (c->stopped || len <= 0)
        return;
    if (c->raw == 0) {
        size_t run = gap(c, pos(c), 0);
        /* blanks libxml2 skipped in front of this text (at the very start) */
        if (run < c->src.len && is_hws(c->src.p[run]) && !is_hws(ch[0]) && !c->chunk_open)
            text_add(c, (const xmlChar *)" ", 1);
    }
    text_add(c, ch, (size_t)len);
    if (pos(c) > c->mark)
        c->mark = pos(c);
}

static void
on_cdata(void *ud, const xmlChar *ch, int len)
{
    struct ctx *c = ud;

    if (c->in_style > 0 && len > 0 && !c->stopped)
        (void)tm_buf_append(&c->sheet, ch, (size_t)len); /* past the cap: ignored */
    if (pos(c) > c->mark)
        c->mark = pos(c);
}

static void
on_comment(void *ud, const xmlChar *v)
{
    struct ctx *c = ud;

    (void)v;
    if (c->raw == 0)
        (void)gap(c, pos(c), 0);
    close_chunk(c);
    if (pos(c) > c->mark)
        c->mark = pos(c);
}

static void
on_error(void *ud, const char *msg, ...)
{
    (void)ud;
    (void)msg;
}

/* ---- links ----------------------------------------------------------- */

static struct tm_html_link *
add_link(struct ctx *c, enum tm_html_link_kind kind, const xmlChar *v)
{
    struct tm_html_doc *d = c->doc;
    struct tm_html_link *l;
    size_t max = c->t->limits->text_max_uri_len;
    int cut;
    struct tm_str raw;

    if (v == NULL)
        return NULL;
    if (d->nlinks >= c->t->limits->text_max_uris) {
        if (!c->links_noted)
            tm_task_finding(c->t, TM_F_URL_LIMIT_COUNT);
        c->links_noted = 1;
        d->clipped = 1;
        return NULL;
    }
    raw = dup_value(c, v, max, &cut);
    if (raw.p == NULL || raw.len == 0)
        return NULL;
    if (d->nlinks == c->links_cap) {
        size_t nc = c->links_cap ? c->links_cap * 2 : 16;
        void *p = tm_arena_realloc(c->t->arena, d->links, c->links_cap * sizeof(*l),
                                   nc * sizeof(*l));
        if (p == NULL) {
            fail(c, TM_ENOMEM);
            return NULL;
        }
        d->links = p;
        c->links_cap = nc;
    }
    l = &d->links[d->nlinks++];
    memset(l, 0, sizeof(*l));
    l->kind = kind;
    l->raw = raw;
    l->hidden = flags_now(c);
    if (tm_html_resolve(c->t->arena, d->base, raw, &l->url) != TM_OK) {
        fail(c, TM_ENOMEM);
        return l;
    }
    if (l->url.len > max) {
        l->url.len = max;
        cut = 1;
    }
    if (cut)
        tm_task_finding(c->t, TM_F_URL_LIMIT_LEN);
    return l;
}

static const xmlChar *
attr(const xmlChar **atts, const char *name)
{
    size_t i;

    if (atts == NULL)
        return NULL;
    for (i = 0; atts[i] != NULL; i += 2)
        if (name_is(atts[i], name))
            return atts[i + 1] ? atts[i + 1] : (const xmlChar *)"";
    return NULL;
}

/* refresh - the url=... of a meta refresh content ("5; URL='x'") */
static void
refresh(struct ctx *c, const xmlChar *v)
{
    const xmlChar *p = v;
    xmlChar *u;
    size_t n;

    while (*p != '\0' && ((*p >= '0' && *p <= '9') || *p == '.' || is_hws(*p)))
        p++;
    if (*p != ';' && *p != ',')
        return;
    p++;
    while (is_hws(*p))
        p++;
    if ((p[0] | 0x20) == 'u' && (p[1] | 0x20) == 'r' && (p[2] | 0x20) == 'l') {
        const xmlChar *q = p + 3;
        while (is_hws(*q))
            q++;
        if (*q == '=') {
            p = q + 1;
            while (is_hws(*p))
                p++;
        }
    }
    n = (size_t)xmlStrlen(p);
    if (n > 0 && (*p == '"' || *p == '\'')) {
        const xmlChar *e = (const xmlChar *)memchr(p + 1, *p, n - 1);
        n = e ? (size_t)(e - p - 1) : n - 1;
        p++;
    }
    if ((u = tm_arena_alloc(c->t->arena, n + 1)) == NULL) {
        fail(c, TM_ENOMEM);
        return;
    }
    memcpy(u, p, n);
    u[n] = '\0';
    (void)add_link(c, TM_HTML_LINK_META, u);
}

static void
meta(struct ctx *c, const xmlChar **atts)
{
    const xmlChar *cs = attr(atts, "charset"), *he = attr(atts, "http-equiv");
    const xmlChar *ct = attr(atts, "content");
    struct tm_str v = TM_STR_NULL;
    int cut;

    if (cs != NULL) {
        v = dup_value(c, cs, 64, &cut);
    } else if (he != NULL && ct != NULL && tm_str_ieq(tm_str_trim(tm_str_make(he, (size_t)xmlStrlen(he))), "content-type")) {
        struct tm_str s = dup_value(c, ct, 256, &cut);
        v = tm_str_trim(tm_html_content_charset(s));
    } else if (he != NULL && ct != NULL && tm_str_ieq(tm_str_trim(tm_str_make(he, (size_t)xmlStrlen(he))), "refresh")) {
        refresh(c, ct);
    }
    if (v.len > 0 && c->doc->meta_charset.len == 0)
        c->doc->meta_charset = v;
}

/* number - a leading decimal number of an attribute, capped at 65535; -1 if none */
static long
number(const xmlChar *v)
{
    long x = 0;
    size_t i = 0;

    if (v == NULL)
        return -1;
    while (is_hws(v[i]))
        i++;
    if (!(v[i] >= '0' && v[i] <= '9'))
        return -1;
    for (; v[i] >= '0' && v[i] <= '9'; i++)
        if ((x = x * 10 + (v[i] - '0')) > 65535)
            x = 65535;
    return x;
}

static void
img(struct ctx *c, const xmlChar **atts)
{
    long w = number(attr(atts, "width")), h = number(attr(atts, "height"));
    struct tm_html_doc *d = c->doc;

    d->images++;
    if (w >= 0 && h >= 0) {
        size_t a = (size_t)w * (size_t)h, cap = (size_t)1 << 30;
        d->image_area = a > cap - d->image_area ? cap : d->image_area + a;
    }
    (void)add_link(c, TM_HTML_LINK_IMG, attr(atts, "src"));
}

static void
anchor_close(struct ctx *c)
{
    struct tm_html_link *l;

    if (c->anchor == 0)
        return;
    l = &c->doc->links[c->anchor - 1];
    l->anchor = tm_str_make(c->abuf.data, c->abuf.len);
    c->anchor = 0;
}

/* links - the URL attributes of a start tag, by element */
static void
links(struct ctx *c, const xmlChar *nm, const xmlChar **atts)
{
    struct tm_html_link *l;

    if (name_is(nm, "a")) {
        anchor_close(c);
        if ((l = add_link(c, TM_HTML_LINK_A, attr(atts, "href"))) != NULL) {
            c->anchor = (size_t)(l - c->doc->links) + 1;
            tm_buf_init(&c->abuf, c->t->arena, TM_HTML_ANCHOR_MAX);
            c->asp = 0;
        }
    } else if (name_is(nm, "area")) {
        if ((l = add_link(c, TM_HTML_LINK_AREA, attr(atts, "href"))) != NULL) {
            const xmlChar *alt = attr(atts, "alt");
            int cut;
            if (alt != NULL)
                l->anchor = fold(dup_value(c, alt, TM_HTML_ANCHOR_MAX, &cut));
        }
    } else if (name_is(nm, "img")) {
        img(c, atts);
    } else if (name_is(nm, "form")) {
        c->doc->forms++;
        (void)add_link(c, TM_HTML_LINK_FORM, attr(atts, "action"));
    } else if (name_is(nm, "iframe") || name_is(nm, "frame")) {
        (void)add_link(c, TM_HTML_LINK_IFRAME, attr(atts, "src"));
    } else if (name_is(nm, "meta")) {
        meta(c, atts);
    } else if (name_is(nm, "link")) {
        (void)add_link(c, TM_HTML_LINK_OTHER, attr(atts, "href"));
    } else if (name_is(nm, "script") || name_is(nm, "embed") || name_is(nm, "bgsound")) {
        (void)add_link(c, TM_HTML_LINK_OTHER, attr(atts, "src"));
    } else if (name_is(nm, "base")) {
        const xmlChar *h = attr(atts, "href");
        int cut;
        if (h != NULL && c->doc->base.len == 0)
            c->doc->base = dup_value(c, h, c->t->limits->text_max_uri_len, &cut);
    }
    if (name_is(nm, "body") || name_is(nm, "table") || name_is(nm, "td") || name_is(nm, "tr") ||
        name_is(nm, "th"))
        (void)add_link(c, TM_HTML_LINK_OTHER, attr(atts, "background"));
}

/* ---- elements -------------------------------------------------------- */

/* has_class - the class attribute value v lists cls */
static int
has_class(const xmlChar *v, const char *cls)
{
    size_t n = strlen(cls), i = 0, s;

    while (v[i] != '\0') {
        while (is_hws(v[i]))
            i++;
        s = i;
        while (v[i] != '\0' && !is_hws(v[i]))
            i++;
        if (i - s == n && memcmp(v + s, cls, n) == 0)
            return 1;
    }
    return 0;
}

/* apply - one style's contribution to an element's state */
static void
apply(const struct tm_html_style *st, struct elem *e)
{
    e->hid |= st->hidden;
    if (st->set & TM_HTML_STYLE_FG)
        e->fg = st->fg;
    if (st->set & TM_HTML_STYLE_BG)
        e->bg = st->bg;
}

/* sheet_rules - the rules of <style> sheets that select this element, in order */
static void
sheet_rules(const struct ctx *c, const xmlChar *nm, const xmlChar **atts, struct elem *e)
{
    const xmlChar *cls = attr(atts, "class");
    size_t i;

    for (i = 0; i < c->nrules; i++) {
        const struct tm_html_css_rule *r = &c->rules[i];
        if (r->tag[0] != '\0' && !name_is(nm, r->tag))
            continue;
        if (r->cls[0] != '\0' && (cls == NULL || !has_class(cls, r->cls)))
            continue;
        apply(&r->st, e);
    }
}

/* style - the state an element gives its content */
static void
style(const struct ctx *c, const xmlChar *nm, const xmlChar **atts, const struct elem *parent,
      struct elem *e)
{
    struct tm_html_style st;
    const xmlChar *v;
    uint32_t rgb;

    *e = *parent;
    if (c->nrules > 0)
        sheet_rules(c, nm, atts, e);
    if (atts == NULL)
        return;
    memset(&st, 0, sizeof(st));
    if (attr(atts, "hidden") != NULL)
        e->hid |= TM_HTML_HID_DISPLAY;
    if ((v = attr(atts, "bgcolor")) != NULL &&
        (name_is(nm, "body") || name_is(nm, "table") || name_is(nm, "tr") || name_is(nm, "td") ||
         name_is(nm, "th")) &&
        tm_html_css_colour(v, (size_t)xmlStrlen(v), &rgb))
        e->bg = rgb;
    if ((v = attr(atts, "background")) != NULL && *v != '\0' &&
        (name_is(nm, "body") || name_is(nm, "table") || name_is(nm, "tr") || name_is(nm, "td") ||
         name_is(nm, "th")))
        e->bg = TM_HTML_BG_IMAGE;
    if ((v = attr(atts, "text")) != NULL && name_is(nm, "body") &&
        tm_html_css_colour(v, (size_t)xmlStrlen(v), &rgb))
        e->fg = rgb;
    if ((v = attr(atts, "color")) != NULL && name_is(nm, "font") &&
        tm_html_css_colour(v, (size_t)xmlStrlen(v), &rgb))
        e->fg = rgb;
    if ((v = attr(atts, "style")) != NULL) {
        tm_html_css_parse(v, (size_t)xmlStrlen(v), &st);
        apply(&st, e);
    }
}

static void
push(struct ctx *c, const struct elem *e)
{
    if (c->depth >= c->t->limits->html_max_depth) {
        if (!c->depth_noted)
            tm_task_finding(c->t, TM_F_HTML_LIMIT_DEPTH);
        c->depth_noted = 1;
        c->doc->clipped = 1;
        c->flat++;
        return;
    }
    if (c->depth == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 32;
        void *p = tm_arena_realloc(c->t->arena, c->stack, c->cap * sizeof(*e), nc * sizeof(*e));
        if (p == NULL) {
            fail(c, TM_ENOMEM);
            c->flat++;
            return;
        }
        c->stack = p;
        c->cap = nc;
    }
    c->stack[c->depth++] = *e;
}

/* real_start - the cursor is on the '>' of a start tag written in the input */
static int
real_start(const struct ctx *c)
{
    size_t at = pos(c);

    if (at >= c->src.len)
        return 0;
    return c->src.p[at] == '>' ||
           (c->src.p[at] == '/' && at + 1 < c->src.len && c->src.p[at + 1] == '>');
}

/* real_end - the input just before the cursor is "</name ...>" */
static int
real_end(const struct ctx *c, const xmlChar *nm)
{
    size_t at = pos(c), k, n = (size_t)xmlStrlen(nm), lim;
    const unsigned char *p = c->src.p;

    if (at == 0 || p[at - 1] != '>')
        return 0;
    lim = at > 1024 ? at - 1024 : 0;
    for (k = at - 1; k > lim && p[k] != '<'; k--)
        ;
    if (p[k] != '<' || k + 2 + n > at || p[k + 1] != '/' || !tm_mem_ieq(p + k + 2, nm, n))
        return 0;
    return !((p[k + 2 + n] | 0x20) >= 'a' && (p[k + 2 + n] | 0x20) <= 'z') &&
           !(p[k + 2 + n] >= '0' && p[k + 2 + n] <= '9');
}

/* tag_open - the '<' of the written tag whose '>' is at `at` (not before mark) */
static size_t
tag_open(const struct ctx *c, size_t at)
{
    size_t k;

    for (k = at; k > c->mark && c->src.p[k] != '<'; k--)
        ;
    return k;
}

static void
on_start(void *ud, const xmlChar *nm, const xmlChar **atts)
{
    struct ctx *c = ud;
    struct elem e;
    const char *ws;

    if (c->stopped || nm == NULL)
        return;
    if (++c->doc->nodes > c->t->limits->html_max_nodes) {
        c->doc->nodes--;
        tm_task_finding(c->t, TM_F_HTML_LIMIT_NODES);
        c->doc->clipped = 1;
        c->stopped = 1;
        xmlStopParser(c->px);
        return;
    }
    if (real_start(c)) {
        size_t at = pos(c);
        (void)gap(c, tag_open(c, at), 1);
        c->mark = at + (c->src.p[at] == '>' ? 1 : 2);
        close_chunk(c);
        if ((ws = tag_ws(nm)) != NULL)
            ws_chunk(c, ws);
    }
    style(c, nm, atts, top(c), &e);
    push(c, &e);
    links(c, nm, atts);
    if (name_is(nm, "script") || name_is(nm, "style"))
        c->raw++;
    if (name_is(nm, "style")) {
        c->in_style++;
        c->sheet_from = c->sheet.len;
    }
}

/* sheet_end - the rules of the <style> element that just ended */
static void
sheet_end(struct ctx *c)
{
    if (c->in_style == 0)
        return;
    c->in_style--;
    if (c->sheet.len <= c->sheet_from || c->nrules >= TM_HTML_CSS_RULES)
        return;
    if (c->rules == NULL &&
        (c->rules = tm_arena_calloc(c->t->arena, TM_HTML_CSS_RULES, sizeof(*c->rules))) == NULL) {
        fail(c, TM_ENOMEM);
        return;
    }
    tm_html_css_sheet(c->sheet.data + c->sheet_from, c->sheet.len - c->sheet_from, c->rules,
                      &c->nrules, TM_HTML_CSS_RULES);
    c->sheet_from = c->sheet.len;
}

static void
on_end(void *ud, const xmlChar *nm)
{
    struct ctx *c = ud;
    const char *ws;

    if (c->stopped || nm == NULL)
        return;
    if (real_end(c, nm)) {
        size_t at = pos(c);
        (void)gap(c, tag_open(c, at - 1), 1);
        c->mark = at;
        close_chunk(c);
        if ((ws = tag_ws(nm)) != NULL)
            ws_chunk(c, ws);
    }
    if ((name_is(nm, "script") || name_is(nm, "style")) && c->raw > 0)
        c->raw--;
    if (name_is(nm, "style"))
        sheet_end(c);
    if (name_is(nm, "a"))
        anchor_close(c);
    if (c->flat > 0)
        c->flat--;
    else if (c->depth > 0)
        c->depth--;
}

/* feed - the prepared input through libxml2's push parser, in UTF-8-aligned chunks */
static void
feed(struct ctx *c)
{
    size_t off = 0;

    while (off < c->src.len && !c->stopped) {
        size_t k = c->src.len - off;
        if (k > TM_HTML_CHUNK) {
            k = TM_HTML_CHUNK;
            while (k > 1 && (c->src.p[off + k] & 0xC0) == 0x80)
                k--;
        }
        (void)htmlParseChunk(c->px, (const char *)c->src.p + off, (int)k, 0);
        off += k;
    }
    if (!c->stopped)
        (void)htmlParseChunk(c->px, NULL, 0, 1);
}

tm_rc
tm_html_parse(struct tm_task *t, const unsigned char *utf8, size_t n, int chars,
              struct tm_html_doc *doc)
{
    htmlSAXHandler sax;
    struct ctx c;
    tm_rc rc;

    memset(doc, 0, sizeof(*doc));
    memset(&c, 0, sizeof(c));
    c.t = t;
    c.doc = doc;
    c.chars = chars;
    c.root.fg = 0x000000;
    c.root.bg = 0xffffff;
    tm_buf_init(&c.out, t->arena, t->limits->text_max_body);
    tm_buf_init(&c.sheet, t->arena, TM_HTML_CSS_SHEET_MAX);
    if ((rc = tm_html_prep(t, utf8, n, !chars, &c.src)) != TM_OK)
        return rc == TM_ENOMEM ? rc : TM_OK;
    if (c.src.len == 0 || c.src.len > INT32_MAX)
        return TM_OK;
    (void)pthread_once(&xml_once, xml_init);
    memset(&sax, 0, sizeof(sax));
    sax.startElement = on_start;
    sax.endElement = on_end;
    sax.characters = on_text;
    sax.ignorableWhitespace = on_text;
    sax.cdataBlock = on_cdata;
    sax.comment = on_comment;
    sax.warning = on_error;
    sax.error = on_error;
    sax.fatalError = on_error;
    c.px = htmlCreatePushParserCtxt(&sax, &c, NULL, 0, NULL, XML_CHAR_ENCODING_UTF8);
    if (c.px == NULL)
        return TM_ENOMEM;
    (void)htmlCtxtUseOptions(c.px, HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
                                       HTML_PARSE_NOWARNING | HTML_PARSE_IGNORE_ENC |
                                       HTML_PARSE_NODEFDTD);
    feed(&c);
    if (!c.stopped)
        (void)gap(&c, c.src.len, 1); /* tags after libxml2's last event */
    close_chunk(&c);
    anchor_close(&c);
    if (c.px->myDoc != NULL)
        xmlFreeDoc(c.px->myDoc);
    htmlFreeParserCtxt(c.px);
    c.px = NULL;
    doc->text = tm_str_make(c.out.data ? c.out.data : (const unsigned char *)"", c.out.len);
    return c.rc;
}
