/*
 * text.h - what each rule target sees, with SpamAssassin's meaning
 * (Mail::SpamAssassin::Message and PerMsgStatus are the reference):
 *
 *   body     the rendered text of the message's text parts (text/plain as
 *            decoded; text/html reduced to visible text), the Subject first,
 *            with whitespace folded and split into paragraphs the way
 *            SpamAssassin's get_decoded_stripped_body_text_array does;
 *   rawbody  the transfer-decoded but unrendered text parts, in lines;
 *   uri      (scanner/url, url/collect.h: tm_url_uri_target);
 *   full     the raw message;
 *   header   the value(s) of the named header(s), decoded, per modifiers.
 *
 * Everything returned lives in the task arena. Pieces are views (struct
 * tm_str) that may point into the message or the arena.
 */
#ifndef TM_TEXT_TEXT_H
#define TM_TEXT_TEXT_H

#include <stddef.h>

#include "core/core.h"
#include "core/str.h"
#include "html/html.h"

struct tm_task;
struct tm_mime_part;

/* One rendered text/html part: the html stage's result for it. */
struct tm_text_html_part {
    const struct tm_mime_part *part;
    struct tm_html_doc doc;
    struct tm_str mime_charset; /* the part's Content-Type charset (lower-case), or empty */
};

struct tm_textset {
    struct tm_str *v;
    size_t n;
};

/* Header selection, mirroring rules.h's hdr_kind and TM_HDRMOD_* (same values). */
enum tm_text_hdr_kind {
    TM_TEXT_HDR_NAMED,
    TM_TEXT_HDR_ALL,
    TM_TEXT_HDR_TOCC,
    TM_TEXT_HDR_MESSAGEID,
    TM_TEXT_HDR_EXISTS,
};

/*
 * tm_text_body / rawbody - the pieces of each target for the task's
 * parsed message (task->msg). Computed once per task and cached on it.
 */
tm_rc tm_text_body(struct tm_task *t, const struct tm_textset **out);
tm_rc tm_text_rawbody(struct tm_task *t, const struct tm_textset **out);

/*
 * tm_text_html_docs - the html stage's result for every text/html part the
 * body target rendered, in order (renders body first if needed).
 */
tm_rc tm_text_html_docs(struct tm_task *t, const struct tm_text_html_part **out, size_t *n);

/* tm_text_full - the raw message */
struct tm_str tm_text_full(struct tm_task *t);

/*
 * tm_text_header - the text a header rule matches: all occurrences of the
 * named headers of the top-level message, decoded (RFC 2047, UTF-8) unless
 * TM_HDRMOD_RAW, joined as SpamAssassin joins them; *present says whether any
 * such header exists (for exists: and [if-unset:]).
 */
tm_rc tm_text_header(struct tm_task *t, enum tm_text_hdr_kind kind, const char *const *names,
                     size_t nnames, unsigned mods, struct tm_str *out, int *present);

#endif
