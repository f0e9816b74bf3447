/*
 * headers.h - the header changes a verdict asks for, the same for every
 * protocol (milter ADDHEADER, spamd PROCESS/HEADERS, HTTP milter.add_headers):
 *
 *   X-Spam-Flag: YES                          (action add header or stronger)
 *   X-Spam-Score: 7.4
 *   X-Spam-Status: Yes, score=7.4 required=5.0 tests=RULE_A,RULE_B
 *   X-Spam-Action: add header                 (Tamis's action name)
 *
 * X-Spam-Status follows SpamAssassin's layout (tests sorted by name, folded
 * before 78 columns) so that existing filters in mail clients keep working.
 */
#ifndef TM_PROTO_HEADERS_H
#define TM_PROTO_HEADERS_H

#include <stddef.h>

#include "core/core.h"

struct tm_task;
struct tm_verdict;

struct tm_proto_header {
    const char *name;  /* "X-Spam-Status" */
    const char *value; /* folded with "\r\n\t" where long; no trailing CRLF */
};

#define TM_PROTO_MAX_HEADERS 4

/*
 * tm_proto_spam_headers - fill out (at most TM_PROTO_MAX_HEADERS) with the
 * headers for verdict v; strings live in the task arena. Returns the count,
 * 0 on arena exhaustion. crlf: fold with "\r\n\t" (wire) or "\n\t" (milter,
 * which wants bare LF inside header values).
 */
size_t tm_proto_spam_headers(struct tm_task *t, const struct tm_verdict *v, int crlf,
                             struct tm_proto_header *out);

/*
 * tm_proto_lf_folding - value (CRLF folding, as in tm_verdict.prepend) with
 * every CR of a CRLF dropped, into dst (room for strlen(value) + 1 bytes);
 * the milter and rspamd's add_headers want bare LF. Returns the length.
 */
size_t tm_proto_lf_folding(char *dst, const char *value);

/* tm_proto_is_spam - the verdict's action is "add header" or stronger */
int tm_proto_is_spam(const struct tm_verdict *v);

#endif
