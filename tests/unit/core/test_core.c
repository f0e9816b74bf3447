/*
 * test_core.c - the core module: arena (alignment, budget, on_free), tm_buf
 * (cap without side effects), tm_limits_set (names, ranges, suffixes), the
 * str helpers, findings names and the task's finding/failure bookkeeping.
 *
 * The table-driven limit tests read tm_limit_table so they follow the real
 * ranges instead of copying them.
 */
#include "harness.h"
#include "suites.h"

#include <stdint.h>
#include <stdio.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/core.h"
#include "core/findings.h"
#include "core/limits.h"
#include "core/str.h"
#include "core/task.h"

/* ---- arena ----------------------------------------------------------- */

/* Every allocation is aligned for any scalar (at least 8 bytes). */
TM_TEST(arena_alignment)
{
    static const size_t sizes[] = {1, 3, 7, 8, 13, 16, 17, 31, 100, 1, 2, 4095, 5, 65537, 9};
    struct tm_arena *a = tm_arena_new(1u << 20);
    size_t i;

    REQUIRE(a != NULL);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        void *p = tm_arena_alloc(a, sizes[i]);

        CHECK(p != NULL);
        CHECK_EQ_SIZE((uintptr_t)p % 8, 0);
    }
    for (i = 0; i < 10; i++) {
        void *p = tm_arena_calloc(a, 3, 7);

        CHECK(p != NULL);
        CHECK_EQ_SIZE((uintptr_t)p % 8, 0);
    }
    tm_arena_free(a);
}

/* Blocks do not overlap: fill each with its own byte, then re-read all. */
TM_TEST(arena_no_overlap)
{
    unsigned char *blk[200];
    size_t len[200];
    struct tm_arena *a = tm_arena_new(4u << 20);
    size_t i, j;
    int ok = 1;

    REQUIRE(a != NULL);
    for (i = 0; i < 200; i++) {
        len[i] = 1 + (i * 37) % 3000;
        blk[i] = tm_arena_alloc(a, len[i]);
        REQUIRE(blk[i] != NULL);
        memset(blk[i], (int)(i & 0xff), len[i]);
    }
    for (i = 0; i < 200 && ok; i++)
        for (j = 0; j < len[i]; j++)
            if (blk[i][j] != (unsigned char)(i & 0xff)) {
                tm_test_fail(__FILE__, __LINE__, "block %zu byte %zu overwritten", i, j);
                ok = 0;
                break;
            }
    tm_arena_free(a);
}

TM_TEST(arena_calloc_zeroes_and_overflow)
{
    struct tm_arena *a = tm_arena_new(1u << 20);
    unsigned char *p;
    size_t i;

    REQUIRE(a != NULL);
    /* dirty some memory first so a reused chunk would show */
    p = tm_arena_alloc(a, 4096);
    REQUIRE(p != NULL);
    memset(p, 0xee, 4096);
    p = tm_arena_calloc(a, 100, 10);
    REQUIRE(p != NULL);
    for (i = 0; i < 1000; i++)
        if (p[i] != 0)
            break;
    CHECK_EQ_SIZE(i, 1000);
    /* n * size wraps around: must fail, not allocate a tiny block */
    CHECK(tm_arena_calloc(a, SIZE_MAX / 2 + 2, 2) == NULL);
    CHECK(tm_arena_alloc(a, SIZE_MAX) == NULL);
    CHECK(tm_arena_alloc(a, SIZE_MAX - 8) == NULL);
    tm_arena_free(a);
}

/* arena.h: exhausting the budget returns NULL, never exits. */
TM_TEST(arena_budget)
{
    struct tm_arena *a = tm_arena_new(64u * 1024);
    size_t got = 0;
    int i;

    REQUIRE(a != NULL);
    CHECK_EQ_SIZE(tm_arena_budget(a), 64u * 1024);
    CHECK(tm_arena_alloc(a, 128u * 1024) == NULL);
    for (i = 0; i < 10000; i++) {
        if (tm_arena_alloc(a, 1000) == NULL)
            break;
        got += 1000;
    }
    CHECK(i < 10000); /* it did run out */
    CHECK_LE_SIZE(got, 64u * 1024);
    CHECK(got >= 32u * 1024); /* and not absurdly early */
    CHECK_LE_SIZE(tm_arena_used(a), tm_arena_budget(a));
    CHECK(tm_arena_alloc(a, 1000) == NULL);
    tm_arena_free(a);
}

/* One allocation bigger than any chunk, within the budget. */
TM_TEST(arena_large_block)
{
    struct tm_arena *a = tm_arena_new(4u << 20);
    unsigned char *p;

    REQUIRE(a != NULL);
    p = tm_arena_alloc(a, 1u << 20);
    REQUIRE(p != NULL);
    memset(p, 0x5a, 1u << 20);
    CHECK(p[(1u << 20) - 1] == 0x5a);
    CHECK(tm_arena_used(a) >= (1u << 20));
    tm_arena_free(a);
}

static int freed_a, freed_b;
static int free_order[4];
static int free_n;

static void
on_free_a(void *obj)
{
    freed_a += *(int *)obj;
    if (free_n < 4)
        free_order[free_n++] = 1;
}

static void
on_free_b(void *obj)
{
    (void)obj;
    freed_b++;
    if (free_n < 4)
        free_order[free_n++] = 2;
}

/* arena.h: tm_arena_on_free ties foreign objects to the arena's lifetime. */
TM_TEST(arena_on_free)
{
    struct tm_arena *a = tm_arena_new(1u << 20);
    static int ten = 10;

    REQUIRE(a != NULL);
    freed_a = freed_b = free_n = 0;
    /* the return value is int: negative would be a failure */
    CHECK(tm_arena_on_free(a, on_free_a, &ten) >= 0);
    CHECK(tm_arena_on_free(a, on_free_b, NULL) >= 0);
    CHECK(tm_arena_on_free(a, on_free_a, &ten) >= 0);
    (void)tm_arena_alloc(a, 100);
    CHECK_EQ_INT(freed_a, 0);
    CHECK_EQ_INT(freed_b, 0);
    tm_arena_free(a);
    CHECK_EQ_INT(freed_a, 20);
    CHECK_EQ_INT(freed_b, 1);
    CHECK_EQ_INT(free_n, 3);
}

TM_TEST(arena_strings)
{
    struct tm_arena *a = tm_arena_new(1u << 20);
    char *s;
    unsigned char *p, *q;

    REQUIRE(a != NULL);
    s = tm_arena_strndup(a, "hello world", 5);
    CHECK_STR(s, "hello");
    s = tm_arena_strdup(a, "abc");
    CHECK_STR(s, "abc");
    s = tm_arena_lowerdup(a, "HeLLo-WORLD 123\xc3\x89", 17);
    CHECK_STR(s, "hello-world 123\xc3\x89"); /* ASCII only: bytes >= 0x80 unchanged */
    p = tm_arena_alloc(a, 10);
    REQUIRE(p != NULL);
    memcpy(p, "0123456789", 10);
    q = tm_arena_realloc(a, p, 10, 1000);
    REQUIRE(q != NULL);
    CHECK_MEM(q, 10, "0123456789", 10);
    tm_arena_free(a);
}

/* ---- buf ------------------------------------------------------------- */

/* buf.h: past the cap append fails with TM_ELIMIT and changes nothing. */
TM_TEST(buf_cap)
{
    struct tm_arena *a = tm_arena_new(1u << 20);
    struct tm_buf b;
    const unsigned char *data;

    REQUIRE(a != NULL);
    tm_buf_init(&b, a, 10);
    CHECK_EQ_SIZE(b.len, 0);
    CHECK_EQ_INT(tm_buf_append(&b, "abcdef", 6), TM_OK);
    CHECK_MEM(b.data, b.len, "abcdef", 6);
    data = b.data;
    CHECK_EQ_INT(tm_buf_append(&b, "ghijk", 5), TM_ELIMIT);
    CHECK_EQ_SIZE(b.len, 6);
    CHECK(b.data == data);
    CHECK_MEM(b.data, b.len, "abcdef", 6);
    CHECK_EQ_INT(tm_buf_append(&b, "ghij", 4), TM_OK);
    CHECK_MEM(b.data, b.len, "abcdefghij", 10);
    CHECK_EQ_INT(tm_buf_putc(&b, 'x'), TM_ELIMIT);
    CHECK_EQ_SIZE(b.len, 10);
    CHECK_EQ_INT(tm_buf_append(&b, "", 0), TM_OK);
    CHECK_EQ_INT(tm_buf_append(&b, "x", SIZE_MAX), TM_ELIMIT); /* no wrap in len + n */
    CHECK_EQ_SIZE(b.len, 10);
    tm_arena_free(a);
}

TM_TEST(buf_grow_putc_cstr)
{
    struct tm_arena *a = tm_arena_new(1u << 20);
    struct tm_buf b;
    unsigned char *r;
    tm_rc rc = TM_EIO;
    size_t i;
    int ok = 1;

    REQUIRE(a != NULL);
    tm_buf_init(&b, a, 100000);
    for (i = 0; i < 5000; i++)
        CHECK_EQ_INT(tm_buf_putc(&b, (unsigned char)('a' + i % 26)), TM_OK);
    CHECK_EQ_SIZE(b.len, 5000);
    CHECK_LE_SIZE(b.len, b.cap);
    for (i = 0; i < 5000 && ok; i++)
        if (b.data[i] != (unsigned char)('a' + i % 26))
            ok = 0;
    CHECK(ok);
    CHECK_STR(tm_buf_cstr(&b) + 4990, "yzabcdefgh"); /* 4990 % 26 = 24: 'y' */
    CHECK_EQ_SIZE(b.len, 5000);
    r = tm_buf_reserve(&b, 10, &rc);
    REQUIRE(r != NULL);
    CHECK_EQ_INT(rc, TM_OK);
    memcpy(r, "0123456789", 10);
    CHECK(r >= b.data && r + 10 <= b.data + b.cap);
    tm_arena_free(a);
}

/* buf.h: out of arena budget is TM_ENOMEM, also without side effects. */
TM_TEST(buf_arena_exhausted)
{
    struct tm_arena *a = tm_arena_new(4096);
    static unsigned char big[16384];
    struct tm_buf b;

    REQUIRE(a != NULL);
    tm_buf_init(&b, a, 1u << 20);
    CHECK_EQ_INT(tm_buf_append(&b, "abc", 3), TM_OK);
    CHECK_EQ_INT(tm_buf_append(&b, big, sizeof(big)), TM_ENOMEM);
    CHECK_MEM(b.data, b.len, "abc", 3);
    tm_arena_free(a);
}

/* ---- limits ---------------------------------------------------------- */

static const struct tm_limit_def *
limit_def(const char *name)
{
    size_t i;

    for (i = 0; i < tm_limit_count; i++)
        if (strcmp(tm_limit_table[i].name, name) == 0)
            return &tm_limit_table[i];
    return NULL;
}

/* limits.h: field names are <module>_max_<thing>, one row each, defaults in range. */
TM_TEST(limits_table)
{
    static const char *const names[] = {
        "message_max_size",   "mime_max_depth",         "mime_max_parts",        "mime_max_headers",
        "header_max_len",     "mime_max_boundary_len",  "mime_max_decoded_size", "mime_max_params",
        "mime_max_uu_blocks", "mime_max_encoded_words", "task_arena_budget",
    };
    struct tm_limits l = tm_limits_default();
    size_t i;

    CHECK(tm_limit_count >= sizeof(names) / sizeof(names[0]));
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const struct tm_limit_def *d = limit_def(names[i]);

        if (d == NULL) {
            tm_test_fail(__FILE__, __LINE__, "no limit named %s", names[i]);
            continue;
        }
        CHECK(d->min <= d->def && d->def <= d->max);
        CHECK_EQ_SIZE(tm_limits_get(&l, d), d->def);
        CHECK(d->doc != NULL);
    }
    /* the two the parser needs to be non-zero */
    CHECK(l.mime_max_depth > 0);
    CHECK(l.task_arena_budget > 0);
}

TM_TEST(limits_set)
{
    struct tm_limits l = tm_limits_default();
    char err[256];
    const struct tm_limit_def *d = limit_def("mime_max_depth");

    REQUIRE(d != NULL);
    err[0] = '\0';
    CHECK_EQ_INT(tm_limits_set(&l, "mime_max_depth", "10", err, sizeof(err)), TM_OK);
    CHECK_EQ_SIZE(l.mime_max_depth, 10);
    CHECK_EQ_SIZE(tm_limits_get(&l, d), 10);
    CHECK_EQ_INT(tm_limits_set(&l, "header_max_len", "2000", err, sizeof(err)), TM_OK);
    CHECK_EQ_SIZE(l.header_max_len, 2000);
    CHECK_EQ_SIZE(l.mime_max_depth, 10);
}

/* limits.h: an unknown name is an error with a message, never ignored. */
TM_TEST(limits_unknown_name)
{
    struct tm_limits l = tm_limits_default(), before = l;
    char err[256];

    err[0] = '\0';
    CHECK(tm_limits_set(&l, "no_such_limit", "10", err, sizeof(err)) != TM_OK);
    CHECK(err[0] != '\0');
    CHECK(memcmp(&l, &before, sizeof(l)) == 0);
    err[0] = '\0';
    CHECK(tm_limits_set(&l, "", "10", err, sizeof(err)) != TM_OK);
    CHECK(tm_limits_set(&l, "MIME_MAX_DEPTH_X", "10", err, sizeof(err)) != TM_OK);
}

/* limits.h: out of range is an error, "never a silent clamp". */
TM_TEST(limits_out_of_range)
{
    char err[256], val[64];
    size_t i;

    for (i = 0; i < tm_limit_count; i++) {
        const struct tm_limit_def *d = &tm_limit_table[i];
        struct tm_limits l = tm_limits_default(), before = l;

        if (d->max < SIZE_MAX) {
            snprintf(val, sizeof(val), "%zu", d->max + 1);
            err[0] = '\0';
            if (tm_limits_set(&l, d->name, val, err, sizeof(err)) == TM_OK)
                tm_test_fail(__FILE__, __LINE__, "%s=%s (max %zu) accepted", d->name, val, d->max);
            CHECK(err[0] != '\0');
            CHECK(memcmp(&l, &before, sizeof(l)) == 0);
        }
        if (d->min > 0) {
            snprintf(val, sizeof(val), "%zu", d->min - 1);
            if (tm_limits_set(&l, d->name, val, err, sizeof(err)) == TM_OK)
                tm_test_fail(__FILE__, __LINE__, "%s=%s (min %zu) accepted", d->name, val, d->min);
            CHECK(memcmp(&l, &before, sizeof(l)) == 0);
        }
        /* both ends themselves are fine */
        snprintf(val, sizeof(val), "%zu", d->min);
        CHECK_EQ_INT(tm_limits_set(&l, d->name, val, err, sizeof(err)), TM_OK);
        CHECK_EQ_SIZE(tm_limits_get(&l, d), d->min);
        snprintf(val, sizeof(val), "%zu", d->max);
        CHECK_EQ_INT(tm_limits_set(&l, d->name, val, err, sizeof(err)), TM_OK);
        CHECK_EQ_SIZE(tm_limits_get(&l, d), d->max);
    }
}

/* limits.h: optional k/m/g suffix (powers of 1024); junk is an error. */
TM_TEST(limits_suffixes_and_junk)
{
    static const char *const bad[] = {"",
                                      "abc",
                                      "-1",
                                      "10x",
                                      "1.5k",
                                      "k",
                                      " ",
                                      "99999999999999999999999",
                                      "18446744073709551616",
                                      "64kk"};
    char err[256];
    size_t i, tested = 0;

    for (i = 0; i < tm_limit_count; i++) {
        const struct tm_limit_def *d = &tm_limit_table[i];
        struct tm_limits l = tm_limits_default();

        if (d->min <= 65536 && 65536 <= d->max) {
            CHECK_EQ_INT(tm_limits_set(&l, d->name, "64k", err, sizeof(err)), TM_OK);
            CHECK_EQ_SIZE(tm_limits_get(&l, d), 65536);
            tested++;
        }
        if (d->min <= (2u << 20) && (2u << 20) <= d->max) {
            CHECK_EQ_INT(tm_limits_set(&l, d->name, "2m", err, sizeof(err)), TM_OK);
            CHECK_EQ_SIZE(tm_limits_get(&l, d), 2u << 20);
        }
        if (d->min <= (1u << 30) && (1u << 30) <= d->max) {
            CHECK_EQ_INT(tm_limits_set(&l, d->name, "1g", err, sizeof(err)), TM_OK);
            CHECK_EQ_SIZE(tm_limits_get(&l, d), 1u << 30);
        }
    }
    CHECK(tested > 0); /* some limit (message size, arena budget) takes 64k */
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct tm_limits l = tm_limits_default();

        if (tm_limits_set(&l, "message_max_size", bad[i], err, sizeof(err)) == TM_OK)
            tm_test_fail(__FILE__, __LINE__, "message_max_size=\"%s\" accepted", bad[i]);
    }
}

/* ---- str, findings, task --------------------------------------------- */

TM_TEST(str_helpers)
{
    struct tm_str t;

    CHECK(tm_str_ieq(tm_str_make("Content-Type", 12), "content-type"));
    CHECK(tm_str_ieq(tm_str_make("CONTENT-TYPE", 12), "Content-Type"));
    CHECK(!tm_str_ieq(tm_str_make("Content-Typ", 11), "content-type"));
    CHECK(!tm_str_ieq(tm_str_make("Content-Types", 13), "content-type"));
    CHECK(tm_str_ieq(TM_STR_NULL, ""));
    CHECK(tm_mem_ieq("aBc", "AbC", 3));
    CHECK(!tm_mem_ieq("abc", "abd", 3));
    CHECK(!tm_mem_ieq("\xc9", "\xe9", 1)); /* ASCII only */
    t = tm_str_trim(tm_str_make(" \t\r\nx y\r\n \t", 11));
    CHECK_MEM(t.p, t.len, "x y", 3);
    t = tm_str_trim(tm_str_make(" \r\n\t ", 5));
    CHECK_EQ_SIZE(t.len, 0);
    CHECK(tm_lower('A') == 'a' && tm_lower('z') == 'z' && tm_lower(0xC9) == 0xC9);
}

TM_TEST(findings_names)
{
    size_t i;

    CHECK_STR(tm_finding_name(TM_F_MIME_LIMIT_DEPTH), "MIME_LIMIT_DEPTH");
    CHECK_STR(tm_finding_name(TM_F_MESSAGE_TRUNCATED), "MESSAGE_TRUNCATED");
    CHECK_STR(tm_finding_name(TM_F_MIME_MSG_PARTIAL), "MIME_MSG_PARTIAL");
    for (i = 0; i < TM_F__COUNT; i++)
        CHECK(tm_finding_name((enum tm_finding)i) != NULL);
    CHECK(tm_rc_str(TM_OK) != NULL);
    CHECK(tm_rc_str(TM_ELIMIT) != NULL && tm_rc_str(TM_ENOMEM) != NULL);
}

/* task.h: findings count up; tm_task_fail keeps the first failure. */
TM_TEST(task_findings_and_fail)
{
    struct tm_limits lim = tm_limits_default();
    struct tm_engine *e;
    struct tm_task *t;
    size_t i;

    lim.mime_max_depth = 4;
    REQUIRE((e = tm_engine_new_bare(&lim)) != NULL);
    CHECK_EQ_SIZE(e->limits.mime_max_depth, 4);
    t = tm_task_new(e);
    if (t == NULL) {
        tm_engine_unref(e);
        REQUIRE(t != NULL);
    }
    CHECK(t->engine == e);
    CHECK(t->limits != NULL && t->limits->mime_max_depth == 4);
    CHECK(t->arena != NULL);
    for (i = 0; i < TM_F__COUNT; i++)
        CHECK_EQ_INT(t->findings[i], 0);
    CHECK_EQ_INT(t->error, TM_OK);
    tm_task_finding(t, TM_F_MIME_BAD_B64);
    tm_task_finding(t, TM_F_MIME_BAD_B64);
    tm_task_finding(t, TM_F_MIME_NUL_BYTE);
    CHECK_EQ_INT(t->findings[TM_F_MIME_BAD_B64], 2);
    CHECK_EQ_INT(t->findings[TM_F_MIME_NUL_BYTE], 1);
    CHECK_EQ_INT(t->findings[TM_F_MIME_BAD_QP], 0);
    tm_task_fail(t, TM_ENOMEM);
    tm_task_fail(t, TM_EIO);
    CHECK_EQ_INT(t->error, TM_ENOMEM);
    tm_task_free(t);
    tm_engine_unref(e);
}

const struct tm_test tests_core[] = {
    TM_TEST_ENTRY(arena_alignment),
    TM_TEST_ENTRY(arena_no_overlap),
    TM_TEST_ENTRY(arena_calloc_zeroes_and_overflow),
    TM_TEST_ENTRY(arena_budget),
    TM_TEST_ENTRY(arena_large_block),
    TM_TEST_ENTRY(arena_on_free),
    TM_TEST_ENTRY(arena_strings),
    TM_TEST_ENTRY(buf_cap),
    TM_TEST_ENTRY(buf_grow_putc_cstr),
    TM_TEST_ENTRY(buf_arena_exhausted),
    TM_TEST_ENTRY(limits_table),
    TM_TEST_ENTRY(limits_set),
    TM_TEST_ENTRY(limits_unknown_name),
    TM_TEST_ENTRY(limits_out_of_range),
    TM_TEST_ENTRY(limits_suffixes_and_junk),
    TM_TEST_ENTRY(str_helpers),
    TM_TEST_ENTRY(findings_names),
    TM_TEST_ENTRY(task_findings_and_fail),
    TM_TEST_END,
};
