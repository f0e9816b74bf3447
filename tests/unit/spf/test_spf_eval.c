/*
 * test_spf_eval.c - check_host() over the fake resolver: the extended
 * examples of RFC 7208 appendix A (its zone and the results it states for
 * each sending host), the processing limits of 4.6.4, permerror and
 * temperror cases, the HELO identity, and exp= explanations (6.2).
 */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#include "auth/spf.h"
#include "core/arena.h"
#include "dns/dns.h"
#include "fake_dns.h"
#include "suites.h"

/* RFC 7208 appendix A: the example.com / example.org zones and the reverse zones */
static const char appendix_a[] = "example.com MX 10 mail-a.example.com\n"
                                 "example.com MX 20 mail-b.example.com\n"
                                 "example.com A 192.0.2.10\n"
                                 "example.com A 192.0.2.11\n"
                                 "amy.example.com A 192.0.2.65\n"
                                 "bob.example.com A 192.0.2.66\n"
                                 "mail-a.example.com A 192.0.2.129\n"
                                 "mail-b.example.com A 192.0.2.130\n"
                                 "www.example.com CNAME example.com\n"
                                 "example.org MX 10 mail-c.example.org\n"
                                 "mail-c.example.org A 192.0.2.140\n"
                                 "10.2.0.192.in-addr.arpa PTR example.com.\n"
                                 "11.2.0.192.in-addr.arpa PTR example.com.\n"
                                 "65.2.0.192.in-addr.arpa PTR amy.example.com.\n"
                                 "66.2.0.192.in-addr.arpa PTR bob.example.com.\n"
                                 "129.2.0.192.in-addr.arpa PTR mail-a.example.com.\n"
                                 "130.2.0.192.in-addr.arpa PTR mail-b.example.com.\n"
                                 "140.2.0.192.in-addr.arpa PTR mail-c.example.org.\n"
                                 "4.0.0.10.in-addr.arpa PTR bob.example.com.\n";

struct env {
    struct tm_dns *dns;
    struct tm_arena *a;
    struct tm_dns_budget b;
    struct tm_spf_limits lim;
    struct tm_spf_result r;
};

static int
env_init(struct env *e, const char *zone)
{
    memset(e, 0, sizeof(*e));
    e->dns = fake_dns_new();
    e->a = tm_arena_new(4u << 20);
    e->b.max_queries = 1000;
    tm_spf_limits_default(&e->lim);
    return e->a != NULL && (zone == NULL || fake_dns_load(e->dns, zone));
}

static void
env_free(struct env *e)
{
    tm_arena_free(e->a);
    tm_dns_free(e->dns);
}

/* spf - check MAIL FROM from ip (HELO helo); the result code */
static enum tm_spf_res
spf(struct env *e, const char *ip, const char *from, const char *helo)
{
    struct tm_spf_request q;

    memset(&q, 0, sizeof(q));
    q.ip = ip;
    q.mail_from = from;
    q.helo = helo != NULL ? helo : "mx.example.net";
    q.receiver = "mx.example.net";
    q.now = 1400000000;
    q.limits = &e->lim;
    e->b.used = 0;
    TM_ASSERT(tm_spf_check(e->dns, e->a, &e->b, &q, &e->r) == TM_OK);
    return e->r.result;
}

#define CHECK_SPF(e, ip, from, want)                                                       \
    do {                                                                                   \
        enum tm_spf_res got_ = spf((e), (ip), (from), NULL);                               \
        if (got_ != (want))                                                                \
            tm_test_fail(__FILE__, __LINE__, "%s from %s: %s, want %s (%s)", (from), (ip), \
                         tm_spf_result_name(got_), tm_spf_result_name(want),               \
                         (e)->r.reason != NULL ? (e)->r.reason : "-");                     \
    } while (0)

/*
 * appendix_a_record - with example.com's record set to rec, every host in
 * pass (NULL-terminated) passes and every other appendix A host fails.
 */
static void
appendix_a_record(const char *rec, const char *const *pass)
{
    static const char *const hosts[] = {"192.0.2.10",  "192.0.2.11",  "192.0.2.65",
                                        "192.0.2.66",  "192.0.2.129", "192.0.2.130",
                                        "192.0.2.140", "10.0.0.4",    NULL};
    struct env e;
    size_t i, j;

    if (!env_init(&e, appendix_a) || !fake_dns_txt(e.dns, "example.com", rec)) {
        tm_test_fail(__FILE__, __LINE__, "setup");
        return;
    }
    for (i = 0; hosts[i] != NULL; i++) {
        enum tm_spf_res want = TM_SPF_FAIL;

        for (j = 0; pass[j] != NULL; j++)
            if (strcmp(pass[j], hosts[i]) == 0)
                want = TM_SPF_PASS;
        if (spf(&e, hosts[i], "joe@example.com", NULL) != want)
            tm_test_fail(__FILE__, __LINE__, "\"%s\" from %s: %s, want %s (%s)", rec, hosts[i],
                         tm_spf_result_name(e.r.result), tm_spf_result_name(want),
                         e.r.reason != NULL ? e.r.reason : "-");
    }
    env_free(&e);
}

TM_TEST(spf_appendix_a1_simple)
{
    /* RFC 7208 A.1, each record with the hosts the RFC says pass */
    static const char *const all[] = {"192.0.2.10",  "192.0.2.11",  "192.0.2.65",
                                      "192.0.2.66",  "192.0.2.129", "192.0.2.130",
                                      "192.0.2.140", "10.0.0.4",    NULL};
    static const char *const a[] = {"192.0.2.10", "192.0.2.11", NULL};
    static const char *const none[] = {NULL};
    static const char *const mx[] = {"192.0.2.129", "192.0.2.130", NULL};
    static const char *const mx_org[] = {"192.0.2.140", NULL};
    static const char *const mx_both[] = {"192.0.2.129", "192.0.2.130", "192.0.2.140", NULL};
    /* "ptr -all": 65 passes, 140 fails (not in example.com), 10.0.0.4 fails
     * (bob.example.com does not point back to it); 10, 11, 66, 129, 130
     * validate under example.com as well */
    static const char *const ptr[] = {"192.0.2.10",  "192.0.2.11",  "192.0.2.65", "192.0.2.66",
                                      "192.0.2.129", "192.0.2.130", NULL};
    /* "ip4:192.0.2.128/28 -all": 65 fails, 129 passes (and so do 130, 140) */
    static const char *const net[] = {"192.0.2.129", "192.0.2.130", "192.0.2.140", NULL};

    appendix_a_record("v=spf1 +all", all);
    appendix_a_record("v=spf1 a -all", a);
    appendix_a_record("v=spf1 a:example.org -all", none);
    appendix_a_record("v=spf1 mx -all", mx);
    appendix_a_record("v=spf1 mx:example.org -all", mx_org);
    appendix_a_record("v=spf1 mx mx:example.org -all", mx_both);
    appendix_a_record("v=spf1 mx/30 mx:example.org/30 -all", mx_both);
    appendix_a_record("v=spf1 ptr -all", ptr);
    appendix_a_record("v=spf1 ip4:192.0.2.128/28 -all", net);
}

TM_TEST(spf_appendix_a1_cidr_edges)
{
    /* "any sending host in 192.0.2.128/30 or 192.0.2.140/30 passes" */
    struct env e;

    REQUIRE(env_init(&e, appendix_a));
    REQUIRE(fake_dns_txt(e.dns, "example.com", "v=spf1 mx/30 mx:example.org/30 -all"));
    CHECK_SPF(&e, "192.0.2.128", "joe@example.com", TM_SPF_PASS);
    CHECK_SPF(&e, "192.0.2.131", "joe@example.com", TM_SPF_PASS);
    CHECK_SPF(&e, "192.0.2.143", "joe@example.com", TM_SPF_PASS);
    CHECK_SPF(&e, "192.0.2.132", "joe@example.com", TM_SPF_FAIL);
    CHECK_SPF(&e, "192.0.2.139", "joe@example.com", TM_SPF_FAIL);
    CHECK_EQ_INT(e.r.dns_terms, 2);
    CHECK_STR(e.r.mechanism, "-all");
    CHECK_STR(e.r.domain, "example.com");
    env_free(&e);
}

TM_TEST(spf_appendix_a2_multiple_domains)
{
    /* A.2: one policy shared through redirect and include */
    struct env e;

    REQUIRE(env_init(&e, appendix_a));
    REQUIRE(fake_dns_load(e.dns,
                          "example.com TXT v=spf1 mx -all\n"
                          "example.net TXT v=spf1 ip4:198.51.100.0/24 -all\n"
                          "example.org TXT v=spf1 include:example.com include:example.net -all\n"
                          "la.example.org TXT v=spf1 redirect=example.org\n"
                          "ny.example.org TXT v=spf1 redirect=example.org\n"));
    CHECK_SPF(&e, "192.0.2.129", "a@la.example.org", TM_SPF_PASS);
    CHECK_STR(e.r.mechanism, "include:example.com");
    CHECK_STR(e.r.domain, "la.example.org");
    CHECK_SPF(&e, "198.51.100.7", "a@ny.example.org", TM_SPF_PASS);
    CHECK_SPF(&e, "203.0.113.1", "a@la.example.org", TM_SPF_FAIL);
    CHECK_EQ_INT(e.r.dns_terms, 4); /* redirect, include, mx, include */
    env_free(&e);
}

TM_TEST(spf_appendix_a3_dnsbl_style)
{
    /* A.3: per-user policies through exists and macros */
    struct env e;

    REQUIRE(env_init(&e, appendix_a));
    REQUIRE(fake_dns_load(e.dns,
                          "example.com TXT v=spf1 mx include:mobile-users._spf.%{d} "
                          "include:remote-users._spf.%{d} -all\n"
                          "mobile-users._spf.example.com TXT v=spf1 exists:%{l1r+}.%{d}\n"
                          "remote-users._spf.example.com TXT v=spf1 exists:%{ir}.%{l1r+}.%{d}\n"
                          "mary.mobile-users._spf.example.com A 127.0.0.2\n"
                          "fred.mobile-users._spf.example.com A 127.0.0.2\n"
                          "15.15.168.192.joel.remote-users._spf.example.com A 127.0.0.2\n"
                          "16.15.168.192.joel.remote-users._spf.example.com A 127.0.0.2\n"));
    CHECK_SPF(&e, "198.51.100.9", "mary@example.com", TM_SPF_PASS);
    CHECK_SPF(&e, "198.51.100.9", "fred+wildcard@example.com", TM_SPF_PASS);
    CHECK_SPF(&e, "198.51.100.9", "joel@example.com", TM_SPF_FAIL);
    CHECK_SPF(&e, "192.168.15.15", "joel@example.com", TM_SPF_PASS);
    CHECK_SPF(&e, "192.168.15.16", "joel@example.com", TM_SPF_PASS);
    CHECK_SPF(&e, "192.168.15.17", "joel@example.com", TM_SPF_FAIL);
    CHECK_SPF(&e, "192.0.2.129", "anyone@example.com", TM_SPF_PASS);
    env_free(&e);
}

TM_TEST(spf_appendix_a4_multiple_requirements)
{
    /* A.4 with erratum 6216 (ptr:example.com): the host must be in
     * 192.0.2.0/24 and have a validated name under example.com */
    struct env e;

    REQUIRE(env_init(&e, appendix_a));
    REQUIRE(fake_dns_load(
        e.dns, "example.com TXT v=spf1 -include:ip4._spf.%{d} -include:ptr._spf.%{d} +all\n"
               "ip4._spf.example.com TXT v=spf1 -ip4:192.0.2.0/24 +all\n"
               "ptr._spf.example.com TXT v=spf1 -ptr:example.com +all\n"));
    CHECK_SPF(&e, "192.0.2.65", "joe@example.com", TM_SPF_PASS);
    CHECK_SPF(&e, "192.0.2.140", "joe@example.com", TM_SPF_FAIL); /* mail-c.example.org */
    CHECK_SPF(&e, "192.0.2.200", "joe@example.com", TM_SPF_FAIL); /* no PTR */
    CHECK_SPF(&e, "10.0.0.4", "joe@example.com", TM_SPF_FAIL);    /* outside the /24 */
    env_free(&e);
}

TM_TEST(spf_lookup_limit)
{
    /* 4.6.4: the 11th DNS-querying term is a permerror; 10 are fine */
    struct env e;
    char rec[400], name[32];
    int i;

    REQUIRE(env_init(&e, NULL));
    (void)snprintf(rec, sizeof(rec), "v=spf1");
    for (i = 1; i <= 11; i++) {
        (void)snprintf(name, sizeof(name), "i%d.example.com", i);
        REQUIRE(fake_dns_txt(e.dns, name, "v=spf1 ?all"));
        (void)snprintf(rec + strlen(rec), sizeof(rec) - strlen(rec), " include:%s", name);
        if (i == 10) {
            char ten[420];

            (void)snprintf(ten, sizeof(ten), "%s -all", rec);
            REQUIRE(fake_dns_txt(e.dns, "ten.example.com", ten));
        }
    }
    (void)snprintf(rec + strlen(rec), sizeof(rec) - strlen(rec), " -all");
    REQUIRE(fake_dns_txt(e.dns, "eleven.example.com", rec));
    CHECK_SPF(&e, "192.0.2.1", "x@ten.example.com", TM_SPF_FAIL);
    CHECK_EQ_INT(e.r.dns_terms, 10);
    CHECK_SPF(&e, "192.0.2.1", "x@eleven.example.com", TM_SPF_PERMERROR);
    CHECK_EQ_INT(e.r.dns_terms, 11);
    CHECK_STR(e.r.reason, "too many DNS lookups");
    CHECK(fake_dns_asked(e.dns, "i11.example.com", TM_DNS_TXT) == 0); /* never asked */
    /* a mechanism that needs no DNS is not counted, and so is after the limit */
    REQUIRE(
        fake_dns_txt(e.dns, "ip.example.com", "v=spf1 a a a a a a a a a a ip4:192.0.2.1 a -all"));
    REQUIRE(fake_dns_rr(e.dns, "ip.example.com", "A", "192.0.2.99"));
    CHECK_SPF(&e, "192.0.2.1", "x@ip.example.com", TM_SPF_PASS);
    CHECK_SPF(&e, "192.0.2.2", "x@ip.example.com", TM_SPF_PERMERROR);
    env_free(&e);
}

TM_TEST(spf_include_loops_and_depth)
{
    struct env e;

    REQUIRE(env_init(&e, "loop.example.com TXT v=spf1 include:loop.example.com -all\n"
                         "red.example.com TXT v=spf1 redirect=red.example.com\n"
                         "d1.example.com TXT v=spf1 include:d2.example.com -all\n"
                         "d2.example.com TXT v=spf1 include:d3.example.com -all\n"
                         "d3.example.com TXT v=spf1 include:d4.example.com -all\n"
                         "d4.example.com TXT v=spf1 +all\n"));
    CHECK_SPF(&e, "192.0.2.1", "x@loop.example.com", TM_SPF_PERMERROR);
    CHECK_SPF(&e, "192.0.2.1", "x@red.example.com", TM_SPF_PERMERROR);
    CHECK_EQ_INT(e.r.dns_terms, 11);
    /* d1 -> d2 -> d3 -> d4 passes; with 2 levels of nesting allowed it cannot */
    CHECK_SPF(&e, "192.0.2.1", "x@d1.example.com", TM_SPF_PASS);
    e.lim.max_depth = 2;
    CHECK_SPF(&e, "192.0.2.1", "x@d1.example.com", TM_SPF_PERMERROR);
    CHECK_STR(e.r.reason, "includes nested too deeply");
    env_free(&e);
}

TM_TEST(spf_void_lookups)
{
    /* 4.6.4: more than two lookups answering NXDOMAIN or no data are a permerror */
    struct env e;

    REQUIRE(env_init(&e, "two.example.com TXT v=spf1 a:nx1.example.com mx:nx2.example.com ?all\n"
                         "three.example.com TXT v=spf1 a:nx1.example.com exists:nx2.example.com "
                         "a:nodata.example.com ip4:192.0.2.1 ?all\n"
                         "early.example.com TXT v=spf1 a:nx1.example.com a:nx2.example.com "
                         "ip4:192.0.2.1 a:nx3.example.com ?all\n"
                         "nodata.example.com MX 10 mx.example.com\n"));
    CHECK_SPF(&e, "192.0.2.1", "x@two.example.com", TM_SPF_NEUTRAL);
    CHECK_EQ_INT(e.r.void_lookups, 2);
    CHECK_SPF(&e, "192.0.2.1", "x@three.example.com", TM_SPF_PERMERROR);
    CHECK_EQ_INT(e.r.void_lookups, 3);
    CHECK_STR(e.r.reason, "too many void DNS lookups");
    CHECK_SPF(&e, "192.0.2.1", "x@early.example.com", TM_SPF_PASS);
    /* a smaller configured limit */
    e.lim.max_void = 0;
    CHECK_SPF(&e, "192.0.2.1", "x@early.example.com", TM_SPF_PERMERROR);
    env_free(&e);
}

TM_TEST(spf_mx_and_ptr_name_limits)
{
    /* 4.6.4: an mx mechanism may look at 10 names, an 11th is a permerror
     * unless a match came first; a ptr mechanism ignores names past 10 */
    struct env e;
    char line[128];
    int i;

    REQUIRE(env_init(&e, "many.example.com TXT v=spf1 mx -all\n"
                         "ptrs.example.com TXT v=spf1 ptr:many.example.com ~all\n"));
    for (i = 1; i <= 11; i++) {
        (void)snprintf(line, sizeof(line), "%d mx%d.many.example.com", i, i);
        REQUIRE(fake_dns_rr(e.dns, "many.example.com", "MX", line));
        (void)snprintf(line, sizeof(line), "mx%d.many.example.com", i);
        REQUIRE(fake_dns_rr(e.dns, "1.1.0.10.in-addr.arpa", "PTR", line));
        {
            char ip[32];

            (void)snprintf(ip, sizeof(ip), "10.0.1.%d", i);
            REQUIRE(fake_dns_rr(e.dns, line, "A", ip));
            REQUIRE(fake_dns_rr(e.dns, line, "A", "10.0.1.1"));
        }
    }
    CHECK_SPF(&e, "10.0.1.10", "x@many.example.com", TM_SPF_PASS);
    CHECK_SPF(&e, "10.0.1.11", "x@many.example.com", TM_SPF_PERMERROR);
    CHECK_STR(e.r.reason, "too many MX names");
    CHECK(fake_dns_asked(e.dns, "mx11.many.example.com", TM_DNS_A) == 0);
    CHECK_SPF(&e, "10.0.1.1", "x@ptrs.example.com", TM_SPF_PASS);
    /* only the first two names with max_ptr = 2, neither under mx5... */
    e.lim.max_ptr = 2;
    REQUIRE(fake_dns_txt(e.dns, "ptr5.example.com", "v=spf1 ptr:mx5.many.example.com ~all"));
    CHECK_SPF(&e, "10.0.1.1", "x@ptr5.example.com", TM_SPF_SOFTFAIL);
    e.lim.max_ptr = 10;
    CHECK_SPF(&e, "10.0.1.1", "x@ptr5.example.com", TM_SPF_PASS);
    env_free(&e);
}

TM_TEST(spf_permerrors)
{
    struct env e;

    REQUIRE(env_init(&e,
                     "two.example.com TXT v=spf1 -all\n"
                     "two.example.com TXT v=spf1 +all\n"
                     "other.example.com TXT spf2.0/pra -all\n"
                     "other.example.com TXT v=spf1 ip4:192.0.2.1 -all\n"
                     "syntax.example.com TXT v=spf1 ip4:192.0.2.1 -all moo\n"
                     "dup.example.com TXT v=spf1 redirect=a.example.com redirect=b.example.com\n"
                     "rnone.example.com TXT v=spf1 redirect=nothing.example.com\n"
                     "inone.example.com TXT v=spf1 include:nothing.example.com -all\n"
                     "ibad.example.com TXT v=spf1 include:%{l}.example.com -all\n"
                     "iperm.example.com TXT v=spf1 include:syntax.example.com -all\n"));
    CHECK_SPF(&e, "192.0.2.1", "x@two.example.com", TM_SPF_PERMERROR);
    CHECK_STR(e.r.reason, "several SPF records");
    CHECK_SPF(&e, "192.0.2.1", "x@other.example.com", TM_SPF_PASS);
    CHECK_SPF(&e, "192.0.2.1", "x@syntax.example.com", TM_SPF_PERMERROR);
    CHECK(e.r.reason != NULL && strncmp(e.r.reason, "unknown mechanism: moo", 22) == 0);
    CHECK_SPF(&e, "192.0.2.1", "x@dup.example.com", TM_SPF_PERMERROR);
    CHECK_SPF(&e, "192.0.2.1", "x@rnone.example.com", TM_SPF_PERMERROR);
    CHECK_SPF(&e, "192.0.2.1", "x@inone.example.com", TM_SPF_PERMERROR);
    CHECK_SPF(&e, "192.0.2.1", "a..b@ibad.example.com", TM_SPF_PERMERROR);
    CHECK_SPF(&e, "192.0.2.1", "x@iperm.example.com", TM_SPF_PERMERROR);
    CHECK_SPF(&e, "192.0.2.1", "x@nothing.example.com", TM_SPF_NONE);
    CHECK_STR(e.r.reason, "no SPF record");
    CHECK_SPF(&e, "192.0.2.1", "x@a.b", TM_SPF_NONE); /* a.b: NXDOMAIN */
    env_free(&e);
}

TM_TEST(spf_temperrors)
{
    struct env e;

    REQUIRE(env_init(&e, "tf.example.com TEMPFAIL -\n"
                         "inc.example.com TXT v=spf1 include:tf.example.com -all\n"
                         "a.example.com TXT v=spf1 a:tf.example.com -all\n"
                         "ex.example.com TXT v=spf1 exists:tf.example.com -all\n"
                         "mx.example.com TXT v=spf1 mx -all\n"
                         "mx.example.com MX 10 tf.example.com\n"
                         "ptr.example.com TXT v=spf1 ptr ?all\n"
                         "1.2.0.192.in-addr.arpa TEMPFAIL -\n"));
    CHECK_SPF(&e, "192.0.2.1", "x@tf.example.com", TM_SPF_TEMPERROR);
    CHECK_SPF(&e, "192.0.2.1", "x@inc.example.com", TM_SPF_TEMPERROR);
    CHECK_SPF(&e, "192.0.2.1", "x@a.example.com", TM_SPF_TEMPERROR);
    CHECK_SPF(&e, "192.0.2.1", "x@ex.example.com", TM_SPF_TEMPERROR);
    CHECK_SPF(&e, "192.0.2.1", "x@mx.example.com", TM_SPF_TEMPERROR);
    /* a DNS error on the PTR lookup just fails to match (5.5) */
    CHECK_SPF(&e, "192.0.2.1", "x@ptr.example.com", TM_SPF_NEUTRAL);
    /* the message's DNS budget running out is a temperror too */
    e.b.max_queries = 1;
    e.b.used = 0;
    {
        struct tm_spf_request q;

        memset(&q, 0, sizeof(q));
        q.ip = "192.0.2.1";
        q.mail_from = "x@mx.example.com";
        REQUIRE(tm_spf_check(e.dns, e.a, &e.b, &q, &e.r) == TM_OK);
        CHECK_EQ_INT(e.r.result, TM_SPF_TEMPERROR);
        CHECK_STR(e.r.reason, "DNS lookup budget spent");
    }
    env_free(&e);
}

TM_TEST(spf_client_address_forms)
{
    struct env e;
    struct tm_spf_request q;

    REQUIRE(env_init(&e, "m.example.com TXT v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all\n"));
    CHECK_SPF(&e, "::ffff:192.0.2.7", "x@m.example.com", TM_SPF_PASS); /* mapped = IPv4 */
    CHECK_SPF(&e, "2001:db8:1::5", "x@m.example.com", TM_SPF_PASS);
    CHECK_SPF(&e, "2001:db9::5", "x@m.example.com", TM_SPF_FAIL);
    memset(&q, 0, sizeof(q));
    q.family = 4;
    memcpy(q.addr, "\xc0\x00\x02\x08", 4);
    q.mail_from = "<x@m.example.com>";
    CHECK_EQ_INT(tm_spf_check(e.dns, e.a, &e.b, &q, &e.r), TM_OK);
    CHECK_EQ_INT(e.r.result, TM_SPF_PASS);
    q.ip = "not-an-ip";
    CHECK_EQ_INT(tm_spf_check(e.dns, e.a, &e.b, &q, &e.r), TM_EINVAL);
    CHECK_EQ_INT(e.r.result, TM_SPF_NONE);
    CHECK_STR(e.r.reason, "no client IP");
    env_free(&e);
}

TM_TEST(spf_helo_and_null_sender)
{
    struct env e;
    struct tm_spf_request q;

    REQUIRE(env_init(&e, "mail.example.net TXT v=spf1 a -all exp=why.example.net\n"
                         "mail.example.net A 192.0.2.1\n"
                         "why.example.net TXT %{l} at %{o} via %{h}\n"));
    memset(&q, 0, sizeof(q));
    q.ip = "192.0.2.1";
    q.helo = "mail.example.net";
    q.mail_from = "someone@elsewhere.example";
    CHECK_EQ_INT(tm_spf_check_helo(e.dns, e.a, &e.b, &q, &e.r), TM_OK);
    CHECK_EQ_INT(e.r.result, TM_SPF_PASS);
    CHECK_STR(e.r.domain, "mail.example.net");
    q.ip = "192.0.2.2";
    CHECK_EQ_INT(tm_spf_check_helo(e.dns, e.a, &e.b, &q, &e.r), TM_OK);
    CHECK_EQ_INT(e.r.result, TM_SPF_FAIL);
    CHECK_STR(e.r.explanation, "postmaster at mail.example.net via mail.example.net");
    /* the null reverse-path checks postmaster@HELO (2.4) */
    q.mail_from = "<>";
    CHECK_EQ_INT(tm_spf_check(e.dns, e.a, &e.b, &q, &e.r), TM_OK);
    CHECK_EQ_INT(e.r.result, TM_SPF_FAIL);
    CHECK_STR(e.r.domain, "mail.example.net");
    /* a HELO that is an address literal or a single label gives none */
    q.helo = "[192.0.2.2]";
    CHECK_EQ_INT(tm_spf_check_helo(e.dns, e.a, &e.b, &q, &e.r), TM_OK);
    CHECK_EQ_INT(e.r.result, TM_SPF_NONE);
    q.helo = "mailhost";
    CHECK_EQ_INT(tm_spf_check(e.dns, e.a, &e.b, &q, &e.r), TM_OK);
    CHECK_EQ_INT(e.r.result, TM_SPF_NONE);
    CHECK_STR(e.r.reason, "malformed domain");
    CHECK_EQ_INT(fake_dns_asked(e.dns, "mailhost", TM_DNS_TXT), 0);
    env_free(&e);
}

TM_TEST(spf_explanation)
{
    /* 6.2: exp= is fetched for fail only, its macros expanded, and it
     * counts towards no limit; the RFC's own example text */
    struct env e;

    REQUIRE(env_init(&e, "example.com TXT v=spf1 mx -all exp=explain._spf.%{d}\n"
                         "example.com MX 10 mail.example.com\n"
                         "mail.example.com A 192.0.2.129\n"
                         "explain._spf.example.com TXT %{i} is not one of %{d}'s designated mail "
                         "servers.\n"
                         "soft.example.com TXT v=spf1 ~all exp=explain._spf.example.com\n"
                         "two.example.com TXT v=spf1 -all exp=twice.example.com\n"
                         "twice.example.com TXT one\n"
                         "twice.example.com TXT two\n"
                         "bad.example.com TXT v=spf1 -all exp=bad-text.example.com\n"
                         "bad-text.example.com TXT The %{x}-files.\n"
                         "rich.example.com TXT v=spf1 -all exp=rich-text.example.com\n"
                         "rich-text.example.com TXT %{S} from %{C} seen by %{r} at %{t}: "
                         "see http://%{o}/why?l=%{L}\n"));
    CHECK_SPF(&e, "192.0.2.99", "joe@example.com", TM_SPF_FAIL);
    CHECK_STR(e.r.explanation, "192.0.2.99 is not one of example.com's designated mail servers.");
    CHECK_EQ_INT(e.r.dns_terms, 1);
    CHECK_EQ_INT(e.r.void_lookups, 0);
    CHECK_SPF(&e, "192.0.2.129", "joe@example.com", TM_SPF_PASS);
    CHECK(e.r.explanation == NULL);
    CHECK_SPF(&e, "192.0.2.99", "joe@soft.example.com", TM_SPF_SOFTFAIL);
    CHECK(e.r.explanation == NULL);
    CHECK_SPF(&e, "192.0.2.99", "joe@two.example.com", TM_SPF_FAIL);
    CHECK(e.r.explanation == NULL);
    CHECK_SPF(&e, "192.0.2.99", "joe@bad.example.com", TM_SPF_FAIL);
    CHECK(e.r.explanation == NULL);
    CHECK_SPF(&e, "2001:db8::cb01", "j&j@rich.example.com", TM_SPF_FAIL);
    CHECK_STR(e.r.explanation, "j%26j%40rich.example.com from 2001%3Adb8%3A%3Acb01 seen by "
                               "mx.example.net at 1400000000: see "
                               "http://rich.example.com/why?l=j%26j");
    env_free(&e);
}

TM_TEST(spf_p_macro)
{
    /* %{p}: a validated name, preferring one under <domain> (7.3, 5.5) */
    struct env e;

    REQUIRE(env_init(&e, "42.218.168.192.in-addr.arpa PTR mx.example.com\n"
                         "42.218.168.192.in-addr.arpa PTR mx.e7.example.com\n"
                         "mx.example.com A 192.168.218.42\n"
                         "mx.e7.example.com A 192.168.218.42\n"
                         "e7.example.com TXT v=spf1 exists:%{p}.should.example.com "
                         "~exists:%{p}.ok.example.com\n"
                         "mx.e7.example.com.should.example.com A 127.0.0.2\n"
                         "mx.example.com.ok.example.com A 127.0.0.2\n"
                         "e6.example.com TXT v=spf1 -all exp=e6msg.example.com\n"
                         "e6msg.example.com TXT connect from %{p}\n"));
    CHECK_SPF(&e, "192.168.218.42", "x@e7.example.com", TM_SPF_PASS);
    CHECK_SPF(&e, "192.168.218.42", "x@e6.example.com", TM_SPF_FAIL);
    CHECK_STR(e.r.explanation, "connect from mx.example.com");
    CHECK_SPF(&e, "192.168.218.43", "x@e6.example.com", TM_SPF_FAIL);
    CHECK_STR(e.r.explanation, "connect from unknown");
    env_free(&e);
}

TM_TEST(spf_arena_exhaustion)
{
    /* every arena budget from nothing up to enough: TM_ENOMEM or the right
     * answer, never a crash or a wrong result (curl's torture idea) */
    struct env e;
    struct tm_spf_request q;
    struct tm_spf_result r;
    size_t budget;
    unsigned ok = 0, oom = 0, wrong = 0;

    REQUIRE(env_init(&e, appendix_a));
    REQUIRE(fake_dns_load(e.dns, "example.com TXT v=spf1 ptr:mail.%{d2} mx:%{d} "
                                 "include:_spf.%{d} -all exp=why.%{d}\n"
                                 "_spf.example.com TXT v=spf1 exists:%{ir}.%{l}.bl.%{d2} ?all\n"
                                 "why.example.com TXT %{i} and %{p} are not welcome, %{L}\n"));
    memset(&q, 0, sizeof(q));
    q.ip = "192.0.2.66";
    q.mail_from = "bob@example.com";
    for (budget = 0; budget < 64 * 1024; budget += 64) {
        struct tm_arena *a = tm_arena_new(budget);
        tm_rc rc;

        if (a == NULL)
            continue;
        e.b.used = 0;
        rc = tm_spf_check(e.dns, a, &e.b, &q, &r);
        if (rc == TM_ENOMEM) {
            oom++;
        } else if (rc == TM_OK && r.result == TM_SPF_FAIL && r.explanation != NULL &&
                   strcmp(r.explanation, "192.0.2.66 and bob.example.com are not welcome, bob") ==
                       0) {
            ok++;
        } else if (wrong++ == 0) {
            tm_test_fail(__FILE__, __LINE__, "budget %zu: rc %d, %s, explanation %s", budget,
                         (int)rc, tm_spf_result_name(r.result),
                         r.explanation != NULL ? r.explanation : "NULL");
        }
        tm_arena_free(a);
    }
    CHECK(oom > 0 && ok > 0);
    CHECK_EQ_INT(wrong, 0);
    env_free(&e);
}

const struct tm_test tests_spf_eval[] = {
    TM_TEST_ENTRY(spf_appendix_a1_simple),
    TM_TEST_ENTRY(spf_appendix_a1_cidr_edges),
    TM_TEST_ENTRY(spf_appendix_a2_multiple_domains),
    TM_TEST_ENTRY(spf_appendix_a3_dnsbl_style),
    TM_TEST_ENTRY(spf_appendix_a4_multiple_requirements),
    TM_TEST_ENTRY(spf_lookup_limit),
    TM_TEST_ENTRY(spf_include_loops_and_depth),
    TM_TEST_ENTRY(spf_void_lookups),
    TM_TEST_ENTRY(spf_mx_and_ptr_name_limits),
    TM_TEST_ENTRY(spf_permerrors),
    TM_TEST_ENTRY(spf_temperrors),
    TM_TEST_ENTRY(spf_client_address_forms),
    TM_TEST_ENTRY(spf_helo_and_null_sender),
    TM_TEST_ENTRY(spf_explanation),
    TM_TEST_ENTRY(spf_p_macro),
    TM_TEST_ENTRY(spf_arena_exhaustion),
    TM_TEST_END,
};
