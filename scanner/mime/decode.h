/*
 * decode.h - transfer decoders: base64 (RFC 2045 6.8), quoted-printable
 * (RFC 2045 6.7, and the RFC 2047 4.2 "Q" variant) and uuencode blocks.
 * All are tolerant: junk is skipped, bad escapes kept literally, and what went
 * wrong is reported in *flags. None allocates; the caller sizes `out` with the
 * *_MAX_OUT macros, which never under-estimate.
 */
#ifndef TM_MIME_DECODE_H
#define TM_MIME_DECODE_H

#include <stddef.h>

#define TM_DEC_JUNK   0x1u /* bytes outside the alphabet were skipped */
#define TM_DEC_BADPAD 0x2u /* missing, misplaced or excess '=' padding, or trailing bits */
#define TM_DEC_BADESC 0x4u /* quoted-printable '=' not followed by two hex digits or EOL */
#define TM_DEC_TRUNC  0x8u /* input ended inside an encoded unit */

#define TM_B64_MAX_OUT(n) (((n) / 4 + 1) * 3)
#define TM_QP_MAX_OUT(n)  (n)

/*
 * tm_b64_decode - decode base64, skipping whitespace silently and other
 * non-alphabet bytes with TM_DEC_JUNK. Decoding stops at the first '=' that
 * can be padding (after 2 or 3 symbols of a group; elsewhere '=' is junk);
 * a final group of 2 or 3 symbols without padding is decoded (TM_DEC_BADPAD).
 * Returns the number of bytes written.
 */
size_t tm_b64_decode(const unsigned char *in, size_t len, unsigned char *out, unsigned *flags);

/*
 * tm_qp_decode - decode quoted-printable. Soft line breaks ("=" before CRLF,
 * LF or CR, optionally after trailing whitespace) are removed; line ends are
 * copied as they are; "=XY" with hex digits (either case) becomes one byte; a
 * bad escape is copied literally with TM_DEC_BADESC. A final "=" is a soft
 * break whose line end went to the next MIME delimiter (RFC 2046 5.1.1). With `header` non-zero,
 * '_' decodes to 0x20 (RFC 2047 "Q"). Returns bytes written (<= len).
 */
size_t tm_qp_decode(const unsigned char *in, size_t len, unsigned char *out, int header,
                    unsigned *flags);

/*
 * tm_uu_decode_line - decode one uuencoded line (length char then 4-char
 * groups; '`' counts as space). Writes at most 45 bytes (the declared length,
 * clipped to what the line holds) and returns the count; a short or garbled
 * line sets TM_DEC_TRUNC/TM_DEC_JUNK.
 */
size_t tm_uu_decode_line(const unsigned char *in, size_t len, unsigned char *out, unsigned *flags);

struct tm_uu_block {
    size_t begin;      /* offset of the "begin " line in the input */
    size_t end;        /* offset just past the "end" line (or the input end) */
    unsigned mode;     /* octal mode from the begin line */
    const unsigned char *name; /* file name view into the input */
    size_t name_len;
};

/*
 * tm_uu_find - find the next "begin NNN name" ... "end" block at or after
 * `from`. Returns 1 and fills *blk when one is found, else 0.
 */
int tm_uu_find(const unsigned char *in, size_t len, size_t from, struct tm_uu_block *blk);

/*
 * tm_uu_decode_block - decode the lines of a block found by tm_uu_find into
 * out (room: TM_UU_MAX_OUT(blk->end - blk->begin)). Returns bytes written.
 */
#define TM_UU_MAX_OUT(n) ((n) / 4 * 3 + 64)
size_t tm_uu_decode_block(const unsigned char *in, const struct tm_uu_block *blk, unsigned char *out,
                          unsigned *flags);

#endif
