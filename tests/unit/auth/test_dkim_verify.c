/*
 * test_dkim_verify.c - DKIM verification against messages signed by other
 * implementations: dkimpy's test data as Debian ships it (RFC 8463
 * appendix A, a Gmail message, an Exim Ed25519 one) and tests/auth/data
 * (OpenDKIM, Mail::DKIM, dkimpy; see its PROVENANCE.md). Tampered copies,
 * key-record variants and the limits give every result and reason.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/arc.h"
#include "auth/dkim.h"
#include "core/arena.h"
#include "suites.h"

/* The public key dkimpy's tests/test_dkim.py serves for 20120113._domainkey.gmail.com */
#define GMAIL_KEY                                                               \
    "k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA1Kd87/UeJjenpabgbFwh" \
    "+eBCsSTrqmwIYYvywlbhbqoo2DymndFkbjOVIPIldNs/m40KF+yzMn1skyoxcTUGCQ"        \
    "s8g3FgD2Ap3ZB5DekAo5wMmk4wimDO+U8QzI3SD07y2+07wlNWwIt8svnxgdxGkVbb"        \
    "hzY8i+RQ9DpSVpPbF7ykQxtKXkv/ahW3KjViiAH+ghvvIhkx4xYSIc9oSwVmAl5Oct"        \
    "MEeWUwg8Istjqz8BZeTWbf41fbNhte7Y+YqZOwq1Sd0DbvYAD9NOZK9vlfuac0598H"        \
    "Y+vtSBczUiKERHv1yRbcaQtZFh5wtiRrN04BLUTD21MycBX5jYchHjPY/wIDAQAB"

/* RFC 8463 appendix A.2: the Ed25519 key of brisbane._domainkey.football.example.com */
#define BRISBANE_KEY "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

#define NOW_2033 2000000000 /* after every t= of the test data */

struct fixture {
    struct tm_arena *a;
    struct tu_key keys[8];
    size_t nkeys;
    char *test_txt, *sel_txt, *sel_pkcs1_txt, *exim_txt;
    struct tm_dkim_config cfg;
};

static int
setup(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->a = tm_arena_new(TU_ARENA);
    f->test_txt = tu_read_record(DKIMPY, "test.txt");
    f->sel_txt = tu_read_record(DKIMPY, "2048_testkey_wo_markers.pub.txt");
    f->sel_pkcs1_txt = tu_read_record(DKIMPY, "2048_testkey_wo_markers.pub.rsa.txt");
    f->exim_txt = tu_read_record(DKIMPY, "eximtest.dns");
    if (f->a == NULL || f->test_txt == NULL || f->sel_txt == NULL || f->sel_pkcs1_txt == NULL ||
        f->exim_txt == NULL)
        return -1;
    f->keys[0] = (struct tu_key){"test._domainkey.football.example.com", TM_DNS_OK, f->test_txt};
    f->keys[1] =
        (struct tu_key){"brisbane._domainkey.football.example.com", TM_DNS_OK, BRISBANE_KEY};
    f->keys[2] = (struct tu_key){"test._domainkey.example.com", TM_DNS_OK, f->test_txt};
    f->keys[3] = (struct tu_key){"sel._domainkey.example.com", TM_DNS_OK, f->sel_txt};
    f->keys[4] = (struct tu_key){"sed._domainkey.test.ex", TM_DNS_OK, f->exim_txt};
    f->keys[5] = (struct tu_key){"20120113._domainkey.gmail.com", TM_DNS_OK, GMAIL_KEY};
    f->nkeys = 6;
    tm_dkim_config_default(&f->cfg);
    f->cfg.now = NOW_2033;
    return 0;
}

static void
teardown(struct fixture *f)
{
    tm_arena_free(f->a);
    free(f->test_txt);
    free(f->sel_txt);
    free(f->sel_pkcs1_txt);
    free(f->exim_txt);
}

/* set_key - serve txt (or a status) for name instead of the fixture's entry */
static void
set_key(struct fixture *f, const char *name, enum tm_dns_status st, const char *txt)
{
    size_t i;

    for (i = 0; i < f->nkeys; i++) {
        if (strcmp(f->keys[i].name, name) == 0) {
            f->keys[i].st = st;
            f->keys[i].txt = txt;
            return;
        }
    }
    f->keys[f->nkeys++] = (struct tu_key){name, st, txt};
}

static tm_rc
verify(struct fixture *f, const unsigned char *m, size_t n, struct tm_dkim_results *r)
{
    return tu_verify(f->a, &f->cfg, m, n, f->keys, f->nkeys, r);
}

#define FOOTBALL_RSA "test._domainkey.football.example.com"

TM_TEST(verify_rfc8463_both_pass)
{
    struct fixture f;
    struct tm_dkim_results r;
    unsigned char *m, *crlf;
    size_t n, cn;

    REQUIRE(setup(&f) == 0);
    REQUIRE((m = tu_read(DKIMPY, "rfc6376.signed.msg", &n)) != NULL);
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    REQUIRE(r.n == 2);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
    CHECK_STR(r.sig[0].algorithm, "ed25519-sha256");
    CHECK_STR(r.sig[0].selector, "brisbane");
    CHECK_STR(r.sig[0].domain, "football.example.com");
    CHECK_STR(r.sig[0].identity, "@football.example.com");
    CHECK_STR(r.sig[0].header_b, "9/dsDChY");
    CHECK_STR(r.sig[0].key_name, "brisbane._domainkey.football.example.com");
    CHECK_EQ_INT(r.sig[0].key_bits, 256);
    CHECK_EQ_INT(r.sig[0].t, 1518460054);
    CHECK_EQ_INT(r.sig[0].x, -1);
    CHECK_EQ_INT(r.sig[0].flags, 0);
    CHECK(r.sig[0].reason == NULL);
    CHECK_EQ_INT(r.sig[1].result, TM_DKIM_PASS);
    CHECK_STR(r.sig[1].algorithm, "rsa-sha256");
    CHECK_STR(r.sig[1].header_b, "icKcLSEZ");
    CHECK_EQ_INT(r.sig[1].key_bits, 1024);
    CHECK_EQ_INT(r.ignored, 0);
    /* the same message with CRLF line ends */
    REQUIRE((crlf = tu_crlf(m, n, &cn)) != NULL);
    REQUIRE(verify(&f, crlf, cn, &r) == TM_OK);
    REQUIRE(r.n == 2);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
    CHECK_EQ_INT(r.sig[1].result, TM_DKIM_PASS);
    free(crlf);
    free(m);
    teardown(&f);
}

TM_TEST(verify_other_signers)
{
    static const char *const files[] = {"rfc6376.signed.rsa.msg", "test2.message",
                                        "ed25519test2.msg"};
    struct fixture f;
    struct tm_dkim_results r;
    unsigned char *m;
    size_t n, i;

    REQUIRE(setup(&f) == 0);
    for (i = 0; i < TM_NELEM(files); i++) {
        REQUIRE((m = tu_read(DKIMPY, files[i], &n)) != NULL);
        REQUIRE(verify(&f, m, n, &r) == TM_OK);
        REQUIRE(r.n == 1);
        if (r.sig[0].result != TM_DKIM_PASS)
            tm_test_fail(__FILE__, __LINE__, "%s: %s (%s)", files[i],
                         tm_dkim_result_name(r.sig[0].result), r.sig[0].reason);
        free(m);
    }
    teardown(&f);
}

TM_TEST(verify_tampered_body)
{
    struct fixture f;
    struct tm_dkim_results r;
    unsigned char *m, *t;
    size_t n, tn;

    REQUIRE(setup(&f) == 0);
    REQUIRE((m = tu_read(DKIMPY, "rfc6376.signed.msg", &n)) != NULL);
    REQUIRE((t = tu_replace(m, n, "We lost the game.", "We lost the game!", &tn)) != NULL);
    REQUIRE(verify(&f, t, tn, &r) == TM_OK);
    REQUIRE(r.n == 2);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_FAIL);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_BODY_HASH);
    CHECK_STR(r.sig[0].reason, "body hash mismatch");
    CHECK_EQ_INT(r.sig[1].result, TM_DKIM_FAIL);
    CHECK_EQ_INT(r.sig[1].why, TM_DKIM_E_BODY_HASH);
    free(t);
    /* one more empty line at the end is nothing to simple canonicalisation */
    REQUIRE((t = malloc(n + 2)) != NULL);
    memcpy(t, m, n);
    memcpy(t + n, "\n\n", 2);
    REQUIRE(verify(&f, t, n + 2, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
    CHECK_EQ_INT(r.sig[1].result, TM_DKIM_PASS);
    free(t);
    free(m);
    teardown(&f);
}

TM_TEST(verify_tampered_header)
{
    struct fixture f;
    struct tm_dkim_results r;
    unsigned char *m, *t, *t2;
    size_t n, tn, tn2;

    REQUIRE(setup(&f) == 0);
    REQUIRE((m = tu_read(DKIMPY, "rfc6376.signed.msg", &n)) != NULL);
    REQUIRE((t = tu_replace(m, n, "Subject: Is dinner ready?", "Subject: Is dinner ready!", &tn)) !=
            NULL);
    REQUIRE(verify(&f, t, tn, &r) == TM_OK);
    REQUIRE(r.n == 2);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_FAIL);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_SIGNATURE);
    CHECK_STR(r.sig[0].reason, "signature mismatch");
    CHECK_EQ_INT(r.sig[1].why, TM_DKIM_E_SIGNATURE);
    free(t);
    /* From is over-signed (h= lists it twice): a second one added on top breaks both */
    REQUIRE((t = tu_replace(m, n, "From: Joe", "From: Eve <eve@example.org>\nFrom: Joe", &tn)) !=
            NULL);
    REQUIRE(verify(&f, t, tn, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_SIGNATURE);
    CHECK_EQ_INT(r.sig[1].why, TM_DKIM_E_SIGNATURE);
    free(t);
    /* an unsigned field added, a signed one refolded: simple canonicalisation sees the
     * fold, relaxed would not (Date is signed, X-Extra is not) */
    REQUIRE((t = tu_replace(m, n, "Date: Fri,", "X-Extra: yes\nDate: Fri,", &tn)) != NULL);
    REQUIRE(verify(&f, t, tn, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
    REQUIRE((t2 = tu_replace(t, tn, "Date: Fri,", "Date: Fri,\n ", &tn2)) != NULL);
    REQUIRE(verify(&f, t2, tn2, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_SIGNATURE);
    free(t2);
    free(t);
    free(m);
    teardown(&f);
}

TM_TEST(verify_key_size)
{
    struct fixture f;
    struct tm_dkim_results r;
    unsigned char *m;
    size_t n;

    REQUIRE(setup(&f) == 0);
    REQUIRE((m = tu_read(DKIMPY, "rfc6376.signed.msg", &n)) != NULL);
    f.cfg.min_rsa_bits = 2048;
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    REQUIRE(r.n == 2);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS); /* Ed25519 has no RSA size */
    CHECK_EQ_INT(r.sig[1].result, TM_DKIM_PERMERROR);
    CHECK_EQ_INT(r.sig[1].why, TM_DKIM_E_KEY_SMALL);
    CHECK_STR(r.sig[1].reason, "key too small (1024 bits)");
    CHECK_EQ_INT(r.sig[1].key_bits, 1024);
    f.cfg.min_rsa_bits = 1024;
    f.cfg.max_rsa_bits = 1023;
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[1].why, TM_DKIM_E_KEY_LARGE);
    free(m);
    teardown(&f);
}

TM_TEST(verify_key_flags)
{
    struct fixture f;
    struct tm_dkim_results r;
    unsigned char *m, *t;
    size_t n, tn;
    char rec[1024];

    REQUIRE(setup(&f) == 0);
    REQUIRE((m = tu_read(DKIMPY, "rfc6376.signed.rsa.msg", &n)) != NULL);
    /* t=y: still verified, flagged as testing */
    snprintf(rec, sizeof(rec), "%s; t=y", f.test_txt);
    set_key(&f, FOOTBALL_RSA, TM_DNS_OK, rec);
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
    CHECK_FLAGS(r.sig[0].flags, TM_DKIM_F_TESTING);
    CHECK_NOFLAGS(r.sig[0].flags, TM_DKIM_F_STRICT | TM_DKIM_F_WEAK | TM_DKIM_F_LENGTH);
    /* t=s: i= is @football.example.com, d= the same: fine */
    snprintf(rec, sizeof(rec), "%s; t=y:s", f.test_txt);
    set_key(&f, FOOTBALL_RSA, TM_DNS_OK, rec);
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
    CHECK_FLAGS(r.sig[0].flags, TM_DKIM_F_TESTING | TM_DKIM_F_STRICT);
    /* t=s and a subdomain in i=: the key forbids it (before the signature is looked at) */
    REQUIRE((t = tu_replace(m, n, "i=@football", "i=@sub.football", &tn)) != NULL);
    REQUIRE(verify(&f, t, tn, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PERMERROR);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_KEY_STRICT);
    /* without t=s the subdomain is allowed, and the changed field fails the signature */
    set_key(&f, FOOTBALL_RSA, TM_DNS_OK, f.test_txt);
    REQUIRE(verify(&f, t, tn, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_SIGNATURE);
    free(t);
    /* h= and s= of the key */
    snprintf(rec, sizeof(rec), "%s; h=sha1", f.test_txt);
    set_key(&f, FOOTBALL_RSA, TM_DNS_OK, rec);
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_KEY_HASH);
    snprintf(rec, sizeof(rec), "%s; h=sha1:sha256; s=email", f.test_txt);
    set_key(&f, FOOTBALL_RSA, TM_DNS_OK, rec);
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
    snprintf(rec, sizeof(rec), "%s; s=tlsrpt", f.test_txt);
    set_key(&f, FOOTBALL_RSA, TM_DNS_OK, rec);
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_KEY_SERVICE);
    free(m);
    teardown(&f);
}

TM_TEST(verify_revoked_and_bad_keys)
{
    struct fixture f;
    struct tm_dkim_results r;
    unsigned char *m;
    char *badk, *badv;
    size_t n;

    REQUIRE(setup(&f) == 0);
    REQUIRE((m = tu_read(DKIMPY, "rfc6376.signed.rsa.msg", &n)) != NULL);
    REQUIRE((badk = tu_read_record(DKIMPY, "badk.txt")) != NULL);
    REQUIRE((badv = tu_read_record(DKIMPY, "badversion.txt")) != NULL);
    set_key(&f, FOOTBALL_RSA, TM_DNS_OK, "v=DKIM1; k=rsa; p=");
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PERMERROR);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_KEY_REVOKED);
    CHECK_STR(r.sig[0].reason, "key revoked");
    set_key(&f, FOOTBALL_RSA, TM_DNS_OK, badk); /* k=ed25519-sha256 */
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_KEY_TYPE);
    set_key(&f, FOOTBALL_RSA, TM_DNS_OK, badv); /* v=DKIM1: g=* */
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_KEY_SYNTAX);
    set_key(&f, FOOTBALL_RSA, TM_DNS_OK, BRISBANE_KEY); /* an Ed25519 key for rsa-sha256 */
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_KEY_TYPE);
    set_key(&f, FOOTBALL_RSA, TM_DNS_OK, "k=rsa; v=DKIM1; p=AAAA"); /* v= not first */
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_KEY_SYNTAX);
    set_key(&f, FOOTBALL_RSA, TM_DNS_OK, "v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQ==");
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_KEY_SYNTAX);
    CHECK_STR(r.sig[0].reason, "unparsable public key (p=)");
    set_key(&f, FOOTBALL_RSA, TM_DNS_OK, "v=DKIM1; k=rsa; k=rsa; p=AAAA");
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_KEY_SYNTAX);
    set_key(&f, FOOTBALL_RSA, TM_DNS_OK, "v=DKIM1; k=rsa");
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_KEY_SYNTAX);
    free(badk);
    free(badv);
    free(m);
    teardown(&f);
}

TM_TEST(verify_dns_statuses)
{
    struct fixture f;
    struct tm_dkim_results r;
    struct tm_dkim_verify *v;
    unsigned char *m;
    size_t n;

    REQUIRE(setup(&f) == 0);
    REQUIRE((m = tu_read(DKIMPY, "rfc6376.signed.rsa.msg", &n)) != NULL);
    set_key(&f, FOOTBALL_RSA, TM_DNS_NXDOMAIN, NULL);
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PERMERROR);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_NOKEY);
    CHECK_STR(r.sig[0].reason, "no key");
    set_key(&f, FOOTBALL_RSA, TM_DNS_NODATA, NULL);
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_NOKEY);
    set_key(&f, FOOTBALL_RSA, TM_DNS_TEMPFAIL, NULL);
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_TEMPERROR);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_DNS);
    set_key(&f, FOOTBALL_RSA, TM_DNS_LIMIT, NULL);
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_TEMPERROR);
    /* never answered */
    REQUIRE(tm_dkim_verify_begin(f.a, &f.cfg, m, n, &v) == TM_OK);
    CHECK_EQ_SIZE(tm_dkim_verify_nqueries(v), 1);
    CHECK_STR(tm_dkim_verify_query(v, 0), FOOTBALL_RSA);
    CHECK(tm_dkim_verify_query(v, 1) == NULL);
    CHECK_EQ_INT(tm_dkim_verify_answer(v, 1, TM_DNS_OK, "x", 1), TM_EINVAL);
    REQUIRE(tm_dkim_verify_finish(v, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_TEMPERROR);
    CHECK_STR(r.sig[0].reason, "no DNS answer for the key");
    /* two records: a bad one first, then the key */
    REQUIRE(tm_dkim_verify_begin(f.a, &f.cfg, m, n, &v) == TM_OK);
    REQUIRE(tm_dkim_verify_answer(v, 0, TM_DNS_OK, "v=spf1 -all", 11) == TM_OK);
    REQUIRE(tm_dkim_verify_answer(v, 0, TM_DNS_OK, f.test_txt, strlen(f.test_txt)) == TM_OK);
    REQUIRE(tm_dkim_verify_finish(v, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
    free(m);
    teardown(&f);
}

TM_TEST(verify_body_length)
{
    struct fixture f;
    struct tm_dkim_results r;
    unsigned char *m, *t;
    size_t n, tn;

    REQUIRE(setup(&f) == 0);
    REQUIRE((m = tu_read(OURS, "dkimpy-length.eml", &n)) != NULL);
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    REQUIRE(r.n == 1);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
    CHECK_FLAGS(r.sig[0].flags, TM_DKIM_F_LENGTH | TM_DKIM_F_PARTIAL);
    CHECK_EQ_INT(r.sig[0].l, 25); /* "This is a test message.\r\n" */
    /* the unsigned tail may change, the signed part may not */
    REQUIRE((t = tu_replace(m, n, "added more", "added other", &tn)) != NULL);
    REQUIRE(verify(&f, t, tn, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
    free(t);
    REQUIRE((t = tu_replace(m, n, "a test message", "a test massage", &tn)) != NULL);
    REQUIRE(verify(&f, t, tn, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_BODY_HASH);
    free(t);
    /* cut the body shorter than l= */
    REQUIRE((t = tu_replace(m, n, "This is a test message.\nadded more text\n", "short\n", &tn)) !=
            NULL);
    REQUIRE(verify(&f, t, tn, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PERMERROR);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_BODY_LENGTH);
    free(t);
    free(m);
    teardown(&f);
}

TM_TEST(verify_sha1_weak)
{
    struct fixture f;
    struct tm_dkim_results r;
    unsigned char *m, *m2;
    size_t n, n2;

    REQUIRE(setup(&f) == 0);
    /* OpenDKIM: rsa-sha1 relaxed/simple; Mail::DKIM: rsa-sha1 simple/simple */
    REQUIRE((m = tu_read(OURS, "opendkim-rsa-sha1.eml", &n)) != NULL);
    REQUIRE((m2 = tu_read(OURS, "maildkim-sha1-simple.eml", &n2)) != NULL);
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    REQUIRE(r.n == 1);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
    CHECK_FLAGS(r.sig[0].flags, TM_DKIM_F_WEAK);
    CHECK_EQ_INT(r.sig[0].key_bits, 2048);
    REQUIRE(verify(&f, m2, n2, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
    CHECK_FLAGS(r.sig[0].flags, TM_DKIM_F_WEAK);
    /* the key as a bare RSAPublicKey (PKCS#1) rather than SubjectPublicKeyInfo */
    set_key(&f, "sel._domainkey.example.com", TM_DNS_OK, f.sel_pkcs1_txt);
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
    /* RFC 8301 strictly: no rsa-sha1 at all */
    f.cfg.allow_sha1 = 0;
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PERMERROR);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_SHA1);
    free(m2);
    free(m);
    teardown(&f);
}

TM_TEST(verify_times)
{
    struct fixture f;
    struct tm_dkim_results r;
    struct tm_dkim_verify *v;
    unsigned char *m;
    size_t n;

    REQUIRE(setup(&f) == 0);
    /* Mail::DKIM: t=1500000000 x=1500086400 */
    REQUIRE((m = tu_read(OURS, "maildkim-expired.eml", &n)) != NULL);
    f.cfg.now = 1500000100;
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
    CHECK_EQ_INT(r.sig[0].t, 1500000000);
    CHECK_EQ_INT(r.sig[0].x, 1500086400);
    f.cfg.now = 1500086401;
    REQUIRE(tm_dkim_verify_begin(f.a, &f.cfg, m, n, &v) == TM_OK);
    CHECK_EQ_SIZE(tm_dkim_verify_nqueries(v), 0); /* decided without DNS */
    REQUIRE(tm_dkim_verify_finish(v, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_FAIL);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_EXPIRED);
    CHECK_STR(r.sig[0].reason, "signature expired (x=)");
    /* t= in the future, past the allowed skew */
    f.cfg.now = 1500000000 - 301;
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_FUTURE);
    f.cfg.clock_skew = 400;
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
    free(m);
    teardown(&f);
}

/* with_sig - "DKIM-Signature: <tags>" on top of rfc6376.signed.rsa.msg */
static unsigned char *
with_sig(const unsigned char *m, size_t n, const char *tags, size_t *outlen)
{
    size_t hl = strlen("DKIM-Signature: ") + strlen(tags) + 1;
    unsigned char *o = malloc(hl + n + 1);

    if (o == NULL)
        return NULL;
    snprintf((char *)o, hl + 1, "DKIM-Signature: %s\n", tags);
    memcpy(o + hl, m, n);
    *outlen = hl + n;
    return o;
}

#define GOOD_B  "b=icKcLSEZYXJ95flvWE8FT6hl5iqd8MC/LEKYH0QjsqYy6MO/4pgVNCZH"
#define GOOD_BH "bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ="

TM_TEST(verify_signature_syntax)
{
    static const struct {
        const char *tags;
        enum tm_dkim_why why;
        const char *reason;
    } cases[] = {
        {"v=1; a=rsa-sha256; a=rsa-sha256; d=example.com; s=x; h=from; " GOOD_BH "; " GOOD_B,
         TM_DKIM_E_SYNTAX, "bad tag list: duplicate tag"},
        {"v=1; a=rsa-sha256; d=example.com; s=x; h=from; " GOOD_B, TM_DKIM_E_SYNTAX,
         "missing bh= tag"},
        {"v=1; a=rsa-sha256;; d=example.com", TM_DKIM_E_SYNTAX, "bad tag list: empty tag"},
        {"v=2; a=rsa-sha256; d=example.com; s=x; h=from; " GOOD_BH "; " GOOD_B, TM_DKIM_E_VERSION,
         "unsupported version (v=)"},
        {"v=1; a=rsa-sha512; d=example.com; s=x; h=from; " GOOD_BH "; " GOOD_B, TM_DKIM_E_ALGORITHM,
         "unknown algorithm (a=)"},
        {"v=1; a=rsa-sha256; c=fancy; d=example.com; s=x; h=from; " GOOD_BH "; " GOOD_B,
         TM_DKIM_E_ALGORITHM, "unknown canonicalization (c=)"},
        {"v=1; a=rsa-sha256; q=http; d=example.com; s=x; h=from; " GOOD_BH "; " GOOD_B,
         TM_DKIM_E_ALGORITHM, "unsupported query method (q=)"},
        {"v=1; a=rsa-sha256; d=example.com; s=x; h=to:subject; " GOOD_BH "; " GOOD_B,
         TM_DKIM_E_FROM, "From field not signed"},
        {"v=1; a=rsa-sha256; d=example.com; s=x; h=from::to; " GOOD_BH "; " GOOD_B,
         TM_DKIM_E_SYNTAX, "bad h= list"},
        {"v=1; a=rsa-sha256; d=example.com; i=@evil.example.org; s=x; h=from; " GOOD_BH "; " GOOD_B,
         TM_DKIM_E_IDENTITY, "i= not within d="},
        {"v=1; a=rsa-sha256; d=example.com; i=@notexample.com; s=x; h=from; " GOOD_BH "; " GOOD_B,
         TM_DKIM_E_IDENTITY, "i= not within d="},
        {"v=1; a=rsa-sha256; d=legitimate.com(.attacker.com; s=x; h=from; " GOOD_BH "; " GOOD_B,
         TM_DKIM_E_SYNTAX, "bad d= domain"},
        {"v=1; a=rsa-sha256; d=example.com; s=x; h=from; l=12a; " GOOD_BH "; " GOOD_B,
         TM_DKIM_E_SYNTAX, "bad l= value"},
        {"v=1; a=rsa-sha256; d=example.com; s=x; h=from; t=20; x=10; " GOOD_BH "; " GOOD_B,
         TM_DKIM_E_SYNTAX, "bad x= value"},
        {"v=1; a=rsa-sha256; d=example.com; s=x; h=from; " GOOD_BH "; b=!!", TM_DKIM_E_SYNTAX,
         "bad b= value"},
        {"v=1; a=rsa-sha256; d=example.com; s=x; h=from; " GOOD_BH "; b=", TM_DKIM_E_SYNTAX,
         "bad b= value"},
    };
    struct fixture f;
    struct tm_dkim_results r;
    struct tm_dkim_verify *v;
    unsigned char *m, *t;
    size_t n, tn, i;

    REQUIRE(setup(&f) == 0);
    REQUIRE((m = tu_read(DKIMPY, "rfc6376.signed.rsa.msg", &n)) != NULL);
    for (i = 0; i < TM_NELEM(cases); i++) {
        REQUIRE((t = with_sig(m, n, cases[i].tags, &tn)) != NULL);
        REQUIRE(tm_dkim_verify_begin(f.a, &f.cfg, t, tn, &v) == TM_OK);
        CHECK_EQ_SIZE(tm_dkim_verify_nqueries(v), 1); /* only the good one below asks */
        REQUIRE(tm_dkim_verify_answer(v, 0, TM_DNS_OK, f.test_txt, strlen(f.test_txt)) == TM_OK);
        REQUIRE(tm_dkim_verify_finish(v, &r) == TM_OK);
        REQUIRE(r.n == 2);
        if (r.sig[0].why != cases[i].why)
            tm_test_fail(__FILE__, __LINE__, "case %zu: why %d, want %d (%s)", i, (int)r.sig[0].why,
                         (int)cases[i].why, r.sig[0].reason);
        CHECK_STR(r.sig[0].reason, cases[i].reason);
        CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PERMERROR);
        CHECK_EQ_INT(r.sig[1].result, TM_DKIM_PASS); /* the bad one spoils nothing */
        free(t);
    }
    free(m);
    teardown(&f);
}

TM_TEST(verify_limits)
{
    struct fixture f;
    struct tm_dkim_results r;
    unsigned char *m;
    size_t n;

    REQUIRE(setup(&f) == 0);
    REQUIRE((m = tu_read(DKIMPY, "rfc6376.signed.msg", &n)) != NULL);
    f.cfg.max_signatures = 1;
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    REQUIRE(r.n == 2);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
    CHECK_EQ_INT(r.sig[1].result, TM_DKIM_NEUTRAL);
    CHECK_EQ_INT(r.sig[1].why, TM_DKIM_E_LIMIT);
    CHECK_STR(r.sig[1].reason, "not checked: more than 1 signatures");
    CHECK_STR(r.sig[1].domain, "football.example.com"); /* still reported */
    f.cfg.max_signatures = 16;
    f.cfg.max_reported = 1;
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_SIZE(r.n, 1);
    CHECK_EQ_SIZE(r.ignored, 1);
    f.cfg.max_reported = 64;
    f.cfg.max_field_len = 100;
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PERMERROR);
    CHECK_STR(r.sig[0].reason, "signature field too long");
    /* header fields past the limit are not seen: the signed ones below are missing */
    f.cfg.max_field_len = 16384;
    f.cfg.max_header_fields = 4;
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_SIGNATURE);
    free(m);
    teardown(&f);
}

TM_TEST(verify_shared_key_and_header_b)
{
    struct fixture f;
    struct tm_dkim_results r;
    struct tm_dkim_verify *v;
    unsigned char *m, *m2, *both;
    const unsigned char *end;
    size_t n, n2, sl;

    REQUIRE(setup(&f) == 0);
    /* Mail::DKIM's signature field on top of OpenDKIM's message: same key, same body */
    REQUIRE((m = tu_read(OURS, "opendkim-rsa-sha1.eml", &n)) != NULL);
    REQUIRE((m2 = tu_read(OURS, "maildkim-sha1-simple.eml", &n2)) != NULL);
    REQUIRE((end = memchr(m2, '\n', n2)) != NULL);
    sl = (size_t)(end - m2) + 1;
    REQUIRE((both = malloc(sl + n)) != NULL);
    memcpy(both, m2, sl);
    memcpy(both + sl, m, n);
    REQUIRE(tm_dkim_verify_begin(f.a, &f.cfg, both, sl + n, &v) == TM_OK);
    CHECK_EQ_SIZE(tm_dkim_verify_nqueries(v), 1);
    free(both);
    /* two b= values sharing 16 characters get 17-character header.b prefixes */
    REQUIRE((both = with_sig(m, n,
                             "v=1; a=rsa-sha256; d=example.com; s=x; h=from; " GOOD_BH
                             "; b=QUFBQUFBQUFBQUFBQUFBQUJC",
                             &n2)) != NULL);
    REQUIRE((m2 = realloc(m2, n2 + 200)) != NULL);
    snprintf((char *)m2, 200,
             "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=x; h=from; " GOOD_BH
             "; b=QUFBQUFBQUFBQUFBQUFBQUND\n");
    sl = strlen((char *)m2);
    memcpy(m2 + sl, both, n2);
    REQUIRE(verify(&f, m2, sl + n2, &r) == TM_OK);
    REQUIRE(r.n == 3);
    CHECK_STR(r.sig[0].header_b, "QUFBQUFBQUFBQUFBQUFBQUN");
    CHECK_STR(r.sig[1].header_b, "QUFBQUFBQUFBQUFBQUFBQUJ");
    CHECK_STR(r.sig[2].header_b, "pbec5CZt");
    free(both);
    free(m2);
    free(m);
    teardown(&f);
}

TM_TEST(verify_no_signature)
{
    struct fixture f;
    struct tm_dkim_results r;
    unsigned char *m;
    size_t n;

    REQUIRE(setup(&f) == 0);
    REQUIRE((m = tu_read(DKIMPY, "test.message", &n)) != NULL);
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    CHECK_EQ_SIZE(r.n, 0);
    CHECK_EQ_SIZE(r.ignored, 0);
    REQUIRE(verify(&f, (const unsigned char *)"", 0, &r) == TM_OK);
    CHECK_EQ_SIZE(r.n, 0);
    free(m);
    teardown(&f);
}

/*
 * verify_arena_budgets - with every arena budget from tiny to enough, a run
 * ends in TM_OK or TM_ENOMEM (tier 2), never a crash; the largest passes.
 */
TM_TEST(verify_arena_budgets)
{
    struct fixture f;
    struct tm_dkim_results r;
    unsigned char *m;
    size_t n, budget;
    int ok = 0, nomem = 0;

    REQUIRE(setup(&f) == 0);
    REQUIRE((m = tu_read(DKIMPY, "rfc6376.signed.msg", &n)) != NULL);
    for (budget = 64; budget <= (256u << 10); budget += budget / 8 + 16) {
        struct tm_arena *a = tm_arena_new(budget);
        tm_rc rc;

        REQUIRE(a != NULL);
        rc = tu_verify(a, &f.cfg, m, n, f.keys, f.nkeys, &r);
        if (rc == TM_OK) {
            ok++;
            CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
            CHECK_EQ_INT(r.sig[1].result, TM_DKIM_PASS);
        } else {
            CHECK_EQ_INT(rc, TM_ENOMEM);
            nomem++;
        }
        tm_arena_free(a);
    }
    CHECK(ok > 0);
    CHECK(nomem > 0);
    free(m);
    teardown(&f);
}

TM_TEST(verify_ar_text)
{
    struct fixture f;
    struct tm_dkim_results r;
    unsigned char *m, *t;
    size_t n, tn;
    char *ar;

    REQUIRE(setup(&f) == 0);
    REQUIRE((m = tu_read(DKIMPY, "rfc6376.signed.msg", &n)) != NULL);
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    REQUIRE(tm_dkim_ar(f.a, &r.sig[1], &ar) == TM_OK);
    CHECK_STR(ar, "dkim=pass (1024-bit key) header.d=football.example.com "
                  "header.i=@football.example.com header.s=test header.a=rsa-sha256 "
                  "header.b=icKcLSEZ");
    REQUIRE((t = with_sig(m, n,
                          "v=1; a=rsa-sha256; d=legit.com(\"x\\.attacker.com; s=x; h=from; " GOOD_BH
                          "; " GOOD_B,
                          &tn)) != NULL);
    REQUIRE(verify(&f, t, tn, &r) == TM_OK);
    REQUIRE(tm_dkim_ar(f.a, &r.sig[0], &ar) == TM_OK);
    CHECK_STR(
        ar, "dkim=permerror reason=\"bad d= domain\" header.d=\"legit.com(\\\"x\\\\.attacker.com\" "
            "header.s=x header.a=rsa-sha256 "
            /* it shares all of its b= with the real signature below */
            "header.b=icKcLSEZYXJ95flvWE8FT6hl5iqd8MC/LEKYH0QjsqYy6MO/4pgVNCZH");
    free(t);
    free(m);
    REQUIRE((m = tu_read(OURS, "dkimpy-length.eml", &n)) != NULL);
    REQUIRE(verify(&f, m, n, &r) == TM_OK);
    REQUIRE(tm_dkim_ar(f.a, &r.sig[0], &ar) == TM_OK);
    CHECK(strncmp(ar, "dkim=pass (1024-bit key; partial body (l=)) header.d=example.com", 64) == 0);
    free(m);
    teardown(&f);
}

/* zone_txt - a TXT record in master-file syntax: strings of at most 255 bytes */
static void
zone_txt(FILE *fp, const char *name, const char *txt)
{
    size_t n = strlen(txt), i;

    fprintf(fp, "%s. IN TXT (", name);
    for (i = 0; i < n; i += 200)
        fprintf(fp, " \"%.*s\"", (int)(n - i < 200 ? n - i : 200), txt + i);
    fprintf(fp, " )\n");
}

/*
 * verify_with_dns_zone - both phases through scanner/dns with the zone-file
 * resolver (tm_dkim_verify_with_dns, tm_arc_verify_with_dns): the records
 * split into several strings come back joined, a missing name is NXDOMAIN,
 * and the message's lookup budget bounds the queries.
 */
TM_TEST(verify_with_dns_zone)
{
    struct fixture f;
    struct tm_dkim_results r;
    struct tm_arc_result ar;
    struct tm_dns *dns;
    struct tm_dns_budget budget;
    char path[] = "/tmp/tamis-dkim-zone-XXXXXX", err[256];
    unsigned char *m, *arc;
    size_t n, an;
    FILE *fp;
    int fd;

    REQUIRE(setup(&f) == 0);
    REQUIRE((fd = mkstemp(path)) >= 0);
    REQUIRE((fp = fdopen(fd, "w")) != NULL);
    fprintf(fp, "$TTL 300\n");
    zone_txt(fp, "test._domainkey.football.example.com", f.test_txt);
    zone_txt(fp, "brisbane._domainkey.football.example.com", BRISBANE_KEY);
    zone_txt(fp, "test._domainkey.example.com", f.test_txt);
    zone_txt(fp, "sel._domainkey.example.com", f.sel_txt);
    fclose(fp);
    if (tm_dns_new_zone(path, &dns, err, sizeof(err)) != TM_OK) {
        unlink(path);
        tm_test_fail(__FILE__, __LINE__, "tm_dns_new_zone: %s", err);
        teardown(&f);
        return;
    }
    unlink(path);
    REQUIRE((m = tu_read(DKIMPY, "rfc6376.signed.msg", &n)) != NULL);
    REQUIRE((arc = tu_read(OURS, "dkimpy-arc2.eml", &an)) != NULL);
    REQUIRE(tm_dkim_verify_with_dns(f.a, &f.cfg, m, n, dns, NULL, &r) == TM_OK);
    REQUIRE(r.n == 2);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
    CHECK_EQ_INT(r.sig[1].result, TM_DKIM_PASS);
    REQUIRE(tm_arc_verify_with_dns(f.a, &f.cfg, arc, an, dns, NULL, &ar) == TM_OK);
    CHECK_EQ_INT(ar.cv, TM_ARC_PASS);
    /* a budget of one lookup: the second key is not asked for */
    memset(&budget, 0, sizeof(budget));
    budget.max_queries = 1;
    REQUIRE(tm_dkim_verify_with_dns(f.a, &f.cfg, m, n, dns, &budget, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
    CHECK_EQ_INT(r.sig[1].result, TM_DKIM_TEMPERROR);
    CHECK_STR(r.sig[1].reason, "DNS lookup limit reached");
    /* a name the zone lacks */
    free(m);
    REQUIRE((m = tu_read(DKIMPY, "test2.message", &n)) != NULL);
    REQUIRE(tm_dkim_verify_with_dns(f.a, &f.cfg, m, n, dns, NULL, &r) == TM_OK);
    CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_NOKEY);
    tm_dns_free(dns);
    free(arc);
    free(m);
    teardown(&f);
}

const struct tm_test tests_dkim_verify[] = {
    TM_TEST_ENTRY(verify_rfc8463_both_pass),
    TM_TEST_ENTRY(verify_other_signers),
    TM_TEST_ENTRY(verify_tampered_body),
    TM_TEST_ENTRY(verify_tampered_header),
    TM_TEST_ENTRY(verify_key_size),
    TM_TEST_ENTRY(verify_key_flags),
    TM_TEST_ENTRY(verify_revoked_and_bad_keys),
    TM_TEST_ENTRY(verify_dns_statuses),
    TM_TEST_ENTRY(verify_body_length),
    TM_TEST_ENTRY(verify_sha1_weak),
    TM_TEST_ENTRY(verify_times),
    TM_TEST_ENTRY(verify_signature_syntax),
    TM_TEST_ENTRY(verify_limits),
    TM_TEST_ENTRY(verify_shared_key_and_header_b),
    TM_TEST_ENTRY(verify_no_signature),
    TM_TEST_ENTRY(verify_arena_budgets),
    TM_TEST_ENTRY(verify_with_dns_zone),
    TM_TEST_ENTRY(verify_ar_text),
    TM_TEST_END,
};
