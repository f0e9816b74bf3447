/*
 * spamd.c - SPAMC/SPAMD protocol 1.0-1.5 (SpamAssassin 4.0.x), sans I/O;
 * see spamd.h and protocols.md section 2.
 *
 * Request: "METHOD SPAMC/1.x" line, "Name: value" headers up to an empty
 * line (LF or CRLF line ends), then Content-length bytes of message (or, with
 * no Content-length, everything up to the client's half-close). Header
 * names are matched case-insensitively (spamd itself is case-sensitive; a
 * client sending "Content-Length" works here and would not there). Unknown
 * headers are ignored. Compress: zlib bodies are inflated here.
 *
 * Limits: a head line is at most TM_SPAMD_MAX_LINE bytes, at most
 * TM_SPAMD_MAX_HEADERS header lines, Content-length and the decompressed
 * message at most cfg.max_message. All request memory is one arena budgeted
 * from max_message; nothing here reads past the bytes it was given.
 *
 * Answers: protocols.md 2.2 per method and client version; errors are
 * "SPAMD/1.0 <code> <text>" with the sysexits codes spamd uses (76 for a
 * bad request, 65 for a message over the limit or broken zlib data, 69 for
 * TELL, 75 for tm_spamd_tempfail).
 */
#include "proto/spamd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/task.h"
#include "proto/headers.h"
#include "verdict/verdict.h"

enum { ST_REQLINE, ST_HEADERS, ST_BODY, ST_DONE, ST_ERROR };

/* Bytes shown of an offending line in an error answer (Postfix clips at 100). */
#define SHOW_MAX 100

/* Spare arena bytes besides the message copies (user name, temporaries). */
#define ARENA_SLACK (1u << 20)

/* Header room added to the message for PROCESS/HEADERS temporaries. */
#define HDR_SLACK (128u * 1024)

static const struct {
    const char *name;
    enum tm_spamd_method m;
} methods[] = {
    {"CHECK", TM_SPAMD_CHECK},     {"SYMBOLS", TM_SPAMD_SYMBOLS},
    {"REPORT", TM_SPAMD_REPORT},   {"REPORT_IFSPAM", TM_SPAMD_REPORT_IFSPAM},
    {"PROCESS", TM_SPAMD_PROCESS}, {"HEADERS", TM_SPAMD_HEADERS},
    {"PING", TM_SPAMD_PING},       {"SKIP", TM_SPAMD_SKIP},
    {"TELL", TM_SPAMD_TELL},
};

/* The headers PROCESS/HEADERS set; copies already in the message are dropped. */
static const char *const own_headers[] = {"X-Spam-Flag", "X-Spam-Score", "X-Spam-Status",
                                          "X-Spam-Action"};

tm_rc
tm_spamd_init(struct tm_spamd *s, const struct tm_spamd_cfg *cfg)
{
    size_t budget;

    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    /* body, inflated message (grown by doubling) and PROCESS temporaries */
    if (cfg->max_message > (SIZE_MAX - ARENA_SLACK) / 6)
        return TM_EINVAL;
    budget = cfg->max_message * 6 + ARENA_SLACK;
    if ((s->arena = tm_arena_new(budget)) == NULL)
        return TM_ENOMEM;
    s->state = ST_REQLINE;
    return TM_OK;
}

void
tm_spamd_free(struct tm_spamd *s)
{
    if (s->arena != NULL)
        tm_arena_free(s->arena);
    s->arena = NULL;
    s->msg = NULL;
    s->body = NULL;
    s->user = NULL;
}

/* show - copy up to SHOW_MAX bytes of p into dst, control and 8-bit bytes as '?' */
static void
show(char *dst, size_t dstlen, const unsigned char *p, size_t n)
{
    size_t i, k = TM_MIN(n, TM_MIN(SHOW_MAX, dstlen - 1));

    for (i = 0; i < k; i++)
        dst[i] = (char)(p[i] < 0x20 || p[i] >= 0x7f ? '?' : p[i]);
    dst[k] = '\0';
}

/* fail - remember the error answer; the request is over */
static tm_rc
fail(struct tm_spamd *s, tm_rc rc, int code, const char *what, const unsigned char *p, size_t n)
{
    char shown[SHOW_MAX + 1];

    show(shown, sizeof(shown), p, n);
    snprintf(s->err_text, sizeof(s->err_text), "%s%s", what, shown);
    s->err_code = code;
    s->err_rc = rc;
    s->state = ST_ERROR;
    return rc;
}

static tm_rc
bad_line(struct tm_spamd *s, tm_rc rc, const char *why)
{
    return fail(s, rc, TM_SPAMD_EX_PROTOCOL, why, (const unsigned char *)"", 0);
}

static int
ieq(const unsigned char *p, size_t n, const char *lit)
{
    size_t i, k = strlen(lit);

    if (n != k)
        return 0;
    for (i = 0; i < k; i++) {
        unsigned char a = p[i], b = (unsigned char)lit[i];
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b + 32);
        if (a != b)
            return 0;
    }
    return 1;
}

/*
 * parse_reqline - "METHOD SPAMC/1.x", exactly one space, x in 0..5. spamd
 * answers anything else with 76 "Bad header line: <line>".
 */
static tm_rc
parse_reqline(struct tm_spamd *s, const unsigned char *p, size_t n)
{
    const unsigned char *sp = memchr(p, ' ', n);
    size_t i, mlen, rest;
    unsigned minor = 0;

    if (sp == NULL)
        goto bad;
    mlen = (size_t)(sp - p);
    for (i = 0; i < TM_NELEM(methods); i++)
        if (strlen(methods[i].name) == mlen && memcmp(methods[i].name, p, mlen) == 0)
            s->method = methods[i].m;
    if (s->method == TM_SPAMD_NONE)
        goto bad;
    sp++;
    rest = n - mlen - 1;
    if (rest < 9 || memcmp(sp, "SPAMC/1.", 8) != 0)
        goto bad;
    for (i = 8; i < rest; i++) {
        if (sp[i] < '0' || sp[i] > '9' || i > 10)
            goto bad;
        minor = minor * 10 + (unsigned)(sp[i] - '0');
    }
    if (minor > 5)
        goto bad;
    s->minor = minor;
    s->state = ST_HEADERS;
    return TM_OK;
bad:
    s->method = TM_SPAMD_NONE;
    return fail(s, TM_EPROTO, TM_SPAMD_EX_PROTOCOL, "Bad header line: ", p, n);
}

static tm_rc
parse_clen(struct tm_spamd *s, const unsigned char *v, size_t n)
{
    size_t i, x = 0;
    char msg[TM_SPAMD_ERR_MAX];

    if (s->have_clen)
        return bad_line(s, TM_EPROTO, "Bad header line: (duplicate Content-length)");
    if (n == 0 || n > 19)
        return fail(s, TM_EPROTO, TM_SPAMD_EX_PROTOCOL, "Bad header line: Content-length: ", v, n);
    for (i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return fail(s, TM_EPROTO, TM_SPAMD_EX_PROTOCOL, "Bad header line: Content-length: ", v,
                        n);
        x = x * 10 + (size_t)(v[i] - '0');
    }
    if (x > s->cfg.max_message) {
        snprintf(msg, sizeof(msg), "Data error: message too big (%zu bytes, limit %zu)", x,
                 s->cfg.max_message);
        return fail(s, TM_ELIMIT, TM_SPAMD_EX_DATAERR, msg, (const unsigned char *)"", 0);
    }
    s->have_clen = 1;
    s->clen = x;
    return TM_OK;
}

/* parse_header - one "Name: value" line; value without leading/trailing blanks */
static tm_rc
parse_header(struct tm_spamd *s, const unsigned char *p, size_t n)
{
    const unsigned char *colon = memchr(p, ':', n);
    const unsigned char *v;
    size_t nlen, vlen, i;

    if (++s->nheaders > TM_SPAMD_MAX_HEADERS)
        return bad_line(s, TM_ELIMIT, "Bad header line: (too many headers)");
    if (colon == NULL || colon == p)
        return fail(s, TM_EPROTO, TM_SPAMD_EX_PROTOCOL, "Bad header line: ", p, n);
    nlen = (size_t)(colon - p);
    v = colon + 1;
    vlen = n - nlen - 1;
    while (vlen > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
    if (ieq(p, nlen, "Content-length"))
        return parse_clen(s, v, vlen);
    if (ieq(p, nlen, "User")) {
        for (i = 0; i < vlen; i++)
            if (v[i] < 0x20 || v[i] == 0x7f)
                return bad_line(s, TM_EPROTO, "Bad header line: (control character in User)");
        if ((s->user = tm_arena_strndup(s->arena, v, vlen)) == NULL)
            return bad_line(s, TM_ENOMEM, "Bad header line: (out of memory)");
        return TM_OK;
    }
    if (ieq(p, nlen, "Compress")) {
        if (!ieq(v, vlen, "zlib"))
            return fail(s, TM_EPROTO, TM_SPAMD_EX_PROTOCOL, "Bad header line: Compress: ", v, vlen);
        s->compress = 1;
    }
    return TM_OK;
}

/*
 * inflate_body - Compress: zlib (spamc -z: compress2, zlib format). The
 * output grows by doubling up to max_message; more is 65, as is a stream
 * that is broken or ends early.
 */
static tm_rc
inflate_body(struct tm_spamd *s)
{
    z_stream z;
    unsigned char *out = NULL, *np;
    size_t cap = 0, len = 0, in_off = 0;
    size_t max = s->cfg.max_message;
    int zr = Z_OK;
    tm_rc rc = TM_OK;

    if (s->bodylen == 0) /* Content-length: 0 is no zlib stream (and body is NULL) */
        return fail(s, TM_EPROTO, TM_SPAMD_EX_DATAERR, "Data error: bad zlib data",
                    (const unsigned char *)"", 0);
    memset(&z, 0, sizeof(z));
    if (inflateInit(&z) != Z_OK)
        return bad_line(s, TM_ENOMEM, "Bad header line: (out of memory)");
    for (;;) {
        if (len == cap) {
            size_t ncap = cap == 0 ? TM_MAX((size_t)4096, s->bodylen * 4) : cap * 2;
            if (cap >= max) {
                rc = fail(s, TM_ELIMIT, TM_SPAMD_EX_DATAERR,
                          "Data error: decompressed message too big", (const unsigned char *)"", 0);
                break;
            }
            if (ncap > max || ncap < cap)
                ncap = max;
            if ((np = tm_arena_alloc(s->arena, ncap + 1)) == NULL) {
                rc = bad_line(s, TM_ENOMEM, "Bad header line: (out of memory)");
                break;
            }
            if (len > 0)
                memcpy(np, out, len);
            out = np;
            cap = ncap;
        }
        z.next_in = s->body + in_off;
        z.avail_in = (uInt)TM_MIN(s->bodylen - in_off, (size_t)UINT32_MAX);
        z.next_out = out + len;
        z.avail_out = (uInt)TM_MIN(cap - len, (size_t)UINT32_MAX);
        {
            uInt ain = z.avail_in, aout = z.avail_out;
            zr = inflate(&z, Z_NO_FLUSH);
            in_off += ain - z.avail_in;
            len += aout - z.avail_out;
        }
        if (zr == Z_STREAM_END)
            break;
        if (zr == Z_MEM_ERROR) {
            rc = bad_line(s, TM_ENOMEM, "Bad header line: (out of memory)");
            break;
        }
        if ((zr != Z_OK && zr != Z_BUF_ERROR) || (len < cap && in_off == s->bodylen)) {
            rc = fail(s, TM_EPROTO, TM_SPAMD_EX_DATAERR, "Data error: bad zlib data",
                      (const unsigned char *)"", 0);
            break;
        }
    }
    inflateEnd(&z);
    if (rc == TM_OK) {
        s->msg = out;
        s->msglen = len;
    }
    return rc;
}

static tm_rc
finish(struct tm_spamd *s)
{
    tm_rc rc;

    if (s->compress && s->method != TM_SPAMD_PING && s->method != TM_SPAMD_SKIP) {
        if ((rc = inflate_body(s)) != TM_OK)
            return rc;
    } else {
        s->msg = s->body != NULL ? s->body : (const unsigned char *)"";
        s->msglen = s->bodylen;
    }
    s->state = ST_DONE;
    return TM_OK;
}

/* end_of_head - the empty line: decide how the body is delimited */
static tm_rc
end_of_head(struct tm_spamd *s)
{
    if (s->method == TM_SPAMD_PING || s->method == TM_SPAMD_SKIP)
        return finish(s);
    if (s->have_clen) {
        if (s->clen == 0)
            return finish(s);
        if ((s->body = tm_arena_alloc(s->arena, s->clen)) == NULL)
            return bad_line(s, TM_ENOMEM, "Bad header line: (out of memory)");
        s->bodycap = s->clen;
    }
    s->state = ST_BODY;
    return TM_OK;
}

static tm_rc
head_line(struct tm_spamd *s)
{
    size_t n = s->linelen;

    if (n > 0 && s->line[n - 1] == '\r')
        n--;
    s->linelen = 0;
    if (n > TM_SPAMD_MAX_LINE)
        return bad_line(s, TM_ELIMIT, "Bad header line: (line too long)");
    if (s->state == ST_REQLINE)
        return parse_reqline(s, s->line, n);
    if (n == 0)
        return end_of_head(s);
    return parse_header(s, s->line, n);
}

/* body_eof_append - body without Content-length: grow by doubling up to max_message */
static tm_rc
body_eof_append(struct tm_spamd *s, const unsigned char *p, size_t n)
{
    size_t max = s->cfg.max_message;
    unsigned char *np;

    if (n > max - s->bodylen)
        return fail(s, TM_ELIMIT, TM_SPAMD_EX_DATAERR, "Data error: message too big",
                    (const unsigned char *)"", 0);
    if (s->bodylen + n > s->bodycap) {
        size_t ncap = s->bodycap ? s->bodycap : 4096;
        while (ncap < s->bodylen + n)
            ncap = ncap > max / 2 ? max : ncap * 2;
        if ((np = tm_arena_alloc(s->arena, ncap)) == NULL)
            return bad_line(s, TM_ENOMEM, "Bad header line: (out of memory)");
        if (s->bodylen > 0)
            memcpy(np, s->body, s->bodylen);
        s->body = np;
        s->bodycap = ncap;
    }
    memcpy(s->body + s->bodylen, p, n);
    s->bodylen += n;
    return TM_OK;
}

static tm_rc
feed_body(struct tm_spamd *s, const unsigned char *p, size_t n, size_t *used)
{
    size_t take;

    if (!s->have_clen) {
        *used = n;
        return body_eof_append(s, p, n);
    }
    take = TM_MIN(n, s->clen - s->bodylen);
    memcpy(s->body + s->bodylen, p, take);
    s->bodylen += take;
    *used = take;
    if (s->bodylen == s->clen)
        return finish(s);
    return TM_OK;
}

static tm_rc
stored_rc(const struct tm_spamd *s)
{
    return s->err_rc != TM_OK ? s->err_rc : TM_EPROTO;
}

tm_rc
tm_spamd_feed(struct tm_spamd *s, const unsigned char *p, size_t n, int *done)
{
    size_t i = 0, used;
    tm_rc rc = TM_OK;

    *done = 0;
    while (i < n && rc == TM_OK && s->state != ST_DONE && s->state != ST_ERROR) {
        if (s->state == ST_BODY) {
            rc = feed_body(s, p + i, n - i, &used);
            i += used;
        } else {
            const unsigned char *nl = memchr(p + i, '\n', n - i);
            size_t chunk = nl != NULL ? (size_t)(nl - (p + i)) : n - i;

            if (chunk > TM_SPAMD_MAX_LINE + 1 - s->linelen) {
                rc = bad_line(s, TM_ELIMIT, "Bad header line: (line too long)");
                break;
            }
            memcpy(s->line + s->linelen, p + i, chunk);
            s->linelen += chunk;
            i += chunk;
            if (nl == NULL)
                break;
            i++;
            rc = head_line(s);
        }
    }
    if (s->state == ST_DONE) {
        s->extra += n - i;
        *done = 1;
        return TM_OK;
    }
    if (s->state == ST_ERROR) {
        *done = 1;
        return rc != TM_OK ? rc : stored_rc(s);
    }
    return rc;
}

tm_rc
tm_spamd_eof(struct tm_spamd *s, int *done)
{
    char msg[TM_SPAMD_ERR_MAX];

    *done = 1;
    switch (s->state) {
    case ST_DONE:
        return TM_OK;
    case ST_ERROR:
        return stored_rc(s);
    case ST_BODY:
        if (!s->have_clen)
            return finish(s);
        snprintf(msg, sizeof(msg),
                 "Bad header line: (Content-Length mismatch: Expected %zu bytes, got %zu bytes)",
                 s->clen, s->bodylen);
        return fail(s, TM_EPROTO, TM_SPAMD_EX_PROTOCOL, msg, (const unsigned char *)"", 0);
    default:
        return bad_line(s, TM_EPROTO, "Bad header line: (end of input before end of headers)");
    }
}

enum tm_spamd_method
tm_spamd_method(const struct tm_spamd *s)
{
    return s->method;
}

const char *
tm_spamd_method_name(enum tm_spamd_method m)
{
    size_t i;

    for (i = 0; i < TM_NELEM(methods); i++)
        if (methods[i].m == m)
            return methods[i].name;
    return NULL;
}

unsigned
tm_spamd_version_minor(const struct tm_spamd *s)
{
    return s->minor;
}

const char *
tm_spamd_user(const struct tm_spamd *s)
{
    return s->user;
}

const unsigned char *
tm_spamd_message(const struct tm_spamd *s, size_t *len)
{
    *len = s->state == ST_DONE ? s->msglen : 0;
    return s->state == ST_DONE ? s->msg : NULL;
}

int
tm_spamd_needs_scan(const struct tm_spamd *s)
{
    return s->state == ST_DONE && s->method >= TM_SPAMD_CHECK && s->method <= TM_SPAMD_HEADERS;
}

/* ---- answers ------------------------------------------------------------ */

static tm_rc
put(struct tm_buf *b, const char *str)
{
    return tm_buf_append(b, str, strlen(str));
}

/* tenths - x * 10 rounded half away from zero, clamped to a sane range */
static long
tenths(double x)
{
    if (x != x)
        return 0;
    if (x > 1e12)
        x = 1e12;
    if (x < -1e12)
        x = -1e12;
    return (long)(x * 10.0 + (x >= 0 ? 0.5 : -0.5));
}

static void
fmt_tenths(char *dst, size_t n, long t)
{
    unsigned long a = t < 0 ? (unsigned long)(-t) : (unsigned long)t;

    snprintf(dst, n, "%s%lu.%lu", t < 0 ? "-" : "", a / 10, a % 10);
}

struct shown {
    char score[32];
    char required[32];
};

/*
 * shown_scores - score and required as sent: one decimal, the score nudged
 * so that "score >= required" holds exactly when the verdict is spam (spamd
 * adjusts its score the same way; Exim trusts the numbers, spamc the word).
 */
static void
shown_scores(const struct tm_verdict *v, struct shown *o)
{
    long sc = tenths(v->score), rq = tenths(v->required);
    int spam = tm_proto_is_spam(v);

    if (spam && sc < rq)
        sc = rq;
    if (!spam && sc >= rq)
        sc = rq - 1;
    fmt_tenths(o->score, sizeof(o->score), sc);
    fmt_tenths(o->required, sizeof(o->required), rq);
}

static tm_rc
put_spam_line(struct tm_buf *b, const struct tm_verdict *v, const struct shown *sh)
{
    tm_rc rc;

    if ((rc = put(b, "Spam: ")) != TM_OK ||
        (rc = put(b, tm_proto_is_spam(v) ? "True" : "False")) != TM_OK ||
        (rc = put(b, " ; ")) != TM_OK || (rc = put(b, sh->score)) != TM_OK ||
        (rc = put(b, " / ")) != TM_OK || (rc = put(b, sh->required)) != TM_OK)
        return rc;
    return put(b, "\r\n");
}

static int
cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* symbols_body - scored symbol names, sorted, comma-joined (SA's get_names_of_tests_hit) */
static tm_rc
symbols_body(struct tm_spamd *s, const struct tm_verdict *v, struct tm_buf *b)
{
    const char **names;
    size_t i;
    tm_rc rc;

    if (v->n == 0)
        return TM_OK;
    if ((names = tm_arena_calloc(s->arena, v->n, sizeof(*names))) == NULL)
        return TM_ENOMEM;
    for (i = 0; i < v->n; i++)
        names[i] = v->syms[i].name != NULL ? v->syms[i].name : "";
    qsort(names, v->n, sizeof(*names), cmp_name);
    for (i = 0; i < v->n; i++)
        if ((i > 0 && (rc = tm_buf_putc(b, ',')) != TM_OK) || (rc = put(b, names[i])) != TM_OK)
            return rc;
    return TM_OK;
}

/* put_clean - text of a rule into the report: control bytes become spaces */
static tm_rc
put_clean(struct tm_buf *b, const char *str, size_t width)
{
    size_t n = 0;
    tm_rc rc;

    for (; str != NULL && *str != '\0'; str++, n++) {
        unsigned char c = (unsigned char)*str;
        if ((rc = tm_buf_putc(b, c < 0x20 || c == 0x7f ? ' ' : c)) != TM_OK)
            return rc;
    }
    for (; n < width; n++)
        if ((rc = tm_buf_putc(b, ' ')) != TM_OK)
            return rc;
    return TM_OK;
}

/*
 * report_body - SpamAssassin's "Content analysis details" table (its
 * default report template without the preamble): one line per symbol,
 * highest score first, " pts" right-aligned in 4 (whole points when one
 * decimal does not fit), the name padded to 22.
 * LF line ends, as spamd sends the report.
 */
static tm_rc
report_body(const struct tm_verdict *v, const struct shown *sh, struct tm_buf *b)
{
    char num[40];
    size_t i;
    tm_rc rc;

    if ((rc = put(b, "Content analysis details:   (")) != TM_OK ||
        (rc = put(b, sh->score)) != TM_OK || (rc = put(b, " points, ")) != TM_OK ||
        (rc = put(b, sh->required)) != TM_OK || (rc = put(b, " required)\n\n")) != TM_OK ||
        (rc = put(b, " pts rule name              description\n")) != TM_OK ||
        (rc = put(b, "---- ---------------------- "
                     "--------------------------------------------------\n")) != TM_OK)
        return rc;
    for (i = 0; i < v->n; i++) {
        long sc = tenths(v->syms[i].score);
        fmt_tenths(num, sizeof(num), sc);
        if (strlen(num) > 4) /* 1000 GTUBE, as SpamAssassin shows it: whole points */
            snprintf(num, sizeof(num), "%ld", (sc + (sc < 0 ? -5 : 5)) / 10);
        if ((rc = put_clean(b, "", 4 - TM_MIN(strlen(num), (size_t)4))) != TM_OK ||
            (rc = put(b, num)) != TM_OK || (rc = tm_buf_putc(b, ' ')) != TM_OK ||
            (rc = put_clean(b, v->syms[i].name, 22)) != TM_OK ||
            (rc = tm_buf_putc(b, ' ')) != TM_OK ||
            (rc = put_clean(b, v->syms[i].description, 0)) != TM_OK ||
            (rc = tm_buf_putc(b, '\n')) != TM_OK)
            return rc;
    }
    return TM_OK;
}

/* field_name - length of the header name of a field line, 0 if none */
static size_t
field_name(const unsigned char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] == ':')
            return i;
        if (p[i] <= ' ' || p[i] >= 0x7f)
            return 0;
    }
    return 0;
}

static int
is_own_header(const unsigned char *p, size_t n)
{
    size_t i;

    for (i = 0; i < TM_NELEM(own_headers); i++)
        if (ieq(p, n, own_headers[i]))
            return 1;
    return 0;
}

/* put_subject - "Subject:" line with "[SPAM] " before the value (once) */
static tm_rc
put_subject(struct tm_buf *b, const unsigned char *p, size_t n, size_t nlen)
{
    size_t i = nlen + 1;
    tm_rc rc;

    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (n - i >= 6 && memcmp(p + i, "[SPAM]", 6) == 0)
        return tm_buf_append(b, p, n);
    if ((rc = tm_buf_append(b, p, i)) != TM_OK)
        return rc;
    if (i == nlen + 1 && (rc = tm_buf_putc(b, ' ')) != TM_OK)
        return rc;
    if ((rc = put(b, "[SPAM] ")) != TM_OK)
        return rc;
    return tm_buf_append(b, p + i, n - i);
}

/*
 * rewrite_head - the message's header section with the spam headers first,
 * older copies of them dropped, and for rewrite subject "[SPAM] " on the
 * Subject (added when missing). Line ends follow the message's first line.
 * *body_off: where the body starts (after the empty line), or the length
 * when there is no empty line. The empty line is part of the output.
 */
/* forged - is the k-th (1-based) Authentication-Results field one to drop */
static int
forged(const struct tm_verdict *v, unsigned k)
{
    size_t i;

    for (i = 0; i < v->nremove_ar; i++)
        if (v->remove_ar[i] == k)
            return 1;
    return 0;
}

static tm_rc
rewrite_head(struct tm_task *t, const struct tm_verdict *v, const unsigned char *m, size_t len,
             struct tm_buf *b, size_t *body_off)
{
    struct tm_proto_header hdrs[TM_PROTO_MAX_HEADERS];
    const unsigned char *nl = memchr(m, '\n', len);
    int crlf = nl != NULL && nl > m && nl[-1] == '\r';
    const char *eol = crlf ? "\r\n" : "\n";
    int skipping = 0, subject = 0, want_subj = v->action == TM_ACT_REWRITE_SUBJECT;
    size_t nh, i, pos = 0, blank = 0;
    unsigned nar = 0;
    tm_rc rc;

    if ((nh = tm_proto_spam_headers(t, v, crlf, hdrs)) == 0)
        return TM_ENOMEM;
    /* signatures, ARC set, Authentication-Results first, at the top */
    for (i = 0; i < v->nprepend; i++) {
        const char *p = v->prepend[i].value;
        if ((rc = put(b, v->prepend[i].name)) != TM_OK || (rc = put(b, ": ")) != TM_OK)
            return rc;
        for (; *p; p++) {
            if (p[0] == '\r' && p[1] == '\n' && !crlf)
                continue;
            if ((rc = tm_buf_putc(b, (unsigned char)*p)) != TM_OK)
                return rc;
        }
        if ((rc = put(b, eol)) != TM_OK)
            return rc;
    }
    for (i = 0; i < nh; i++)
        if ((rc = put(b, hdrs[i].name)) != TM_OK || (rc = put(b, ": ")) != TM_OK ||
            (rc = put(b, hdrs[i].value)) != TM_OK || (rc = put(b, eol)) != TM_OK)
            return rc;
    while (pos < len) {
        const unsigned char *p = m + pos, *e = memchr(p, '\n', len - pos);
        size_t n = e != NULL ? (size_t)(e - p) + 1 : len - pos, nlen;

        if ((n == 1 && p[0] == '\n') || (n == 2 && p[0] == '\r' && p[1] == '\n')) {
            blank = n;
            break;
        }
        if (p[0] == ' ' || p[0] == '\t') {
            if (!skipping && (rc = tm_buf_append(b, p, n)) != TM_OK)
                return rc;
        } else if ((nlen = field_name(p, n)) > 0 && is_own_header(p, nlen)) {
            skipping = 1;
        } else if (nlen > 0 && ieq(p, nlen, "Authentication-Results") &&
                   forged(v, ++nar)) {
            skipping = 1; /* claims this relay's authserv-id: dropped (RFC 8601 5) */
        } else if (nlen > 0 && want_subj && !subject && ieq(p, nlen, "Subject")) {
            skipping = 0;
            subject = 1;
            if ((rc = put_subject(b, p, n, nlen)) != TM_OK)
                return rc;
        } else {
            skipping = 0;
            if ((rc = tm_buf_append(b, p, n)) != TM_OK)
                return rc;
        }
        pos += n;
    }
    if (want_subj && !subject) {
        if (b->len > 0 && b->data[b->len - 1] != '\n' && (rc = put(b, eol)) != TM_OK)
            return rc;
        if ((rc = put(b, "Subject: [SPAM]")) != TM_OK || (rc = put(b, eol)) != TM_OK)
            return rc;
    }
    if (blank > 0 && (rc = tm_buf_append(b, m + pos, blank)) != TM_OK)
        return rc;
    *body_off = pos + blank;
    return TM_OK;
}

static tm_rc
put_clen(struct tm_buf *out, size_t n)
{
    char num[64];

    snprintf(num, sizeof(num), "Content-length: %zu\r\n", n);
    return put(out, num);
}

/* respond_scan - the scanning methods; body built in the request arena first */
static tm_rc
respond_scan(struct tm_spamd *s, struct tm_task *t, const struct tm_verdict *v, struct tm_buf *out)
{
    struct tm_buf body;
    struct shown sh;
    size_t body_off = 0, tail = 0, cap;
    int old = s->minor < 3, spam = tm_proto_is_spam(v);
    tm_rc rc;

    cap = s->msglen > SIZE_MAX - HDR_SLACK ? SIZE_MAX : s->msglen + HDR_SLACK;
    tm_buf_init(&body, s->arena, cap);
    shown_scores(v, &sh);
    if ((rc = put(out, "SPAMD/1.1 0 EX_OK\r\n")) != TM_OK)
        return rc;
    switch (s->method) {
    case TM_SPAMD_CHECK:
        if ((rc = put_spam_line(out, v, &sh)) != TM_OK)
            return rc;
        return put(out, "\r\n");
    case TM_SPAMD_SYMBOLS:
        if ((rc = symbols_body(s, v, &body)) != TM_OK || (old && (rc = put(&body, "\r\n"))))
            return rc;
        break;
    case TM_SPAMD_REPORT:
    case TM_SPAMD_REPORT_IFSPAM:
        if ((s->method == TM_SPAMD_REPORT || spam) && (rc = report_body(v, &sh, &body)) != TM_OK)
            return rc;
        break;
    case TM_SPAMD_PROCESS:
    case TM_SPAMD_HEADERS:
        if (t == NULL)
            return TM_EINVAL;
        if ((rc = rewrite_head(t, v, s->msg, s->msglen, &body, &body_off)) != TM_OK)
            return rc;
        if (s->method == TM_SPAMD_PROCESS)
            tail = s->msglen - body_off;
        break;
    default:
        return TM_EINVAL;
    }
    if (s->method == TM_SPAMD_PROCESS && old) {
        if ((rc = put_clen(out, body.len + tail)) != TM_OK)
            return rc;
    } else if (old && s->method != TM_SPAMD_HEADERS) {
        if ((rc = put_spam_line(out, v, &sh)) != TM_OK)
            return rc;
    } else if ((rc = put_clen(out, body.len + tail)) != TM_OK ||
               (rc = put_spam_line(out, v, &sh)) != TM_OK)
        return rc;
    if ((rc = put(out, "\r\n")) != TM_OK ||
        (body.len > 0 && (rc = tm_buf_append(out, body.data, body.len))))
        return rc;
    return tail > 0 ? tm_buf_append(out, s->msg + body_off, tail) : TM_OK;
}

tm_rc
tm_spamd_respond(struct tm_spamd *s, struct tm_task *t, const struct tm_verdict *v,
                 struct tm_buf *out)
{
    size_t mark = out->len;
    tm_rc rc;

    if (s->state != ST_DONE)
        return TM_EINVAL;
    switch (s->method) {
    case TM_SPAMD_PING:
        return put(out, "SPAMD/1.5 0 PONG\r\n");
    case TM_SPAMD_SKIP:
        return TM_OK;
    case TM_SPAMD_TELL:
        return put(out, "SPAMD/1.0 69 Service Unavailable: TELL commands are not enabled "
                        "(learning is not supported)\r\n");
    default:
        break;
    }
    if (v == NULL)
        return TM_EINVAL;
    if ((rc = respond_scan(s, t, v, out)) != TM_OK)
        out->len = mark; /* nothing half-written goes on the wire */
    return rc;
}

tm_rc
tm_spamd_error(const struct tm_spamd *s, struct tm_buf *out)
{
    char line[TM_SPAMD_ERR_MAX + 32];

    if (s->err_code == 0)
        return TM_EINVAL;
    snprintf(line, sizeof(line), "SPAMD/1.0 %d %s\r\n", s->err_code, s->err_text);
    return put(out, line);
}

tm_rc
tm_spamd_tempfail(struct tm_buf *out, const char *why)
{
    char shown[SHOW_MAX + 1], line[SHOW_MAX + 64];

    show(shown, sizeof(shown), (const unsigned char *)(why != NULL ? why : "busy"),
         why != NULL ? strlen(why) : 4);
    snprintf(line, sizeof(line), "SPAMD/1.0 %d Temporary failure: %s\r\n", TM_SPAMD_EX_TEMPFAIL,
             shown);
    return put(out, line);
}
