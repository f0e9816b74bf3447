/*
 * text_int.h - scanner/text internals shared by its files: the per-task
 * cache, SpamAssassin's charset normalisation and the HTML rendering over the
 * html stage. Nothing here is used outside scanner/text.
 */
#ifndef TM_TEXT_TEXT_INT_H
#define TM_TEXT_TEXT_INT_H

#include <stddef.h>

#include "core/core.h"
#include "core/str.h"
#include "text/text.h"

struct tm_task;
struct tm_buf;
struct tm_mime_part;

/* SpamAssassin's MAX_BODY_LINE_LENGTH (Constants.pm) */
#define TM_TEXT_LINE_MAX 2048

/* A piece list under construction, capped by text_max_pieces. */
struct tm_text_list {
    struct tm_str *v;
    size_t n, cap, max;
    int clipped;
};

struct tm_text_cache {
    int have_body, have_raw;
    tm_rc body_rc, raw_rc;
    struct tm_textset body, rawbody;
    /* each rendered text/html part, in body order (tm_text_html_docs) */
    struct tm_text_html_part *html;
    size_t nhtml, html_cap;
    const struct tm_mime_part *html_part; /* the part being rendered, set by render_part */
    /* the decoded value of each top-level header field, computed once for all
       the header rules that name it (.p NULL: not yet) */
    struct tm_str *hdr_dec;
    size_t nhdr_dec;
};

/* tm_text_list_push - append a view; TM_ELIMIT (clipped set) past the cap */
tm_rc tm_text_list_push(struct tm_task *t, struct tm_text_list *l, const unsigned char *p,
                        size_t n);

/* tm_text_cache_get - the task's cache, created on first use */
struct tm_text_cache *tm_text_cache_get(struct tm_task *t);

/*
 * tm_text_normalize - Message::Node::_normalize: bytes in `charset` to
 * UTF-8. *chars tells whether SpamAssassin would hold the result as Perl
 * characters (decoded) or left the octets alone (all-ASCII text declared as
 * an ASCII-compatible charset). `insist` is its insist_on_declared_charset.
 */
tm_rc tm_text_normalize(struct tm_task *t, const char *charset, size_t cslen,
                        const unsigned char *p, size_t n, int insist, struct tm_str *out,
                        int *chars);

/*
 * tm_text_html_render - reduce HTML to its text the way SpamAssassin's
 * HTML.pm does for the `body` target (tags dropped, script/style/comments
 * dropped, entities decoded, block elements as newlines), appending to out;
 * the part's whole tm_html_doc (links, hidden text ...) is kept in the cache.
 */
tm_rc tm_text_html_render(struct tm_task *t, const unsigned char *p, size_t n, int chars,
                          struct tm_buf *out);


#endif
