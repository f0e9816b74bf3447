/*
 * dkim_int.h - the internals shared by dkim.c, arc.c and the dkim_*.c
 * helpers: the raw header-field splitter (dkim_msg.c), the tag-list parser
 * and base64 (dkim_tags.c), the canonicalisations (dkim_canon.c), the
 * OpenSSL wrappers (dkim_crypto.c), the signature engine that DKIM and ARC
 * share (dkim_core.c) and their signing pieces (dkim_sign.c). Not part of
 * the module's interface.
 */
#ifndef TM_AUTH_DKIM_INT_H
#define TM_AUTH_DKIM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "auth/dkim.h"
#include "core/buf.h"
#include "core/core.h"
#include "dns/dns.h"

struct tm_arena;

#define DKIM_MAX_KEY_RRS  4     /* TXT records of one answer that are tried */
#define DKIM_MAX_BH_CACHE 8     /* distinct (hash, canon, l=) body hashes kept per message */
#define DKIM_MAX_HASH     64    /* bytes of a digest (SHA-256 needs 32) */
#define DKIM_MAX_FILE     65536 /* bytes of a private key file */

/* ---- the raw message (dkim_msg.c) --------------------------------------- */

/* One header field exactly as written: "Name: value", folding kept, through
 * its CRLF (which only the last field of a header without a body lacks). */
struct dkim_field {
    const unsigned char *p;
    size_t len;
    size_t namelen; /* the name without WSP before ':'; 0 when the field has no name */
    size_t valoff;  /* first byte after ':' */
};

struct dkim_msg {
    const unsigned char *buf; /* the message, line ends made CRLF */
    size_t len;
    struct dkim_field *f; /* header fields, top to bottom */
    size_t nf;
    size_t nf_dropped; /* fields past the limit, not kept */
    const unsigned char *body;
    size_t bodylen;
};

/*
 * dkim_msg_parse - make every bare LF of msg a CRLF (a copy in the arena
 * when there are any) and split the header into fields, at most max_fields.
 */
tm_rc dkim_msg_parse(struct tm_arena *a, const unsigned char *msg, size_t len, size_t max_fields,
                     struct dkim_msg *m);

/* dkim_field_is - the field's name is `name` (ASCII case-insensitive) */
int dkim_field_is(const struct dkim_field *f, const char *name);
int dkim_field_name_eq(const struct dkim_field *f, const unsigned char *name, size_t n);

/* dkim_field_value_len - bytes of the value, without the final CRLF */
size_t dkim_field_value_len(const struct dkim_field *f);

/* ---- tag lists and base64 (dkim_tags.c) --------------------------------- */

struct dkim_tag {
    const unsigned char *name;
    size_t namelen;
    const unsigned char *val; /* the value without FWS around it */
    size_t vallen;
    size_t eq;   /* offset just after '=' in the parsed text */
    size_t vend; /* offset just after the value's last byte */
};

/*
 * dkim_tags_parse - an RFC 6376 3.2 tag-list (p, len), strictly: tag names
 * ALPHA *(ALPHA / DIGIT / "_"), "=" required, no duplicate names, values of
 * printable characters and FWS, at most `max` tags. 0 with *n set, or -1
 * with *why a short static phrase.
 */
int dkim_tags_parse(const unsigned char *p, size_t len, struct dkim_tag *t, size_t max, size_t *n,
                    const char **why);

/* dkim_tag_find - the tag called `name`, or NULL */
const struct dkim_tag *dkim_tag_find(const struct dkim_tag *t, size_t n, const char *name);

/* dkim_tag_eq - value equals lit, ASCII case-insensitively */
int dkim_tag_eq(const struct dkim_tag *t, const char *lit);

/* dkim_list_has - a colon-separated list (FWS allowed around items) has `item` */
int dkim_list_has(const unsigned char *p, size_t len, const char *item);

/* dkim_b64_decode - base64 with FWS anywhere; (size_t)-1 when malformed or longer than max */
size_t dkim_b64_decode(const unsigned char *in, size_t len, unsigned char *out, size_t max);

/* dkim_b64_encode - NUL-terminated; out holds DKIM_B64_LEN(len) bytes */
#define DKIM_B64_LEN(n) (((n) + 2) / 3 * 4 + 1)
size_t dkim_b64_encode(const unsigned char *in, size_t len, char *out);

/* ---- canonicalisation (dkim_canon.c) ------------------------------------ */

typedef void (*dkim_put_fn)(void *ud, const unsigned char *p, size_t n);

/*
 * dkim_canon_header - one field (as written, with or without its CRLF) in
 * canonical form, followed by CRLF when crlf is set (RFC 6376 3.4.1/3.4.2).
 */
void dkim_canon_header(enum tm_dkim_canon c, const unsigned char *f, size_t len, int crlf,
                       dkim_put_fn put, void *ud);

/* dkim_canon_body - the canonical body (3.4.3/3.4.4); returns its length */
uint64_t dkim_canon_body(enum tm_dkim_canon c, const unsigned char *b, size_t len, dkim_put_fn put,
                         void *ud);

/* ---- crypto (dkim_crypto.c) ---------------------------------------------- */

struct dkim_hash; /* a running SHA-1 or SHA-256 */

struct dkim_hash *dkim_hash_new(enum tm_dkim_alg alg);
void dkim_hash_put(void *h, const unsigned char *p, size_t n); /* a dkim_put_fn */
size_t dkim_hash_final(struct dkim_hash *h, unsigned char out[DKIM_MAX_HASH]);
void dkim_hash_free(struct dkim_hash *h);

struct dkim_pubkey {
    void *pkey; /* EVP_PKEY */
    unsigned bits;
};

/* dkim_pubkey_parse - p= bytes (decoded): SubjectPublicKeyInfo or RSAPublicKey, or 32 raw bytes */
int dkim_pubkey_parse(int ed25519, const unsigned char *der, size_t n, struct dkim_pubkey *k);
void dkim_pubkey_free(struct dkim_pubkey *k);

/* dkim_verify_hash - 1 good signature, 0 bad, -1 OpenSSL trouble */
int dkim_verify_hash(const struct dkim_pubkey *k, enum tm_dkim_alg alg, const unsigned char *h,
                     size_t hlen, const unsigned char *sig, size_t siglen);

/* dkim_sign_hash - signature of h into sig (cap bytes); 0 or -1 */
int dkim_sign_hash(const struct tm_dkim_key *k, enum tm_dkim_alg alg, const unsigned char *h,
                   size_t hlen, unsigned char *sig, size_t cap, size_t *siglen);

/* ---- the signature engine (dkim_core.c) --------------------------------- */

enum dkim_kind {
    DKIM_KIND_DKIM, /* DKIM-Signature */
    DKIM_KIND_AMS,  /* ARC-Message-Signature */
    DKIM_KIND_AS,   /* ARC-Seal */
};

/* One TXT query and its answer. */
struct dkim_keyq {
    const char *name;
    int answered;
    enum tm_dns_status st;
    const char *txt[DKIM_MAX_KEY_RRS];
    size_t txtlen[DKIM_MAX_KEY_RRS];
    size_t ntxt;
};

/* A signature under verification. */
struct dkim_sv {
    struct tm_dkim_sig pub;
    enum dkim_kind kind;
    const struct dkim_field *field;
    struct dkim_tag *tags;
    size_t ntags;
    enum tm_dkim_alg alg;
    enum tm_dkim_canon hc, bc;
    unsigned char bh[DKIM_MAX_HASH];
    size_t bhlen;
    unsigned char *b;
    size_t blen;
    char *b64; /* b= without FWS, for header.b */
    const struct dkim_tag *h;
    unsigned instance;             /* ARC i= */
    const char *cv;                /* ARC-Seal cv= */
    const struct dkim_field **asf; /* ARC-Seal: the fields it covers, in order */
    size_t nasf;
    size_t q;    /* key query, or DKIM_NO_QUERY when decided in phase 1 */
    int decided; /* pub.result is final */
};

#define DKIM_NO_QUERY ((size_t)-1)

struct dkim_bh {
    enum tm_dkim_alg alg;
    enum tm_dkim_canon c;
    uint64_t l; /* UINT64_MAX = the whole body */
    unsigned char h[DKIM_MAX_HASH];
    size_t hlen;
    uint64_t total; /* canonical body length */
};

struct dkim_ctx {
    struct tm_arena *a;
    struct tm_dkim_config cfg;
    struct dkim_msg msg;
    struct dkim_keyq *q;
    size_t nq, maxq;
    struct dkim_bh bh[DKIM_MAX_BH_CACHE];
    size_t nbh;
};

tm_rc dkim_ctx_init(struct dkim_ctx *c, struct tm_arena *a, const struct tm_dkim_config *cfg,
                    const unsigned char *msg, size_t len, size_t maxq);

/*
 * dkim_sv_parse - phase 1 for one signature field: tags, syntax, the
 * checks that need no key, and its key query. A signature that is already
 * decided (permerror, expired) gets decided = 1 and no query.
 */
tm_rc dkim_sv_parse(struct dkim_ctx *c, struct dkim_sv *s, enum dkim_kind kind,
                    const struct dkim_field *f);

/* dkim_sv_plan - give an undecided signature its key query (the same name asked once) */
tm_rc dkim_sv_plan(struct dkim_ctx *c, struct dkim_sv *s);

/* dkim_sv_decide - give s its final result (phase 1 or 2) */
void dkim_sv_decide(struct dkim_sv *s, enum tm_dkim_result r, enum tm_dkim_why why,
                    const char *reason);

/* dkim_ctx_answer - record an answer to query i */
tm_rc dkim_ctx_answer(struct dkim_ctx *c, size_t i, enum tm_dns_status st, const char *txt,
                      size_t len);

/* dkim_ctx_lookup - ask every query with one tm_dns_lookup_many and record the answers */
tm_rc dkim_ctx_lookup(struct dkim_ctx *c, struct tm_dns *dns, struct tm_dns_budget *budget);

/* dkim_sv_check - phase 2: key, body hash, header hash, signature */
tm_rc dkim_sv_check(struct dkim_ctx *c, struct dkim_sv *s);

/* dkim_header_b - give each signature the shortest unique b= prefix of at least 8 chars */
tm_rc dkim_header_b(struct tm_arena *a, struct dkim_sv *s, size_t n);

/* dkim_reason - an arena copy of a formatted phrase (clipped), or a fixed one on ENOMEM */
const char *dkim_reason(struct tm_arena *a, const char *fmt, ...) TM_PRINTF(2, 3);

/* dkim_cstr - a NUL-terminated arena copy */
char *dkim_cstr(struct tm_arena *a, const unsigned char *p, size_t n);

/* Hashing header fields, for verifying and signing alike. */

/*
 * dkim_hash_signed - the fields named by the h= list (hv, hlen) in canonical
 * form, each name taking the next instance from the bottom not yet used
 * (a name with none left contributes nothing: over-signing). `self` is
 * never selected.
 */
tm_rc dkim_hash_signed(struct tm_arena *a, const struct dkim_msg *m, enum tm_dkim_canon hc,
                       const unsigned char *hv, size_t hlen, const struct dkim_field *self,
                       struct dkim_hash *h);

/*
 * dkim_hash_self - the signature field itself, text (p, len) with the b=
 * value (the bytes [b_eq, b_end) of it) removed, canonical, without CRLF.
 */
tm_rc dkim_hash_self(struct tm_arena *a, enum tm_dkim_canon hc, const unsigned char *p, size_t len,
                     size_t b_eq, size_t b_end, struct dkim_hash *h);

/* Signing (dkim_sign.c): a header field generator with folding. */
struct dkim_gen {
    struct tm_buf b; /* the field text, CRLF line ends */
    size_t col;
};

tm_rc dkim_gen_start(struct dkim_gen *g, struct tm_arena *a, const char *name);
/* dkim_gen_piece - append text; fold before it when the line would pass the width */
tm_rc dkim_gen_piece(struct dkim_gen *g, const char *p, size_t n, int space);
/* dkim_gen_tag - "name=value;" (an h= value folds between names) */
tm_rc dkim_gen_tag(struct dkim_gen *g, const char *name, const char *val);
/* dkim_gen_bvalue - the b= value, folded, and the final CRLF */
tm_rc dkim_gen_bvalue(struct dkim_gen *g, const char *b64);

/*
 * dkim_sign_hlist - the h= list of a DKIM-Signature or ARC-Message-Signature
 * from the options, checked (From). hnames gets "a:b:c" in the arena.
 */
tm_rc dkim_sign_hlist(struct tm_arena *a, const struct dkim_msg *m, const char *headers,
                      const char *oversign, char **hnames, char *err, size_t errlen);

/* dkim_sign_bh - base64 body hash of the whole body (and its canonical length) */
tm_rc dkim_sign_bh(struct tm_arena *a, const struct dkim_msg *m, enum tm_dkim_alg alg,
                   enum tm_dkim_canon bc, char **b64, uint64_t *total);

/*
 * dkim_sign_finish - add the generated field so far (up to "b=", canonical,
 * no CRLF) to the header hash h, sign it with key and append the folded b=
 * value and the final CRLF.
 */
tm_rc dkim_sign_finish(struct tm_arena *a, struct dkim_gen *g, enum tm_dkim_canon hc,
                       struct dkim_hash *h, const struct tm_dkim_key *key, enum tm_dkim_alg alg,
                       char *err, size_t errlen);

/* dkim_name_ok - a domain or selector we would put in a signature: [A-Za-z0-9._-]+ */
int dkim_name_ok(const char *s);

/*
 * dkim_ar_value - append an RFC 8601 property value to b: as it is when it
 * is a plain token (letters, digits, "-._@+/="), else a quoted-string with
 * '"' and '\\' escaped and other bytes outside printable ASCII as '?',
 * clipped to DKIM_AR_MAX_VALUE bytes either way.
 */
#define DKIM_AR_MAX_VALUE 100
tm_rc dkim_ar_value(struct tm_buf *b, const char *v);

/* dkim_out_lines - copy CRLF text to the arena as CRLF or LF, NUL-terminated */
tm_rc dkim_out_lines(struct tm_arena *a, const unsigned char *p, size_t n, int lf, char **out,
                     size_t *outlen);

#endif
