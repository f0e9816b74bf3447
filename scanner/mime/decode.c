/*
 * decode.c - base64, quoted-printable and uuencode decoders (RFC 2045 6.7,
 * 6.8; RFC 2047 4.2; POSIX uuencode). Tolerant of what real mail does:
 * whitespace and junk inside base64, missing padding, lower-case hex and bad
 * escapes in QP, short uuencode lines. Output never exceeds the *_MAX_OUT
 * bound for the input length; no allocation, no recursion.
 */
#include "mime/decode.h"

#include <stdint.h>
#include <string.h>

#include "core/str.h"

/* 0-63: value; 64: whitespace; 65: '='; 66: junk */
static const unsigned char b64_tab[256] = {
    66, 66, 66, 66, 66, 66, 66, 66, 66, 64, 64, 66, 66, 64, 66, 66,
    66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
    64, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 62, 66, 66, 66, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 66, 66, 66, 65, 66, 66,
    66,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 66, 66, 66, 66, 66,
    66, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 66, 66, 66, 66, 66,
    66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
    66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
    66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
    66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
    66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
    66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
    66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
    66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66,
};

/*
 * tm_b64_decode - the fast path takes four alphabet bytes at a time; any
 * other byte drops to the slow path for one symbol. Like most mail readers
 * (and CPython), '=' ends the data of the current group: what follows the
 * padding is ignored.
 */
size_t
tm_b64_decode(const unsigned char *in, size_t len, unsigned char *out, unsigned *flags)
{
    const unsigned char *p, *end;
    unsigned char *o = out;
    uint32_t acc = 0;
    unsigned n = 0, c;
    int padded = 0;

    if (len == 0)
        return 0;
    p = in;
    end = in + len;
    while (p < end) {
        /* Fast path: a full group at a group boundary. */
        if (n == 0 && end - p >= 4) {
            unsigned a = b64_tab[p[0]], b = b64_tab[p[1]], d = b64_tab[p[2]], e = b64_tab[p[3]];
            if ((a | b | d | e) < 64) {
                uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)d << 6 | e;
                o[0] = (unsigned char)(v >> 16);
                o[1] = (unsigned char)(v >> 8);
                o[2] = (unsigned char)v;
                o += 3;
                p += 4;
                continue;
            }
        }
        c = b64_tab[*p++];
        if (c < 64) {
            acc = acc << 6 | c;
            if (++n == 4) {
                o[0] = (unsigned char)(acc >> 16);
                o[1] = (unsigned char)(acc >> 8);
                o[2] = (unsigned char)acc;
                o += 3;
                n = 0;
                acc = 0;
            }
        } else if (c == 64) {
            continue;
        } else if (c == 65) {
            /*
             * Padding ends the data when it can: after 2 or 3 symbols of a
             * group. A '=' where no padding can be (group start or after one
             * symbol) is junk and skipped, as CPython does.
             */
            if (n < 2) {
                *flags |= TM_DEC_JUNK;
                continue;
            }
            padded = 1;
            break;
        } else {
            *flags |= TM_DEC_JUNK;
        }
    }
    if (n == 2) {
        *o++ = (unsigned char)(acc >> 4);
        if (!padded)
            *flags |= TM_DEC_BADPAD;
    } else if (n == 3) {
        *o++ = (unsigned char)(acc >> 10);
        *o++ = (unsigned char)(acc >> 2);
        if (!padded)
            *flags |= TM_DEC_BADPAD;
    } else if (n == 1) {
        *flags |= TM_DEC_BADPAD | TM_DEC_TRUNC; /* 6 bits cannot make a byte */
    }
    return (size_t)(o - out);
}

/*
 * tm_qp_decode - RFC 2045 6.7. Trailing whitespace before a line end is kept
 * (rule 3 says to delete it, but mail readers and CPython keep it, and the
 * difference is invisible for text); "=" followed by optional whitespace and
 * a line end is a soft break.
 */
size_t
tm_qp_decode(const unsigned char *in, size_t len, unsigned char *out, int header, unsigned *flags)
{
    const unsigned char *p, *end, *q;
    unsigned char *o = out;
    int h, l;

    if (len == 0)
        return 0;
    p = in;
    end = in + len;
    while (p < end) {
        q = memchr(p, header ? '_' : '=', (size_t)(end - p));
        if (header) {
            const unsigned char *eq = memchr(p, '=', (size_t)(end - p));
            if (q == NULL || (eq != NULL && eq < q))
                q = eq;
        }
        if (q == NULL) {
            memcpy(o, p, (size_t)(end - p));
            o += end - p;
            break;
        }
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        p = q;
        if (*p == '_') {
            *o++ = ' ';
            p++;
            continue;
        }
        /* *p == '=' */
        if (end - p >= 3 && (h = tm_hexval(p[1])) >= 0 && (l = tm_hexval(p[2])) >= 0) {
            *o++ = (unsigned char)(h << 4 | l);
            p += 3;
            continue;
        }
        /* Soft line break: '=' [WSP...] EOL, or '=' at the very end. */
        q = p + 1;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (q == end) {
            if (q != p + 1)
                *flags |= TM_DEC_BADESC;
            p = end;
            break;
        }
        if (*q == '\n' || *q == '\r') {
            if (*q == '\r' && q + 1 < end && q[1] == '\n')
                q++;
            p = q + 1;
            continue;
        }
        *flags |= TM_DEC_BADESC;
        *o++ = *p++;
    }
    return (size_t)(o - out);
}

#define UU_DEC(c) ((unsigned)((c) - ' ') & 0x3fu)

size_t
tm_uu_decode_line(const unsigned char *in, size_t len, unsigned char *out, unsigned *flags)
{
    size_t want, have, i, n = 0;
    const unsigned char *p;

    while (len > 0 && (in[len - 1] == '\n' || in[len - 1] == '\r'))
        len--;
    if (len == 0)
        return 0;
    want = UU_DEC(in[0]);
    if (want == 0)
        return 0;
    p = in + 1;
    have = len - 1;
    for (i = 0; i + 4 <= have && n < want; i += 4) {
        unsigned a = UU_DEC(p[i]), b = UU_DEC(p[i + 1]), c = UU_DEC(p[i + 2]),
                 d = UU_DEC(p[i + 3]);
        unsigned char t[3];
        size_t k;
        t[0] = (unsigned char)(a << 2 | b >> 4);
        t[1] = (unsigned char)(b << 4 | c >> 2);
        t[2] = (unsigned char)(c << 6 | d);
        for (k = 0; k < 3 && n < want; k++)
            out[n++] = t[k];
    }
    if (n < want) {
        /* A final partial group (2 or 3 chars) still carries whole bytes. */
        size_t rest = have - i;
        if (rest >= 2 && n < want) {
            unsigned a = UU_DEC(p[i]), b = UU_DEC(p[i + 1]);
            out[n++] = (unsigned char)(a << 2 | b >> 4);
            if (rest >= 3 && n < want)
                out[n++] = (unsigned char)(b << 4 | UU_DEC(p[i + 2]) >> 2);
        }
        if (n < want)
            *flags |= TM_DEC_TRUNC;
    }
    return n;
}

/* line_end - offset just past the line starting at `i` */
static size_t
line_end(const unsigned char *in, size_t len, size_t i)
{
    const unsigned char *nl = memchr(in + i, '\n', len - i);
    const unsigned char *cr = memchr(in + i, '\r', (size_t)((nl ? nl : in + len) - (in + i)));

    if (cr != NULL)
        return (size_t)(cr - in) + ((cr + 1 < in + len && cr[1] == '\n') ? 2 : 1);
    return nl ? (size_t)(nl - in) + 1 : len;
}

static size_t
content_len(const unsigned char *in, size_t s, size_t e)
{
    while (e > s && (in[e - 1] == '\n' || in[e - 1] == '\r'))
        e--;
    return e - s;
}

/*
 * tm_uu_find - a block starts with "begin " + 3 or 4 octal digits + " " +
 * name at the start of a line, and ends with a line "end". The lines between
 * must look like uuencode (first char in ' '..'`'), else the candidate is
 * rejected and the search goes on, so prose that says "begin 123 x" is not
 * taken for an attachment.
 */
int
tm_uu_find(const unsigned char *in, size_t len, size_t from, struct tm_uu_block *blk)
{
    size_t i = from;

    while (i < len) {
        size_t le = line_end(in, len, i), cl = content_len(in, i, le), j, digits = 0;
        unsigned mode = 0;
        if (cl > 8 && memcmp(in + i, "begin ", 6) == 0) {
            for (j = i + 6; j < i + cl && in[j] >= '0' && in[j] <= '7' && digits < 4; j++) {
                mode = mode * 8 + (unsigned)(in[j] - '0');
                digits++;
            }
            if (digits >= 3 && j < i + cl && in[j] == ' ' && j + 1 < i + cl) {
                size_t k = le, lines = 0, bad = 0;
                blk->begin = i;
                blk->mode = mode;
                blk->name = in + j + 1;
                blk->name_len = i + cl - (j + 1);
                blk->end = len;
                while (k < len) {
                    size_t ke = line_end(in, len, k), kl = content_len(in, k, ke);
                    if (kl == 3 && memcmp(in + k, "end", 3) == 0) {
                        blk->end = ke;
                        break;
                    }
                    if (kl > 0 && (in[k] < ' ' || in[k] > '`'))
                        bad++;
                    lines++;
                    k = ke;
                }
                if (lines > 0 && bad * 4 <= lines)
                    return 1;
            }
        }
        i = le;
    }
    return 0;
}

size_t
tm_uu_decode_block(const unsigned char *in, const struct tm_uu_block *blk, unsigned char *out,
                   unsigned *flags)
{
    size_t i = line_end(in, blk->end, blk->begin), n = 0;

    while (i < blk->end) {
        size_t le = line_end(in, blk->end, i), cl = content_len(in, i, le);
        if (cl == 3 && memcmp(in + i, "end", 3) == 0)
            break;
        if (cl > 0 && in[i] >= ' ' && in[i] <= '`')
            n += tm_uu_decode_line(in + i, cl, out + n, flags);
        else if (cl > 0)
            *flags |= TM_DEC_JUNK;
        i = le;
    }
    return n;
}
