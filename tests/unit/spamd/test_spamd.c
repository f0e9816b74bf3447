/*
 * test_spamd.c - the SPAMC/SPAMD codec (scanner/proto/spamd.c). Expected
 * bytes are written by hand from protocols.md section 2 (the request spamc
 * 4.0.1 was seen to send, the per-method and per-version answer layouts of
 * 2.2, Exim's SPAMC/1.2 REPORT shape of 2.4), not produced by the code.
 * Requests are parsed whole and fed one byte at a time; limits are tested
 * with a small max_message.
 */
#include "harness.h"
#include "suites.h"

#include <stdio.h>
#include <string.h>

#include <zlib.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/limits.h"
#include "core/task.h"
#include "proto/spamd.h"
#include "verdict/verdict.h"

#define MAX_MSG 1000u

/* A string literal as (const char *, length). */
#define LIT(s) (s), (sizeof(s) - 1)

/* A message of exactly 127 bytes, as in the spamc capture of protocols.md 2.3. */
#define MSG127                                                          \
    "From: a@example.com\r\nTo: b@example.com\r\nSubject: test\r\n\r\n" \
    "This is the body of a small test message, padded to 127 bytes......!\r\n"

struct req {
    struct tm_spamd s;
    tm_rc rc;
    int done;
};

/* parse - feed req whole (step 0) or in pieces of step bytes; eof when asked and not done */
static void
parse(struct req *r, const char *req, size_t n, size_t step, int eof, size_t max)
{
    struct tm_spamd_cfg cfg;
    size_t i;

    cfg.max_message = max;
    r->done = 0;
    r->rc = tm_spamd_init(&r->s, &cfg);
    if (r->rc != TM_OK)
        return;
    if (step == 0)
        step = n;
    for (i = 0; i < n && !r->done; i += step) {
        r->rc = tm_spamd_feed(&r->s, (const unsigned char *)req + i, TM_MIN(step, n - i), &r->done);
        if (r->rc != TM_OK && !r->done)
            tm_test_fail(__FILE__, __LINE__, "error rc %d without done", (int)r->rc);
    }
    if (!r->done && eof)
        r->rc = tm_spamd_eof(&r->s, &r->done);
}

static void
check_error(const char *req, size_t n, tm_rc want_rc, const char *want)
{
    struct req r;
    struct tm_arena *a = tm_arena_new(1u << 20);
    struct tm_buf out;
    size_t step;

    for (step = 0; step <= 1; step++) {
        parse(&r, req, n, step, 1, MAX_MSG);
        CHECK_EQ_INT(r.rc, want_rc);
        CHECK(r.done);
        tm_buf_init(&out, a, 4096);
        CHECK_EQ_INT(tm_spamd_error(&r.s, &out), TM_OK);
        CHECK_MEM(out.data, out.len, want, strlen(want));
        tm_spamd_free(&r.s);
    }
    tm_arena_free(a);
}

TM_TEST(spamd_check_request_as_spamc_sends_it)
{
    static const char req[] = "CHECK SPAMC/1.5\r\nUser: root\r\nContent-length: 127\r\n\r\n" MSG127;
    struct req r;
    const unsigned char *m;
    size_t len, step;

    CHECK_EQ_SIZE(sizeof(MSG127) - 1, 127);
    for (step = 0; step <= 1; step++) {
        parse(&r, req, sizeof(req) - 1, step, 0, MAX_MSG);
        CHECK_EQ_INT(r.rc, TM_OK);
        CHECK(r.done);
        CHECK_EQ_INT(tm_spamd_method(&r.s), TM_SPAMD_CHECK);
        CHECK_EQ_INT(tm_spamd_version_minor(&r.s), 5);
        CHECK_STR(tm_spamd_user(&r.s), "root");
        CHECK(tm_spamd_needs_scan(&r.s));
        m = tm_spamd_message(&r.s, &len);
        CHECK_MEM(m, len, MSG127, 127);
        tm_spamd_free(&r.s);
    }
}

TM_TEST(spamd_every_method_parses)
{
    static const struct {
        const char *line;
        enum tm_spamd_method m;
        unsigned minor;
        int scan;
    } t[] = {
        {"CHECK SPAMC/1.5", TM_SPAMD_CHECK, 5, 1},
        {"SYMBOLS SPAMC/1.5", TM_SPAMD_SYMBOLS, 5, 1},
        {"REPORT SPAMC/1.2", TM_SPAMD_REPORT, 2, 1},
        {"REPORT_IFSPAM SPAMC/1.5", TM_SPAMD_REPORT_IFSPAM, 5, 1},
        {"PROCESS SPAMC/1.0", TM_SPAMD_PROCESS, 0, 1},
        {"HEADERS SPAMC/1.4", TM_SPAMD_HEADERS, 4, 1},
        {"TELL SPAMC/1.5", TM_SPAMD_TELL, 5, 0},
    };
    char req[256];
    struct req r;
    const unsigned char *m;
    size_t i, len, n, step;

    for (i = 0; i < TM_NELEM(t); i++) {
        n = (size_t)snprintf(req, sizeof(req), "%s\r\nUser: u\r\nContent-length: 4\r\n\r\nab\r\n",
                             t[i].line);
        for (step = 0; step <= 1; step++) {
            parse(&r, req, n, step, 0, MAX_MSG);
            CHECK_EQ_INT(r.rc, TM_OK);
            CHECK(r.done);
            CHECK_EQ_INT(tm_spamd_method(&r.s), t[i].m);
            CHECK_EQ_INT(tm_spamd_version_minor(&r.s), t[i].minor);
            CHECK_EQ_INT(tm_spamd_needs_scan(&r.s), t[i].scan);
            m = tm_spamd_message(&r.s, &len);
            CHECK_MEM(m, len, "ab\r\n", 4);
            tm_spamd_free(&r.s);
        }
    }
}

TM_TEST(spamd_ping_skip_tell_answers)
{
    struct req r;
    struct tm_arena *a = tm_arena_new(1u << 20);
    struct tm_buf out;
    size_t step;

    REQUIRE(a != NULL);
    for (step = 0; step <= 1; step++) {
        parse(&r, LIT("PING SPAMC/1.5\r\n\r\n"), step, 0, MAX_MSG);
        CHECK_EQ_INT(r.rc, TM_OK);
        CHECK(r.done);
        CHECK_EQ_INT(tm_spamd_method(&r.s), TM_SPAMD_PING);
        CHECK(!tm_spamd_needs_scan(&r.s));
        tm_buf_init(&out, a, 4096);
        CHECK_EQ_INT(tm_spamd_respond(&r.s, NULL, NULL, &out), TM_OK);
        CHECK_MEM(out.data, out.len, "SPAMD/1.5 0 PONG\r\n", 18);
        tm_spamd_free(&r.s);
    }
    parse(&r, LIT("SKIP SPAMC/1.5\r\n\r\n"), 0, 0, MAX_MSG);
    CHECK(r.done);
    tm_buf_init(&out, a, 4096);
    CHECK_EQ_INT(tm_spamd_respond(&r.s, NULL, NULL, &out), TM_OK);
    CHECK_EQ_SIZE(out.len, 0);
    tm_spamd_free(&r.s);
    parse(&r,
          LIT("TELL SPAMC/1.5\r\nMessage-class: spam\r\nSet: local\r\nContent-length: 2\r\n\r\n"
              "x\n"),
          0, 0, MAX_MSG);
    CHECK(r.done);
    tm_buf_init(&out, a, 4096);
    CHECK_EQ_INT(tm_spamd_respond(&r.s, NULL, NULL, &out), TM_OK);
    CHECK_STR(tm_buf_cstr(&out), "SPAMD/1.0 69 Service Unavailable: TELL commands are not "
                                 "enabled (learning is not supported)\r\n");
    tm_spamd_free(&r.s);
    tm_arena_free(a);
}

TM_TEST(spamd_bad_request_lines)
{
    check_error(LIT("FOO SPAMC/1.5\r\n\r\n"), TM_EPROTO,
                "SPAMD/1.0 76 Bad header line: FOO SPAMC/1.5\r\n");
    check_error(LIT("check SPAMC/1.5\r\n\r\n"), TM_EPROTO,
                "SPAMD/1.0 76 Bad header line: check SPAMC/1.5\r\n");
    check_error(LIT("CHECK SPAMC/2.0\r\n\r\n"), TM_EPROTO,
                "SPAMD/1.0 76 Bad header line: CHECK SPAMC/2.0\r\n");
    check_error(LIT("CHECK SPAMC/1.6\r\n\r\n"), TM_EPROTO,
                "SPAMD/1.0 76 Bad header line: CHECK SPAMC/1.6\r\n");
    check_error(LIT("CHECK SPAMC/1.\r\n\r\n"), TM_EPROTO,
                "SPAMD/1.0 76 Bad header line: CHECK SPAMC/1.\r\n");
    check_error(LIT("CHECK  SPAMC/1.5\r\n\r\n"), TM_EPROTO,
                "SPAMD/1.0 76 Bad header line: CHECK  SPAMC/1.5\r\n");
    check_error(LIT("CHECK RSPAMC/1.3\r\n\r\n"), TM_EPROTO,
                "SPAMD/1.0 76 Bad header line: CHECK RSPAMC/1.3\r\n");
    check_error(LIT("CHECK SPAMC/1.5 x\r\n\r\n"), TM_EPROTO,
                "SPAMD/1.0 76 Bad header line: CHECK SPAMC/1.5 x\r\n");
    check_error(LIT("GET / HTTP/1.1\r\n\x01\r\n"), TM_EPROTO,
                "SPAMD/1.0 76 Bad header line: GET / HTTP/1.1\r\n");
    check_error(LIT("\x80\x01 SPAMC/1.5\r\n"), TM_EPROTO,
                "SPAMD/1.0 76 Bad header line: ?? SPAMC/1.5\r\n");
    /* headers */
    check_error(LIT("CHECK SPAMC/1.5\r\nno colon here\r\n\r\n"), TM_EPROTO,
                "SPAMD/1.0 76 Bad header line: no colon here\r\n");
    check_error(LIT("CHECK SPAMC/1.5\r\nContent-length: 12x\r\n\r\n"), TM_EPROTO,
                "SPAMD/1.0 76 Bad header line: Content-length: 12x\r\n");
    check_error(LIT("CHECK SPAMC/1.5\r\nContent-length: 1\r\nContent-length: 1\r\n\r\nx"),
                TM_EPROTO, "SPAMD/1.0 76 Bad header line: (duplicate Content-length)\r\n");
    check_error(LIT("CHECK SPAMC/1.5\r\nUser: ro\x01ot\r\n\r\n"), TM_EPROTO,
                "SPAMD/1.0 76 Bad header line: (control character in User)\r\n");
    check_error(LIT("CHECK SPAMC/1.5\r\nCompress: gzip\r\nContent-length: 1\r\n\r\nx"), TM_EPROTO,
                "SPAMD/1.0 76 Bad header line: Compress: gzip\r\n");
    /* the client closed early */
    check_error(LIT("CHECK SPAMC/1.5\r\nUser: root\r\n"), TM_EPROTO,
                "SPAMD/1.0 76 Bad header line: (end of input before end of headers)\r\n");
}

TM_TEST(spamd_content_length_limits)
{
    /* over max_message: 65, decided from the header, no body read */
    check_error(LIT("CHECK SPAMC/1.5\r\nContent-length: 1001\r\n\r\n"), TM_ELIMIT,
                "SPAMD/1.0 65 Data error: message too big (1001 bytes, limit 1000)\r\n");
    check_error(LIT("CHECK SPAMC/1.5\r\nContent-length: 99999999999999999999\r\n\r\n"), TM_EPROTO,
                "SPAMD/1.0 76 Bad header line: Content-length: 99999999999999999999\r\n");
    /* shorter body than announced, then EOF */
    check_error(LIT("CHECK SPAMC/1.5\r\nContent-length: 10\r\n\r\nabc"), TM_EPROTO,
                "SPAMD/1.0 76 Bad header line: (Content-Length mismatch: Expected 10 bytes, "
                "got 3 bytes)\r\n");
}

TM_TEST(spamd_exact_max_and_zero_length)
{
    static char req[64 + MAX_MSG];
    struct req r;
    const unsigned char *m;
    size_t n, len;

    n = (size_t)snprintf(req, sizeof(req), "SYMBOLS SPAMC/1.5\r\nContent-length: %u\r\n\r\n",
                         MAX_MSG);
    memset(req + n, 'x', MAX_MSG);
    parse(&r, req, n + MAX_MSG, 0, 0, MAX_MSG);
    CHECK_EQ_INT(r.rc, TM_OK);
    CHECK(r.done);
    m = tm_spamd_message(&r.s, &len);
    CHECK(m != NULL && len == MAX_MSG && m[0] == 'x' && m[MAX_MSG - 1] == 'x');
    tm_spamd_free(&r.s);

    parse(&r, LIT("CHECK SPAMC/1.5\r\nContent-length: 0\r\n\r\n"), 0, 0, MAX_MSG);
    CHECK_EQ_INT(r.rc, TM_OK);
    CHECK(r.done);
    m = tm_spamd_message(&r.s, &len);
    CHECK(m != NULL);
    CHECK_EQ_SIZE(len, 0);
    tm_spamd_free(&r.s);
}

TM_TEST(spamd_missing_content_length_reads_to_eof)
{
    struct req r;
    const unsigned char *m;
    size_t len, step;

    for (step = 0; step <= 1; step++) {
        parse(&r, LIT("PROCESS SPAMC/1.0\r\n\r\nSubject: x\r\n\r\nhi\r\n"), step, 0, MAX_MSG);
        CHECK_EQ_INT(r.rc, TM_OK);
        CHECK(!r.done); /* waits for the half-close */
        r.rc = tm_spamd_eof(&r.s, &r.done);
        CHECK_EQ_INT(r.rc, TM_OK);
        CHECK(r.done);
        m = tm_spamd_message(&r.s, &len);
        CHECK_MEM(m, len, "Subject: x\r\n\r\nhi\r\n", 18);
        tm_spamd_free(&r.s);
    }
    /* and stays within max_message */
    {
        static char req[64 + MAX_MSG + 1];
        size_t n = (size_t)snprintf(req, sizeof(req), "CHECK SPAMC/1.5\r\n\r\n");
        memset(req + n, 'x', MAX_MSG + 1);
        parse(&r, req, n + MAX_MSG + 1, 0, 1, MAX_MSG);
        CHECK_EQ_INT(r.rc, TM_ELIMIT);
        CHECK(r.done);
        tm_spamd_free(&r.s);
    }
}

TM_TEST(spamd_lf_only_and_trailing_bytes)
{
    struct req r;
    const unsigned char *m;
    size_t len, step;

    for (step = 0; step <= 1; step++) {
        parse(&r, LIT("SYMBOLS SPAMC/1.3\nuser:  bob  \nCONTENT-LENGTH: 3\n\nabcEXTRA"), step, 0,
              MAX_MSG);
        CHECK_EQ_INT(r.rc, TM_OK);
        CHECK(r.done);
        CHECK_STR(tm_spamd_user(&r.s), "bob");
        m = tm_spamd_message(&r.s, &len);
        CHECK_MEM(m, len, "abc", 3);
        if (step == 0)
            CHECK_EQ_SIZE(r.s.extra, 5);
        /* more bytes after done are ignored */
        CHECK_EQ_INT(tm_spamd_feed(&r.s, TM_LIT("more"), &r.done), TM_OK);
        CHECK(r.done);
        tm_spamd_free(&r.s);
    }
    /* no User header: NULL; unknown headers ignored */
    parse(&r, LIT("CHECK SPAMC/1.5\r\nX-Whatever: 1\r\nContent-length: 1\r\n\r\nz"), 0, 0, MAX_MSG);
    CHECK_EQ_INT(r.rc, TM_OK);
    CHECK(tm_spamd_user(&r.s) == NULL);
    tm_spamd_free(&r.s);
}

TM_TEST(spamd_head_limits)
{
    static char req[TM_SPAMD_MAX_LINE + 200];
    struct req r;
    size_t n, i;

    /* a header line of exactly TM_SPAMD_MAX_LINE bytes passes, one more does not */
    for (i = 0; i < 2; i++) {
        n = (size_t)snprintf(req, sizeof(req), "CHECK SPAMC/1.5\r\nX-Pad: ");
        memset(req + n, 'p', TM_SPAMD_MAX_LINE - 7 + i);
        n += TM_SPAMD_MAX_LINE - 7 + i;
        n += (size_t)snprintf(req + n, sizeof(req) - n, "\r\nContent-length: 1\r\n\r\nz");
        parse(&r, req, n, 0, 1, MAX_MSG);
        CHECK_EQ_INT(r.rc, i == 0 ? TM_OK : TM_ELIMIT);
        CHECK(r.done);
        tm_spamd_free(&r.s);
    }
    /* 64 header lines pass, 65 do not */
    for (i = 0; i < 2; i++) {
        size_t k;
        n = (size_t)snprintf(req, sizeof(req), "CHECK SPAMC/1.5\r\n");
        for (k = 0; k < TM_SPAMD_MAX_HEADERS - 1 + i; k++)
            n += (size_t)snprintf(req + n, sizeof(req) - n, "X: %zu\r\n", k);
        n += (size_t)snprintf(req + n, sizeof(req) - n, "Content-length: 1\r\n\r\nz");
        parse(&r, req, n, 0, 1, MAX_MSG);
        CHECK_EQ_INT(r.rc, i == 0 ? TM_OK : TM_ELIMIT);
        tm_spamd_free(&r.s);
    }
    check_error(LIT("CHECK SPAMC/1.5\r\n"), TM_EPROTO,
                "SPAMD/1.0 76 Bad header line: (end of input before end of headers)\r\n");
}

/* zreq - a request whose body is msg deflated with compress2 (what spamc -z does) */
static size_t
zreq(char *req, size_t cap, const char *method, const unsigned char *msg, size_t len)
{
    unsigned char z[4096];
    uLongf zlen = sizeof(z);
    size_t n;

    if (compress2(z, &zlen, msg, (uLong)len, 6) != Z_OK)
        return 0;
    n = (size_t)snprintf(req, cap,
                         "%s SPAMC/1.5\r\nUser: root\r\nCompress: zlib\r\n"
                         "Content-length: %lu\r\n\r\n",
                         method, (unsigned long)zlen);
    if (n + zlen > cap)
        return 0;
    memcpy(req + n, z, zlen);
    return n + zlen;
}

TM_TEST(spamd_compressed_body)
{
    static char req[8192];
    static unsigned char big[MAX_MSG + 1];
    struct req r;
    const unsigned char *m;
    size_t n, len, step;

    n = zreq(req, sizeof(req), "CHECK", (const unsigned char *)MSG127, 127);
    REQUIRE(n > 0);
    for (step = 0; step <= 1; step++) {
        parse(&r, req, n, step, 0, MAX_MSG);
        CHECK_EQ_INT(r.rc, TM_OK);
        CHECK(r.done);
        m = tm_spamd_message(&r.s, &len);
        CHECK_MEM(m, len, MSG127, 127);
        tm_spamd_free(&r.s);
    }
    /* exactly max_message decompressed is fine, one more byte is 65 */
    memset(big, 'a', sizeof(big));
    n = zreq(req, sizeof(req), "CHECK", big, MAX_MSG);
    parse(&r, req, n, 0, 0, MAX_MSG);
    CHECK_EQ_INT(r.rc, TM_OK);
    m = tm_spamd_message(&r.s, &len);
    CHECK_EQ_SIZE(len, MAX_MSG);
    tm_spamd_free(&r.s);
    n = zreq(req, sizeof(req), "CHECK", big, MAX_MSG + 1);
    check_error(req, n, TM_ELIMIT, "SPAMD/1.0 65 Data error: decompressed message too big\r\n");
    /* a broken and a truncated stream */
    n = zreq(req, sizeof(req), "CHECK", (const unsigned char *)MSG127, 127);
    req[n - 3] ^= 0x55;
    check_error(req, n, TM_EPROTO, "SPAMD/1.0 65 Data error: bad zlib data\r\n");
    check_error(LIT("CHECK SPAMC/1.5\r\nCompress: zlib\r\nContent-length: 0\r\n\r\n"), TM_EPROTO,
                "SPAMD/1.0 65 Data error: bad zlib data\r\n");
    check_error(LIT("CHECK SPAMC/1.5\r\nCompress: zlib\r\nContent-length: 3\r\n\r\nabc"), TM_EPROTO,
                "SPAMD/1.0 65 Data error: bad zlib data\r\n");
}

/* ---- answers ------------------------------------------------------------ */

struct fixture {
    struct tm_engine *eng;
    struct tm_task *t;
    struct tm_symbol syms[2];
    struct tm_verdict v;
    struct tm_buf out;
};

/* setup - verdict 7.4 / 5.0 "add header", RULE_B 4.0 then RULE_A 3.4 (score order) */
static int
setup(struct fixture *f)
{
    struct tm_limits lim = tm_limits_default();

    memset(f, 0, sizeof(*f));
    if ((f->eng = tm_engine_new_bare(&lim)) == NULL || (f->t = tm_task_new(f->eng)) == NULL)
        return 0;
    f->syms[0].name = "RULE_B";
    f->syms[0].score = 4.0;
    f->syms[0].description = "Second rule";
    f->syms[1].name = "RULE_A";
    f->syms[1].score = 3.4;
    f->syms[1].description = "First rule";
    f->v.syms = f->syms;
    f->v.n = 2;
    f->v.score = 7.4;
    f->v.required = 5.0;
    f->v.action = TM_ACT_ADD_HEADER;
    tm_buf_init(&f->out, f->t->arena, 1u << 20);
    return 1;
}

static void
teardown(struct fixture *f)
{
    tm_task_free(f->t);
    tm_engine_unref(f->eng);
}

/* answer - parse req (whole, then byte by byte: same answer) and respond with f->v */
static void
answer(struct fixture *f, const char *req, size_t n, const char *want, size_t wantlen)
{
    struct req r;
    size_t step;

    for (step = 0; step <= 1; step++) {
        parse(&r, req, n, step, 1, MAX_MSG);
        CHECK_EQ_INT(r.rc, TM_OK);
        CHECK(r.done);
        f->out.len = 0;
        CHECK_EQ_INT(tm_spamd_respond(&r.s, f->t, &f->v, &f->out), TM_OK);
        CHECK_MEM(f->out.data, f->out.len, want, wantlen);
        tm_spamd_free(&r.s);
    }
}

#define ANSWER(f, req, want) answer((f), (req), sizeof(req) - 1, (want), sizeof(want) - 1)

#define REPORT_SPAM                                                                    \
    "Content analysis details:   (7.4 points, 5.0 required)\n"                         \
    "\n"                                                                               \
    " pts rule name              description\n"                                        \
    "---- ---------------------- --------------------------------------------------\n" \
    " 4.0 RULE_B                 Second rule\n"                                        \
    " 3.4 RULE_A                 First rule\n"

TM_TEST(spamd_answer_check_symbols)
{
    struct fixture f;

    REQUIRE(setup(&f));
    ANSWER(&f, "CHECK SPAMC/1.5\r\nUser: root\r\nContent-length: 2\r\n\r\nx\n",
           "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 7.4 / 5.0\r\n\r\n");
    /* SYMBOLS: sorted names, no trailing CRLF for >= 1.3 */
    ANSWER(&f, "SYMBOLS SPAMC/1.5\r\nContent-length: 2\r\n\r\nx\n",
           "SPAMD/1.1 0 EX_OK\r\nContent-length: 13\r\nSpam: True ; 7.4 / 5.0\r\n\r\n"
           "RULE_A,RULE_B");
    ANSWER(&f, "SYMBOLS SPAMC/1.2\r\nContent-length: 2\r\n\r\nx\n",
           "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 7.4 / 5.0\r\n\r\nRULE_A,RULE_B\r\n");
    /* ham, no symbols */
    f.v.n = 0;
    f.v.score = 1.04;
    f.v.action = TM_ACT_NONE;
    ANSWER(&f, "CHECK SPAMC/1.5\r\nContent-length: 2\r\n\r\nx\n",
           "SPAMD/1.1 0 EX_OK\r\nSpam: False ; 1.0 / 5.0\r\n\r\n");
    ANSWER(&f, "SYMBOLS SPAMC/1.5\r\nContent-length: 2\r\n\r\nx\n",
           "SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: False ; 1.0 / 5.0\r\n\r\n");
    f.v.score = -2.25;
    ANSWER(&f, "CHECK SPAMC/1.5\r\nContent-length: 2\r\n\r\nx\n",
           "SPAMD/1.1 0 EX_OK\r\nSpam: False ; -2.3 / 5.0\r\n\r\n");
    teardown(&f);
}

TM_TEST(spamd_answer_score_agrees_with_word)
{
    struct fixture f;

    REQUIRE(setup(&f));
    /* not spam by action, but 5.0 >= 5.0 would make Exim say spam: shown as 4.9 */
    f.v.score = 4.97;
    f.v.action = TM_ACT_NONE;
    ANSWER(&f, "CHECK SPAMC/1.5\r\nContent-length: 2\r\n\r\nx\n",
           "SPAMD/1.1 0 EX_OK\r\nSpam: False ; 4.9 / 5.0\r\n\r\n");
    /* rejected by a forced action with a low score: shown at the threshold */
    f.v.score = 0;
    f.v.action = TM_ACT_REJECT;
    ANSWER(&f, "CHECK SPAMC/1.5\r\nContent-length: 2\r\n\r\nx\n",
           "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 5.0 / 5.0\r\n\r\n");
    teardown(&f);
}

TM_TEST(spamd_answer_report)
{
    static const char rep13[] = "SPAMD/1.1 0 EX_OK\r\nContent-length: 254\r\n"
                                "Spam: True ; 7.4 / 5.0\r\n\r\n" REPORT_SPAM;
    static const char rep12[] = "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 7.4 / 5.0\r\n\r\n" REPORT_SPAM;
    struct fixture f;

    REQUIRE(setup(&f));
    CHECK_EQ_SIZE(sizeof(REPORT_SPAM) - 1, 254);
    ANSWER(&f, "REPORT SPAMC/1.5\r\nContent-length: 2\r\n\r\nx\n", rep13);
    ANSWER(&f, "REPORT_IFSPAM SPAMC/1.5\r\nContent-length: 2\r\n\r\nx\n", rep13);
    /* Exim: REPORT SPAMC/1.2, the Spam: line right after the status line */
    ANSWER(&f, "REPORT SPAMC/1.2\r\nUser: nobody\r\nContent-length: 2\r\n\r\nx\n", rep12);
    /* ham: REPORT_IFSPAM has an empty report */
    f.v.score = 1.0;
    f.v.action = TM_ACT_NONE;
    ANSWER(&f, "REPORT_IFSPAM SPAMC/1.5\r\nContent-length: 2\r\n\r\nx\n",
           "SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: False ; 1.0 / 5.0\r\n\r\n");
    f.v.n = 0;
    ANSWER(&f, "REPORT SPAMC/1.5\r\nContent-length: 2\r\n\r\nx\n",
           "SPAMD/1.1 0 EX_OK\r\nContent-length: 175\r\nSpam: False ; 1.0 / 5.0\r\n\r\n"
           "Content analysis details:   (1.0 points, 5.0 required)\n"
           "\n"
           " pts rule name              description\n"
           "---- ---------------------- --------------------------------------------------\n");
    /* a score that does not fit " pts" with one decimal: whole points, as SpamAssassin */
    f.v.n = 1;
    f.syms[0].name = "GTUBE";
    f.syms[0].score = 1000;
    f.syms[0].description = "BODY: Generic Test\tfor\nUBE";
    f.v.score = 1000;
    f.v.action = TM_ACT_REJECT;
    ANSWER(&f, "REPORT SPAMC/1.5\r\nContent-length: 2\r\n\r\nx\n",
           "SPAMD/1.1 0 EX_OK\r\nContent-length: 233\r\nSpam: True ; 1000.0 / 5.0\r\n\r\n"
           "Content analysis details:   (1000.0 points, 5.0 required)\n"
           "\n"
           " pts rule name              description\n"
           "---- ---------------------- --------------------------------------------------\n"
           "1000 GTUBE                  BODY: Generic Test for UBE\n");
    teardown(&f);
}

#define SPAM_HDRS_CRLF                                                   \
    "X-Spam-Status: Yes, score=7.4 required=5.0 tests=RULE_A,RULE_B\r\n" \
    "X-Spam-Score: 7.4\r\n"                                              \
    "X-Spam-Action: add header\r\n"                                      \
    "X-Spam-Flag: YES\r\n"

TM_TEST(spamd_answer_process_headers_crlf)
{
    /* the message: 73 bytes; its own X-Spam-Flag (folded) is dropped */
#define MSG_CRLF \
    "From: a@example.com\r\nX-Spam-Flag: NO\r\n\tfolded\r\nSubject: hi\r\n\r\nbody line\r\n"
#define NEW_HEAD SPAM_HDRS_CRLF "From: a@example.com\r\nSubject: hi\r\n\r\n"
    static const char req[] = "PROCESS SPAMC/1.5\r\nContent-length: 73\r\n\r\n" MSG_CRLF;
    static const char hreq[] = "HEADERS SPAMC/1.5\r\nContent-length: 73\r\n\r\n" MSG_CRLF;
    static const char oreq[] = "PROCESS SPAMC/1.2\r\nContent-length: 73\r\n\r\n" MSG_CRLF;
    struct fixture f;

    REQUIRE(setup(&f));
    CHECK_EQ_SIZE(sizeof(MSG_CRLF) - 1, 73);
    CHECK_EQ_SIZE(sizeof(NEW_HEAD) - 1, 164);
    ANSWER(&f, req,
           "SPAMD/1.1 0 EX_OK\r\nContent-length: 175\r\nSpam: True ; 7.4 / 5.0\r\n\r\n" NEW_HEAD
           "body line\r\n");
    ANSWER(&f, hreq,
           "SPAMD/1.1 0 EX_OK\r\nContent-length: 164\r\nSpam: True ; 7.4 / 5.0\r\n\r\n" NEW_HEAD);
    ANSWER(&f, oreq, "SPAMD/1.1 0 EX_OK\r\nContent-length: 175\r\n\r\n" NEW_HEAD "body line\r\n");
    teardown(&f);
#undef MSG_CRLF
#undef NEW_HEAD
}

TM_TEST(spamd_answer_process_lf_rewrite_subject)
{
#define MSG_LF "Subject:  hello\nFrom: x@y\n\nbody\n"
#define NEW_HEAD                                                       \
    "X-Spam-Status: Yes, score=9.0 required=5.0 tests=RULE_A,RULE_B\n" \
    "X-Spam-Score: 9.0\n"                                              \
    "X-Spam-Action: rewrite subject\n"                                 \
    "X-Spam-Flag: YES\n"                                               \
    "Subject:  [SPAM] hello\n"                                         \
    "From: x@y\n\n"
    static const char req[] = "PROCESS SPAMC/1.5\r\nContent-length: 32\r\n\r\n" MSG_LF;
    static const char nosubj[] = "HEADERS SPAMC/1.5\r\nContent-length: 13\r\n\r\nFrom: x@y\n\nb\n";
    static const char already[] =
        "HEADERS SPAMC/1.5\r\nContent-length: 27\r\n\r\nSubject: [SPAM] x\nFrom: x\n\n";
    struct fixture f;

    REQUIRE(setup(&f));
    CHECK_EQ_SIZE(sizeof(MSG_LF) - 1, 32);
    CHECK_EQ_SIZE(sizeof(NEW_HEAD) - 1, 163);
    f.v.score = 9.0;
    f.v.action = TM_ACT_REWRITE_SUBJECT;
    ANSWER(&f, req,
           "SPAMD/1.1 0 EX_OK\r\nContent-length: 168\r\nSpam: True ; 9.0 / 5.0\r\n\r\n" NEW_HEAD
           "body\n");
    /* no Subject: one is added at the end of the header section */
    ANSWER(&f, nosubj,
           "SPAMD/1.1 0 EX_OK\r\nContent-length: 156\r\nSpam: True ; 9.0 / 5.0\r\n\r\n"
           "X-Spam-Status: Yes, score=9.0 required=5.0 tests=RULE_A,RULE_B\n"
           "X-Spam-Score: 9.0\n"
           "X-Spam-Action: rewrite subject\n"
           "X-Spam-Flag: YES\n"
           "From: x@y\nSubject: [SPAM]\n\n");
    /* already tagged: not tagged twice */
    ANSWER(&f, already,
           "SPAMD/1.1 0 EX_OK\r\nContent-length: 156\r\nSpam: True ; 9.0 / 5.0\r\n\r\n"
           "X-Spam-Status: Yes, score=9.0 required=5.0 tests=RULE_A,RULE_B\n"
           "X-Spam-Score: 9.0\n"
           "X-Spam-Action: rewrite subject\n"
           "X-Spam-Flag: YES\n"
           "Subject: [SPAM] x\nFrom: x\n\n");
    /* ham: no flag, subject untouched */
    f.v.score = 0.5;
    f.v.n = 0;
    f.v.action = TM_ACT_NONE;
    ANSWER(&f, req,
           "SPAMD/1.1 0 EX_OK\r\nContent-length: 128\r\nSpam: False ; 0.5 / 5.0\r\n\r\n"
           "X-Spam-Status: No, score=0.5 required=5.0 tests=none\n"
           "X-Spam-Score: 0.5\n"
           "X-Spam-Action: no action\n" MSG_LF);
    teardown(&f);
#undef MSG_LF
#undef NEW_HEAD
}

TM_TEST(spamd_answer_errors_and_tempfail)
{
    struct fixture f;
    struct req r;
    struct tm_buf small;

    REQUIRE(setup(&f));
    CHECK_EQ_INT(tm_spamd_tempfail(&f.out, "server busy"), TM_OK);
    CHECK_STR(tm_buf_cstr(&f.out), "SPAMD/1.0 75 Temporary failure: server busy\r\n");
    f.out.len = 0;
    CHECK_EQ_INT(tm_spamd_tempfail(&f.out, "bad\r\nline"), TM_OK);
    CHECK_STR(tm_buf_cstr(&f.out), "SPAMD/1.0 75 Temporary failure: bad??line\r\n");
    /* an answer that does not fit leaves the buffer as it was */
    parse(&r, LIT("REPORT SPAMC/1.5\r\nContent-length: 2\r\n\r\nx\n"), 0, 0, MAX_MSG);
    REQUIRE(r.done);
    tm_buf_init(&small, f.t->arena, 60);
    CHECK_EQ_INT(tm_buf_append(&small, "keep", 4), TM_OK);
    CHECK_EQ_INT(tm_spamd_respond(&r.s, f.t, &f.v, &small), TM_ELIMIT);
    CHECK_MEM(small.data, small.len, "keep", 4);
    /* no verdict for a scanning method, and no error pending */
    CHECK_EQ_INT(tm_spamd_respond(&r.s, f.t, NULL, &f.out), TM_EINVAL);
    CHECK_EQ_INT(tm_spamd_error(&r.s, &f.out), TM_EINVAL);
    tm_spamd_free(&r.s);
    /* an incomplete request cannot be answered */
    parse(&r, LIT("CHECK SPAMC/1.5\r\nContent-length: 5\r\n\r\nab"), 0, 0, MAX_MSG);
    CHECK(!r.done);
    CHECK_EQ_INT(tm_spamd_respond(&r.s, f.t, &f.v, &f.out), TM_EINVAL);
    tm_spamd_free(&r.s);
    teardown(&f);
}

const struct tm_test tests_spamd[] = {
    TM_TEST_ENTRY(spamd_check_request_as_spamc_sends_it),
    TM_TEST_ENTRY(spamd_every_method_parses),
    TM_TEST_ENTRY(spamd_ping_skip_tell_answers),
    TM_TEST_ENTRY(spamd_bad_request_lines),
    TM_TEST_ENTRY(spamd_content_length_limits),
    TM_TEST_ENTRY(spamd_exact_max_and_zero_length),
    TM_TEST_ENTRY(spamd_missing_content_length_reads_to_eof),
    TM_TEST_ENTRY(spamd_lf_only_and_trailing_bytes),
    TM_TEST_ENTRY(spamd_head_limits),
    TM_TEST_ENTRY(spamd_compressed_body),
    TM_TEST_ENTRY(spamd_answer_check_symbols),
    TM_TEST_ENTRY(spamd_answer_score_agrees_with_word),
    TM_TEST_ENTRY(spamd_answer_report),
    TM_TEST_ENTRY(spamd_answer_process_headers_crlf),
    TM_TEST_ENTRY(spamd_answer_process_lf_rewrite_subject),
    TM_TEST_ENTRY(spamd_answer_errors_and_tempfail),
    TM_TEST_END,
};
