/*
 * test_rfc2047.c - header values to UTF-8 (mime/rfc2047.h): RFC 2047
 * encoded words, RFC 2231 section 5 language tags, RFC 5322 2.2.3
 * unfolding, and the charset layer under them (mime/charset.h).
 *
 * Golden values are the RFC 2047 section 8 examples with their non-ASCII
 * letters converted to UTF-8 by hand (the conversion is shown next to each).
 * Every decoded value must be well-formed UTF-8 (tm_utf8_valid), so the
 * last tests check that tm_utf8_valid itself rejects what RFC 3629 forbids.
 */
#include "harness.h"
#include "suites.h"

#include <stdlib.h>

#include "core/arena.h"
#include "core/buf.h"
#include "mime/charset.h"
#include "mime/rfc2047.h"

#define ARENA_BUDGET (1u << 20)

static struct tm_arena *arena;
static struct tm_buf out;
static unsigned flags;

/* fresh - a new arena and an empty output buffer capped at `cap` */
static void
fresh(size_t cap)
{
    if (arena != NULL)
        tm_arena_free(arena);
    arena = tm_arena_new(ARENA_BUDGET);
    if (arena == NULL) {
        tm_test_fail(__FILE__, __LINE__, "tm_arena_new failed");
        exit(2);
    }
    tm_buf_init(&out, arena, cap);
    flags = 0;
}

static void
fin(void)
{
    if (arena != NULL)
        tm_arena_free(arena);
    arena = NULL;
}

static tm_rc
dec_n(const char *in, size_t len, size_t max_words, size_t cap)
{
    fresh(cap);
    return tm_rfc2047_decode((const unsigned char *)in, len, max_words, &out, &flags);
}

/* Decode a literal; must succeed and give valid UTF-8. */
#define DEC(lit)                                                      \
    do {                                                              \
        CHECK_EQ_INT(dec_n((lit), sizeof(lit) - 1, 64, 4096), TM_OK); \
        CHECK(tm_utf8_valid(out.data, out.len));                      \
    } while (0)

#define CHECK_OUT(lit) CHECK_MEM(out.data, out.len, (lit), sizeof(lit) - 1)

/* out_has - 1 when the decoded output contains the C string s */
static int
out_has(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0)
        return 1;
    for (i = 0; out.data != NULL && i + n <= out.len; i++)
        if (memcmp(out.data + i, s, n) == 0)
            return 1;
    return 0;
}

/*
 * RFC 2047 section 8, the table of encoded form / displayed as. The folded
 * example ("(=?ISO-8859-1?Q?a?=" CRLF "    =?ISO-8859-1?Q?b?=)") is given
 * with CRLF and with a bare LF. All charsets are known and nothing is
 * 8-bit, so no flag may be set.
 */
TM_TEST(rfc2047_sec8_table)
{
    static const struct {
        const char *in, *exp;
    } v[] = {
        {"(=?ISO-8859-1?Q?a?=)", "(a)"},
        {"(=?ISO-8859-1?Q?a?= b)", "(a b)"},
        {"(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)"},
        {"(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)"},
        {"(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)"},
        {"(=?ISO-8859-1?Q?a?=\n    =?ISO-8859-1?Q?b?=)", "(ab)"},
        {"(=?ISO-8859-1?Q?a_b?=)", "(a b)"},
        {"(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)"},
    };
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        CHECK_EQ_INT(dec_n(v[i].in, strlen(v[i].in), 64, 4096), TM_OK);
        CHECK_MEM(out.data, out.len, v[i].exp, strlen(v[i].exp));
        CHECK_EQ_INT(flags, 0);
    }
    fin();
}

/*
 * RFC 2047 section 8, the header examples, ISO-8859-1 to UTF-8 by hand:
 * U+00F8 (0xF8) -> c3 b8, U+00E9 (0xE9) -> c3 a9, U+00E4 (0xE4) -> c3 a4.
 */
TM_TEST(rfc2047_sec8_moore)
{
    DEC("=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>");
    CHECK_OUT("Keith Moore <moore@cs.utk.edu>");
    CHECK_EQ_INT(flags, 0);
    DEC("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>");
    CHECK_OUT("Keld J\xc3\xb8rn Simonsen <keld@dkuug.dk>");
    CHECK_EQ_INT(flags, 0);
    DEC("=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>");
    CHECK_OUT("Andr\xc3\xa9 Pirard <PIRARD@vm1.ulg.ac.be>");
    CHECK_EQ_INT(flags, 0);
    /* two B words in different charsets across a fold: joined, no space */
    DEC("=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n"
        "  =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=");
    CHECK_OUT("If you can read this you understand the example.");
    CHECK_EQ_INT(flags, 0);
    fin();
}

TM_TEST(rfc2047_sec8_jarnefors)
{
    DEC("=?ISO-8859-1?Q?Olle_J=E4rnefors?= <ojarnef@admin.kth.se>");
    CHECK_OUT("Olle J\xc3\xa4rnefors <ojarnef@admin.kth.se>");
    CHECK_EQ_INT(flags, 0);
    fin();
}

/*
 * RFC 2047 section 8, Nathaniel Borenstein's comment in ISO-8859-8. The B
 * text is the bytes ed e5 ec f9 20 ef e1 20 e9 ec e8 f4 f0; in ISO-8859-8
 * 0xE0+k is U+05D0+k, which is UTF-8 d7 (0x90+k). The fold's CRLF goes,
 * its four spaces stay (RFC 5322 2.2.3).
 */
TM_TEST(rfc2047_sec8_hebrew)
{
    DEC("Nathaniel Borenstein <nsb@thumper.bellcore.com>\r\n"
        "    (=?iso-8859-8?b?7eXs+SDv4SDp7Oj08A==?=)");
    CHECK_OUT("Nathaniel Borenstein <nsb@thumper.bellcore.com>    ("
              "\xd7\x9d\xd7\x95\xd7\x9c\xd7\xa9 \xd7\x9f\xd7\x91 "
              "\xd7\x99\xd7\x9c\xd7\x98\xd7\xa4\xd7\xa0)");
    CHECK_EQ_INT(flags, 0);
    fin();
}

/*
 * B encoding, by hand: "é" is c3 a9 = 11000011 10101001 -> 110000 111010
 * 1001(00) = 48 58 36 = 'w' '6' 'k', one pad: "w6k=". Encoding and charset
 * names are case-insensitive (RFC 2047 section 2).
 */
TM_TEST(rfc2047_b_encoding)
{
    DEC("=?UTF-8?B?w6k=?=");
    CHECK_OUT("\xc3\xa9");
    CHECK_EQ_INT(flags, 0);
    DEC("=?utf-8?b?w6k=?=");
    CHECK_OUT("\xc3\xa9");
    DEC("=?ISO-8859-1?B?6Q==?="); /* 0xE9 = 111010 01(0000) = '6' 'Q' */
    CHECK_OUT("\xc3\xa9");
    CHECK_EQ_INT(flags, 0);
}

/*
 * A multi-byte character split between adjacent words must come out whole
 * (rfc2047.h: the bytes are joined before conversion). "€" is e2 82 ac:
 *   e2    = 111000 10(0000)        = '4' 'g'      -> "4g=="
 *   82 ac = 100000 101010 1100(00) = 'g' 'q' 'w'  -> "gqw="
 * U+1F600 is f0 9f 98 80 (000 011111 011000 000000).
 */
TM_TEST(rfc2047_utf8_split_across_words)
{
    DEC("=?UTF-8?B?4g==?= =?UTF-8?B?gqw=?=");
    CHECK_OUT("\xe2\x82\xac");
    CHECK_NOFLAGS(flags, TM_2047_CHARSET | TM_2047_BAD);
    DEC("=?UTF-8?Q?=E2?= =?UTF-8?Q?=82=AC?=");
    CHECK_OUT("\xe2\x82\xac");
    CHECK_NOFLAGS(flags, TM_2047_CHARSET | TM_2047_BAD);
    DEC("=?UTF-8?B?4g==?=\r\n =?UTF-8?B?gqw=?=");
    CHECK_OUT("\xe2\x82\xac");
    CHECK_NOFLAGS(flags, TM_2047_CHARSET | TM_2047_BAD);
    DEC("x =?UTF-8?Q?=F0=9F?= =?UTF-8?Q?=98=80?= y");
    CHECK_OUT("x \xf0\x9f\x98\x80 y");
    CHECK_NOFLAGS(flags, TM_2047_CHARSET | TM_2047_BAD);
    fin();
}

/* RFC 2231 section 5: charset "*" language; the tag is dropped. */
TM_TEST(rfc2047_rfc2231_language)
{
    DEC("=?US-ASCII*EN?Q?Keith_Moore?=");
    CHECK_OUT("Keith Moore");
    CHECK_EQ_INT(flags, 0);
    DEC("=?ISO-8859-1*de-DE?Q?Gr=FC=DFe?=");
    CHECK_OUT("Gr\xc3\xbc\xc3\x9f"
              "e");
    CHECK_EQ_INT(flags, 0);
    fin();
}

/* RFC 2047 section 6.2: whitespace between a word and plain text stays. */
TM_TEST(rfc2047_word_between_text)
{
    DEC("Hello =?ISO-8859-1?Q?J=F6rg?= there");
    CHECK_OUT("Hello J\xc3\xb6rg there");
    CHECK_EQ_INT(flags, 0);
    DEC("Re: [list] =?UTF-8?Q?caf=C3=A9?=");
    CHECK_OUT("Re: [list] caf\xc3\xa9");
    DEC("=?ISO-8859-1?Q?=3D=3F?="); /* "=?" escaped inside a Q word */
    CHECK_OUT("=?");
    DEC("plain ascii, no words at all");
    CHECK_OUT("plain ascii, no words at all");
    CHECK_EQ_INT(flags, 0);
    fin();
}

/* rfc2047.h: a broken word is left as it is and decoding never fails. */
TM_TEST(rfc2047_broken_word_kept)
{
    DEC("=?utf-8?Q?abc");
    CHECK_OUT("=?utf-8?Q?abc");
    DEC("subject =?utf-8?Q?abc and more");
    CHECK_OUT("subject =?utf-8?Q?abc and more");
    DEC("=?utf-8?X?abc?="); /* no such encoding */
    CHECK_OUT("=?utf-8?X?abc?=");
    CHECK_FLAGS(flags, TM_2047_BAD);
    DEC("=??Q?abc?=");
    DEC("=?utf-8??abc?=");
    DEC("=?");
    DEC("?=");
    DEC("=?=?=?=?");
    fin();
}

/*
 * charset.h: an unknown charset never fails; it is flagged. The ASCII
 * letters of the word must survive in the output.
 */
TM_TEST(rfc2047_unknown_charset)
{
    DEC("=?bogus-charset?Q?abc?=");
    CHECK_FLAGS(flags, TM_2047_CHARSET);
    CHECK(out.len > 0);
    CHECK(out_has("abc"));
    DEC("x =?bogus-charset?Q?=E9t=E9?= y");
    CHECK_FLAGS(flags, TM_2047_CHARSET);
    CHECK(out_has("x "));
    CHECK(out_has(" y"));
    fin();
}

/*
 * rfc2047.h: raw 8-bit outside words is UTF-8 when valid, else
 * windows-1252. 0xE9 is U+00E9 (c3 a9); 0x80 is U+20AC in windows-1252
 * (e2 82 ac), where latin-1 would give U+0080.
 */
TM_TEST(rfc2047_raw_8bit)
{
    DEC("Caf\xe9 =?UTF-8?Q?ok?=");
    CHECK_OUT("Caf\xc3\xa9 ok");
    CHECK_FLAGS(flags, TM_2047_8BIT);
    DEC("price \x80 5");
    CHECK_OUT("price \xe2\x82\xac 5");
    CHECK_FLAGS(flags, TM_2047_8BIT);
    DEC("Caf\xc3\xa9"); /* already UTF-8: unchanged */
    CHECK_OUT("Caf\xc3\xa9");
    CHECK_FLAGS(flags, TM_2047_8BIT);
    fin();
}

/* RFC 5322 2.2.3: unfolding removes the line break, keeps the WSP. */
TM_TEST(rfc2047_unfold)
{
    DEC("a\r\n b");
    CHECK_OUT("a b");
    DEC("a\n\tb");
    CHECK_OUT("a\tb");
    DEC("a\r b"); /* rfc2047.h: bare CR folds too */
    CHECK_OUT("a b");
    DEC("one\r\n two\r\n  three");
    CHECK_OUT("one two  three");
    fin();
}

/* rfc2047.h: past max_words the rest is copied raw, with TM_2047_LIMIT. */
TM_TEST(rfc2047_max_words)
{
    static const char in[] = "=?UTF-8?Q?a?= =?UTF-8?Q?b?= =?UTF-8?Q?c?=";

    CHECK_EQ_INT(dec_n(in, sizeof(in) - 1, 2, 4096), TM_OK);
    CHECK(tm_utf8_valid(out.data, out.len));
    CHECK_FLAGS(flags, TM_2047_LIMIT);
    CHECK(out.len >= 2 && memcmp(out.data, "ab", 2) == 0);
    CHECK(out_has("=?UTF-8?Q?c?="));
    CHECK_EQ_INT(dec_n(in, sizeof(in) - 1, 3, 4096), TM_OK);
    CHECK_OUT("abc");
    CHECK_NOFLAGS(flags, TM_2047_LIMIT);
    fin();
}

/* buf.h: the output cap is a failure (TM_ELIMIT), never an overflow. */
TM_TEST(rfc2047_output_cap)
{
    static const char in[] = "=?UTF-8?Q?abcdefghijklmnop?= and plain text after";
    tm_rc rc = dec_n(in, sizeof(in) - 1, 64, 4);

    CHECK(rc != TM_OK);
    CHECK_LE_SIZE(out.len, 4);
    fin();
}

TM_TEST(rfc2047_empty)
{
    DEC("");
    CHECK_EQ_SIZE(out.len, 0);
    CHECK_EQ_INT(flags, 0);
    fin();
}

/* ---- charset layer --------------------------------------------------- */

/*
 * RFC 3629 section 3: no C0/C1 lead bytes (overlong), no surrogates
 * U+D800..U+DFFF (ed a0 80), nothing above U+10FFFF (f4 90 80 80), no F5..FF,
 * and a sequence must not be cut short or start with a continuation byte.
 */
TM_TEST(charset_utf8_valid)
{
    CHECK(tm_utf8_valid((const unsigned char *)"", 0));
    CHECK(tm_utf8_valid(NULL, 0));
    CHECK(tm_utf8_valid(TM_LIT("plain")));
    CHECK(tm_utf8_valid(TM_LIT("\xc3\xa9")));
    CHECK(tm_utf8_valid(TM_LIT("\xe2\x82\xac")));
    CHECK(tm_utf8_valid(TM_LIT("\xf0\x9f\x98\x80")));
    CHECK(tm_utf8_valid(TM_LIT("\xf4\x8f\xbf\xbf"))); /* U+10FFFF */
    CHECK(tm_utf8_valid(TM_LIT("\xef\xbf\xbd")));     /* U+FFFD */
    CHECK(!tm_utf8_valid(TM_LIT("\xc3")));
    CHECK(!tm_utf8_valid(TM_LIT("a\xe2\x82")));
    CHECK(!tm_utf8_valid(TM_LIT("\x80")));
    CHECK(!tm_utf8_valid(TM_LIT("\xc0\xaf")));     /* overlong "/" */
    CHECK(!tm_utf8_valid(TM_LIT("\xe0\x80\xaf"))); /* overlong "/" */
    CHECK(!tm_utf8_valid(TM_LIT("\xed\xa0\x80"))); /* U+D800 */
    CHECK(!tm_utf8_valid(TM_LIT("\xf4\x90\x80\x80")));
    CHECK(!tm_utf8_valid(TM_LIT("\xff")));
    CHECK(!tm_utf8_valid(TM_LIT("\xe9t\xe9")));
}

static tm_rc
conv(const char *cs, const char *in, size_t len, int *bad)
{
    fresh(4096);
    *bad = 0;
    return tm_charset_to_utf8(cs, cs ? strlen(cs) : 0, (const unsigned char *)in, len, &out, bad);
}

#define CONV(cs, lit, bad) CHECK_EQ_INT(conv((cs), (lit), sizeof(lit) - 1, &(bad)), TM_OK)

/* charset.h: names in any case, NULL meaning us-ascii with 8-bit as latin-1. */
TM_TEST(charset_to_utf8)
{
    int bad;

    CONV("ISO-8859-1", "caf\xe9", bad);
    CHECK_OUT("caf\xc3\xa9");
    CHECK_EQ_INT(bad, 0);
    CONV("iso-8859-1", "caf\xe9", bad);
    CHECK_OUT("caf\xc3\xa9");
    CHECK_EQ_INT(bad, 0);
    CONV("utf-8", "caf\xc3\xa9", bad);
    CHECK_OUT("caf\xc3\xa9");
    CHECK_EQ_INT(bad, 0);
    CONV("us-ascii", "plain", bad);
    CHECK_OUT("plain");
    CHECK_EQ_INT(bad, 0);
    CONV(NULL, "caf\xc3\xa9", bad); /* valid UTF-8 stays */
    CHECK_OUT("caf\xc3\xa9");
    CONV(NULL, "caf\xe9", bad); /* else latin-1 */
    CHECK_OUT("caf\xc3\xa9");
    CONV("", "caf\xe9", bad);
    CHECK_OUT("caf\xc3\xa9");
    fin();
}

/* charset.h: unknown charsets and invalid bytes never fail; U+FFFD = ef bf bd. */
TM_TEST(charset_bad_input)
{
    int bad;

    CONV("utf-8",
         "a\xff"
         "b",
         bad);
    CHECK(tm_utf8_valid(out.data, out.len));
    CHECK(out_has("\xef\xbf\xbd"));
    CHECK(out_has("a") && out_has("b"));
    CHECK_EQ_INT(bad, 1);
    CONV("x-no-such-charset", "abc", bad);
    CHECK(tm_utf8_valid(out.data, out.len));
    CHECK_EQ_INT(bad, 1);
    CONV("x-no-such-charset", "\xe9\xff\x80", bad);
    CHECK(tm_utf8_valid(out.data, out.len));
    CHECK_EQ_INT(bad, 1);
    fin();
}

const struct tm_test tests_rfc2047[] = {
    TM_TEST_ENTRY(rfc2047_sec8_table),
    TM_TEST_ENTRY(rfc2047_sec8_moore),
    TM_TEST_ENTRY(rfc2047_sec8_jarnefors),
    TM_TEST_ENTRY(rfc2047_sec8_hebrew),
    TM_TEST_ENTRY(rfc2047_b_encoding),
    TM_TEST_ENTRY(rfc2047_utf8_split_across_words),
    TM_TEST_ENTRY(rfc2047_rfc2231_language),
    TM_TEST_ENTRY(rfc2047_word_between_text),
    TM_TEST_ENTRY(rfc2047_broken_word_kept),
    TM_TEST_ENTRY(rfc2047_unknown_charset),
    TM_TEST_ENTRY(rfc2047_raw_8bit),
    TM_TEST_ENTRY(rfc2047_unfold),
    TM_TEST_ENTRY(rfc2047_max_words),
    TM_TEST_ENTRY(rfc2047_output_cap),
    TM_TEST_ENTRY(rfc2047_empty),
    TM_TEST_ENTRY(charset_utf8_valid),
    TM_TEST_ENTRY(charset_to_utf8),
    TM_TEST_ENTRY(charset_bad_input),
    TM_TEST_END,
};
