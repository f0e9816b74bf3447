/*
 * test_http.c - the rspamd HTTP protocol, server side (scanner/proto/http.c):
 * requests as rspamc 3.4 and curl send them (docs/protocols.md 3.5, 3.7),
 * whole and one byte at a time; chunked bodies and Expect: 100-continue;
 * pipelining; every error status; the response builders; and the
 * /checkv2 JSON for a hand-built verdict over a parsed message, checked
 * for validity by a tiny JSON reader and field by field against values
 * derived by hand from protocols.md 3.4.
 */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/limits.h"
#include "core/task.h"
#include "mime/mime.h"
#include "proto/http.h"
#include "suites.h"
#include "verdict/verdict.h"

/* ---- helpers ------------------------------------------------------------ */

/*
 * feed - parse in pieces of `step` bytes (0: all at once), answering
 * 100-continue like a daemon would (counted in *continues). Returns the
 * final state; *used = bytes consumed in total.
 */
static enum tm_http_state
feed(struct tm_http_req *r, const char *s, size_t n, size_t step, size_t *used, int *continues)
{
    enum tm_http_state st = TM_HTTP_NEED_MORE;
    size_t off = 0, end, c;

    *used = 0;
    if (continues != NULL)
        *continues = 0;
    while (off < n) {
        end = step == 0 ? n : TM_MIN(n, off + step);
        while (off < end) {
            (void)tm_http_feed(r, (const unsigned char *)s + off, end - off, &c, &st);
            TM_ASSERT(c <= end - off);
            off += c;
            if (st == TM_HTTP_CONTINUE) {
                if (continues != NULL)
                    (*continues)++;
                continue;
            }
            if (st != TM_HTTP_NEED_MORE) {
                *used = off;
                return st;
            }
            TM_ASSERT(off == end); /* need more means everything was used */
        }
    }
    *used = off;
    return st;
}

/* TRY - like REQUIRE, but to the test's "out:" cleanup instead of returning */
#define TRY(cond)                                                             \
    do {                                                                      \
        if (!(cond)) {                                                        \
            tm_test_fail(__FILE__, __LINE__, "TRY(%s), test stopped", #cond); \
            goto out;                                                         \
        }                                                                     \
    } while (0)

#define CHECK_TSTR(s, lit) CHECK_MEM((s).p, (s).len, (lit), strlen(lit))

static const char rspamc_req[] = "POST /checkv2 HTTP/1.0\r\n"
                                 "Content-Length: 27\r\n"
                                 "Connection: close\r\n"
                                 "Content-Type: text/plain\r\n"
                                 "User: alice\r\n"
                                 "Filename: msg.eml\r\n"
                                 "Ip: 192.0.2.1\r\n"
                                 "User-Agent: rspamc\r\n"
                                 "Flags: body_block\r\n"
                                 "Helo: mx.example.org\r\n"
                                 "From: sender@example.com\r\n"
                                 "Hostname: mx.example.org\r\n"
                                 "Rcpt: rcpt@example.com\r\n"
                                 "Rcpt: <second@example.com>\r\n"
                                 "Queue-Id: 4ABC123\r\n"
                                 "Deliver-To: bob\r\n"
                                 "Settings-ID: strict\r\n"
                                 "\r\n"
                                 "Subject: hi\r\n\r\nhello body\r\n";

static void
check_rspamc(struct tm_http_req *r)
{
    const struct tm_http_env *e = tm_http_envelope(r);

    CHECK_EQ_INT(tm_http_method(r), TM_HTTP_M_POST);
    CHECK_EQ_INT(tm_http_endpoint(r), TM_HTTP_EP_CHECKV2);
    CHECK_TSTR(tm_http_path(r), "/checkv2");
    CHECK_TSTR(tm_http_body(r), "Subject: hi\r\n\r\nhello body\r\n");
    CHECK_TSTR(e->from, "sender@example.com");
    CHECK_EQ_SIZE(e->nrcpt, 2);
    CHECK_TSTR(e->rcpt[0], "rcpt@example.com");
    CHECK_TSTR(e->rcpt[1], "second@example.com");
    CHECK_TSTR(e->ip, "192.0.2.1");
    CHECK_TSTR(e->helo, "mx.example.org");
    CHECK_TSTR(e->hostname, "mx.example.org");
    CHECK_TSTR(e->user, "alice");
    CHECK_TSTR(e->queue_id, "4ABC123");
    CHECK_TSTR(e->deliver_to, "bob");
    CHECK_TSTR(e->settings_id, "strict");
    CHECK(e->settings.p == NULL);
    CHECK(tm_http_flag(r, "body_block"));
    CHECK(!tm_http_flag(r, "pass_all"));
    CHECK_TSTR(tm_http_header(r, "user-agent", 0), "rspamc");
    CHECK_TSTR(tm_http_header(r, "RCPT", 1), "<second@example.com>");
    CHECK(tm_http_header(r, "Rcpt", 2).p == NULL);
    CHECK(!tm_http_keep_alive(r)); /* HTTP/1.0 and Connection: close */
}

/* ---- requests ----------------------------------------------------------- */

TM_TEST(http_rspamc_request)
{
    struct tm_http_req r;
    size_t used, step;
    size_t steps[] = {0, 1, 2, 7, 64};

    for (step = 0; step < TM_NELEM(steps); step++) {
        REQUIRE(tm_http_init(&r, NULL) == TM_OK);
        CHECK_EQ_INT(feed(&r, rspamc_req, sizeof(rspamc_req) - 1, steps[step], &used, NULL),
                     TM_HTTP_COMPLETE);
        CHECK_EQ_SIZE(used, sizeof(rspamc_req) - 1);
        check_rspamc(&r);
        tm_http_free(&r);
    }
}

TM_TEST(http_curl_request)
{
    static const char req[] = "POST /checkv2 HTTP/1.1\r\n"
                              "Host: localhost\r\n"
                              "User-Agent: curl/7.88.1\r\n"
                              "Accept: */*\r\n"
                              "Rcpt: <a@b>\r\n"
                              "From: <>\r\n"
                              "Content-Length: 5\r\n"
                              "Content-Type: application/x-www-form-urlencoded\r\n"
                              "\r\n"
                              "hello";
    struct tm_http_req r;
    const struct tm_http_env *e;
    size_t used;

    REQUIRE(tm_http_init(&r, NULL) == TM_OK);
    CHECK_EQ_INT(feed(&r, req, sizeof(req) - 1, 1, &used, NULL), TM_HTTP_COMPLETE);
    e = tm_http_envelope(&r);
    CHECK_TSTR(tm_http_body(&r), "hello");
    CHECK_EQ_SIZE(e->nrcpt, 1);
    CHECK_TSTR(e->rcpt[0], "a@b");
    CHECK(e->from.p != NULL && e->from.len == 0); /* null sender, present */
    CHECK(e->helo.p == NULL);
    CHECK(tm_http_keep_alive(&r)); /* HTTP/1.1 default */
    tm_http_free(&r);
}

TM_TEST(http_chunked_expect_continue)
{
    /* what curl -T - sends */
    static const char head[] = "PUT /checkv2 HTTP/1.1\r\n"
                               "Host: 127.0.0.1:18336\r\n"
                               "User-Agent: curl/7.88.1\r\n"
                               "Accept: */*\r\n"
                               "Transfer-Encoding: chunked\r\n"
                               "Rcpt: <a@b>\r\n"
                               "Expect: 100-continue\r\n"
                               "\r\n";
    static const char body[] = "5\r\nhello\r\n6;name=value\r\n world\r\n"
                               "0\r\nX-Trailer: 1\r\n\r\n";
    char all[512];
    struct tm_http_req r;
    enum tm_http_state st;
    size_t used, n, step;
    int cont;

    /* head alone: CONTINUE, everything consumed */
    REQUIRE(tm_http_init(&r, NULL) == TM_OK);
    CHECK_EQ_INT(tm_http_feed(&r, (const unsigned char *)head, sizeof(head) - 1, &used, &st),
                 TM_OK);
    CHECK_EQ_INT(st, TM_HTTP_CONTINUE);
    CHECK_EQ_SIZE(used, sizeof(head) - 1);
    CHECK_EQ_INT(tm_http_feed(&r, (const unsigned char *)body, sizeof(body) - 1, &used, &st),
                 TM_OK);
    CHECK_EQ_INT(st, TM_HTTP_COMPLETE);
    CHECK_EQ_SIZE(used, sizeof(body) - 1);
    CHECK_TSTR(tm_http_body(&r), "hello world");
    tm_http_free(&r);

    /* head and body in one buffer, any split */
    n = (size_t)snprintf(all, sizeof(all), "%s%s", head, body);
    for (step = 0; step < 4; step++) {
        REQUIRE(tm_http_init(&r, NULL) == TM_OK);
        CHECK_EQ_INT(feed(&r, all, n, step, &used, &cont), TM_HTTP_COMPLETE);
        CHECK_EQ_INT(cont, 1);
        CHECK_EQ_SIZE(used, n);
        CHECK_TSTR(tm_http_body(&r), "hello world");
        tm_http_free(&r);
    }
}

TM_TEST(http_no_continue_without_body)
{
    static const char req[] = "GET /ping HTTP/1.1\r\nExpect: 100-continue\r\n\r\n";
    struct tm_http_req r;
    size_t used;
    int cont;

    REQUIRE(tm_http_init(&r, NULL) == TM_OK);
    CHECK_EQ_INT(feed(&r, req, sizeof(req) - 1, 0, &used, &cont), TM_HTTP_COMPLETE);
    CHECK_EQ_INT(cont, 0);
    CHECK_EQ_INT(tm_http_endpoint(&r), TM_HTTP_EP_PING);
    tm_http_free(&r);
}

TM_TEST(http_pipelined)
{
    static const char two[] = "POST /checkv2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                              "GET /ping HTTP/1.1\r\nConnection: close\r\n\r\n"
                              "GET /stat";
    struct tm_http_req r;
    enum tm_http_state st;
    size_t used, off = 0, first = 48;

    REQUIRE(tm_http_init(&r, NULL) == TM_OK);
    CHECK_EQ_INT(tm_http_feed(&r, (const unsigned char *)two, sizeof(two) - 1, &used, &st), TM_OK);
    CHECK_EQ_INT(st, TM_HTTP_COMPLETE);
    CHECK_EQ_SIZE(used, first);
    CHECK_TSTR(tm_http_body(&r), "abc");
    CHECK(tm_http_keep_alive(&r));
    /* complete is sticky until reset */
    CHECK_EQ_INT(tm_http_feed(&r, (const unsigned char *)two + used, 5, &used, &st), TM_OK);
    CHECK_EQ_SIZE(used, 0);
    CHECK_EQ_INT(st, TM_HTTP_COMPLETE);
    off = first;
    tm_http_reset(&r);
    CHECK_EQ_INT(
        tm_http_feed(&r, (const unsigned char *)two + off, sizeof(two) - 1 - off, &used, &st),
        TM_OK);
    CHECK_EQ_INT(st, TM_HTTP_COMPLETE);
    CHECK_EQ_INT(tm_http_endpoint(&r), TM_HTTP_EP_PING);
    CHECK(!tm_http_keep_alive(&r));
    CHECK_EQ_SIZE(tm_http_body(&r).len, 0);
    off += used;
    tm_http_reset(&r);
    CHECK_EQ_INT(
        tm_http_feed(&r, (const unsigned char *)two + off, sizeof(two) - 1 - off, &used, &st),
        TM_EAGAIN);
    CHECK_EQ_INT(st, TM_HTTP_NEED_MORE);
    CHECK_EQ_SIZE(off + used, sizeof(two) - 1);
    tm_http_free(&r);
}

TM_TEST(http_misc_forms)
{
    static const char *const ok[] = {
        "\r\nGET /ping HTTP/1.1\r\n\r\n",                   /* a stray CRLF first */
        "GET /ping HTTP/1.1\n\n",                           /* bare LF line ends */
        "GET http://localhost:11333/ping HTTP/1.1\r\n\r\n", /* absolute form */
        "GET /ping?x=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\nxy",
        "GET /stat HTTP/1.2\r\n\r\n",
        "POST /checkv2 HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
        "POST /checkv2 HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\nab",
        "POST /checkv2 HTTP/1.1\r\nTransfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n",
    };
    static const enum tm_http_endpoint ep[] = {
        TM_HTTP_EP_PING,    TM_HTTP_EP_PING,    TM_HTTP_EP_PING,
        TM_HTTP_EP_PING,    TM_HTTP_EP_METRICS, TM_HTTP_EP_STAT,
        TM_HTTP_EP_CHECKV2, TM_HTTP_EP_CHECKV2, TM_HTTP_EP_CHECKV2,
    };
    struct tm_http_req r;
    size_t i, used;

    for (i = 0; i < TM_NELEM(ok); i++) {
        REQUIRE(tm_http_init(&r, NULL) == TM_OK);
        if (feed(&r, ok[i], strlen(ok[i]), 0, &used, NULL) != TM_HTTP_COMPLETE)
            tm_test_fail(__FILE__, __LINE__, "request %zu not complete (status %d)", i,
                         tm_http_status(&r));
        CHECK_EQ_SIZE(used, strlen(ok[i]));
        CHECK_EQ_INT(tm_http_endpoint(&r), ep[i]);
        if (i == 3)
            CHECK(tm_http_keep_alive(&r));
        tm_http_free(&r);
    }
}

/* ---- errors ------------------------------------------------------------- */

static const struct {
    const char *req;
    int status;
} bad[] = {
    {"GARBAGE\r\n\r\n", 400},
    {"GET  /ping HTTP/1.1\r\n\r\n", 400},
    {"GET /ping\r\n\r\n", 400},
    {"GET /ping HTTP/1.1 \r\n\r\n", 400},
    {"GET /ping FTP/1.1\r\n\r\n", 400},
    {"GET /ping HTTP/2.0\r\n\r\n", 505},
    {"GET /ping HTTP/0.9\r\n\r\n", 505},
    {"GET ping HTTP/1.1\r\n\r\n", 400},
    {"GET /nope HTTP/1.1\r\n\r\n", 404},
    {"POST /check HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", 404},
    {"GET /checkv2 HTTP/1.1\r\n\r\n", 405},
    {"HEAD /ping HTTP/1.1\r\n\r\n", 405},
    {"DELETE /stat HTTP/1.1\r\n\r\n", 405},
    {"POST /checkv2 HTTP/1.1\r\n\r\n", 411},
    {"PUT /checkv2 HTTP/1.1\r\n\r\n", 411},
    {"PUT /ping HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", 405},
    {"POST /checkv2 HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413},
    {"POST /checkv2 HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413},
    {"POST /checkv2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
     "40\r\n0123456789012345678901234567890123456789012345678901234567890123\r\n"
     "40\r\n",
     413},
    {"POST /checkv2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\n", 413},
    {"POST /checkv2 HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
    {"POST /checkv2 HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400},
    {"POST /checkv2 HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
    {"POST /checkv2 HTTP/1.1\r\nContent-Length:\r\n\r\n", 400},
    {"POST /checkv2 HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
    {"POST /checkv2 HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
    {"POST /checkv2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
     501},
    {"POST /checkv2 HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
    {"POST /checkv2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
    {"POST /checkv2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", 400},
    {"POST /checkv2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1 x\r\n", 400},
    {"GET /ping HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n", 400},
    {"GET /ping HTTP/1.1\r\n leading: 1\r\n\r\n", 400},
    {"GET /ping HTTP/1.1\r\nHost : x\r\n\r\n", 400},
    {"GET /ping HTTP/1.1\r\n: x\r\n\r\n", 400},
    {"GET /ping HTTP/1.1\r\nNoColon\r\n\r\n", 400},
    {"GET /ping HTTP/1.1\r\nX-A: a\rb\r\n\r\n", 400},
    {"GET /ping HTTP/1.1\r\nX-A: a\001b\r\n\r\n", 400},
    {"\r\n\r\n\r\n\r\n\r\nGET /ping HTTP/1.1\r\n\r\n", 400},
};

TM_TEST(http_error_statuses)
{
    struct tm_http_cfg cfg;
    struct tm_http_req r;
    size_t i, step, used;
    enum tm_http_state st;

    tm_http_cfg_default(&cfg);
    cfg.max_body = 100;
    for (i = 0; i < TM_NELEM(bad); i++) {
        for (step = 0; step < 2; step++) {
            REQUIRE(tm_http_init(&r, &cfg) == TM_OK);
            st = feed(&r, bad[i].req, strlen(bad[i].req), step, &used, NULL);
            if (st != TM_HTTP_ERROR || tm_http_status(&r) != bad[i].status)
                tm_test_fail(__FILE__, __LINE__, "bad[%zu] step %zu: state %d status %d, want %d",
                             i, step, (int)st, tm_http_status(&r), bad[i].status);
            CHECK_LE_SIZE(used, strlen(bad[i].req));
            CHECK_LE_SIZE(tm_http_body(&r).len, cfg.max_body);
            tm_http_free(&r);
        }
    }
}

/* header limits with a small configuration, so the limit paths are a few bytes away */
TM_TEST(http_limits)
{
    struct tm_http_cfg cfg;
    struct tm_http_req r;
    char req[4096];
    size_t used, n, i;

    tm_http_cfg_default(&cfg);
    cfg.max_line = 64;
    cfg.max_headers = 4;
    cfg.max_header_bytes = 200;
    cfg.max_value = 16;

    /* request line of 65 bytes: 414; 64 bytes: fine (404) */
    for (i = 0; i < 2; i++) {
        n = (size_t)snprintf(req, sizeof(req), "GET /%.*s HTTP/1.1\r\n\r\n", (int)(50 + i),
                             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        REQUIRE(tm_http_init(&r, &cfg) == TM_OK);
        CHECK_EQ_INT(feed(&r, req, n, 1, &used, NULL), TM_HTTP_ERROR);
        CHECK_EQ_INT(tm_http_status(&r), i == 0 ? 404 : 414);
        tm_http_free(&r);
    }
    /* header line too long */
    n = (size_t)snprintf(req, sizeof(req), "GET /ping HTTP/1.1\r\nX: %070d\r\n\r\n", 0);
    REQUIRE(tm_http_init(&r, &cfg) == TM_OK);
    CHECK_EQ_INT(feed(&r, req, n, 0, &used, NULL), TM_HTTP_ERROR);
    CHECK_EQ_INT(tm_http_status(&r), 431);
    tm_http_free(&r);
    /* too many fields: 4 fine, 5 not */
    for (i = 0; i < 2; i++) {
        n = (size_t)snprintf(req, sizeof(req),
                             "GET /ping HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n%s\r\n",
                             i == 0 ? "D: 4\r\n" : "D: 4\r\nE: 5\r\n");
        REQUIRE(tm_http_init(&r, &cfg) == TM_OK);
        CHECK_EQ_INT(feed(&r, req, n, 0, &used, NULL), i == 0 ? TM_HTTP_COMPLETE : TM_HTTP_ERROR);
        if (i == 1)
            CHECK_EQ_INT(tm_http_status(&r), 431);
        tm_http_free(&r);
    }
    /* total header bytes */
    n = (size_t)snprintf(req, sizeof(req),
                         "GET /ping HTTP/1.1\r\nA: %058d\r\nB: %058d\r\nC: %058d\r\n\r\n", 1, 2, 3);
    REQUIRE(tm_http_init(&r, &cfg) == TM_OK);
    CHECK_EQ_INT(feed(&r, req, n, 3, &used, NULL), TM_HTTP_ERROR);
    CHECK_EQ_INT(tm_http_status(&r), 431);
    tm_http_free(&r);
    /* envelope value too long; the same length in another header is fine */
    n = (size_t)snprintf(req, sizeof(req), "GET /ping HTTP/1.1\r\nHelo: %020d\r\n\r\n", 0);
    REQUIRE(tm_http_init(&r, &cfg) == TM_OK);
    CHECK_EQ_INT(feed(&r, req, n, 0, &used, NULL), TM_HTTP_ERROR);
    CHECK_EQ_INT(tm_http_status(&r), 431);
    tm_http_free(&r);
    n = (size_t)snprintf(req, sizeof(req), "GET /ping HTTP/1.1\r\nX-Other: %020d\r\n\r\n", 0);
    REQUIRE(tm_http_init(&r, &cfg) == TM_OK);
    CHECK_EQ_INT(feed(&r, req, n, 0, &used, NULL), TM_HTTP_COMPLETE);
    tm_http_free(&r);
    /* trailers count against max_headers */
    n = (size_t)snprintf(req, sizeof(req),
                         "POST /checkv2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "1\r\nx\r\n0\r\nT1: 1\r\nT2: 2\r\nT3: 3\r\nT4: 4\r\n\r\n");
    REQUIRE(tm_http_init(&r, &cfg) == TM_OK);
    CHECK_EQ_INT(feed(&r, req, n, 0, &used, NULL), TM_HTTP_ERROR);
    CHECK_EQ_INT(tm_http_status(&r), 431);
    tm_http_free(&r);
    /* a bad configuration */
    cfg.max_headers = TM_HTTP_MAX_HEADERS + 1;
    CHECK_EQ_INT(tm_http_init(&r, &cfg), TM_EINVAL);
}

/*
 * Allocation failure (run with TM_FAILPOINT=1, 2, 3 ...): each request
 * either completes or fails with 503 and TM_ENOMEM, never half-parsed.
 */
TM_TEST(http_alloc_failure)
{
    static const char *const reqs[] = {
        "POST /checkv2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
        "POST /checkv2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    };
    struct tm_http_req r;
    enum tm_http_state st;
    size_t i, used;
    tm_rc rc;

    for (i = 0; i < TM_NELEM(reqs); i++) {
        REQUIRE(tm_http_init(&r, NULL) == TM_OK);
        rc = tm_http_feed(&r, (const unsigned char *)reqs[i], strlen(reqs[i]), &used, &st);
        if (st == TM_HTTP_COMPLETE) {
            CHECK_EQ_INT(rc, TM_OK);
            CHECK_TSTR(tm_http_body(&r), "abc");
        } else {
            CHECK_EQ_INT(st, TM_HTTP_ERROR);
            CHECK_EQ_INT(rc, TM_ENOMEM);
            CHECK_EQ_INT(tm_http_status(&r), 503);
        }
        tm_http_free(&r);
    }
}

/* ---- responses ---------------------------------------------------------- */

static struct tm_engine *
engine(void)
{
    struct tm_limits lim = tm_limits_default();

    return tm_engine_new_bare(&lim);
}

TM_TEST(http_responses)
{
    static const char ping[] = "HTTP/1.1 200 OK\r\nServer: tamis\r\nContent-Type: text/plain\r\n"
                               "Content-Length: 6\r\nConnection: keep-alive\r\n\r\npong\r\n";
    static const char e404[] = "HTTP/1.1 404 Not Found\r\nServer: tamis\r\n"
                               "Content-Type: application/json\r\nContent-Length: 28\r\n"
                               "Connection: close\r\n\r\n{\"error\":\"no such endpoint\"}";
    static const char e405[] = "HTTP/1.1 405 Method Not Allowed\r\nServer: tamis\r\n"
                               "Content-Type: application/json\r\nAllow: POST, PUT\r\n"
                               "Content-Length: 30\r\nConnection: close\r\n\r\n"
                               "{\"error\":\"Method Not Allowed\"}";
    static const char metrics[] = "HTTP/1.1 200 OK\r\nServer: tamis\r\n"
                                  "Content-Type: text/plain; version=0.0.4\r\n"
                                  "Content-Length: 12\r\nConnection: close\r\n\r\n"
                                  "tamis_up 1\r\n";
    struct tm_arena *a = tm_arena_new(1u << 20);
    struct tm_http_req r;
    struct tm_buf b;
    size_t used;

    REQUIRE(a != NULL);
    REQUIRE(tm_http_init(&r, NULL) == TM_OK);
    CHECK_EQ_INT(feed(&r, "GET /ping HTTP/1.1\r\n\r\n", 22, 0, &used, NULL), TM_HTTP_COMPLETE);
    tm_buf_init(&b, a, 4096);
    CHECK_EQ_INT(tm_http_ping(&b, &r), TM_OK);
    CHECK_MEM(b.data, b.len, ping, sizeof(ping) - 1);
    tm_http_reset(&r);

    CHECK_EQ_INT(feed(&r, "GET /x HTTP/1.1\r\n\r\n", 19, 0, &used, NULL), TM_HTTP_ERROR);
    tm_buf_init(&b, a, 4096);
    CHECK_EQ_INT(tm_http_error(&b, &r, tm_http_status(&r)), TM_OK);
    CHECK_MEM(b.data, b.len, e404, sizeof(e404) - 1);
    tm_http_reset(&r);

    CHECK_EQ_INT(feed(&r, "GET /checkv2 HTTP/1.1\r\n\r\n", 25, 0, &used, NULL), TM_HTTP_ERROR);
    tm_buf_init(&b, a, 4096);
    CHECK_EQ_INT(tm_http_error(&b, &r, 405), TM_OK);
    CHECK_MEM(b.data, b.len, e405, sizeof(e405) - 1);
    tm_http_free(&r);

    tm_buf_init(&b, a, 4096);
    CHECK_EQ_INT(tm_http_response(&b, 200, "text/plain; version=0.0.4", "tamis_up 1\r\n", 12, 0),
                 TM_OK);
    CHECK_MEM(b.data, b.len, metrics, sizeof(metrics) - 1);

    tm_buf_init(&b, a, 4096);
    CHECK_EQ_INT(tm_http_continue(&b), TM_OK);
    CHECK_MEM(b.data, b.len, "HTTP/1.1 100 Continue\r\n\r\n", 25);

    /* a cap too small: nothing written */
    tm_buf_init(&b, a, 40);
    CHECK_EQ_INT(tm_http_response(&b, 200, "text/plain", "pong\r\n", 6, 0), TM_ELIMIT);
    CHECK_EQ_SIZE(b.len, 0);
    CHECK_STR(tm_http_action_name(TM_ACT_QUARANTINE), "reject");
    CHECK_STR(tm_http_action_name(TM_ACT_REWRITE_SUBJECT), "rewrite subject");
    CHECK_STR(tm_http_action_name(TM_ACT_NONE), "no action");
    tm_arena_free(a);
}

/* task - a task of e, or NULL (and e released) */
static struct tm_task *
task(struct tm_engine *e)
{
    struct tm_task *t = e != NULL ? tm_task_new(e) : NULL;

    if (t == NULL && e != NULL)
        tm_engine_unref(e);
    return t;
}

/* ---- a tiny JSON reader: validity, and the value text of a top-level key -- */

struct jr {
    const char *p, *e;
    int depth;
};

static void
jr_ws(struct jr *j)
{
    while (j->p < j->e && strchr(" \t\r\n", *j->p) != NULL)
        j->p++;
}

static int jr_value(struct jr *j);

static int
jr_string(struct jr *j)
{
    if (j->p >= j->e || *j->p != '"')
        return 0;
    for (j->p++; j->p < j->e && *j->p != '"'; j->p++) {
        if ((unsigned char)*j->p < 0x20)
            return 0;
        if (*j->p == '\\') {
            j->p++;
            if (j->p >= j->e || strchr("\"\\/bfnrtu", *j->p) == NULL)
                return 0;
        }
    }
    if (j->p >= j->e)
        return 0;
    j->p++;
    return 1;
}

static int
jr_members(struct jr *j, char close, int keys)
{
    j->p++;
    jr_ws(j);
    if (j->p < j->e && *j->p == close) {
        j->p++;
        return 1;
    }
    for (;;) {
        jr_ws(j);
        if (keys) {
            if (!jr_string(j))
                return 0;
            jr_ws(j);
            if (j->p >= j->e || *j->p++ != ':')
                return 0;
        }
        if (!jr_value(j))
            return 0;
        jr_ws(j);
        if (j->p < j->e && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->e && *j->p == close) {
            j->p++;
            return 1;
        }
        return 0;
    }
}

static int
jr_value(struct jr *j)
{
    int ok;

    jr_ws(j);
    if (j->p >= j->e || ++j->depth > 40)
        return 0;
    if (*j->p == '{')
        ok = jr_members(j, '}', 1);
    else if (*j->p == '[')
        ok = jr_members(j, ']', 0);
    else if (*j->p == '"')
        ok = jr_string(j);
    else {
        const char *s = j->p;
        while (j->p < j->e && strchr("-+.eE0123456789truefalsn", *j->p) != NULL)
            j->p++;
        ok = j->p > s;
    }
    j->depth--;
    return ok;
}

static int
json_valid(const char *s, size_t n)
{
    struct jr j = {s, s + n, 0};

    if (!jr_value(&j))
        return 0;
    jr_ws(&j);
    return j.p == j.e;
}

/*
 * top_value - the text of the value of top-level key `key`, as a string;
 * "" when absent. Walks the object with the reader above.
 */
static const char *
top_value(const char *s, size_t n, const char *key)
{
    static char out[4096];
    struct jr j = {s, s + n, 0};
    const char *k, *kend, *v;

    out[0] = '\0';
    jr_ws(&j);
    if (j.p >= j.e || *j.p != '{')
        return out;
    j.p++;
    for (;;) {
        jr_ws(&j);
        k = j.p;
        if (!jr_string(&j))
            return out;
        kend = j.p;
        jr_ws(&j);
        j.p++; /* ':' */
        jr_ws(&j);
        v = j.p;
        if (!jr_value(&j))
            return out;
        if ((size_t)(kend - k) == strlen(key) + 2 && memcmp(k + 1, key, strlen(key)) == 0) {
            size_t len = TM_MIN((size_t)(j.p - v), sizeof(out) - 1);
            memcpy(out, v, len);
            out[len] = '\0';
            return out;
        }
        jr_ws(&j);
        if (j.p >= j.e || *j.p != ',')
            return out;
        j.p++;
    }
}

static const char msg[] = "From: Alice <alice@example.org>\r\n"
                          "To: bob@example.net\r\n"
                          "Subject: Hello\r\n"
                          "Message-ID: <id42@example.org>\r\n"
                          "MIME-Version: 1.0\r\n"
                          "Content-Type: text/html\r\n"
                          "\r\n"
                          "<p>Visit <a href=\"http://www.Example.COM/a?b=1\">x</a> or "
                          "http://www.example.com/a?b=1 and <a href=\"https://z.example/\">z</a>"
                          "<a href=\"mailto:info@shop.example?subject=x\">mail</a>"
                          "<a href=\"MAILTO:info@Shop.example\">mail</a></p>\r\n";

/* split - header block and body of a response; checks the framing */
static int
split(const struct tm_buf *b, const char **body, size_t *blen)
{
    const char *s = (const char *)b->data, *hend;
    char want[64];

    hend = strstr(s, "\r\n\r\n");
    if (hend == NULL)
        return 0;
    *body = hend + 4;
    *blen = b->len - (size_t)(*body - s);
    snprintf(want, sizeof(want), "\r\nContent-Length: %zu\r\n", *blen);
    return strncmp(s, "HTTP/1.1 200 OK\r\n", 17) == 0 && strstr(s, want) != NULL &&
           strstr(s, "\r\nContent-Type: application/json\r\n") != NULL;
}

TM_TEST(http_checkv2_json)
{
    struct tm_engine *e = engine();
    struct tm_task *t = task(e);
    struct tm_http_req r;
    struct tm_verdict v;
    struct tm_symbol sy[2];
    static const char *const opts[] = {"a", "b\"q"};
    struct tm_buf b;
    const char *body;
    size_t blen, used;

    memset(&r, 0, sizeof(r));
    REQUIRE(t != NULL);
    TRY(tm_mime_parse(t, (const unsigned char *)msg, sizeof(msg) - 1) == TM_OK);
    memset(&v, 0, sizeof(v));
    memset(sy, 0, sizeof(sy));
    sy[0].name = "GTUBE";
    sy[0].score = 15.0;
    sy[0].description = "GTUBE test pattern";
    sy[1].name = "MISSING_DATE";
    sy[1].score = 0.5;
    sy[1].options = opts;
    sy[1].noptions = 2;
    v.syms = sy;
    v.n = 2;
    v.score = 15.5;
    v.required = 15.0;
    v.action = TM_ACT_REJECT;
    v.smtp_reply = "554 5.7.1 Gtube pattern";

    TRY(tm_http_init(&r, NULL) == TM_OK);
    TRY(feed(&r, rspamc_req, sizeof(rspamc_req) - 1, 0, &used, NULL) == TM_HTTP_COMPLETE);
    tm_buf_init(&b, t->arena, 1u << 20);
    TRY(tm_http_checkv2(t, &v, &r, 12.0, &b) == TM_OK);
    TRY(split(&b, &body, &blen));
    CHECK(strstr((const char *)b.data, "\r\nConnection: close\r\n") != NULL);
    TRY(json_valid(body, blen));
    CHECK_STR(top_value(body, blen, "is_skipped"), "false");
    CHECK_STR(top_value(body, blen, "score"), "15.5");
    CHECK_STR(top_value(body, blen, "required_score"), "15.0");
    CHECK_STR(top_value(body, blen, "action"), "\"reject\"");
    CHECK_STR(top_value(body, blen, "symbols"),
              "{\"GTUBE\":{\"name\":\"GTUBE\",\"score\":15.0,\"metric_score\":15.0,"
              "\"description\":\"GTUBE test pattern\"},"
              "\"MISSING_DATE\":{\"name\":\"MISSING_DATE\",\"score\":0.5,\"metric_score\":0.5,"
              "\"options\":[\"a\",\"b\\\"q\"]}}");
    CHECK_STR(top_value(body, blen, "messages"), "{\"smtp_message\":\"554 5.7.1 Gtube pattern\"}");
    CHECK_STR(top_value(body, blen, "message-id"), "\"id42@example.org\"");
    CHECK_STR(top_value(body, blen, "time_real"), "0.012");
    CHECK_STR(top_value(body, blen, "urls"),
              "[\"http://www.example.com/a?b=1\",\"https://z.example/\"]");
    CHECK_STR(top_value(body, blen, "emails"), "[\"info@shop.example\"]");
    CHECK(strncmp(top_value(body, blen, "milter"),
                  "{\"add_headers\":{\"X-Spam-Status\":"
                  "{\"value\":\"Yes, score=15.5 required=15.0 tests=GTUBE,MISSING_DATE\","
                  "\"order\":0},",
                  80) == 0);
    CHECK(strstr(top_value(body, blen, "milter"),
                 "\"X-Spam-Flag\":{\"value\":\"YES\",\"order\":3}") != NULL);
    CHECK(strstr(top_value(body, blen, "milter"), "\"X-Spam-Score\":{\"value\":\"15.5\"") != NULL);
    CHECK(strstr(top_value(body, blen, "milter"), ",\"reject\":") == NULL);
    CHECK(strstr(top_value(body, blen, "tamis"), "\"action\":\"reject\"") != NULL);
    CHECK_STR(top_value(body, blen, "subject"), "");

    /* quarantine: rspamd's "reject" with milter.reject = quarantine */
    v.action = TM_ACT_QUARANTINE;
    v.smtp_reply = NULL;
    tm_buf_init(&b, t->arena, 1u << 20);
    TRY(tm_http_checkv2(t, &v, NULL, 0.5, &b) == TM_OK);
    TRY(split(&b, &body, &blen));
    TRY(json_valid(body, blen));
    CHECK_STR(top_value(body, blen, "action"), "\"reject\"");
    CHECK_STR(top_value(body, blen, "messages"), "{}");
    CHECK(strstr(top_value(body, blen, "milter"), ",\"reject\":\"quarantine\"}") != NULL);
    CHECK(strstr(top_value(body, blen, "tamis"), "\"action\":\"quarantine\"") != NULL);

    /* rewrite subject carries the new Subject */
    v.action = TM_ACT_REWRITE_SUBJECT;
    tm_buf_init(&b, t->arena, 1u << 20);
    TRY(tm_http_checkv2(t, &v, NULL, 0.5, &b) == TM_OK);
    TRY(split(&b, &body, &blen));
    TRY(json_valid(body, blen));
    CHECK_STR(top_value(body, blen, "action"), "\"rewrite subject\"");
    CHECK_STR(top_value(body, blen, "subject"), "\"*** SPAM *** Hello\"");

    /* too small a cap: TM_ELIMIT and nothing written */
    tm_buf_init(&b, t->arena, 100);
    CHECK_EQ_INT(tm_http_checkv2(t, &v, NULL, 0.5, &b), TM_ELIMIT);
    CHECK_EQ_SIZE(b.len, 0);
out:
    tm_http_free(&r);
    tm_task_free(t);
    tm_engine_unref(e);
}

TM_TEST(http_checkv2_no_verdict)
{
    struct tm_engine *e = engine();
    struct tm_task *t = task(e);
    struct tm_http_cfg cfg;
    struct tm_http_req r;
    struct tm_buf b;
    const char *body;
    size_t blen, used;
    static const char nomid[] = "Subject: x\r\n\r\nno links\r\n";
    static const char req[] = "POST /checkv2 HTTP/1.1\r\nContent-Length: 1\r\n\r\nx";

    memset(&r, 0, sizeof(r));
    REQUIRE(t != NULL);
    TRY(tm_mime_parse(t, (const unsigned char *)nomid, sizeof(nomid) - 1) == TM_OK);
    tm_http_cfg_default(&cfg);
    cfg.tamis_object = 0;
    TRY(tm_http_init(&r, &cfg) == TM_OK);
    TRY(feed(&r, req, sizeof(req) - 1, 0, &used, NULL) == TM_HTTP_COMPLETE);
    tm_buf_init(&b, t->arena, 1u << 20);
    TRY(tm_http_checkv2(t, NULL, &r, 0, &b) == TM_OK);
    TRY(split(&b, &body, &blen));
    CHECK(strstr((const char *)b.data, "\r\nConnection: keep-alive\r\n") != NULL);
    TRY(json_valid(body, blen));
    CHECK_STR(top_value(body, blen, "action"), "\"no action\"");
    CHECK_STR(top_value(body, blen, "score"), "0.0");
    CHECK_STR(top_value(body, blen, "symbols"), "{}");
    CHECK_STR(top_value(body, blen, "message-id"), "\"undef\"");
    CHECK_STR(top_value(body, blen, "urls"), "[]");
    CHECK_STR(top_value(body, blen, "emails"), "[]");
    CHECK_STR(top_value(body, blen, "tamis"), "");
out:
    tm_http_free(&r);
    tm_task_free(t);
    tm_engine_unref(e);
}

const struct tm_test tests_http[] = {
    TM_TEST_ENTRY(http_rspamc_request),
    TM_TEST_ENTRY(http_curl_request),
    TM_TEST_ENTRY(http_chunked_expect_continue),
    TM_TEST_ENTRY(http_no_continue_without_body),
    TM_TEST_ENTRY(http_pipelined),
    TM_TEST_ENTRY(http_misc_forms),
    TM_TEST_ENTRY(http_error_statuses),
    TM_TEST_ENTRY(http_limits),
    TM_TEST_ENTRY(http_alloc_failure),
    TM_TEST_ENTRY(http_responses),
    TM_TEST_ENTRY(http_checkv2_json),
    TM_TEST_ENTRY(http_checkv2_no_verdict),
    TM_TEST_END,
};
