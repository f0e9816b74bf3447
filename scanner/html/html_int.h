/*
 * html_int.h - scanner/html internals shared by its files: the inline CSS
 * declaration parser and colour values (css.c), and RFC 3986 reference
 * resolution (resolve.c). Nothing here is used outside scanner/html.
 */
#ifndef TM_HTML_HTML_INT_H
#define TM_HTML_HTML_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "core/str.h"

struct tm_arena;
struct tm_task;

/* What one element's style says; `set` bits tell which fields were given. */
struct tm_html_style {
    unsigned hidden;  /* TM_HTML_HID_* the element itself causes (DISPLAY, ZERO_SIZE, TINY_FONT) */
    unsigned set;     /* TM_HTML_STYLE_FG / _BG */
    uint32_t fg, bg;  /* 0xRRGGBB */
};

/* A background that is an image: colours cannot be compared under it. */
#define TM_HTML_BG_IMAGE 0x1000000u

#define TM_HTML_STYLE_FG 0x1u
#define TM_HTML_STYLE_BG 0x2u

/* Bytes of one style attribute looked at; the rest is ignored. */
#define TM_HTML_CSS_MAX 4096

/*
 * tm_html_css_colour - a CSS/HTML colour value: a basic named colour,
 * #rgb, #rrggbb (also without '#', as legacy bgcolor= allows) or
 * rgb()/rgba(); returns 1 and sets *rgb, 0 when not understood.
 */
int tm_html_css_colour(const unsigned char *p, size_t n, uint32_t *rgb);

/* tm_html_css_parse - fold the declarations of a style attribute into *st */
void tm_html_css_parse(const unsigned char *p, size_t n, struct tm_html_style *st);

/* One simple rule of a <style> sheet: "tag", ".class" or "tag.class". */
struct tm_html_css_rule {
    char tag[16];  /* lower-case, "" for any */
    char cls[48];  /* as written, "" for any */
    struct tm_html_style st;
};

/* Rules kept per document, and bytes of <style> sheets read. */
#define TM_HTML_CSS_RULES     64
#define TM_HTML_CSS_SHEET_MAX 65536

/*
 * tm_html_css_sheet - the simple rules of a style sheet appended to
 * r[*nr..max): comments skipped, @-blocks skipped, selectors that are not
 * "tag", ".class" or "tag.class" ignored. Linear in n.
 */
void tm_html_css_sheet(const unsigned char *p, size_t n, struct tm_html_css_rule *r, size_t *nr,
                       size_t max);

/* tm_html_colour_close - two colours a reader cannot tell apart */
int tm_html_colour_close(uint32_t a, uint32_t b);

/*
 * tm_html_resolve - RFC 3986 section 5.2 resolution of `ref` against the
 * absolute `base`; *out is ref itself when it has a scheme or base is not
 * absolute. The result is at most base.len + ref.len bytes.
 */
tm_rc tm_html_resolve(struct tm_arena *a, struct tm_str base, struct tm_str ref,
                      struct tm_str *out);

/*
 * tm_html_prep - the bytes handed to libxml2 (see prep.c); *out is in the
 * arena. `octets` is the inverse of tm_html_parse's `chars`.
 */
tm_rc tm_html_prep(struct tm_task *t, const unsigned char *p, size_t n, int octets,
                   struct tm_str *out);

/*
 * tm_html_content_charset - the charset=X of a Content-Type value, as the
 * HTML standard extracts it from a meta content attribute; empty if none.
 */
struct tm_str tm_html_content_charset(struct tm_str v);

#endif
