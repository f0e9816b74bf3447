/*
 * fuzz_relax.c - the regex relaxer (scanner/match/relax.c), which reads
 * rule authors' regexes and rewrites them into the Hyperscan prefilter
 * gates of the matcher.
 *
 * Input: a flags byte (bit 0 /i, 1 /m, 2 /s, 3 /x), then the pattern, a
 * NUL, and a subject (the rest; without a NUL the pattern is the subject
 * too). Invariants: tm_re_relax returns NULL or a NUL-terminated string of
 * at most 14 bytes per pattern byte; when PCRE2 compiles the pattern, the
 * relaxed form compiles too (unless PCRE2 finds it too large), and when
 * the pattern matches the subject, the relaxed form matches it as well —
 * the property that makes the gate sound. For a "(G){n}" regex,
 * tm_re_relax_unit's relaxed G is a counted gate: when the regex matches
 * and no match of the relaxed G is empty, the relaxed G must match with n
 * or more distinct end offsets (every (start, end) pair is enumerated with
 * a PCRE2 callout that fails each match). Each top-level item of the
 * pattern (tm_re_relax_part) must match wherever the pattern does.
 * Violations abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/core.h"
#include "match/relax.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_PAT 4096 /* longer patterns are cut */

static pcre2_match_context *mctx;
static pcre2_match_data *md;

struct ends {
    uint8_t *at; /* per subject offset: a match of the unit ends here */
    int empty;   /* an empty match was seen */
};

static int
on_callout(pcre2_callout_block *cb, void *ctx)
{
    struct ends *e = ctx;

    e->at[cb->current_position] = 1;
    if (cb->current_position == cb->start_match)
        e->empty = 1;
    return 1; /* fail here: backtrack into every other way to match */
}

/* check_parts - every item's relaxed form matches where the pattern matched */
static void
check_parts(const char *pat, uint32_t opts, const unsigned char *subj, size_t slen)
{
    size_t count = 0, k;

    tm_free(tm_re_relax_part(pat, (opts & PCRE2_EXTENDED) != 0, SIZE_MAX, &count));
    for (k = 0; k < count && k < 16; k++) {
        char *part = tm_re_relax_part(pat, (opts & PCRE2_EXTENDED) != 0, k, &count);
        pcre2_code *re;
        int ec, b;
        PCRE2_SIZE eo;
        if (part == NULL)
            continue;
        re = pcre2_compile((PCRE2_SPTR)part, PCRE2_ZERO_TERMINATED, opts & ~PCRE2_EXTENDED, &ec,
                           &eo, NULL);
        TM_ASSERT(re != NULL || ec == PCRE2_ERROR_PATTERN_TOO_LARGE || ec == PCRE2_ERROR_HEAP_FAILED);
        tm_free(part);
        if (re == NULL)
            continue;
        b = pcre2_match(re, subj, slen, 0, 0, md, mctx);
        TM_ASSERT(b >= 0 || b == PCRE2_ERROR_MATCHLIMIT || b == PCRE2_ERROR_DEPTHLIMIT);
        pcre2_code_free(re);
    }
}

/* check_unit - the counted-gate invariant (see the top) */
static void
check_unit(const char *pat, uint32_t opts, const unsigned char *subj, size_t slen)
{
    unsigned long need = 0;
    char *unit = tm_re_relax_unit(pat, (opts & PCRE2_EXTENDED) != 0, &need), *wrapped;
    pcre2_code *re;
    pcre2_match_context *cctx;
    struct ends e;
    size_t i, n = 0, ulen;
    int ec, rc;
    PCRE2_SIZE eo;

    if (unit == NULL)
        return;
    TM_ASSERT(need >= 2);
    ulen = strlen(unit);
    wrapped = tm_xmalloc(ulen + 16);
    memcpy(wrapped, "(?:", 3);
    memcpy(wrapped + 3, unit, ulen);
    memcpy(wrapped + 3 + ulen, ")(?C1)", 7);
    re = pcre2_compile((PCRE2_SPTR)wrapped, PCRE2_ZERO_TERMINATED,
                       (opts & ~PCRE2_EXTENDED) | PCRE2_NO_AUTO_POSSESS | PCRE2_NO_START_OPTIMIZE |
                           PCRE2_NO_DOTSTAR_ANCHOR,
                       &ec, &eo, NULL);
    tm_free(wrapped);
    tm_free(unit);
    if (re == NULL)
        return; /* too large for PCRE2; the superset check above covers compiling */
    e.at = tm_xcalloc(slen + 1, 1);
    e.empty = 0;
    cctx = pcre2_match_context_copy(mctx);
    if (cctx == NULL)
        abort();
    pcre2_set_callout(cctx, on_callout, &e);
    rc = pcre2_match(re, subj, slen, 0, 0, md, cctx);
    if (rc == PCRE2_ERROR_NOMATCH && !e.empty) { /* every pair enumerated, none empty */
        for (i = 0; i <= slen; i++)
            n += e.at[i];
        TM_ASSERT(n >= need);
    }
    pcre2_match_context_free(cctx);
    pcre2_code_free(re);
    tm_free(e.at);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mctx = pcre2_match_context_create(NULL);
    md = pcre2_match_data_create(16, NULL);
    if (mctx == NULL || md == NULL)
        abort();
    pcre2_set_match_limit(mctx, 20000);
    pcre2_set_depth_limit(mctx, 1000);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t opts = 0;
    const uint8_t *nul;
    size_t plen, slen;
    const unsigned char *subj;
    char *pat, *wide;
    pcre2_code *orig, *relaxed;
    int ec, a, b;
    PCRE2_SIZE eo;

    if (size < 1)
        return 0;
    opts |= (data[0] & 1) ? PCRE2_CASELESS : 0;
    opts |= (data[0] & 2) ? PCRE2_MULTILINE : 0;
    opts |= (data[0] & 4) ? PCRE2_DOTALL : 0;
    opts |= (data[0] & 8) ? PCRE2_EXTENDED : 0;
    data++;
    size--;
    nul = memchr(data, '\0', size);
    plen = nul != NULL ? (size_t)(nul - data) : size;
    subj = nul != NULL ? nul + 1 : data;
    slen = nul != NULL ? size - plen - 1 : size;
    if (plen > FUZZ_MAX_PAT)
        plen = FUZZ_MAX_PAT;
    pat = tm_xmalloc(plen + 1);
    memcpy(pat, data, plen);
    pat[plen] = '\0';

    wide = tm_re_relax(pat, (opts & PCRE2_EXTENDED) != 0);
    if (wide == NULL) {
        tm_free(pat);
        return 0;
    }
    TM_ASSERT(strlen(wide) <= plen * 14);
    orig = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
    if (orig != NULL) {
        relaxed = pcre2_compile((PCRE2_SPTR)wide, PCRE2_ZERO_TERMINATED, opts & ~PCRE2_EXTENDED,
                                &ec, &eo, NULL);
        TM_ASSERT(relaxed != NULL || ec == PCRE2_ERROR_PATTERN_TOO_LARGE ||
                  ec == PCRE2_ERROR_HEAP_FAILED);
        if (relaxed != NULL) {
            a = pcre2_match(orig, subj, slen, 0, 0, md, mctx);
            if (a >= 0) {
                check_unit(pat, opts, subj, slen);
                check_parts(pat, opts, subj, slen);
            }
            if (a >= 0) {
                b = pcre2_match(relaxed, subj, slen, 0, 0, md, mctx);
                /* a limit on the wider form is no counter-example */
                TM_ASSERT(b >= 0 || b == PCRE2_ERROR_MATCHLIMIT || b == PCRE2_ERROR_DEPTHLIMIT);
            }
            pcre2_code_free(relaxed);
        }
        pcre2_code_free(orig);
    }
    tm_free(wide);
    tm_free(pat);
    return 0;
}
