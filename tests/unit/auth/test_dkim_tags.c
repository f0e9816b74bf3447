/*
 * test_dkim_tags.c - the RFC 6376 3.2 tag-list parser (strict: duplicates,
 * empty tag-specs and "=" less tags are errors; FWS around names and values;
 * empty values), colon lists, and base64 with FWS (3.5).
 */
#include "harness.h"

#include <string.h>

#include "auth/dkim_int.h"
#include "suites.h"

#define MAXT 16

static int
parse(const char *s, struct dkim_tag *t, size_t *n, const char **why)
{
    *why = NULL;
    return dkim_tags_parse((const unsigned char *)s, strlen(s), t, MAXT, n, why);
}

#define CHECK_TAG(t, nm, v)                               \
    do {                                                  \
        CHECK_MEM((t).name, (t).namelen, nm, strlen(nm)); \
        CHECK_MEM((t).val, (t).vallen, v, strlen(v));     \
    } while (0)

TM_TEST(tags_basic)
{
    struct dkim_tag t[MAXT];
    const char *why;
    size_t n;

    REQUIRE(parse("v=1; a=rsa-sha256; d=example.net", t, &n, &why) == 0);
    REQUIRE(n == 3);
    CHECK_TAG(t[0], "v", "1");
    CHECK_TAG(t[1], "a", "rsa-sha256");
    CHECK_TAG(t[2], "d", "example.net");
    REQUIRE(parse("v=1;", t, &n, &why) == 0); /* a trailing ";" is allowed */
    CHECK_EQ_SIZE(n, 1);
    REQUIRE(parse("", t, &n, &why) == 0); /* so is an empty list */
    CHECK_EQ_SIZE(n, 0);
    REQUIRE(parse(" \r\n\t ", t, &n, &why) == 0);
    CHECK_EQ_SIZE(n, 0);
}

TM_TEST(tags_whitespace)
{
    struct dkim_tag t[MAXT];
    const char *why;
    const char *s = " v = 1 ;\r\n\ta\t=\trsa-sha256\r\n ; b= ab\r\n cd ; x_1=  ";
    size_t n;

    REQUIRE(parse(s, t, &n, &why) == 0);
    REQUIRE(n == 4);
    CHECK_TAG(t[0], "v", "1");
    CHECK_TAG(t[1], "a", "rsa-sha256");
    CHECK_TAG(t[2], "b", "ab\r\n cd"); /* FWS inside a value stays, around it goes */
    CHECK_TAG(t[3], "x_1", "");
    /* eq is just after "=", vend just after the value's last byte: what b= removal cuts */
    CHECK_EQ_SIZE(t[2].eq, (size_t)(strstr(s, "b=") - s) + 2);
    CHECK_EQ_SIZE(t[2].vend, (size_t)(strstr(s, "cd") - s) + 2);
}

TM_TEST(tags_empty_values)
{
    struct dkim_tag t[MAXT];
    const char *why;
    size_t n;

    REQUIRE(parse("p=; t=y", t, &n, &why) == 0);
    REQUIRE(n == 2);
    CHECK_TAG(t[0], "p", "");
    CHECK_EQ_SIZE(t[0].eq, t[0].vend); /* nothing to cut */
    REQUIRE(parse("p=", t, &n, &why) == 0);
    REQUIRE(n == 1);
    CHECK_TAG(t[0], "p", "");
}

TM_TEST(tags_errors)
{
    struct dkim_tag t[MAXT];
    const char *why;
    size_t n;

    CHECK(parse("v=1; v=1", t, &n, &why) == -1);
    CHECK_STR(why, "duplicate tag");
    CHECK(parse("a=1; b=2; a=3", t, &n, &why) == -1);
    CHECK_STR(why, "duplicate tag");
    CHECK(parse("v=1;; a=b", t, &n, &why) == -1);
    CHECK_STR(why, "empty tag");
    CHECK(parse("; v=1", t, &n, &why) == -1);
    CHECK(parse("v=1; a", t, &n, &why) == -1);
    CHECK_STR(why, "tag without \"=\"");
    CHECK(parse("v 1=2", t, &n, &why) == -1);
    CHECK(parse("1v=2", t, &n, &why) == -1);
    CHECK_STR(why, "bad tag name");
    CHECK(parse("_v=2", t, &n, &why) == -1);
    CHECK(parse("v=1\x01", t, &n, &why) == -1);
    CHECK_STR(why, "bad character in a tag value");
    CHECK(parse("v=a\x7f", t, &n, &why) == -1);
    /* names are case-sensitive (3.2): V and v are two tags */
    CHECK(parse("V=1; v=1", t, &n, &why) == 0);
    CHECK_EQ_SIZE(n, 2);
}

TM_TEST(tags_limit)
{
    struct dkim_tag t[4];
    const char *why = NULL;
    size_t n;

    CHECK(dkim_tags_parse(TM_LIT("a=1;b=2;c=3;d=4"), t, 4, &n, &why) == 0);
    CHECK_EQ_SIZE(n, 4);
    CHECK(dkim_tags_parse(TM_LIT("a=1;b=2;c=3;d=4;e=5"), t, 4, &n, &why) == -1);
    CHECK_STR(why, "too many tags");
}

TM_TEST(tags_find_and_lists)
{
    struct dkim_tag t[MAXT];
    const char *why;
    size_t n;

    REQUIRE(parse("h=From : To:subject ; s = email:* ; k=RSA", t, &n, &why) == 0);
    REQUIRE(dkim_tag_find(t, n, "h") != NULL);
    CHECK(dkim_tag_find(t, n, "H") == NULL);
    CHECK(dkim_list_has(t[0].val, t[0].vallen, "from"));
    CHECK(dkim_list_has(t[0].val, t[0].vallen, "to"));
    CHECK(dkim_list_has(t[0].val, t[0].vallen, "SUBJECT"));
    CHECK(!dkim_list_has(t[0].val, t[0].vallen, "date"));
    CHECK(!dkim_list_has(t[0].val, t[0].vallen, "fro"));
    CHECK(dkim_list_has(t[1].val, t[1].vallen, "*"));
    CHECK(dkim_tag_eq(&t[2], "rsa"));
    CHECK(!dkim_tag_eq(&t[2], "rs"));
}

TM_TEST(base64_fws)
{
    unsigned char out[64];
    size_t n;

    n = dkim_b64_decode(TM_LIT("aGVs\r\n bG8g\td29y bGQ="), out, sizeof(out));
    REQUIRE(n == 11);
    CHECK_MEM(out, n, "hello world", 11);
    n = dkim_b64_decode(TM_LIT("YQ=="), out, sizeof(out));
    CHECK_EQ_SIZE(n, 1);
    n = dkim_b64_decode(TM_LIT("YQ= = "), out, sizeof(out)); /* FWS in the padding */
    CHECK_EQ_SIZE(n, 1);
    CHECK_EQ_SIZE(dkim_b64_decode(TM_LIT(""), out, sizeof(out)), 0);
}

TM_TEST(base64_errors)
{
    unsigned char out[4];

    CHECK(dkim_b64_decode(TM_LIT("YQ==YQ=="), out, sizeof(out)) == (size_t)-1); /* data after = */
    CHECK(dkim_b64_decode(TM_LIT("YQ==="), out, sizeof(out)) == (size_t)-1);
    CHECK(dkim_b64_decode(TM_LIT("YQ="), out, sizeof(out)) == (size_t)-1); /* bad padding */
    CHECK(dkim_b64_decode(TM_LIT("Y"), out, sizeof(out)) == (size_t)-1);   /* lone sextet */
    CHECK(dkim_b64_decode(TM_LIT("YW*j"), out, sizeof(out)) == (size_t)-1);
    CHECK(dkim_b64_decode(TM_LIT("YWJjZGVm"), out, sizeof(out)) == (size_t)-1); /* too long */
}

TM_TEST(base64_encode_roundtrip)
{
    const unsigned char in[] = {0x00, 0xff, 0x10, 0x80, 0x7f};
    unsigned char back[8];
    char enc[DKIM_B64_LEN(16)];
    size_t k, n;

    for (k = 0; k <= sizeof(in); k++) {
        dkim_b64_encode(in, k, enc);
        CHECK_EQ_SIZE(strlen(enc), (k + 2) / 3 * 4);
        n = dkim_b64_decode((const unsigned char *)enc, strlen(enc), back, sizeof(back));
        REQUIRE(n == k);
        CHECK_MEM(back, n, in, k);
    }
    dkim_b64_encode((const unsigned char *)"hello world", 11, enc);
    CHECK_STR(enc, "aGVsbG8gd29ybGQ=");
}

const struct tm_test tests_dkim_tags[] = {
    TM_TEST_ENTRY(tags_basic),
    TM_TEST_ENTRY(tags_whitespace),
    TM_TEST_ENTRY(tags_empty_values),
    TM_TEST_ENTRY(tags_errors),
    TM_TEST_ENTRY(tags_limit),
    TM_TEST_ENTRY(tags_find_and_lists),
    TM_TEST_ENTRY(base64_fws),
    TM_TEST_ENTRY(base64_errors),
    TM_TEST_ENTRY(base64_encode_roundtrip),
    TM_TEST_END,
};
