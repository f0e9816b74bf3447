/*
 * dkim_crypto.c - the OpenSSL side of DKIM and ARC: SHA-1/SHA-256 hashing,
 * public keys from key records, RSA PKCS#1 v1.5 and Ed25519 (RFC 8463)
 * signatures, and private keys for signing.
 *
 * Both algorithms sign the hash of the canonical header data: RSA through
 * EVP_PKEY_sign/verify with the digest named (so the DigestInfo is built
 * by OpenSSL), Ed25519 as PureEdDSA over the 32 hash bytes (EVP_DigestSign
 * with no digest). An EVP_PKEY is only read once loaded, so one key serves
 * every thread; each operation makes its own context.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "auth/dkim_int.h"
#include "core/arena.h"

#define ED25519_LEN 32

struct dkim_hash {
    EVP_MD_CTX *md;
};

struct tm_dkim_key {
    EVP_PKEY *pkey;
    enum tm_dkim_alg alg;
    unsigned bits;
};

static const EVP_MD *
alg_md(enum tm_dkim_alg alg)
{
    return alg == TM_DKIM_RSA_SHA1 ? EVP_sha1() : EVP_sha256();
}

struct dkim_hash *
dkim_hash_new(enum tm_dkim_alg alg)
{
    struct dkim_hash *h = tm_calloc(1, sizeof(*h));

    if (h == NULL)
        return NULL;
    if ((h->md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(h->md, alg_md(alg), NULL) != 1) {
        EVP_MD_CTX_free(h->md);
        tm_free(h);
        ERR_clear_error();
        return NULL;
    }
    return h;
}

void
dkim_hash_put(void *ud, const unsigned char *p, size_t n)
{
    struct dkim_hash *h = ud;

    if (n > 0)
        (void)EVP_DigestUpdate(h->md, p, n);
}

size_t
dkim_hash_final(struct dkim_hash *h, unsigned char out[DKIM_MAX_HASH])
{
    unsigned n = 0;

    if (EVP_DigestFinal_ex(h->md, out, &n) != 1) {
        ERR_clear_error();
        return 0;
    }
    return n;
}

void
dkim_hash_free(struct dkim_hash *h)
{
    if (h == NULL)
        return;
    EVP_MD_CTX_free(h->md);
    tm_free(h);
}

/*
 * dkim_pubkey_parse - RFC 6376 3.6.1 says p= is an RSAPublicKey, but what
 * signers publish (and 3.3.1's example) is a SubjectPublicKeyInfo; take
 * either, and nothing after the DER. Ed25519 keys are the 32 raw bytes.
 */
int
dkim_pubkey_parse(int ed25519, const unsigned char *der, size_t n, struct dkim_pubkey *k)
{
    const unsigned char *p = der;
    EVP_PKEY *pk = NULL;

    k->pkey = NULL;
    k->bits = 0;
    if (ed25519) {
        if (n != ED25519_LEN)
            return -1;
        pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, n);
        if (pk == NULL) {
            ERR_clear_error();
            return -1;
        }
        k->pkey = pk;
        k->bits = 256;
        return 0;
    }
    if (n == 0 || n > (size_t)TM_DKIM_MAX_KEY_RECORD)
        return -1;
    pk = d2i_PUBKEY(NULL, &p, (long)n);
    if (pk != NULL && (p != der + n || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)) {
        EVP_PKEY_free(pk);
        pk = NULL;
    }
    if (pk == NULL) {
        p = der;
        pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)n);
        if (pk != NULL && p != der + n) {
            EVP_PKEY_free(pk);
            pk = NULL;
        }
    }
    ERR_clear_error();
    if (pk == NULL)
        return -1;
    k->pkey = pk;
    k->bits = (unsigned)EVP_PKEY_get_bits(pk);
    return 0;
}

void
dkim_pubkey_free(struct dkim_pubkey *k)
{
    EVP_PKEY_free(k->pkey);
    k->pkey = NULL;
}

int
dkim_verify_hash(const struct dkim_pubkey *k, enum tm_dkim_alg alg, const unsigned char *h,
                 size_t hlen, const unsigned char *sig, size_t siglen)
{
    EVP_PKEY *pk = k->pkey;
    int rc = -1;

    if (alg == TM_DKIM_ED25519_SHA256) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();

        if (md != NULL && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) == 1)
            rc = EVP_DigestVerify(md, sig, siglen, h, hlen) == 1 ? 1 : 0;
        EVP_MD_CTX_free(md);
    } else {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);

        if (ctx != NULL && EVP_PKEY_verify_init(ctx) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
            EVP_PKEY_CTX_set_signature_md(ctx, alg_md(alg)) == 1)
            rc = EVP_PKEY_verify(ctx, sig, siglen, h, hlen) == 1 ? 1 : 0;
        EVP_PKEY_CTX_free(ctx);
    }
    ERR_clear_error();
    return rc;
}

int
dkim_sign_hash(const struct tm_dkim_key *k, enum tm_dkim_alg alg, const unsigned char *h,
               size_t hlen, unsigned char *sig, size_t cap, size_t *siglen)
{
    int rc = -1;
    size_t n = cap;

    if (alg == TM_DKIM_ED25519_SHA256) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();

        if (md != NULL && EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) == 1 &&
            EVP_DigestSign(md, sig, &n, h, hlen) == 1)
            rc = 0;
        EVP_MD_CTX_free(md);
    } else {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->pkey, NULL);

        if (ctx != NULL && EVP_PKEY_sign_init(ctx) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
            EVP_PKEY_CTX_set_signature_md(ctx, alg_md(alg)) == 1 &&
            EVP_PKEY_sign(ctx, NULL, &n, h, hlen) == 1 && n <= cap &&
            EVP_PKEY_sign(ctx, sig, &n, h, hlen) == 1)
            rc = 0;
        EVP_PKEY_CTX_free(ctx);
    }
    ERR_clear_error();
    *siglen = rc == 0 ? n : 0;
    return rc;
}

/* ---- private keys ---- */

/* no_pass - the PEM passphrase callback: encrypted keys are refused, never prompted for */
static int
no_pass(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* has_pem - the text has a PEM armour line */
static int
has_pem(const unsigned char *p, size_t len)
{
    static const char arm[] = "-----BEGIN";
    size_t i;

    for (i = 0; i + sizeof(arm) - 1 <= len; i++)
        if (memcmp(p + i, arm, sizeof(arm) - 1) == 0)
            return 1;
    return 0;
}

static void
seterr(char *err, size_t errlen, const char *msg)
{
    if (err != NULL && errlen > 0)
        (void)snprintf(err, errlen, "%s", msg);
}

/*
 * tm_dkim_key_parse - PEM first (PEM_read_bio_PrivateKey knows PKCS#1
 * "RSA PRIVATE KEY" and PKCS#8 "PRIVATE KEY" for both algorithms); without
 * a PEM armour, base64 text that decodes to 32 bytes is dkimpy's raw
 * Ed25519 seed, and other DER is tried as any private key.
 */
tm_rc
tm_dkim_key_parse(const unsigned char *p, size_t len, struct tm_dkim_key **out, char *err,
                  size_t errlen)
{
    EVP_PKEY *pk = NULL;
    struct tm_dkim_key *k;
    int id;

    *out = NULL;
    if (len == 0 || len > DKIM_MAX_FILE) {
        seterr(err, errlen, "empty or oversized key file");
        return TM_EINVAL;
    }
    if (has_pem(p, len)) {
        BIO *bio = BIO_new_mem_buf(p, (int)len);

        if (bio != NULL)
            pk = PEM_read_bio_PrivateKey(bio, NULL, no_pass, NULL);
        BIO_free(bio);
    } else {
        unsigned char *der = tm_xmalloc(len);
        size_t n = dkim_b64_decode(p, len, der, len);

        if (n == ED25519_LEN) {
            pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, der, n);
        } else if (n != (size_t)-1 && n > 0) {
            const unsigned char *d = der;
            pk = d2i_AutoPrivateKey(NULL, &d, (long)n);
        }
        OPENSSL_cleanse(der, len);
        tm_free(der);
    }
    ERR_clear_error();
    if (pk == NULL) {
        seterr(err, errlen, "not a usable private key (PEM RSA or Ed25519, unencrypted)");
        return TM_EINVAL;
    }
    id = EVP_PKEY_get_base_id(pk);
    if (id != EVP_PKEY_RSA && id != EVP_PKEY_ED25519) {
        EVP_PKEY_free(pk);
        seterr(err, errlen, "key type is neither RSA nor Ed25519");
        return TM_EINVAL;
    }
    if (id == EVP_PKEY_RSA && EVP_PKEY_get_bits(pk) < 1024) {
        EVP_PKEY_free(pk);
        seterr(err, errlen, "RSA key smaller than 1024 bits");
        return TM_EINVAL;
    }
    k = tm_xcalloc(1, sizeof(*k));
    k->pkey = pk;
    k->alg = id == EVP_PKEY_RSA ? TM_DKIM_RSA_SHA256 : TM_DKIM_ED25519_SHA256;
    k->bits = id == EVP_PKEY_RSA ? (unsigned)EVP_PKEY_get_bits(pk) : 256;
    *out = k;
    return TM_OK;
}

tm_rc
tm_dkim_key_load(const char *path, struct tm_dkim_key **out, char *err, size_t errlen)
{
    unsigned char *buf;
    size_t n;
    FILE *fp;
    tm_rc rc;

    *out = NULL;
    if ((fp = fopen(path, "rb")) == NULL) {
        if (err != NULL && errlen > 0)
            (void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return TM_EIO;
    }
    buf = tm_xmalloc(DKIM_MAX_FILE + 1);
    n = fread(buf, 1, DKIM_MAX_FILE + 1, fp);
    if (ferror(fp)) {
        if (err != NULL && errlen > 0)
            (void)snprintf(err, errlen, "%s: read error", path);
        rc = TM_EIO;
    } else if (n > DKIM_MAX_FILE) {
        if (err != NULL && errlen > 0)
            (void)snprintf(err, errlen, "%s: larger than %u bytes", path, DKIM_MAX_FILE);
        rc = TM_EINVAL;
    } else {
        rc = tm_dkim_key_parse(buf, n, out, err, errlen);
    }
    (void)fclose(fp);
    OPENSSL_cleanse(buf, DKIM_MAX_FILE + 1);
    tm_free(buf);
    return rc;
}

void
tm_dkim_key_free(struct tm_dkim_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey);
    tm_free(k);
}

enum tm_dkim_alg
tm_dkim_key_alg(const struct tm_dkim_key *k)
{
    return k->alg;
}

unsigned
tm_dkim_key_bits(const struct tm_dkim_key *k)
{
    return k->bits;
}

/* tm_dkim_key_record - SubjectPublicKeyInfo for RSA (what everyone publishes), raw for Ed25519 */
tm_rc
tm_dkim_key_record(struct tm_arena *a, const struct tm_dkim_key *k, char **out)
{
    unsigned char *der = NULL;
    unsigned char raw[ED25519_LEN];
    const unsigned char *pub;
    size_t n;
    char *b64, *rec;
    int dn;

    *out = NULL;
    if (k->alg == TM_DKIM_ED25519_SHA256) {
        n = sizeof(raw);
        if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &n) != 1) {
            ERR_clear_error();
            return TM_EINVAL;
        }
        pub = raw;
    } else {
        if ((dn = i2d_PUBKEY(k->pkey, &der)) <= 0) {
            ERR_clear_error();
            return TM_EINVAL;
        }
        pub = der;
        n = (size_t)dn;
    }
    b64 = tm_arena_alloc(a, DKIM_B64_LEN(n));
    rec = b64 != NULL ? tm_arena_alloc(a, DKIM_B64_LEN(n) + 32) : NULL;
    if (rec != NULL) {
        (void)dkim_b64_encode(pub, n, b64);
        (void)snprintf(rec, DKIM_B64_LEN(n) + 32, "v=DKIM1; k=%s; p=%s",
                       k->alg == TM_DKIM_ED25519_SHA256 ? "ed25519" : "rsa", b64);
    }
    OPENSSL_free(der);
    if (rec == NULL)
        return TM_ENOMEM;
    *out = rec;
    return TM_OK;
}
