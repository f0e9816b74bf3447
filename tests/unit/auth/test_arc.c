/*
 * test_arc.c - ARC (RFC 8617): chains sealed by dkimpy (tests/auth/data,
 * one and two sets) validate; our seals validate and stack; tampering, the
 * structure rules (one field of each kind per instance, no gaps, cv=none
 * only at i=1, cv=fail ends the chain) and DNS trouble give fail with the
 * instance and the reason; sealing refuses what RFC 8617 forbids.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/arc.h"
#include "auth/dkim.h"
#include "core/arena.h"
#include "suites.h"

struct fixture {
    struct tm_arena *a;
    struct tu_key keys[8];
    size_t nkeys;
    char *test_txt, *sel_txt, *ed_rec;
    struct tm_dkim_key *rsa, *ed;
};

static struct tm_dkim_key *
load(const char *name)
{
    char path[1024], err[256];
    struct tm_dkim_key *k = NULL;

    snprintf(path, sizeof(path), "%s/%s", DKIMPY, name);
    if (tm_dkim_key_load(path, &k, err, sizeof(err)) != TM_OK)
        tm_test_fail(__FILE__, __LINE__, "%s: %s", path, err);
    return k;
}

static int
setup(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->a = tm_arena_new(TU_ARENA);
    f->test_txt = tu_read_record(DKIMPY, "test.txt");
    f->sel_txt = tu_read_record(DKIMPY, "2048_testkey_wo_markers.pub.txt");
    f->rsa = load("2048_testkey.key");
    f->ed = load("ed25519test.key");
    if (f->a == NULL || f->test_txt == NULL || f->sel_txt == NULL || f->rsa == NULL ||
        f->ed == NULL || tm_dkim_key_record(f->a, f->ed, &f->ed_rec) != TM_OK)
        return -1;
    f->keys[0] = (struct tu_key){"test._domainkey.example.com", TM_DNS_OK, f->test_txt};
    f->keys[1] = (struct tu_key){"sel._domainkey.example.com", TM_DNS_OK, f->sel_txt};
    f->keys[2] = (struct tu_key){"ed._domainkey.relay.example", TM_DNS_OK, f->ed_rec};
    f->nkeys = 3;
    return 0;
}

static void
teardown(struct fixture *f)
{
    tm_dkim_key_free(f->rsa);
    tm_dkim_key_free(f->ed);
    free(f->test_txt);
    free(f->sel_txt);
    tm_arena_free(f->a);
}

static tm_rc
verify(struct fixture *f, const unsigned char *m, size_t n, struct tm_arc_result *r)
{
    return tu_arc_verify(f->a, NULL, m, n, f->keys, f->nkeys, r);
}

/* seal - msg with a new ARC set on top (malloc); RSA key sel/example.com or Ed25519 ed/relay */
static unsigned char *
seal(struct fixture *f, const unsigned char *m, size_t n, int ed, enum tm_arc_cv cv,
     const char *results, size_t *outlen)
{
    struct tm_arc_seal_opts o;
    char *hdr, err[256];
    size_t hl;
    unsigned char *out;
    tm_rc rc;

    tm_arc_seal_opts_default(&o);
    o.domain = ed ? "relay.example" : "example.com";
    o.selector = ed ? "ed" : "sel";
    o.key = ed ? f->ed : f->rsa;
    o.authserv_id = ed ? "mx.relay.example" : "lists.example.com";
    o.results = results;
    o.cv = cv;
    o.t = 1700000000;
    if ((rc = tm_arc_seal(f->a, m, n, &o, &hdr, &hl, err, sizeof(err))) != TM_OK) {
        tm_test_fail(__FILE__, __LINE__, "tm_arc_seal: %s (%s)", tm_rc_str(rc), err);
        return NULL;
    }
    if ((out = malloc(hl + n + 1)) == NULL)
        return NULL;
    memcpy(out, hdr, hl);
    memcpy(out + hl, m, n);
    *outlen = hl + n;
    return out;
}

TM_TEST(arc_dkimpy_one_set)
{
    struct fixture f;
    struct tm_arc_result r;
    unsigned char *m, *crlf;
    size_t n, cn;

    REQUIRE(setup(&f) == 0);
    REQUIRE((m = tu_read(OURS, "dkimpy-arc1.eml", &n)) != NULL);
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.cv, TM_ARC_PASS);
    CHECK_EQ_INT(r.instances, 1);
    CHECK(r.reason == NULL);
    REQUIRE(r.nset == 1);
    CHECK_EQ_INT(r.set[0].instance, 1);
    CHECK_STR(r.set[0].cv, "none");
    CHECK_STR(r.set[0].as_domain, "example.com");
    CHECK_STR(r.set[0].ams_selector, "test");
    CHECK_EQ_INT(r.set[0].ams, TM_DKIM_PASS);
    CHECK_EQ_INT(r.set[0].as, TM_DKIM_PASS);
    CHECK_STR(r.set[0].aar, "lists.example.org; arc=none; spf=pass smtp.mfrom=jqd@d1.example; "
                            "dkim=pass (1024-bit key) header.i=@d1.example; dmarc=pass");
    REQUIRE((crlf = tu_crlf(m, n, &cn)) != NULL); /* dkimpy wrote CRLF fields on an LF message */
    REQUIRE(verify(&f, crlf, cn, &r) == TM_OK);
    CHECK_EQ_INT(r.cv, TM_ARC_PASS);
    free(crlf);
    free(m);
    teardown(&f);
}

TM_TEST(arc_dkimpy_two_sets)
{
    struct fixture f;
    struct tm_arc_result r;
    unsigned char *m, *t;
    size_t n, tn;

    REQUIRE(setup(&f) == 0);
    REQUIRE((m = tu_read(OURS, "dkimpy-arc2.eml", &n)) != NULL);
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.cv, TM_ARC_PASS);
    CHECK_EQ_INT(r.instances, 2);
    REQUIRE(r.nset == 2);
    CHECK_STR(r.set[1].cv, "pass");
    CHECK_EQ_INT(r.set[0].ams, TM_DKIM_NONE); /* only the newest AMS is checked */
    CHECK_EQ_INT(r.set[1].ams, TM_DKIM_PASS);
    CHECK_EQ_INT(r.set[0].as, TM_DKIM_PASS);
    CHECK_EQ_INT(r.set[1].as, TM_DKIM_PASS);
    {
        char *ar;
        REQUIRE(tm_arc_ar(f.a, &r, &ar) == TM_OK);
        CHECK_STR(ar, "arc=pass (i=2)");
    }
    /* the body changed after the last seal */
    REQUIRE((t = tu_replace(m, n, "a test message", "a test massage", &tn)) != NULL);
    REQUIRE(verify(&f, t, tn, &r) == TM_OK);
    CHECK_EQ_INT(r.cv, TM_ARC_FAIL);
    CHECK_EQ_INT(r.fail_instance, 2);
    CHECK_STR(r.reason, "ARC-Message-Signature i=2: body hash mismatch");
    {
        char *ar;
        REQUIRE(tm_arc_ar(f.a, &r, &ar) == TM_OK);
        CHECK_STR(ar, "arc=fail (i=2) reason=\"ARC-Message-Signature i=2: body hash mismatch\"");
    }
    free(t);
    /* the first AAR changed: the seal of i=2 covers it */
    REQUIRE((t = tu_replace(m, n, "dmarc=pass", "dmarc=fail", &tn)) != NULL);
    REQUIRE(verify(&f, t, tn, &r) == TM_OK);
    CHECK_EQ_INT(r.cv, TM_ARC_FAIL);
    CHECK_EQ_INT(r.fail_instance, 2);
    CHECK_STR(r.reason, "ARC-Seal i=2: signature mismatch");
    free(t);
    free(m);
    teardown(&f);
}

TM_TEST(arc_seal_roundtrip)
{
    struct fixture f;
    struct tm_arc_result r;
    unsigned char *m, *s1, *s2, *s3, *t;
    size_t n, n1, n2, n3, tn;

    REQUIRE(setup(&f) == 0);
    REQUIRE((m = tu_read(DKIMPY, "test.message", &n)) != NULL);
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.cv, TM_ARC_NONE);
    CHECK_EQ_INT(r.instances, 0);
    REQUIRE((s1 = seal(&f, m, n, 0, TM_ARC_NONE, "spf=pass smtp.mailfrom=example.com", &n1)));
    CHECK(strncmp((char *)s1, "ARC-Seal: i=1; cv=none; a=rsa-sha256;", 37) == 0);
    REQUIRE(verify(&f, s1, n1, &r) == TM_OK);
    CHECK_EQ_INT(r.cv, TM_ARC_PASS);
    CHECK_STR(r.set[0].aar, "lists.example.com; spf=pass smtp.mailfrom=example.com");
    /* a second relay with Ed25519, after a change to the body (a list footer): the old AMS
     * would fail now, but only the newest counts */
    REQUIRE((t = tu_replace(s1, n1, "a test message.", "a test message.\n-- \nlist footer", &tn)));
    REQUIRE((s2 = seal(&f, t, tn, 1, TM_ARC_PASS, "arc=pass", &n2)));
    REQUIRE(verify(&f, s2, n2, &r) == TM_OK);
    CHECK_EQ_INT(r.cv, TM_ARC_PASS);
    CHECK_EQ_INT(r.instances, 2);
    CHECK_STR(r.set[1].as_domain, "relay.example");
    /* and a third */
    REQUIRE((s3 = seal(&f, s2, n2, 0, TM_ARC_PASS, NULL, &n3)));
    REQUIRE(verify(&f, s3, n3, &r) == TM_OK);
    CHECK_EQ_INT(r.cv, TM_ARC_PASS);
    CHECK_EQ_INT(r.instances, 3);
    CHECK_STR(r.set[2].aar, "lists.example.com; none");
    free(s3);
    free(s2);
    free(t);
    free(s1);
    free(m);
    teardown(&f);
}

TM_TEST(arc_structure)
{
    struct fixture f;
    struct tm_arc_result r;
    struct tm_arc_verify *v;
    unsigned char *m, *s1, *s2, *t, *t2;
    size_t n, n1, n2, tn, tn2;

    REQUIRE(setup(&f) == 0);
    REQUIRE((m = tu_read(DKIMPY, "test.message", &n)) != NULL);
    REQUIRE((s1 = seal(&f, m, n, 0, TM_ARC_NONE, "spf=pass", &n1)));
    REQUIRE((s2 = seal(&f, s1, n1, 1, TM_ARC_PASS, "arc=pass", &n2)));
    /* a set without its seal */
    REQUIRE((t = tu_replace(s2, n2, "ARC-Seal: i=1", "X-Old-Seal: i=1", &tn)));
    REQUIRE(tm_arc_verify_begin(f.a, NULL, t, tn, &v) == TM_OK);
    CHECK_EQ_SIZE(tm_arc_verify_nqueries(v), 0); /* decided before DNS */
    REQUIRE(tm_arc_verify_finish(v, &r) == TM_OK);
    CHECK_EQ_INT(r.cv, TM_ARC_FAIL);
    CHECK_EQ_INT(r.fail_instance, 1);
    CHECK_STR(r.reason, "no ARC-Seal (i=1)");
    free(t);
    /* two seals for one instance */
    REQUIRE((t = tu_replace(s2, n2, "ARC-Seal: i=2", "ARC-Seal: i=1", &tn)));
    REQUIRE(verify(&f, t, tn, &r) == TM_OK);
    CHECK_EQ_INT(r.cv, TM_ARC_FAIL);
    CHECK_STR(r.reason, "more than one ARC-Seal (i=1)");
    free(t);
    /* a gap: the second set renumbered 3 */
    REQUIRE((t = tu_replace(s2, n2, "ARC-Seal: i=2", "ARC-Seal: i=3", &tn)));
    REQUIRE(
        (t2 = tu_replace(t, tn, "ARC-Message-Signature: i=2", "ARC-Message-Signature: i=3", &tn2)));
    free(t);
    REQUIRE((t = tu_replace(t2, tn2, "ARC-Authentication-Results: i=2",
                            "ARC-Authentication-Results: i=3", &tn)));
    REQUIRE(verify(&f, t, tn, &r) == TM_OK);
    CHECK_EQ_INT(r.cv, TM_ARC_FAIL);
    CHECK_EQ_INT(r.instances, 3);
    CHECK_STR(r.reason, "no ARC-Authentication-Results (i=2)");
    free(t);
    free(t2);
    /* an instance out of range */
    REQUIRE((t = tu_replace(s2, n2, "ARC-Authentication-Results: i=2",
                            "ARC-Authentication-Results: i=51", &tn)));
    REQUIRE(verify(&f, t, tn, &r) == TM_OK);
    CHECK_EQ_INT(r.cv, TM_ARC_FAIL);
    CHECK_STR(r.reason, "ARC-Authentication-Results without a valid instance (i=)");
    free(t);
    /* cv=none after i=1 */
    REQUIRE((t = tu_replace(s2, n2, "i=2; cv=pass", "i=2; cv=none", &tn)));
    REQUIRE(verify(&f, t, tn, &r) == TM_OK);
    CHECK_EQ_INT(r.cv, TM_ARC_FAIL);
    CHECK_EQ_INT(r.fail_instance, 2);
    CHECK_STR(r.reason, "ARC-Seal i=2 has cv=none");
    free(t);
    /* a seal with h= */
    REQUIRE((t = tu_replace(s2, n2, "i=2; cv=pass", "i=2; h=from; cv=pass", &tn)));
    REQUIRE(verify(&f, t, tn, &r) == TM_OK);
    CHECK_STR(r.reason, "ARC-Seal i=2: h= in an ARC-Seal");
    free(t);
    free(s2);
    free(s1);
    free(m);
    teardown(&f);
}

TM_TEST(arc_failed_chain)
{
    struct fixture f;
    struct tm_arc_result r;
    unsigned char *m, *s1, *s2, *t;
    size_t n, n1, n2, tn;

    REQUIRE(setup(&f) == 0);
    REQUIRE((m = tu_read(DKIMPY, "test.message", &n)) != NULL);
    REQUIRE((s1 = seal(&f, m, n, 0, TM_ARC_NONE, "spf=pass", &n1)));
    /* the first set broken in transit; the next relay seals with cv=fail, covering only
     * its own set, and the chain stays failed */
    REQUIRE((t = tu_replace(s1, n1, "spf=pass", "spf=fail", &tn)));
    REQUIRE(verify(&f, t, tn, &r) == TM_OK);
    CHECK_EQ_INT(r.cv, TM_ARC_FAIL);
    CHECK_EQ_INT(r.fail_instance, 1);
    CHECK_STR(r.reason, "ARC-Seal i=1: signature mismatch");
    REQUIRE((s2 = seal(&f, t, tn, 1, TM_ARC_FAIL, "arc=fail", &n2)));
    CHECK(strncmp((char *)s2, "ARC-Seal: i=2; cv=fail;", 23) == 0);
    REQUIRE(verify(&f, s2, n2, &r) == TM_OK);
    CHECK_EQ_INT(r.cv, TM_ARC_FAIL);
    CHECK_EQ_INT(r.fail_instance, 2);
    CHECK_STR(r.reason, "chain already failed (cv=fail at i=2)");
    free(s2);
    free(t);
    free(s1);
    free(m);
    teardown(&f);
}

TM_TEST(arc_dns_trouble)
{
    struct fixture f;
    struct tm_arc_result r;
    unsigned char *m;
    size_t n;

    REQUIRE(setup(&f) == 0);
    REQUIRE((m = tu_read(OURS, "dkimpy-arc2.eml", &n)) != NULL);
    f.keys[0].st = TM_DNS_TEMPFAIL; /* the key of set 1 */
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.cv, TM_ARC_FAIL);
    CHECK_EQ_INT(r.fail_instance, 1);
    CHECK_FLAGS(r.flags, TM_ARC_F_TEMPERROR);
    CHECK_STR(r.reason, "ARC-Seal i=1: DNS temporary failure for the key");
    f.keys[0].st = TM_DNS_NXDOMAIN;
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.cv, TM_ARC_FAIL);
    CHECK_NOFLAGS(r.flags, TM_ARC_F_TEMPERROR);
    CHECK_STR(r.reason, "ARC-Seal i=1: no key");
    free(m);
    teardown(&f);
}

TM_TEST(arc_seal_errors)
{
    struct fixture f;
    struct tm_arc_seal_opts o;
    unsigned char *m, *s1;
    char *hdr, err[256], fifty[2048];
    size_t n, n1, hl;

    REQUIRE(setup(&f) == 0);
    REQUIRE((m = tu_read(DKIMPY, "test.message", &n)) != NULL);
    tm_arc_seal_opts_default(&o);
    o.domain = "example.com";
    o.selector = "sel";
    o.key = f.rsa;
    o.authserv_id = "mx.example.com";
    o.cv = TM_ARC_PASS;
    CHECK_EQ_INT(tm_arc_seal(f.a, m, n, &o, &hdr, &hl, err, sizeof(err)), TM_EINVAL);
    CHECK_STR(err, "no ARC set on the message: cv must be none");
    o.cv = TM_ARC_NONE; /* a folded first line would join the ARC-Seal on top */
    CHECK_EQ_INT(
        tm_arc_seal(f.a, TM_LIT(" x\r\nFrom: a@b\r\n\r\nx\r\n"), &o, &hdr, &hl, err, sizeof(err)),
        TM_EINVAL);
    CHECK(strstr(err, "folded line") != NULL);
    REQUIRE((s1 = seal(&f, m, n, 0, TM_ARC_NONE, NULL, &n1)));
    o.cv = TM_ARC_NONE;
    CHECK_EQ_INT(tm_arc_seal(f.a, s1, n1, &o, &hdr, &hl, err, sizeof(err)), TM_EINVAL);
    o.cv = TM_ARC_PASS;
    CHECK_EQ_INT(tm_arc_seal(f.a, s1, n1, &o, &hdr, &hl, err, sizeof(err)), TM_OK);
    o.authserv_id = "two words";
    CHECK_EQ_INT(tm_arc_seal(f.a, s1, n1, &o, &hdr, &hl, err, sizeof(err)), TM_EINVAL);
    o.authserv_id = "mx.example.com";
    o.results = "spf=pass\r\nX-Injected: yes";
    CHECK_EQ_INT(tm_arc_seal(f.a, s1, n1, &o, &hdr, &hl, err, sizeof(err)), TM_EINVAL);
    o.results = NULL;
    o.headers = "from:arc-seal";
    CHECK_EQ_INT(tm_arc_seal(f.a, s1, n1, &o, &hdr, &hl, err, sizeof(err)), TM_EINVAL);
    o.headers = NULL;
    /* a broken chain cannot be sealed as pass */
    {
        unsigned char *t;
        size_t tn;
        REQUIRE((t = tu_replace(s1, n1, "ARC-Seal: i=1", "X-Seal: i=1", &tn)));
        CHECK_EQ_INT(tm_arc_seal(f.a, t, tn, &o, &hdr, &hl, err, sizeof(err)), TM_EINVAL);
        o.cv = TM_ARC_FAIL;
        CHECK_EQ_INT(tm_arc_seal(f.a, t, tn, &o, &hdr, &hl, err, sizeof(err)), TM_OK);
        free(t);
    }
    /* instance 50 taken: no 51st */
    snprintf(fifty, sizeof(fifty), "ARC-Seal: i=50; cv=pass; a=rsa-sha256; d=x; s=y; b=AAAA\n%s",
             (const char *)m);
    CHECK_EQ_INT(
        tm_arc_seal(f.a, (unsigned char *)fifty, strlen(fifty), &o, &hdr, &hl, err, sizeof(err)),
        TM_ELIMIT);
    free(s1);
    free(m);
    teardown(&f);
}

const struct tm_test tests_arc[] = {
    TM_TEST_ENTRY(arc_dkimpy_one_set), TM_TEST_ENTRY(arc_dkimpy_two_sets),
    TM_TEST_ENTRY(arc_seal_roundtrip), TM_TEST_ENTRY(arc_structure),
    TM_TEST_ENTRY(arc_failed_chain),   TM_TEST_ENTRY(arc_dns_trouble),
    TM_TEST_ENTRY(arc_seal_errors),    TM_TEST_END,
};
