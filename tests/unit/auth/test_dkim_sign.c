/*
 * test_dkim_sign.c - keys and signing. Known answers: re-signing the two
 * signatures of RFC 8463 appendix A (dkimpy's rfc6376.signed.msg) with
 * their private keys gives their b= byte for byte (Ed25519 and RSA
 * PKCS#1 v1.5 are deterministic); the public records made from dkimpy's
 * private keys equal the ones dkimpy ships. Then round trips with every
 * option, and the errors.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auth/dkim.h"
#include "auth/dkim_int.h"
#include "core/arena.h"
#include "suites.h"

static struct tm_dkim_key *
load(const char *dir, const char *name)
{
    char path[1024], err[256];
    struct tm_dkim_key *k = NULL;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (tm_dkim_key_load(path, &k, err, sizeof(err)) != TM_OK)
        tm_test_fail(__FILE__, __LINE__, "%s: %s", path, err);
    return k;
}

/* p_of - the p= value of a record, NUL-terminated in buf */
static const char *
p_of(const char *rec, char *buf, size_t n)
{
    const char *p = strstr(rec, "p=");
    size_t k = 0;

    if (p == NULL)
        return "";
    for (p += 2; *p != '\0' && *p != ';' && k + 1 < n; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            buf[k++] = *p;
    buf[k] = '\0';
    return buf;
}

TM_TEST(key_records_match_dkimpy)
{
    static const struct {
        const char *key, *pub;
    } cases[] = {
        {"2048_testkey.key", "2048_testkey_wo_markers.pub.txt"},
        {"2048_testkey_PKCS8.key", "2048_testkey_PKCS8.key.pub.txt"},
        {"test.private", "test.txt"},
        {"ed25519test.key", "ed25519test.dns"},
    };
    struct tm_arena *a = tm_arena_new(1u << 20);
    char mine[1024], theirs[1024];
    size_t i;

    REQUIRE(a != NULL);
    for (i = 0; i < TM_NELEM(cases); i++) {
        struct tm_dkim_key *k = load(DKIMPY, cases[i].key);
        char *rec, *pub = tu_read_record(DKIMPY, cases[i].pub);

        REQUIRE(k != NULL && pub != NULL);
        REQUIRE(tm_dkim_key_record(a, k, &rec) == TM_OK);
        CHECK_STR(p_of(rec, mine, sizeof(mine)), p_of(pub, theirs, sizeof(theirs)));
        CHECK(strncmp(rec, "v=DKIM1; k=", 11) == 0);
        free(pub);
        tm_dkim_key_free(k);
    }
    tm_arena_free(a);
}

TM_TEST(key_properties)
{
    struct tm_dkim_key *k;
    struct tm_arena *a = tm_arena_new(1u << 20);
    char *rec;

    REQUIRE(a != NULL);
    REQUIRE((k = load(DKIMPY, "2048_testkey.key")) != NULL);
    CHECK_EQ_INT(tm_dkim_key_alg(k), TM_DKIM_RSA_SHA256);
    CHECK_EQ_INT(tm_dkim_key_bits(k), 2048);
    tm_dkim_key_free(k);
    /* RFC 8032 7.1 TEST 1, the key of RFC 8463's brisbane selector */
    REQUIRE((k = load(DKIMPY, "rfc8032_7_1.key")) != NULL);
    CHECK_EQ_INT(tm_dkim_key_alg(k), TM_DKIM_ED25519_SHA256);
    REQUIRE(tm_dkim_key_record(a, k, &rec) == TM_OK);
    CHECK_STR(rec, "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    tm_dkim_key_free(k);
    tm_arena_free(a);
}

TM_TEST(key_errors)
{
    struct tm_dkim_key *k = NULL;
    char err[256];
    EVP_PKEY *pk;
    BIO *bio;
    char *pem;
    long n;

    CHECK_EQ_INT(tm_dkim_key_load("/nonexistent/key.pem", &k, err, sizeof(err)), TM_EIO);
    CHECK(k == NULL);
    CHECK_EQ_INT(tm_dkim_key_parse(TM_LIT("not a key"), &k, err, sizeof(err)), TM_EINVAL);
    CHECK_EQ_INT(tm_dkim_key_parse(TM_LIT("-----BEGIN PRIVATE KEY-----\nAAAA\n"
                                          "-----END PRIVATE KEY-----\n"),
                                   &k, err, sizeof(err)),
                 TM_EINVAL);
    CHECK_EQ_INT(tm_dkim_key_parse(TM_LIT(""), &k, err, sizeof(err)), TM_EINVAL);
    /* an encrypted PEM is refused, never prompted for */
    REQUIRE((pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) != NULL);
    REQUIRE((bio = BIO_new(BIO_s_mem())) != NULL);
    REQUIRE(PEM_write_bio_PrivateKey(bio, pk, EVP_aes_128_cbc(), (unsigned char *)"secret", 6, NULL,
                                     NULL) == 1);
    n = BIO_get_mem_data(bio, &pem);
    CHECK_EQ_INT(tm_dkim_key_parse((unsigned char *)pem, (size_t)n, &k, err, sizeof(err)),
                 TM_EINVAL);
    BIO_free(bio);
    /* the same key unencrypted is fine */
    REQUIRE((bio = BIO_new(BIO_s_mem())) != NULL);
    REQUIRE(PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) == 1);
    n = BIO_get_mem_data(bio, &pem);
    CHECK_EQ_INT(tm_dkim_key_parse((unsigned char *)pem, (size_t)n, &k, err, sizeof(err)), TM_OK);
    tm_dkim_key_free(k);
    BIO_free(bio);
    EVP_PKEY_free(pk);
}

/*
 * resign - the b= of the index-th DKIM-Signature of msg made again: the
 * header hash by the engine, signed with key, base64; compared with the
 * b= as written (FWS removed).
 */
static void
resign(const unsigned char *msg, size_t len, size_t index, const struct tm_dkim_key *key,
       enum tm_dkim_alg alg)
{
    struct tm_arena *a = tm_arena_new(1u << 20);
    struct dkim_msg m;
    struct dkim_tag t[TM_DKIM_MAX_TAGS];
    const struct dkim_tag *h, *b;
    const struct dkim_field *f = NULL;
    struct dkim_hash *hh;
    unsigned char hash[DKIM_MAX_HASH], sig[1024];
    char mine[2048], theirs[2048];
    const char *why;
    size_t i, n, k = 0, hl, sl;

    REQUIRE(a != NULL);
    REQUIRE(dkim_msg_parse(a, msg, len, 100, &m) == TM_OK);
    for (i = 0; i < m.nf; i++)
        if (dkim_field_is(&m.f[i], "dkim-signature") && k++ == index)
            f = &m.f[i];
    REQUIRE(f != NULL);
    REQUIRE(dkim_tags_parse(f->p + f->valoff, dkim_field_value_len(f), t, TM_NELEM(t), &n, &why) ==
            0);
    REQUIRE((h = dkim_tag_find(t, n, "h")) != NULL && (b = dkim_tag_find(t, n, "b")) != NULL);
    REQUIRE((hh = dkim_hash_new(alg)) != NULL);
    REQUIRE(dkim_hash_signed(a, &m, TM_DKIM_SIMPLE, h->val, h->vallen, f, hh) == TM_OK);
    REQUIRE(dkim_hash_self(a, TM_DKIM_SIMPLE, f->p, f->len, f->valoff + b->eq, f->valoff + b->vend,
                           hh) == TM_OK);
    hl = dkim_hash_final(hh, hash);
    dkim_hash_free(hh);
    REQUIRE(dkim_sign_hash(key, alg, hash, hl, sig, sizeof(sig), &sl) == 0);
    dkim_b64_encode(sig, sl, mine);
    for (i = 0, k = 0; i < b->vallen; i++)
        if (b->val[i] > ' ')
            theirs[k++] = (char)b->val[i];
    theirs[k] = '\0';
    CHECK_STR(mine, theirs);
    tm_arena_free(a);
}

TM_TEST(sign_known_answers_rfc8463)
{
    struct tm_dkim_key *ed = load(DKIMPY, "rfc8032_7_1.key");
    struct tm_dkim_key *rsa = load(DKIMPY, "test.private");
    unsigned char *m;
    size_t n;

    REQUIRE(ed != NULL && rsa != NULL);
    REQUIRE((m = tu_read(DKIMPY, "rfc6376.signed.msg", &n)) != NULL);
    resign(m, n, 0, ed, TM_DKIM_ED25519_SHA256);
    resign(m, n, 1, rsa, TM_DKIM_RSA_SHA256);
    free(m);
    tm_dkim_key_free(ed);
    tm_dkim_key_free(rsa);
}

struct signed_msg {
    char *hdr;
    size_t hlen;
    unsigned char *msg; /* hdr + message, malloc */
    size_t len;
};

static tm_rc
sign(struct tm_arena *a, const unsigned char *m, size_t n, const struct tm_dkim_sign_opts *o,
     struct signed_msg *s)
{
    char err[256];
    tm_rc rc = tm_dkim_sign(a, m, n, o, &s->hdr, &s->hlen, err, sizeof(err));

    s->msg = NULL;
    if (rc != TM_OK)
        return rc;
    s->len = s->hlen + n;
    if ((s->msg = malloc(s->len + 1)) == NULL)
        return TM_ENOMEM;
    memcpy(s->msg, s->hdr, s->hlen);
    memcpy(s->msg + s->hlen, m, n);
    return TM_OK;
}

static enum tm_dkim_result
check_with(struct tm_arena *a, const unsigned char *m, size_t n, const char *name, const char *rec,
           enum tm_dkim_why *why)
{
    struct tu_key key = {name, TM_DNS_OK, rec};
    struct tm_dkim_results r;

    if (tu_verify(a, NULL, m, n, &key, 1, &r) != TM_OK || r.n != 1)
        return TM_DKIM_NONE;
    *why = r.sig[0].why;
    return r.sig[0].result;
}

/* lines_ok - every line of the field at most 78 columns, CRLF or LF only, continuation WSP */
static void
lines_ok(const char *h, size_t n, int lf)
{
    size_t col = 0, i;

    for (i = 0; i < n; i++) {
        if (h[i] == '\n') {
            CHECK(lf ? (i == 0 || h[i - 1] != '\r') : (i > 0 && h[i - 1] == '\r'));
            CHECK_LE_SIZE(col, TM_DKIM_MAX_LINE + (lf ? 0 : 1));
            CHECK(i + 1 == n || h[i + 1] == ' ');
            col = 0;
            continue;
        }
        col++;
    }
    CHECK(n > 0 && h[n - 1] == '\n');
}

TM_TEST(sign_roundtrip_defaults)
{
    static const char *const keys[] = {"2048_testkey.key", "2048_testkey_PKCS8.key",
                                       "ed25519test.key", "rfc8032_7_1.key"};
    struct tm_arena *a = tm_arena_new(TU_ARENA);
    struct tm_dkim_sign_opts o;
    struct signed_msg s, s2;
    enum tm_dkim_why why = TM_DKIM_OK;
    unsigned char *m, *t;
    size_t n, i, tn;
    char *rec;

    REQUIRE(a != NULL);
    REQUIRE((m = tu_read(DKIMPY, "test.message", &n)) != NULL);
    for (i = 0; i < TM_NELEM(keys); i++) {
        struct tm_dkim_key *k = load(DKIMPY, keys[i]);

        REQUIRE(k != NULL);
        REQUIRE(tm_dkim_key_record(a, k, &rec) == TM_OK);
        tm_dkim_sign_opts_default(&o);
        o.domain = "example.com";
        o.selector = "sel";
        o.key = k;
        REQUIRE(sign(a, m, n, &o, &s) == TM_OK);
        CHECK(strncmp(s.hdr, "DKIM-Signature: v=1; a=", 23) == 0);
        CHECK(strstr(s.hdr, tm_dkim_alg_name(tm_dkim_key_alg(k))) != NULL);
        CHECK(strstr(s.hdr, "c=relaxed/relaxed;") != NULL);
        CHECK(strstr(s.hdr, "h=from:to:subject:date:message-id:from;") != NULL);
        lines_ok(s.hdr, s.hlen, 0);
        CHECK_EQ_INT(check_with(a, s.msg, s.len, "sel._domainkey.example.com", rec, &why),
                     TM_DKIM_PASS);
        /* tampered body and header fail, each with its reason */
        REQUIRE((t = tu_replace(s.msg, s.len, "a test message", "a best message", &tn)) != NULL);
        CHECK_EQ_INT(check_with(a, t, tn, "sel._domainkey.example.com", rec, &why), TM_DKIM_FAIL);
        CHECK_EQ_INT(why, TM_DKIM_E_BODY_HASH);
        free(t);
        REQUIRE((t = tu_replace(s.msg, s.len, "To: somebody", "To: someone", &tn)) != NULL);
        CHECK_EQ_INT(check_with(a, t, tn, "sel._domainkey.example.com", rec, &why), TM_DKIM_FAIL);
        CHECK_EQ_INT(why, TM_DKIM_E_SIGNATURE);
        free(t);
        /* deterministic: the same input signs the same */
        REQUIRE(sign(a, m, n, &o, &s2) == TM_OK);
        CHECK_MEM(s2.hdr, s2.hlen, s.hdr, s.hlen);
        free(s2.msg);
        free(s.msg);
        tm_dkim_key_free(k);
    }
    free(m);
    tm_arena_free(a);
}

TM_TEST(sign_options)
{
    struct tm_arena *a = tm_arena_new(TU_ARENA);
    struct tm_dkim_key *k = load(DKIMPY, "2048_testkey.key");
    struct tm_dkim_sign_opts o;
    struct signed_msg s;
    enum tm_dkim_why why = TM_DKIM_OK;
    unsigned char *m, *t;
    size_t n, tn;
    char *rec;

    REQUIRE(a != NULL && k != NULL);
    REQUIRE(tm_dkim_key_record(a, k, &rec) == TM_OK);
    REQUIRE((m = tu_read(DKIMPY, "test.message", &n)) != NULL);
    tm_dkim_sign_opts_default(&o);
    o.domain = "example.com";
    o.selector = "sel";
    o.key = k;
    o.headers = "Subject : From";
    o.oversign = "";
    o.hcanon = o.bcanon = TM_DKIM_SIMPLE;
    o.identity = "user@mail.example.com";
    o.t = 1700000000;
    o.x = 1700086400;
    o.body_length = 1;
    o.lf = 1;
    REQUIRE(sign(a, m, n, &o, &s) == TM_OK);
    CHECK(strstr(s.hdr, "c=simple/simple;") != NULL);
    CHECK(strstr(s.hdr, "h=subject:from;") != NULL);
    CHECK(strstr(s.hdr, "i=user@mail.example.com;") != NULL);
    CHECK(strstr(s.hdr, "t=1700000000;") != NULL);
    CHECK(strstr(s.hdr, "x=1700086400;") != NULL);
    CHECK(strstr(s.hdr, "l=25;") != NULL);
    CHECK(strchr(s.hdr, '\r') == NULL);
    lines_ok(s.hdr, s.hlen, 1);
    {
        struct tu_key key = {"sel._domainkey.example.com", TM_DNS_OK, rec};
        struct tm_dkim_config cfg;
        struct tm_dkim_results r;

        tm_dkim_config_default(&cfg);
        cfg.now = 1700000100;
        REQUIRE(tu_verify(a, &cfg, s.msg, s.len, &key, 1, &r) == TM_OK);
        CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
        CHECK_FLAGS(r.sig[0].flags, TM_DKIM_F_LENGTH);
        CHECK_NOFLAGS(r.sig[0].flags, TM_DKIM_F_PARTIAL);
        CHECK_STR(r.sig[0].identity, "user@mail.example.com");
        cfg.now = 1700086401;
        REQUIRE(tu_verify(a, &cfg, s.msg, s.len, &key, 1, &r) == TM_OK);
        CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_EXPIRED);
        /* simple header canonicalisation: refolding a signed field breaks it */
        cfg.now = 1700000100;
        REQUIRE((t = tu_replace(s.msg, s.len, "Subject: Testing", "Subject:\n Testing", &tn)) !=
                NULL);
        REQUIRE(tu_verify(a, &cfg, t, tn, &key, 1, &r) == TM_OK);
        CHECK_EQ_INT(r.sig[0].why, TM_DKIM_E_SIGNATURE);
        free(t);
        /* To is not signed here */
        REQUIRE((t = tu_replace(s.msg, s.len, "To: somebody", "To: someone", &tn)) != NULL);
        REQUIRE(tu_verify(a, &cfg, t, tn, &key, 1, &r) == TM_OK);
        CHECK_EQ_INT(r.sig[0].result, TM_DKIM_PASS);
        free(t);
    }
    free(s.msg);
    (void)why;
    free(m);
    tm_dkim_key_free(k);
    tm_arena_free(a);
}

TM_TEST(sign_repeated_and_oversigned)
{
    static const char msg[] = "Received: from a by b\r\n"
                              "Received: from c by d\r\n"
                              "From: x@example.com\r\n"
                              "Subject: hi\r\n"
                              "\r\n"
                              "body\r\n";
    struct tm_arena *a = tm_arena_new(TU_ARENA);
    struct tm_dkim_key *k = load(DKIMPY, "ed25519test.key");
    struct tm_dkim_sign_opts o;
    struct signed_msg s;
    enum tm_dkim_why why = TM_DKIM_OK;
    unsigned char *t;
    size_t tn;
    char *rec;

    REQUIRE(a != NULL && k != NULL);
    REQUIRE(tm_dkim_key_record(a, k, &rec) == TM_OK);
    tm_dkim_sign_opts_default(&o);
    o.domain = "example.com";
    o.selector = "s1";
    o.key = k;
    o.headers = "received:from:subject:received"; /* a repeat in the list counts once */
    REQUIRE(sign(a, TM_LIT(msg), &o, &s) == TM_OK);
    CHECK(strstr(s.hdr, "h=received:received:from:subject:from;") != NULL);
    CHECK_EQ_INT(check_with(a, s.msg, s.len, "s1._domainkey.example.com", rec, &why), TM_DKIM_PASS);
    /* a third Received on top is not covered: still a pass */
    REQUIRE((t = tu_replace(s.msg, s.len, "Received: from a",
                            "Received: from z\r\nReceived: from a", &tn)) != NULL);
    CHECK_EQ_INT(check_with(a, t, tn, "s1._domainkey.example.com", rec, &why), TM_DKIM_PASS);
    free(t);
    free(s.msg);
    /* over-signed, it is */
    o.oversign = "from:received";
    REQUIRE(sign(a, TM_LIT(msg), &o, &s) == TM_OK);
    CHECK(strstr(s.hdr, "h=received:received:from:subject:from:received;") != NULL);
    REQUIRE((t = tu_replace(s.msg, s.len, "Received: from a",
                            "Received: from z\r\nReceived: from a", &tn)) != NULL);
    CHECK_EQ_INT(check_with(a, t, tn, "s1._domainkey.example.com", rec, &why), TM_DKIM_FAIL);
    CHECK_EQ_INT(why, TM_DKIM_E_SIGNATURE);
    free(t);
    free(s.msg);
    tm_dkim_key_free(k);
    tm_arena_free(a);
}

TM_TEST(sign_errors)
{
    struct tm_arena *a = tm_arena_new(TU_ARENA);
    struct tm_dkim_key *k = load(DKIMPY, "2048_testkey.key");
    struct tm_dkim_sign_opts o;
    char *hdr, err[256];
    size_t hl;

    REQUIRE(a != NULL && k != NULL);
    tm_dkim_sign_opts_default(&o);
    o.domain = "example.com";
    o.selector = "sel";
    o.key = k;
    CHECK_EQ_INT(tm_dkim_sign(a, TM_LIT("To: a@b\r\n\r\nx\r\n"), &o, &hdr, &hl, err, sizeof(err)),
                 TM_EINVAL); /* no From */
    CHECK(strstr(err, "From") != NULL);
    /* a folded first line would join the new field on top (found by fuzz_engine) */
    CHECK_EQ_INT(
        tm_dkim_sign(a, TM_LIT(" x\r\nFrom: a@b\r\n\r\nx\r\n"), &o, &hdr, &hl, err, sizeof(err)),
        TM_EINVAL);
    CHECK(strstr(err, "folded line") != NULL);
    CHECK_EQ_INT(tm_dkim_sign(a, TM_LIT("\tx\nFrom: a@b\n\nx\n"), &o, &hdr, &hl, err, sizeof(err)),
                 TM_EINVAL);
    o.headers = "to:subject";
    CHECK_EQ_INT(tm_dkim_sign(a, TM_LIT("From: a@b\r\n\r\nx\r\n"), &o, &hdr, &hl, err, sizeof(err)),
                 TM_EINVAL); /* From not listed */
    o.headers = NULL;
    o.identity = "a@example.org";
    CHECK_EQ_INT(tm_dkim_sign(a, TM_LIT("From: a@b\r\n\r\nx\r\n"), &o, &hdr, &hl, err, sizeof(err)),
                 TM_EINVAL);
    o.identity = NULL;
    o.t = 100;
    o.x = 100;
    CHECK_EQ_INT(tm_dkim_sign(a, TM_LIT("From: a@b\r\n\r\nx\r\n"), &o, &hdr, &hl, err, sizeof(err)),
                 TM_EINVAL);
    o.t = o.x = -1;
    o.domain = "bad domain";
    CHECK_EQ_INT(tm_dkim_sign(a, TM_LIT("From: a@b\r\n\r\nx\r\n"), &o, &hdr, &hl, err, sizeof(err)),
                 TM_EINVAL);
    o.domain = "example.com";
    o.headers = "from:bad name";
    CHECK_EQ_INT(tm_dkim_sign(a, TM_LIT("From: a@b\r\n\r\nx\r\n"), &o, &hdr, &hl, err, sizeof(err)),
                 TM_EINVAL);
    o.headers = NULL;
    CHECK_EQ_INT(tm_dkim_sign(a, TM_LIT("From: a@b\r\n\r\nx\r\n"), &o, &hdr, &hl, NULL, 0), TM_OK);
    tm_dkim_key_free(k);
    tm_arena_free(a);
}

const struct tm_test tests_dkim_sign[] = {
    TM_TEST_ENTRY(key_records_match_dkimpy),
    TM_TEST_ENTRY(key_properties),
    TM_TEST_ENTRY(key_errors),
    TM_TEST_ENTRY(sign_known_answers_rfc8463),
    TM_TEST_ENTRY(sign_roundtrip_defaults),
    TM_TEST_ENTRY(sign_options),
    TM_TEST_ENTRY(sign_repeated_and_oversigned),
    TM_TEST_ENTRY(sign_errors),
    TM_TEST_END,
};
