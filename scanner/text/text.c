/*
 * text.c - the body, rawbody and full rule targets with SpamAssassin
 * 4.0.1's meaning (Mail::SpamAssassin::Message get_rendered_body_text_array
 * and get_decoded_body_text_array, Message::Node decode/rendered/_normalize).
 *
 * body: for every leaf part in tree order a "\n" goes between parts (also for
 * parts that render to nothing); text/plain and text/html parts (or any part
 * whose file name ends in .htm/.html/.shtml) are transfer-decoded, converted
 * to UTF-8 as SpamAssassin does with normalize_charset 1 (its 4.0.1 default),
 * HTML reduced to text, each part cut near text_max_body_part characters.
 * Then whitespace: a run holding two or more newlines is a paragraph break,
 * any other run one space (Perl \s, Unicode-aware once any part was decoded
 * to characters). The decoded Subject and "\n" go first, and the result is
 * split into lines, lines over 2048 bytes at the last space before 2048.
 *
 * rawbody: the transfer-decoded bytes of leaves of type text/ or message/
 * (not text/calendar), no charset conversion, cut near
 * text_max_rawbody_part, split into chunks of 2048..4096 bytes at a newline,
 * '>' or space.
 *
 * Limits: text_max_body (bytes per target), text_max_pieces (lines), the two
 * part scan sizes. Hitting one
 * clips the target; nothing here fails on hostile input.
 */
#include "text/text.h"

#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/limits.h"
#include "core/str.h"
#include "core/task.h"
#include "mime/charset.h"
#include "mime/decode.h"
#include "mime/mime.h"
#include "text/text_int.h"

struct tm_text_cache *
tm_text_cache_get(struct tm_task *t)
{
    if (t->text == NULL)
        t->text = tm_arena_calloc(t->arena, 1, sizeof(*t->text));
    return t->text;
}

tm_rc
tm_text_list_push(struct tm_task *t, struct tm_text_list *l, const unsigned char *p, size_t n)
{
    if (l->n >= l->max) {
        l->clipped = 1;
        return TM_ELIMIT;
    }
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        struct tm_str *v;
        if (nc > l->max)
            nc = l->max;
        v = tm_arena_realloc(t->arena, l->v, l->cap * sizeof(*v), nc * sizeof(*v));
        if (v == NULL)
            return TM_ENOMEM;
        l->v = v;
        l->cap = nc;
    }
    l->v[l->n++] = tm_str_make(p, n);
    return TM_OK;
}

/* cs_is - ASCII case-insensitive comparison of a charset name with one of a NULL-ended list */
static int
cs_is(const char *cs, size_t n, const char *const *names)
{
    size_t i;

    for (i = 0; names[i] != NULL; i++)
        if (strlen(names[i]) == n && tm_mem_ieq(cs, names[i], n))
            return 1;
    return 0;
}

/* cs_digits - s[i..] starts with k..m decimal digits and ends at n; returns 1 when so */
static int
cs_tail_digits(const char *s, size_t i, size_t n, size_t kmin, size_t kmax)
{
    size_t k = n - i;

    if (k < kmin || k > kmax)
        return 0;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* cs_prefix - case-insensitive prefix test; returns the prefix length or 0 */
static size_t
cs_prefix(const char *s, size_t n, const char *pre)
{
    size_t k = strlen(pre);

    return n >= k && tm_mem_ieq(s, pre, k) ? k : 0;
}

/*
 * cs_ascii_superset - the charsets for which _normalize leaves all-ASCII
 * text alone: US-ASCII and its aliases, ISO-8859-N, Windows-NNNN, UTF-8,
 * KOI8-x, EUC-x, Big5, GBK, GB18030.
 */
static int
cs_ascii_superset(const char *cs, size_t n)
{
    static const char *const fixed[] = {"ascii",
                                        "us-ascii",
                                        "iso646-us",
                                        "ansi_x3.4-1986",
                                        "ansi_x3.4-1968",
                                        "ansi x3.4-1986",
                                        "ansi x3.4-1968",
                                        "ansix3.4-1986",
                                        "ansix3.4-1968",
                                        "utf-8",
                                        "utf8",
                                        "big5",
                                        "gbk",
                                        "gb18030",
                                        "gb-18030",
                                        "gb 18030",
                                        NULL};
    size_t k;

    if (cs_is(cs, n, fixed))
        return 1;
    if ((k = cs_prefix(cs, n, "iso")) != 0) {
        if (k < n && (cs[k] == '-' || cs[k] == ' '))
            k++;
        if (n - k >= 4 && memcmp(cs + k, "8859", 4) == 0) {
            k += 4;
            if (k == n)
                return 1;
            return cs[k] == '-' && cs_tail_digits(cs, k + 1, n, 1, 2);
        }
        return 0;
    }
    if ((k = cs_prefix(cs, n, "windows-")) != 0)
        return cs_tail_digits(cs, k, n, 4, 4);
    if ((k = cs_prefix(cs, n, "koi8-")) != 0 || (k = cs_prefix(cs, n, "euc-")) != 0) {
        size_t i;
        if (n - k < 1 || n - k > 2)
            return 0;
        for (i = k; i < n; i++)
            if (!((cs[i] >= 'a' && cs[i] <= 'z') || (cs[i] >= 'A' && cs[i] <= 'Z')))
                return 0;
        return 1;
    }
    if ((k = cs_prefix(cs, n, "gb18030-")) != 0 || (k = cs_prefix(cs, n, "gb-18030-")) != 0)
        return n - k == 4 && cs[k] == '2' && cs[k + 1] == '0' && cs_tail_digits(cs, k, n, 4, 4);
    return 0;
}

/* convert - strict conversion through mime/charset; 1 when nothing was replaced */
static int
convert(struct tm_task *t, const char *cs, size_t cslen, const unsigned char *p, size_t n,
        struct tm_str *out, tm_rc *rc)
{
    struct tm_buf b;
    int bad = 0;

    tm_buf_init(&b, t->arena, n * 4 + 16);
    *rc = tm_charset_to_utf8(cs, cslen, p, n, &b, &bad);
    if (*rc != TM_OK || bad)
        return 0;
    *out = tm_str_make(b.data ? b.data : p, b.len);
    return 1;
}

/* known_charset - mime/charset can convert from cs (an ASCII probe comes out clean) */
static int
known_charset(struct tm_task *t, const char *cs, size_t cslen)
{
    struct tm_buf b;
    int bad = 0;

    tm_buf_init(&b, t->arena, 16);
    return tm_charset_to_utf8(cs, cslen, (const unsigned char *)"a", 1, &b, &bad) == TM_OK && !bad;
}

tm_rc
tm_text_normalize(struct tm_task *t, const char *cs, size_t cslen, const unsigned char *p, size_t n,
                  int insist, struct tm_str *out, int *chars)
{
    static const char *const ascii[] = {"ascii", "us-ascii", NULL};
    static const char *const w1252[] = {"iso-8859-1", "iso8859-1", "windows-1252", "cp1252", NULL};
    static const char *const utf8[] = {"utf-8", "utf8", NULL};
    size_t i, cnt8 = 0;
    int tried_utf8 = 0;
    tm_rc rc = TM_OK;

    if (cs == NULL || cslen == 0) {
        cs = "us-ascii";
        cslen = 8;
    }
    for (i = 0; i < n; i++)
        cnt8 += p[i] >> 7;
    *out = tm_str_make(p, n);
    *chars = 0;
    if (cnt8 == 0 && cs_ascii_superset(cs, cslen))
        return TM_OK;
    *chars = 1;
    if (cnt8 > 0 && !insist) {
        if (tm_utf8_valid(p, n))
            return TM_OK;
        tried_utf8 = 1;
    }
    if (cs_is(cs, cslen, ascii) && !insist) {
        /* 8-bit text declared ASCII: do not try the declared charset */
    } else if (cs_is(cs, cslen, w1252)) {
        if (convert(t, "windows-1252", 12, p, n, out, &rc))
            return TM_OK;
    } else if (cs_is(cs, cslen, utf8)) {
        if (!tried_utf8 && tm_utf8_valid(p, n))
            return TM_OK;
    } else if (convert(t, cs, cslen, p, n, out, &rc)) {
        return TM_OK;
    } else if (insist && rc == TM_OK && known_charset(t, cs, cslen)) {
        /* no FB_CROAK when insisting: bad sequences become U+FFFD */
        struct tm_buf b;
        int bad = 0;

        tm_buf_init(&b, t->arena, n * 4 + 16);
        if ((rc = tm_charset_to_utf8(cs, cslen, p, n, &b, &bad)) != TM_OK)
            return rc;
        *out = tm_str_make(b.data, b.len);
        return TM_OK;
    }
    if (rc == TM_ENOMEM)
        return rc;
    if (cnt8 == 0) {
        *out = tm_str_make(p, n);
        *chars = 0;
        return TM_OK;
    }
    /*
     * SpamAssassin's windows-1252 guess, then (without Encode::Detect, as in
     * the reference install) its last resort, also windows-1252.
     */
    {
        struct tm_buf b;
        int bad = 0;

        tm_buf_init(&b, t->arena, n * 3 + 16);
        rc = tm_charset_to_utf8("windows-1252", 12, p, n, &b, &bad);
        if (rc != TM_OK)
            return rc;
        *out = tm_str_make(b.data, b.len);
    }
    return TM_OK;
}

/* effective_html - Node::effective_type: a .htm/.html/.shtml file name makes a part HTML */
static int
effective_html(const struct tm_mime_part *p)
{
    const char *f = p->filename;
    size_t n;

    if (f == NULL)
        return strcmp(p->content_type, "text/html") == 0;
    n = strlen(f);
    if ((n >= 4 && tm_mem_ieq(f + n - 4, ".htm", 4)) ||
        (n >= 5 && tm_mem_ieq(f + n - 5, ".html", 5)))
        return 1;
    return strcmp(p->content_type, "text/html") == 0;
}

/*
 * sa_plain - Util::parse_content_type makes every text/ type other than
 * text/html, text/calendar and text/x-vcard "text/plain" (bug 5399), so
 * text/enriched or text/rtf parts are rendered as plain text. A multipart
 * whose boundary never occurs is a leaf here; SpamAssassin then reads its
 * whole body as one untyped part, i.e. text/plain (Message::_parse_multipart).
 */
static int
sa_plain(const struct tm_mime_part *p)
{
    const char *ct = p->content_type;

    if (strncmp(ct, "multipart/", 10) == 0 && p->first_child == NULL)
        return 1;
    if (strncmp(ct, "text/", 5) != 0)
        return 0;
    return strcmp(ct, "text/html") != 0 && strcmp(ct, "text/calendar") != 0 &&
           strcmp(ct, "text/x-vcard") != 0;
}

/* has_long_line - some line (with its newline) is longer than MAX_BODY_LINE_LENGTH */
static int
has_long_line(const unsigned char *p, size_t n)
{
    size_t i, start = 0;

    for (i = 0; i < n; i++) {
        if (p[i] == '\n') {
            if (i + 1 - start > TM_TEXT_LINE_MAX)
                return 1;
            start = i + 1;
        }
    }
    return n - start > TM_TEXT_LINE_MAX;
}

/*
 * split_raw_lines - Message::_parse_multipart cuts raw body lines of parts
 * longer than 2048 bytes (newline included) into 2048-byte pieces, each given
 * a newline. That changes what QP and unencoded parts decode to.
 */
static tm_rc
split_raw_lines(struct tm_task *t, const unsigned char *p, size_t n, struct tm_str *out)
{
    struct tm_buf b;
    size_t i = 0;
    tm_rc rc;

    tm_buf_init(&b, t->arena, n + n / TM_TEXT_LINE_MAX + 16);
    while (i < n) {
        const unsigned char *nl = memchr(p + i, '\n', n - i);
        size_t len = nl ? (size_t)(nl - (p + i)) + 1 : n - i;
        while (len > TM_TEXT_LINE_MAX) {
            if ((rc = tm_buf_append(&b, p + i, TM_TEXT_LINE_MAX)) != TM_OK ||
                (rc = tm_buf_putc(&b, '\n')) != TM_OK)
                return rc;
            i += TM_TEXT_LINE_MAX;
            len -= TM_TEXT_LINE_MAX;
        }
        if ((rc = tm_buf_append(&b, p + i, len)) != TM_OK)
            return rc;
        i += len;
    }
    *out = tm_str_make(b.data, b.len);
    return TM_OK;
}

/*
 * sa_qp - Util::qp_decode, step by step as SpamAssassin does it: blanks
 * before a line end deleted, then soft line breaks, then =XX escapes (so an
 * escape split by a soft break is decoded whole). Bad escapes stay.
 */
static tm_rc
sa_qp(struct tm_task *t, const unsigned char *p, size_t n, struct tm_str *out)
{
    unsigned char *a, *b;
    size_t i, k = 0, m = 0;

    if ((a = tm_arena_alloc(t->arena, n + 1)) == NULL)
        return TM_ENOMEM;
    for (i = 0; i < n;) {
        if (p[i] == ' ' || p[i] == '\t') {
            size_t j = i;
            while (j < n && (p[j] == ' ' || p[j] == '\t'))
                j++;
            if (j < n && (p[j] == '\n' || (p[j] == '\r' && j + 1 < n && p[j + 1] == '\n'))) {
                i = j;
                continue;
            }
            memcpy(a + k, p + i, j - i);
            k += j - i;
            i = j;
            continue;
        }
        a[k++] = p[i++];
    }
    for (i = 0; i < k;) {
        if (a[i] == '=' && i + 1 < k && a[i + 1] == '\n') {
            i += 2;
            continue;
        }
        if (a[i] == '=' && i + 2 < k && a[i + 1] == '\r' && a[i + 2] == '\n') {
            i += 3;
            continue;
        }
        a[m++] = a[i++];
    }
    b = a; /* decoding only shrinks: in place */
    for (i = 0, k = 0; i < m;) {
        int h, l;
        if (a[i] == '=' && i + 2 < m && (h = tm_hexval(a[i + 1])) >= 0 &&
            (l = tm_hexval(a[i + 2])) >= 0) {
            b[k++] = (unsigned char)(h << 4 | l);
            i += 3;
            continue;
        }
        b[k++] = a[i++];
    }
    *out = tm_str_make(b, k);
    return TM_OK;
}

/* drop_crlf - "\r\n" to "\n", as Node::decode does after QP and base64 of text */
static struct tm_str
drop_crlf(struct tm_task *t, struct tm_str s)
{
    unsigned char *o;
    size_t i, k = 0;

    if (s.len == 0 || memchr(s.p, '\r', s.len) == NULL)
        return s;
    if ((o = tm_arena_alloc(t->arena, s.len)) == NULL)
        return s;
    for (i = 0; i < s.len; i++)
        if (!(s.p[i] == '\r' && i + 1 < s.len && s.p[i + 1] == '\n'))
            o[k++] = s.p[i];
    return tm_str_make(o, k);
}

/*
 * sa_decode - Node::decode: the part's bytes as SpamAssassin holds them.
 * Quoted-printable (and base64 of text and message types) lose CRs before
 * LFs; everything else is the raw body.
 */
static tm_rc
sa_decode(struct tm_task *t, const struct tm_mime_part *p, struct tm_str *out)
{
    struct tm_str raw = p->body;
    int split = p->parent != NULL && p->parent->is_multipart;
    tm_rc rc;

    *out = tm_str_make(p->decoded, p->decoded_len);
    if (p->decoded == NULL)
        *out = tm_str_make(p->body.p, 0);
    if (p->cte == TM_CTE_BASE64) {
        if (strncmp(p->content_type, "text/", 5) == 0 ||
            strncmp(p->content_type, "message/", 8) == 0)
            *out = drop_crlf(t, *out);
        return TM_OK;
    }
    if (p->cte != TM_CTE_QP && p->cte != TM_CTE_UUENCODE && !split)
        return TM_OK;
    if (p->cte == TM_CTE_UUENCODE) /* SA does not know x-uuencode: raw body */
        *out = raw;
    if (split && raw.len > TM_TEXT_LINE_MAX && has_long_line(raw.p, raw.len)) {
        if ((rc = split_raw_lines(t, raw.p, raw.len, &raw)) != TM_OK)
            return rc;
        if (p->cte != TM_CTE_QP)
            *out = raw;
    } else if (p->cte != TM_CTE_QP) {
        return TM_OK;
    }
    if (p->cte == TM_CTE_QP) {
        if ((rc = sa_qp(t, raw.p, raw.len, out)) != TM_OK)
            return rc;
        *out = drop_crlf(t, *out);
    }
    return TM_OK;
}

/* utf8_skip - bytes of the UTF-8 sequence starting at p (1 for stray bytes) */
static size_t
utf8_skip(const unsigned char *p, size_t n)
{
    size_t k = 1, want;

    if (p[0] < 0xC0)
        return 1;
    want = p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : 4;
    while (k < want && k < n && (p[k] & 0xC0) == 0x80)
        k++;
    return k == want ? k : 1;
}

/*
 * cut_part - body_part_scan_size: past `max` characters, cut after the next
 * newline (or else space) if one is within 1024 characters, else at `max`.
 */
static size_t
cut_part(const unsigned char *p, size_t n, int chars, size_t max)
{
    size_t i = 0, c = 0, at, j, cj;

    if (max == 0 || n <= max)
        return n;
    if (!chars) {
        at = max;
    } else {
        while (i < n && c < max) {
            i += utf8_skip(p + i, n - i);
            c++;
        }
        if (i >= n)
            return n;
        at = i;
    }
    for (j = at, cj = 0; j < n && cj <= 1024; cj++) {
        if (p[j] == '\n')
            return j + 1;
        j += chars ? utf8_skip(p + j, n - j) : 1;
    }
    for (j = at, cj = 0; j < n && cj <= 1024; cj++) {
        if (p[j] == ' ')
            return j + 1;
        j += chars ? utf8_skip(p + j, n - j) : 1;
    }
    return at;
}

/* ws_len - length of the Perl \s character at p, or 0; Unicode spaces only with `uni` */
static size_t
ws_len(const unsigned char *p, size_t n, int uni)
{
    unsigned c = p[0];

    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')
        return 1;
    if (!uni || c < 0xC2 || n < 2)
        return 0;
    if (c == 0xC2 && (p[1] == 0x85 || p[1] == 0xA0))
        return 2;
    if (n < 3)
        return 0;
    if (c == 0xE1 && p[1] == 0x9A && p[2] == 0x80)
        return 3;
    if (c == 0xE2 && p[1] == 0x80 && (p[2] <= 0x8A || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF))
        return 3;
    if (c == 0xE2 && p[1] == 0x81 && p[2] == 0x9F)
        return 3;
    if (c == 0xE3 && p[1] == 0x80 && p[2] == 0x80)
        return 3;
    return 0;
}

/*
 * ws_first - by a byte: 1 when it is an ASCII \s, 2 when it may start a
 * Unicode space (ws_len decides), else 0. fold_ws looks at every byte of
 * a text; a call of ws_len per byte was 2.6 % of tamisd's samples with the
 * default rules (perf, issue 10).
 */
static const unsigned char ws_first[256] = {
    ['\t'] = 1, ['\n'] = 1, [0x0B] = 1, ['\f'] = 1, ['\r'] = 1, [' '] = 1,
    [0xC2] = 2,  [0xE1] = 2,  [0xE2] = 2, [0xE3] = 2,
};

/* ws_at - ws_len, through ws_first */
static inline size_t
ws_at(const unsigned char *p, size_t n, int uni)
{
    unsigned f = ws_first[p[0]];

    return f == 0 ? 0 : f == 1 ? 1 : uni ? ws_len(p, n, uni) : 0;
}

/*
 * fold_ws - Message.pm's whitespace rules: s/\n+\s*\n+/\0/; s/\s+/ /;
 * tr/\0/\n/. In a whitespace run with two or more newlines, the stretch from
 * the first to the last newline becomes "\n" and what is before and after it
 * one space each; any other run becomes one space.
 */
static tm_rc
fold_ws(const unsigned char *p, size_t n, int uni, struct tm_buf *out)
{
    size_t i = 0, k;
    tm_rc rc;

    while (i < n) {
        size_t s = i, first = (size_t)-1, last = 0, nl = 0;
        if ((k = ws_at(p + i, n - i, uni)) == 0) {
            size_t run = i;
            while (i < n && ws_at(p + i, n - i, uni) == 0)
                i++;
            if ((rc = tm_buf_append(out, p + run, i - run)) != TM_OK)
                return rc;
            continue;
        }
        while (i < n && (k = ws_at(p + i, n - i, uni)) != 0) {
            if (p[i] == '\n') {
                if (first == (size_t)-1)
                    first = i;
                last = i;
                nl++;
            }
            i += k;
        }
        if (nl < 2) {
            rc = tm_buf_putc(out, ' ');
        } else {
            rc = TM_OK;
            if (first > s)
                rc = tm_buf_putc(out, ' ');
            if (rc == TM_OK)
                rc = tm_buf_putc(out, '\n');
            if (rc == TM_OK && last + 1 < i)
                rc = tm_buf_putc(out, ' ');
        }
        if (rc != TM_OK)
            return rc;
    }
    return TM_OK;
}

/*
 * split_lines - split_into_array_of_short_lines: one piece per line (the
 * newline kept); a line over 2048 bytes is cut after the last space at or
 * before offset 2048, or at 2048 when there is none.
 */
static tm_rc
split_lines(struct tm_task *t, const unsigned char *p, size_t n, struct tm_text_list *l)
{
    size_t i = 0;
    tm_rc rc;

    while (i < n) {
        const unsigned char *nl = memchr(p + i, '\n', n - i);
        size_t len = nl ? (size_t)(nl - (p + i)) + 1 : n - i;
        while (len > TM_TEXT_LINE_MAX) {
            size_t cut = 0, j;
            for (j = TM_TEXT_LINE_MAX + 1; j-- > 0;)
                if (p[i + j] == ' ') {
                    cut = j + 1;
                    break;
                }
            if (cut == 0)
                cut = TM_TEXT_LINE_MAX;
            if ((rc = tm_text_list_push(t, l, p + i, cut)) != TM_OK)
                return rc;
            i += cut;
            len -= cut;
        }
        if ((rc = tm_text_list_push(t, l, p + i, len)) != TM_OK)
            return rc;
        i += len;
    }
    return TM_OK;
}

struct chunk {
    size_t off, len;
    int chars;
};

/* latin1_up - Perl upgrading octets to characters when joined with decoded text */
static tm_rc
latin1_up(struct tm_buf *b, const unsigned char *p, size_t n)
{
    size_t i;
    tm_rc rc;

    for (i = 0; i < n; i++)
        if ((rc = tm_utf8_put(b, p[i])) != TM_OK)
            return rc;
    return TM_OK;
}

/* subject_line - Message::get_header('subject') (last one, decoded) and "\n", or "\n" */
static tm_rc
subject_line(struct tm_task *t, struct tm_str *out)
{
    const char *names[1] = {"Subject"};
    struct tm_str v;
    int present = 0;
    tm_rc rc;

    *out = tm_str_make("\n", 1);
    rc = tm_text_header(t, TM_TEXT_HDR_NAMED, names, 1, 0x40u /* TM_HDRMOD_LAST */, &v, &present);
    if (rc != TM_OK)
        return rc;
    if (present && v.len > 0)
        *out = v;
    return TM_OK;
}

/* render_part - one leaf's rendered text appended to text; *chars as SA holds it */
static tm_rc
render_part(struct tm_task *t, const struct tm_mime_part *p, struct tm_buf *text, int *chars)
{
    const char *cs = p->charset;
    struct tm_str raw, norm;
    size_t start = text->len, keep, cslen = cs ? strlen(cs) : 0;
    tm_rc rc;

    *chars = 0;
    if ((rc = sa_decode(t, p, &raw)) != TM_OK)
        return rc;
    if (cs == NULL && effective_html(p)) {
        /* no charset parameter: the one the document declares in a <meta> */
        struct tm_str m = tm_html_sniff_charset(raw.p, raw.len);
        if (m.len > 0) {
            cs = (const char *)m.p;
            cslen = m.len;
        }
    }
    rc = tm_text_normalize(t, cs, cslen, raw.p, raw.len, 0, &norm, chars);
    if (rc != TM_OK)
        return rc;
    if (raw.len > 0 && effective_html(p)) {
        if (t->text != NULL)
            t->text->html_part = p;
        rc = tm_text_html_render(t, norm.p, norm.len, *chars, text);
    } else {
        rc = tm_buf_append(text, norm.p, norm.len);
    }
    if (rc != TM_OK)
        return rc;
    if (text->len == start) /* nothing rendered (the buffer may still have no storage) */
        return TM_OK;
    keep = cut_part(text->data + start, text->len - start, *chars, t->limits->text_max_body_part);
    text->len = start + keep;
    return TM_OK;
}

/* build_body - the whole body target; see the file comment */
static tm_rc
build_body(struct tm_task *t, struct tm_text_cache *c)
{
    const struct tm_mime_part *p;
    struct tm_buf text, joined, out;
    struct chunk *ch;
    struct tm_text_list l;
    struct tm_str subj;
    size_t nch = 0, maxch, i, max = t->limits->text_max_body;
    int any_chars = 0;
    tm_rc rc = TM_OK;

    memset(&l, 0, sizeof(l));
    l.max = t->limits->text_max_pieces;
    if (t->msg == NULL || t->msg->root == NULL) {
        c->body.v = NULL;
        c->body.n = 0;
        return TM_OK;
    }
    maxch = t->msg->nparts + 1;
    if ((ch = tm_arena_calloc(t->arena, maxch, sizeof(*ch))) == NULL)
        return TM_ENOMEM;
    tm_buf_init(&text, t->arena, max);
    for (p = t->msg->root; p != NULL && rc == TM_OK; p = tm_mime_next(p)) {
        int chars = 0;
        if (p->first_child != NULL || p->is_multipart)
            continue;
        if (text.len > 0 && (rc = tm_buf_putc(&text, '\n')) != TM_OK)
            break;
        if (!sa_plain(p) && !effective_html(p))
            continue;
        if (nch < maxch) {
            ch[nch].off = text.len;
            rc = render_part(t, p, &text, &chars);
            ch[nch].len = text.len - ch[nch].off;
            ch[nch].chars = chars;
            any_chars |= chars;
            nch++;
        }
    }
    if (rc == TM_ENOMEM)
        return rc;
    /* text_max_body reached: the target is what fitted */
    tm_buf_init(&joined, t->arena, max * 2 + 16);
    if (any_chars) {
        size_t at = 0;
        for (i = 0; i < nch && rc == TM_OK; i++) {
            rc = tm_buf_append(&joined, text.data + at, ch[i].off - at);
            if (rc == TM_OK)
                rc = ch[i].chars ? tm_buf_append(&joined, text.data + ch[i].off, ch[i].len)
                                 : latin1_up(&joined, text.data + ch[i].off, ch[i].len);
            at = ch[i].off + ch[i].len;
        }
        if (rc == TM_OK)
            rc = tm_buf_append(&joined, text.data + at, text.len - at);
        if (rc == TM_ENOMEM)
            return rc;
    } else {
        joined = text;
    }
    if ((rc = subject_line(t, &subj)) == TM_ENOMEM)
        return rc;
    tm_buf_init(&out, t->arena, max + subj.len + 16);
    if ((rc = tm_buf_append(&out, subj.p, subj.len)) == TM_OK)
        rc = fold_ws(joined.data, joined.len, any_chars, &out);
    if (rc == TM_ENOMEM)
        return rc;
    rc = split_lines(t, out.data, out.len, &l);
    if (rc == TM_ENOMEM)
        return rc;
    c->body.v = l.v;
    c->body.n = l.n;
    return TM_OK;
}

/* split_paragraphs - split_into_array_of_short_paragraphs (2048..4096-byte pieces) */
static tm_rc
split_paragraphs(struct tm_task *t, const unsigned char *p, size_t n, struct tm_text_list *l)
{
    const size_t M = TM_TEXT_LINE_MAX;
    size_t ofs = 0, j;
    tm_rc rc;

    if (n <= M)
        return tm_text_list_push(t, l, p, n);
    for (; n - ofs > 2 * M; ofs = j + 1) {
        static const unsigned char seps[3] = {'\n', '>', ' '};
        size_t s;
        j = (size_t)-1;
        for (s = 0; s < 3; s++) {
            const unsigned char *q = memchr(p + ofs + M, seps[s], n - ofs - M);
            if (q != NULL && (size_t)(q - p) - ofs + 1 <= 2 * M) {
                j = (size_t)(q - p);
                break;
            }
        }
        if (j == (size_t)-1)
            j = ofs + M;
        if ((rc = tm_text_list_push(t, l, p + ofs, j - ofs + 1)) != TM_OK)
            return rc;
    }
    if (ofs < n)
        return tm_text_list_push(t, l, p + ofs, n - ofs);
    return TM_OK;
}

/* cut_raw - rawbody_part_scan_size: cut after a newline, '>' or space within 1 KiB */
static size_t
cut_raw(const unsigned char *p, size_t n, size_t max)
{
    static const unsigned char seps[3] = {'\n', '>', ' '};
    size_t s;

    if (max == 0 || n <= max)
        return n;
    for (s = 0; s < 3; s++) {
        const unsigned char *q = memchr(p + max, seps[s], n - max);
        if (q != NULL && (size_t)(q - p) - max <= 1024)
            return (size_t)(q - p) + 1;
    }
    return max;
}

static tm_rc
build_rawbody(struct tm_task *t, struct tm_text_cache *c)
{
    const struct tm_mime_part *p;
    struct tm_text_list l;
    size_t total = 0;
    tm_rc rc = TM_OK;

    memset(&l, 0, sizeof(l));
    l.max = t->limits->text_max_pieces;
    for (p = t->msg ? t->msg->root : NULL; p != NULL && rc != TM_ENOMEM; p = tm_mime_next(p)) {
        struct tm_str d;
        size_t n;
        if (p->first_child != NULL || p->is_multipart)
            continue;
        if (strncmp(p->content_type, "text/", 5) != 0 &&
            strncmp(p->content_type, "message/", 8) != 0 && !effective_html(p))
            continue;
        if (strcmp(p->content_type, "text/calendar") == 0)
            continue;
        if ((rc = sa_decode(t, p, &d)) != TM_OK)
            break;
        n = cut_raw(d.p, d.len, t->limits->text_max_rawbody_part);
        if (n > t->limits->text_max_body - total)
            n = t->limits->text_max_body - total;
        total += n;
        rc = split_paragraphs(t, d.p, n, &l);
    }
    if (rc == TM_ENOMEM)
        return rc;
    c->rawbody.v = l.v;
    c->rawbody.n = l.n;
    return TM_OK;
}

tm_rc
tm_text_body(struct tm_task *t, const struct tm_textset **out)
{
    struct tm_text_cache *c = tm_text_cache_get(t);

    if (c == NULL)
        return TM_ENOMEM;
    if (!c->have_body) {
        c->body_rc = build_body(t, c);
        c->have_body = 1;
    }
    *out = &c->body;
    return c->body_rc;
}

tm_rc
tm_text_rawbody(struct tm_task *t, const struct tm_textset **out)
{
    struct tm_text_cache *c = tm_text_cache_get(t);

    if (c == NULL)
        return TM_ENOMEM;
    if (!c->have_raw) {
        c->raw_rc = build_rawbody(t, c);
        c->have_raw = 1;
    }
    *out = &c->rawbody;
    return c->raw_rc;
}

struct tm_str
tm_text_full(struct tm_task *t)
{
    if (t->msg == NULL)
        return tm_str_make("", 0);
    return t->msg->raw;
}
