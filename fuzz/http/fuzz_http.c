/*
 * fuzz_http.c - the HTTP request parser of scanner/proto/http.c, fed the
 * input in pieces whose sizes come from the input's first byte (so one
 * corpus entry explores its own splits), requests pipelined until the
 * bytes run out, with small limits so every bound is a few mutations away.
 * Each complete or failed request is answered with the builders.
 *
 * A complete /checkv2 request's body is parsed as a message and answered
 * with tm_http_checkv2 for a fixed verdict (its action taken from the
 * input), so the JSON builder sees hostile URLs, Message-IDs and Subjects.
 *
 * Invariants: consumed <= bytes offered; need-more consumes everything;
 * the body is at most max_body bytes; an error carries a 4xx/5xx status
 * the reason table knows; headers, envelope and path are inside the
 * parser's buffers; the responses fit their buffer or fail cleanly; the
 * /checkv2 reply has a Content-Length equal to its body, which is one
 * JSON value (checked by a small validator) starting with "is_skipped".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/core.h"
#include "core/limits.h"
#include "core/task.h"
#include "mime/mime.h"
#include "proto/http.h"
#include "verdict/verdict.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TM_JSON_DEPTH 64

static struct tm_engine *engine;

/* ---- a minimal JSON validator (RFC 8259 structure; numbers loosely) ---- */

static const char *json_value(const char *p, const char *e, int depth);

static const char *
json_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

static const char *
json_string(const char *p, const char *e)
{
    if (p >= e || *p != '"')
        return NULL;
    for (p++; p < e && *p != '"'; p++) {
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\' && ++p >= e)
            return NULL;
    }
    return p < e ? p + 1 : NULL;
}

static const char *
json_members(const char *p, const char *e, char close, int depth)
{
    p = json_ws(p + 1, e);
    if (p < e && *p == close)
        return p + 1;
    for (;;) {
        p = json_ws(p, e);
        if (close == '}') {
            if ((p = json_string(p, e)) == NULL)
                return NULL;
            p = json_ws(p, e);
            if (p >= e || *p++ != ':')
                return NULL;
        }
        if ((p = json_value(p, e, depth + 1)) == NULL)
            return NULL;
        p = json_ws(p, e);
        if (p < e && *p == ',') {
            p++;
            continue;
        }
        return p < e && *p == close ? p + 1 : NULL;
    }
}

static const char *
json_value(const char *p, const char *e, int depth)
{
    const char *s;

    p = json_ws(p, e);
    if (p >= e || depth > TM_JSON_DEPTH)
        return NULL;
    if (*p == '{' || *p == '[')
        return json_members(p, e, *p == '{' ? '}' : ']', depth);
    if (*p == '"')
        return json_string(p, e);
    for (s = p; p < e && strchr("-+.eE0123456789truefalsn", *p) != NULL; p++)
        ;
    return p > s ? p : NULL;
}

/* check_checkv2 - parse the body as a message and check the /checkv2 reply */
static void
check_checkv2(const struct tm_http_req *r, unsigned char act)
{
    static const char *const opts[] = {"opt \"1\"", "\xff\xfe"};
    struct tm_task *t = tm_task_new(engine);
    struct tm_str body = tm_http_body(r);
    struct tm_verdict v;
    struct tm_symbol sy[2];
    struct tm_buf b;
    const char *s, *e, *hend;
    size_t clen = 0;
    tm_rc rc;

    if (t == NULL)
        abort();
    (void)tm_mime_parse(t, body.p != NULL ? body.p : (const unsigned char *)"", body.len);
    memset(&v, 0, sizeof(v));
    memset(sy, 0, sizeof(sy));
    sy[0].name = "RULE_A";
    sy[0].score = 2.5;
    sy[0].description = "a \"quoted\" rule";
    sy[1].name = "RULE_B";
    sy[1].score = -1;
    sy[1].options = opts;
    sy[1].noptions = 2;
    v.syms = sy;
    v.n = 2;
    v.score = 1.5;
    v.required = 5;
    v.action = (enum tm_action)(act % TM_ACT__COUNT);
    tm_verdict_reply(&v);
    tm_buf_init(&b, t->arena, 1u << 20);
    rc = tm_http_checkv2(t, &v, r, 1.25, &b);
    TM_ASSERT(rc == TM_OK || rc == TM_ELIMIT || rc == TM_ENOMEM);
    if (rc == TM_OK) {
        s = (const char *)b.data;
        e = s + b.len;
        TM_ASSERT(b.len > 17 && memcmp(s, "HTTP/1.1 200 OK\r\n", 17) == 0);
        hend = strstr(s, "\r\n\r\n");
        TM_ASSERT(hend != NULL);
        s = strstr(s, "Content-Length: ");
        TM_ASSERT(s != NULL && s < hend);
        for (s += 16; *s >= '0' && *s <= '9'; s++)
            clen = clen * 10 + (size_t)(*s - '0');
        s = hend + 4;
        TM_ASSERT(clen == (size_t)(e - s));
        TM_ASSERT(clen > 14 && memcmp(s, "{\"is_skipped\":", 14) == 0);
        TM_ASSERT(json_value(s, e, 0) == e);
    }
    tm_task_free(t);
}

static int
inside(const struct tm_http_req *r, struct tm_str s)
{
    if (s.p == NULL || s.len == 0)
        return 1;
    return s.p >= r->hbuf && s.p + s.len <= r->hbuf + r->hlen;
}

static void
check_request(const struct tm_http_req *r, enum tm_http_state st)
{
    const struct tm_http_env *e = tm_http_envelope(r);
    size_t i;

    TM_ASSERT(tm_http_body(r).len <= r->cfg.max_body);
    TM_ASSERT(r->nhdr <= r->cfg.max_headers);
    TM_ASSERT(r->hlen <= r->cfg.max_header_bytes + r->cfg.max_line + 2);
    if (st == TM_HTTP_ERROR) {
        TM_ASSERT(tm_http_status(r) >= 400 && tm_http_status(r) <= 599);
        TM_ASSERT(strcmp(tm_http_reason(tm_http_status(r)), "Unknown") != 0);
        return;
    }
    TM_ASSERT(tm_http_status(r) == 0);
    if (st != TM_HTTP_COMPLETE)
        return;
    TM_ASSERT(tm_http_endpoint(r) != TM_HTTP_EP_NONE);
    TM_ASSERT(inside(r, tm_http_path(r)) || tm_http_path(r).len == 1);
    for (i = 0; i < r->nhdr; i++)
        TM_ASSERT(r->hdr[i].value + r->hdr[i].value_len <= r->hlen);
    TM_ASSERT(e->nrcpt <= r->nhdr);
    for (i = 0; i < e->nrcpt; i++)
        TM_ASSERT(inside(r, e->rcpt[i]) && e->rcpt[i].len <= r->cfg.max_value);
    TM_ASSERT(inside(r, e->from) && inside(r, e->ip) && inside(r, e->helo));
    TM_ASSERT(inside(r, e->settings) && e->from.len <= r->cfg.max_value);
    (void)tm_http_flag(r, "pass_all");
    (void)tm_http_header(r, "content-length", 1);
}

static void
answer(struct tm_arena *a, const struct tm_http_req *r, enum tm_http_state st)
{
    struct tm_buf b;
    struct tm_str body = tm_http_body(r);
    tm_rc rc;

    tm_buf_init(&b, a, 1024);
    if (st == TM_HTTP_ERROR)
        rc = tm_http_error(&b, r, tm_http_status(r));
    else if (tm_http_endpoint(r) == TM_HTTP_EP_PING)
        rc = tm_http_ping(&b, r);
    else
        rc = tm_http_response(&b, 200, "text/plain", body.p, body.len, tm_http_keep_alive(r));
    TM_ASSERT(rc == TM_OK || rc == TM_ELIMIT || rc == TM_ENOMEM);
    TM_ASSERT(rc == TM_OK || b.len == 0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct tm_limits lim = tm_limits_default();

    (void)argc;
    (void)argv;
    /* small bounds: the message stage's limits are a few bytes away too */
    lim.mime_max_depth = 4;
    lim.mime_max_parts = 16;
    lim.text_max_uris = 16;
    lim.task_arena_budget = 8u << 20;
    if ((engine = tm_engine_new_bare(&lim)) == NULL)
        abort();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tm_http_cfg cfg;
    struct tm_http_req r;
    struct tm_arena *a;
    enum tm_http_state st = TM_HTTP_NEED_MORE;
    size_t off, step, used, end, nreq = 0;
    unsigned char first;
    tm_rc rc;

    if (size < 1)
        return 0;
    first = data[0];
    step = first & 0x3f; /* 0: everything at once */
    data++;
    size--;
    tm_http_cfg_default(&cfg);
    cfg.max_line = 128;
    cfg.max_headers = 8;
    cfg.max_header_bytes = 512;
    cfg.max_body = 256;
    cfg.max_value = 32;
    if (tm_http_init(&r, &cfg) != TM_OK || (a = tm_arena_new(1u << 20)) == NULL)
        abort();
    off = 0;
    while (off < size && nreq < 64) {
        end = step == 0 ? size : TM_MIN(size, off + step);
        rc = tm_http_feed(&r, data + off, end - off, &used, &st);
        TM_ASSERT(used <= end - off);
        off += used;
        check_request(&r, st);
        if (st == TM_HTTP_NEED_MORE) {
            TM_ASSERT(rc == TM_EAGAIN && off == end);
            continue;
        }
        if (st == TM_HTTP_CONTINUE)
            continue;
        answer(a, &r, st);
        if (st == TM_HTTP_COMPLETE && tm_http_endpoint(&r) == TM_HTTP_EP_CHECKV2)
            check_checkv2(&r, (unsigned char)(first >> 6 | nreq << 2));
        if (st == TM_HTTP_ERROR) {
            TM_ASSERT(rc == TM_EPROTO || rc == TM_ENOMEM);
            break;
        }
        TM_ASSERT(rc == TM_OK);
        /* complete is sticky until reset */
        if (off < size) {
            rc = tm_http_feed(&r, data + off, size - off, &used, &st);
            TM_ASSERT(used == 0 && st == TM_HTTP_COMPLETE);
        }
        tm_http_reset(&r);
        nreq++;
    }
    tm_http_free(&r);
    tm_arena_free(a);
    return 0;
}
