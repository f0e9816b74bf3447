/*
 * test_spf_parse.c - SPF record syntax (RFC 7208 4.5, 4.6.1, 5, 6, 7.1):
 * what is a record, which terms are errors (the grammar's cases, most of
 * them from the openspf suite's zone data), and what the parser keeps.
 */
#include "harness.h"

#include <string.h>

#include "auth/spf_int.h"
#include "core/arena.h"
#include "suites.h"

/* parse - s as a record; the error string, or NULL when it is valid */
static const char *
parse(struct tm_arena *a, const char *s, size_t n, struct tm_spf_record *r)
{
    TM_ASSERT(tm_spf_parse(a, s, n, r) == TM_OK);
    return r->error;
}

TM_TEST(spf_parse_is_record)
{
    CHECK(tm_spf_is_record("v=spf1", 6));
    CHECK(tm_spf_is_record("v=spf1 -all", 11));
    CHECK(tm_spf_is_record("V=SpF1 ~all", 11)); /* ABNF literals are case-insensitive */
    CHECK(!tm_spf_is_record("v=spf10", 7));
    CHECK(!tm_spf_is_record("v=spf1\t-all", 11));
    CHECK(!tm_spf_is_record("v=spf", 5));
    CHECK(!tm_spf_is_record(" v=spf1", 7));
    CHECK(!tm_spf_is_record("spf2.0/pra ~all", 15));
}

TM_TEST(spf_parse_errors)
{
    static const char *const bad[] = {
        "v=spf1 -all.", /* all = "all" */
        "v=spf1 -all:foobar",
        "v=spf1 -all/8",
        "v=spf1 ip4:1.2.3.4/33",  /* ip4-cidr-length at most 32 */
        "v=spf1 ip4:1.2.3.4/032", /* no leading zero */
        "v=spf1 ip4",
        "v=spf1 ip4:1.2.3.4//32",
        "v=spf1 ip4:1.2.3",
        "v=spf1 ip4:1.2.3.4:8080",
        "v=spf1 ip4:01.2.3.4",
        "v=spf1 ip4:256.2.3.4",
        "v=spf1 ip6::CAFE::BABE",
        "v=spf1 ip6:::1.1.1.1/129",
        "v=spf1 ip6:::1.1.1.1//33",
        "v=spf1 ip6",
        "v=spf1 a/33",
        "v=spf1 a//129",
        "v=spf1 a/24/64", /* the ip6 length needs "//" */
        "v=spf1 mx/33 -all",
        "v=spf1 include",
        "v=spf1 include:",
        "v=spf1 include:ip5.example.com/24",
        "v=spf1 exists",
        "v=spf1 exists:",
        "v=spf1 exists:mail.example.com/24",
        "v=spf1 ptr/0 -all",
        "v=spf1 ptr:",
        "v=spf1 a:",
        "v=spf1 mx: -all",
        "v=spf1 1up=foo", /* name = ALPHA *( ... ) */
        "v=spf1 =all",
        "v=spf1 moo.cow/far_out=man:dog/cat ip4:1.2.3.4 -all",
        "v=spf1 moo.cow:far_out=man:dog/cat ip4:1.2.3.4 -all",
        "v=spf1 redirect=a.example.com -all redirect=b.example.com",
        "v=spf1 exp=a.example.com -all exp=b.example.com",
        "v=spf1 ip4:1.2.3.4 redirect:t2.example.com",
        "v=spf1 redirect=",
        "v=spf1 exp= -all",
        "v=spf1 a:foo-bar -all", /* domain-end = "." toplabel */
        "v=spf1 a:museum",
        "v=spf1 a:museum.",
        "v=spf1 a:abc.123", /* a toplabel is not all digits */
        "v=spf1 a:111.222.33.44",
        "v=spf1 a:example.-com",
        "v=spf1 a:example.com:8080",
        "v=spf1 mx:example.com:8080",
        "v=spf1 a:%{a}.example.com -all", /* unknown macro letter */
        "v=spf1 -exists:%(ir).sbl.example.com ?all",
        "v=spf1 exists:foo%.sbl.example.com ?all",
        "v=spf1 exp=%{r}.example.com -all", /* r only in explanation text */
        "v=spf1 include:%{c}.example.com",
        "v=spf1 -all foo=%abc", /* unknown modifiers still need valid macros */
        "v=spf1 a:ctrl.example.com\rptr -all",
        "v=spf1 ip4:192.0.2.5\n include:x.example.com ~all",
        "v=spf1 a:\xef\xbb\xbf"
        "garbage.example.net -all",
        "v=spf1 \x80"
        "a:example.net -all",
        "v=spf1 a:example.net \x96"
        "all",
        "v=spf1 +",
        "v=spf1 -redirect=x.example.com",
        "v=spf1 ip4:1.2.3.4 -all moo", /* errors after a match count too (4.6) */
    };
    struct tm_arena *a = tm_arena_new(1 << 20);
    struct tm_spf_record r;
    size_t i;

    REQUIRE(a != NULL);
    for (i = 0; i < TM_NELEM(bad); i++) {
        if (parse(a, bad[i], strlen(bad[i]), &r) == NULL)
            tm_test_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
    }
    /* an embedded NUL is no macro-literal, and no qualifier (found by fuzz_spf) */
    CHECK(parse(a, "v=spf1 a:foo.example.com\0", 25, &r) != NULL);
    CHECK(parse(a, "v=spf1 \0a:x.example.com", 24, &r) != NULL);
    tm_arena_free(a);
}

TM_TEST(spf_parse_valid)
{
    static const char *const good[] = {
        "v=spf1",
        "v=spf1 ",
        "v=spf1 a  -all",
        "v=spf1 -all ",
        "v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all",
        "v=spf1 default=+",
        "v=spf1 a:foo:bar/baz.example.com",
        "v=spf1 a:foo.example.xn--zckzah -all",
        "v=spf1 a:macro%%percent%_%_space%-url-space.example.com -all",
        "v=spf1 exp=%{ir}.example.com -all",
        "v=spf1 redirect=%{d}.d.spf.example.com.",
        "v=spf1 include:o.spf.example.com. ~all",
        "v=spf1 ip6:Cafe:Babe:8000::/33 ip6:::FFFF:1.2.3.4",
        "v=spf1 ip4:0.0.0.0/0 ip4:255.255.255.255/32",
        "v=spf1 exists:%{i}.%{l2r-}.user.%{d2} Mx/0 PTR A:x.example.com//0 ALL",
        "v=spf1 a:1-2.example.123-4",
        "v=spf1 ?all redirect=x.example.com",
    };
    struct tm_arena *a = tm_arena_new(1 << 20);
    struct tm_spf_record r;
    size_t i;

    REQUIRE(a != NULL);
    for (i = 0; i < TM_NELEM(good); i++) {
        const char *e = parse(a, good[i], strlen(good[i]), &r);

        if (e != NULL)
            tm_test_fail(__FILE__, __LINE__, "refused \"%s\": %s", good[i], e);
    }
    tm_arena_free(a);
}

TM_TEST(spf_parse_fields)
{
    static const char rec[] =
        "v=spf1 a:foo.example.com/24//64 -mx//96 ~ip4:192.0.2.0/24 ?ip6:2001:db8::/32 "
        "+include:_spf.%{d2} ptr exists:%{ir}.bl.example.org all x-y=%{l} exp=why.%{d} "
        "redirect=_spf.example.net";
    struct tm_arena *a = tm_arena_new(1 << 20);
    struct tm_spf_record r;
    const struct tm_spf_term *t;

    REQUIRE(a != NULL);
    REQUIRE(parse(a, rec, sizeof(rec) - 1, &r) == NULL);
    REQUIRE(r.n == 11);
    t = r.terms;
    CHECK_EQ_INT(t[0].kind, TM_SPF_K_A);
    CHECK_EQ_INT(t[0].qual, TM_SPF_PASS);
    CHECK_STR(t[0].spec, "foo.example.com");
    CHECK_EQ_INT(t[0].cidr4, 24);
    CHECK_EQ_INT(t[0].cidr6, 64);
    CHECK_STR(t[0].text, "a:foo.example.com/24//64");
    CHECK_EQ_INT(t[1].kind, TM_SPF_K_MX);
    CHECK_EQ_INT(t[1].qual, TM_SPF_FAIL);
    CHECK(t[1].spec == NULL);
    CHECK_EQ_INT(t[1].cidr4, 32);
    CHECK_EQ_INT(t[1].cidr6, 96);
    CHECK_EQ_INT(t[2].kind, TM_SPF_K_IP4);
    CHECK_EQ_INT(t[2].qual, TM_SPF_SOFTFAIL);
    CHECK_MEM(t[2].net, 4, "\xc0\x00\x02\x00", 4);
    CHECK_EQ_INT(t[2].cidr4, 24);
    CHECK_EQ_INT(t[3].kind, TM_SPF_K_IP6);
    CHECK_EQ_INT(t[3].qual, TM_SPF_NEUTRAL);
    CHECK_MEM(t[3].net, 4, "\x20\x01\x0d\xb8", 4);
    CHECK_EQ_INT(t[3].cidr6, 32);
    CHECK_EQ_INT(t[4].kind, TM_SPF_K_INCLUDE);
    CHECK_STR(t[4].spec, "_spf.%{d2}");
    CHECK_EQ_INT(t[5].kind, TM_SPF_K_PTR);
    CHECK(t[5].spec == NULL);
    CHECK_EQ_INT(t[6].kind, TM_SPF_K_EXISTS);
    CHECK_EQ_INT(t[7].kind, TM_SPF_K_ALL);
    CHECK_EQ_INT(t[8].kind, TM_SPF_K_UNKNOWN);
    CHECK_EQ_INT(t[9].kind, TM_SPF_K_EXP);
    CHECK_STR(t[9].spec, "why.%{d}");
    CHECK_EQ_INT(t[10].kind, TM_SPF_K_REDIRECT);
    CHECK(r.exp == &t[9]);
    CHECK(r.redirect == &t[10]);
    tm_arena_free(a);
}

TM_TEST(spf_parse_limits)
{
    /* TM_SPF_MAX_TERMS terms parse, one more is an error; so is a record
     * over TM_SPF_MAX_RECORD bytes */
    struct tm_arena *a = tm_arena_new(1 << 20);
    struct tm_spf_record r;
    char rec[TM_SPF_MAX_RECORD + 16];
    size_t i, n;

    REQUIRE(a != NULL);
    memcpy(rec, "v=spf1", 6);
    n = 6;
    for (i = 0; i < TM_SPF_MAX_TERMS; i++) {
        memcpy(rec + n, " ?all", 5);
        n += 5;
    }
    CHECK(parse(a, rec, n, &r) == NULL);
    CHECK_EQ_SIZE(r.n, TM_SPF_MAX_TERMS);
    memcpy(rec + n, " ?all", 5);
    CHECK(parse(a, rec, n + 5, &r) != NULL);
    memset(rec + 6, ' ', sizeof(rec) - 6);
    CHECK(parse(a, rec, TM_SPF_MAX_RECORD, &r) == NULL);
    CHECK(parse(a, rec, TM_SPF_MAX_RECORD + 1, &r) != NULL);
    tm_arena_free(a);
}

const struct tm_test tests_spf_parse[] = {
    TM_TEST_ENTRY(spf_parse_is_record), TM_TEST_ENTRY(spf_parse_errors),
    TM_TEST_ENTRY(spf_parse_valid),     TM_TEST_ENTRY(spf_parse_fields),
    TM_TEST_ENTRY(spf_parse_limits),    TM_TEST_END,
};
