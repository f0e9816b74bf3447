/*
 * css.c - the small part of CSS the html stage needs to tell hidden text:
 * inline `style` declarations (display, visibility, font-size, width,
 * height, max-height, overflow, color, background[-color]) and colour
 * values (the 16 basic named colours and a few common others, #rgb,
 * #rrggbb, rgb()/rgba()), and the simplest rules of <style> sheets
 * ("tag", ".class", "tag.class" selectors).
 *
 * No real cascade (rules apply in order, then the inline style), no other
 * selectors, no shorthand beyond picking a colour out of `background`. At most TM_HTML_CSS_MAX bytes of a declaration block are
 * read, each value is scanned once, no allocation, no recursion.
 */
#include "html/html_int.h"

#include <string.h>

#include "core/str.h"
#include "html/html.h"

static int
is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static struct tm_str
trim(const unsigned char *p, size_t n)
{
    while (n > 0 && is_ws(p[0])) {
        p++;
        n--;
    }
    while (n > 0 && is_ws(p[n - 1]))
        n--;
    return tm_str_make(p, n);
}

static const struct {
    const char *name;
    uint32_t rgb;
} named[] = {
    {"black", 0x000000},   {"silver", 0xc0c0c0}, {"gray", 0x808080},     {"grey", 0x808080},
    {"white", 0xffffff},   {"maroon", 0x800000}, {"red", 0xff0000},      {"purple", 0x800080},
    {"fuchsia", 0xff00ff}, {"green", 0x008000},  {"lime", 0x00ff00},     {"olive", 0x808000},
    {"yellow", 0xffff00},  {"navy", 0x000080},   {"blue", 0x0000ff},     {"teal", 0x008080},
    {"aqua", 0x00ffff},    {"orange", 0xffa500}, {"magenta", 0xff00ff},  {"cyan", 0x00ffff},
    {"snow", 0xfffafa},    {"ivory", 0xfffff0},  {"whitesmoke", 0xf5f5f5}, {"ghostwhite", 0xf8f8ff},
    {"lightgray", 0xd3d3d3}, {"lightgrey", 0xd3d3d3}, {"darkgray", 0xa9a9a9}, {"darkgrey", 0xa9a9a9},
};

/* rgb_args - "r, g, b[, a])" with integers or percentages */
static int
rgb_args(const unsigned char *p, size_t n, uint32_t *rgb)
{
    uint32_t v[3];
    size_t i = 0, k;

    for (k = 0; k < 3; k++) {
        unsigned long x = 0;
        size_t s;
        while (i < n && (is_ws(p[i]) || p[i] == ','))
            i++;
        s = i;
        while (i < n && p[i] >= '0' && p[i] <= '9' && i - s < 6)
            x = x * 10 + (unsigned long)(p[i++] - '0');
        if (i == s)
            return 0;
        while (i < n && (p[i] == '.' || (p[i] >= '0' && p[i] <= '9')))
            i++;
        if (i < n && p[i] == '%') {
            x = x >= 100 ? 255 : x * 255 / 100;
            i++;
        }
        v[k] = x > 255 ? 255 : (uint32_t)x;
    }
    *rgb = v[0] << 16 | v[1] << 8 | v[2];
    return 1;
}

int
tm_html_css_colour(const unsigned char *p, size_t n, uint32_t *rgb)
{
    struct tm_str s = trim(p, n);
    size_t i;

    p = s.p;
    n = s.len;
    if (n == 0)
        return 0;
    if (n > 4 && (tm_mem_ieq(p, "rgb(", 4) || (n > 5 && tm_mem_ieq(p, "rgba(", 5))))
        return rgb_args(p + (p[3] == '(' ? 4 : 5), n - (p[3] == '(' ? 4 : 5), rgb);
    for (i = 0; i < TM_NELEM(named); i++)
        if (strlen(named[i].name) == n && tm_mem_ieq(p, named[i].name, n)) {
            *rgb = named[i].rgb;
            return 1;
        }
    if (p[0] == '#') {
        p++;
        n--;
    }
    if (n != 3 && n != 6)
        return 0;
    for (i = 0; i < n; i++)
        if (tm_hexval(p[i]) < 0)
            return 0;
    if (n == 3) {
        uint32_t r = (uint32_t)tm_hexval(p[0]), g = (uint32_t)tm_hexval(p[1]), b = (uint32_t)tm_hexval(p[2]);
        *rgb = (r * 17) << 16 | (g * 17) << 8 | (b * 17);
    } else {
        *rgb = 0;
        for (i = 0; i < 6; i++)
            *rgb = *rgb << 4 | (uint32_t)tm_hexval(p[i]);
    }
    return 1;
}

int
tm_html_colour_close(uint32_t a, uint32_t b)
{
    int dr = (int)((a >> 16) & 0xff) - (int)((b >> 16) & 0xff);
    int dg = (int)((a >> 8) & 0xff) - (int)((b >> 8) & 0xff);
    int db = (int)(a & 0xff) - (int)(b & 0xff);

    if (dr < 0)
        dr = -dr;
    if (dg < 0)
        dg = -dg;
    if (db < 0)
        db = -db;
    return dr + dg + db <= 30;
}

/*
 * length - a CSS length: value in thousandths of its unit and the unit;
 * returns 0 when the value is not a number.
 */
static int
length(struct tm_str v, unsigned long *milli, struct tm_str *unit)
{
    size_t i = 0, s;
    unsigned long x = 0, frac = 0, scale = 1000;

    if (i < v.len && v.p[i] == '+')
        i++;
    if (i < v.len && v.p[i] == '-')
        return 0; /* negative sizes are invalid, treated as not given */
    s = i;
    while (i < v.len && v.p[i] >= '0' && v.p[i] <= '9') {
        if (x < 1000000)
            x = x * 10 + (unsigned long)(v.p[i] - '0');
        i++;
    }
    if (i < v.len && v.p[i] == '.') {
        i++;
        while (i < v.len && v.p[i] >= '0' && v.p[i] <= '9') {
            if (scale > 1) {
                scale /= 10;
                frac += (unsigned long)(v.p[i] - '0') * scale;
            }
            i++;
        }
    }
    if (i == s)
        return 0;
    *milli = x * 1000 + frac;
    *unit = trim(v.p + i, v.len - i);
    return 1;
}

/* font_size - TM_HTML_HID_ZERO_SIZE or _TINY_FONT for a font-size value */
static unsigned
font_size(struct tm_str v)
{
    unsigned long m;
    struct tm_str u;

    if (!length(v, &m, &u))
        return 0;
    if (m == 0)
        return TM_HTML_HID_ZERO_SIZE;
    if (u.len == 0 || tm_str_ieq(u, "px"))
        return m < 4000 ? TM_HTML_HID_TINY_FONT : 0;
    if (tm_str_ieq(u, "pt"))
        return m < 3000 ? TM_HTML_HID_TINY_FONT : 0;
    if (tm_str_ieq(u, "em") || tm_str_ieq(u, "rem"))
        return m < 250 ? TM_HTML_HID_TINY_FONT : 0;
    if (tm_str_ieq(u, "%"))
        return m < 25000 ? TM_HTML_HID_TINY_FONT : 0;
    return 0;
}

static int
is_zero_len(struct tm_str v)
{
    unsigned long m;
    struct tm_str u;

    return length(v, &m, &u) && m == 0;
}

/* has_url - the value holds url( ... ) (an image) */
static int
has_url(struct tm_str v)
{
    size_t i;

    for (i = 0; i + 4 <= v.len; i++)
        if (tm_mem_ieq(v.p + i, "url(", 4))
            return 1;
    return 0;
}

/* bg_colour - the first colour word of a `background` shorthand */
static int
bg_colour(struct tm_str v, uint32_t *rgb)
{
    size_t i = 0;

    while (i < v.len) {
        size_t s;
        int depth = 0;
        while (i < v.len && is_ws(v.p[i]))
            i++;
        s = i;
        while (i < v.len && (depth > 0 || !is_ws(v.p[i]))) {
            if (v.p[i] == '(')
                depth++;
            else if (v.p[i] == ')' && depth > 0)
                depth--;
            i++;
        }
        if (i > s && tm_html_css_colour(v.p + s, i - s, rgb))
            return 1;
    }
    return 0;
}

/* decl - one "name: value" declaration; *zero and *ovh collect the box bits */
static void
decl(struct tm_str name, struct tm_str v, struct tm_html_style *st, int *zero, int *ovh)
{
    uint32_t rgb;

    if (v.len >= 10 && tm_mem_ieq(v.p + v.len - 10, "!important", 10))
        v = trim(v.p, v.len - 10);
    if (tm_str_ieq(name, "display")) {
        if (tm_str_ieq(v, "none"))
            st->hidden |= TM_HTML_HID_DISPLAY;
    } else if (tm_str_ieq(name, "visibility")) {
        if (tm_str_ieq(v, "hidden") || tm_str_ieq(v, "collapse"))
            st->hidden |= TM_HTML_HID_DISPLAY;
    } else if (tm_str_ieq(name, "font-size")) {
        st->hidden |= font_size(v);
    } else if (tm_str_ieq(name, "width") || tm_str_ieq(name, "height") ||
               tm_str_ieq(name, "max-height") || tm_str_ieq(name, "max-width")) {
        if (is_zero_len(v))
            *zero = 1;
    } else if (tm_str_ieq(name, "overflow") || tm_str_ieq(name, "overflow-x") ||
               tm_str_ieq(name, "overflow-y")) {
        if (tm_str_ieq(v, "hidden") || tm_str_ieq(v, "clip"))
            *ovh = 1;
    } else if (tm_str_ieq(name, "color")) {
        if (tm_html_css_colour(v.p, v.len, &rgb)) {
            st->fg = rgb;
            st->set |= TM_HTML_STYLE_FG;
        }
    } else if (tm_str_ieq(name, "background-color")) {
        if (tm_html_css_colour(v.p, v.len, &rgb)) {
            st->bg = rgb;
            st->set |= TM_HTML_STYLE_BG;
        }
    } else if (tm_str_ieq(name, "background-image") ||
               (tm_str_ieq(name, "background") && has_url(v))) {
        if (!tm_str_ieq(v, "none")) {
            st->bg = TM_HTML_BG_IMAGE;
            st->set |= TM_HTML_STYLE_BG;
        }
    } else if (tm_str_ieq(name, "background")) {
        if (bg_colour(v, &rgb)) {
            st->bg = rgb;
            st->set |= TM_HTML_STYLE_BG;
        }
    }
}

void
tm_html_css_parse(const unsigned char *p, size_t n, struct tm_html_style *st)
{
    size_t i = 0;
    int zero = 0, ovh = 0;

    if (n > TM_HTML_CSS_MAX)
        n = TM_HTML_CSS_MAX;
    while (i < n) {
        size_t ns = i, ne, vs, ve;
        while (i < n && p[i] != ':' && p[i] != ';')
            i++;
        if (i >= n || p[i] == ';') {
            i++;
            continue;
        }
        ne = i++;
        vs = i;
        while (i < n && p[i] != ';')
            i++;
        ve = i++;
        decl(trim(p + ns, ne - ns), trim(p + vs, ve - vs), st, &zero, &ovh);
    }
    if (zero && ovh)
        st->hidden |= TM_HTML_HID_ZERO_SIZE;
}

static int
sel_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

/* selector - one simple selector into r; 0 when it is not one we keep */
static int
selector(struct tm_str s, struct tm_html_css_rule *r)
{
    size_t i = 0, t, k;

    memset(r, 0, sizeof(*r));
    while (i < s.len && sel_char(s.p[i]))
        i++;
    t = i;
    if (t >= sizeof(r->tag))
        return 0;
    for (k = 0; k < t; k++)
        r->tag[k] = (char)tm_lower(s.p[k]);
    if (i == s.len)
        return t > 0;
    if (s.p[i] != '.')
        return 0;
    for (k = ++i; k < s.len; k++)
        if (!sel_char(s.p[k]))
            return 0;
    if (s.len - i == 0 || s.len - i >= sizeof(r->cls))
        return 0;
    memcpy(r->cls, s.p + i, s.len - i);
    return 1;
}

/* skip_comment - past a comment starting at p[i] == '/' '*', or i */
static size_t
skip_comment(const unsigned char *p, size_t n, size_t i)
{
    if (i + 1 >= n || p[i] != '/' || p[i + 1] != '*')
        return i;
    for (i += 2; i + 1 < n; i++)
        if (p[i] == '*' && p[i + 1] == '/')
            return i + 2;
    return n;
}

void
tm_html_css_sheet(const unsigned char *p, size_t n, struct tm_html_css_rule *r, size_t *nr,
                  size_t max)
{
    size_t i = 0;

    while (i < n && *nr < max) {
        size_t ss, se, ds, de, k;
        while (i < n && (is_ws(p[i]) || p[i] == '/' || p[i] == '<' || p[i] == '!' || p[i] == '-')) {
            size_t j = skip_comment(p, n, i);
            i = j > i ? j : i + 1;
        }
        ss = i;
        while (i < n && p[i] != '{' && p[i] != '}' && p[i] != ';')
            i++;
        if (i >= n)
            break;
        if (p[i] != '{') { /* a stray '}' or an @import ...; */
            i++;
            continue;
        }
        se = i++;
        if (p[ss] == '@') { /* @media and the like: skip the block with its nesting */
            int depth = 1;
            for (; i < n && depth > 0; i++)
                depth += p[i] == '{' ? 1 : p[i] == '}' ? -1 : 0;
            continue;
        }
        ds = i;
        while (i < n && p[i] != '}')
            i++;
        de = i;
        if (i < n)
            i++;
        /* each comma-separated selector gets the declarations */
        for (k = ss; k <= se && *nr < max;) {
            size_t e = k;
            struct tm_str sel;
            while (e < se && p[e] != ',')
                e++;
            sel = trim(p + k, e - k);
            if (selector(sel, &r[*nr])) {
                tm_html_css_parse(p + ds, de - ds, &r[*nr].st);
                (*nr)++;
            }
            k = e + 1;
        }
    }
}
