/*
 * test_front.c - tm_dns_lookup_many's own duties, shown on a zone resolver:
 * the budget (every lookup counts, LIMIT past max_queries or the deadline,
 * nothing asked then), query names that cannot exist, status names.
 */
#include "harness.h"

#include <string.h>

#include "core/arena.h"
#include "core/core.h"
#include "dns/dns_impl.h"
#include "suites.h"

#define ARENA (4u << 20)

static const char zone[] = "$ORIGIN example.com.\n"
                           "a A 192.0.2.1\n"
                           "b A 192.0.2.2\n"
                           "c TXT \"c\"\n";

TM_TEST(front_budget_counts_every_lookup)
{
    struct tm_arena *a = tm_arena_new(ARENA);
    struct tm_dns *d = dns_zone(zone);
    struct tm_dns_budget b = {3, 0, 0};
    struct tm_dns_query q[5];
    const char *names[5] = {"a.example.com", "nope.example.com", "bad..name", "b.example.com",
                            "c.example.com"};
    size_t i;

    REQUIRE(a != NULL && d != NULL);
    for (i = 0; i < 5; i++) {
        q[i].name = names[i];
        q[i].type = TM_DNS_A;
    }
    CHECK_EQ_INT(tm_dns_lookup_many(d, a, q, 5, &b), TM_OK);
    CHECK_EQ_INT(b.used, 3);
    CHECK_STR(dns_fmt(a, &q[0].res, TM_DNS_A), "ok 192.0.2.1");
    CHECK_STR(dns_fmt(a, &q[1].res, TM_DNS_A), "nxdomain");
    CHECK_STR(dns_fmt(a, &q[2].res, TM_DNS_A), "nxdomain"); /* a bad name costs a lookup too */
    CHECK_STR(dns_fmt(a, &q[3].res, TM_DNS_A), "limit");
    CHECK_STR(dns_fmt(a, &q[4].res, TM_DNS_A), "limit");
    CHECK(q[3].res.n == 0 && q[3].res.rr == NULL);
    /* the budget carries over to the next call */
    b.max_queries = 4;
    CHECK_EQ_INT(tm_dns_lookup_many(d, a, q + 3, 2, &b), TM_OK);
    CHECK_STR(dns_fmt(a, &q[3].res, TM_DNS_A), "ok 192.0.2.2");
    CHECK_STR(dns_fmt(a, &q[4].res, TM_DNS_A), "limit");
    CHECK_EQ_INT(b.used, 4);
    /* zero queries allowed: nothing is asked */
    b.max_queries = 0;
    b.used = 0;
    CHECK_EQ_INT(tm_dns_lookup_many(d, a, q, 1, &b), TM_OK);
    CHECK_EQ_INT(q[0].res.status, TM_DNS_LIMIT);
    CHECK_EQ_INT(b.used, 0);
    tm_dns_free(d);
    tm_arena_free(a);
}

TM_TEST(front_deadline_past_is_limit)
{
    struct tm_arena *a = tm_arena_new(ARENA);
    struct tm_dns *d = dns_zone(zone);
    struct tm_dns_budget b = {100, 0, 0};
    struct tm_dns_rrset rs;

    REQUIRE(a != NULL && d != NULL);
    b.deadline_ms = tm_now_ms() - 1;
    CHECK_EQ_INT(tm_dns_lookup(d, a, "a.example.com", TM_DNS_A, &b, &rs), TM_OK);
    CHECK_EQ_INT(rs.status, TM_DNS_LIMIT);
    CHECK_EQ_INT(b.used, 0);
    b.deadline_ms = tm_now_ms() + 60000;
    CHECK_EQ_INT(tm_dns_lookup(d, a, "a.example.com", TM_DNS_A, &b, &rs), TM_OK);
    CHECK_EQ_INT(rs.status, TM_DNS_OK);
    CHECK_EQ_INT(b.used, 1);
    /* no budget at all: no limit */
    CHECK_EQ_INT(tm_dns_lookup(d, a, "a.example.com", TM_DNS_A, NULL, &rs), TM_OK);
    CHECK_EQ_INT(rs.status, TM_DNS_OK);
    tm_dns_free(d);
    tm_arena_free(a);
}

TM_TEST(front_bad_names_are_nxdomain)
{
    static const char *const bad[] = {
        "",
        ".",
        "..",
        "a..example.com",
        ".a.example.com",
        "a\\.example.com",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.example.com",
    };
    struct tm_arena *a = tm_arena_new(ARENA);
    struct tm_dns *d = dns_zone(zone);
    char longname[300], norm[TM_DNS_MAX_QNAME + 1];
    size_t i, len;

    REQUIRE(a != NULL && d != NULL);
    for (i = 0; i < TM_NELEM(bad); i++)
        CHECK_STR(dns_ans(d, a, bad[i], TM_DNS_A), "nxdomain");
    memset(longname, 'a', sizeof(longname));
    for (i = 63; i < sizeof(longname); i += 64)
        longname[i] = '.';
    longname[254] = '\0'; /* 254 bytes without a final dot: one too many */
    CHECK(!tm_dns_name_norm(longname, norm, &len));
    longname[253] = '\0';
    CHECK(tm_dns_name_norm(longname, norm, &len));
    CHECK_EQ_SIZE(len, 253);
    CHECK(tm_dns_name_norm("A.Example.COM.", norm, &len));
    CHECK_STR(norm, "a.example.com");
    CHECK_STR(dns_ans(d, a, "A.EXAMPLE.COM.", TM_DNS_A), "ok 192.0.2.1");
    tm_dns_free(d);
    tm_arena_free(a);
}

TM_TEST(front_status_names)
{
    CHECK_STR(tm_dns_status_name(TM_DNS_OK), "ok");
    CHECK_STR(tm_dns_status_name(TM_DNS_NODATA), "nodata");
    CHECK_STR(tm_dns_status_name(TM_DNS_NXDOMAIN), "nxdomain");
    CHECK_STR(tm_dns_status_name(TM_DNS_TEMPFAIL), "tempfail");
    CHECK_STR(tm_dns_status_name(TM_DNS_LIMIT), "limit");
    tm_dns_free(NULL);
}

TM_TEST(front_arena_exhausted_is_enomem)
{
    struct tm_arena *a = tm_arena_new(64);
    struct tm_dns *d = dns_zone(zone);
    struct tm_dns_query q[4];
    size_t i;

    REQUIRE(a != NULL && d != NULL);
    for (i = 0; i < 4; i++) {
        q[i].name = "a.example.com";
        q[i].type = TM_DNS_A;
    }
    CHECK_EQ_INT(tm_dns_lookup_many(d, a, q, 4, NULL), TM_ENOMEM);
    tm_dns_free(d);
    tm_arena_free(a);
}

const struct tm_test tests_dns_front[] = {
    TM_TEST_ENTRY(front_budget_counts_every_lookup), TM_TEST_ENTRY(front_deadline_past_is_limit),
    TM_TEST_ENTRY(front_bad_names_are_nxdomain),     TM_TEST_ENTRY(front_status_names),
    TM_TEST_ENTRY(front_arena_exhausted_is_enomem),  TM_TEST_END,
};
