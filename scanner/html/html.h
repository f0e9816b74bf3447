/*
 * html.h - one text/html part through libxml2's HTML parser (the `html`
 * stage): visible text, links with their anchor text, and what was hidden.
 *
 * The parser runs in recover mode with no network, no external entities and
 * no DTD loading, driven through SAX so that nothing but this module's own
 * element stack is kept; the node count and the element depth are bounded
 * (html_max_nodes, html_max_depth: past them parsing stops or deeper
 * elements are flattened, and a finding is recorded). Input is UTF-8 text
 * the caller has already converted from the part's charset.
 *
 * `text` has the shape SpamAssassin's HTML.pm gives the `body` target (the
 * rule-compatibility contract of scanner/text): script, style and comments
 * dropped, entities decoded, whitespace folded, block elements as line
 * breaks. Hidden text stays in `text` (SpamAssassin's body rules see it too)
 * and is counted in `hidden_chars` with the ways it was hidden in `hidden`.
 *
 * Everything in the result lives in the task arena.
 */
#ifndef TM_HTML_HTML_H
#define TM_HTML_HTML_H

#include <stddef.h>

#include "core/core.h"
#include "core/str.h"

struct tm_task;

enum tm_html_link_kind {
    TM_HTML_LINK_A,          /* a href */
    TM_HTML_LINK_AREA,       /* area href */
    TM_HTML_LINK_IMG,        /* img src */
    TM_HTML_LINK_FORM,       /* form action */
    TM_HTML_LINK_IFRAME,     /* iframe / frame src */
    TM_HTML_LINK_META,       /* meta http-equiv=refresh content="N; url=..." */
    TM_HTML_LINK_OTHER,      /* link href, script/embed src, background= */
};

/* How text was hidden (hidden flags). */
#define TM_HTML_HID_DISPLAY   0x1u /* display:none, visibility:hidden, hidden attribute */
#define TM_HTML_HID_ZERO_SIZE 0x2u /* font-size 0, width/height 0, max-height 0 + overflow */
#define TM_HTML_HID_COLOUR    0x4u /* text colour equal or close to its background colour */
#define TM_HTML_HID_TINY_FONT 0x8u /* font-size below 4px/3pt, <font size=1> is not tiny */
#define TM_HTML_HID_KINDS     4    /* bits above */

struct tm_html_link {
    enum tm_html_link_kind kind;
    struct tm_str raw;      /* the attribute value, entities decoded, trimmed */
    struct tm_str url;      /* raw resolved against <base href> when relative, else raw */
    struct tm_str anchor;   /* a/area: visible text inside the element (or alt), folded, capped */
    unsigned hidden;        /* TM_HTML_HID_* in force where the link sits */
};

struct tm_html_doc {
    struct tm_str text;       /* rendered text (see above), UTF-8 */
    struct tm_html_link *links;
    size_t nlinks;
    unsigned hidden;          /* union of TM_HTML_HID_* over all text */
    size_t hidden_chars;      /* characters of text that were hidden (not counting blanks,
                                 zero-width, format and combining characters) */
    size_t hidden_kind_chars[TM_HTML_HID_KINDS]; /* of those, hidden in each way (bit i) */
    size_t visible_chars;     /* characters of text that were not hidden (same count) */
    size_t images;            /* img elements */
    size_t image_area;        /* sum of width*height of imgs that give both (capped) */
    size_t forms;             /* form elements */
    size_t nodes;             /* elements seen */
    struct tm_str meta_charset; /* charset of <meta charset> / http-equiv Content-Type, or empty */
    struct tm_str base;       /* <base href>, or empty */
    int clipped;              /* a limit was reached (finding recorded) */
};

/*
 * tm_html_parse - parse UTF-8 HTML. `chars` is scanner/text's flag saying
 * whether SpamAssassin holds this text as characters (decoded) or octets;
 * it changes how numeric entities above 0x7F are rendered in `text`, as in
 * HTML.pm. Returns TM_ENOMEM when the arena is exhausted; a limit is not an
 * error (doc->clipped and a finding).
 */
tm_rc tm_html_parse(struct tm_task *t, const unsigned char *utf8, size_t n, int chars,
                    struct tm_html_doc *doc);

/*
 * tm_html_sniff_charset - the charset an HTML document declares in its first
 * 1024 bytes (<meta charset=X> or <meta http-equiv="Content-Type"
 * content="...; charset=X">), as the HTML standard's prescan finds it;
 * an empty view when none.
 */
struct tm_str tm_html_sniff_charset(const unsigned char *p, size_t n);

/* tm_html_hidden_name - the name of hidden-text kind k (bit 1u << k): "display",
   "zero_size", "colour", "tiny_font"; NULL for k >= TM_HTML_HID_KINDS */
const char *tm_html_hidden_name(unsigned k);

/* tm_html_link_kind_name - "a", "area", "img", "form", "iframe", "meta", "other" */
const char *tm_html_link_kind_name(enum tm_html_link_kind k);

#endif
