/*
 * charset.h - conversion of declared charsets to UTF-8 through iconv.
 * Unknown charsets and invalid byte sequences never fail: undecodable bytes
 * become U+FFFD and the caller is told through *bad.
 */
#ifndef TM_MIME_CHARSET_H
#define TM_MIME_CHARSET_H

#include <stddef.h>

#include "core/core.h"

struct tm_buf;

/*
 * tm_charset_to_utf8 - append `in` converted from `charset` (a name as found
 * in mail, any case, NULL or empty meaning us-ascii with 8-bit passed as
 * latin-1 unless valid UTF-8) to out. *bad is set to 1 when the charset is
 * unknown or bytes were replaced. Fails only when `out` hits its cap or the
 * arena budget.
 */
tm_rc tm_charset_to_utf8(const char *charset, size_t charset_len, const unsigned char *in,
                         size_t len, struct tm_buf *out, int *bad);

/* tm_utf8_put - append one code point (< 0x110000) encoded as UTF-8 */
tm_rc tm_utf8_put(struct tm_buf *b, unsigned long cp);

/* tm_utf8_valid - 1 when the bytes are well-formed UTF-8 */
int tm_utf8_valid(const unsigned char *p, size_t len);

/* tm_charset_cache_clear - drop this thread's cached iconv descriptors */
void tm_charset_cache_clear(void);

#endif
