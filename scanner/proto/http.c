/*
 * http.c - rspamd's HTTP protocol, server side, sans I/O; see http.h.
 *
 * Implements RFC 9112 sections 2-3 (message format, request line), 5
 * (field syntax; obs-fold is rejected with 400, whitespace before the colon
 * too), 6-7 (Content-Length, chunked transfer coding, trailers discarded),
 * 9.3 (persistence) and RFC 9110 10.1.1 (Expect: 100-continue).
 *
 * Invariants: every byte the parser keeps is in one of two buffers it owns.
 * hbuf holds the head (request line and header lines, CR LF stripped); it is
 * at most max_header_bytes plus one line, and after the head only ever
 * holds the chunk-size or trailer line being read. body holds the message,
 * at most max_body bytes. Header and envelope views are offsets into hbuf
 * resolved once hbuf stops moving. Bytes are scanned once (memchr for LF
 * from where the last call stopped), so a request fed one byte at a time
 * costs the same as one fed whole.
 *
 * Limits (struct tm_http_cfg): max_line (414 for the request line, 431 for
 * a header, 400 for a chunk line), max_headers and max_header_bytes (431),
 * max_body (413), max_value for envelope headers (431).
 */
#include "proto/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/task.h"
#include "mime/mime.h"
#include "proto/headers.h"
#include "url/collect.h"
#include "verdict/report.h"
#include "verdict/verdict.h"

enum {
    P_LINE,       /* request line */
    P_HEADER,     /* header lines */
    P_BODY,       /* Content-Length bytes */
    P_CHUNK_SIZE, /* chunk-size [ext] CRLF */
    P_CHUNK_DATA, /* chunk bytes */
    P_CHUNK_CRLF, /* CRLF after the chunk */
    P_TRAILER,    /* trailer fields, then an empty line */
    P_DONE,
    P_ERROR,
};

#define MAX_BLANK_LINES 4 /* empty lines tolerated before a request line */
#define BODY_CHUNK_MIN  (16u << 10)

void
tm_http_cfg_default(struct tm_http_cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->max_line = 8192;
    c->max_headers = TM_HTTP_MAX_HEADERS;
    c->max_header_bytes = 64u << 10;
    c->max_body = 64u << 20;
    c->max_value = 1024;
    c->tamis_object = 1;
}

tm_rc
tm_http_init(struct tm_http_req *r, const struct tm_http_cfg *cfg)
{
    memset(r, 0, sizeof(*r));
    if (cfg == NULL)
        tm_http_cfg_default(&r->cfg);
    else
        r->cfg = *cfg;
    if (r->cfg.max_line < 64 || r->cfg.max_headers < 1 ||
        r->cfg.max_headers > TM_HTTP_MAX_HEADERS || r->cfg.max_header_bytes < r->cfg.max_line ||
        r->cfg.max_value < 1 || r->cfg.max_body > ((size_t)1 << 40))
        return TM_EINVAL;
    r->pstate = P_LINE;
    return TM_OK;
}

void
tm_http_free(struct tm_http_req *r)
{
    tm_free(r->hbuf);
    tm_free(r->body);
    r->hbuf = NULL;
    r->body = NULL;
    r->hlen = r->hcap = 0;
    r->body_len = r->body_cap = 0;
}

void
tm_http_reset(struct tm_http_req *r)
{
    struct tm_http_cfg cfg = r->cfg;

    tm_http_free(r);
    (void)tm_http_init(r, &cfg);
}

/* fail - enter the error state with `status`; always returns TM_EPROTO */
static tm_rc
fail(struct tm_http_req *r, int status, const char *why)
{
    r->pstate = P_ERROR;
    r->status = status;
    r->why = why;
    return TM_EPROTO;
}

/* grow - make room for `need` bytes in *buf (capacity *cap, at most max) */
static tm_rc
grow(unsigned char **buf, size_t *cap, size_t used, size_t need, size_t min, size_t max)
{
    size_t ncap;
    unsigned char *p;

    if (need <= *cap)
        return TM_OK;
    if (need > max)
        return TM_ELIMIT;
    ncap = *cap ? *cap : min;
    while (ncap < need)
        ncap = ncap > max / 2 ? max : ncap * 2;
    if (ncap > max)
        ncap = max;
    if ((p = tm_calloc(ncap, 1)) == NULL)
        return TM_ENOMEM;
    if (used > 0)
        memcpy(p, *buf, used);
    tm_free(*buf);
    *buf = p;
    *cap = ncap;
    return TM_OK;
}

/*
 * get_line - copy input up to and including LF into hbuf. Returns 1 with
 * the line (CR LF or LF stripped) at hbuf[line_start .. line_start+*len),
 * 0 when the input ran out first, or -1 when the line is longer than
 * max_len (its bytes so far exceed the cap) or hbuf would pass total_cap;
 * *toolong then says which of the two (1: line, 2: total).
 */
static int
get_line(struct tm_http_req *r, const unsigned char *p, size_t n, size_t *i, size_t max_len,
         size_t total_cap, size_t *len, int *toolong, tm_rc *rc)
{
    size_t have = r->hlen - r->line_start;
    /* look no further than the longest line allowed: a body behind is not scanned */
    size_t window = TM_MIN(n - *i, max_len + 3 - have);
    const unsigned char *lf = memchr(p + *i, '\n', window);
    size_t seg = lf ? (size_t)(lf - (p + *i)) + 1 : n - *i;

    *rc = TM_OK;
    /* the line may hold max_len bytes plus CR LF */
    if (seg > max_len + 2 - have) {
        *toolong = 1;
        return -1;
    }
    if (seg > total_cap - r->hlen) {
        *toolong = 2;
        return -1;
    }
    if ((*rc = grow(&r->hbuf, &r->hcap, r->hlen, r->hlen + seg, 1024, total_cap)) != TM_OK)
        return -1;
    memcpy(r->hbuf + r->hlen, p + *i, seg);
    r->hlen += seg;
    *i += seg;
    if (lf == NULL)
        return 0;
    *len = r->hlen - r->line_start - 1; /* drop LF */
    if (*len > 0 && r->hbuf[r->line_start + *len - 1] == '\r')
        (*len)--;
    if (*len > max_len) {
        *toolong = 1;
        return -1;
    }
    return 1;
}

static int
is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int
is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* parse_request_line - "METHOD SP target SP HTTP/1.x" */
static tm_rc
parse_request_line(struct tm_http_req *r, size_t off, size_t len)
{
    const unsigned char *s = r->hbuf + off, *e = s + len, *q;
    const unsigned char *v;

    for (q = s; q < e && is_tchar(*q); q++)
        ;
    if (q == s || q == e || *q != ' ')
        return fail(r, 400, "bad request line");
    r->method_off = off;
    r->method_len = (size_t)(q - s);
    q++;
    r->target_off = off + (size_t)(q - s);
    while (q<e && * q> 0x20 && *q < 0x7f)
        q++;
    r->target_len = off + (size_t)(q - s) - r->target_off;
    if (r->target_len == 0 || q == e || *q != ' ')
        return fail(r, 400, "bad request target");
    v = q + 1;
    if (e - v != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
        v[7] < '0' || v[7] > '9')
        return fail(r, 400, "bad HTTP version");
    if (v[5] != '1')
        return fail(r, 505, "only HTTP/1.0 and HTTP/1.1");
    r->minor = v[7] == '0' ? 0 : 1;
    if (r->method_len == 3 && memcmp(s, "GET", 3) == 0)
        r->method = TM_HTTP_M_GET;
    else if (r->method_len == 4 && memcmp(s, "HEAD", 4) == 0)
        r->method = TM_HTTP_M_HEAD;
    else if (r->method_len == 4 && memcmp(s, "POST", 4) == 0)
        r->method = TM_HTTP_M_POST;
    else if (r->method_len == 3 && memcmp(s, "PUT", 3) == 0)
        r->method = TM_HTTP_M_PUT;
    else
        r->method = TM_HTTP_M_OTHER;
    return TM_OK;
}

/* parse_field - "name: value" at hbuf[off, off+len) into *h; 0 or an error status */
static int
parse_field(const struct tm_http_req *r, size_t off, size_t len, struct tm_http_hdr *h)
{
    const unsigned char *s = r->hbuf + off;
    size_t i, vs, ve;

    if (is_ows(s[0]))
        return 400; /* obs-fold, or whitespace before the first field */
    for (i = 0; i < len && is_tchar(s[i]); i++)
        ;
    if (i == 0 || i == len || s[i] != ':')
        return 400;
    h->name = off;
    h->name_len = i;
    for (vs = i + 1; vs < len && is_ows(s[vs]); vs++)
        ;
    for (ve = len; ve > vs && is_ows(s[ve - 1]); ve--)
        ;
    for (i = vs; i < ve; i++)
        if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
            return 400;
    h->value = off + vs;
    h->value_len = ve - vs;
    return 0;
}

static struct tm_str
hstr(const struct tm_http_req *r, size_t off, size_t len)
{
    if (r->hbuf == NULL)
        return tm_str_make(NULL, 0);
    return tm_str_make(r->hbuf + off, len);
}

static int
name_is(const struct tm_http_req *r, const struct tm_http_hdr *h, const char *name)
{
    return tm_str_ieq(hstr(r, h->name, h->name_len), name);
}

/*
 * next_token - the next comma-separated element of s (trimmed), advancing
 * *pos; 0 when none is left. Empty elements are skipped (RFC 9110 5.6.1).
 */
static int
next_token(struct tm_str s, size_t *pos, struct tm_str *tok)
{
    while (*pos < s.len) {
        size_t b = *pos, e;
        while (*pos < s.len && s.p[*pos] != ',')
            (*pos)++;
        e = *pos;
        if (*pos < s.len)
            (*pos)++;
        *tok = tm_str_trim(tm_str_make(s.p + b, e - b));
        if (tok->len > 0)
            return 1;
    }
    return 0;
}

/*
 * content_length - parse one Content-Length value (a list of equal numbers
 * is accepted, RFC 9112 6.3 item 5). Returns 0 with *v, or 400; a number
 * past `max` is reported as max + 1 so the caller answers 413.
 */
static int
content_length(struct tm_str s, size_t max, size_t *v, int *seen)
{
    size_t pos = 0, i, x;
    struct tm_str tok;
    int any = 0;

    while (next_token(s, &pos, &tok)) {
        x = 0;
        for (i = 0; i < tok.len; i++) {
            if (tok.p[i] < '0' || tok.p[i] > '9')
                return 400;
            if (x <= max)
                x = x * 10 + (size_t)(tok.p[i] - '0');
        }
        if (x > max)
            x = max + 1;
        if (*seen && x != *v)
            return 400;
        *v = x;
        *seen = 1;
        any = 1;
    }
    return any ? 0 : 400;
}

/* env_value - trimmed value, with one "<>" pair removed when `angle` */
static struct tm_str
env_value(struct tm_str v, int angle)
{
    v = tm_str_trim(v);
    if (angle && v.len >= 2 && v.p[0] == '<' && v.p[v.len - 1] == '>')
        v = tm_str_make(v.p + 1, v.len - 2);
    return v;
}

/* fill_env - the rspamd request headers, once hbuf no longer moves */
static void
fill_env(struct tm_http_req *r)
{
    static const struct {
        const char *name;
        size_t off; /* offset of the tm_str in struct tm_http_env */
        int angle;
    } map[] = {
        {"From", offsetof(struct tm_http_env, from), 1},
        {"IP", offsetof(struct tm_http_env, ip), 0},
        {"Helo", offsetof(struct tm_http_env, helo), 0},
        {"Hostname", offsetof(struct tm_http_env, hostname), 0},
        {"User", offsetof(struct tm_http_env, user), 0},
        {"Queue-Id", offsetof(struct tm_http_env, queue_id), 0},
        {"Deliver-To", offsetof(struct tm_http_env, deliver_to), 0},
        {"Settings", offsetof(struct tm_http_env, settings), 0},
        {"Settings-ID", offsetof(struct tm_http_env, settings_id), 0},
        {"Flags", offsetof(struct tm_http_env, flags), 0},
        {"Pass", offsetof(struct tm_http_env, pass), 0},
    };
    size_t i, k;

    memset(&r->env, 0, sizeof(r->env));
    for (i = 0; i < r->nhdr; i++) {
        const struct tm_http_hdr *h = &r->hdr[i];
        struct tm_str v = hstr(r, h->value, h->value_len);
        if (name_is(r, h, "Rcpt")) {
            r->env.rcpt[r->env.nrcpt++] = env_value(v, 1);
            continue;
        }
        for (k = 0; k < TM_NELEM(map); k++) {
            struct tm_str *dst = (struct tm_str *)(void *)((char *)&r->env + map[k].off);
            if (name_is(r, h, map[k].name) && dst->p == NULL) {
                *dst = env_value(v, map[k].angle);
                if (dst->p == NULL) /* present but empty: keep it visible */
                    dst->p = (const unsigned char *)"";
                break;
            }
        }
    }
}

static const struct {
    const char *path;
    enum tm_http_method method;
    enum tm_http_endpoint ep;
    const char *allow;
} routes[] = {
    {"/checkv2", TM_HTTP_M_POST, TM_HTTP_EP_CHECKV2, "POST, PUT"}, /* curl -T sends PUT */
    {"/ping", TM_HTTP_M_GET, TM_HTTP_EP_PING, "GET"},
    {"/metrics", TM_HTTP_M_GET, TM_HTTP_EP_METRICS, "GET"},
    {"/stat", TM_HTTP_M_GET, TM_HTTP_EP_STAT, "GET"},
};

struct tm_str
tm_http_path(const struct tm_http_req *r)
{
    struct tm_str t = hstr(r, r->target_off, r->target_len);
    size_t i = 0;

    if (r->hbuf == NULL)
        return tm_str_make(NULL, 0);
    /* absolute-form (RFC 9112 3.2.2): skip "scheme://authority" */
    if (t.len > 7 && (tm_mem_ieq(t.p, "http://", 7) || tm_mem_ieq(t.p, "https://", 8))) {
        i = t.p[4] == ':' ? 7 : 8;
        while (i < t.len && t.p[i] != '/' && t.p[i] != '?')
            i++;
        if (i == t.len || t.p[i] == '?')
            return tm_str_make("/", 1);
    }
    t = tm_str_make(t.p + i, t.len - i);
    for (i = 0; i < t.len && t.p[i] != '?' && t.p[i] != '#'; i++)
        ;
    return tm_str_make(t.p, i);
}

/* route - the endpoint for path and method, or an error status */
static tm_rc
route(struct tm_http_req *r)
{
    struct tm_str path = tm_http_path(r);
    size_t i;

    if (path.len == 0 || path.p[0] != '/')
        return fail(r, 400, "bad request target");
    for (i = 0; i < TM_NELEM(routes); i++) {
        if (path.len == strlen(routes[i].path) && memcmp(path.p, routes[i].path, path.len) == 0) {
            r->endpoint = routes[i].ep;
            if (r->method != routes[i].method &&
                !(r->method == TM_HTTP_M_PUT && routes[i].method == TM_HTTP_M_POST))
                return fail(r, 405, routes[i].allow);
            return TM_OK;
        }
    }
    return fail(r, 404, "no such endpoint");
}

/* head_fields - framing, persistence and expectations from the header fields */
static tm_rc
head_fields(struct tm_http_req *r, int *have_cl, int *have_te)
{
    int conn_close = 0, conn_keep = 0, st;
    size_t i, pos;
    struct tm_str v, tok;

    for (i = 0; i < r->nhdr; i++) {
        const struct tm_http_hdr *h = &r->hdr[i];
        v = hstr(r, h->value, h->value_len);
        if (name_is(r, h, "Content-Length")) {
            if ((st = content_length(v, r->cfg.max_body, &r->content_length, have_cl)) != 0)
                return fail(r, st, "bad Content-Length");
        } else if (name_is(r, h, "Transfer-Encoding")) {
            pos = 0;
            while (next_token(v, &pos, &tok)) {
                if (!tm_str_ieq(tok, "chunked") || *have_te)
                    return fail(r, 501, "only the chunked transfer coding");
                *have_te = 1;
            }
            if (!*have_te)
                return fail(r, 400, "empty Transfer-Encoding");
        } else if (name_is(r, h, "Connection")) {
            pos = 0;
            while (next_token(v, &pos, &tok)) {
                conn_close |= tm_str_ieq(tok, "close");
                conn_keep |= tm_str_ieq(tok, "keep-alive");
            }
        } else if (name_is(r, h, "Expect")) {
            if (tm_str_ieq(tm_str_trim(v), "100-continue"))
                r->expect_continue = 1;
        } else if (r->cfg.max_value < h->value_len && !name_is(r, h, "Settings")) {
            static const char *const env[] = {"From",     "Rcpt",        "IP",       "Helo",
                                              "Hostname", "User",        "Queue-Id", "Deliver-To",
                                              "Flags",    "Settings-ID", "Pass"};
            size_t k;
            for (k = 0; k < TM_NELEM(env); k++)
                if (name_is(r, h, env[k]))
                    return fail(r, 431, "envelope header too long");
        }
    }
    r->keep_alive = r->minor >= 1 ? !conn_close : conn_keep && !conn_close;
    return TM_OK;
}

/*
 * end_of_head - the empty line after the header fields: check framing,
 * route, and set up the body. RFC 9112 6.1: Transfer-Encoding with
 * Content-Length is an error here (request smuggling), as is
 * Transfer-Encoding in HTTP/1.0.
 */
static tm_rc
end_of_head(struct tm_http_req *r)
{
    int have_cl = 0, have_te = 0;
    tm_rc rc;

    if ((rc = head_fields(r, &have_cl, &have_te)) != TM_OK)
        return rc;
    if (have_te && have_cl)
        return fail(r, 400, "both Transfer-Encoding and Content-Length");
    if (have_te && r->minor == 0)
        return fail(r, 400, "Transfer-Encoding in HTTP/1.0");
    if ((rc = route(r)) != TM_OK)
        return rc;
    if ((r->method == TM_HTTP_M_POST || r->method == TM_HTTP_M_PUT) && !have_cl && !have_te)
        return fail(r, 411, "Content-Length required");
    if (have_cl && r->content_length > r->cfg.max_body)
        return fail(r, 413, "message too large");
    if (!(r->minor >= 1 && (have_te || r->content_length > 0)))
        r->expect_continue = 0;
    if (have_te) {
        r->chunked = 1;
        r->pstate = P_CHUNK_SIZE;
    } else if (r->content_length > 0) {
        if ((r->body = tm_calloc(r->content_length, 1)) == NULL) {
            (void)fail(r, 503, "out of memory");
            return TM_ENOMEM;
        }
        r->body_cap = r->content_length;
        r->pstate = P_BODY;
    } else {
        r->pstate = P_DONE;
    }
    return TM_OK;
}

/* head_line - one line of the head (request line or field) */
static tm_rc
head_line(struct tm_http_req *r, size_t len)
{
    struct tm_http_hdr h;
    int st;

    if (r->pstate == P_LINE) {
        if (len == 0) {
            if (++r->nlines_blank > MAX_BLANK_LINES)
                return fail(r, 400, "empty lines before the request");
            r->hlen = r->line_start;
            return TM_OK;
        }
        if (parse_request_line(r, r->line_start, len) != TM_OK)
            return TM_EPROTO;
        r->pstate = P_HEADER;
        r->line_start = r->hlen;
        return TM_OK;
    }
    if (len == 0) {
        r->line_start = r->hlen; /* the head stays put; later lines go after it */
        return end_of_head(r);
    }
    if ((st = parse_field(r, r->line_start, len, &h)) != 0)
        return fail(r, st,
                    is_ows(r->hbuf[r->line_start]) ? "obsolete line folding" : "bad header field");
    if (r->nhdr >= r->cfg.max_headers)
        return fail(r, 431, "too many header fields");
    r->hdr[r->nhdr++] = h;
    r->line_start = r->hlen;
    return TM_OK;
}

/* chunk_size - "1a3f[;ext]" (RFC 9112 7.1); size 0 starts the trailer */
static tm_rc
chunk_size(struct tm_http_req *r, size_t len)
{
    const unsigned char *s = r->hbuf + r->line_start;
    size_t i, x = 0, room = r->cfg.max_body - r->body_len;
    int v;
    tm_rc rc;

    for (i = 0; i < len && (v = tm_hexval(s[i])) >= 0; i++) {
        if (x > room)
            continue; /* keep scanning; too large anyway */
        x = x * 16 + (size_t)v;
    }
    if (i == 0)
        return fail(r, 400, "bad chunk size");
    while (i < len && is_ows(s[i]))
        i++;
    if (i < len && s[i] != ';')
        return fail(r, 400, "bad chunk size");
    for (; i < len; i++)
        if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
            return fail(r, 400, "bad chunk extension");
    r->hlen = r->line_start;
    if (x == 0) {
        r->pstate = P_TRAILER;
        return TM_OK;
    }
    if (x > room)
        return fail(r, 413, "message too large");
    rc =
        grow(&r->body, &r->body_cap, r->body_len, r->body_len + x, BODY_CHUNK_MIN, r->cfg.max_body);
    if (rc != TM_OK) {
        (void)fail(r, 503, "out of memory");
        return TM_ENOMEM;
    }
    r->content_length = x;
    r->pstate = P_CHUNK_DATA;
    return TM_OK;
}

/* tail_line - a chunk-size line, the CRLF after chunk data, or a trailer field */
static tm_rc
tail_line(struct tm_http_req *r, size_t len)
{
    struct tm_http_hdr h;

    switch (r->pstate) {
    case P_CHUNK_SIZE:
        return chunk_size(r, len);
    case P_CHUNK_CRLF:
        if (len != 0)
            return fail(r, 400, "chunk data longer than its size");
        r->pstate = P_CHUNK_SIZE;
        break;
    default: /* P_TRAILER */
        if (len == 0) {
            r->pstate = P_DONE;
            break;
        }
        if (parse_field(r, r->line_start, len, &h) != 0)
            return fail(r, 400, "bad trailer field");
        if (r->nhdr + ++r->ntrailers > r->cfg.max_headers)
            return fail(r, 431, "too many trailer fields");
        break;
    }
    r->hlen = r->line_start;
    return TM_OK;
}

/* line_step - read one line in a line state; 1 when a line was handled */
static tm_rc
line_step(struct tm_http_req *r, const unsigned char *p, size_t n, size_t *i, int *got)
{
    int head = r->pstate == P_LINE || r->pstate == P_HEADER, toolong = 0, res;
    size_t len = 0, total;
    tm_rc rc;

    total = head ? r->cfg.max_header_bytes : r->line_start + r->cfg.max_line + 2;
    res = get_line(r, p, n, i, r->cfg.max_line, total, &len, &toolong, &rc);
    *got = res == 1;
    if (res == 0)
        return TM_OK;
    if (res < 0) {
        if (rc == TM_ENOMEM) {
            (void)fail(r, 503, "out of memory");
            return TM_ENOMEM;
        }
        if (r->pstate == P_LINE && toolong == 1)
            return fail(r, 414, "request line too long");
        if (head || r->pstate == P_TRAILER)
            return fail(r, 431, toolong == 1 ? "header line too long" : "header too large");
        return fail(r, 400, "chunk line too long");
    }
    /* a CR anywhere but before LF is a bare CR: reject (RFC 9112 2.2) */
    if (memchr(r->hbuf + r->line_start, '\r', len) != NULL)
        return fail(r, 400, "bare CR");
    if (memchr(r->hbuf + r->line_start, '\0', len) != NULL)
        return fail(r, 400, "NUL in header");
    return head ? head_line(r, len) : tail_line(r, len);
}

/* data_step - copy body bytes (Content-Length or the current chunk) */
static void
data_step(struct tm_http_req *r, const unsigned char *p, size_t n, size_t *i)
{
    size_t take = TM_MIN(n - *i, r->content_length);

    memcpy(r->body + r->body_len, p + *i, take);
    r->body_len += take;
    r->content_length -= take;
    *i += take;
    if (r->content_length == 0)
        r->pstate = r->pstate == P_BODY ? P_DONE : P_CHUNK_CRLF;
}

tm_rc
tm_http_feed(struct tm_http_req *r, const unsigned char *p, size_t n, size_t *consumed,
             enum tm_http_state *state)
{
    size_t i = 0;
    tm_rc rc = TM_OK;
    int got, was_head;

    *consumed = 0;
    while (r->pstate != P_DONE && r->pstate != P_ERROR && i < n) {
        if (r->pstate == P_BODY || r->pstate == P_CHUNK_DATA) {
            data_step(r, p, n, &i);
            continue;
        }
        was_head = r->pstate == P_HEADER;
        if ((rc = line_step(r, p, n, &i, &got)) != TM_OK)
            break;
        if (was_head && r->pstate != P_HEADER && r->expect_continue && r->pstate != P_DONE) {
            r->expect_continue = 0; /* reported once */
            *consumed = i;
            *state = TM_HTTP_CONTINUE;
            return TM_OK;
        }
    }
    *consumed = i;
    if (r->pstate == P_ERROR) {
        *state = TM_HTTP_ERROR;
        return rc == TM_ENOMEM ? TM_ENOMEM : TM_EPROTO;
    }
    if (r->pstate == P_DONE) {
        fill_env(r);
        *state = TM_HTTP_COMPLETE;
        return TM_OK;
    }
    *state = TM_HTTP_NEED_MORE;
    return TM_EAGAIN;
}

int
tm_http_status(const struct tm_http_req *r)
{
    return r->status;
}

enum tm_http_method
tm_http_method(const struct tm_http_req *r)
{
    return r->method;
}

enum tm_http_endpoint
tm_http_endpoint(const struct tm_http_req *r)
{
    return r->endpoint;
}

struct tm_str
tm_http_header(const struct tm_http_req *r, const char *name, size_t idx)
{
    size_t i;

    for (i = 0; i < r->nhdr; i++)
        if (name_is(r, &r->hdr[i], name) && idx-- == 0)
            return hstr(r, r->hdr[i].value, r->hdr[i].value_len);
    return tm_str_make(NULL, 0);
}

struct tm_str
tm_http_body(const struct tm_http_req *r)
{
    return tm_str_make(r->body, r->body_len);
}

const struct tm_http_env *
tm_http_envelope(const struct tm_http_req *r)
{
    return &r->env;
}

int
tm_http_keep_alive(const struct tm_http_req *r)
{
    return r->pstate == P_DONE && r->keep_alive;
}

int
tm_http_flag(const struct tm_http_req *r, const char *flag)
{
    struct tm_str tok;
    size_t pos = 0;

    while (next_token(r->env.flags, &pos, &tok))
        if (tm_str_ieq(tok, flag))
            return 1;
    return 0;
}

/* ---- responses ---------------------------------------------------------- */

const char *
tm_http_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

static tm_rc
puts_(struct tm_buf *b, const char *s)
{
    return tm_buf_append(b, s, strlen(s));
}

tm_rc
tm_http_continue(struct tm_buf *out)
{
    return puts_(out, "HTTP/1.1 100 Continue\r\n\r\n");
}

/* head - status line and the fields every response carries */
static tm_rc
head(struct tm_buf *out, int status, const char *content_type, size_t len, int keep_alive,
     const char *allow)
{
    char line[160];
    tm_rc rc;
    int k;

    if (status < 100 || status > 999)
        return TM_EINVAL;
    k = snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\nServer: tamis\r\n", status,
                 tm_http_reason(status));
    if ((rc = tm_buf_append(out, line, (size_t)k)) != TM_OK)
        return rc;
    if (content_type != NULL) {
        if ((rc = puts_(out, "Content-Type: ")) != TM_OK ||
            (rc = puts_(out, content_type)) != TM_OK || (rc = puts_(out, "\r\n")) != TM_OK)
            return rc;
    }
    if (allow != NULL) {
        if ((rc = puts_(out, "Allow: ")) != TM_OK || (rc = puts_(out, allow)) != TM_OK ||
            (rc = puts_(out, "\r\n")) != TM_OK)
            return rc;
    }
    k = snprintf(line, sizeof(line), "Content-Length: %zu\r\nConnection: %s\r\n\r\n", len,
                 keep_alive ? "keep-alive" : "close");
    return tm_buf_append(out, line, (size_t)k);
}

tm_rc
tm_http_response(struct tm_buf *out, int status, const char *content_type, const void *body,
                 size_t len, int keep_alive)
{
    size_t mark = out->len;
    tm_rc rc;

    if ((rc = head(out, status, content_type, len, keep_alive, NULL)) == TM_OK && len > 0)
        rc = tm_buf_append(out, body, len);
    if (rc != TM_OK)
        out->len = mark;
    return rc;
}

tm_rc
tm_http_error(struct tm_buf *out, const struct tm_http_req *r, int status)
{
    const char *allow = NULL, *why = tm_http_reason(status);
    struct tm_json j;
    size_t mark = out->len;
    tm_rc rc;

    if (r != NULL && r->why != NULL && r->status == status) {
        if (status == 405)
            allow = r->why;
        else
            why = r->why;
    }
    tm_json_init(&j, 0);
    tm_json_obj(&j);
    tm_json_key(&j, "error");
    tm_json_str(&j, why);
    tm_json_end_obj(&j);
    if ((rc = head(out, status, "application/json", j.len, 0, allow)) == TM_OK)
        rc = tm_buf_append(out, j.p, j.len);
    tm_json_free(&j);
    if (rc != TM_OK)
        out->len = mark;
    return rc;
}

tm_rc
tm_http_ping(struct tm_buf *out, const struct tm_http_req *r)
{
    return tm_http_response(out, 200, "text/plain", "pong\r\n", 6,
                            r != NULL && tm_http_keep_alive(r));
}

const char *
tm_http_action_name(int action)
{
    switch (action) {
    case TM_ACT_ADD_HEADER:
        return "add header";
    case TM_ACT_REWRITE_SUBJECT:
        return "rewrite subject";
    case TM_ACT_SOFT_REJECT:
        return "soft reject";
    case TM_ACT_QUARANTINE:
    case TM_ACT_REJECT:
        return "reject";
    case TM_ACT_DISCARD:
        return "discard";
    default:
        return "no action";
    }
}

/* ---- /checkv2 ----------------------------------------------------------- */

static void
symbols(struct tm_json *j, const struct tm_verdict *v)
{
    size_t i, k;

    tm_json_key(j, "symbols");
    tm_json_obj(j);
    for (i = 0; i < v->n; i++) {
        const struct tm_symbol *s = &v->syms[i];
        tm_json_key(j, s->name);
        tm_json_obj(j);
        tm_json_key(j, "name");
        tm_json_str(j, s->name);
        tm_json_key(j, "score");
        tm_json_double(j, s->score);
        tm_json_key(j, "metric_score");
        tm_json_double(j, s->score);
        if (s->description != NULL) {
            tm_json_key(j, "description");
            tm_json_str(j, s->description);
        }
        if (s->noptions > 0) {
            tm_json_key(j, "options");
            tm_json_arr(j);
            for (k = 0; k < s->noptions; k++)
                tm_json_str(j, s->options[k]);
            tm_json_end_arr(j);
        }
        tm_json_end_obj(j);
    }
    tm_json_end_obj(j);
}

/* one_header - {"value": ..., "order": N}; the value's CRLF folding made bare LF, as milters want */
static void
one_header(struct tm_task *t, struct tm_json *j, const char *value, size_t order)
{
    char *lf = tm_arena_alloc(t->arena, strlen(value) + 1);

    tm_json_obj(j);
    tm_json_key(j, "value");
    if (lf != NULL)
        (void)tm_proto_lf_folding(lf, value);
    tm_json_str(j, lf != NULL ? lf : value);
    tm_json_key(j, "order");
    tm_json_uint(j, order);
    tm_json_end_obj(j);
}

/*
 * milter - rspamd's "milter" block: add_headers, each inserted at its
 * "order" (0 = the top): first the fields the verdict prepends (ARC set,
 * DKIM-Signature, Authentication-Results), then the spam headers. A name
 * that occurs more than once (two signatures) maps to an array.
 */
static void
milter(struct tm_task *t, struct tm_json *j, const struct tm_verdict *v)
{
    struct tm_proto_header h[TM_PROTO_MAX_HEADERS];
    size_t n = tm_proto_spam_headers(t, v, 0, h), i, k, same;

    tm_json_key(j, "milter");
    tm_json_obj(j);
    tm_json_key(j, "add_headers");
    tm_json_obj(j);
    for (i = 0; i < v->nprepend; i++) {
        for (k = 0; k < i && strcasecmp(v->prepend[k].name, v->prepend[i].name) != 0; k++)
            ;
        if (k < i)
            continue; /* written with the first of its name */
        for (k = i, same = 0; k < v->nprepend; k++)
            same += strcasecmp(v->prepend[k].name, v->prepend[i].name) == 0;
        tm_json_key(j, v->prepend[i].name);
        if (same > 1)
            tm_json_arr(j);
        for (k = i; k < v->nprepend; k++)
            if (strcasecmp(v->prepend[k].name, v->prepend[i].name) == 0)
                one_header(t, j, v->prepend[k].value, k);
        if (same > 1)
            tm_json_end_arr(j);
    }
    for (i = 0; i < n; i++) {
        tm_json_key(j, h[i].name);
        one_header(t, j, h[i].value, v->nprepend + i);
    }
    tm_json_end_obj(j);
    if (v->nremove_ar > 0) {
        /* rspamd's remove_headers takes one index per name; a forged field is rare and more
         * than one rarer: all of them go to the milter and spamd, the first one here */
        tm_json_key(j, "remove_headers");
        tm_json_obj(j);
        tm_json_key(j, "Authentication-Results");
        tm_json_uint(j, v->remove_ar[0]);
        tm_json_end_obj(j);
    }
    if (v->action == TM_ACT_QUARANTINE) {
        tm_json_key(j, "reject");
        tm_json_str(j, "quarantine");
    }
    tm_json_end_obj(j);
    for (i = 0; i < v->nprepend; i++)
        if (strcasecmp(v->prepend[i].name, "DKIM-Signature") == 0) {
            tm_json_key(j, "dkim-signature"); /* as rspamd's dkim_signing gives it */
            tm_json_str(j, v->prepend[i].value);
            break;
        }
}

static int
cmp_str(const void *a, const void *b)
{
    const struct tm_str *x = a, *y = b;
    int c = memcmp(x->p, y->p, TM_MIN(x->len, y->len));

    return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* mail_addr - "mailto:a@b?subject=x" -> "a@b" */
static struct tm_str
mail_addr(struct tm_str a)
{
    size_t q;

    if (a.len >= 7 && tm_mem_ieq(a.p, "mailto:", 7))
        a = tm_str_make(a.p + 7, a.len - 7);
    for (q = 0; q < a.len && a.p[q] != '?'; q++)
        ;
    return tm_str_make(a.p, q);
}

/* str_array - a sorted JSON array of v[0..n) without duplicates */
static void
str_array(struct tm_json *j, const char *key, struct tm_str *v, size_t n)
{
    size_t i;

    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_str);
    tm_json_key(j, key);
    tm_json_arr(j);
    for (i = 0; i < n; i++)
        if (i == 0 || cmp_str(&v[i - 1], &v[i]) != 0)
            tm_json_strn(j, v[i].p, v[i].len);
    tm_json_end_arr(j);
}

/*
 * urls - "urls" (normal forms) and "emails" (the addresses of mailto:
 * links), each sorted and without duplicates. rspamd lists its URL hash in
 * no particular order; sorting makes ours stable for tests and logs.
 */
static void
urls(struct tm_task *t, struct tm_json *j)
{
    const struct tm_urlset *set = NULL;
    struct tm_str *u = NULL, *m = NULL;
    size_t i, nu = 0, nm = 0;

    if (t->msg != NULL && tm_url_collect(t, &set) == TM_OK && set != NULL && set->n > 0) {
        u = tm_arena_calloc(t->arena, set->n, sizeof(*u));
        m = tm_arena_calloc(t->arena, set->n, sizeof(*m));
    }
    if (u != NULL && m != NULL) {
        for (i = 0; i < set->n; i++) {
            const struct tm_url *x = &set->v[i].u;
            if (x->flags & TM_URLF_BAD || x->normalized.len == 0)
                continue;
            if (!(x->flags & TM_URLF_MAILTO))
                u[nu++] = x->normalized;
            else if ((m[nm] = mail_addr(x->normalized)).len > 0)
                nm++;
        }
    }
    str_array(j, "urls", u, nu);
    str_array(j, "emails", m, nm);
}

/* spam_subject - "*** SPAM *** " and the decoded Subject, in the task arena */
static const char *
spam_subject(struct tm_task *t, const char *subj)
{
    static const char tag[] = "*** SPAM *** ";
    size_t n = subj != NULL ? strlen(subj) : 0;
    char *s = tm_arena_alloc(t->arena, sizeof(tag) + n);

    if (s == NULL)
        return tag;
    memcpy(s, tag, sizeof(tag) - 1);
    if (n > 0)
        memcpy(s + sizeof(tag) - 1, subj, n);
    s[sizeof(tag) - 1 + n] = '\0';
    return s;
}

/* message_id - the Message-ID without its angle brackets, "undef" if none (as rspamd) */
static void
message_id(struct tm_task *t, struct tm_json *j)
{
    const char *s = tm_mime_root_header(t, "message-id");
    struct tm_str v;

    tm_json_key(j, "message-id");
    if (s == NULL) {
        tm_json_str(j, "undef");
        return;
    }
    v = env_value(tm_str_make(s, strlen(s)), 1);
    if (v.len == 0)
        tm_json_str(j, "undef");
    else
        tm_json_strn(j, v.p, v.len);
}

tm_rc
tm_http_checkv2(struct tm_task *t, const struct tm_verdict *v, const struct tm_http_req *r,
                double scan_ms, struct tm_buf *out)
{
    static const struct tm_verdict none;
    struct tm_json j;
    struct tm_report_opts o;
    const char *subj;
    size_t mark = out->len;
    tm_rc rc = TM_OK;

    if (v == NULL)
        v = &none;
    tm_json_init(&j, 0);
    tm_json_obj(&j);
    tm_json_key(&j, "is_skipped");
    tm_json_bool(&j, 0);
    tm_json_key(&j, "score");
    tm_json_double(&j, v->score);
    tm_json_key(&j, "required_score");
    tm_json_double(&j, v->required);
    tm_json_key(&j, "action");
    tm_json_str(&j, tm_http_action_name((int)v->action));
    symbols(&j, v);
    tm_json_key(&j, "messages");
    tm_json_obj(&j);
    if (v->smtp_reply != NULL) {
        tm_json_key(&j, "smtp_message");
        tm_json_str(&j, v->smtp_reply);
    }
    tm_json_end_obj(&j);
    if (v->action == TM_ACT_REWRITE_SUBJECT) {
        /* rspamd's default rewrite_subject template, "*** SPAM *** %s" */
        subj = tm_mime_root_header(t, "subject");
        tm_json_key(&j, "subject");
        tm_json_str(&j, spam_subject(t, subj));
    }
    message_id(t, &j);
    tm_json_key(&j, "time_real");
    tm_json_double(&j, scan_ms / 1000.0);
    milter(t, &j, v);
    urls(t, &j);
    if (r == NULL || r->cfg.tamis_object) {
        memset(&o, 0, sizeof(o));
        o.scan_ms = scan_ms;
        o.verdict = v == &none ? NULL : v;
        tm_json_key(&j, "tamis");
        rc = tm_report_json(t, &o, &j);
    }
    tm_json_end_obj(&j);
    if (rc == TM_OK)
        rc = tm_http_response(out, 200, "application/json", j.p, j.len,
                              r != NULL && tm_http_keep_alive(r));
    tm_json_free(&j);
    if (rc != TM_OK)
        out->len = mark;
    return rc;
}
