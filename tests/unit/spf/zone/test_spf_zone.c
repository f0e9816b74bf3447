/*
 * test_spf_zone.c - the test_spf_zone executable: SPF and DMARC end to end
 * through the real resolver interface, the zone-file back end of
 * scanner/dns (tm_dns_new_zone), linked with tm_auth as the daemon is.
 * The zone is RFC 7208 appendix A's master file as printed, with
 * example.com's record appended per case, written to a temporary file.
 * Usage: test_spf_zone [-l | NAME...]
 */
#define TM_TEST_IMPL
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/dmarc.h"
#include "auth/spf.h"
#include "core/arena.h"
#include "dns/dns.h"

/* RFC 7208 appendix A, the zone as printed there */
static const char appendix_a[] = "; A domain with two mail servers, two hosts, and two servers\n"
                                 "; at the domain name\n"
                                 "$ORIGIN example.com.\n"
                                 "@           600 MX  10 mail-a\n"
                                 "                MX  20 mail-b\n"
                                 "                A   192.0.2.10\n"
                                 "                A   192.0.2.11\n"
                                 "amy             A   192.0.2.65\n"
                                 "bob             A   192.0.2.66\n"
                                 "mail-a          A   192.0.2.129\n"
                                 "mail-b          A   192.0.2.130\n"
                                 "www             CNAME example.com.\n"
                                 "\n"
                                 "; A related domain\n"
                                 "$ORIGIN example.org.\n"
                                 "@           600 MX  10 mail-c\n"
                                 "mail-c          A   192.0.2.140\n"
                                 "\n"
                                 "; The reverse IP for those addresses\n"
                                 "$ORIGIN 2.0.192.in-addr.arpa.\n"
                                 "10              PTR example.com.\n"
                                 "11              PTR example.com.\n"
                                 "65              PTR amy.example.com.\n"
                                 "66              PTR bob.example.com.\n"
                                 "129             PTR mail-a.example.com.\n"
                                 "130             PTR mail-b.example.com.\n"
                                 "140             PTR mail-c.example.org.\n"
                                 "\n"
                                 "; A rogue reverse IP domain that claims to be\n"
                                 "; something it's not\n"
                                 "$ORIGIN 0.0.10.in-addr.arpa.\n"
                                 "4               PTR bob.example.com.\n";

/* zone - a resolver over appendix A plus extra (master-file lines); NULL on error */
static struct tm_dns *
zone(const char *extra)
{
    char path[] = "/tmp/tm-spf-zone-XXXXXX", err[256];
    struct tm_dns *d = NULL;
    FILE *f;
    int fd = mkstemp(path);

    if (fd < 0 || (f = fdopen(fd, "w")) == NULL)
        return NULL;
    fprintf(f, "%s\n$ORIGIN example.com.\n%s\n", appendix_a, extra);
    fclose(f);
    if (tm_dns_new_zone(path, &d, err, sizeof(err)) != TM_OK)
        tm_test_fail(__FILE__, __LINE__, "zone: %s", err);
    unlink(path);
    return d;
}

static enum tm_spf_res
spf(struct tm_dns *d, const char *ip, const char *from, unsigned max_queries)
{
    struct tm_arena *a = tm_arena_new(4u << 20);
    struct tm_dns_budget b = {max_queries, 0, 0};
    struct tm_spf_request q;
    struct tm_spf_result r;

    TM_ASSERT(a != NULL);
    memset(&q, 0, sizeof(q));
    q.ip = ip;
    q.mail_from = from;
    q.helo = "mx.example.net";
    TM_ASSERT(tm_spf_check(d, a, &b, &q, &r) == TM_OK);
    tm_arena_free(a);
    return r.result;
}

TM_TEST(spf_zone_appendix_a1)
{
    /* each A.1 record (as a quoted TXT, split in two strings once) and the hosts that pass */
    static const struct {
        const char *txt;
        const char *pass;
    } cases[] = {
        {"\"v=spf1 +all\"", "10 11 65 66 129 130 140 10.0.0.4"},
        {"\"v=spf1 a -all\"", "10 11"},
        {"\"v=spf1 a:example.org -all\"", ""},
        {"\"v=spf1 \" \"mx -all\"", "129 130"},
        {"\"v=spf1 mx:example.org -all\"", "140"},
        {"\"v=spf1 mx mx:example.org -all\"", "129 130 140"},
        {"\"v=spf1 mx/30 mx:example.org/30 -all\"", "129 130 140"},
        {"\"v=spf1 ptr -all\"", "10 11 65 66 129 130"},
        {"\"v=spf1 ip4:192.0.2.128/28 -all\"", "129 130 140"},
    };
    static const char *const hosts[] = {"10", "11", "65", "66", "129", "130", "140", "10.0.0.4"};
    size_t i, j;

    for (i = 0; i < TM_NELEM(cases); i++) {
        char extra[200];
        struct tm_dns *d;

        (void)snprintf(extra, sizeof(extra), "@ TXT %s", cases[i].txt);
        if ((d = zone(extra)) == NULL)
            continue;
        for (j = 0; j < TM_NELEM(hosts); j++) {
            char ip[32], word[16];
            enum tm_spf_res want, got;

            (void)snprintf(ip, sizeof(ip), "%s%s", strchr(hosts[j], '.') ? "" : "192.0.2.",
                           hosts[j]);
            (void)snprintf(word, sizeof(word), " %s ", hosts[j]);
            {
                char padded[80];

                (void)snprintf(padded, sizeof(padded), " %s ", cases[i].pass);
                want = strstr(padded, word) != NULL ? TM_SPF_PASS : TM_SPF_FAIL;
            }
            got = spf(d, ip, "joe@example.com", 100);
            if (got != want)
                tm_test_fail(__FILE__, __LINE__, "%s from %s: %s, want %s", cases[i].txt, ip,
                             tm_spf_result_name(got), tm_spf_result_name(want));
        }
        tm_dns_free(d);
    }
}

TM_TEST(spf_zone_budget_and_cname)
{
    struct tm_dns *d = zone("@ TXT \"v=spf1 a:www.example.com -all\"\n"
                            "$ORIGIN example.net.\n"
                            "@ TXT \"v=spf1 redirect=example.com\"\n");

    REQUIRE(d != NULL);
    CHECK_EQ_INT(spf(d, "192.0.2.11", "x@example.com", 100), TM_SPF_PASS); /* through the CNAME */
    CHECK_EQ_INT(spf(d, "192.0.2.11", "x@example.net", 100), TM_SPF_PASS);
    CHECK_EQ_INT(spf(d, "192.0.2.12", "x@example.net", 100), TM_SPF_FAIL);
    /* the message's budget: the resolver answers LIMIT, SPF says temperror */
    CHECK_EQ_INT(spf(d, "192.0.2.11", "x@example.net", 2), TM_SPF_TEMPERROR);
    CHECK_EQ_INT(spf(d, "192.0.2.11", "x@nowhere.example.org", 100), TM_SPF_NONE);
    tm_dns_free(d);
}

TM_TEST(dmarc_zone_discovery)
{
    struct tm_dns *d = zone("_dmarc TXT ( \"v=DMARC1; p=reject; \"\n"
                            "             \"sp=quarantine; rua=mailto:d@example.com\" )\n");
    struct tm_arena *a = tm_arena_new(1 << 20);
    struct tm_dns_budget b = {100, 0, 0};
    struct tm_dmarc_inputs in;
    struct tm_dmarc_result r;
    const char *dkim[1] = {"example.com"};

    REQUIRE(d != NULL && a != NULL);
    memset(&in, 0, sizeof(in));
    in.spf = TM_SPF_PASS;
    in.spf_domain = "example.org";
    REQUIRE(tm_dmarc_check(d, a, &b, "mail-a.example.com", &in, 0, &r) == TM_OK);
    CHECK_EQ_INT(r.result, TM_DMARC_FAIL);
    CHECK_STR(r.record_domain, "example.com");
    CHECK_EQ_INT(r.policy, TM_DMARC_P_QUARANTINE);
    CHECK_EQ_INT(r.disposition, TM_DMARC_P_QUARANTINE);
    in.dkim_pass = dkim;
    in.ndkim = 1;
    REQUIRE(tm_dmarc_check(d, a, &b, "example.com", &in, 0, &r) == TM_OK);
    CHECK_EQ_INT(r.result, TM_DMARC_PASS);
    CHECK_EQ_INT(r.policy, TM_DMARC_P_REJECT);
    REQUIRE(tm_dmarc_check(d, a, &b, "example.org", &in, 0, &r) == TM_OK);
    CHECK_EQ_INT(r.result, TM_DMARC_NONE);
    tm_arena_free(a);
    tm_dns_free(d);
}

int
main(int argc, char **argv)
{
    static const struct tm_test tests[] = {
        TM_TEST_ENTRY(spf_zone_appendix_a1),
        TM_TEST_ENTRY(spf_zone_budget_and_cname),
        TM_TEST_ENTRY(dmarc_zone_discovery),
        TM_TEST_END,
    };
    static const struct tm_test *const suites[] = {tests, NULL};

    return tm_test_main(argc, argv, suites);
}
