/*
 * addr.h - RFC 5322 section 3.4 address lists (From, To, Cc, Reply-To ...):
 * the addr-spec of each mailbox, with display names, comments, groups and
 * obsolete routes handled and hostile input (unbalanced quotes, brackets or
 * parentheses) recovered from.
 */
#ifndef TM_MIME_ADDR_H
#define TM_MIME_ADDR_H

#include <stddef.h>

#include "core/core.h"

struct tm_arena;

/*
 * tm_addr_list - the addr-specs of `in` as NUL-terminated strings in the
 * arena, at most `max` of them (*truncated set when more were present).
 */
tm_rc tm_addr_list(struct tm_arena *a, const unsigned char *in, size_t len, size_t max,
                   const char ***out, size_t *n, int *truncated);

#endif
