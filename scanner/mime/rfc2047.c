/*
 * rfc2047.c - unfold a header value and decode RFC 2047 encoded words.
 *
 * Accepted word syntax: "=?" charset ["*" lang] "?" (B|Q) "?" text "?=",
 * where text holds no '?' and no line break. As SpamAssassin and most mail
 * readers do, a word is decoded even when glued to other text or when its
 * text contains spaces (spam uses both); RFC 2047 section 6.2 asks for
 * neither, so CPython's strict parser may show such words raw. Whitespace
 * between two encoded words is dropped (section 6.2), and consecutive words
 * in the same charset have their bytes joined before conversion, so a
 * character split across words survives. Limits: max_words words are decoded,
 * the rest is copied raw with TM_2047_LIMIT.
 */
#include "mime/rfc2047.h"

#include <string.h>

#include "core/buf.h"
#include "core/str.h"
#include "mime/charset.h"
#include "mime/decode.h"

struct pending {
    const unsigned char *cs; /* charset of the pending run, NULL if none */
    size_t cs_len;
    struct tm_buf bytes; /* decoded bytes not yet converted */
};

static int
is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * parse_word - recognise an encoded word at p (p[0..1] == "=?"). On success
 * fills the charset and encoded-text views, the encoding letter, and returns
 * the word's length; 0 when it is not a well-formed word.
 */
static size_t
parse_word(const unsigned char *p, const unsigned char *end, struct tm_str *cs, unsigned char *enc,
           struct tm_str *text)
{
    const unsigned char *q = p + 2, *c0 = q, *t0;

    while (q < end && *q != '?' && !is_wsp(*q) && q - c0 < 64)
        q++;
    if (q >= end || *q != '?' || q == c0)
        return 0;
    cs->p = c0;
    cs->len = (size_t)(q - c0);
    /* RFC 2231 section 5: charset*language */
    {
        const unsigned char *star = memchr(c0, '*', cs->len);
        if (star != NULL)
            cs->len = (size_t)(star - c0);
    }
    q++;
    if (end - q < 3 || q[1] != '?')
        return 0;
    if (*q == 'B' || *q == 'b')
        *enc = 'B';
    else if (*q == 'Q' || *q == 'q')
        *enc = 'Q';
    else
        return 0;
    q += 2;
    t0 = q;
    while (q + 1 < end && !(q[0] == '?' && q[1] == '=')) {
        if (*q == '\r' || *q == '\n' || *q == '?')
            return 0;
        q++;
    }
    if (q + 1 >= end)
        return 0;
    text->p = t0;
    text->len = (size_t)(q - t0);
    return (size_t)(q + 2 - p);
}

static tm_rc
flush(struct pending *pd, struct tm_buf *out, unsigned *flags)
{
    int bad = 0;
    tm_rc rc;

    if (pd->cs == NULL)
        return TM_OK;
    rc = tm_charset_to_utf8((const char *)pd->cs, pd->cs_len, pd->bytes.data, pd->bytes.len, out,
                            &bad);
    if (bad)
        *flags |= TM_2047_CHARSET;
    pd->cs = NULL;
    pd->bytes.len = 0;
    return rc;
}

/*
 * raw - append undecoded text, unfolding line breaks, in one pass. 8-bit
 * bytes are rare in headers: when some were copied, the appended run is
 * taken back and converted as a whole (UTF-8 if valid, else windows-1252).
 */
static tm_rc
raw(const unsigned char *p, size_t n, struct tm_buf *out, unsigned *flags)
{
    size_t i, run = 0, start = out->len;
    unsigned char high = 0;
    int bad = 0;
    tm_rc rc;

    for (i = 0; i < n; i++) {
        unsigned char c = p[i];
        high |= c;
        if (c == '\r' || c == '\n') {
            if (i > run && (rc = tm_buf_append(out, p + run, i - run)) != TM_OK)
                return rc;
            run = i + 1;
        }
    }
    if (n > run && (rc = tm_buf_append(out, p + run, n - run)) != TM_OK)
        return rc;
    if (!(high & 0x80))
        return TM_OK;
    {
        struct tm_buf tmp;
        *flags |= TM_2047_8BIT;
        tm_buf_init(&tmp, out->arena, out->len - start);
        if ((rc = tm_buf_append(&tmp, out->data + start, out->len - start)) != TM_OK)
            return rc;
        out->len = start;
        rc = tm_charset_to_utf8(NULL, 0, tmp.data, tmp.len, out, &bad);
    }
    if (bad)
        *flags |= TM_2047_CHARSET;
    return rc;
}

tm_rc
tm_rfc2047_decode(const unsigned char *in, size_t len, size_t max_words, struct tm_buf *out,
                  unsigned *flags)
{
    const unsigned char *p, *end, *lit;
    const unsigned char *gap = NULL; /* whitespace run start after an encoded word */
    struct pending pd;
    size_t words = 0;
    tm_rc rc;

    if (len == 0)
        return TM_OK;
    p = lit = in;
    end = in + len;
    pd.cs = NULL;
    pd.cs_len = 0;
    tm_buf_init(&pd.bytes, out->arena, len + 16); /* a word reserves up to 3 bytes more than it decodes */
    while (p < end) {
        const unsigned char *q = memchr(p, '=', (size_t)(end - p));
        struct tm_str cs, text;
        unsigned char enc = 0;
        size_t wl;
        unsigned char *dst;

        if (q == NULL || end - q < 2)
            break;
        if (q[1] != '?') {
            p = q + 1;
            continue;
        }
        wl = parse_word(q, end, &cs, &enc, &text);
        if (wl == 0) {
            *flags |= TM_2047_BAD;
            p = q + 2;
            continue;
        }
        if (words >= max_words) {
            *flags |= TM_2047_LIMIT;
            break;
        }
        words++;
        /* Literal text before the word: dropped if it is only whitespace between words. */
        if (q > lit) {
            int only_ws = 1;
            const unsigned char *s;
            for (s = lit; s < q; s++)
                if (!is_wsp(*s)) {
                    only_ws = 0;
                    break;
                }
            if (!(only_ws && gap != NULL && gap == lit)) {
                if ((rc = flush(&pd, out, flags)) != TM_OK)
                    return rc;
                if ((rc = raw(lit, (size_t)(q - lit), out, flags)) != TM_OK)
                    return rc;
            }
        }
        if (pd.cs != NULL && !(pd.cs_len == cs.len && tm_mem_ieq(pd.cs, cs.p, cs.len)))
            if ((rc = flush(&pd, out, flags)) != TM_OK)
                return rc;
        pd.cs = cs.p;
        pd.cs_len = cs.len;
        dst = tm_buf_reserve(&pd.bytes,
                             enc == 'B' ? TM_B64_MAX_OUT(text.len) : TM_QP_MAX_OUT(text.len), &rc);
        if (dst == NULL)
            return rc;
        {
            unsigned df = 0;
            size_t n = enc == 'B' ? tm_b64_decode(text.p, text.len, dst, &df)
                                  : tm_qp_decode(text.p, text.len, dst, 1, &df);
            if (df & (TM_DEC_JUNK | TM_DEC_BADESC | TM_DEC_TRUNC))
                *flags |= TM_2047_BAD;
            pd.bytes.len += n;
        }
        p = q + wl;
        lit = gap = p;
    }
    if ((rc = flush(&pd, out, flags)) != TM_OK)
        return rc;
    if (end > lit) {
        /* Trailing whitespace after the last word is kept: the caller trims. */
        if ((rc = raw(lit, (size_t)(end - lit), out, flags)) != TM_OK)
            return rc;
    }
    return TM_OK;
}
