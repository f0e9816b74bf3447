/*
 * test_params.c - structured header values (mime/params.h): Content-Type
 * (RFC 2045 5.1), Content-Disposition (RFC 2183) and RFC 2231 parameter
 * continuations, charsets and %XX encoding.
 *
 * Golden values are the examples of those RFCs (cited next to each); the
 * rest are hand-made hostile inputs where only the documented flags and the
 * invariants are checked: every parse returns, names are lower-case, values
 * are NUL-terminated well-formed UTF-8 of value_len bytes. ('*' may remain in
 * a name that is not a valid RFC 2231 name*N form: RFC 2045 5.1 token allows
 * it, so "x*-1" is a legal, if odd, parameter name.)
 */
#include "harness.h"
#include "suites.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/arena.h"
#include "mime/charset.h"
#include "mime/params.h"

#define ARENA_BUDGET (4u << 20)

static struct tm_arena *arena;
static struct tm_params P;
static unsigned flags;

static void
fin(void)
{
    if (arena != NULL)
        tm_arena_free(arena);
    arena = NULL;
}

static tm_rc
parse_n(const char *in, size_t len, size_t max_params)
{
    fin();
    if ((arena = tm_arena_new(ARENA_BUDGET)) == NULL) {
        tm_test_fail(__FILE__, __LINE__, "tm_arena_new failed");
        exit(2);
    }
    memset(&P, 0, sizeof(P));
    flags = 0;
    return tm_params_parse(arena, (const unsigned char *)in, len, max_params, &P, &flags);
}

/* sane - the invariants of params.h; returns 0 and says why when broken */
static int
sane(void)
{
    size_t i;
    const char *s;

    if (P.token == NULL) {
        printf("    token is NULL\n");
        return 0;
    }
    if (P.n > 0 && P.v == NULL) {
        printf("    n = %zu but v is NULL\n", P.n);
        return 0;
    }
    for (i = 0; i < P.n; i++) {
        if (P.v[i].name == NULL || P.v[i].value == NULL) {
            printf("    v[%zu] has a NULL name or value\n", i);
            return 0;
        }
        for (s = P.v[i].name; *s; s++) {
            if (*s >= 'A' && *s <= 'Z') {
                printf("    v[%zu].name \"%s\" not lower-case\n", i, P.v[i].name);
                return 0;
            }
        }
        if (P.v[i].value[P.v[i].value_len] != '\0') {
            printf("    v[%zu].value not NUL-terminated at value_len\n", i);
            return 0;
        }
        if (!tm_utf8_valid((const unsigned char *)P.v[i].value, P.v[i].value_len)) {
            printf("    v[%zu].value not UTF-8\n", i);
            return 0;
        }
    }
    return 1;
}

/* Parse a literal with room for 16 parameters: must succeed and be sane. */
#define PARSE(lit)                                                \
    do {                                                          \
        CHECK_EQ_INT(parse_n((lit), sizeof(lit) - 1, 16), TM_OK); \
        CHECK(sane());                                            \
    } while (0)

/* The first value of parameter `name` equals the literal. */
#define CHECK_PARAM(name, lit)                                                 \
    do {                                                                       \
        const struct tm_param *tm_p_ = tm_params_get(&P, (name));              \
        if (tm_p_ == NULL)                                                     \
            tm_test_fail(__FILE__, __LINE__, "no parameter \"%s\"", (name));   \
        else                                                                   \
            CHECK_MEM(tm_p_->value, tm_p_->value_len, (lit), sizeof(lit) - 1); \
    } while (0)

/* RFC 2045 5.1: "Content-type: text/plain; charset=us-ascii" both ways. */
TM_TEST(params_basic)
{
    PARSE("text/plain; charset=\"us-ascii\"");
    CHECK_STR(P.token, "text/plain");
    CHECK_EQ_SIZE(P.n, 1);
    CHECK_PARAM("charset", "us-ascii");
    CHECK_EQ_INT(flags, 0);
    PARSE("text/plain; charset=us-ascii");
    CHECK_STR(P.token, "text/plain");
    CHECK_PARAM("charset", "us-ascii");
    CHECK_EQ_INT(flags, 0);
    PARSE("text/html");
    CHECK_STR(P.token, "text/html");
    CHECK_EQ_SIZE(P.n, 0);
    CHECK(tm_params_get(&P, "charset") == NULL);
    CHECK_EQ_INT(flags, 0);
    fin();
}

/*
 * RFC 2045 5.1: type, subtype and parameter names are case-insensitive;
 * values are not in general (a boundary is compared byte for byte), so the
 * parser lower-cases names and keeps values as written.
 */
TM_TEST(params_case_folding)
{
    PARSE("Text/PLAIN; CharSet=US-ASCII; Boundary=\"AbC\"");
    CHECK_STR(P.token, "text/plain");
    CHECK_EQ_SIZE(P.n, 2);
    CHECK_PARAM("charset", "US-ASCII");
    CHECK_PARAM("boundary", "AbC");
    CHECK_EQ_INT(flags, 0);
    fin();
}

/*
 * RFC 2045 5.1 ("Content-type: text/plain; charset=us-ascii (Plain text)")
 * and RFC 5322 3.2.2 CFWS: comments anywhere between tokens, nested, and
 * holding ';', '=' or a quoted-pair.
 */
TM_TEST(params_comments)
{
    PARSE("text/plain; charset=us-ascii (Plain text)");
    CHECK_STR(P.token, "text/plain");
    CHECK_PARAM("charset", "us-ascii");
    PARSE("text/plain (comment); charset=us-ascii (another)");
    CHECK_STR(P.token, "text/plain");
    CHECK_EQ_SIZE(P.n, 1);
    CHECK_PARAM("charset", "us-ascii");
    PARSE("text/plain (a (nested) comment); charset=us-ascii");
    CHECK_STR(P.token, "text/plain");
    CHECK_PARAM("charset", "us-ascii");
    PARSE("text/plain (x; y=z \\) w); charset=us-ascii");
    CHECK_STR(P.token, "text/plain");
    CHECK_EQ_SIZE(P.n, 1);
    CHECK_PARAM("charset", "us-ascii");
    CHECK(tm_params_get(&P, "y") == NULL);
    PARSE("text/plain;(c)charset(c)=(c)\"us-ascii\"(c)");
    CHECK_PARAM("charset", "us-ascii");
    fin();
}

/* RFC 2045 5.1 grammar over RFC 822 lexical tokens: folding and space around '='. */
TM_TEST(params_whitespace)
{
    PARSE("text/plain ;\r\n\tcharset = \"utf-8\" ;\r\n format=flowed");
    CHECK_STR(P.token, "text/plain");
    CHECK_PARAM("charset", "utf-8");
    CHECK_PARAM("format", "flowed");
    PARSE("  text/plain  ");
    CHECK_STR(P.token, "text/plain");
    fin();
}

/* RFC 5322 3.2.4: quoted-pair inside a quoted string. */
TM_TEST(params_quoted_pair)
{
    PARSE("attachment; filename=\"a\\\"b\\\\c.txt\"");
    CHECK_STR(P.token, "attachment");
    CHECK_PARAM("filename", "a\"b\\c.txt");
    fin();
}

/*
 * RFC 2231 section 3, its example:
 *   Content-Type: message/external-body; access-type=URL;
 *    URL*0="ftp://";
 *    URL*1="cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar"
 * is the one parameter url = "ftp://cs.utk.edu/pub/...".
 */
TM_TEST(rfc2231_continuations)
{
    PARSE("message/external-body; access-type=URL;\r\n"
          " URL*0=\"ftp://\";\r\n"
          " URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"");
    CHECK_STR(P.token, "message/external-body");
    CHECK_PARAM("access-type", "URL");
    CHECK_PARAM("url", "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar");
    CHECK_EQ_SIZE(P.n, 2);
    CHECK_EQ_INT(flags, 0);
    fin();
}

/*
 * RFC 2231 section 4, its example:
 *   Content-Type: application/x-stuff;
 *    title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A
 * %20 is ' ' and %2A is '*': "This is ***fun***".
 */
TM_TEST(rfc2231_charset_language)
{
    PARSE("application/x-stuff;\r\n"
          " title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A");
    CHECK_STR(P.token, "application/x-stuff");
    CHECK_EQ_SIZE(P.n, 1);
    CHECK_PARAM("title", "This is ***fun***");
    CHECK_EQ_INT(flags, 0);
    fin();
}

/*
 * RFC 2231 section 4.1, its example, mixing encoded and quoted sections:
 *   title*0*=us-ascii'en'This%20is%20even%20more%20;
 *   title*1*=%2A%2A%2Afun%2A%2A%2A%20;
 *   title*2="isn't it!"
 * is "This is even more ***fun*** isn't it!".
 */
TM_TEST(rfc2231_mixed_sections)
{
    PARSE("application/x-stuff;\r\n"
          " title*0*=us-ascii'en'This%20is%20even%20more%20;\r\n"
          " title*1*=%2A%2A%2Afun%2A%2A%2A%20;\r\n"
          " title*2=\"isn't it!\"");
    CHECK_EQ_SIZE(P.n, 1);
    CHECK_PARAM("title", "This is even more ***fun*** isn't it!");
    CHECK_EQ_INT(flags, 0);
    fin();
}

/*
 * Sections out of order are put in order by their number, as mail readers
 * do; the charset still comes from section 0 wherever it is written.
 * "%C3%A9" is UTF-8 "é".
 */
TM_TEST(rfc2231_out_of_order)
{
    PARSE("application/x-stuff; title*2=\"c\"; title*0=\"a\"; title*1=\"b\"");
    CHECK_EQ_SIZE(P.n, 1);
    CHECK_PARAM("title", "abc");
    PARSE("attachment; filename*1*=%41.txt; filename*0*=utf-8''%C3%A9");
    CHECK_PARAM("filename", "\xc3\xa9"
                            "A.txt");
    fin();
}

/*
 * RFC 2231 4.1: the charset applies to the joined sections, so a UTF-8
 * sequence cut between sections (e2 82 | ac = "€") comes out whole.
 */
TM_TEST(rfc2231_split_utf8)
{
    PARSE("attachment; filename*0*=utf-8''%E2%82; filename*1*=%AC.txt");
    CHECK_PARAM("filename", "\xe2\x82\xac.txt");
    CHECK_NOFLAGS(flags, TM_PARAM_2231);
    fin();
}

/*
 * iso-8859-1 %E9 is U+00E9, UTF-8 c3 a9. The second value is the example
 * of RFC 6266 section 5: filename*= UTF-8''%e2%82%ac%20rates is "€ rates".
 */
TM_TEST(rfc2231_latin1_to_utf8)
{
    PARSE("attachment; filename*=iso-8859-1''caf%E9.txt");
    CHECK_STR(P.token, "attachment");
    CHECK_PARAM("filename", "caf\xc3\xa9.txt");
    CHECK_EQ_INT(flags, 0);
    PARSE("attachment; filename*= UTF-8''%e2%82%ac%20rates");
    CHECK_PARAM("filename", "\xe2\x82\xac rates");
    fin();
}

/* A broken %XX in an RFC 2231 value is flagged, not fatal. */
TM_TEST(rfc2231_bad_encoding)
{
    PARSE("application/x-stuff; title*=us-ascii'en'%ZZabc");
    CHECK_FLAGS(flags, TM_PARAM_2231);
    CHECK(tm_params_get(&P, "title") != NULL);
    PARSE("application/x-stuff; title*=utf-8''%FF%FE");
    CHECK(tm_params_get(&P, "title") != NULL);
    fin();
}

/* params.h: an unclosed quote runs to the end, flagged TM_PARAM_BAD. */
TM_TEST(params_missing_close_quote)
{
    PARSE("text/plain; name=\"foo.txt");
    CHECK_STR(P.token, "text/plain");
    CHECK_PARAM("name", "foo.txt");
    CHECK_FLAGS(flags, TM_PARAM_BAD);
    fin();
}

/* RFC 2046 5.1.1: boundary="simple boundary" and gc0p4Jq0M2Yt08jU534c0p. */
TM_TEST(params_boundary)
{
    PARSE("multipart/mixed; boundary=\"simple boundary\"");
    CHECK_STR(P.token, "multipart/mixed");
    CHECK_PARAM("boundary", "simple boundary");
    CHECK_EQ_INT(flags, 0);
    PARSE("multipart/mixed; boundary=gc0p4Jq0M2Yt08jU534c0p");
    CHECK_PARAM("boundary", "gc0p4Jq0M2Yt08jU534c0p");
    PARSE("multipart/alternative;\r\n\tboundary=\"----=_Part_0_1234.5678\"");
    CHECK_PARAM("boundary", "----=_Part_0_1234.5678");
    fin();
}

/* params.h: the same name twice, the first wins and TM_PARAM_DUP is set. */
TM_TEST(params_duplicate)
{
    PARSE("text/plain; charset=us-ascii; charset=utf-8");
    CHECK_PARAM("charset", "us-ascii");
    CHECK_FLAGS(flags, TM_PARAM_DUP);
    PARSE("text/plain; CHARSET=first; charset=second");
    CHECK_PARAM("charset", "first");
    CHECK_FLAGS(flags, TM_PARAM_DUP);
    fin();
}

/* params.h: past max_params the rest is dropped with TM_PARAM_LIMIT. */
TM_TEST(params_limit)
{
    static const char in[] = "text/plain; p1=1; p2=2; p3=3; p4=4; p5=5";

    CHECK_EQ_INT(parse_n(in, sizeof(in) - 1, 3), TM_OK);
    CHECK(sane());
    CHECK_STR(P.token, "text/plain");
    CHECK_FLAGS(flags, TM_PARAM_LIMIT);
    CHECK_LE_SIZE(P.n, 3);
    CHECK_PARAM("p1", "1");
    CHECK(tm_params_get(&P, "p5") == NULL);
    CHECK_EQ_INT(parse_n(in, sizeof(in) - 1, 5), TM_OK);
    CHECK_EQ_SIZE(P.n, 5);
    CHECK_NOFLAGS(flags, TM_PARAM_LIMIT);
    fin();
}

/*
 * params.h: RFC 2047 words inside quoted values are decoded, as mail
 * readers do for filenames. "caf=E9" in ISO-8859-1 is "café" (c3 a9);
 * "w6kudHh0" is c3 a9 2e 74 78 74 ("w6ku" = 110000 111010 100100 101110,
 * "dHh0" = 011101 000111 100001 110100), UTF-8 "é.txt".
 */
TM_TEST(params_rfc2047_in_quotes)
{
    PARSE("attachment; filename=\"=?ISO-8859-1?Q?caf=E9.txt?=\"");
    CHECK_PARAM("filename", "caf\xc3\xa9.txt");
    PARSE("attachment; filename=\"=?UTF-8?B?w6kudHh0?=\"");
    CHECK_PARAM("filename", "\xc3\xa9.txt");
    fin();
}

/* RFC 2183 section 2, its example (with its trailing ';'). */
TM_TEST(params_rfc2183_disposition)
{
    PARSE("attachment; filename=genome.jpeg;\r\n"
          "  modification-date=\"Wed, 12 Feb 1997 16:29:51 -0500\";");
    CHECK_STR(P.token, "attachment");
    CHECK_PARAM("filename", "genome.jpeg");
    CHECK_PARAM("modification-date", "Wed, 12 Feb 1997 16:29:51 -0500");
    PARSE("INLINE");
    CHECK_STR(P.token, "inline");
    fin();
}

TM_TEST(params_empty)
{
    PARSE("");
    CHECK_STR(P.token, "");
    CHECK_EQ_SIZE(P.n, 0);
    PARSE("   \r\n ");
    CHECK_STR(P.token, "");
    CHECK_EQ_SIZE(P.n, 0);
    PARSE("; charset=x");
    CHECK_STR(P.token, "");
    fin();
}

/* Hostile input: each must return TM_OK with the invariants holding. */
TM_TEST(params_garbage_never_crashes)
{
    static const char *const v[] = {
        ";;;=;",
        "=",
        "\"",
        "(",
        ")",
        "\\",
        "((((((((((",
        "text/plain; (unclosed comment",
        "text/plain; a=\"\\",
        "a/b; =x",
        "a/b; x=",
        "a/b; x=;y=;z",
        "a/b; *=1",
        "a/b; x*=",
        "a/b; x*='",
        "a/b; x*=''",
        "a/b; x*=''%",
        "a/b; x*=''%4",
        "a/b; x*0*=''%",
        "a/b; x*99999999999999999999=1",
        "a/b; x*18446744073709551615=1",
        "a/b; x*4294967296=1; x*0=a",
        "a/b; x*-1=1",
        "a/b; x*1=only-one",
        "a/b; x*0=a; x*0=b",
        "a/b; x*0*=utf-8''%C3; x*2*=%A9",
        "a/b; x**=1; x*0**=2; x*a=3",
        "a/b; x=\"=?utf-8?B?####?=\"",
        "a/b; x=\"=?utf-8?Q?=FF=FE?=\"",
        "a/b; x=\"=?\"",
        "/",
        "//; ; ;",
        "text/plain; charset=\"us-ascii\" garbage after; x=1",
        "text/plain; charset=us-ascii garbage=after",
        "a/b; \x80\xff=\xfe\xfd",
        "a/b; n=\"\r\n\r\n\"",
    };
    static const char nul[] = "a/b; x=\"a\0b\"; y=1";
    static char big[20000];
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        if (parse_n(v[i], strlen(v[i]), 16) != TM_OK || !sane())
            tm_test_fail(__FILE__, __LINE__, "input %zu: \"%s\"", i, v[i]);
    }
    /* a NUL inside a value is a byte like any other */
    CHECK_EQ_INT(parse_n(nul, sizeof(nul) - 1, 16), TM_OK);
    CHECK(P.token != NULL);
    /* many separators, many params, deep comments */
    memset(big, ';', sizeof(big));
    CHECK_EQ_INT(parse_n(big, sizeof(big), 16), TM_OK);
    CHECK(sane());
    for (i = 0; i + 4 <= sizeof(big); i += 4)
        memcpy(big + i, ";a=1", 4);
    CHECK_EQ_INT(parse_n(big, sizeof(big), 16), TM_OK);
    CHECK(sane());
    CHECK_LE_SIZE(P.n, 16);
    memset(big, '(', sizeof(big));
    CHECK_EQ_INT(parse_n(big, sizeof(big), 16), TM_OK);
    CHECK(sane());
    memset(big, '"', sizeof(big));
    CHECK_EQ_INT(parse_n(big, sizeof(big), 16), TM_OK);
    CHECK(sane());
    for (i = 0; i + 10 <= sizeof(big); i += 10) {
        memcpy(big + i, ";x*99*=%4", 9);
        big[i + 9] = (char)('0' + i % 7);
    }
    CHECK_EQ_INT(parse_n(big, sizeof(big), 16), TM_OK);
    CHECK(sane());
    fin();
}

const struct tm_test tests_params[] = {
    TM_TEST_ENTRY(params_basic),
    TM_TEST_ENTRY(params_case_folding),
    TM_TEST_ENTRY(params_comments),
    TM_TEST_ENTRY(params_whitespace),
    TM_TEST_ENTRY(params_quoted_pair),
    TM_TEST_ENTRY(rfc2231_continuations),
    TM_TEST_ENTRY(rfc2231_charset_language),
    TM_TEST_ENTRY(rfc2231_mixed_sections),
    TM_TEST_ENTRY(rfc2231_out_of_order),
    TM_TEST_ENTRY(rfc2231_split_utf8),
    TM_TEST_ENTRY(rfc2231_latin1_to_utf8),
    TM_TEST_ENTRY(rfc2231_bad_encoding),
    TM_TEST_ENTRY(params_missing_close_quote),
    TM_TEST_ENTRY(params_boundary),
    TM_TEST_ENTRY(params_duplicate),
    TM_TEST_ENTRY(params_limit),
    TM_TEST_ENTRY(params_rfc2047_in_quotes),
    TM_TEST_ENTRY(params_rfc2183_disposition),
    TM_TEST_ENTRY(params_empty),
    TM_TEST_ENTRY(params_garbage_never_crashes),
    TM_TEST_END,
};
