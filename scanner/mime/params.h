/*
 * params.h - structured header values: Content-Type (RFC 2045 5.1) and
 * Content-Disposition (RFC 2183) with their parameters, including RFC 2231
 * continuations (name*0, name*1*), charset'lang' prefixes and %XX encoding.
 * Values come out as NUL-terminated UTF-8 in the arena. Comments (RFC 5322
 * CFWS) are skipped, quoted strings unquoted, and hostile input (unclosed
 * quotes, missing '=' or ';', duplicate names) is parsed the way mail readers
 * do, with flags saying what was wrong.
 */
#ifndef TM_MIME_PARAMS_H
#define TM_MIME_PARAMS_H

#include <stddef.h>

#include "core/core.h"

struct tm_arena;

struct tm_param {
    const char *name;  /* lower-case ASCII, without the RFC 2231 '*' suffixes */
    const char *value; /* decoded UTF-8 */
    size_t value_len;
};

struct tm_params {
    const char *token; /* "type/subtype" or disposition type, lower-case; "" if none */
    struct tm_param *v;
    size_t n;
};

#define TM_PARAM_BAD   0x1u /* syntax error somewhere (recovered) */
#define TM_PARAM_2231  0x2u /* an RFC 2231 value did not decode cleanly */
#define TM_PARAM_LIMIT 0x4u /* more than max_params parameters */
#define TM_PARAM_DUP   0x8u /* the same parameter twice; the first wins */

/*
 * tm_params_parse - parse "token; a=b; c*=utf-8''%41" (already unfolded or
 * not: CR/LF count as whitespace). RFC 2047 words inside quoted values are
 * decoded too, as mail readers do for filenames.
 */
tm_rc tm_params_parse(struct tm_arena *a, const unsigned char *in, size_t len, size_t max_params,
                      struct tm_params *out, unsigned *flags);

/* tm_params_get - first value of parameter `name` (lower-case) or NULL */
const struct tm_param *tm_params_get(const struct tm_params *p, const char *name);

#endif
