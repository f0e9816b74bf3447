/*
 * test_dmarc.c - DMARC (RFC 7489): the policy records of appendix B.2,
 * the alignment examples of appendix B.1, the tag defaults and fallbacks
 * of 6.3 and 6.6.3, organisational domains from the Public Suffix List
 * (Debian's publicsuffix), policy discovery, sp, pct sampling, and the
 * RFC5322.From domain.
 */
#include "harness.h"

#include <string.h>

#include "auth/dmarc.h"
#include "core/arena.h"
#include "dns/dns.h"
#include "fake_dns.h"
#include "suites.h"

static enum tm_dmarc_parse_status
parse(struct tm_arena *a, const char *s, struct tm_dmarc_record *r)
{
    enum tm_dmarc_parse_status st;

    TM_ASSERT(tm_dmarc_parse(a, s, strlen(s), r, &st) == TM_OK);
    return st;
}

TM_TEST(dmarc_parse_appendix_b)
{
    struct tm_arena *a = tm_arena_new(1 << 20);
    struct tm_dmarc_record r;

    REQUIRE(a != NULL);
    /* B.2.1: entire domain, monitoring only */
    CHECK_EQ_INT(parse(a, "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com", &r),
                 TM_DMARC_REC_OK);
    CHECK_EQ_INT(r.p, TM_DMARC_P_NONE);
    CHECK_EQ_INT(r.sp, TM_DMARC_P_NONE);
    CHECK(!r.has_sp);
    CHECK_EQ_INT(r.pct, 100);
    CHECK_EQ_INT(r.adkim, TM_DMARC_RELAXED);
    CHECK_EQ_INT(r.aspf, TM_DMARC_RELAXED);
    CHECK_EQ_INT(r.ri, 86400);
    CHECK_STR(r.rua, "mailto:dmarc-feedback@example.com");
    CHECK(r.ruf == NULL);
    /* B.2.2 / B.2.3: per-message failure reports to a third party */
    CHECK_EQ_INT(parse(a,
                       "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com; "
                       "ruf=mailto:auth-reports@thirdparty.example.net",
                       &r),
                 TM_DMARC_REC_OK);
    CHECK_STR(r.ruf, "mailto:auth-reports@thirdparty.example.net");
    /* B.2.3's report authorisation record carries no policy */
    CHECK_EQ_INT(parse(a, "v=DMARC1;", &r), TM_DMARC_REC_NO_POLICY);
    /* B.2.4: subdomain, sampling and two report URIs (TXT strings joined) */
    CHECK_EQ_INT(parse(a,
                       "v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com,"
                       "mailto:tld-test@thirdparty.example.net!10m; pct=25",
                       &r),
                 TM_DMARC_REC_OK);
    CHECK_EQ_INT(r.p, TM_DMARC_P_QUARANTINE);
    CHECK_EQ_INT(r.pct, 25);
    CHECK_STR(r.rua,
              "mailto:dmarc-feedback@example.com,mailto:tld-test@thirdparty.example.net!10m");
    /* B.3.1 */
    CHECK_EQ_INT(parse(a, "v=DMARC1; p=reject; aspf=r; rua=mailto:dmarc-feedback@example.com", &r),
                 TM_DMARC_REC_OK);
    CHECK_EQ_INT(r.p, TM_DMARC_P_REJECT);
    CHECK_EQ_INT(r.aspf, TM_DMARC_RELAXED);
    tm_arena_free(a);
}

TM_TEST(dmarc_parse_tags_and_fallbacks)
{
    struct tm_arena *a = tm_arena_new(1 << 20);
    struct tm_dmarc_record r;

    REQUIRE(a != NULL);
    CHECK_EQ_INT(parse(a,
                       "v=DMARC1;p=quarantine;sp=reject;adkim=s;aspf=s;pct=0;fo=1:d;rf=afrf;"
                       "ri=3600;future=tag;",
                       &r),
                 TM_DMARC_REC_OK);
    CHECK_EQ_INT(r.p, TM_DMARC_P_QUARANTINE);
    CHECK_EQ_INT(r.sp, TM_DMARC_P_REJECT);
    CHECK(r.has_sp);
    CHECK_EQ_INT(r.adkim, TM_DMARC_STRICT);
    CHECK_EQ_INT(r.aspf, TM_DMARC_STRICT);
    CHECK_EQ_INT(r.pct, 0);
    CHECK_STR(r.fo, "1:d");
    CHECK_STR(r.rf, "afrf");
    CHECK_EQ_INT(r.ri, 3600);
    /* whitespace around tags, case of names and policy values */
    CHECK_EQ_INT(parse(a, " V = DMARC1 ; P = Reject ;\tSP=none ; Pct = 050 ", &r), TM_DMARC_REC_OK);
    CHECK_EQ_INT(r.p, TM_DMARC_P_REJECT);
    CHECK_EQ_INT(r.sp, TM_DMARC_P_NONE);
    CHECK_EQ_INT(r.pct, 50);
    /* 6.3: bad values of other tags fall back to their defaults */
    CHECK_EQ_INT(parse(a, "v=DMARC1; p=reject; pct=101; adkim=x; aspf=; ri=soon", &r),
                 TM_DMARC_REC_OK);
    CHECK_EQ_INT(r.pct, 100);
    CHECK_EQ_INT(r.adkim, TM_DMARC_RELAXED);
    CHECK_EQ_INT(r.ri, 86400);
    /* the first of a repeated tag counts */
    CHECK_EQ_INT(parse(a, "v=DMARC1; p=none; p=reject", &r), TM_DMARC_REC_OK);
    CHECK_EQ_INT(r.p, TM_DMARC_P_NONE);
    /* 6.6.3 step 6: a bad or missing p (or a bad sp) is p=none with a valid rua */
    CHECK_EQ_INT(parse(a, "v=DMARC1; p=bogus; rua=mailto:d@example.com", &r), TM_DMARC_REC_OK);
    CHECK_EQ_INT(r.p, TM_DMARC_P_NONE);
    CHECK(r.p_fallback);
    CHECK_EQ_INT(parse(a, "v=DMARC1; rua=mailto:d@example.com", &r), TM_DMARC_REC_OK);
    CHECK(r.p_fallback);
    CHECK_EQ_INT(parse(a, "v=DMARC1; p=reject; sp=never; rua=mailto:d@example.com", &r),
                 TM_DMARC_REC_OK);
    CHECK_EQ_INT(r.p, TM_DMARC_P_NONE);
    CHECK_EQ_INT(parse(a, "v=DMARC1; p=bogus", &r), TM_DMARC_REC_NO_POLICY);
    CHECK_EQ_INT(parse(a, "v=DMARC1; p=reject; sp=never", &r), TM_DMARC_REC_NO_POLICY);
    CHECK_EQ_INT(parse(a, "v=DMARC1; p=bogus; rua=nonsense", &r), TM_DMARC_REC_NO_POLICY);
    /* v=DMARC1 first, exactly */
    CHECK_EQ_INT(parse(a, "p=reject; v=DMARC1", &r), TM_DMARC_REC_NOT_DMARC);
    CHECK_EQ_INT(parse(a, "v=DMARC2; p=reject", &r), TM_DMARC_REC_NOT_DMARC);
    CHECK_EQ_INT(parse(a, "v=dmarc1; p=reject", &r), TM_DMARC_REC_NOT_DMARC);
    CHECK_EQ_INT(parse(a, "v=DMARC1 p=reject", &r), TM_DMARC_REC_NOT_DMARC);
    CHECK_EQ_INT(parse(a, "v=spf1 -all", &r), TM_DMARC_REC_NOT_DMARC);
    CHECK_EQ_INT(parse(a, "", &r), TM_DMARC_REC_NOT_DMARC);
    tm_arena_free(a);
}

TM_TEST(dmarc_org_domain_psl)
{
    char out[TM_DMARC_MAX_DOMAIN + 1], small[8];

    CHECK_EQ_INT(tm_dmarc_org_domain("mail.example.co.uk", out, sizeof(out)), TM_OK);
    CHECK_STR(out, "example.co.uk");
    CHECK_EQ_INT(tm_dmarc_org_domain("example.co.uk", out, sizeof(out)), TM_OK);
    CHECK_STR(out, "example.co.uk");
    CHECK_EQ_INT(tm_dmarc_org_domain("A.B.Example.COM.", out, sizeof(out)), TM_OK);
    CHECK_STR(out, "example.com");
    CHECK_EQ_INT(tm_dmarc_org_domain("www.example.com.au", out, sizeof(out)), TM_OK);
    CHECK_STR(out, "example.com.au");
    CHECK_EQ_INT(tm_dmarc_org_domain("x.y.example.co.jp", out, sizeof(out)), TM_OK);
    CHECK_STR(out, "example.co.jp");
    /* a public suffix is its own organisational domain */
    CHECK_EQ_INT(tm_dmarc_org_domain("co.uk", out, sizeof(out)), TM_OK);
    CHECK_STR(out, "co.uk");
    CHECK_EQ_INT(tm_dmarc_org_domain("mail.example.co.uk", small, sizeof(small)), TM_ELIMIT);
    CHECK_EQ_INT(tm_dmarc_org_domain("", out, sizeof(out)), TM_EINVAL);
    CHECK_EQ_INT(tm_dmarc_org_domain(NULL, out, sizeof(out)), TM_EINVAL);
}

TM_TEST(dmarc_alignment_appendix_b1)
{
    /* B.1.1 (SPF) and B.1.2 (DKIM): the same domain aligns in both modes, a
     * subdomain of the same organisational domain only in relaxed mode,
     * another organisational domain in neither */
    CHECK(tm_dmarc_aligned("example.com", "example.com", TM_DMARC_STRICT));
    CHECK(tm_dmarc_aligned("example.com", "example.com", TM_DMARC_RELAXED));
    CHECK(tm_dmarc_aligned("child.example.com", "example.com", TM_DMARC_RELAXED));
    CHECK(!tm_dmarc_aligned("child.example.com", "example.com", TM_DMARC_STRICT));
    CHECK(tm_dmarc_aligned("example.com", "child.example.com", TM_DMARC_RELAXED));
    CHECK(!tm_dmarc_aligned("example.org", "example.com", TM_DMARC_RELAXED));
    CHECK(!tm_dmarc_aligned("example.net", "example.com", TM_DMARC_RELAXED));
    CHECK(tm_dmarc_aligned("Example.COM.", "example.com", TM_DMARC_STRICT));
    /* two registrable domains under one public suffix do not align */
    CHECK(!tm_dmarc_aligned("a.example.co.uk", "b.other.co.uk", TM_DMARC_RELAXED));
    CHECK(tm_dmarc_aligned("a.example.co.uk", "b.example.co.uk", TM_DMARC_RELAXED));
}

struct denv {
    struct tm_dns *dns;
    struct tm_arena *a;
    struct tm_dns_budget b;
    struct tm_dmarc_inputs in;
    const char *dkim[4];
    struct tm_dmarc_result r;
};

static int
denv_init(struct denv *e, const char *zone)
{
    memset(e, 0, sizeof(*e));
    e->dns = fake_dns_new();
    e->a = tm_arena_new(1 << 20);
    e->b.max_queries = 100;
    e->in.dkim_pass = e->dkim;
    return e->a != NULL && fake_dns_load(e->dns, zone);
}

static void
denv_free(struct denv *e)
{
    tm_arena_free(e->a);
    tm_dns_free(e->dns);
}

/* dmarc - check From domain `from` with SPF (res, domain) and DKIM d= dkim (or NULL) */
static enum tm_dmarc_res
dmarc(struct denv *e, const char *from, enum tm_spf_res spf, const char *spf_domain,
      const char *dkim, unsigned sample)
{
    e->in.spf = spf;
    e->in.spf_domain = spf_domain;
    e->dkim[0] = dkim;
    e->in.ndkim = dkim != NULL ? 1 : 0;
    TM_ASSERT(tm_dmarc_check(e->dns, e->a, &e->b, from, &e->in, sample, &e->r) == TM_OK);
    return e->r.result;
}

static const char dmarc_zone[] =
    "_dmarc.example.com TXT v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.com\n"
    "_dmarc.strict.example TXT v=DMARC1; p=reject; adkim=s; aspf=s\n"
    "_dmarc.own.example.com TXT v=DMARC1; p=none\n"
    "_dmarc.test.example.com TXT v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com,"
    "mailto:tld-test@thirdparty.example.net!10m; pct=25\n"
    "_dmarc.zero.example TXT v=DMARC1; p=reject; pct=0\n"
    "_dmarc.two.example TXT v=DMARC1; p=reject\n"
    "_dmarc.two.example TXT v=DMARC1; p=none\n"
    "_dmarc.nopolicy.example TXT v=DMARC1; p=maybe\n"
    "_dmarc.tf.example TEMPFAIL -\n"
    "_dmarc.mixed.example TXT some verification token\n"
    "_dmarc.mixed.example TXT v=DMARC1; p=quarantine\n"
    "_dmarc.other.mixed.example TXT google-site-verification=abc\n";

TM_TEST(dmarc_check_alignment)
{
    struct denv e;

    REQUIRE(denv_init(&e, dmarc_zone));
    /* B.1.1: MAIL FROM and From in example.com */
    CHECK_EQ_INT(dmarc(&e, "example.com", TM_SPF_PASS, "example.com", NULL, 0), TM_DMARC_PASS);
    CHECK(e.r.spf_aligned);
    CHECK(!e.r.dkim_aligned);
    CHECK_EQ_INT(e.r.disposition, TM_DMARC_P_NONE);
    CHECK_STR(e.r.record_domain, "example.com");
    /* relaxed SPF: MAIL FROM child.example.com */
    CHECK_EQ_INT(dmarc(&e, "example.com", TM_SPF_PASS, "child.example.com", NULL, 0),
                 TM_DMARC_PASS);
    /* an SPF pass for example.org does not align; nor does a failed SPF */
    CHECK_EQ_INT(dmarc(&e, "example.com", TM_SPF_PASS, "example.org", NULL, 0), TM_DMARC_FAIL);
    CHECK_EQ_INT(e.r.policy, TM_DMARC_P_REJECT);
    CHECK_EQ_INT(e.r.disposition, TM_DMARC_P_REJECT);
    CHECK_EQ_INT(dmarc(&e, "example.com", TM_SPF_SOFTFAIL, "example.com", NULL, 0), TM_DMARC_FAIL);
    /* B.1.3: SPF for example.org, DKIM d=example.com: passes through DKIM */
    CHECK_EQ_INT(dmarc(&e, "example.com", TM_SPF_PASS, "example.org", "example.com", 0),
                 TM_DMARC_PASS);
    CHECK(!e.r.spf_aligned);
    CHECK(e.r.dkim_aligned);
    CHECK_STR(e.r.dkim_domain, "example.com");
    CHECK_EQ_INT(dmarc(&e, "example.com", TM_SPF_FAIL, NULL, "example.net", 0), TM_DMARC_FAIL);
    /* strict modes: the subdomain no longer aligns */
    CHECK_EQ_INT(
        dmarc(&e, "strict.example", TM_SPF_PASS, "mail.strict.example", "mail.strict.example", 0),
        TM_DMARC_FAIL);
    CHECK_EQ_INT(dmarc(&e, "strict.example", TM_SPF_NONE, NULL, "STRICT.example", 0),
                 TM_DMARC_PASS);
    denv_free(&e);
}

TM_TEST(dmarc_check_discovery_and_sp)
{
    struct denv e;

    REQUIRE(denv_init(&e, dmarc_zone));
    /* no record at the subdomain: the organisational domain's, with its sp */
    CHECK_EQ_INT(dmarc(&e, "Mail.Example.COM", TM_SPF_NONE, NULL, NULL, 0), TM_DMARC_FAIL);
    CHECK_STR(e.r.from_domain, "mail.example.com");
    CHECK_STR(e.r.org_domain, "example.com");
    CHECK_STR(e.r.record_domain, "example.com");
    CHECK_EQ_INT(e.r.policy, TM_DMARC_P_QUARANTINE);
    CHECK_EQ_INT(e.r.disposition, TM_DMARC_P_QUARANTINE);
    CHECK_EQ_INT(e.r.queries, 2);
    CHECK_EQ_INT(fake_dns_asked(e.dns, "_dmarc.mail.example.com", TM_DNS_TXT), 1);
    /* a DKIM pass for the organisational domain aligns (relaxed) */
    CHECK_EQ_INT(dmarc(&e, "mail.example.com", TM_SPF_NONE, NULL, "example.com", 0), TM_DMARC_PASS);
    /* a subdomain with its own record: its p, not the parent's sp */
    CHECK_EQ_INT(dmarc(&e, "own.example.com", TM_SPF_NONE, NULL, NULL, 0), TM_DMARC_FAIL);
    CHECK_STR(e.r.record_domain, "own.example.com");
    CHECK_EQ_INT(e.r.policy, TM_DMARC_P_NONE);
    CHECK_EQ_INT(e.r.queries, 1);
    /* no sp: subdomains get p ("example" is no listed suffix, so under the
     * PSL's default rule strict.example is the organisational domain) */
    CHECK_EQ_INT(dmarc(&e, "a.deep.strict.example", TM_SPF_NONE, NULL, NULL, 0), TM_DMARC_FAIL);
    CHECK_STR(e.r.record_domain, "strict.example");
    CHECK_EQ_INT(e.r.policy, TM_DMARC_P_REJECT);
    /* TXT strings that are not DMARC records are skipped, at both names */
    CHECK_EQ_INT(dmarc(&e, "other.mixed.example", TM_SPF_NONE, NULL, NULL, 0), TM_DMARC_FAIL);
    CHECK_STR(e.r.record_domain, "mixed.example");
    CHECK_EQ_INT(e.r.policy, TM_DMARC_P_QUARANTINE);
    denv_free(&e);
}

TM_TEST(dmarc_check_none_and_errors)
{
    struct denv e;

    REQUIRE(denv_init(&e, dmarc_zone));
    CHECK_EQ_INT(dmarc(&e, "nowhere.example.org", TM_SPF_PASS, "nowhere.example.org", NULL, 0),
                 TM_DMARC_NONE);
    CHECK_STR(e.r.reason, "no DMARC record");
    CHECK(!e.r.have_record);
    CHECK_EQ_INT(e.r.disposition, TM_DMARC_P_NONE);
    /* several records: no DMARC, and no fallback to the parent */
    CHECK_EQ_INT(dmarc(&e, "two.example", TM_SPF_NONE, NULL, NULL, 0), TM_DMARC_NONE);
    CHECK_STR(e.r.reason, "several DMARC records");
    CHECK_EQ_INT(dmarc(&e, "nopolicy.example", TM_SPF_NONE, NULL, NULL, 0), TM_DMARC_NONE);
    CHECK_EQ_INT(dmarc(&e, "tf.example", TM_SPF_PASS, "tf.example", NULL, 0), TM_DMARC_TEMPERROR);
    CHECK_EQ_INT(e.r.disposition, TM_DMARC_P_NONE);
    CHECK_EQ_INT(dmarc(&e, "", TM_SPF_NONE, NULL, NULL, 0), TM_DMARC_PERMERROR);
    /* the message's DNS budget */
    e.b.max_queries = e.b.used;
    CHECK_EQ_INT(dmarc(&e, "example.com", TM_SPF_PASS, "example.com", NULL, 0), TM_DMARC_TEMPERROR);
    CHECK_STR(e.r.reason, "DNS lookup budget spent");
    denv_free(&e);
}

TM_TEST(dmarc_check_pct)
{
    /* 6.6.4 and 6.3 pct: a sampled fail gets the policy, an unsampled one
     * the next milder: reject -> quarantine, quarantine -> none */
    struct denv e;

    REQUIRE(denv_init(&e, dmarc_zone));
    CHECK_EQ_INT(dmarc(&e, "test.example.com", TM_SPF_NONE, NULL, NULL, 24), TM_DMARC_FAIL);
    CHECK(e.r.sampled);
    CHECK_EQ_INT(e.r.disposition, TM_DMARC_P_QUARANTINE);
    CHECK_EQ_INT(dmarc(&e, "test.example.com", TM_SPF_NONE, NULL, NULL, 25), TM_DMARC_FAIL);
    CHECK(!e.r.sampled);
    CHECK_EQ_INT(e.r.disposition, TM_DMARC_P_NONE);
    CHECK_EQ_INT(dmarc(&e, "zero.example", TM_SPF_NONE, NULL, NULL, 0), TM_DMARC_FAIL);
    CHECK(!e.r.sampled);
    CHECK_EQ_INT(e.r.policy, TM_DMARC_P_REJECT);
    CHECK_EQ_INT(e.r.disposition, TM_DMARC_P_QUARANTINE);
    CHECK_EQ_INT(dmarc(&e, "example.com", TM_SPF_NONE, NULL, NULL, 99), TM_DMARC_FAIL);
    CHECK(e.r.sampled); /* pct=100 */
    CHECK_EQ_INT(e.r.disposition, TM_DMARC_P_REJECT);
    CHECK_EQ_INT(dmarc(&e, "example.com", TM_SPF_NONE, NULL, NULL, 1000), TM_DMARC_FAIL);
    CHECK_EQ_INT(e.r.disposition, TM_DMARC_P_REJECT);
    /* a pass is never subject to the policy */
    CHECK_EQ_INT(dmarc(&e, "zero.example", TM_SPF_PASS, "zero.example", NULL, 0), TM_DMARC_PASS);
    CHECK_EQ_INT(e.r.disposition, TM_DMARC_P_NONE);
    denv_free(&e);
}

static enum tm_dmarc_from_status
from(struct tm_arena *a, const char *v, const char **d)
{
    enum tm_dmarc_from_status st;

    TM_ASSERT(tm_dmarc_from_domain(a, (const unsigned char *)v, strlen(v), d, &st) == TM_OK);
    return st;
}

TM_TEST(dmarc_from_header)
{
    struct tm_arena *a = tm_arena_new(1 << 20);
    const char *d;

    REQUIRE(a != NULL);
    CHECK_EQ_INT(from(a, "Alice <alice@Example.COM>", &d), TM_DMARC_FROM_OK);
    CHECK_STR(d, "example.com");
    CHECK_EQ_INT(from(a, "\"Bob, Jr. <bob@evil.example>\" <bob@example.com> (the @ man)", &d),
                 TM_DMARC_FROM_OK);
    CHECK_STR(d, "example.com");
    CHECK_EQ_INT(from(a, "carol@example.net.", &d), TM_DMARC_FROM_OK);
    CHECK_STR(d, "example.net");
    CHECK_EQ_INT(from(a, "a@example.com,\r\n B <b@EXAMPLE.com>", &d), TM_DMARC_FROM_OK);
    CHECK_STR(d, "example.com");
    CHECK_EQ_INT(from(a, "Friends: a@example.com, b@example.com;", &d), TM_DMARC_FROM_OK);
    CHECK_STR(d, "example.com");
    CHECK_EQ_INT(from(a, "\"x@y\"@example.org", &d), TM_DMARC_FROM_OK);
    CHECK_STR(d, "example.org");
    CHECK_EQ_INT(from(a, "a@example.com, b@example.org", &d), TM_DMARC_FROM_MULTIPLE);
    CHECK(d == NULL);
    CHECK_EQ_INT(from(a, "undisclosed-recipients:;", &d), TM_DMARC_FROM_NONE);
    CHECK_EQ_INT(from(a, "no-at-sign", &d), TM_DMARC_FROM_NONE);
    CHECK_EQ_INT(from(a, "x@[192.0.2.1]", &d), TM_DMARC_FROM_NONE);
    CHECK_EQ_INT(from(a, "", &d), TM_DMARC_FROM_NONE);
    tm_arena_free(a);
}

const struct tm_test tests_dmarc[] = {
    TM_TEST_ENTRY(dmarc_parse_appendix_b),      TM_TEST_ENTRY(dmarc_parse_tags_and_fallbacks),
    TM_TEST_ENTRY(dmarc_org_domain_psl),        TM_TEST_ENTRY(dmarc_alignment_appendix_b1),
    TM_TEST_ENTRY(dmarc_check_alignment),       TM_TEST_ENTRY(dmarc_check_discovery_and_sp),
    TM_TEST_ENTRY(dmarc_check_none_and_errors), TM_TEST_ENTRY(dmarc_check_pct),
    TM_TEST_ENTRY(dmarc_from_header),           TM_TEST_END,
};
