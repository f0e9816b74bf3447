/*
 * fuzz_milter.c - the milter server session (scanner/proto/milter.c) fed an
 * MTA byte stream. Input: one control byte, then the stream. The control
 * byte picks the options (bit 0: ask for NR_* or not; bit 1: ask for macro
 * lists) and seeds the split sizes: the stream goes in in pseudo-random
 * pieces of 1..512 bytes. At each end of message the session is answered
 * with a verdict whose action cycles through all of them (and every fourth
 * time with a tempfail), then the held bytes are parsed.
 *
 * Small limits (Postfix's driver idea) so the limit branches are a few
 * mutations away. Invariants, after every call: the output is a sequence of
 * whole, well-framed reply packets (length field >= 1 and matching, a known
 * reply code, OPTNEG reply first and once); the message is at most
 * max_message bytes; counts stay under their bounds; the held input is at
 * most max_packet + 5 bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/limits.h"
#include "core/task.h"
#include "proto/milter.h"
#include "verdict/verdict.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tm_engine *engine;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct tm_limits lim = tm_limits_default();

    (void)argc;
    (void)argv;
    if ((engine = tm_engine_new_bare(&lim)) == NULL)
        abort();
    return 0;
}

static void
check_state(const struct tm_milter *m)
{
    size_t s;

    TM_ASSERT(m->msglen <= m->cfg.max_message);
    TM_ASSERT(m->env.nrcpt <= m->cfg.max_rcpts);
    TM_ASSERT(m->env.nesmtp <= m->cfg.max_esmtp_args);
    TM_ASSERT(m->inoff <= m->inlen && m->inlen <= m->incap);
    TM_ASSERT(m->inlen - m->inoff <= m->cfg.max_packet + 5);
    TM_ASSERT(m->outlen <= m->cfg.max_output);
    for (s = 0; s < TM_MILTER_NSTAGES; s++)
        TM_ASSERT(m->nmacros[s] <= m->cfg.max_macros);
    if (m->env.helo != NULL)
        TM_ASSERT(strlen(m->env.helo) <= m->cfg.max_string);
}

/* check_out - the queued output is whole reply packets; then drop it */
static void
check_out(struct tm_milter *m, int *saw_optneg)
{
    static const char codes[] = "Ocadhmqryt";
    const unsigned char *o;
    size_t n, off = 0, len;

    o = tm_milter_output(m, &n);
    while (off < n) {
        TM_ASSERT(n - off >= 5);
        len =
            (size_t)o[off] << 24 | (size_t)o[off + 1] << 16 | (size_t)o[off + 2] << 8 | o[off + 3];
        TM_ASSERT(len >= 1 && len - 1 <= n - off - 5);
        TM_ASSERT(o[off + 4] != 0 && strchr(codes, o[off + 4]) != NULL);
        if (o[off + 4] == 'O') {
            TM_ASSERT(!*saw_optneg && len >= 13);
            *saw_optneg = 1;
        } else {
            TM_ASSERT(*saw_optneg);
        }
        if (o[off + 4] == 'h' || o[off + 4] == 'q' || o[off + 4] == 'y')
            TM_ASSERT(len >= 2 && o[off + 3 + len] == 0); /* NUL-terminated payload */
        off += 4 + len;
    }
    TM_ASSERT(off == n);
    tm_milter_output_consume(m, n);
}

static void
answer(struct tm_milter *m, unsigned *count)
{
    static struct tm_symbol syms[2] = {{.name = "FUZZ_B", .score = 3.0},
                                       {.name = "FUZZ_A", .score = 4.5}};
    struct tm_verdict v;
    struct tm_task *t;
    const unsigned char *msg;
    size_t len;
    tm_rc rc;

    static const char *const names[] = {"i", "{i}", "{auth_authen}", "client_addr", "_", "j"};
    const char *val;
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if ((val = tm_milter_macro(m, names[i])) != NULL)
            TM_ASSERT(strlen(val) <= m->cfg.max_macro_len);
    (void)tm_milter_queue_id(m);
    (void)tm_milter_auth_user(m);
    tm_milter_message(m, &msg, &len);
    TM_ASSERT(len <= m->cfg.max_message);
    if (len > 0)
        TM_ASSERT(msg != NULL);
    if (*count % 4 == 3) {
        TM_ASSERT(tm_milter_tempfail(m) == TM_OK);
    } else {
        if ((t = tm_task_new(engine)) == NULL)
            abort();
        memset(&v, 0, sizeof(v));
        v.action = (enum tm_action)(*count % TM_ACT__COUNT);
        v.score = 7.5;
        v.required = 5.0;
        v.syms = syms;
        v.n = 2;
        v.smtp_reply = (*count & 8) ? "550 5.7.1 100% bad" : (*count & 16) ? "451 x\r\n" : NULL;
        rc = tm_milter_verdict(m, &v, t);
        TM_ASSERT(rc == TM_OK || rc == TM_EPROTO);
        tm_task_free(t);
    }
    ++*count;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tm_milter_cfg cfg;
    struct tm_milter m;
    uint32_t rnd;
    unsigned ev, count = 0;
    int saw_optneg = 0;
    size_t off = 1;
    tm_rc rc = TM_OK;

    if (size < 1)
        return 0;
    tm_milter_cfg_default(&cfg);
    cfg.max_packet = 65535;
    cfg.max_cmd = 1024;
    cfg.max_message = 4096;
    cfg.max_macros = 4;
    cfg.max_macro_len = 32;
    cfg.max_rcpts = 4;
    cfg.max_esmtp_args = 2;
    cfg.max_string = 64;
    cfg.max_output = 64u << 10;
    cfg.no_reply = data[0] & 1;
    cfg.request_macros = (data[0] >> 1) & 1;
    TM_ASSERT(tm_milter_init(&m, &cfg) == TM_OK);
    rnd = 0x9e3779b9u ^ data[0];
    while (off < size && rc == TM_OK) {
        size_t k;

        rnd ^= rnd << 13;
        rnd ^= rnd >> 17;
        rnd ^= rnd << 5;
        k = 1 + rnd % 512;
        if (k > size - off)
            k = size - off;
        rc = tm_milter_feed(&m, data + off, k, &ev);
        off += k;
        check_state(&m);
        check_out(&m, &saw_optneg);
        while (rc == TM_OK && (ev & TM_MILTER_EV_EOM)) {
            answer(&m, &count);
            check_out(&m, &saw_optneg);
            rc = tm_milter_feed(&m, NULL, 0, &ev);
            check_state(&m);
            check_out(&m, &saw_optneg);
        }
        if (ev & TM_MILTER_EV_QUIT)
            break;
    }
    TM_ASSERT(rc == TM_OK || rc == TM_EPROTO);
    tm_milter_free(&m);
    return 0;
}
