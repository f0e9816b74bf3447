/*
 * test_spf_macro.c - SPF macro expansion (RFC 7208 section 7). The golden
 * values of spf_macro_rfc_examples are the expansions printed in RFC 7208
 * 7.4 for <sender> strong-bad@email.example.com and IP 192.0.2.3 /
 * 2001:db8::cb01; the others follow the rules of 7.1 to 7.3 quoted beside
 * each case.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <string.h>

#include "auth/spf_int.h"
#include "core/arena.h"
#include "suites.h"

static void
rfc_env(struct tm_spf_macro_env *e, const char *ip)
{
    memset(e, 0, sizeof(*e));
    e->s = "strong-bad@email.example.com";
    e->l = "strong-bad";
    e->o = "email.example.com";
    e->d = "email.example.com";
    e->h = "mx.example.org";
    if (inet_pton(AF_INET, ip, e->ip) == 1) {
        e->family = 4;
    } else {
        e->family = 6;
        TM_ASSERT(inet_pton(AF_INET6, ip, e->ip) == 1);
    }
}

/* expand - s expanded in mode, or NULL when the string is refused */
static const char *
expand(struct tm_arena *a, const struct tm_spf_macro_env *e, const char *s, enum tm_spf_mode mode)
{
    char *out;
    size_t n;

    if (tm_spf_expand(a, e, s, strlen(s), mode, &out, &n) != TM_OK)
        return NULL;
    TM_ASSERT(strlen(out) == n);
    return out;
}

TM_TEST(spf_macro_rfc_examples)
{
    /* RFC 7208 7.4, verbatim */
    static const char *const cases[][2] = {
        {"%{s}", "strong-bad@email.example.com"},
        {"%{o}", "email.example.com"},
        {"%{d}", "email.example.com"},
        {"%{d4}", "email.example.com"},
        {"%{d3}", "email.example.com"},
        {"%{d2}", "example.com"},
        {"%{d1}", "com"},
        {"%{dr}", "com.example.email"},
        {"%{d2r}", "example.email"},
        {"%{l}", "strong-bad"},
        {"%{l-}", "strong.bad"},
        {"%{lr}", "strong-bad"},
        {"%{lr-}", "bad.strong"},
        {"%{l1r-}", "strong"},
        {"%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
        {"%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
        {"%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
        {"%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"},
        {"%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"},
    };
    struct tm_arena *a = tm_arena_new(1 << 20);
    struct tm_spf_macro_env e;
    size_t i;

    REQUIRE(a != NULL);
    rfc_env(&e, "192.0.2.3");
    for (i = 0; i < TM_NELEM(cases); i++)
        CHECK_STR(expand(a, &e, cases[i][0], TM_SPF_M_DOMAIN), cases[i][1]);
    rfc_env(&e, "2001:db8::cb01");
    CHECK_STR(
        expand(a, &e, "%{ir}.%{v}._spf.%{d2}", TM_SPF_M_DOMAIN),
        "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
    tm_arena_free(a);
}

TM_TEST(spf_macro_escapes_and_upper)
{
    struct tm_arena *a = tm_arena_new(1 << 20);
    struct tm_spf_macro_env e;

    REQUIRE(a != NULL);
    rfc_env(&e, "192.0.2.3");
    /* 7.1: "%%" is '%', "%_" a space, "%-" is "%20" */
    CHECK_STR(expand(a, &e, "%%%_%-x", TM_SPF_M_EXPLAIN), "% %20x");
    /* 7.3: upper-case letters expand like lower case, then URL-escape
     * everything outside unreserved (ALPHA DIGIT - . _ ~) */
    CHECK_STR(expand(a, &e, "%{S}", TM_SPF_M_DOMAIN), "strong-bad%40email.example.com");
    CHECK_STR(expand(a, &e, "%{D2R}", TM_SPF_M_DOMAIN), "example.email");
    e.l = "~jack&jill=up-a_b3.c";
    CHECK_STR(expand(a, &e, "%{L}", TM_SPF_M_EXPLAIN), "~jack%26jill%3Dup-a_b3.c");
    /* several delimiters at once (7.3) */
    e.l = "foo-bar+zip+quux";
    CHECK_STR(expand(a, &e, "%{l2r+-}", TM_SPF_M_DOMAIN), "bar.foo");
    CHECK_STR(expand(a, &e, "%{l+}", TM_SPF_M_DOMAIN), "foo-bar.zip.quux");
    /* a count above the number of parts keeps them all */
    CHECK_STR(expand(a, &e, "%{d99}", TM_SPF_M_DOMAIN), "email.example.com");
    tm_arena_free(a);
}

TM_TEST(spf_macro_explain_letters)
{
    struct tm_arena *a = tm_arena_new(1 << 20);
    struct tm_spf_macro_env e;

    REQUIRE(a != NULL);
    rfc_env(&e, "192.0.2.3");
    e.t = 1400000000;
    e.r = "mx.example.net";
    /* c, r and t only in explanations (7.2) */
    CHECK(expand(a, &e, "%{c}", TM_SPF_M_DOMAIN) == NULL);
    CHECK(expand(a, &e, "%{r}.example.com", TM_SPF_M_DOMAIN) == NULL);
    CHECK(expand(a, &e, "%{t}", TM_SPF_M_DOMAIN) == NULL);
    CHECK_STR(expand(a, &e, "%{c} %{r} %{t} %{v} %{h}", TM_SPF_M_EXPLAIN),
              "192.0.2.3 mx.example.net 1400000000 in-addr mx.example.org");
    /* c is the readable form, i the dotted nibbles (7.3) */
    rfc_env(&e, "2001:db8::cb01");
    CHECK_STR(expand(a, &e, "%{c} %{v}", TM_SPF_M_EXPLAIN), "2001:db8::cb01 ip6");
    CHECK_STR(expand(a, &e, "%{i}", TM_SPF_M_DOMAIN),
              "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b.0.1");
    /* p and r default to "unknown" */
    e.r = NULL;
    CHECK_STR(expand(a, &e, "%{p} %{r}", TM_SPF_M_EXPLAIN), "unknown unknown");
    /* spaces only in explanations */
    CHECK(expand(a, &e, "a b", TM_SPF_M_DOMAIN) == NULL);
    tm_arena_free(a);
}

TM_TEST(spf_macro_syntax_errors)
{
    static const char *const bad[] = {
        "%",        "%a",    "%{",  "%{d",   "%{x}",  "%{d0}", "%{d2r+",  "%(ir).sbl",
        "foo%.sbl", "%{dq}", "%{}", "%{4r}", "a\x01", "\x80",  "%{d.}x%",
    };
    size_t i;

    for (i = 0; i < TM_NELEM(bad); i++) {
        if (tm_spf_macro_valid(bad[i], strlen(bad[i]), TM_SPF_M_EXPLAIN))
            tm_test_fail(__FILE__, __LINE__, "accepted bad macro-string \"%s\"", bad[i]);
    }
    CHECK(tm_spf_macro_valid("%{d2r.-+,/_=}", 13, TM_SPF_M_DOMAIN));
    CHECK(tm_spf_macro_valid("", 0, TM_SPF_M_DOMAIN));
    CHECK(tm_spf_macro_uses("x.%{P}.y", 8, 'p'));
    CHECK(!tm_spf_macro_uses("x.%%{p}", 7, 'p'));
}

TM_TEST(spf_macro_truncation)
{
    /* 7.3: an expanded domain over 253 bytes loses whole labels on the left */
    struct tm_arena *a = tm_arena_new(1 << 20);
    struct tm_spf_macro_env e;
    char spec[600], want[300];
    const char *got;
    size_t i, n = 0;

    REQUIRE(a != NULL);
    rfc_env(&e, "192.0.2.3");
    for (i = 0; i < 20; i++) {
        memcpy(spec + n, "%{o}.", 5);
        n += 5;
    }
    memcpy(spec + n, "example.net.", 13); /* 20 x 18 + 11 bytes, and a trailing dot */
    got = expand(a, &e, spec, TM_SPF_M_DOMAIN);
    REQUIRE(got != NULL);
    CHECK_LE_SIZE(strlen(got), 253);
    /* 371 bytes; the longest suffix of whole labels that fits is 249 bytes:
     * "com." + 13 times "email.example.com." + "example.net" */
    memcpy(want, "com.", 4);
    n = 4;
    for (i = 0; i < 13; i++) {
        memcpy(want + n, "email.example.com.", 18);
        n += 18;
    }
    memcpy(want + n, "example.net", 12);
    CHECK_STR(got, want);
    /* one trailing dot goes, under the limit too */
    CHECK_STR(expand(a, &e, "%{d}.", TM_SPF_M_DOMAIN), "email.example.com");
    /* a single label too long to cut leaves nothing usable */
    e.l = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    got = expand(a, &e, "%{l}%{l}%{l}", TM_SPF_M_DOMAIN);
    REQUIRE(got != NULL);
    CHECK_STR(got, "");
    tm_arena_free(a);
}

TM_TEST(spf_macro_explain_clipped)
{
    struct tm_arena *a = tm_arena_new(1 << 20);
    struct tm_spf_macro_env e;
    char spec[400];
    const char *got;
    size_t i;

    REQUIRE(a != NULL);
    rfc_env(&e, "192.0.2.3");
    for (i = 0; i + 4 < sizeof(spec); i += 4)
        memcpy(spec + i, "%{s}", 4);
    spec[i] = '\0';
    got = expand(a, &e, spec, TM_SPF_M_EXPLAIN);
    REQUIRE(got != NULL);
    CHECK_EQ_SIZE(strlen(got), TM_SPF_MAX_EXP);
    CHECK(strncmp(got, "strong-bad@email.example.comstrong-bad@", 39) == 0);
    tm_arena_free(a);
}

TM_TEST(spf_domain_ok)
{
    CHECK(tm_spf_domain_ok("example.com", 11, 1));
    CHECK(!tm_spf_domain_ok("localhost", 9, 1));
    CHECK(tm_spf_domain_ok("localhost", 9, 0));
    CHECK(!tm_spf_domain_ok("a..example.com", 14, 0));
    CHECK(!tm_spf_domain_ok(".example.com", 12, 0));
    CHECK(!tm_spf_domain_ok("[1.2.3.4]", 9, 1));
    CHECK(!tm_spf_domain_ok("a\nb.com", 7, 0));
    /* labels of 63 bytes are fine, 64 are not (the openspf suite's longlabel) */
    CHECK(tm_spf_domain_ok("a12345678901234567890123456789012345678901234567890123456789012.com",
                           67, 1));
    CHECK(!tm_spf_domain_ok("a123456789012345678901234567890123456789012345678901234567890123.com",
                            68, 1));
}

const struct tm_test tests_spf_macro[] = {
    TM_TEST_ENTRY(spf_macro_rfc_examples),
    TM_TEST_ENTRY(spf_macro_escapes_and_upper),
    TM_TEST_ENTRY(spf_macro_explain_letters),
    TM_TEST_ENTRY(spf_macro_syntax_errors),
    TM_TEST_ENTRY(spf_macro_truncation),
    TM_TEST_ENTRY(spf_macro_explain_clipped),
    TM_TEST_ENTRY(spf_domain_ok),
    TM_TEST_END,
};
