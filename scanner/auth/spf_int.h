/*
 * spf_int.h - the SPF record parser and macro expander (spf_parse.c),
 * shared by the evaluator (spf.c), its unit tests and fuzz/spf. Nothing
 * here touches the DNS: %{p} is looked up by the evaluator beforehand and
 * handed in as a value.
 */
#ifndef TM_AUTH_SPF_INT_H
#define TM_AUTH_SPF_INT_H

#include <stddef.h>
#include <stdint.h>

#include "auth/spf.h"
#include "core/core.h"

struct tm_arena;

enum tm_spf_kind {
    TM_SPF_K_ALL,
    TM_SPF_K_INCLUDE,
    TM_SPF_K_A,
    TM_SPF_K_MX,
    TM_SPF_K_PTR,
    TM_SPF_K_IP4,
    TM_SPF_K_IP6,
    TM_SPF_K_EXISTS,
    TM_SPF_K_REDIRECT, /* modifiers from here on */
    TM_SPF_K_EXP,
    TM_SPF_K_UNKNOWN,
};

struct tm_spf_term {
    enum tm_spf_kind kind;
    enum tm_spf_res qual; /* mechanisms: PASS FAIL SOFTFAIL NEUTRAL */
    const char *text;     /* the term as written, NUL-terminated (arena) */
    const char *spec;     /* domain-spec, NUL-terminated, or NULL for <domain> */
    size_t spec_len;
    unsigned char net[16]; /* ip4 (first 4 bytes) and ip6 networks */
    unsigned cidr4, cidr6; /* 32 and 128 when not given */
};

struct tm_spf_record {
    struct tm_spf_term *terms;
    size_t n;
    const struct tm_spf_term *redirect, *exp;
    const char *error; /* NULL for a valid record, else why it is a permerror */
};

/* Macro-string kinds (RFC 7208 7.1): what may appear and how it is expanded. */
enum tm_spf_mode {
    TM_SPF_M_DOMAIN,  /* domain-spec: no c r t, no spaces; expanded to <= 253 bytes */
    TM_SPF_M_EXPLAIN, /* explanation text: every letter, spaces; clipped to TM_SPF_MAX_EXP */
    TM_SPF_M_UNKNOWN, /* unknown-modifier value: syntax only, never expanded */
};

/* The values the macro letters stand for (RFC 7208 7.2), NUL-terminated. */
struct tm_spf_macro_env {
    const char *s, *l, *o, *d, *h, *r, *p; /* NULL reads as "" (p, r: "unknown") */
    int family;                            /* 4 or 6 */
    unsigned char ip[16];
    int64_t t;
};

/* tm_spf_is_record - 1 when the TXT string begins with "v=spf1" and then SP or its end */
int tm_spf_is_record(const char *p, size_t len);

/*
 * tm_spf_parse - parse a whole record (with its "v=spf1") into out; a bad
 * record is TM_OK with out->error set, since 4.6 asks for every syntax
 * error to be found before anything is evaluated. TM_ENOMEM only.
 */
tm_rc tm_spf_parse(struct tm_arena *a, const char *p, size_t len, struct tm_spf_record *out);

/* tm_spf_macro_valid - 1 when p is a well-formed macro-string of this mode */
int tm_spf_macro_valid(const char *p, size_t len, enum tm_spf_mode mode);

/* tm_spf_macro_uses - 1 when the macro-string p expands letter c (lower case) */
int tm_spf_macro_uses(const char *p, size_t len, char c);

/*
 * tm_spf_expand - expand a valid macro-string into the arena. Domain mode
 * drops one trailing dot and then whole labels from the left until at
 * most TM_SPF_MAX_DOMAIN bytes remain (7.3); explain mode keeps the first
 * TM_SPF_MAX_EXP bytes. *out is NUL-terminated. TM_EINVAL for a string
 * that tm_spf_macro_valid rejects, TM_ENOMEM.
 */
tm_rc tm_spf_expand(struct tm_arena *a, const struct tm_spf_macro_env *env, const char *p,
                    size_t len, enum tm_spf_mode mode, char **out, size_t *outlen);

/*
 * tm_spf_domain_ok - 1 when name (no trailing dot) can be asked for: 1 to
 * TM_SPF_MAX_DOMAIN bytes, labels of 1 to 63 bytes, no space or control
 * character. multi requires two labels or more (4.3 for <domain>).
 */
int tm_spf_domain_ok(const char *name, size_t len, int multi);

#endif
