/*
 * dkim.h - DomainKeys Identified Mail: verify (RFC 6376, RFC 8463 Ed25519,
 * RFC 8301 rsa-sha1 as weak) and sign, with OpenSSL for the crypto.
 *
 * Verification is two-phase so that DNS stays outside this module:
 *
 *   1. tm_dkim_verify_begin parses the raw message (header and body as
 *      received, CRLF or LF line ends) with its own field splitter, which
 *      keeps every field exactly as written for the canonicalisations, and
 *      finds the DKIM-Signature fields. Each usable signature needs one TXT
 *      lookup, selector._domainkey.domain; the distinct names are the
 *      verifier's queries (tm_dkim_verify_nqueries / _query).
 *   2. The caller looks them up (tm_dns_lookup_many, a test's key table)
 *      and hands each answer to tm_dkim_verify_answer; tm_dkim_verify_finish
 *      then checks every signature and returns the results.
 *
 * tm_dkim_verify_with_dns does both phases with one tm_dns_lookup_many.
 *
 * Hostile input is never an error: a bad signature is a result (permerror
 * with a reason), and every count and length a message controls is bounded
 * by a field of tm_dkim_config or a TM_DKIM_MAX_* constant. Errors
 * (tm_rc) are only TM_ENOMEM (the arena is spent) and bad arguments.
 * Everything returned lives in the caller's arena (the task's).
 *
 * Signing keys (tm_dkim_key) are loaded once and are immutable, so any
 * number of threads may sign with one key at the same time.
 */
#ifndef TM_AUTH_DKIM_H
#define TM_AUTH_DKIM_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "dns/dns.h"

struct tm_arena;

#define TM_DKIM_MAX_TAGS       64   /* tags in one tag-list (signature or key record) */
#define TM_DKIM_MAX_SIGNED     256  /* h= entries of one signature */
#define TM_DKIM_MAX_NAME       253  /* selector._domainkey.domain, bytes */
#define TM_DKIM_MAX_KEY_RECORD 8192 /* bytes of a key record (TXT strings joined) */
#define TM_DKIM_MAX_SIG_BYTES  1024 /* decoded b= (an 8192-bit RSA signature) */
#define TM_DKIM_HEADER_B_MIN   8    /* header.b prefix length (RFC 6008), at least */
#define TM_DKIM_MAX_LINE       78   /* columns of a generated header line */

enum tm_dkim_alg {
    TM_DKIM_RSA_SHA256,
    TM_DKIM_ED25519_SHA256,
    TM_DKIM_RSA_SHA1, /* verify only (RFC 8301) */
};

enum tm_dkim_canon {
    TM_DKIM_SIMPLE,
    TM_DKIM_RELAXED,
};

/* RFC 8601 section 2.7.1 results */
enum tm_dkim_result {
    TM_DKIM_NONE,
    TM_DKIM_PASS,
    TM_DKIM_FAIL,
    TM_DKIM_NEUTRAL,
    TM_DKIM_TEMPERROR,
    TM_DKIM_PERMERROR,
};

/* Why a signature did not pass (tm_dkim_sig.why); the reason text says it too. */
enum tm_dkim_why {
    TM_DKIM_OK,
    TM_DKIM_E_SYNTAX,      /* bad tag-list, missing or malformed tag: permerror */
    TM_DKIM_E_VERSION,     /* v= is not 1: permerror */
    TM_DKIM_E_ALGORITHM,   /* unknown a=, c= or q=: permerror */
    TM_DKIM_E_SHA1,        /* rsa-sha1 refused by config: permerror */
    TM_DKIM_E_IDENTITY,    /* i= not within d=: permerror */
    TM_DKIM_E_FROM,        /* From not in h=: permerror */
    TM_DKIM_E_FUTURE,      /* t= in the future: permerror */
    TM_DKIM_E_EXPIRED,     /* x= has passed: fail */
    TM_DKIM_E_NOKEY,       /* NXDOMAIN or no TXT record: permerror */
    TM_DKIM_E_DNS,         /* DNS tempfail or no answer: temperror */
    TM_DKIM_E_KEY_SYNTAX,  /* bad key record or unparsable p=: permerror */
    TM_DKIM_E_KEY_REVOKED, /* empty p=: permerror */
    TM_DKIM_E_KEY_SMALL,   /* RSA key below min_rsa_bits: permerror */
    TM_DKIM_E_KEY_LARGE,   /* RSA key above max_rsa_bits: permerror */
    TM_DKIM_E_KEY_TYPE,    /* k= does not match a=: permerror */
    TM_DKIM_E_KEY_HASH,    /* key h= does not allow the hash: permerror */
    TM_DKIM_E_KEY_SERVICE, /* key s= is not email or *: permerror */
    TM_DKIM_E_KEY_STRICT,  /* key t=s and i= domain is not d=: permerror */
    TM_DKIM_E_BODY_LENGTH, /* l= longer than the body: permerror */
    TM_DKIM_E_BODY_HASH,   /* bh= does not match the body: fail */
    TM_DKIM_E_SIGNATURE,   /* b= does not verify: fail */
    TM_DKIM_E_LIMIT,       /* not checked, more than max_signatures: neutral */
    TM_DKIM_E_CRYPTO,      /* OpenSSL failed unexpectedly: temperror */
};

/* tm_dkim_sig.flags */
#define TM_DKIM_F_WEAK    0x01u /* rsa-sha1 (RFC 8301) */
#define TM_DKIM_F_TESTING 0x02u /* key record t=y */
#define TM_DKIM_F_LENGTH  0x04u /* l= present */
#define TM_DKIM_F_PARTIAL 0x08u /* l= shorter than the body: unsigned content follows */
#define TM_DKIM_F_STRICT  0x10u /* key record t=s */

struct tm_dkim_config {
    unsigned min_rsa_bits;    /* smaller RSA keys are a permerror; default 1024 */
    unsigned max_rsa_bits;    /* larger ones too (CPU); default 8192 */
    size_t max_signatures;    /* signatures checked per message; default 16 */
    size_t max_reported;      /* signatures listed (more are only counted); default 64 */
    size_t max_header_fields; /* header fields looked at; default 1000 */
    size_t max_field_len;     /* bytes of one signature field; default 16384 */
    int64_t now;              /* seconds since the epoch for t= and x=; 0 = time() */
    unsigned clock_skew;      /* seconds t= may lie in the future; default 300 */
    int allow_sha1;           /* 0: rsa-sha1 is a permerror; default 1 (weak flag) */
};

/* One signature's outcome. Strings are NUL-terminated, in the arena. */
struct tm_dkim_sig {
    enum tm_dkim_result result;
    enum tm_dkim_why why;
    const char *reason;    /* short phrase ("body hash mismatch"), NULL on pass */
    const char *domain;    /* d= (as written), or NULL when absent */
    const char *selector;  /* s= */
    const char *algorithm; /* a= (as written) */
    const char *identity;  /* i=, or NULL */
    const char *header_b;  /* shortest unique prefix (>= 8 chars) of b=, for header.b */
    const char *key_name;  /* selector._domainkey.domain looked up, or NULL */
    unsigned key_bits;     /* 0 when no key was parsed */
    unsigned flags;        /* TM_DKIM_F_* */
    int64_t t, x;          /* -1 when absent */
    uint64_t l;            /* when TM_DKIM_F_LENGTH */
};

struct tm_dkim_results {
    const struct tm_dkim_sig *sig; /* in header order, top first */
    size_t n;
    size_t ignored; /* signatures beyond max_reported, not listed */
};

struct tm_dkim_verify; /* opaque, in the caller's arena */

/* tm_dkim_config_default - the defaults documented in struct tm_dkim_config */
void tm_dkim_config_default(struct tm_dkim_config *c);

/*
 * tm_dkim_verify_begin - phase 1: parse msg (len bytes, the whole message)
 * and the DKIM-Signature fields. msg must stay valid until finish. cfg NULL
 * = defaults. TM_ENOMEM when the arena is spent.
 */
tm_rc tm_dkim_verify_begin(struct tm_arena *a, const struct tm_dkim_config *cfg,
                           const unsigned char *msg, size_t len, struct tm_dkim_verify **out);

/* tm_dkim_verify_nqueries - distinct TXT names phase 2 needs (0..max_signatures) */
size_t tm_dkim_verify_nqueries(const struct tm_dkim_verify *v);

/* tm_dkim_verify_query - the i-th name, "selector._domainkey.domain" (lower case) */
const char *tm_dkim_verify_query(const struct tm_dkim_verify *v, size_t i);

/*
 * tm_dkim_verify_answer - the answer to query i: TM_DNS_OK with the TXT
 * record's strings joined (txt, len), or NODATA / NXDOMAIN / TEMPFAIL /
 * LIMIT with txt NULL. The text is copied. Several records: pass each;
 * the first that parses as a DKIM key is used. TM_EINVAL for a bad i.
 */
tm_rc tm_dkim_verify_answer(struct tm_dkim_verify *v, size_t i, enum tm_dns_status st,
                            const char *txt, size_t len);

/*
 * tm_dkim_verify_finish - phase 2: check every signature with the answers
 * given (an unanswered query counts as a DNS tempfail) and fill res.
 */
tm_rc tm_dkim_verify_finish(struct tm_dkim_verify *v, struct tm_dkim_results *res);

/*
 * tm_dkim_verify_with_dns - both phases, the lookups done with one
 * tm_dns_lookup_many on the message's budget.
 */
tm_rc tm_dkim_verify_with_dns(struct tm_arena *a, const struct tm_dkim_config *cfg,
                              const unsigned char *msg, size_t len, struct tm_dns *dns,
                              struct tm_dns_budget *budget, struct tm_dkim_results *res);

/* Names for logs, symbols and RFC 8601 headers. */
const char *tm_dkim_result_name(enum tm_dkim_result r); /* "pass" ... "permerror" */
const char *tm_dkim_alg_name(enum tm_dkim_alg alg);     /* "rsa-sha256" ... */

/*
 * tm_dkim_ar - one signature as an RFC 8601 resinfo for Authentication-
 * Results: "dkim=pass (2048-bit key; weak) header.d=... header.i=...
 * header.s=... header.a=... header.b=...", a reason="..." for a non-pass.
 * Values from the message are quoted and clipped when they are not plain
 * tokens. In the arena.
 */
tm_rc tm_dkim_ar(struct tm_arena *a, const struct tm_dkim_sig *s, char **out);

/* ---- signing keys ------------------------------------------------------ */

struct tm_dkim_key; /* immutable once loaded; share between threads freely */

/*
 * tm_dkim_key_load - a private key from a file: PEM RSA (PKCS#1 or PKCS#8),
 * PEM Ed25519 (PKCS#8), or the base64 32-byte Ed25519 seed that dkimpy
 * writes. Encrypted keys are refused. Errors (TM_EIO, TM_EINVAL) say why
 * in err.
 */
tm_rc tm_dkim_key_load(const char *path, struct tm_dkim_key **out, char *err, size_t errlen);

/* tm_dkim_key_parse - the same from bytes in memory */
tm_rc tm_dkim_key_parse(const unsigned char *p, size_t len, struct tm_dkim_key **out, char *err,
                        size_t errlen);

void tm_dkim_key_free(struct tm_dkim_key *k);

/* tm_dkim_key_alg - rsa-sha256 for RSA keys, ed25519-sha256 for Ed25519 */
enum tm_dkim_alg tm_dkim_key_alg(const struct tm_dkim_key *k);
unsigned tm_dkim_key_bits(const struct tm_dkim_key *k);

/* tm_dkim_key_record - the public key's TXT record, "v=DKIM1; k=rsa; p=...", in the arena */
tm_rc tm_dkim_key_record(struct tm_arena *a, const struct tm_dkim_key *k, char **out);

/* ---- signing ------------------------------------------------------------ */

/* The header list signed by default (RFC 6376 5.4.1), each present instance once. */
#define TM_DKIM_DEFAULT_HEADERS                                                        \
    "from:to:cc:subject:date:message-id:reply-to:in-reply-to:references:mime-version:" \
    "content-type:content-transfer-encoding"

struct tm_dkim_sign_opts {
    const char *domain;   /* d= */
    const char *selector; /* s= */
    const struct tm_dkim_key *key;
    /* Header names to sign, colon-separated; every instance present in the
     * message is signed (bottom-up), absent names are left out. NULL = the
     * default list. From must be in the list and in the message. */
    const char *headers;
    /* Names signed once more than they occur, so that none can be added
     * (over-signing); colon-separated, "" = none, NULL = "from". */
    const char *oversign;
    enum tm_dkim_canon hcanon, bcanon; /* default relaxed/relaxed */
    const char *identity;              /* i=, or NULL */
    int64_t t;                         /* t= timestamp, or -1 for none */
    int64_t x;                         /* x= expiry (absolute), or -1 for none */
    int body_length;                   /* add l= (the canonical body length) */
    int lf;                            /* end lines with LF instead of CRLF */
};

void tm_dkim_sign_opts_default(struct tm_dkim_sign_opts *o);

/* tm_dkim_canon_parse - "relaxed/simple" (header/body; "relaxed" alone is relaxed/simple,
 * as c= says); 0 when good, -1 otherwise */
int tm_dkim_canon_parse(const char *s, enum tm_dkim_canon *h, enum tm_dkim_canon *b);

/*
 * tm_dkim_sign - the DKIM-Signature field for msg (len bytes, CRLF or LF
 * line ends), complete with its name and final line end, folded at
 * TM_DKIM_MAX_LINE columns, to be prepended to the message. *out is
 * NUL-terminated, in the arena, *outlen bytes. TM_EINVAL with err for
 * bad options (no From field, a bad domain ...).
 */
tm_rc tm_dkim_sign(struct tm_arena *a, const unsigned char *msg, size_t len,
                   const struct tm_dkim_sign_opts *o, char **out, size_t *outlen, char *err,
                   size_t errlen);

#endif
