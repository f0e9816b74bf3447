/*
 * fuzz_spf.c - the SPF record parser and macro expander (scanner/auth
 * spf_parse.c) and the DMARC record parser, without DNS. The input is
 * parsed as an SPF record ("v=spf1 " put in front when it lacks one),
 * each domain-spec of a valid record is expanded, the input is expanded
 * as an explanation string, used as the local-part and HELO values of a
 * fixed set of macros, and parsed as a DMARC record.
 *
 * Invariants: a valid record has at most TM_SPF_MAX_TERMS terms, CIDR
 * lengths within 32/128, domain-specs that are valid macro-strings, one
 * redirect and one exp at most (pointing into the term table), and every
 * term's text is a NUL-terminated slice of the record; an expanded domain
 * is at most TM_SPF_MAX_DOMAIN bytes and an explanation at most
 * TM_SPF_MAX_EXP, both NUL-terminated with no NUL inside; expansion
 * succeeds exactly when tm_spf_macro_valid accepts the string; a parsed
 * DMARC record has pct <= 100 and in-range enums. Violations abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/dmarc.h"
#include "auth/spf_int.h"
#include "core/arena.h"
#include "core/core.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ARENA    (16u << 20)
#define FUZZ_MAX_IN   (TM_SPF_MAX_RECORD + 64) /* longer inputs are cut */
#define FUZZ_MAX_EXPL 8                        /* domain-specs expanded per record */

static const char *const fuzz_macros[] = {
    "%{l}",
    "%{L}",
    "%{l1r-}",
    "%{l2r+-=_,/}.%{h3}",
    "%{lr}.%{hr}.%{dr}",
    "%{l99}.%{h1}",
    "%{S}.%{O}.%{H}",
    "%{ir}.%{v}",
    "%{l}%{l}%{l}%{l}%{l}%{l}%{l}%{l}.com",
};

static void
fuzz_env(struct tm_spf_macro_env *e, const char *l, const char *h)
{
    memset(e, 0, sizeof(*e));
    e->s = "strong-bad@email.example.com";
    e->l = l;
    e->o = "email.example.com";
    e->d = "email.example.com";
    e->h = h;
    e->r = "mx.example.net";
    e->p = "mail.example.com";
    e->family = 6;
    memcpy(e->ip, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\xcb\x01", 16);
    e->t = 1400000000;
}

/* check_expand - expand s and check the result's bounds */
static void
check_expand(struct tm_arena *a, const struct tm_spf_macro_env *e, const char *s, size_t n,
             enum tm_spf_mode mode)
{
    char *out;
    size_t len;
    tm_rc rc = tm_spf_expand(a, e, s, n, mode, &out, &len);

    if (rc == TM_ENOMEM)
        return;
    TM_ASSERT((rc == TM_OK) == (tm_spf_macro_valid(s, n, mode) != 0));
    if (rc != TM_OK)
        return;
    TM_ASSERT(out != NULL && out[len] == '\0' && strlen(out) == len);
    TM_ASSERT(len <= (mode == TM_SPF_M_DOMAIN ? TM_SPF_MAX_DOMAIN : TM_SPF_MAX_EXP));
}

static void
check_record(struct tm_arena *a, const char *rec, size_t n)
{
    const struct tm_spf_macro_env *e;
    struct tm_spf_macro_env env;
    struct tm_spf_record r;
    size_t i, expanded = 0;
    int redirects = 0, exps = 0;

    if (tm_spf_parse(a, rec, n, &r) != TM_OK || r.error != NULL)
        return;
    TM_ASSERT(tm_spf_is_record(rec, n));
    TM_ASSERT(r.n <= TM_SPF_MAX_TERMS && (r.n == 0 || r.terms != NULL));
    fuzz_env(&env, "strong-bad", "mx.example.org");
    e = &env;
    for (i = 0; i < r.n; i++) {
        const struct tm_spf_term *t = &r.terms[i];
        size_t tl;

        TM_ASSERT(t->kind <= TM_SPF_K_UNKNOWN);
        TM_ASSERT(t->text != NULL && (tl = strlen(t->text)) > 0 && tl <= n);
        TM_ASSERT(memchr(t->text, ' ', tl) == NULL);
        TM_ASSERT(t->cidr4 <= 32 && t->cidr6 <= 128);
        if (t->kind < TM_SPF_K_REDIRECT)
            TM_ASSERT(t->qual == TM_SPF_PASS || t->qual == TM_SPF_FAIL ||
                      t->qual == TM_SPF_SOFTFAIL || t->qual == TM_SPF_NEUTRAL);
        redirects += t->kind == TM_SPF_K_REDIRECT;
        exps += t->kind == TM_SPF_K_EXP;
        if (t->spec == NULL)
            continue;
        TM_ASSERT(t->spec_len > 0 && strlen(t->spec) == t->spec_len);
        TM_ASSERT(tm_spf_macro_valid(t->spec, t->spec_len, TM_SPF_M_DOMAIN));
        if (expanded++ < FUZZ_MAX_EXPL)
            check_expand(a, e, t->spec, t->spec_len, TM_SPF_M_DOMAIN);
    }
    TM_ASSERT(redirects <= 1 && exps <= 1);
    TM_ASSERT((r.redirect != NULL) == (redirects == 1));
    TM_ASSERT((r.exp != NULL) == (exps == 1));
    TM_ASSERT(r.redirect == NULL || (r.redirect >= r.terms && r.redirect < r.terms + r.n));
    TM_ASSERT(r.exp == NULL || (r.exp >= r.terms && r.exp < r.terms + r.n));
}

static void
check_dmarc(struct tm_arena *a, const char *s, size_t n)
{
    struct tm_dmarc_record r;
    enum tm_dmarc_parse_status st;

    if (tm_dmarc_parse(a, s, n, &r, &st) != TM_OK)
        return;
    TM_ASSERT(st <= TM_DMARC_REC_NO_POLICY);
    if (st != TM_DMARC_REC_OK)
        return;
    TM_ASSERT(r.pct <= 100);
    TM_ASSERT(r.p <= TM_DMARC_P_REJECT && r.sp <= TM_DMARC_P_REJECT);
    TM_ASSERT(r.adkim <= TM_DMARC_STRICT && r.aspf <= TM_DMARC_STRICT);
    TM_ASSERT(!r.p_fallback || r.rua != NULL);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tm_arena *a = tm_arena_new(FUZZ_ARENA);
    struct tm_spf_macro_env env;
    char *in, *rec;
    size_t n = size < FUZZ_MAX_IN ? size : FUZZ_MAX_IN, i;

    if (a == NULL || (in = tm_arena_alloc(a, n + 1)) == NULL ||
        (rec = tm_arena_alloc(a, n + 8)) == NULL)
        abort();
    memcpy(in, data, n);
    in[n] = '\0';
    if (tm_spf_is_record(in, n)) {
        check_record(a, in, n);
    } else {
        memcpy(rec, "v=spf1 ", 7);
        memcpy(rec + 7, in, n);
        check_record(a, rec, n + 7);
    }
    fuzz_env(&env, in, in);
    check_expand(a, &env, in, n, TM_SPF_M_EXPLAIN);
    check_expand(a, &env, in, n, TM_SPF_M_DOMAIN);
    (void)tm_spf_macro_valid(in, n, TM_SPF_M_UNKNOWN);
    (void)tm_spf_domain_ok(in, n, 1);
    /* the input as macro values: l and h are C strings, so they end at a NUL */
    for (i = 0; i < TM_NELEM(fuzz_macros); i++) {
        check_expand(a, &env, fuzz_macros[i], strlen(fuzz_macros[i]), TM_SPF_M_DOMAIN);
        check_expand(a, &env, fuzz_macros[i], strlen(fuzz_macros[i]), TM_SPF_M_EXPLAIN);
    }
    check_dmarc(a, in, n);
    tm_arena_free(a);
    return 0;
}
