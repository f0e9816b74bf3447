/*
 * test_decode.c - transfer decoders of mime/decode.h: base64 (RFC 4648,
 * RFC 2045 6.8), quoted-printable (RFC 2045 6.7, RFC 2047 4.2) and uuencode.
 *
 * Every golden value names its source next to it: an RFC section, or bytes
 * worked out by hand in the comment. Each decode writes into a buffer filled
 * with a canary, and the bytes past the documented *_MAX_OUT bound must still
 * hold the canary afterwards.
 */
#include "harness.h"
#include "suites.h"

#include "mime/decode.h"

#define CANARY 0xa5u
#define OUTSZ  1024

struct dec {
    unsigned char out[OUTSZ];
    size_t n;
    unsigned flags;
};

/* canary_ok - 1 when out[from..OUTSZ) still holds the canary */
static int
canary_ok(const struct dec *d, size_t from)
{
    size_t i;

    for (i = from; i < OUTSZ; i++)
        if (d->out[i] != CANARY)
            return 0;
    return 1;
}

static void
b64(struct dec *d, const char *in, size_t len)
{
    memset(d->out, CANARY, sizeof(d->out));
    d->flags = 0;
    d->n = tm_b64_decode((const unsigned char *)in, len, d->out, &d->flags);
    CHECK_LE_SIZE(d->n, TM_B64_MAX_OUT(len));
    CHECK(canary_ok(d, TM_B64_MAX_OUT(len)));
}

static void
qp(struct dec *d, const char *in, size_t len, int header)
{
    memset(d->out, CANARY, sizeof(d->out));
    d->flags = 0;
    d->n = tm_qp_decode((const unsigned char *)in, len, d->out, header, &d->flags);
    CHECK_LE_SIZE(d->n, TM_QP_MAX_OUT(len));
    CHECK(canary_ok(d, TM_QP_MAX_OUT(len)));
}

static void
uuline(struct dec *d, const char *in, size_t len)
{
    memset(d->out, CANARY, sizeof(d->out));
    d->flags = 0;
    d->n = tm_uu_decode_line((const unsigned char *)in, len, d->out, &d->flags);
    CHECK_LE_SIZE(d->n, 45);
    CHECK(canary_ok(d, 45));
}

#define B64(d, lit)       b64(&(d), (lit), sizeof(lit) - 1)
#define QP(d, lit)        qp(&(d), (lit), sizeof(lit) - 1, 0)
#define QPH(d, lit)       qp(&(d), (lit), sizeof(lit) - 1, 1)
#define UULINE(d, lit)    uuline(&(d), (lit), sizeof(lit) - 1)
#define CHECK_OUT(d, lit) CHECK_MEM((d).out, (d).n, (lit), sizeof(lit) - 1)

/* ---- base64 ---------------------------------------------------------- */

/* RFC 4648 section 10, "Test Vectors", BASE64 column. */
TM_TEST(b64_rfc4648_vectors)
{
    static const struct {
        const char *enc, *dec;
    } v[] = {
        {"", ""},
        {"Zg==", "f"},
        {"Zm8=", "fo"},
        {"Zm9v", "foo"},
        {"Zm9vYg==", "foob"},
        {"Zm9vYmE=", "fooba"},
        {"Zm9vYmFy", "foobar"},
    };
    struct dec d;
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        b64(&d, v[i].enc, strlen(v[i].enc));
        CHECK_MEM(d.out, d.n, v[i].dec, strlen(v[i].dec));
        CHECK_EQ_INT(d.flags, 0);
    }
}

/* RFC 4648 section 9, "Illustrations and Examples": binary inputs. */
TM_TEST(b64_rfc4648_binary)
{
    struct dec d;

    B64(d, "FPucA9l+"); /* 0x14fb9c03d97e */
    CHECK_OUT(d, "\x14\xfb\x9c\x03\xd9\x7e");
    CHECK_EQ_INT(d.flags, 0);
    B64(d, "FPucA9k="); /* 0x14fb9c03d9 */
    CHECK_OUT(d, "\x14\xfb\x9c\x03\xd9");
    CHECK_EQ_INT(d.flags, 0);
    B64(d, "FPucAw=="); /* 0x14fb9c03 */
    CHECK_OUT(d, "\x14\xfb\x9c\x03");
    CHECK_EQ_INT(d.flags, 0);
}

/*
 * The two last alphabet symbols, by hand: '+' = 62 = 111110, so "++++" is
 * 111110 111110 111110 111110 = 11111011 11101111 10111110 = fb ef be;
 * '/' = 63 = 111111, so "////" is ff ff ff. "AAAA" is three zero bytes.
 */
TM_TEST(b64_alphabet_edges)
{
    struct dec d;

    B64(d, "++++");
    CHECK_OUT(d, "\xfb\xef\xbe");
    B64(d, "////");
    CHECK_OUT(d, "\xff\xff\xff");
    B64(d, "AAAA");
    CHECK_MEM(d.out, d.n, "\0\0\0", 3);
    CHECK_EQ_INT(d.flags, 0);
}

/* RFC 2045 6.8: line breaks and other whitespace are not data; no flag. */
TM_TEST(b64_whitespace_and_crlf)
{
    struct dec d;

    B64(d, "Zm9v\r\nYmFy");
    CHECK_OUT(d, "foobar");
    CHECK_EQ_INT(d.flags, 0);
    B64(d, "Zm9v\nYmFy\n");
    CHECK_OUT(d, "foobar");
    CHECK_EQ_INT(d.flags, 0);
    B64(d, " Zm 9v\tYm\r\nF y \r\n");
    CHECK_OUT(d, "foobar");
    CHECK_EQ_INT(d.flags, 0);
    B64(d, "Zm9vYg==\r\n");
    CHECK_OUT(d, "foob");
    CHECK_EQ_INT(d.flags, 0);
}

/* RFC 2045 6.8: other bytes outside the alphabet "must be ignored". */
TM_TEST(b64_junk_skipped)
{
    struct dec d;

    B64(d, "Zm9v*YmFy");
    CHECK_OUT(d, "foobar");
    CHECK_FLAGS(d.flags, TM_DEC_JUNK);
    B64(d, "Zm9v\x80\xffYm!Fy");
    CHECK_OUT(d, "foobar");
    CHECK_FLAGS(d.flags, TM_DEC_JUNK);
    B64(d, "Zm9v\0YmFy"); /* a NUL is junk too, not an end of string */
    CHECK_OUT(d, "foobar");
    CHECK_FLAGS(d.flags, TM_DEC_JUNK);
}

/*
 * Unpadded final groups (decode.h: decoded, with TM_DEC_BADPAD).
 * "Zm9vYg" is RFC 4648's "Zm9vYg==" without its padding, "Zm9vYmE" is
 * "Zm9vYmE=" without it.
 */
TM_TEST(b64_missing_padding)
{
    struct dec d;

    B64(d, "Zm9vYg");
    CHECK_OUT(d, "foob");
    CHECK_FLAGS(d.flags, TM_DEC_BADPAD);
    B64(d, "Zm9vYmE");
    CHECK_OUT(d, "fooba");
    CHECK_FLAGS(d.flags, TM_DEC_BADPAD);
    B64(d, "Zm9vYmE\r\n");
    CHECK_OUT(d, "fooba");
    CHECK_FLAGS(d.flags, TM_DEC_BADPAD);
}

/*
 * A single leftover symbol holds 6 bits, less than a byte: "Zm9vY" decodes
 * to "foo" and something must be flagged.
 */
TM_TEST(b64_lone_trailing_symbol)
{
    struct dec d;

    B64(d, "Zm9vY");
    CHECK_OUT(d, "foo");
    CHECK(d.flags != 0);
}

/* RFC 2045 6.8 / decode.h: "=" means end of data; what follows is ignored. */
TM_TEST(b64_data_after_pad_ignored)
{
    struct dec d;

    B64(d, "Zm9vYg==Zm9v");
    CHECK_OUT(d, "foob");
    B64(d, "Zm8=\r\nYmFy\r\n");
    CHECK_OUT(d, "fo");
    B64(d, "Zg==\r\n====\r\n");
    CHECK_OUT(d, "f");
}

TM_TEST(b64_empty)
{
    struct dec d;

    B64(d, "");
    CHECK_EQ_SIZE(d.n, 0);
    CHECK_EQ_INT(d.flags, 0);
    B64(d, "\r\n \t\r\n");
    CHECK_EQ_SIZE(d.n, 0);
    CHECK_EQ_INT(d.flags, 0);
    /* NULL with length 0 must be accepted: an empty body has no bytes */
    memset(d.out, CANARY, sizeof(d.out));
    d.flags = 0;
    d.n = tm_b64_decode(NULL, 0, d.out, &d.flags);
    CHECK_EQ_SIZE(d.n, 0);
}

/* A long body of 76-column lines (RFC 2045 6.8 line length) round trip. */
TM_TEST(b64_long_lines)
{
    /*
     * Bytes 0..113, 57 per 76-symbol line. Checked by hand at both ends:
     * "AAEC" = 000000 000000 000100 000010 = 00 01 02, and the last group
     * "b3Bx" = 27 55 1 49 = 011011 110111 000001 110001 = 6f 70 71 (111..113).
     */
    static const char enc[] =
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\r\n"
        "OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3Bx\r\n";
    unsigned char exp[114];
    struct dec d;
    size_t i;

    for (i = 0; i < sizeof(exp); i++)
        exp[i] = (unsigned char)i;
    B64(d, enc);
    CHECK_MEM(d.out, d.n, exp, sizeof(exp));
    CHECK_EQ_INT(d.flags, 0);
}

/* ---- quoted-printable ------------------------------------------------ */

/*
 * RFC 2045 6.7 rule (5), its own example of soft line breaks:
 *   "Now's the time =" / "for all folk to come=" / " to the aid of their country."
 * "will be represented as" the one line
 *   "Now's the time for all folk to come to the aid of their country."
 */
TM_TEST(qp_rfc2045_soft_breaks)
{
    struct dec d;

    QP(d, "Now's the time =\r\nfor all folk to come=\r\n to the aid of their country.");
    CHECK_OUT(d, "Now's the time for all folk to come to the aid of their country.");
    CHECK_EQ_INT(d.flags, 0);
}

/* decode.h: a soft break is "=" before CRLF, LF or a bare CR. */
TM_TEST(qp_soft_break_eol_kinds)
{
    struct dec d;

    QP(d, "foo=\r\nbar");
    CHECK_OUT(d, "foobar");
    CHECK_EQ_INT(d.flags, 0);
    QP(d, "foo=\nbar");
    CHECK_OUT(d, "foobar");
    CHECK_EQ_INT(d.flags, 0);
    QP(d, "foo=\rbar");
    CHECK_OUT(d, "foobar");
    CHECK_EQ_INT(d.flags, 0);
    QP(d, "a=\r\n=\r\nb=\n");
    CHECK_OUT(d, "ab");
    CHECK_EQ_INT(d.flags, 0);
}

/* RFC 2045 6.7 rule (1): "=3D" is the encoding of "=" itself. */
TM_TEST(qp_rfc2045_escapes)
{
    struct dec d;

    QP(d, "=3D");
    CHECK_OUT(d, "=");
    CHECK_EQ_INT(d.flags, 0);
    QP(d, "a=3Db=3D=3Dc");
    CHECK_OUT(d, "a=b==c");
    QP(d, "=00=FF=80=0D=0A=09");
    CHECK_MEM(d.out, d.n, "\x00\xff\x80\r\n\t", 6);
    CHECK_EQ_INT(d.flags, 0);
    /* rule (1): "Caf=E9" is latin-1 "Caf\xe9" */
    QP(d, "Caf=E9");
    CHECK_OUT(d, "Caf\xe9");
}

/*
 * RFC 2045 6.7 rule (1) requires upper case hex, but notes "a robust
 * implementation might choose to recognize them"; decode.h says either case.
 */
TM_TEST(qp_lowercase_hex)
{
    struct dec d;

    QP(d, "=3d");
    CHECK_OUT(d, "=");
    CHECK_EQ_INT(d.flags, 0);
    QP(d, "=e9=Fa=fA");
    CHECK_OUT(d, "\xe9\xfa\xfa");
    CHECK_EQ_INT(d.flags, 0);
}

/* decode.h: a bad escape is copied literally and flagged TM_DEC_BADESC. */
TM_TEST(qp_bad_escape_literal)
{
    struct dec d;

    QP(d, "=G1");
    CHECK_OUT(d, "=G1");
    CHECK_FLAGS(d.flags, TM_DEC_BADESC);
    QP(d, "a=1Gb");
    CHECK_OUT(d, "a=1Gb");
    CHECK_FLAGS(d.flags, TM_DEC_BADESC);
    QP(d, "abc=4");
    CHECK_OUT(d, "abc=4");
    CHECK_FLAGS(d.flags, TM_DEC_BADESC);
    QP(d, "100% = 1/1");
    CHECK_OUT(d, "100% = 1/1");
    CHECK_FLAGS(d.flags, TM_DEC_BADESC);
}

/*
 * A lone "=" as the very last byte. RFC 2045 6.7 has no final "=", but in a
 * multipart the CRLF after it belongs to the delimiter (RFC 2046 5.1.1), so a
 * soft line break ("=" CRLF) at the end of a part reaches the decoder as "="
 * at the end of input. It is read as that soft break, as CPython's
 * binascii.a2b_qp does (b"abc=" -> b"abc"), with no flag.
 */
TM_TEST(qp_equals_at_end)
{
    struct dec d;

    QP(d, "abc=");
    CHECK_OUT(d, "abc");
    CHECK_EQ_INT((int)d.flags, 0);
}

/*
 * RFC 2045 6.7 grammar: qp-segment := qp-section *(SPACE / TAB) "=", so
 * whitespace before a soft break is data ("abc \t" survives), while
 * transport-padding (whitespace after the "=" and before the line break)
 * "MUST be ignored" and the break is still soft and not a bad escape.
 */
TM_TEST(qp_whitespace_and_soft_break)
{
    struct dec d;

    QP(d, "abc \t=\r\ndef");
    CHECK_OUT(d, "abc \tdef");
    CHECK_EQ_INT(d.flags, 0);
    QP(d, "abc=  \r\ndef");
    CHECK_OUT(d, "abcdef");
    CHECK_NOFLAGS(d.flags, TM_DEC_BADESC);
    QP(d, "abc=\t\ndef");
    CHECK_OUT(d, "abcdef");
    CHECK_NOFLAGS(d.flags, TM_DEC_BADESC);
}

/* decode.h: hard line ends are copied as they are. */
TM_TEST(qp_hard_line_breaks_kept)
{
    struct dec d;

    QP(d, "a\r\nb\nc\rd\r\n");
    CHECK_OUT(d, "a\r\nb\nc\rd\r\n");
    CHECK_EQ_INT(d.flags, 0);
}

/* RFC 2047 4.2 (2): in the "Q" encoding '_' is 0x20; in a body it is '_'. */
TM_TEST(qp_header_mode_underscore)
{
    struct dec d;

    QPH(d, "a_b");
    CHECK_OUT(d, "a b");
    QPH(d, "Keld_J=F8rn_Simonsen"); /* RFC 2047 section 8 */
    CHECK_OUT(d, "Keld J\xf8rn Simonsen");
    QPH(d, "=5F");
    CHECK_OUT(d, "_");
    QP(d, "a_b");
    CHECK_OUT(d, "a_b");
    CHECK_EQ_INT(d.flags, 0);
}

TM_TEST(qp_empty)
{
    struct dec d;

    QP(d, "");
    CHECK_EQ_SIZE(d.n, 0);
    CHECK_EQ_INT(d.flags, 0);
}

/* ---- uuencode -------------------------------------------------------- */

/*
 * The classic block for "Cat", worked by hand:
 *   "Cat" = 0x43 0x61 0x74 = 01000011 01100001 01110100
 *   6-bit groups 010000 110110 000101 110100 = 16 54 5 52
 *   + 32 = 48 86 37 84 = '0' 'V' '%' 'T'; length 3 + 32 = 35 = '#'
 * so the data line is "#0V%T", then the zero-length line "`" and "end".
 */
#define CAT_BLOCK "begin 644 cat.txt\n#0V%T\n`\nend\n"

TM_TEST(uu_line_cat)
{
    struct dec d;

    UULINE(d, "#0V%T");
    CHECK_OUT(d, "Cat");
    CHECK_EQ_INT(d.flags, 0);
}

/*
 * "Ca", by hand: 0x43 0x61 padded with 0x00 = 010000 110110 000100 000000
 * = 16 54 4 0, + 32 = '0' 'V' '$' and 0 -> '`' (or ' ', old encoders);
 * length 2 + 32 = 34 = '"'. Only the declared 2 bytes come out.
 */
TM_TEST(uu_line_partial_group)
{
    struct dec d;

    UULINE(d, "\"0V$`");
    CHECK_OUT(d, "Ca");
    CHECK_EQ_INT(d.flags, 0);
    UULINE(d, "\"0V$ "); /* space for zero, as old uuencode wrote it */
    CHECK_OUT(d, "Ca");
    CHECK_EQ_INT(d.flags, 0);
}

/* A length character of '`' (or ' ') is a zero-length line. */
TM_TEST(uu_line_empty)
{
    struct dec d;

    UULINE(d, "`");
    CHECK_EQ_SIZE(d.n, 0);
    UULINE(d, " ");
    CHECK_EQ_SIZE(d.n, 0);
}

/*
 * decode.h: the declared length is clipped to what the line holds. 'M'
 * declares 45 bytes but "0V%T" carries 3.
 */
TM_TEST(uu_line_short)
{
    struct dec d;

    UULINE(d, "M0V%T");
    CHECK_OUT(d, "Cat");
    CHECK_FLAGS(d.flags, TM_DEC_TRUNC);
}

/* tm_uu_find in surrounding text, then tm_uu_decode_block. */
TM_TEST(uu_find_in_text)
{
    static const char text[] = "Hello,\nsee the attachment:\n\n" CAT_BLOCK "Bye\n";
    const unsigned char *in = (const unsigned char *)text;
    size_t len = sizeof(text) - 1;
    size_t off_begin = (size_t)(strstr(text, "begin ") - text);
    size_t off_bye = (size_t)(strstr(text, "Bye") - text);
    unsigned char out[TM_UU_MAX_OUT(sizeof(text))];
    struct tm_uu_block blk;
    unsigned flags = 0;
    size_t n;

    memset(&blk, 0, sizeof(blk));
    REQUIRE(tm_uu_find(in, len, 0, &blk) == 1);
    CHECK_EQ_SIZE(blk.begin, off_begin);
    /* "just past the end line": after "end", with or without its LF */
    CHECK(blk.end == off_bye || blk.end == off_bye - 1);
    CHECK_EQ_INT(blk.mode, 0644);
    CHECK_MEM(blk.name, blk.name_len, "cat.txt", 7);
    REQUIRE(blk.end >= blk.begin && blk.end <= len);
    n = tm_uu_decode_block(in, &blk, out, &flags);
    CHECK_LE_SIZE(n, TM_UU_MAX_OUT(blk.end - blk.begin));
    CHECK_MEM(out, n, "Cat", 3);
    /* nothing after it */
    CHECK_EQ_INT(tm_uu_find(in, len, blk.end, &blk), 0);
}

/* Two blocks; the search resumes at `from`. CRLF lines work as LF ones. */
TM_TEST(uu_find_two_blocks)
{
    static const char text[] = "begin 600 a\r\n#0V%T\r\n`\r\nend\r\n"
                               "middle text\r\n"
                               "begin 755 b.bin\r\n\"0V$`\r\n`\r\nend\r\n";
    const unsigned char *in = (const unsigned char *)text;
    size_t len = sizeof(text) - 1;
    unsigned char out[TM_UU_MAX_OUT(sizeof(text))];
    struct tm_uu_block blk;
    unsigned flags = 0;
    size_t n;

    REQUIRE(tm_uu_find(in, len, 0, &blk) == 1);
    CHECK_EQ_SIZE(blk.begin, 0);
    CHECK_EQ_INT(blk.mode, 0600);
    CHECK_MEM(blk.name, blk.name_len, "a", 1);
    n = tm_uu_decode_block(in, &blk, out, &flags);
    CHECK_MEM(out, n, "Cat", 3);
    REQUIRE(tm_uu_find(in, len, blk.end, &blk) == 1);
    CHECK_EQ_SIZE(blk.begin, (size_t)(strstr(text, "begin 755") - text));
    CHECK_EQ_INT(blk.mode, 0755);
    CHECK_MEM(blk.name, blk.name_len, "b.bin", 5);
    n = tm_uu_decode_block(in, &blk, out, &flags);
    CHECK_MEM(out, n, "Ca", 2);
}

/* decode.h: without an "end" line the block runs to the end of the input. */
TM_TEST(uu_missing_end)
{
    static const char text[] = "intro\nbegin 644 cat.txt\n#0V%T\n`\n";
    const unsigned char *in = (const unsigned char *)text;
    size_t len = sizeof(text) - 1;
    unsigned char out[TM_UU_MAX_OUT(sizeof(text))];
    struct tm_uu_block blk;
    unsigned flags = 0;
    size_t n;

    REQUIRE(tm_uu_find(in, len, 0, &blk) == 1);
    CHECK_EQ_SIZE(blk.begin, 6);
    CHECK_EQ_SIZE(blk.end, len);
    n = tm_uu_decode_block(in, &blk, out, &flags);
    CHECK_MEM(out, n, "Cat", 3);
}

/* "begin" has to be followed by an octal mode and a name to start a block. */
TM_TEST(uu_not_a_block)
{
    static const char text[] = "Let us begin the meeting.\nbegin the meeting\nend\n";
    struct tm_uu_block blk;

    CHECK_EQ_INT(tm_uu_find((const unsigned char *)text, sizeof(text) - 1, 0, &blk), 0);
    CHECK_EQ_INT(tm_uu_find((const unsigned char *)"", 0, 0, &blk), 0);
}

const struct tm_test tests_decode[] = {
    TM_TEST_ENTRY(b64_rfc4648_vectors),
    TM_TEST_ENTRY(b64_rfc4648_binary),
    TM_TEST_ENTRY(b64_alphabet_edges),
    TM_TEST_ENTRY(b64_whitespace_and_crlf),
    TM_TEST_ENTRY(b64_junk_skipped),
    TM_TEST_ENTRY(b64_missing_padding),
    TM_TEST_ENTRY(b64_lone_trailing_symbol),
    TM_TEST_ENTRY(b64_data_after_pad_ignored),
    TM_TEST_ENTRY(b64_empty),
    TM_TEST_ENTRY(b64_long_lines),
    TM_TEST_ENTRY(qp_rfc2045_soft_breaks),
    TM_TEST_ENTRY(qp_soft_break_eol_kinds),
    TM_TEST_ENTRY(qp_rfc2045_escapes),
    TM_TEST_ENTRY(qp_lowercase_hex),
    TM_TEST_ENTRY(qp_bad_escape_literal),
    TM_TEST_ENTRY(qp_equals_at_end),
    TM_TEST_ENTRY(qp_whitespace_and_soft_break),
    TM_TEST_ENTRY(qp_hard_line_breaks_kept),
    TM_TEST_ENTRY(qp_header_mode_underscore),
    TM_TEST_ENTRY(qp_empty),
    TM_TEST_ENTRY(uu_line_cat),
    TM_TEST_ENTRY(uu_line_partial_group),
    TM_TEST_ENTRY(uu_line_empty),
    TM_TEST_ENTRY(uu_line_short),
    TM_TEST_ENTRY(uu_find_in_text),
    TM_TEST_ENTRY(uu_find_two_blocks),
    TM_TEST_ENTRY(uu_missing_end),
    TM_TEST_ENTRY(uu_not_a_block),
    TM_TEST_END,
};
