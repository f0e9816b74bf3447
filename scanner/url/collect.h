/*
 * collect.h - the URLs of one message (the url stage's per-task result).
 *
 * Sources, in this order: the HTML links of every text/html part (a/area
 * href, meta refresh and link href as "href"; img/iframe/frame/embed/script
 * src and background as "src"; form action as "form"), the plain text the
 * `body` target sees (text parts and the visible text of HTML, Subject
 * included), and the List-Unsubscribe/-Subscribe/-Help headers. Each URL
 * found is normalised (url.h); a redirector's target is added once more, one
 * level down, with source "redirect" and `parent` naming the wrapper.
 * Duplicates (same normal form, same source) are kept once. Relative links
 * that no <base> resolves, and javascript:/data:/cid:/about: links, are
 * skipped.
 *
 * Bounds: text_max_uris URLs per message (finding URL_LIMIT_COUNT, then
 * stop); text_max_uri_len bytes of one URL (cut, finding URL_LIMIT_LEN).
 */
#ifndef TM_URL_COLLECT_H
#define TM_URL_COLLECT_H

#include <stddef.h>

#include "core/core.h"
#include "core/str.h"
#include "text/text.h"
#include "url/url.h"

struct tm_task;
struct tm_mime_part;

struct tm_url_item {
    struct tm_url u;
    enum tm_url_source source;
    struct tm_str anchor;              /* HTML anchor text (a/area), else empty */
    unsigned hidden;                   /* TM_HTML_HID_* where an HTML link sits */
    int parent;                        /* redirect: index of the wrapping URL, else -1 */
    const struct tm_mime_part *part;   /* the part it came from (NULL: headers, Subject) */
};

struct tm_urlset {
    struct tm_url_item *v;
    size_t n;
    int clipped; /* text_max_uris reached */
};

/* tm_url_collect - the message's URLs (computed once per task, cached) */
tm_rc tm_url_collect(struct tm_task *t, const struct tm_urlset **out);

/*
 * tm_url_uri_target - what `uri` rules see: for every URL, the form it was
 * written in (with "http://" put before a scheme-less one and "mailto:"
 * before an address, as SpamAssassin lists them), the same with its %XX
 * escapes decoded when it has any, and, when different, its normal form; so /evil\.example/ matches however the host was obfuscated.
 */
tm_rc tm_url_uri_target(struct tm_task *t, const struct tm_textset **out);

#endif
