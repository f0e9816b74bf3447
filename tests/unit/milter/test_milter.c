/*
 * test_milter.c - the milter v6 server session (scanner/proto/milter.c)
 * driven with hand-built packets in the order protocols.md 1.7 shows for a
 * Postfix session. Expected reply bytes are written out by hand from the
 * spec (length, command byte, payload), not produced by the code under
 * test: OPTNEG for Postfix and for an old MTA, CONTINUEs without NR_*,
 * framing errors, fragmentation, two messages per connection, ABORT,
 * QUIT_NC, macros and their scoping, message reconstruction and clipping,
 * and the end-of-message reply for every verdict action.
 */
#include "harness.h"
#include "suites.h"

#include <stdlib.h>

#include "core/core.h"
#include "core/limits.h"
#include "core/task.h"
#include "proto/milter.h"
#include "verdict/verdict.h"

/* ---- building MTA input ---------------------------------------------------- */

struct bytes {
    unsigned char *p;
    size_t n, cap;
};

static void
b_add(struct bytes *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL)
            abort();
    }
    if (n > 0)
        memcpy(b->p + b->n, p, n);
    b->n += n;
}

/* pkt - one MTA packet: u32 length (1 + payload), command, payload */
static void
pkt(struct bytes *b, char cmd, const char *payload, size_t n)
{
    unsigned char h[5];
    size_t len = n + 1;

    h[0] = (unsigned char)(len >> 24);
    h[1] = (unsigned char)(len >> 16);
    h[2] = (unsigned char)(len >> 8);
    h[3] = (unsigned char)len;
    h[4] = (unsigned char)cmd;
    b_add(b, h, 5);
    b_add(b, payload, n);
}

#define CHECK_LIT(p, n, lit) CHECK_MEM(p, n, lit, sizeof(lit) - 1)

#define P(b, cmd, lit) pkt((b), (cmd), (lit), sizeof(lit) - 1)

/* What Postfix 3.7 sends for OPTNEG with milter_protocol = 6 (protocols.md 1.4). */
#define POSTFIX_OPTNEG \
    "\x00\x00\x00\x0d" \
    "O"                \
    "\x00\x00\x00\x06" \
    "\x00\x00\x01\xff" \
    "\x00\x1f\xff\xff"

/*
 * Our answer to it: version 6; actions ADDHDRS|CHGHDRS|QUARANTINE|SETSYMLIST
 * = 0x131; protocol NR_CONN..NR_BODY|NR_HDR (0xFF080) | NOUNKNOWN 0x100 |
 * NODATA 0x200 = 0xFF380; then the macro lists for stages 0, 2, 3, 5.
 * Payload 12 + (4+58) + (4+28) + (4+12) + (4+2) = 128, so length 129.
 */
#define OPTNEG_REPLY                                              \
    "\x00\x00\x00\x81"                                            \
    "O"                                                           \
    "\x00\x00\x00\x06"                                            \
    "\x00\x00\x01\x31"                                            \
    "\x00\x0f\xf3\x80"                                            \
    "\x00\x00\x00\x00"                                            \
    "{client_addr} {client_port} {client_name} j {daemon_name}\0" \
    "\x00\x00\x00\x02"                                            \
    "i {auth_authen} {mail_addr}\0"                               \
    "\x00\x00\x00\x03"                                            \
    "{rcpt_addr}\0"                                               \
    "\x00\x00\x00\x05"                                            \
    "i\0"

#define QID "4F1A2B3C4D"

/* the envelope part of protocols.md 1.7, with an auth user added */
static void
postfix_envelope(struct bytes *b)
{
    P(b, 'D',
      "C"
      "j\0mx.example\0{daemon_name}\0mx.example\0{daemon_addr}\0"
      "127.0.0.1\0"
      "v\0Postfix 3.7.11\0_\0localhost [127.0.0.1]\0");
    P(b, 'C',
      "localhost\0"
      "4"
      "\x9c\x40"
      "127.0.0.1\0");
    P(b, 'D', "H");
    P(b, 'H', "client.example\0");
}

/* one transaction: MAIL, RCPT, DATA, two headers (one folded), EOH, body, EOB */
static void
postfix_message(struct bytes *b, const char *subject_pkt, size_t subject_len)
{
    P(b, 'D', "M{mail_addr}\0a@example.com\0{auth_authen}\0alice\0");
    P(b, 'M', "<a@example.com>\0SIZE=321\0");
    P(b, 'D', "R{rcpt_addr}\0b@example.net\0{rcpt_host}\0example.net\0{rcpt_mailer}\0smtp\0");
    P(b, 'R', "<b@example.net>\0");
    P(b, 'D', "Ti\0" QID "\0");
    P(b, 'T', "");
    P(b, 'D', "Li\0" QID "\0");
    pkt(b, 'L', subject_pkt, subject_len);
    P(b, 'D', "Li\0" QID "\0");
    P(b, 'L', "X-Folded\0a\n\tb\0");
    P(b, 'D', "Ni\0" QID "\0");
    P(b, 'N', "");
    P(b, 'D', "Bi\0" QID "\0");
    P(b, 'B', "line 1\r\nline 2\r\n");
    P(b, 'D', "Ei\0" QID "\0");
    P(b, 'E', "");
}

#define SUBJ_TEST "Subject\0test\0"
#define MSG1      "Subject: test\r\nX-Folded: a\r\n\tb\r\n\r\nline 1\r\nline 2\r\n"

/* ---- helpers ------------------------------------------------------------- */

static struct tm_task *
new_task(struct tm_engine **eng)
{
    struct tm_limits lim = tm_limits_default();

    *eng = tm_engine_new_bare(&lim);
    return *eng != NULL ? tm_task_new(*eng) : NULL;
}

static void
drop_task(struct tm_engine *eng, struct tm_task *t)
{
    if (t != NULL)
        tm_task_free(t);
    if (eng != NULL)
        tm_engine_unref(eng);
}

/* take_out - copy the session's output into b and mark it written */
static void
take_out(struct tm_milter *m, struct bytes *b)
{
    size_t n;
    const unsigned char *o = tm_milter_output(m, &n);

    b_add(b, o, n);
    tm_milter_output_consume(m, n);
}

/* feed_split - feed in pieces of `step` bytes (0: all at once); OR the events */
static tm_rc
feed_split(struct tm_milter *m, const struct bytes *in, size_t step, unsigned *events)
{
    size_t off = 0;
    unsigned ev;
    tm_rc rc = TM_OK;

    *events = 0;
    if (step == 0)
        step = in->n;
    while (off < in->n) {
        size_t k = TM_MIN(step, in->n - off);
        rc = tm_milter_feed(m, in->p + off, k, &ev);
        *events |= ev;
        off += k;
        if (rc != TM_OK)
            break;
    }
    return rc;
}

/* count_cmd - packets with command `cmd` in b, which must be well framed */
static size_t
count_cmd(const struct bytes *b, char cmd)
{
    size_t off = 0, n = 0, len;

    while (off + 5 <= b->n) {
        len = (size_t)b->p[off] << 24 | (size_t)b->p[off + 1] << 16 | (size_t)b->p[off + 2] << 8 |
              b->p[off + 3];
        if (len == 0 || len - 1 > b->n - off - 5)
            break;
        n += b->p[off + 4] == (unsigned char)cmd;
        off += 4 + len;
    }
    if (off != b->n)
        tm_test_fail(__FILE__, __LINE__, "output not well framed at %zu of %zu", off, b->n);
    return n;
}

static void
verdict_init(struct tm_verdict *v, enum tm_action a, double score, struct tm_symbol *syms, size_t n)
{
    memset(v, 0, sizeof(*v));
    v->action = a;
    v->score = score;
    v->required = 5.0;
    v->syms = syms;
    v->n = n;
}

static struct tm_symbol two_syms[2] = {
    {.name = "RULE_B", .score = 4.0},
    {.name = "RULE_A", .score = 3.5},
};

/*
 * run_to_eom - a session with the default config: Postfix OPTNEG, the
 * envelope and one message; checks the OPTNEG reply and the EOM event.
 */
static int
run_to_eom(struct tm_milter *m, const struct tm_milter_cfg *cfg)
{
    struct bytes in = {0}, out = {0};
    unsigned ev;
    int ok = 1;

    if (tm_milter_init(m, cfg) != TM_OK)
        return 0;
    b_add(&in, POSTFIX_OPTNEG, sizeof(POSTFIX_OPTNEG) - 1);
    postfix_envelope(&in);
    postfix_message(&in, SUBJ_TEST, sizeof(SUBJ_TEST) - 1);
    if (tm_milter_feed(m, in.p, in.n, &ev) != TM_OK || ev != TM_MILTER_EV_EOM)
        ok = 0;
    take_out(m, &out);
    if (!tm_test_mem(__FILE__, __LINE__, "out", out.p, out.n, "OPTNEG_REPLY", OPTNEG_REPLY,
                     sizeof(OPTNEG_REPLY) - 1))
        ok = 0;
    free(in.p);
    free(out.p);
    return ok;
}

/* verdict_bytes - run a default session to EOM, answer with v, return the reply bytes */
static void
verdict_bytes(const struct tm_verdict *v, struct bytes *out)
{
    struct tm_milter m;
    struct tm_engine *eng = NULL;
    struct tm_task *t = new_task(&eng);

    if (t == NULL || !run_to_eom(&m, NULL)) {
        tm_test_fail(__FILE__, __LINE__, "setup failed");
        drop_task(eng, t);
        return;
    }
    CHECK_EQ_INT(tm_milter_verdict(&m, v, t), TM_OK);
    take_out(&m, out);
    tm_milter_free(&m);
    drop_task(eng, t);
}

/* ---- OPTNEG ------------------------------------------------------------------ */

TM_TEST(milter_optneg_postfix)
{
    struct tm_milter m;
    struct bytes out = {0};
    unsigned ev;

    REQUIRE(tm_milter_init(&m, NULL) == TM_OK);
    CHECK_EQ_INT(tm_milter_feed(&m, TM_LIT(POSTFIX_OPTNEG), &ev), TM_OK);
    CHECK_EQ_INT(ev, 0);
    take_out(&m, &out);
    CHECK_MEM(out.p, out.n, OPTNEG_REPLY, sizeof(OPTNEG_REPLY) - 1);
    CHECK_EQ_INT(m.version, 6);
    CHECK_EQ_INT(m.actions, 0x131);
    CHECK_EQ_INT(m.protocol, 0xFF380);
    tm_milter_free(&m);
    free(out.p);
}

/*
 * An MTA speaking version 2 (actions 0x3F, protocol 0x7F, no SETSYMLIST):
 * we answer version 2, actions 0x31, no protocol bit (none of ours is
 * offered) and no macro lists; then every command gets a CONTINUE.
 */
TM_TEST(milter_optneg_v2_continues)
{
    static const char want_optneg[] = "\x00\x00\x00\x0d"
                                      "O"
                                      "\x00\x00\x00\x02"
                                      "\x00\x00\x00\x31"
                                      "\x00\x00\x00\x00";
    static const char cont[] = "\x00\x00\x00\x01"
                               "c";
    struct tm_milter m;
    struct bytes in = {0}, out = {0}, want = {0};
    unsigned ev;
    int i;

    REQUIRE(tm_milter_init(&m, NULL) == TM_OK);
    P(&in, 'O',
      "\x00\x00\x00\x02"
      "\x00\x00\x00\x3f"
      "\x00\x00\x00\x7f");
    CHECK_EQ_INT(tm_milter_feed(&m, in.p, in.n, &ev), TM_OK);
    take_out(&m, &out);
    CHECK_MEM(out.p, out.n, want_optneg, sizeof(want_optneg) - 1);
    out.n = in.n = 0;
    /* C H M R T L N B U: nine CONTINUEs; MACRO gets none; E waits for the verdict */
    postfix_envelope(&in);
    P(&in, 'M', "<a@example.com>\0");
    P(&in, 'R', "<b@example.net>\0");
    P(&in, 'T', "");
    P(&in, 'L', "Subject\0x\0");
    P(&in, 'N', "");
    P(&in, 'B', "body\r\n");
    P(&in, 'U', "XYZZY\0");
    P(&in, 'E', "");
    CHECK_EQ_INT(tm_milter_feed(&m, in.p, in.n, &ev), TM_OK);
    CHECK_EQ_INT(ev, TM_MILTER_EV_EOM);
    take_out(&m, &out);
    for (i = 0; i < 9; i++)
        b_add(&want, cont, 5);
    CHECK_MEM(out.p, out.n, want.p, want.n);
    CHECK_EQ_INT(tm_milter_tempfail(&m), TM_OK);
    out.n = 0;
    take_out(&m, &out);
    CHECK_MEM(out.p, out.n, "\x00\x00\x00\x01t", 5);
    tm_milter_free(&m);
    free(in.p);
    free(out.p);
    free(want.p);
}

/* no_reply = 0 against Postfix: only NOUNKNOWN|NODATA, so CONNECT is answered */
TM_TEST(milter_optneg_no_nr)
{
    struct tm_milter_cfg cfg;
    struct tm_milter m;
    struct bytes in = {0}, out = {0};
    unsigned ev;

    tm_milter_cfg_default(&cfg);
    cfg.no_reply = 0;
    cfg.request_macros = 0;
    REQUIRE(tm_milter_init(&m, &cfg) == TM_OK);
    b_add(&in, POSTFIX_OPTNEG, sizeof(POSTFIX_OPTNEG) - 1);
    P(&in, 'C', "h\0U");
    CHECK_EQ_INT(tm_milter_feed(&m, in.p, in.n, &ev), TM_OK);
    take_out(&m, &out);
    CHECK_MEM(out.p, out.n,
              "\x00\x00\x00\x0d"
              "O"
              "\x00\x00\x00\x06"
              "\x00\x00\x00\x31"
              "\x00\x00\x03\x00"
              "\x00\x00\x00\x01"
              "c",
              22);
    CHECK_EQ_INT(m.env.family, 'U');
    CHECK(m.env.client_addr == NULL);
    tm_milter_free(&m);
    free(in.p);
    free(out.p);
}

TM_TEST(milter_optneg_bad)
{
    struct tm_milter m;
    unsigned ev;

    /* version 1 */
    REQUIRE(tm_milter_init(&m, NULL) == TM_OK);
    CHECK_EQ_INT(tm_milter_feed(&m,
                                TM_LIT("\x00\x00\x00\x0d"
                                       "O"
                                       "\x00\x00\x00\x01"
                                       "\x00\x00\x00\x0f"
                                       "\x00\x00\x00\x3f"),
                                &ev),
                 TM_EPROTO);
    tm_milter_free(&m);
    /* short payload */
    REQUIRE(tm_milter_init(&m, NULL) == TM_OK);
    CHECK_EQ_INT(tm_milter_feed(&m, TM_LIT("\x00\x00\x00\x05O\x00\x00\x00\x06"), &ev), TM_EPROTO);
    tm_milter_free(&m);
    /* a command before OPTNEG */
    REQUIRE(tm_milter_init(&m, NULL) == TM_OK);
    CHECK_EQ_INT(tm_milter_feed(&m, TM_LIT("\x00\x00\x00\x01T"), &ev), TM_EPROTO);
    /* and the session stays dead */
    CHECK_EQ_INT(tm_milter_feed(&m, TM_LIT(POSTFIX_OPTNEG), &ev), TM_EPROTO);
    tm_milter_free(&m);
    /* OPTNEG twice */
    REQUIRE(tm_milter_init(&m, NULL) == TM_OK);
    CHECK_EQ_INT(tm_milter_feed(&m, TM_LIT(POSTFIX_OPTNEG POSTFIX_OPTNEG), &ev), TM_EPROTO);
    tm_milter_free(&m);
}

/* ---- a Postfix session ------------------------------------------------------ */

TM_TEST(milter_postfix_session)
{
    struct tm_milter m;
    const unsigned char *msg;
    size_t len;

    REQUIRE(run_to_eom(&m, NULL));
    tm_milter_message(&m, &msg, &len);
    CHECK_MEM(msg, len, MSG1, sizeof(MSG1) - 1);
    CHECK(!m.truncated);
    CHECK_STR(m.env.client_name, "localhost");
    CHECK_STR(m.env.client_addr, "127.0.0.1");
    CHECK_EQ_INT(m.env.client_port, 40000);
    CHECK_EQ_INT(m.env.family, '4');
    CHECK_STR(m.env.helo, "client.example");
    CHECK_STR(m.env.mail_from, "<a@example.com>");
    REQUIRE(m.env.nesmtp == 1);
    CHECK_STR(m.env.esmtp[0], "SIZE=321");
    REQUIRE(m.env.nrcpt == 1);
    CHECK_STR(m.env.rcpts[0], "<b@example.net>");
    CHECK_STR(tm_milter_queue_id(&m), QID);
    CHECK_STR(tm_milter_auth_user(&m), "alice");
    CHECK_STR(tm_milter_macro(&m, "{daemon_name}"), "mx.example");
    CHECK_STR(tm_milter_macro(&m, "daemon_name"), "mx.example");
    CHECK_STR(tm_milter_macro(&m, "{j}"), "mx.example");
    CHECK_STR(tm_milter_macro(&m, "_"), "localhost [127.0.0.1]");
    CHECK_STR(tm_milter_macro(&m, "{rcpt_mailer}"), "smtp");
    CHECK(tm_milter_macro(&m, "{tls_version}") == NULL);
    CHECK_EQ_SIZE(m.clipped, 0);
    tm_milter_free(&m);
}

/* The same session fed 1, 2, 3, 7 and 100 bytes at a time gives the same bytes. */
TM_TEST(milter_fragmented)
{
    static const size_t steps[] = {1, 2, 3, 7, 100};
    struct bytes in = {0};
    size_t i;

    b_add(&in, POSTFIX_OPTNEG, sizeof(POSTFIX_OPTNEG) - 1);
    postfix_envelope(&in);
    postfix_message(&in, SUBJ_TEST, sizeof(SUBJ_TEST) - 1);
    P(&in, 'A', "");
    P(&in, 'Q', "");
    for (i = 0; i < TM_NELEM(steps); i++) {
        struct tm_milter m;
        struct bytes out = {0};
        const unsigned char *msg;
        size_t len;
        unsigned ev;

        REQUIRE(tm_milter_init(&m, NULL) == TM_OK);
        CHECK_EQ_INT(feed_split(&m, &in, steps[i], &ev), TM_OK);
        CHECK_EQ_INT(ev, TM_MILTER_EV_EOM);
        tm_milter_message(&m, &msg, &len);
        CHECK_MEM(msg, len, MSG1, sizeof(MSG1) - 1);
        CHECK_STR(tm_milter_queue_id(&m), QID);
        CHECK_EQ_INT(tm_milter_tempfail(&m), TM_OK);
        /* A and Q were held while the verdict was pending */
        CHECK_EQ_INT(tm_milter_feed(&m, NULL, 0, &ev), TM_OK);
        CHECK_EQ_INT(ev, TM_MILTER_EV_QUIT);
        take_out(&m, &out);
        CHECK_MEM(out.p, out.n, OPTNEG_REPLY "\x00\x00\x00\x01t", sizeof(OPTNEG_REPLY) - 1 + 5);
        tm_milter_free(&m);
        free(out.p);
    }
    free(in.p);
}

/* Two messages on one connection; per-message state does not leak into the second. */
TM_TEST(milter_two_messages)
{
    struct tm_milter m;
    struct bytes in = {0}, out = {0};
    const unsigned char *msg;
    size_t len;
    unsigned ev;

    REQUIRE(run_to_eom(&m, NULL));
    CHECK_EQ_INT(tm_milter_tempfail(&m), TM_OK);
    take_out(&m, &out);
    CHECK_MEM(out.p, out.n, "\x00\x00\x00\x01t", 5);
    CHECK(m.env.mail_from == NULL);
    CHECK_EQ_SIZE(m.env.nrcpt, 0);
    CHECK(tm_milter_queue_id(&m) == NULL);
    /* connection state stays */
    CHECK_STR(m.env.helo, "client.example");
    CHECK_STR(tm_milter_macro(&m, "j"), "mx.example");

    P(&in, 'A', "");
    P(&in, 'D', "M{mail_addr}\0c@example.org\0");
    P(&in, 'M', "<c@example.org>\0");
    P(&in, 'R', "<d@example.net>\0");
    P(&in, 'R', "<e@example.net>\0");
    P(&in, 'L', "From\0c@example.org\0");
    P(&in, 'N', "");
    P(&in, 'B', "second\r\n");
    P(&in, 'D', "Ei\0QID2\0");
    P(&in, 'E', "");
    CHECK_EQ_INT(tm_milter_feed(&m, in.p, in.n, &ev), TM_OK);
    CHECK_EQ_INT(ev, TM_MILTER_EV_EOM); /* the ABORT closed no open message */
    tm_milter_message(&m, &msg, &len);
    CHECK_LIT(msg, len, "From: c@example.org\r\n\r\nsecond\r\n");
    CHECK_STR(m.env.mail_from, "<c@example.org>");
    CHECK_EQ_SIZE(m.env.nesmtp, 0);
    REQUIRE(m.env.nrcpt == 2);
    CHECK_STR(m.env.rcpts[1], "<e@example.net>");
    CHECK_STR(tm_milter_queue_id(&m), "QID2");
    CHECK(tm_milter_auth_user(&m) == NULL);
    tm_milter_free(&m);
    free(in.p);
    free(out.p);
}

/* ABORT in the middle of a message drops it; the next one starts clean. */
TM_TEST(milter_abort_midway)
{
    struct tm_milter m;
    struct bytes in = {0}, out = {0};
    const unsigned char *msg;
    size_t len;
    unsigned ev;

    REQUIRE(tm_milter_init(&m, NULL) == TM_OK);
    b_add(&in, POSTFIX_OPTNEG, sizeof(POSTFIX_OPTNEG) - 1);
    postfix_envelope(&in);
    P(&in, 'M', "<a@example.com>\0");
    P(&in, 'L', "Subject\0dropped\0");
    P(&in, 'A', "");
    CHECK_EQ_INT(tm_milter_feed(&m, in.p, in.n, &ev), TM_OK);
    CHECK_EQ_INT(ev, TM_MILTER_EV_ABORT);
    CHECK(m.env.mail_from == NULL);
    tm_milter_message(&m, &msg, &len);
    CHECK_EQ_SIZE(len, 0);
    /* an ABORT with no message open is ignored */
    CHECK_EQ_INT(tm_milter_feed(&m,
                                TM_LIT("\x00\x00\x00\x01"
                                       "A"),
                                &ev),
                 TM_OK);
    CHECK_EQ_INT(ev, 0);
    in.n = 0;
    P(&in, 'M', "<a@example.com>\0");
    P(&in, 'L', "Subject\0kept\0");
    P(&in, 'E', "body\r\n"); /* libmilter: a payload on EOB is a last body chunk */
    CHECK_EQ_INT(tm_milter_feed(&m, in.p, in.n, &ev), TM_OK);
    CHECK_EQ_INT(ev, TM_MILTER_EV_EOM);
    tm_milter_message(&m, &msg, &len);
    CHECK_LIT(msg, len, "Subject: kept\r\n\r\nbody\r\n");
    take_out(&m, &out);
    CHECK_MEM(out.p, out.n, OPTNEG_REPLY, sizeof(OPTNEG_REPLY) - 1);
    tm_milter_free(&m);
    free(in.p);
    free(out.p);
}

/* QUIT_NC: back to just after OPTNEG; a new CONNECT follows without OPTNEG. */
TM_TEST(milter_quit_nc)
{
    struct tm_milter m;
    struct bytes in = {0};
    unsigned ev;

    REQUIRE(tm_milter_init(&m, NULL) == TM_OK);
    b_add(&in, POSTFIX_OPTNEG, sizeof(POSTFIX_OPTNEG) - 1);
    postfix_envelope(&in);
    P(&in, 'M', "<a@example.com>\0");
    P(&in, 'K', "");
    CHECK_EQ_INT(tm_milter_feed(&m, in.p, in.n, &ev), TM_OK);
    CHECK(m.env.client_name == NULL);
    CHECK(m.env.helo == NULL);
    CHECK(m.env.mail_from == NULL);
    CHECK(tm_milter_macro(&m, "j") == NULL);
    in.n = 0;
    P(&in, 'C',
      "[2001:db8::1]\0"
      "6"
      "\x01\xbb"
      "IPv6:2001:db8::1\0");
    P(&in, 'Q', "");
    P(&in, 'C', "garbage after QUIT is ignored");
    CHECK_EQ_INT(tm_milter_feed(&m, in.p, in.n, &ev), TM_OK);
    CHECK_EQ_INT(ev, TM_MILTER_EV_QUIT);
    CHECK_STR(m.env.client_name, "[2001:db8::1]");
    CHECK_STR(m.env.client_addr, "2001:db8::1");
    CHECK_EQ_INT(m.env.client_port, 443);
    CHECK_EQ_INT(m.env.family, '6');
    tm_milter_free(&m);
    free(in.p);
}

/* ---- framing errors -------------------------------------------------------- */

TM_TEST(milter_framing_errors)
{
    struct tm_milter_cfg cfg;
    struct tm_milter m;
    unsigned ev;

    tm_milter_cfg_default(&cfg);
    cfg.max_packet = 65535;
    cfg.max_cmd = 1024;
    /* length 0 */
    REQUIRE(tm_milter_init(&m, &cfg) == TM_OK);
    CHECK_EQ_INT(tm_milter_feed(&m,
                                TM_LIT(POSTFIX_OPTNEG "\x00\x00\x00\x00"
                                                      "B"),
                                &ev),
                 TM_EPROTO);
    tm_milter_free(&m);
    /* a HEADER of 1025 payload bytes: refused from its 5-byte header alone */
    REQUIRE(tm_milter_init(&m, &cfg) == TM_OK);
    CHECK_EQ_INT(tm_milter_feed(&m, TM_LIT(POSTFIX_OPTNEG), &ev), TM_OK);
    CHECK_EQ_INT(tm_milter_feed(&m,
                                TM_LIT("\x00\x00\x04\x02"
                                       "L"),
                                &ev),
                 TM_EPROTO);
    tm_milter_free(&m);
    /* a HEADER of exactly 1024 bytes is fine (here: still incomplete) */
    REQUIRE(tm_milter_init(&m, &cfg) == TM_OK);
    CHECK_EQ_INT(tm_milter_feed(&m,
                                TM_LIT(POSTFIX_OPTNEG "\x00\x00\x04\x01"
                                                      "L"),
                                &ev),
                 TM_OK);
    tm_milter_free(&m);
    /* BODY may be up to max_packet (65535), not one more */
    REQUIRE(tm_milter_init(&m, &cfg) == TM_OK);
    CHECK_EQ_INT(tm_milter_feed(&m,
                                TM_LIT(POSTFIX_OPTNEG "\x00\x01\x00\x00"
                                                      "B"),
                                &ev),
                 TM_OK);
    tm_milter_free(&m);
    REQUIRE(tm_milter_init(&m, &cfg) == TM_OK);
    CHECK_EQ_INT(tm_milter_feed(&m,
                                TM_LIT(POSTFIX_OPTNEG "\x00\x01\x00\x01"
                                                      "B"),
                                &ev),
                 TM_EPROTO);
    tm_milter_free(&m);
    /* 4 GiB - 1: no wrap-around */
    REQUIRE(tm_milter_init(&m, NULL) == TM_OK);
    CHECK_EQ_INT(tm_milter_feed(&m,
                                TM_LIT(POSTFIX_OPTNEG "\xff\xff\xff\xff"
                                                      "B"),
                                &ev),
                 TM_EPROTO);
    tm_milter_free(&m);
    /* unknown command: a reply we cannot give would desynchronise the MTA */
    REQUIRE(tm_milter_init(&m, NULL) == TM_OK);
    CHECK_EQ_INT(tm_milter_feed(&m,
                                TM_LIT(POSTFIX_OPTNEG "\x00\x00\x00\x01"
                                                      "Z"),
                                &ev),
                 TM_EPROTO);
    tm_milter_free(&m);
    /* malformed payloads */
    REQUIRE(tm_milter_init(&m, NULL) == TM_OK);
    CHECK_EQ_INT(tm_milter_feed(&m,
                                TM_LIT(POSTFIX_OPTNEG "\x00\x00\x00\x05"
                                                      "Lname"),
                                &ev),
                 TM_EPROTO);
    tm_milter_free(&m);
    REQUIRE(tm_milter_init(&m, NULL) == TM_OK);
    CHECK_EQ_INT(tm_milter_feed(&m,
                                TM_LIT(POSTFIX_OPTNEG "\x00\x00\x00\x05"
                                                      "Ch\0"
                                                      "4\x01"),
                                &ev),
                 TM_EPROTO);
    tm_milter_free(&m);
    /* bad limits */
    cfg.max_packet = 1000;
    CHECK_EQ_INT(tm_milter_init(&m, &cfg), TM_EINVAL);
}

/* Bytes after EOB are held up to one packet's worth; more is a protocol error. */
TM_TEST(milter_hold_bound)
{
    struct tm_milter_cfg cfg;
    struct tm_milter m;
    unsigned char *junk;
    unsigned ev;

    tm_milter_cfg_default(&cfg);
    cfg.max_packet = 65535;
    cfg.max_cmd = 1024;
    REQUIRE(run_to_eom(&m, &cfg));
    junk = calloc(1, 70000);
    REQUIRE(junk != NULL);
    CHECK_EQ_INT(tm_milter_feed(&m, junk, 65540, &ev), TM_OK);
    CHECK_EQ_INT(tm_milter_feed(&m, junk, 1, &ev), TM_EPROTO);
    tm_milter_free(&m);
    free(junk);
}

/* An MTA that never reads our CONTINUEs: the output cap ends the session. */
TM_TEST(milter_output_cap)
{
    struct tm_milter_cfg cfg;
    struct tm_milter m;
    struct bytes in = {0};
    unsigned ev;
    size_t i;

    tm_milter_cfg_default(&cfg);
    cfg.no_reply = 0;
    cfg.max_output = 64u << 10;
    REQUIRE(tm_milter_init(&m, &cfg) == TM_OK);
    CHECK_EQ_INT(tm_milter_feed(&m, TM_LIT(POSTFIX_OPTNEG), &ev), TM_OK);
    for (i = 0; i < 14000; i++)
        P(&in, 'H', "x\0");
    CHECK_EQ_INT(tm_milter_feed(&m, in.p, in.n, &ev), TM_EPROTO);
    tm_milter_free(&m);
    free(in.p);
}

/* ---- macros ---------------------------------------------------------------- */

TM_TEST(milter_macros)
{
    struct tm_milter_cfg cfg;
    struct tm_milter m;
    struct bytes in = {0};
    unsigned ev;

    tm_milter_cfg_default(&cfg);
    cfg.max_macros = 2;
    cfg.max_macro_len = 11;
    REQUIRE(tm_milter_init(&m, &cfg) == TM_OK);
    b_add(&in, POSTFIX_OPTNEG, sizeof(POSTFIX_OPTNEG) - 1);
    /* third pair over max_macros; a value over max_macro_len; an odd tail */
    P(&in, 'D',
      "Ca\0"
      "1\0"
      "toolongvalue\0"
      "x\0"
      "{b}\0"
      "2\0"
      "c\0"
      "3\0"
      "tail");
    P(&in, 'D', "R{rcpt_addr}\0r1\0");
    P(&in, 'D', "Z{x}\0y\0"); /* unknown stage: ignored */
    P(&in, 'D', "");          /* no stage at all: ignored */
    CHECK_EQ_INT(tm_milter_feed(&m, in.p, in.n, &ev), TM_OK);
    CHECK_STR(tm_milter_macro(&m, "a"), "1");
    CHECK_STR(tm_milter_macro(&m, "{a}"), "1");
    CHECK_STR(tm_milter_macro(&m, "b"), "2");
    CHECK(tm_milter_macro(&m, "c") == NULL);
    CHECK(tm_milter_macro(&m, "toolongvalue") == NULL);
    CHECK(tm_milter_macro(&m, "x") == NULL);
    CHECK_STR(tm_milter_macro(&m, "rcpt_addr"), "r1");
    CHECK_EQ_SIZE(m.clipped, 3);
    /* a new 'M' forgets the later stages (R) and keeps the earlier (C) */
    in.n = 0;
    P(&in, 'D', "M{mail_addr}\0s\0");
    P(&in, 'D', "Ci\0new\0"); /* and a new 'C' forgets everything after it */
    CHECK_EQ_INT(tm_milter_feed(&m, in.p, in.n, &ev), TM_OK);
    CHECK(tm_milter_macro(&m, "rcpt_addr") == NULL);
    CHECK(tm_milter_macro(&m, "mail_addr") == NULL);
    CHECK(tm_milter_macro(&m, "a") == NULL);
    CHECK_STR(tm_milter_macro(&m, "i"), "new");
    tm_milter_free(&m);
    free(in.p);
}

/* ---- message bounds ----------------------------------------------------------- */

TM_TEST(milter_message_truncated)
{
    struct tm_milter_cfg cfg;
    struct tm_milter m;
    struct bytes in = {0};
    const unsigned char *msg;
    size_t len;
    unsigned ev;

    tm_milter_cfg_default(&cfg);
    cfg.max_message = 20;
    cfg.max_rcpts = 1;
    cfg.max_string = 4;
    REQUIRE(tm_milter_init(&m, &cfg) == TM_OK);
    b_add(&in, POSTFIX_OPTNEG, sizeof(POSTFIX_OPTNEG) - 1);
    P(&in, 'H', "client.example\0");
    P(&in, 'R', "<b@example.net>\0");
    P(&in, 'R', "<c@example.net>\0");
    P(&in, 'L', "Subject\0hello\0");
    P(&in, 'B', "0123456789abcdef\r\n");
    P(&in, 'B', "more\r\n");
    P(&in, 'E', "");
    CHECK_EQ_INT(tm_milter_feed(&m, in.p, in.n, &ev), TM_OK);
    CHECK_EQ_INT(ev, TM_MILTER_EV_EOM);
    tm_milter_message(&m, &msg, &len);
    CHECK_LIT(msg, len, "Subject: hello\r\n\r\n01");
    CHECK(m.truncated);
    CHECK_STR(m.env.helo, "clie");
    REQUIRE(m.env.nrcpt == 1);
    CHECK_STR(m.env.rcpts[0], "<b@e");
    CHECK_EQ_SIZE(m.clipped, 3);
    CHECK_EQ_INT(tm_milter_tempfail(&m), TM_OK);
    CHECK(!m.truncated);
    tm_milter_free(&m);
    free(in.p);
}

/* ---- verdicts ---------------------------------------------------------------- */

#define ACCEPT         \
    "\x00\x00\x00\x01" \
    "a"

TM_TEST(milter_verdict_none)
{
    static const char want[] = "\x00\x00\x00\x35"
                               "h"
                               "X-Spam-Status\0No, score=0.0 required=5.0 tests=none\0"
                               "\x00\x00\x00\x12"
                               "h"
                               "X-Spam-Score\0"
                               "0.0\0"
                               "\x00\x00\x00\x19"
                               "h"
                               "X-Spam-Action\0no action\0" ACCEPT;
    struct tm_verdict v;
    struct bytes out = {0};

    verdict_init(&v, TM_ACT_NONE, 0.0, NULL, 0);
    verdict_bytes(&v, &out);
    CHECK_MEM(out.p, out.n, want, sizeof(want) - 1);
    free(out.p);
}

TM_TEST(milter_verdict_add_header)
{
    static const char want[] = "\x00\x00\x00\x3f"
                               "h"
                               "X-Spam-Status\0Yes, score=7.5 required=5.0 tests=RULE_A,RULE_B\0"
                               "\x00\x00\x00\x12"
                               "h"
                               "X-Spam-Score\0"
                               "7.5\0"
                               "\x00\x00\x00\x1a"
                               "h"
                               "X-Spam-Action\0add header\0"
                               "\x00\x00\x00\x11"
                               "h"
                               "X-Spam-Flag\0YES\0" ACCEPT;
    struct tm_verdict v;
    struct bytes out = {0};

    verdict_init(&v, TM_ACT_ADD_HEADER, 7.5, two_syms, 2);
    verdict_bytes(&v, &out);
    CHECK_MEM(out.p, out.n, want, sizeof(want) - 1);
    free(out.p);
}

TM_TEST(milter_verdict_rewrite_subject)
{
    static const char want[] = "\x00\x00\x00\x3f"
                               "h"
                               "X-Spam-Status\0Yes, score=7.5 required=5.0 tests=RULE_A,RULE_B\0"
                               "\x00\x00\x00\x12"
                               "h"
                               "X-Spam-Score\0"
                               "7.5\0"
                               "\x00\x00\x00\x1f"
                               "h"
                               "X-Spam-Action\0rewrite subject\0"
                               "\x00\x00\x00\x11"
                               "h"
                               "X-Spam-Flag\0YES\0"
                               "\x00\x00\x00\x19"
                               "m"
                               "\x00\x00\x00\x01"
                               "Subject\0[SPAM] test\0" ACCEPT;
    struct tm_verdict v;
    struct bytes out = {0};

    verdict_init(&v, TM_ACT_REWRITE_SUBJECT, 7.5, two_syms, 2);
    verdict_bytes(&v, &out);
    CHECK_MEM(out.p, out.n, want, sizeof(want) - 1);
    free(out.p);
}

TM_TEST(milter_verdict_quarantine)
{
    static const char want[] = "\x00\x00\x00\x13"
                               "q"
                               "Tamis: score 12.0\0"
                               "\x00\x00\x00\x40"
                               "h"
                               "X-Spam-Status\0Yes, score=12.0 required=5.0 tests=RULE_A,RULE_B\0"
                               "\x00\x00\x00\x13"
                               "h"
                               "X-Spam-Score\0"
                               "12.0\0"
                               "\x00\x00\x00\x1a"
                               "h"
                               "X-Spam-Action\0quarantine\0"
                               "\x00\x00\x00\x11"
                               "h"
                               "X-Spam-Flag\0YES\0" ACCEPT;
    struct tm_verdict v;
    struct bytes out = {0};

    verdict_init(&v, TM_ACT_QUARANTINE, 12.0, two_syms, 2);
    verdict_bytes(&v, &out);
    CHECK_MEM(out.p, out.n, want, sizeof(want) - 1);
    free(out.p);
}

/* DISCARD: one packet, length 1, command 'd' (protocols.md 1.3) */
TM_TEST(milter_verdict_discard)
{
    struct tm_verdict v;
    struct bytes out = {0};

    verdict_init(&v, TM_ACT_DISCARD, 20.0, two_syms, 2);
    verdict_bytes(&v, &out);
    CHECK_LIT(out.p, out.n, "\x00\x00\x00\x01" "d");
    free(out.p);
}

TM_TEST(milter_verdict_reject)
{
    static const char want[] = "\x00\x00\x00\x2e"
                               "y"
                               "550 5.7.1 Message rejected by content policy\0";
    struct tm_verdict v;
    struct bytes out = {0};

    verdict_init(&v, TM_ACT_REJECT, 20.0, two_syms, 2);
    v.smtp_reply = "550 5.7.1 Message rejected by content policy";
    verdict_bytes(&v, &out);
    CHECK_MEM(out.p, out.n, want, sizeof(want) - 1);
    /* no reply text: the same default */
    out.n = 0;
    v.smtp_reply = NULL;
    verdict_bytes(&v, &out);
    CHECK_MEM(out.p, out.n, want, sizeof(want) - 1);
    /* '%' is doubled (Sendmail formats it) */
    out.n = 0;
    v.smtp_reply = "550 5.7.1 100% spam";
    verdict_bytes(&v, &out);
    CHECK_LIT(out.p, out.n, "\x00\x00\x00\x16y550 5.7.1 100%% spam\0");
    /* a 4xx text for a reject, a class mismatch, a CRLF: the default */
    out.n = 0;
    v.smtp_reply = "451 4.7.1 later";
    verdict_bytes(&v, &out);
    CHECK_MEM(out.p, out.n, want, sizeof(want) - 1);
    out.n = 0;
    v.smtp_reply = "550 4.7.1 mismatch";
    verdict_bytes(&v, &out);
    CHECK_MEM(out.p, out.n, want, sizeof(want) - 1);
    out.n = 0;
    v.smtp_reply = "550 5.7.1 a\r\n550 5.7.1 b";
    verdict_bytes(&v, &out);
    CHECK_MEM(out.p, out.n, want, sizeof(want) - 1);
    free(out.p);
}

TM_TEST(milter_verdict_soft_reject)
{
    static const char want[] = "\x00\x00\x00\x35"
                               "y"
                               "451 4.7.1 Message not accepted now, try again later\0";
    static const char dflt[] = "\x00\x00\x00\x1b"
                               "y"
                               "451 4.7.1 Try again later\0";
    struct tm_verdict v;
    struct bytes out = {0};

    verdict_init(&v, TM_ACT_SOFT_REJECT, 0.0, NULL, 0);
    v.smtp_reply = "451 4.7.1 Message not accepted now, try again later";
    verdict_bytes(&v, &out);
    CHECK_MEM(out.p, out.n, want, sizeof(want) - 1);
    out.n = 0;
    v.smtp_reply = "550 5.7.1 wrong class";
    verdict_bytes(&v, &out);
    CHECK_MEM(out.p, out.n, dflt, sizeof(dflt) - 1);
    free(out.p);
}

/*
 * An MTA offering only QUARANTINE: no headers may be added, so a quarantine
 * is 'q' + ACCEPT and an add-header verdict a bare ACCEPT. No task needed.
 */
TM_TEST(milter_verdict_actions_limited)
{
    struct tm_milter m;
    struct bytes in = {0}, out = {0};
    struct tm_verdict v;
    unsigned ev;

    REQUIRE(tm_milter_init(&m, NULL) == TM_OK);
    P(&in, 'O',
      "\x00\x00\x00\x06"
      "\x00\x00\x00\x20"
      "\x00\x1f\xff\xff");
    P(&in, 'E', "");
    CHECK_EQ_INT(tm_milter_feed(&m, in.p, in.n, &ev), TM_OK);
    CHECK_EQ_INT(ev, TM_MILTER_EV_EOM);
    CHECK_EQ_INT(m.actions, 0x20);
    take_out(&m, &out);
    out.n = 0;
    verdict_init(&v, TM_ACT_QUARANTINE, 9.0, NULL, 0);
    v.forced_by = "EICAR";
    CHECK_EQ_INT(tm_milter_verdict(&m, &v, NULL), TM_OK);
    take_out(&m, &out);
    CHECK_LIT(out.p, out.n,
              "\x00\x00\x00\x19q"
              "Tamis: score 9.0, EICAR\0" ACCEPT);
    CHECK_EQ_INT(tm_milter_verdict(&m, &v, NULL), TM_EINVAL); /* nothing pending */
    CHECK_EQ_INT(tm_milter_tempfail(&m), TM_EINVAL);
    in.n = 0;
    P(&in, 'E', "");
    CHECK_EQ_INT(tm_milter_feed(&m, in.p, in.n, &ev), TM_OK);
    out.n = 0;
    verdict_init(&v, TM_ACT_REWRITE_SUBJECT, 9.0, NULL, 0);
    CHECK_EQ_INT(tm_milter_verdict(&m, &v, NULL), TM_OK);
    take_out(&m, &out);
    CHECK_LIT(out.p, out.n, ACCEPT);
    tm_milter_free(&m);
    free(in.p);
    free(out.p);
}

/* REWRITE_SUBJECT without a Subject adds one; an already marked one is left alone. */
TM_TEST(milter_verdict_subject_cases)
{
    struct tm_engine *eng = NULL;
    struct tm_task *t = new_task(&eng);
    struct tm_milter_cfg cfg;
    struct tm_milter m;
    struct bytes in = {0}, out = {0};
    struct tm_verdict v;
    unsigned ev;

    REQUIRE(t != NULL);
    tm_milter_cfg_default(&cfg);
    cfg.actions = TM_SMFIF_CHGHDRS | TM_SMFIF_ADDHDRS;
    REQUIRE(tm_milter_init(&m, &cfg) == TM_OK);
    P(&in, 'O',
      "\x00\x00\x00\x06"
      "\x00\x00\x00\x11"
      "\x00\x1f\xff\xff");
    P(&in, 'L', "Subject\0[SPAM] old\0");
    P(&in, 'E', "");
    CHECK_EQ_INT(tm_milter_feed(&m, in.p, in.n, &ev), TM_OK);
    take_out(&m, &out);
    out.n = 0;
    verdict_init(&v, TM_ACT_REWRITE_SUBJECT, 6.0, NULL, 0);
    CHECK_EQ_INT(tm_milter_verdict(&m, &v, t), TM_OK);
    take_out(&m, &out);
    /* 4 ADDHEADERs and the ACCEPT, no 'm' */
    REQUIRE(out.n > 5);
    CHECK_LIT(out.p + out.n - 5, 5, ACCEPT);
    CHECK_EQ_SIZE(count_cmd(&out, 'm'), 0);
    CHECK_EQ_SIZE(count_cmd(&out, 'h'), 4);
    in.n = 0;
    P(&in, 'L', "To\0x@y\0");
    P(&in, 'E', "");
    CHECK_EQ_INT(tm_milter_feed(&m, in.p, in.n, &ev), TM_OK);
    out.n = 0;
    CHECK_EQ_INT(tm_milter_verdict(&m, &v, NULL), TM_OK);
    take_out(&m, &out);
    CHECK_LIT(out.p, out.n,
              "\x00\x00\x00\x10h"
              "Subject\0[SPAM]\0" ACCEPT);
    tm_milter_free(&m);
    drop_task(eng, t);
    free(in.p);
    free(out.p);
}

const struct tm_test tests_milter[] = {
    TM_TEST_ENTRY(milter_optneg_postfix),
    TM_TEST_ENTRY(milter_optneg_v2_continues),
    TM_TEST_ENTRY(milter_optneg_no_nr),
    TM_TEST_ENTRY(milter_optneg_bad),
    TM_TEST_ENTRY(milter_postfix_session),
    TM_TEST_ENTRY(milter_fragmented),
    TM_TEST_ENTRY(milter_two_messages),
    TM_TEST_ENTRY(milter_abort_midway),
    TM_TEST_ENTRY(milter_quit_nc),
    TM_TEST_ENTRY(milter_framing_errors),
    TM_TEST_ENTRY(milter_hold_bound),
    TM_TEST_ENTRY(milter_output_cap),
    TM_TEST_ENTRY(milter_macros),
    TM_TEST_ENTRY(milter_message_truncated),
    TM_TEST_ENTRY(milter_verdict_none),
    TM_TEST_ENTRY(milter_verdict_add_header),
    TM_TEST_ENTRY(milter_verdict_rewrite_subject),
    TM_TEST_ENTRY(milter_verdict_quarantine),
    TM_TEST_ENTRY(milter_verdict_reject), TM_TEST_ENTRY(milter_verdict_discard),
    TM_TEST_ENTRY(milter_verdict_soft_reject),
    TM_TEST_ENTRY(milter_verdict_actions_limited),
    TM_TEST_ENTRY(milter_verdict_subject_cases),
    TM_TEST_END,
};
