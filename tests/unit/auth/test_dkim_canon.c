/*
 * test_dkim_canon.c - the raw header-field splitter and the four
 * canonicalisations of RFC 6376 3.4, on the example of section 3.4.5 (the
 * expected bytes written out by hand from the RFC text) and edge cases.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "auth/dkim_int.h"
#include "core/arena.h"
#include "suites.h"

struct sink {
    unsigned char buf[4096];
    size_t len;
};

static void
put(void *ud, const unsigned char *p, size_t n)
{
    struct sink *s = ud;

    if (n > sizeof(s->buf) - s->len)
        n = sizeof(s->buf) - s->len;
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

/* RFC 6376 3.4.5: the example message, then what each canonicalisation makes of it */
static const char rfc_msg[] = "A: X\r\n"
                              "B : Y\t\r\n"
                              "\tZ  \r\n"
                              "\r\n"
                              " C \r\n"
                              "D \t E\r\n"
                              "\r\n"
                              "\r\n";

static void
canon_all_headers(const struct dkim_msg *m, enum tm_dkim_canon c, struct sink *s)
{
    size_t i;

    s->len = 0;
    for (i = 0; i < m->nf; i++)
        dkim_canon_header(c, m->f[i].p, m->f[i].len, 1, put, s);
}

TM_TEST(canon_rfc6376_example_relaxed)
{
    struct tm_arena *a = tm_arena_new(1u << 20);
    struct dkim_msg m;
    struct sink s;
    uint64_t n;

    REQUIRE(a != NULL);
    REQUIRE(dkim_msg_parse(a, TM_LIT(rfc_msg), 100, &m) == TM_OK);
    REQUIRE(m.nf == 2);
    canon_all_headers(&m, TM_DKIM_RELAXED, &s);
    CHECK_MEM(s.buf, s.len, "a:X\r\nb:Y Z\r\n", 12);
    s.len = 0;
    n = dkim_canon_body(TM_DKIM_RELAXED, m.body, m.bodylen, put, &s);
    CHECK_MEM(s.buf, s.len, " C\r\nD E\r\n", 9);
    CHECK_EQ_SIZE(n, 9);
    tm_arena_free(a);
}

TM_TEST(canon_rfc6376_example_simple)
{
    struct tm_arena *a = tm_arena_new(1u << 20);
    struct dkim_msg m;
    struct sink s;
    uint64_t n;

    REQUIRE(a != NULL);
    REQUIRE(dkim_msg_parse(a, TM_LIT(rfc_msg), 100, &m) == TM_OK);
    canon_all_headers(&m, TM_DKIM_SIMPLE, &s);
    CHECK_MEM(s.buf, s.len, "A: X\r\nB : Y\t\r\n\tZ  \r\n", 20);
    s.len = 0;
    n = dkim_canon_body(TM_DKIM_SIMPLE, m.body, m.bodylen, put, &s);
    CHECK_MEM(s.buf, s.len, " C \r\nD \t E\r\n", 12);
    CHECK_EQ_SIZE(n, 12);
    tm_arena_free(a);
}

static void
body_case(enum tm_dkim_canon c, const char *in, const char *want)
{
    struct sink s;
    uint64_t n;

    s.len = 0;
    n = dkim_canon_body(c, (const unsigned char *)in, strlen(in), put, &s);
    CHECK_MEM(s.buf, s.len, want, strlen(want));
    CHECK_EQ_SIZE(n, strlen(want));
}

TM_TEST(canon_body_edges)
{
    /* simple (3.4.3): empty is CRLF; trailing empty lines go; a missing CRLF is added */
    body_case(TM_DKIM_SIMPLE, "", "\r\n");
    body_case(TM_DKIM_SIMPLE, "\r\n\r\n\r\n", "\r\n");
    body_case(TM_DKIM_SIMPLE, "abc", "abc\r\n");
    body_case(TM_DKIM_SIMPLE, "abc\r\n\r\n", "abc\r\n");
    body_case(TM_DKIM_SIMPLE, "abc\r\n \r\n", "abc\r\n \r\n"); /* " " is not empty */
    body_case(TM_DKIM_SIMPLE, "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n");
    /* relaxed (3.4.4, erratum 3133): empty stays empty; WSP-only lines are empty lines */
    body_case(TM_DKIM_RELAXED, "", "");
    body_case(TM_DKIM_RELAXED, "\r\n\r\n", "");
    body_case(TM_DKIM_RELAXED, " \t\r\n\t\r\n", "");
    body_case(TM_DKIM_RELAXED, "abc", "abc\r\n");
    body_case(TM_DKIM_RELAXED, "a\r\n \t \r\nb \r\n", "a\r\n\r\nb\r\n");
    body_case(TM_DKIM_RELAXED, "a\r\n  \r\n\t\r\n", "a\r\n");
    body_case(TM_DKIM_RELAXED, "\t x\t\ty  z \t\r\n", " x y z\r\n");
    body_case(TM_DKIM_RELAXED, "a\rb\r\n", "a\rb\r\n"); /* a bare CR is not a line end */
}

static void
header_case(enum tm_dkim_canon c, const char *in, const char *want)
{
    struct sink s;

    s.len = 0;
    dkim_canon_header(c, (const unsigned char *)in, strlen(in), 1, put, &s);
    CHECK_MEM(s.buf, s.len, want, strlen(want));
}

TM_TEST(canon_header_edges)
{
    header_case(TM_DKIM_RELAXED, "SUBJect:\t Hello  World \r\n", "subject:Hello World\r\n");
    header_case(TM_DKIM_RELAXED, "To \t:x\r\n", "to:x\r\n");
    header_case(TM_DKIM_RELAXED, "X-A: a\r\n\r\n b\r\n", "x-a:a b\r\n"); /* odd but unfolds */
    header_case(TM_DKIM_RELAXED, "X:\r\n", "x:\r\n");
    header_case(TM_DKIM_RELAXED, "X: a\r\n \t\r\n", "x:a\r\n"); /* trailing folded WSP */
    header_case(TM_DKIM_RELAXED, "X:\r\n  a\r\n", "x:a\r\n");
    header_case(TM_DKIM_SIMPLE, "X-A: a\r\n b \r\n", "X-A: a\r\n b \r\n");
    header_case(TM_DKIM_SIMPLE, "X-A: a", "X-A: a\r\n"); /* a last field without CRLF */
}

TM_TEST(msg_split)
{
    static const char msg[] = "Received: one\n"
                              "  two\n"
                              "not a field\n"
                              "Subject : s\n"
                              "\tfolded\n"
                              "\n"
                              "body\n";
    struct tm_arena *a = tm_arena_new(1u << 20);
    struct dkim_msg m;

    REQUIRE(a != NULL);
    REQUIRE(dkim_msg_parse(a, TM_LIT(msg), 100, &m) == TM_OK);
    REQUIRE(m.nf == 3);
    /* LF line ends were made CRLF, folding kept as written */
    CHECK_MEM(m.f[0].p, m.f[0].len, "Received: one\r\n  two\r\n", 22);
    CHECK(dkim_field_is(&m.f[0], "received"));
    CHECK_EQ_SIZE(m.f[1].namelen, 0); /* no colon: never matches a name */
    CHECK(!dkim_field_is(&m.f[1], "not a field"));
    CHECK_MEM(m.f[2].p, m.f[2].len, "Subject : s\r\n\tfolded\r\n", 22);
    CHECK(dkim_field_is(&m.f[2], "SUBJECT"));
    CHECK_EQ_SIZE(dkim_field_value_len(&m.f[2]), strlen(" s\r\n\tfolded"));
    CHECK_MEM(m.body, m.bodylen, "body\r\n", 6);
    tm_arena_free(a);
}

TM_TEST(msg_split_edges)
{
    struct tm_arena *a = tm_arena_new(1u << 20);
    struct dkim_msg m;

    REQUIRE(a != NULL);
    /* no empty line: all header, no body */
    REQUIRE(dkim_msg_parse(a, TM_LIT("A: 1\r\nB: 2"), 100, &m) == TM_OK);
    CHECK_EQ_SIZE(m.nf, 2);
    CHECK_EQ_SIZE(m.bodylen, 0);
    CHECK_MEM(m.f[1].p, m.f[1].len, "B: 2", 4);
    /* an empty header */
    REQUIRE(dkim_msg_parse(a, TM_LIT("\r\nbody"), 100, &m) == TM_OK);
    CHECK_EQ_SIZE(m.nf, 0);
    CHECK_MEM(m.body, m.bodylen, "body", 4);
    /* a continuation line first */
    REQUIRE(dkim_msg_parse(a, TM_LIT(" x\r\nA: 1\r\n\r\n"), 100, &m) == TM_OK);
    CHECK_EQ_SIZE(m.nf, 2);
    CHECK_EQ_SIZE(m.f[0].namelen, 0);
    /* the field limit: the rest are counted, not kept */
    REQUIRE(dkim_msg_parse(a, TM_LIT("A: 1\r\nB: 2\r\nC: 3\r\n\r\nb"), 2, &m) == TM_OK);
    CHECK_EQ_SIZE(m.nf, 2);
    CHECK_EQ_SIZE(m.nf_dropped, 1);
    CHECK_MEM(m.body, m.bodylen, "b", 1);
    /* empty input */
    REQUIRE(dkim_msg_parse(a, (const unsigned char *)"", 0, 100, &m) == TM_OK);
    CHECK_EQ_SIZE(m.nf, 0);
    CHECK_EQ_SIZE(m.bodylen, 0);
    tm_arena_free(a);
}

const struct tm_test tests_dkim_canon[] = {
    TM_TEST_ENTRY(canon_rfc6376_example_relaxed),
    TM_TEST_ENTRY(canon_rfc6376_example_simple),
    TM_TEST_ENTRY(canon_body_edges),
    TM_TEST_ENTRY(canon_header_edges),
    TM_TEST_ENTRY(msg_split),
    TM_TEST_ENTRY(msg_split_edges),
    TM_TEST_END,
};
