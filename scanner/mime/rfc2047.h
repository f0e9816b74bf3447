/*
 * rfc2047.h - header field values to UTF-8: unfolding (RFC 5322 2.2.3) and
 * encoded words (RFC 2047, with RFC 2231 section 5 language tags). Adjacent
 * encoded words separated only by whitespace are joined, and their bytes are
 * concatenated before charset conversion so a multi-byte character split
 * across words survives. A broken word is left as it is.
 */
#ifndef TM_MIME_RFC2047_H
#define TM_MIME_RFC2047_H

#include <stddef.h>

#include "core/core.h"

struct tm_buf;

#define TM_2047_BAD     0x1u /* a word looked encoded but did not decode */
#define TM_2047_CHARSET 0x2u /* unknown charset or invalid bytes replaced */
#define TM_2047_LIMIT   0x4u /* max_words reached; the rest copied raw */
#define TM_2047_8BIT    0x8u /* raw 8-bit bytes outside words */

/*
 * tm_rfc2047_decode - append the decoded, unfolded value to out (UTF-8).
 * Raw 8-bit bytes outside encoded words are taken as UTF-8 when valid, else
 * as windows-1252. Folding CRLF/LF/CR + WSP is removed (the WSP is kept).
 */
tm_rc tm_rfc2047_decode(const unsigned char *in, size_t len, size_t max_words, struct tm_buf *out,
                        unsigned *flags);

#endif
