/*
 * fuzz_spamd.c - the SPAMC/SPAMD codec alone: the input is a request, fed
 * whole and again in pseudo-random pieces (the split comes from a hash of
 * the input), then EOF; a complete request is answered with a fixed verdict
 * whose action comes from the input's last byte, a broken one with its
 * error line. Small max_message so the size limits are a few mutations away.
 *
 * Invariants: whole and split parsing agree (status, method, message bytes);
 * an answer starts with "SPAMD/1." (SKIP: empty); an error line is one
 * "SPAMD/1.0 <code> ...\r\n" line; when the answer has a Content-length
 * header, it equals the number of bytes after the first empty line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/core.h"
#include "core/limits.h"
#include "core/task.h"
#include "proto/spamd.h"
#include "verdict/verdict.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_MESSAGE 4096u

static struct tm_engine *engine;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct tm_limits lim = tm_limits_default();

    (void)argc;
    (void)argv;
    lim.task_arena_budget = 8u << 20;
    if ((engine = tm_engine_new_bare(&lim)) == NULL)
        abort();
    return 0;
}

struct run {
    struct tm_spamd s;
    tm_rc rc;
    int done;
};

static void
run(struct run *r, const uint8_t *data, size_t size, uint32_t seed)
{
    struct tm_spamd_cfg cfg;
    size_t i = 0, n;

    cfg.max_message = FUZZ_MAX_MESSAGE;
    if (tm_spamd_init(&r->s, &cfg) != TM_OK)
        abort();
    r->done = 0;
    r->rc = TM_OK;
    while (i < size && !r->done) {
        if (seed == 0) {
            n = size - i;
        } else {
            seed = seed * 1103515245u + 12345u;
            n = 1 + (seed >> 16) % 64;
            if (n > size - i)
                n = size - i;
        }
        r->rc = tm_spamd_feed(&r->s, data + i, n, &r->done);
        TM_ASSERT(r->rc == TM_OK || r->done);
        i += n;
    }
    if (!r->done)
        r->rc = tm_spamd_eof(&r->s, &r->done);
    TM_ASSERT(r->done);
}

/* check_answer - status line and Content-length agree with the bytes */
static void
check_answer(const unsigned char *p, size_t n)
{
    const unsigned char *end = NULL;
    size_t i, head, clen = 0;
    int have = 0;

    TM_ASSERT(n >= 10 && memcmp(p, "SPAMD/1.", 8) == 0);
    for (i = 0; i + 3 < n; i++)
        if (memcmp(p + i, "\r\n\r\n", 4) == 0) {
            end = p + i;
            break;
        }
    if (end == NULL) {
        /* one line only: PONG or an error */
        TM_ASSERT(p[n - 2] == '\r' && p[n - 1] == '\n');
        TM_ASSERT(memchr(p, '\n', n - 1) == NULL);
        return;
    }
    head = (size_t)(end - p) + 4;
    for (i = 0; i + 18 <= head; i++)
        if (memcmp(p + i, "\r\nContent-length: ", 18) == 0) {
            size_t k = i + 18;
            TM_ASSERT(!have);
            have = 1;
            while (k < head && p[k] >= '0' && p[k] <= '9')
                clen = clen * 10 + (size_t)(p[k++] - '0');
            TM_ASSERT(p[k] == '\r');
        }
    if (have)
        TM_ASSERT(clen == n - head);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run whole, split;
    struct tm_task *t;
    struct tm_symbol syms[2];
    struct tm_verdict v;
    struct tm_buf out;
    uint32_t seed = 2166136261u;
    const unsigned char *m1, *m2;
    size_t i, l1, l2;

    for (i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 16777619u;
    run(&whole, data, size, 0);
    run(&split, data, size, seed | 1);
    TM_ASSERT(whole.rc == split.rc);
    TM_ASSERT(tm_spamd_method(&whole.s) == tm_spamd_method(&split.s));
    m1 = tm_spamd_message(&whole.s, &l1);
    m2 = tm_spamd_message(&split.s, &l2);
    TM_ASSERT(l1 == l2 && (l1 == 0 || memcmp(m1, m2, l1) == 0));
    TM_ASSERT(l1 <= FUZZ_MAX_MESSAGE);

    if ((t = tm_task_new(engine)) == NULL)
        abort();
    tm_buf_init(&out, t->arena, 2 * FUZZ_MAX_MESSAGE + (256u << 10));
    if (whole.rc != TM_OK) {
        TM_ASSERT(tm_spamd_error(&whole.s, &out) == TM_OK);
        TM_ASSERT(out.len > 15 && memcmp(out.data, "SPAMD/1.0 ", 10) == 0);
        check_answer(out.data, out.len);
    } else {
        memset(syms, 0, sizeof(syms));
        memset(&v, 0, sizeof(v));
        syms[0].name = "RULE_B";
        syms[0].score = 4.0;
        syms[0].description = "Second rule";
        syms[1].name = "RULE_A";
        syms[1].score = 3.4;
        syms[1].description = "First\trule\n";
        v.syms = syms;
        v.n = 2;
        v.score = 7.45;
        v.required = 5.0;
        v.action = size > 0 ? (enum tm_action)(data[size - 1] % TM_ACT__COUNT) : TM_ACT_NONE;
        TM_ASSERT(tm_spamd_respond(&whole.s, t, &v, &out) == TM_OK);
        if (tm_spamd_method(&whole.s) == TM_SPAMD_SKIP)
            TM_ASSERT(out.len == 0);
        else
            check_answer(out.data, out.len);
    }
    tm_task_free(t);
    tm_spamd_free(&whole.s);
    tm_spamd_free(&split.s);
    return 0;
}
