/*
 * test_zone.c - the zone-file resolver: every master-file feature it
 * claims (RFC 1035 section 5, RFC 2308 $TTL), errors with file:line, CNAME
 * chains and loops, NODATA against NXDOMAIN (empty non-terminals too),
 * wildcards, TXT joining and escapes, and the bounds with small limits.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/core.h"
#include "dns/dns_impl.h"
#include "suites.h"

#define ARENA (16u << 20)

static const char basic_zone[] = "; a test zone\n"
                                 "$ORIGIN example.com.\n"
                                 "$TTL 600\n"
                                 "@        IN  SOA ns hostmaster ( 2024010101 ; serial\n"
                                 "                  3600 600     ; refresh retry\n"
                                 "                  86400 120 )  ; expire minimum\n"
                                 "@            NS  ns\n"
                                 "@        300 IN  A   192.0.2.10\n"
                                 "@            MX  10 mx1\n"
                                 "             MX  20 mx2.example.com.\n"
                                 "www      IN 120 A  192.0.2.1\n"
                                 "www.example.com. 120 IN A 192.0.2.2\n"
                                 "         AAAA 2001:db8::1\n"
                                 "Mixed.CASE  A 192.0.2.3\n"
                                 "mx1      A   192.0.2.25\n"
                                 "$ORIGIN 2.0.192.in-addr.arpa.\n"
                                 "1        PTR www.example.com.\n"
                                 "1        PTR Web.Example.COM.\n";

TM_TEST(zone_basic_records)
{
    struct tm_arena *a = tm_arena_new(ARENA);
    struct tm_dns *d = dns_zone(basic_zone);

    REQUIRE(a != NULL && d != NULL);
    CHECK_STR(dns_ans(d, a, "example.com", TM_DNS_A), "ok 192.0.2.10");
    CHECK_STR(dns_ans(d, a, "example.com", TM_DNS_MX), "ok 10:mx1.example.com 20:mx2.example.com");
    CHECK_STR(dns_ans(d, a, "www.example.com", TM_DNS_A), "ok 192.0.2.1 192.0.2.2");
    CHECK_STR(dns_ans(d, a, "www.example.com", TM_DNS_AAAA), "ok 2001:db8::1");
    CHECK_STR(dns_ans(d, a, "1.2.0.192.in-addr.arpa", TM_DNS_PTR),
              "ok www.example.com Web.Example.COM");
    /* case-insensitive names, trailing dot */
    CHECK_STR(dns_ans(d, a, "mixed.case.example.com", TM_DNS_A), "ok 192.0.2.3");
    CHECK_STR(dns_ans(d, a, "WWW.Example.Com.", TM_DNS_A), "ok 192.0.2.1 192.0.2.2");
    /* other types at an existing name, a name that does not exist */
    CHECK_STR(dns_ans(d, a, "www.example.com", TM_DNS_TXT), "nodata");
    CHECK_STR(dns_ans(d, a, "ns.example.com", TM_DNS_A), "nxdomain");
    CHECK_STR(dns_ans(d, a, "nope.example.com", TM_DNS_A), "nxdomain");
    CHECK_STR(dns_ans(d, a, "example.org", TM_DNS_A), "nxdomain");
    tm_dns_free(d);
    tm_arena_free(a);
}

TM_TEST(zone_ttls)
{
    struct tm_arena *a = tm_arena_new(ARENA);
    struct tm_dns *d;
    struct tm_dns_rrset rs;

    REQUIRE(a != NULL);
    /* RFC 1035 without $TTL: the last explicit TTL goes on; units; class/TTL order */
    d = dns_zone("a.test. 1h30m A 192.0.2.1\n"
                 "b.test. A 192.0.2.2\n"
                 "c.test. IN 2W A 192.0.2.3\n"
                 "d.test. 1d IN A 192.0.2.4\n"
                 "e.test. 0 A 192.0.2.5\n");
    REQUIRE(d != NULL);
    REQUIRE(tm_dns_lookup(d, a, "a.test", TM_DNS_A, NULL, &rs) == TM_OK && rs.n == 1);
    CHECK_EQ_INT(rs.rr[0].ttl, 5400);
    REQUIRE(tm_dns_lookup(d, a, "b.test", TM_DNS_A, NULL, &rs) == TM_OK && rs.n == 1);
    CHECK_EQ_INT(rs.rr[0].ttl, 5400);
    REQUIRE(tm_dns_lookup(d, a, "c.test", TM_DNS_A, NULL, &rs) == TM_OK && rs.n == 1);
    CHECK_EQ_INT(rs.rr[0].ttl, 2 * 604800);
    REQUIRE(tm_dns_lookup(d, a, "d.test", TM_DNS_A, NULL, &rs) == TM_OK && rs.n == 1);
    CHECK_EQ_INT(rs.rr[0].ttl, 86400);
    REQUIRE(tm_dns_lookup(d, a, "e.test", TM_DNS_A, NULL, &rs) == TM_OK && rs.n == 1);
    CHECK_EQ_INT(rs.rr[0].ttl, 0);
    tm_dns_free(d);
    /* $TTL wins over the last explicit TTL; no TTL at all: 3600 */
    d = dns_zone("$TTL 300\nx.test. 60 A 192.0.2.1\ny.test. A 192.0.2.2\n"
                 "r.test. 90 A 192.0.2.1\n A 192.0.2.2\n");
    REQUIRE(d != NULL);
    REQUIRE(tm_dns_lookup(d, a, "y.test", TM_DNS_A, NULL, &rs) == TM_OK && rs.n == 1);
    CHECK_EQ_INT(rs.rr[0].ttl, 300);
    /* one RRset, one TTL: the lowest (RFC 2181 section 5.2) */
    REQUIRE(tm_dns_lookup(d, a, "r.test", TM_DNS_A, NULL, &rs) == TM_OK && rs.n == 2);
    CHECK_EQ_INT(rs.rr[0].ttl, 90);
    CHECK_EQ_INT(rs.rr[1].ttl, 90);
    tm_dns_free(d);
    d = dns_zone("z.test. A 192.0.2.1\n");
    REQUIRE(d != NULL);
    REQUIRE(tm_dns_lookup(d, a, "z.test", TM_DNS_A, NULL, &rs) == TM_OK && rs.n == 1);
    CHECK_EQ_INT(rs.rr[0].ttl, 3600);
    tm_dns_free(d);
    tm_arena_free(a);
}

TM_TEST(zone_txt_strings_and_escapes)
{
    struct tm_arena *a = tm_arena_new(ARENA);
    struct tm_dns *d;
    struct tm_dns_rrset rs;

    REQUIRE(a != NULL);
    d = dns_zone("$ORIGIN example.com.\n"
                 "spf   TXT \"v=spf1 ip4:192.0.2.0/24 \" \"include:_spf.example.net\" \"-all\"\n"
                 "multi TXT \"one\" \"two\"\n"
                 "      TXT three\n"
                 "key   TXT ( \"v=DKIM1; k=rsa; \"   ; a comment inside\n"
                 "            \"p=MIGf\" )\n"
                 "esc   TXT \"quote \\\" backslash \\\\ semicolon ; paren ( byte \\200\\065\"\n"
                 "bare  TXT plain\\032word \\\"x\n"
                 "empty TXT \"\"\n");
    REQUIRE(d != NULL);
    CHECK_STR(dns_ans(d, a, "spf.example.com", TM_DNS_TXT),
              "ok v=spf1 ip4:192.0.2.0/24 include:_spf.example.net-all");
    CHECK_STR(dns_ans(d, a, "multi.example.com", TM_DNS_TXT), "ok onetwo three");
    CHECK_STR(dns_ans(d, a, "key.example.com", TM_DNS_TXT), "ok v=DKIM1; k=rsa; p=MIGf");
    REQUIRE(tm_dns_lookup(d, a, "esc.example.com", TM_DNS_TXT, NULL, &rs) == TM_OK);
    REQUIRE(rs.n == 1);
    {
        static const char want[] = "quote \" backslash \\ semicolon ; paren ( byte \xc8"
                                   "A";

        CHECK_MEM(rs.rr[0].text, rs.rr[0].len, want, sizeof(want) - 1);
    }
    CHECK_EQ_INT(rs.rr[0].text[rs.rr[0].len], '\0');
    CHECK_STR(dns_ans(d, a, "bare.example.com", TM_DNS_TXT), "ok plain word\"x");
    REQUIRE(tm_dns_lookup(d, a, "empty.example.com", TM_DNS_TXT, NULL, &rs) == TM_OK);
    REQUIRE(rs.n == 1);
    CHECK_EQ_INT(rs.status, TM_DNS_OK);
    CHECK_EQ_SIZE(rs.rr[0].len, 0);
    tm_dns_free(d);
    tm_arena_free(a);
}

TM_TEST(zone_syntax_variants)
{
    struct tm_arena *a = tm_arena_new(ARENA);
    struct tm_dns *d;

    REQUIRE(a != NULL);
    /* CRLF, tabs, no final newline, relative $ORIGIN, "@" after $ORIGIN, ignored types */
    d = dns_zone("$ORIGIN com.\r\n"
                 "$ORIGIN example\r\n"
                 "@\tIN\tA\t192.0.2.1\r\n"
                 "srv\tSRV 0 5 5060 sip\r\n"
                 "gen\tTYPE65 \\# 0\r\n"
                 "ns\tNS other.example.net.\r\n"
                 "low\tin\ta\t192.0.2.7\r\n"
                 "last A 192.0.2.9");
    REQUIRE(d != NULL);
    CHECK_STR(dns_ans(d, a, "example.com", TM_DNS_A), "ok 192.0.2.1");
    CHECK_STR(dns_ans(d, a, "srv.example.com", TM_DNS_A), "nodata");
    CHECK_STR(dns_ans(d, a, "gen.example.com", TM_DNS_TXT), "nodata");
    CHECK_STR(dns_ans(d, a, "ns.example.com", TM_DNS_A), "nodata");
    CHECK_STR(dns_ans(d, a, "low.example.com", TM_DNS_A), "ok 192.0.2.7");
    CHECK_STR(dns_ans(d, a, "last.example.com", TM_DNS_A), "ok 192.0.2.9");
    tm_dns_free(d);
    /* an owner in column 0 that looks like a number (reverse zones) */
    d = dns_zone("$ORIGIN 0.0.10.in-addr.arpa.\n"
                 "5 300 IN PTR host.example.\n"
                 "6 PTR other.example.\n");
    REQUIRE(d != NULL);
    CHECK_STR(dns_ans(d, a, "5.0.0.10.in-addr.arpa", TM_DNS_PTR), "ok host.example");
    CHECK_STR(dns_ans(d, a, "6.0.0.10.in-addr.arpa", TM_DNS_PTR), "ok other.example");
    tm_dns_free(d);
    tm_arena_free(a);
}

/* Each bad zone and the start of the message it must give. */
static const struct {
    const char *text, *err;
} bad_zones[] = {
    {"a.test. A 192.0.2.1\nb.test. A 192.0.2.300\n", "t.zone:2: bad IPv4 address \"192.0.2.300\""},
    {"a.test. AAAA 192.0.2.1\n", "t.zone:1: bad IPv6 address"},
    {"\n\na.test. TXT \"open\n", "t.zone:3: end of line inside a quoted string"},
    {"a.test. TXT \"open", "t.zone:1: quoted string not closed"},
    {"a.test. SOA ( ns h 1 2 3\n 4 5\n", "t.zone:1: \"(\" not closed"},
    {"a.test. A 192.0.2.1 )\n", "t.zone:1: \")\" without \"(\""},
    {"a.test. TXT ( ( \"x\" ) )\n", "t.zone:1: nested \"(\""},
    {"\na.test. BOGUS 1\n", "t.zone:2: unknown record type \"BOGUS\""},
    {"a.test. CH TXT \"x\"\n", "t.zone:1: class CH is not supported"},
    {"$INCLUDE other.zone\n", "t.zone:1: $INCLUDE is not supported"},
    {"$FOO bar\n", "t.zone:1: unknown directive $FOO"},
    {"$TTL soon\n", "t.zone:1: $TTL takes one TTL"},
    {"$TTL 99999999999\n", "t.zone:1: $TTL takes one TTL"},
    {"  A 192.0.2.1\n", "t.zone:1: no owner name"},
    {"a.test. TXT \"\\256\"\n", "t.zone:1: \\256 escape is over 255"},
    {"a.test. TXT \"\\12\"\n", "t.zone:1: \\DDD escape needs three digits"},
    {"a.test. A\n", "t.zone:1: this type needs 1 field, not 0"},
    {"a.test. MX 70000 mx.test.\n", "t.zone:1: bad MX preference \"70000\""},
    {"a.test. MX 10\n", "t.zone:1: MX needs 2 fields, not 1"},
    {"a.test.\n", "t.zone:1: no record type"},
    {"@ A 192.0.2.1\n", "t.zone:1: \"@\" with no $ORIGIN"},
    {"a..test. A 192.0.2.1\n", "t.zone:1: empty label"},
    {"a\\.b.test. A 192.0.2.1\n", "t.zone:1: escaped dot or NUL in name"},
    {"x.test. CNAME y.test.\nx.test. A 192.0.2.1\n", "t.zone:1: CNAME and other data for x.test"},
    {"x.test. CNAME y.test.\nx.test. CNAME z.test.\n", "t.zone:"},
    {"a.test. PTR .\n", "t.zone:1: the root name"},
    {"a.test. TXT \"x\" \\\n", "t.zone:1: backslash at the end of a line"},
    {"a.test. TXT "
     "\"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567"
     "8901234567890123456789012345678901234567890123456789012345678901234567890123456789012345"
     "678901234567890123456789012345678901234567890123456789012345678901234567890123456789\"\n",
     "t.zone:1: TXT string longer than 255 bytes"},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test. A 192.0.2.1\n",
     "t.zone:1: label longer than 63 bytes"},
};

TM_TEST(zone_errors_name_file_and_line)
{
    char err[256];
    struct tm_dns *d;
    size_t i;

    for (i = 0; i < TM_NELEM(bad_zones); i++) {
        const char *t = bad_zones[i].text;

        err[0] = '\0';
        d = NULL;
        if (tm_dns_new_zone_mem(t, strlen(t), "t.zone", NULL, &d, err, sizeof(err)) != TM_EINVAL) {
            tm_test_fail(__FILE__, __LINE__, "bad zone %zu loaded", i);
            tm_dns_free(d);
            continue;
        }
        CHECK(d == NULL);
        if (strncmp(err, bad_zones[i].err, strlen(bad_zones[i].err)) != 0)
            tm_test_fail(__FILE__, __LINE__, "zone %zu: error \"%s\", expected \"%s...\"", i, err,
                         bad_zones[i].err);
    }
}

TM_TEST(zone_limits_small)
{
    struct tm_dns_zone_limits lim = tm_dns_zone_limits_default();
    static const char z[] = "a.test. A 192.0.2.1\nb.test. A 192.0.2.2\nc.test. NS ns.test.\n";
    static const char big[] = "a.test. TXT \"aaaaaaaaaaaaaaaaaaaa\" \"bbbbbbbbbbbbbbbbbbbbbbb\"\n";
    char err[256];
    struct tm_dns *d;

    lim.max_records = 2; /* ignored types count */
    CHECK_EQ_INT(tm_dns_new_zone_mem(z, strlen(z), "t.zone", &lim, &d, err, sizeof(err)),
                 TM_EINVAL);
    CHECK_STR(err, "t.zone:3: more than 2 records");
    lim = tm_dns_zone_limits_default();
    lim.max_bytes = 10;
    CHECK_EQ_INT(tm_dns_new_zone_mem(z, strlen(z), "t.zone", &lim, &d, err, sizeof(err)),
                 TM_EINVAL);
    CHECK_STR(err, "t.zone:0: zone file larger than 10 bytes");
    lim = tm_dns_zone_limits_default();
    lim.max_line = 30;
    CHECK_EQ_INT(tm_dns_new_zone_mem(big, strlen(big), "t.zone", &lim, &d, err, sizeof(err)),
                 TM_EINVAL);
    CHECK_STR(err, "t.zone:1: line longer than 30 bytes");
    lim = tm_dns_zone_limits_default();
    lim.max_entry = 40;
    CHECK_EQ_INT(tm_dns_new_zone_mem(big, strlen(big), "t.zone", &lim, &d, err, sizeof(err)),
                 TM_EINVAL);
    CHECK_STR(err, "t.zone:1: entry longer than 40 bytes");
    lim = tm_dns_zone_limits_default();
    lim.max_tokens = 3;
    CHECK_EQ_INT(tm_dns_new_zone_mem(big, strlen(big), "t.zone", &lim, &d, err, sizeof(err)),
                 TM_EINVAL);
    CHECK_STR(err, "t.zone:1: more than 3 tokens in one entry");
    lim.max_tokens = 4;
    CHECK_EQ_INT(tm_dns_new_zone_mem(big, strlen(big), "t.zone", &lim, &d, err, sizeof(err)),
                 TM_OK);
    tm_dns_free(d);
}

TM_TEST(zone_cname_chains_and_loops)
{
    struct tm_arena *a = tm_arena_new(ARENA);
    struct tm_dns *d;
    struct tm_dns_rrset rs;

    REQUIRE(a != NULL);
    d = dns_zone("$ORIGIN example.com.\n"
                 "www    A 192.0.2.1\n"
                 "       TXT \"hello\"\n"
                 "c1     CNAME www\n"
                 "c2     CNAME C1.Example.COM.\n"
                 "c3     CNAME c2\n"
                 "loop1  CNAME loop2\n"
                 "loop2  CNAME loop1\n"
                 "self   CNAME self\n"
                 "dang   CNAME gone\n"
                 "out    CNAME www.example.net.\n"
                 "l0 CNAME l1\nl1 CNAME l2\nl2 CNAME l3\nl3 CNAME l4\nl4 CNAME l5\n"
                 "l5 CNAME l6\nl6 CNAME l7\nl7 CNAME l8\nl8 CNAME l9\nl9 A 192.0.2.9\n"
                 "cn     CNAME www\n"
                 "       RRSIG A 8 3 300 20250101000000 20240101000000 1 example.com. abc=\n");
    REQUIRE(d != NULL);
    CHECK_STR(dns_ans(d, a, "c1.example.com", TM_DNS_A), "ok 192.0.2.1");
    CHECK_STR(dns_ans(d, a, "c3.example.com", TM_DNS_A), "ok 192.0.2.1");
    CHECK_STR(dns_ans(d, a, "c3.example.com", TM_DNS_TXT), "ok hello");
    CHECK_STR(dns_ans(d, a, "c3.example.com", TM_DNS_MX), "nodata");
    CHECK_STR(dns_ans(d, a, "loop1.example.com", TM_DNS_A), "tempfail");
    CHECK_STR(dns_ans(d, a, "self.example.com", TM_DNS_TXT), "tempfail");
    CHECK_STR(dns_ans(d, a, "dang.example.com", TM_DNS_A), "nxdomain");
    CHECK_STR(dns_ans(d, a, "out.example.com", TM_DNS_A), "nxdomain");
    /* l1 -> l9 is 8 links: followed; l0 -> l9 is 9: a resolver's SERVFAIL */
    CHECK_STR(dns_ans(d, a, "l1.example.com", TM_DNS_A), "ok 192.0.2.9");
    CHECK_STR(dns_ans(d, a, "l0.example.com", TM_DNS_A), "tempfail");
    CHECK_STR(dns_ans(d, a, "cn.example.com", TM_DNS_A), "ok 192.0.2.1");
    REQUIRE(tm_dns_lookup(d, a, "c2.example.com", TM_DNS_A, NULL, &rs) == TM_OK);
    CHECK_EQ_SIZE(rs.n, 1);
    tm_dns_free(d);
    tm_arena_free(a);
}

TM_TEST(zone_nodata_nxdomain_empty_nonterminals)
{
    struct tm_arena *a = tm_arena_new(ARENA);
    struct tm_dns *d;

    REQUIRE(a != NULL);
    d = dns_zone("$ORIGIN example.com.\n"
                 "a.b.c  A 192.0.2.1\n"
                 "_dmarc TXT \"v=DMARC1; p=none\"\n"
                 "other.example.org. A 192.0.2.2\n");
    REQUIRE(d != NULL);
    CHECK_STR(dns_ans(d, a, "a.b.c.example.com", TM_DNS_A), "ok 192.0.2.1");
    CHECK_STR(dns_ans(d, a, "a.b.c.example.com", TM_DNS_AAAA), "nodata");
    /* between an owner and its apex: empty non-terminals exist */
    CHECK_STR(dns_ans(d, a, "b.c.example.com", TM_DNS_A), "nodata");
    CHECK_STR(dns_ans(d, a, "c.example.com", TM_DNS_TXT), "nodata");
    CHECK_STR(dns_ans(d, a, "example.com", TM_DNS_A), "nodata");
    CHECK_STR(dns_ans(d, a, "x.b.c.example.com", TM_DNS_A), "nxdomain");
    CHECK_STR(dns_ans(d, a, "com", TM_DNS_A), "nxdomain");
    /* an owner under no apex has no empty non-terminals */
    CHECK_STR(dns_ans(d, a, "other.example.org", TM_DNS_A), "ok 192.0.2.2");
    CHECK_STR(dns_ans(d, a, "example.org", TM_DNS_A), "nxdomain");
    tm_dns_free(d);
    /* an SOA owner is an apex too */
    d = dns_zone("example.net. SOA ns h 1 2 3 4 5\nx.y.example.net. A 192.0.2.3\n");
    REQUIRE(d != NULL);
    CHECK_STR(dns_ans(d, a, "y.example.net", TM_DNS_A), "nodata");
    CHECK_STR(dns_ans(d, a, "example.net", TM_DNS_A), "nodata");
    CHECK_STR(dns_ans(d, a, "net", TM_DNS_A), "nxdomain");
    tm_dns_free(d);
    tm_arena_free(a);
}

TM_TEST(zone_wildcards)
{
    struct tm_arena *a = tm_arena_new(ARENA);
    struct tm_dns *d;

    REQUIRE(a != NULL);
    d = dns_zone("$ORIGIN example.com.\n"
                 "*.wild     A   192.0.2.1\n"
                 "*.wild     TXT \"wild\"\n"
                 "here.wild  MX  10 mx\n"
                 "*          TXT \"top\"\n");
    REQUIRE(d != NULL);
    CHECK_STR(dns_ans(d, a, "x.wild.example.com", TM_DNS_A), "ok 192.0.2.1");
    CHECK_STR(dns_ans(d, a, "a.b.wild.example.com", TM_DNS_TXT), "ok wild");
    CHECK_STR(dns_ans(d, a, "x.wild.example.com", TM_DNS_AAAA), "nodata");
    /* an existing name is not covered by the wildcard */
    CHECK_STR(dns_ans(d, a, "here.wild.example.com", TM_DNS_A), "nodata");
    /* the closest encloser of deeper names under here.wild is here.wild: no *.here.wild */
    CHECK_STR(dns_ans(d, a, "x.here.wild.example.com", TM_DNS_A), "nxdomain");
    /* wild.example.com exists (empty non-terminal), so the top wildcard does not apply */
    CHECK_STR(dns_ans(d, a, "wild.example.com", TM_DNS_TXT), "nodata");
    CHECK_STR(dns_ans(d, a, "other.example.com", TM_DNS_TXT), "ok top");
    CHECK_STR(dns_ans(d, a, "example.org", TM_DNS_TXT), "nxdomain");
    tm_dns_free(d);
    tm_arena_free(a);
}

TM_TEST(zone_answer_bounds)
{
    struct tm_arena *a = tm_arena_new(ARENA);
    char text[8192];
    struct tm_dns *d;
    struct tm_dns_rrset rs;
    size_t len = 0, i;

    REQUIRE(a != NULL);
    for (i = 0; i < 70; i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, "many.test. A 192.0.2.%zu\n", i);
    snprintf(text + len, sizeof(text) - len, "t.test. TXT \"0123456789\" \"abcdef\"\n");
    d = dns_zone(text);
    REQUIRE(d != NULL);
    REQUIRE(tm_dns_lookup(d, a, "many.test", TM_DNS_A, NULL, &rs) == TM_OK);
    CHECK_EQ_INT(rs.status, TM_DNS_OK);
    CHECK_EQ_SIZE(rs.n, TM_DNS_MAX_RR);
    CHECK_EQ_INT(rs.rr[63].addr[3], 63);
    tm_dns_set_limits(d, 5, 12);
    REQUIRE(tm_dns_lookup(d, a, "many.test", TM_DNS_A, NULL, &rs) == TM_OK);
    CHECK_EQ_SIZE(rs.n, 5);
    CHECK_STR(dns_ans(d, a, "t.test", TM_DNS_TXT), "ok 0123456789ab");
    tm_dns_free(d);
    tm_arena_free(a);
}

TM_TEST(zone_from_file)
{
    char path[] = "/tmp/tm_dns_zoneXXXXXX", err[256];
    struct tm_arena *a = tm_arena_new(ARENA);
    struct tm_dns *d = NULL;
    FILE *f;
    int fd;

    REQUIRE(a != NULL);
    REQUIRE((fd = mkstemp(path)) >= 0);
    REQUIRE((f = fdopen(fd, "w")) != NULL);
    fputs("$ORIGIN example.com.\nwww A 192.0.2.1\nbad A 1.2.3\n", f);
    fclose(f);
    CHECK_EQ_INT(tm_dns_new_zone(path, &d, err, sizeof(err)), TM_EINVAL);
    CHECK(strstr(err, ":3: bad IPv4 address") != NULL);
    CHECK(strncmp(err, path, strlen(path)) == 0);
    REQUIRE((f = fopen(path, "w")) != NULL);
    fputs("$ORIGIN example.com.\nwww A 192.0.2.1\n", f);
    fclose(f);
    REQUIRE(tm_dns_new_zone(path, &d, err, sizeof(err)) == TM_OK);
    CHECK_STR(dns_ans(d, a, "www.example.com", TM_DNS_A), "ok 192.0.2.1");
    CHECK_STR(tm_dns_zone_name_at(d, 0), "example.com");
    CHECK_STR(tm_dns_zone_name_at(d, 1), "www.example.com");
    CHECK(tm_dns_zone_name_at(d, 2) == NULL);
    tm_dns_free(d);
    unlink(path);
    CHECK_EQ_INT(tm_dns_new_zone(path, &d, err, sizeof(err)), TM_EIO);
    CHECK(strstr(err, "No such file") != NULL);
    tm_arena_free(a);
}

const struct tm_test tests_dns_zone[] = {
    TM_TEST_ENTRY(zone_basic_records),
    TM_TEST_ENTRY(zone_ttls),
    TM_TEST_ENTRY(zone_txt_strings_and_escapes),
    TM_TEST_ENTRY(zone_syntax_variants),
    TM_TEST_ENTRY(zone_errors_name_file_and_line),
    TM_TEST_ENTRY(zone_limits_small),
    TM_TEST_ENTRY(zone_cname_chains_and_loops),
    TM_TEST_ENTRY(zone_nodata_nxdomain_empty_nonterminals),
    TM_TEST_ENTRY(zone_wildcards),
    TM_TEST_ENTRY(zone_answer_bounds),
    TM_TEST_ENTRY(zone_from_file),
    TM_TEST_END,
};
