/*
 * match.c - building and running the compiled rule set (see match.h).
 *
 * Build: rules are grouped by target (body, rawbody, uri, full, and one group
 * per distinct header selection: kind, names, modifiers, if-unset). Each
 * regex is classified with hs_expression_info (plain, then as a prefilter)
 * and compiled by PCRE2 in any case (PCRE2 confirms prefilter candidates,
 * counts hits of `multiple` rules, and finds the match text for --explain).
 * One hs_compile_multi per group; if Hyperscan rejects one expression of a
 * database it had accepted alone, that rule is demoted to PCRE2 and the
 * database rebuilt (bounded by the group size).
 *
 * Scan: for each group, the target's pieces (paragraphs, URLs, lines, one
 * header text) are scanned one by one, so a regex never spans two pieces,
 * as in SpamAssassin where body rules run per paragraph.
 */
#include "match/match.h"

#include <errno.h>
#include <fcntl.h>
#include <hs/hs.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/str.h"
#include "core/task.h"
#include "match/relax.h"
#include "rules/rules.h"
#include "text/text.h"
#include "url/collect.h"

#define MATCH_FORMAT      "tamis-match-11" /* bump when engine choice or layout changes */
#define CACHE_MAGIC       "TAMISHS1"
#define MAX_DEMOTIONS     10000
#define EXPLAIN_MAX_TEXT  200
#define DEFAULT_MATCH_LIM 100000ul
#define DEFAULT_DEPTH_LIM 5000ul
#define DEFAULT_COMPILE_S 600ul
#define BIG_PATTERN       2000 /* bytes of regex text */
#define TWO_GATE_MIN      1000 /* prefilters this long get a second, relaxed gate */
#define PART_GATE_MAX_ITEMS 64 /* top-level items tried for a gate of one item */
#define PART_GATE_MIN_WIDTH 4  /* bytes: a shorter item gates too little */
#define SEEN_MAIN         1u   /* scan_ctx.seen bits: the pattern's gate matched */
#define SEEN_SECOND       2u   /* its second gate matched */

struct pat {
    uint32_t rule;
    uint32_t group;
    enum tm_engine_kind eng;
    const char *why; /* literal, or heap when why_owned */
    int why_owned;
    pcre2_code *re;
    int counts;      /* multiple: count with PCRE2 */
    char *gate;      /* prefilter of a relaxed form (relax.h), while compiling */
    char *gate2;     /* a second, relaxed gate of a large prefilter, while compiling */
    int two;         /* candidates need both gates (HS ids pat and npats + pat) */
    uint32_t need;   /* > 1: a counted gate; candidates need this many distinct match ends */
    int gate_exact;  /* while compiling: the gate is compiled exactly, not as a prefilter */
    int lazy;        /* a __sub-rule's PCRE2 run may wait for tm_match_confirm (index_groups) */
};

struct group {
    enum tm_rule_type type;
    enum tm_hdr_kind kind;
    const char *const *names;
    size_t nnames;
    unsigned mods;
    const char *if_unset;
    char *label;
    uint32_t *pats; /* indices into m->pats */
    size_t npats;
    uint32_t *pcre; /* the pats of engine PCRE2 alone, run on every piece */
    size_t npcre;
    uint32_t *neg; /* the pats of !~ rules */
    size_t nneg;
    hs_database_t *db;
};

struct tm_matcher {
    const struct tm_ruleset *rs;
    struct pat *pats;
    size_t npats;
    int32_t *rule2pat; /* per rule: its pat, or -1 */
    struct group *groups;
    size_t ngroups;
    uint32_t *exists; /* the exists: rules that run (walking every rule for them was 1.7 %
                       * of a scan with the stock rules: perf, issue 10) */
    size_t nexists;
    struct tm_match_opts opts;
};

struct tm_match_scratch {
    hs_scratch_t *hs;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    uint32_t *cand; /* candidate pats of the current piece */
    size_t ncand, capcand;
    uint32_t *ends;    /* per pat: distinct match ends of a counted gate in this piece */
    uint32_t *lastend; /* per pat: the last end offset counted */
};

static const char *const engine_names[] = {"unsupported", "hyperscan", "prefilter", "pcre2"};

const char *
tm_engine_name(enum tm_engine_kind k)
{
    return (unsigned)k < 4 ? engine_names[k] : "?";
}

static int
is_regex_rule(const struct tm_rule *r)
{
    return r->type != TM_RULE_META && r->pattern != NULL && !r->unsupported &&
           !tm_rule_is_exists(r);
}

static int
same_group(const struct group *g, const struct tm_rule *r)
{
    size_t i;

    if (g->type != r->type)
        return 0;
    if (r->type != TM_RULE_HEADER)
        return 1;
    if (g->kind != r->hdr_kind || g->mods != r->hdr_mods || g->nnames != r->n_hdr_names)
        return 0;
    if ((g->if_unset == NULL) != (r->if_unset == NULL) ||
        (g->if_unset != NULL && strcmp(g->if_unset, r->if_unset) != 0))
        return 0;
    for (i = 0; i < g->nnames; i++)
        if (strcasecmp(g->names[i], r->hdr_names[i]) != 0)
            return 0;
    return 1;
}

static char *
group_label(const struct tm_rule *r)
{
    char buf[512];
    size_t n = 0, i;

    if (r->type != TM_RULE_HEADER)
        return tm_xstrdup(tm_rule_type_name(r->type));
    n = (size_t)snprintf(buf, sizeof(buf), "header ");
    switch (r->hdr_kind) {
    case TM_HDR_ALL:
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "ALL");
        break;
    case TM_HDR_TOCC:
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "ToCc");
        break;
    case TM_HDR_MESSAGEID:
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "MESSAGEID");
        break;
    default:
        for (i = 0; i < r->n_hdr_names && n < sizeof(buf); i++)
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? "|" : "", r->hdr_names[i]);
    }
    if (n < sizeof(buf) && (r->hdr_mods & TM_HDRMOD_RAW))
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, ":raw");
    if (n < sizeof(buf) && (r->hdr_mods & TM_HDRMOD_ADDR))
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, ":addr");
    if (n < sizeof(buf) && (r->hdr_mods & TM_HDRMOD_NAME))
        (void)snprintf(buf + n, sizeof(buf) - n, ":name");
    return tm_xstrdup(buf);
}

static unsigned
hs_flags_of(const struct tm_rule *r, int prefilter)
{
    unsigned f = HS_FLAG_ALLOWEMPTY | HS_FLAG_SINGLEMATCH;

    if (r->re_flags & TM_RE_I)
        f |= HS_FLAG_CASELESS;
    if (r->re_flags & TM_RE_M)
        f |= HS_FLAG_MULTILINE;
    if (r->re_flags & TM_RE_S)
        f |= HS_FLAG_DOTALL;
    if (prefilter)
        f |= HS_FLAG_PREFILTER;
    return f;
}

/* hs_text - the expression as Hyperscan sees it: Perl's /x becomes an inline (?x) */
static char *
hs_text(const struct tm_rule *r)
{
    size_t n = strlen(r->pattern);
    char *s = tm_xmalloc(n + 5);

    if (r->re_flags & TM_RE_X) {
        memcpy(s, "(?x)", 4);
        memcpy(s + 4, r->pattern, n + 1);
    } else {
        memcpy(s, r->pattern, n + 1);
    }
    return s;
}

/* set_why - an owned reason string for the engine choice */
static void
set_why(struct pat *p, const char *what, const char *detail)
{
    char buf[512];

    snprintf(buf, sizeof(buf), "%s: %.240s", what, detail);
    if (p->why_owned)
        tm_free((void *)(uintptr_t)p->why);
    p->why = tm_xstrdup(buf);
    p->why_owned = 1;
}

static void
clear_why(struct pat *p)
{
    if (p->why_owned)
        tm_free((void *)(uintptr_t)p->why);
    p->why = NULL;
    p->why_owned = 0;
}

/*
 * repeat_bounds - the largest counted repeat ({n}, {n,m}) in the pattern,
 * overall and directly after a group. Hyperscan unrolls counted repeats:
 * in the stock rules "(...){100}" takes 40 s to compile inside its
 * database (well under a second as a prefilter), and a prefilter with
 * several {0,2048} repeats 32 s alone (PCRE2 runs it in microseconds).
 */
static void
repeat_bounds(const char *pat, unsigned long *any, unsigned long *group)
{
    const char *p;

    *any = *group = 0;
    for (p = pat; *p != '\0'; p++) {
        unsigned long n = 0, m = 0;
        const char *q;
        if (*p == '\\' && p[1] != '\0') {
            p++;
            continue;
        }
        if (p[1] != '{')
            continue;
        for (q = p + 2; *q >= '0' && *q <= '9' && n < 1000000; q++)
            n = n * 10 + (unsigned long)(*q - '0');
        if (q == p + 2)
            continue;
        if (*q == ',')
            for (q++; *q >= '0' && *q <= '9' && m < 1000000; q++)
                m = m * 10 + (unsigned long)(*q - '0');
        if (*q != '}')
            continue;
        if (m < n)
            m = n;
        if (m > *any)
            *any = m;
        if (*p == ')' && m > *group)
            *group = m;
    }
}

/*
 * gate_info - 1 when Hyperscan takes gate with r's flags (as a prefilter
 * or exactly) and it has no counted repeat that is slow to compile; its
 * shortest match length in *min_width
 */
static int
gate_info(const char *gate, const struct tm_rule *r, int prefilter, unsigned *min_width)
{
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *cerr = NULL;
    unsigned long rep_any, rep_group;
    int ok;

    repeat_bounds(gate, &rep_any, &rep_group);
    ok = rep_any < 1000 && rep_group < 20 &&
         hs_expression_info(gate, hs_flags_of(r, prefilter), &info, &cerr) == HS_SUCCESS;
    if (ok && min_width != NULL)
        *min_width = info->min_width;
    hs_free_compile_error(cerr);
    free(info); /* checksrc: allow - Hyperscan's misc allocator */
    return ok;
}

/*
 * relaxed_prefilter - the relaxed form of r's regex (relax.h) when Hyperscan
 * takes it as a prefilter (and, with must_differ, when it is not the
 * regex itself), else NULL. Its matches include every match of the regex.
 */
static char *
relaxed_prefilter(const struct tm_rule *r, int must_differ)
{
    char *gate = tm_re_relax(r->pattern, (r->re_flags & TM_RE_X) != 0);

    if (gate == NULL || (must_differ && strcmp(gate, r->pattern) == 0) ||
        !gate_info(gate, r, 1, NULL)) {
        tm_free(gate);
        return NULL;
    }
    return gate;
}

/* gate_with - the pat runs PCRE2 behind gate (owned) in its group's database */
static int
gate_with(struct pat *p, char *gate, const char *what, const char *first)
{
    p->gate = gate;
    p->eng = TM_ENG_PREFILTER;
    set_why(p, what, first);
    return 1;
}

/*
 * counted_gate - a regex that is one group repeated n >= 2 times, (G){n},
 * gets the relaxed G as its gate, compiled without HS_FLAG_SINGLEMATCH,
 * and PCRE2 runs only on pieces where it matched with n distinct ends
 * (relax.h: tm_re_relax_unit; G must not match the empty string). The
 * relaxed regex itself has the repeat widened to '+', a gate that fired
 * on 8,011 of the corpus's 30,357 paragraphs for the stock
 * __FILL_THIS_FORM_SHORT2 ((?:<FF_YOUR><FF_ALL>...){3}, PCRE2 at 65 us a
 * run: half of all PCRE2 time); counting leaves 2,638.
 */
static int
counted_gate(struct pat *p, const struct tm_rule *r, const char *first)
{
    unsigned long n = 0;
    unsigned minw = 0;
    char *gate = tm_re_relax_unit(r->pattern, (r->re_flags & TM_RE_X) != 0, &n);
    int exact;

    if (gate == NULL || n > UINT32_MAX) {
        tm_free(gate);
        return 0;
    }
    exact = gate_info(gate, r, 0, &minw);
    if ((!exact && !gate_info(gate, r, 1, &minw)) || minw == 0) {
        tm_free(gate);
        return 0;
    }
    p->gate_exact = exact;
    p->need = (uint32_t)n;
    return gate_with(p, gate,
                     "Hyperscan gate of the relaxed repeated group, counting its match ends, "
                     "confirmed by PCRE2",
                     first);
}

/*
 * part_gate - a regex too large for Hyperscan even relaxed gets one of its
 * top-level items as the gate (relax.h: tm_re_relax_part): the one with
 * the longest shortest match that Hyperscan takes. The stock
 * __YOUR_PASSWORD (37 kB of ReplaceTags letter classes) ran PCRE2 on
 * every paragraph; its gate is now its last item, PASSWORD or PSWD.
 */
static int
part_gate(struct pat *p, const struct tm_rule *r, const char *first)
{
    size_t k, count = 0;
    unsigned best = 0;
    int ext = (r->re_flags & TM_RE_X) != 0;
    char *gate, *best_gate = NULL;

    tm_free(tm_re_relax_part(r->pattern, ext, SIZE_MAX, &count));
    for (k = 0; k < count && k < PART_GATE_MAX_ITEMS; k++) {
        unsigned minw = 0;
        if ((gate = tm_re_relax_part(r->pattern, ext, k, &count)) == NULL)
            continue;
        if (gate_info(gate, r, 1, &minw) && minw > best) {
            best = minw;
            tm_free(best_gate);
            best_gate = gate;
        } else {
            tm_free(gate);
        }
    }
    if (best < PART_GATE_MIN_WIDTH) {
        tm_free(best_gate);
        return 0;
    }
    return gate_with(p, best_gate,
                     "Hyperscan prefilter of one item of the regex (the most selective one "
                     "Hyperscan takes), confirmed by PCRE2",
                     first);
}

/*
 * relaxed_gate - a regex Hyperscan cannot take even as a prefilter gets
 * its relaxed form as the gate (or a counted gate, or a gate of one
 * item), and PCRE2 runs only where it matched.
 * Before this, the 14 such rules of the stock set ran PCRE2 on every
 * paragraph: 37% of the instructions of a scan (callgrind, issue 10).
 */
static void
relaxed_gate(struct pat *p, const struct tm_rule *r, const char *first)
{
    char *gate;

    if (counted_gate(p, r, first))
        return;
    if ((gate = relaxed_prefilter(r, 0)) == NULL) {
        (void)part_gate(p, r, first);
        return;
    }
    (void)gate_with(p, gate,
                    "Hyperscan prefilter of a relaxed form (anchors, lookarounds, "
                    "back-references and large repeats widened), confirmed by PCRE2",
                    first);
}

/*
 * second_gate - Hyperscan's own prefilter of a long expression can be
 * nearly useless: for the stock __FILL_THIS_FORM_FRAUD_PHISH1 it fires
 * on 98% of paragraphs, its relaxed form on 1%. A long prefilter also
 * gets its relaxed form as a second gate, and PCRE2 runs only where both
 * matched (both contain every match of the regex).
 */
static void
second_gate(struct pat *p, const struct tm_rule *r, const char *first)
{
    if ((p->gate2 = relaxed_prefilter(r, 1)) == NULL)
        return;
    p->two = 1;
    set_why(p, "Hyperscan prefilter and a prefilter of a relaxed form, both required, "
               "confirmed by PCRE2", first);
}

/* classify - pick the engine of one regex rule; compile its PCRE2 code */
static void
classify(struct pat *p, const struct tm_rule *r, int use_cached_engine)
{
    uint32_t opts = 0;
    int errcode;
    PCRE2_SIZE erroff;
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *cerr = NULL;
    unsigned long rep_any, rep_group;
    size_t plen;
    int lookaround;
    char *expr;

    if (r->re_flags & TM_RE_I)
        opts |= PCRE2_CASELESS;
    if (r->re_flags & TM_RE_M)
        opts |= PCRE2_MULTILINE;
    if (r->re_flags & TM_RE_S)
        opts |= PCRE2_DOTALL;
    if (r->re_flags & TM_RE_X)
        opts |= PCRE2_EXTENDED;
    p->re = pcre2_compile((PCRE2_SPTR)r->pattern, PCRE2_ZERO_TERMINATED, opts, &errcode, &erroff,
                          NULL);
    if (p->re == NULL) {
        PCRE2_UCHAR msg[160];
        char detail[220];
        pcre2_get_error_message(errcode, msg, sizeof(msg));
        snprintf(detail, sizeof(detail), "%s at offset %zu", (const char *)msg, (size_t)erroff);
        p->eng = TM_ENG_NONE;
        set_why(p, "PCRE2 cannot compile the regex", detail);
        return;
    }
    p->counts = (r->tflags & TM_TF_MULTIPLE) != 0;
    if (use_cached_engine)
        goto jit;
    expr = hs_text(r);
    repeat_bounds(r->pattern, &rep_any, &rep_group);
    plen = strlen(r->pattern);
    lookaround = strstr(r->pattern, "(?=") != NULL || strstr(r->pattern, "(?!") != NULL ||
                 strstr(r->pattern, "(?<=") != NULL || strstr(r->pattern, "(?<!") != NULL;
    if (plen >= BIG_PATTERN && lookaround) {
        /*
         * ReplaceTags expands 67 stock rules to kilobytes with lookarounds:
         * Hyperscan spends seconds rejecting each and seconds more as a
         * prefilter (the set of them fails to compile), and PCRE2 over every
         * paragraph cut throughput five-fold. Until a cheaper prefilter
         * exists they are reported and not run.
         */
        p->eng = TM_ENG_NONE;
        set_why(p, "not run",
                "a pattern of 2000+ bytes with lookarounds (ReplaceTags expansions): "
                "Hyperscan needs seconds per pattern to compile it as a prefilter and "
                "fails on them as a set, and PCRE2 on every paragraph costs 5x the "
                "rest of the rule set (see the closing notes of issue 3; issue 10)");
    } else if (rep_group < 20 &&
               hs_expression_info(expr, hs_flags_of(r, 0), &info, &cerr) == HS_SUCCESS) {
        p->eng = TM_ENG_HS;
    } else {
        char first[200];
        snprintf(first, sizeof(first), "%s",
                 cerr ? cerr->message : "large counted repeat of a group (slow to compile)");
        hs_free_compile_error(cerr);
        cerr = NULL;
        free(info); /* checksrc: allow - Hyperscan's misc allocator */
        info = NULL;
        if (rep_any >= 1000 || plen >= BIG_PATTERN) {
            p->eng = TM_ENG_PCRE2;
            set_why(p, "Hyperscan rejects it and a prefilter would be slow to compile "
                       "(counted repeat >= 1000 or a very large pattern)", first);
        } else if (hs_expression_info(expr, hs_flags_of(r, 1), &info, &cerr) == HS_SUCCESS) {
            p->eng = TM_ENG_PREFILTER;
            set_why(p, "Hyperscan prefilter, confirmed by PCRE2", first);
            if (plen >= TWO_GATE_MIN)
                second_gate(p, r, first);
        } else {
            p->eng = TM_ENG_PCRE2;
            set_why(p, "Hyperscan rejects it", first);
            hs_free_compile_error(cerr);
        }
        if (p->eng == TM_ENG_PCRE2)
            relaxed_gate(p, r, first);
    }
    free(info); /* checksrc: allow */
    tm_free(expr);
jit:
    if (p->eng == TM_ENG_PREFILTER || p->eng == TM_ENG_PCRE2 || p->counts)
        (void)pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE); /* interpreter if JIT fails */
}

/* compile_group - one Hyperscan database for the HS and prefilter rules of g */
static tm_rc
compile_group(struct tm_matcher *m, struct group *g, char *err, size_t errlen)
{
    size_t i, n, demotions = 0;

    for (;;) {
        const char **exprs;
        unsigned *flags, *ids;
        hs_compile_error_t *cerr = NULL;
        hs_error_t rc;

        exprs = tm_xcalloc(2 * g->npats, sizeof(*exprs));
        flags = tm_xcalloc(2 * g->npats, sizeof(*flags));
        ids = tm_xcalloc(2 * g->npats, sizeof(*ids));
        for (i = 0, n = 0; i < g->npats; i++) {
            struct pat *p = &m->pats[g->pats[i]];
            const struct tm_rule *r = &m->rs->rules[p->rule];
            if (p->eng != TM_ENG_HS && p->eng != TM_ENG_PREFILTER)
                continue;
            exprs[n] = p->gate != NULL ? tm_xstrdup(p->gate) : hs_text(r);
            flags[n] = hs_flags_of(r, p->eng == TM_ENG_PREFILTER && !p->gate_exact);
            if (p->need > 1)
                flags[n] &= ~(unsigned)HS_FLAG_SINGLEMATCH; /* every match end is counted */
            ids[n] = g->pats[i];
            n++;
            if (p->two && p->gate2 != NULL && p->eng == TM_ENG_PREFILTER) {
                exprs[n] = tm_xstrdup(p->gate2);
                flags[n] = hs_flags_of(r, 1);
                ids[n] = (unsigned)(m->npats + g->pats[i]);
                n++;
            }
        }
        rc = n ? hs_compile_multi(exprs, flags, ids, (unsigned)n, HS_MODE_BLOCK, NULL, &g->db, &cerr)
               : HS_SUCCESS;
        for (i = 0; i < n; i++)
            tm_free((void *)(uintptr_t)exprs[i]);
        if (rc == HS_SUCCESS) {
            tm_free(exprs);
            tm_free(flags);
            tm_free(ids);
            return TM_OK;
        }
        if (cerr != NULL && cerr->expression >= 0 && (size_t)cerr->expression < n &&
            demotions < MAX_DEMOTIONS) {
            /* Accepted alone, rejected in the set: demote that one to PCRE2
             * (a second gate is dropped instead; its first gate stands). */
            unsigned id = ids[cerr->expression];
            struct pat *p = &m->pats[id < m->npats ? id : id - m->npats];
            if (id >= m->npats) {
                p->two = 0;
            } else {
                p->eng = TM_ENG_PCRE2;
                p->two = 0;
                p->need = 0;
                set_why(p, "Hyperscan rejects it in the database", cerr->message);
                if (p->re != NULL)
                    (void)pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE);
            }
            demotions++;
            hs_free_compile_error(cerr);
            tm_free(exprs);
            tm_free(flags);
            tm_free(ids);
            continue;
        }
        snprintf(err, errlen, "%s: Hyperscan cannot build the database: %s", g->label,
                 cerr ? cerr->message : "unknown error");
        hs_free_compile_error(cerr);
        tm_free(exprs);
        tm_free(flags);
        tm_free(ids);
        return TM_EINVAL;
    }
}

/*
 * cache_key - sha256(format, hs_version, platform, rules sha256). The
 * databases are compiled for the host's CPU (hs_compile with no platform),
 * so the platform is part of the key: without it, a run on a CPU with
 * fewer features (another host sharing the cache, or valgrind, which hides
 * AVX-512) found the file "stale or corrupt", rebuilt it for itself and
 * overwrote it, and the next run on the better CPU silently used that
 * lesser database.
 */
static void
cache_key(const struct tm_ruleset *rs, unsigned char key[32])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    const char *v = hs_version();
    hs_platform_info_t plat;
    unsigned char pl[16];
    size_t i;

    memset(&plat, 0, sizeof(plat));
    (void)hs_populate_platform(&plat);
    for (i = 0; i < 8; i++)
        pl[i] = (unsigned char)(plat.cpu_features >> (8 * i));
    pl[8] = (unsigned char)plat.tune;
    memset(pl + 9, 0, sizeof(pl) - 9);
    TM_ASSERT(c != NULL);
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_DigestUpdate(c, MATCH_FORMAT, strlen(MATCH_FORMAT));
    EVP_DigestUpdate(c, v, strlen(v));
    EVP_DigestUpdate(c, pl, sizeof(pl));
    EVP_DigestUpdate(c, rs->sha256, sizeof(rs->sha256));
    EVP_DigestFinal_ex(c, key, NULL);
    EVP_MD_CTX_free(c);
}

static void
cache_path(const char *dir, const unsigned char key[32], char *out, size_t outlen)
{
    char hex[17];
    size_t i;

    for (i = 0; i < 8; i++)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    snprintf(out, outlen, "%s/rules-%s.hsdb", dir, hex);
}

static void
put_u32(struct tm_buf *b, uint32_t v)
{
    unsigned char x[4];

    tm_put_be32(x, v);
    (void)tm_buf_append(b, x, 4);
}

/* mkdir_p - create dir and its missing parents (mode 0755) */
static void
mkdir_p(const char *dir)
{
    char buf[4096];
    size_t i, n = strlen(dir);

    if (n == 0 || n >= sizeof(buf))
        return;
    memcpy(buf, dir, n + 1);
    for (i = 1; i < n; i++)
        if (buf[i] == '/') {
            buf[i] = '\0';
            (void)mkdir(buf, 0755);
            buf[i] = '/';
        }
    (void)mkdir(buf, 0755);
}

/*
 * cache_write - header (magic, key, payload length, payload sha256), then
 * the payload: pattern engines and each group's serialized database. Written
 * to a temporary file and renamed, so a reader never sees half a file.
 */
static void
cache_write(const struct tm_matcher *m, const char *dir, const unsigned char key[32])
{
    struct tm_arena *a = tm_arena_new((size_t)1 << 31);
    struct tm_buf b;
    char path[4096], tmp[4200];
    unsigned char sum[32];
    size_t i;
    FILE *f;
    int fd;

    if (a == NULL)
        return;
    tm_buf_init(&b, a, (size_t)1 << 31);
    put_u32(&b, (uint32_t)m->npats);
    for (i = 0; i < m->npats; i++) {
        unsigned char e = (unsigned char)(m->pats[i].eng | (m->pats[i].two ? 0x80 : 0));
        const char *why = m->pats[i].why ? m->pats[i].why : "";
        size_t wl = strlen(why) > 1000 ? 1000 : strlen(why);
        put_u32(&b, m->pats[i].rule);
        (void)tm_buf_append(&b, &e, 1);
        put_u32(&b, m->pats[i].need);
        put_u32(&b, (uint32_t)wl);
        (void)tm_buf_append(&b, why, wl);
    }
    put_u32(&b, (uint32_t)m->ngroups);
    for (i = 0; i < m->ngroups; i++) {
        char *bytes = NULL;
        size_t len = 0;
        if (m->groups[i].db != NULL &&
            hs_serialize_database(m->groups[i].db, &bytes, &len) != HS_SUCCESS) {
            tm_arena_free(a);
            return;
        }
        put_u32(&b, (uint32_t)len);
        if (len > 0)
            (void)tm_buf_append(&b, bytes, len);
        free(bytes); /* checksrc: allow - from hs_serialize_database */
    }
    SHA256(b.data, b.len, sum);
    mkdir_p(dir);
    cache_path(dir, key, path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || (f = fdopen(fd, "wb")) == NULL) {
        if (fd >= 0)
            close(fd);
        tm_log(TM_LOG_WARN, "rules cache: cannot write %s: %s", tmp, strerror(errno));
        tm_arena_free(a);
        return;
    }
    {
        unsigned char hdr[8 + 32 + 8 + 32];
        uint64_t len = b.len;
        memcpy(hdr, CACHE_MAGIC, 8);
        memcpy(hdr + 8, key, 32);
        for (i = 0; i < 8; i++)
            hdr[40 + i] = (unsigned char)(len >> (56 - 8 * i));
        memcpy(hdr + 48, sum, 32);
        if (fwrite(hdr, 1, sizeof(hdr), f) != sizeof(hdr) || fwrite(b.data, 1, b.len, f) != b.len ||
            fclose(f) != 0 || rename(tmp, path) != 0) {
            tm_log(TM_LOG_WARN, "rules cache: cannot write %s", path);
            unlink(tmp);
        }
    }
    tm_arena_free(a);
}

/*
 * cache_read - load engines and databases if the file matches this rule
 * set exactly; 0 on success, -1 (and nothing changed) otherwise.
 */
static int
cache_read(struct tm_matcher *m, const char *dir, const unsigned char key[32])
{
    char path[4096];
    unsigned char hdr[80], sum[32], *buf = NULL;
    uint64_t len = 0;
    size_t i, off;
    struct stat st;
    FILE *f;
    hs_database_t **dbs = NULL;
    enum tm_engine_kind *engs = NULL;
    uint8_t *twos = NULL;
    uint32_t *needs = NULL;
    struct tm_str *whys = NULL;
    int ok = -1;

    cache_path(dir, key, path, sizeof(path));
    if ((f = fopen(path, "rb")) == NULL)
        return -1;
    if (fstat(fileno(f), &st) != 0 || fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr) ||
        memcmp(hdr, CACHE_MAGIC, 8) != 0 || memcmp(hdr + 8, key, 32) != 0)
        goto out;
    for (i = 0; i < 8; i++)
        len = len << 8 | hdr[40 + i];
    if (len + sizeof(hdr) != (uint64_t)st.st_size || len < 8)
        goto out;
    buf = tm_xmalloc((size_t)len);
    if (fread(buf, 1, (size_t)len, f) != len)
        goto out;
    SHA256(buf, (size_t)len, sum);
    if (memcmp(sum, hdr + 48, 32) != 0)
        goto out;
    if (tm_get_be32(buf) != m->npats)
        goto out;
    engs = tm_xcalloc(m->npats ? m->npats : 1, sizeof(*engs));
    twos = tm_xcalloc(m->npats ? m->npats : 1, sizeof(*twos));
    needs = tm_xcalloc(m->npats ? m->npats : 1, sizeof(*needs));
    whys = tm_xcalloc(m->npats ? m->npats : 1, sizeof(*whys));
    for (i = 0, off = 4; i < m->npats; i++) {
        uint32_t wl;
        if (off + 13 > len || tm_get_be32(buf + off) != m->pats[i].rule ||
            (buf[off + 4] & 0x7f) > TM_ENG_PCRE2 ||
            ((buf[off + 4] & 0x80) && (buf[off + 4] & 0x7f) != TM_ENG_PREFILTER))
            goto out;
        engs[i] = (enum tm_engine_kind)(buf[off + 4] & 0x7f);
        twos[i] = (buf[off + 4] & 0x80) != 0;
        needs[i] = tm_get_be32(buf + off + 5);
        wl = tm_get_be32(buf + off + 9);
        off += 13;
        if (needs[i] > 1 && engs[i] != TM_ENG_PREFILTER)
            goto out;
        if (wl > 1000 || wl > len - off)
            goto out;
        whys[i] = tm_str_make(buf + off, wl);
        off += wl;
    }
    if (off + 4 > len || tm_get_be32(buf + off) != m->ngroups)
        goto out;
    off += 4;
    dbs = tm_xcalloc(m->ngroups ? m->ngroups : 1, sizeof(*dbs));
    for (i = 0; i < m->ngroups; i++) {
        uint32_t dl;
        if (off + 4 > len)
            goto out;
        dl = tm_get_be32(buf + off);
        off += 4;
        if (dl > len - off)
            goto out;
        if (dl > 0 && hs_deserialize_database((const char *)buf + off, dl, &dbs[i]) != HS_SUCCESS)
            goto out;
        off += dl;
    }
    if (off != len)
        goto out;
    for (i = 0; i < m->npats; i++) {
        if (m->pats[i].eng == TM_ENG_NONE)
            continue; /* PCRE2 cannot compile it here: that verdict stands */
        m->pats[i].eng = engs[i];
        m->pats[i].two = twos[i];
        m->pats[i].need = needs[i];
        clear_why(&m->pats[i]);
        if (whys[i].len > 0) {
            m->pats[i].why = tm_xstrdup_n((const char *)whys[i].p, whys[i].len);
            m->pats[i].why_owned = 1;
        }
    }
    for (i = 0; i < m->ngroups; i++) {
        m->groups[i].db = dbs[i];
        dbs[i] = NULL;
    }
    ok = 0;
out:
    if (dbs != NULL)
        for (i = 0; i < m->ngroups; i++)
            hs_free_database(dbs[i]);
    tm_free(dbs);
    tm_free(engs);
    tm_free(twos);
    tm_free(needs);
    tm_free(whys);
    tm_free(buf);
    fclose(f);
    if (ok != 0)
        tm_log(TM_LOG_WARN, "rules cache: %s is stale or corrupt; rebuilding", path);
    return ok;
}

/*
 * index_groups - per group, the PCRE2-only pats and the negated ones, once
 * the engines are final. scan_piece runs the PCRE2-only list on every
 * piece; walking the whole group for them was 1.7% of the instructions of
 * a scan with the stock rules (callgrind, issue 10).
 */
static void
index_groups(struct tm_matcher *m)
{
    size_t gi, i;

    for (gi = 0; gi < m->ngroups; gi++) {
        struct group *g = &m->groups[gi];
        g->pcre = tm_xcalloc(g->npats ? g->npats : 1, sizeof(*g->pcre));
        g->neg = tm_xcalloc(g->npats ? g->npats : 1, sizeof(*g->neg));
        g->npcre = g->nneg = 0;
        for (i = 0; i < g->npats; i++) {
            const struct pat *p = &m->pats[g->pats[i]];
            if (p->eng == TM_ENG_PCRE2 && p->re != NULL)
                g->pcre[g->npcre++] = g->pats[i];
            if (m->rs->rules[p->rule].negate)
                g->neg[g->nneg++] = g->pats[i];
        }
    }
    for (i = 0; i < m->npats; i++) {
        struct pat *p = &m->pats[i];
        const struct tm_rule *r = &m->rs->rules[p->rule];
        /* only a plain hit of a sub-rule, which no score and no !~ reads directly */
        p->lazy = p->re != NULL && (p->eng == TM_ENG_PREFILTER || p->eng == TM_ENG_PCRE2) &&
                  strncmp(r->name, "__", 2) == 0 && !r->negate && !(r->tflags & TM_TF_MULTIPLE);
    }
}

/* compile_all - classify every pattern and build every database, in this process */
static tm_rc
compile_all(struct tm_matcher *m, char *err, size_t errlen)
{
    size_t i;
    tm_rc rc = TM_OK;

    for (i = 0; i < m->npats; i++) {
        if (m->pats[i].re != NULL)
            pcre2_code_free(m->pats[i].re);
        m->pats[i].re = NULL;
        m->pats[i].eng = TM_ENG_HS;
        clear_why(&m->pats[i]);
        tm_free(m->pats[i].gate);
        tm_free(m->pats[i].gate2);
        m->pats[i].gate = m->pats[i].gate2 = NULL;
        m->pats[i].two = 0;
        classify(&m->pats[i], &m->rs->rules[m->pats[i].rule], 0);
    }
    for (i = 0; i < m->ngroups && rc == TM_OK; i++) {
        double g0 = tm_now_ms();
        rc = compile_group(m, &m->groups[i], err, errlen);
        tm_log(TM_LOG_DEBUG, "compiled %s: %zu rules in %.0f ms", m->groups[i].label,
               m->groups[i].npats, tm_now_ms() - g0);
    }
    return rc;
}

/*
 * compile_in_child - rule compilation is a trust boundary (a rule file can
 * ask Hyperscan for minutes of work or gigabytes): a child process compiles
 * and writes the cache file, with a time limit; the parent only ever loads
 * the validated file. Returns TM_OK when the child finished in time.
 */
static tm_rc
compile_in_child(struct tm_matcher *m, const unsigned char key[32], char *err, size_t errlen)
{
    pid_t pid;
    int status = 0;
    double t0 = tm_now_ms(), limit = (double)m->opts.compile_timeout_s * 1000.0;

    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot fork the rule compiler: %s", strerror(errno));
        return TM_EIO;
    }
    if (pid == 0) {
        tm_rc rc = compile_all(m, err, errlen);
        if (rc == TM_OK)
            cache_write(m, m->opts.cache_dir, key);
        else
            tm_log(TM_LOG_ERR, "%s", err);
        _exit(rc == TM_OK ? 0 : 1);
    }
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            snprintf(err, errlen, "waiting for the rule compiler: %s", strerror(errno));
            return TM_EIO;
        }
        if (tm_now_ms() - t0 > limit) {
            kill(pid, SIGKILL);
            (void)waitpid(pid, &status, 0);
            snprintf(err, errlen, "compiling the rules took longer than %lu s; stopped (a rule "
                                  "with huge counted repeats? see tamis rules check)",
                     m->opts.compile_timeout_s);
            return TM_ELIMIT;
        }
        {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (err[0] == '\0')
            snprintf(err, errlen, "the rule compiler failed (%s %d)",
                     WIFSIGNALED(status) ? "signal" : "exit status",
                     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        return TM_EINVAL;
    }
    return TM_OK;
}

tm_rc
tm_match_build(const struct tm_ruleset *rs, const struct tm_match_opts *o, struct tm_matcher **out,
               struct tm_match_stats *st, char *err, size_t errlen)
{
    struct tm_matcher *m = tm_xcalloc(1, sizeof(*m));
    unsigned char key[32];
    size_t i, j;
    double t0 = tm_now_ms();
    int cached = 0, compiled_in_child = 0;
    tm_rc rc = TM_OK;

    memset(st, 0, sizeof(*st));
    m->rs = rs;
    if (o != NULL)
        m->opts = *o;
    if (m->opts.pcre2_match_limit == 0)
        m->opts.pcre2_match_limit = DEFAULT_MATCH_LIM;
    if (m->opts.pcre2_depth_limit == 0)
        m->opts.pcre2_depth_limit = DEFAULT_DEPTH_LIM;
    if (m->opts.compile_timeout_s == 0)
        m->opts.compile_timeout_s = DEFAULT_COMPILE_S;
    m->rule2pat = tm_xcalloc(rs->n ? rs->n : 1, sizeof(*m->rule2pat));
    m->pats = tm_xcalloc(rs->n ? rs->n : 1, sizeof(*m->pats));
    m->groups = tm_xcalloc(rs->n ? rs->n : 1, sizeof(*m->groups));

    /* Patterns and groups, in rule order (deterministic: the cache relies on it). */
    for (i = 0; i < rs->n; i++) {
        const struct tm_rule *r = &rs->rules[i];
        struct group *g = NULL;
        m->rule2pat[i] = -1;
        if (!is_regex_rule(r))
            continue;
        for (j = 0; j < m->ngroups; j++)
            if (same_group(&m->groups[j], r)) {
                g = &m->groups[j];
                break;
            }
        if (g == NULL) {
            g = &m->groups[m->ngroups++];
            g->type = r->type;
            g->kind = r->hdr_kind;
            g->names = r->hdr_names;
            g->nnames = r->n_hdr_names;
            g->mods = r->hdr_mods;
            g->if_unset = r->if_unset;
            g->label = group_label(r);
            g->pats = tm_xcalloc(rs->n, sizeof(*g->pats));
        }
        m->pats[m->npats].rule = (uint32_t)i;
        m->pats[m->npats].group = (uint32_t)(g - m->groups);
        g->pats[g->npats++] = (uint32_t)m->npats;
        m->rule2pat[i] = (int32_t)m->npats;
        m->npats++;
    }

    cache_key(rs, key);
    /* With a cache, engines come from the file and hs_expression_info is skipped. */
    for (i = 0; i < m->npats; i++)
        m->pats[i].eng = TM_ENG_HS;
    if (m->opts.cache_dir != NULL && m->npats > 0) {
        for (i = 0; i < m->npats; i++)
            classify(&m->pats[i], &rs->rules[m->pats[i].rule], 1);
        cached = cache_read(m, m->opts.cache_dir, key) == 0;
        if (!cached) {
            /* Compile in a time-limited child that writes the cache, then load it. */
            rc = compile_in_child(m, key, err, errlen);
            compiled_in_child = rc == TM_OK;
            if (rc == TM_OK && !(cached = cache_read(m, m->opts.cache_dir, key) == 0))
                tm_log(TM_LOG_WARN, "rules cache in %s not usable; compiling in process",
                       m->opts.cache_dir);
        }
        if (cached)
            for (i = 0; i < m->npats; i++)
                if (m->pats[i].eng == TM_ENG_PREFILTER || m->pats[i].eng == TM_ENG_PCRE2 ||
                    m->pats[i].counts)
                    (void)pcre2_jit_compile(m->pats[i].re, PCRE2_JIT_COMPLETE);
    }
    if (!cached && rc == TM_OK) {
        rc = compile_all(m, err, errlen);
        if (rc == TM_OK && m->opts.cache_dir != NULL && m->npats > 0)
            cache_write(m, m->opts.cache_dir, key);
    }
    if (rc != TM_OK) {
        tm_match_free(m);
        return rc;
    }
    index_groups(m);
    m->exists = tm_xcalloc(rs->n ? rs->n : 1, sizeof(*m->exists));
    for (i = 0; i < rs->n; i++)
        if (tm_rule_is_exists(&rs->rules[i]) && !rs->rules[i].unsupported)
            m->exists[m->nexists++] = (uint32_t)i;

    st->rules = rs->n;
    for (i = 0; i < rs->n; i++) {
        const struct tm_rule *r = &rs->rules[i];
        if (r->type == TM_RULE_META ||
            ((tm_rule_is_exists(r) || r->eval != NULL) && !r->unsupported))
            continue; /* not regex rules: metas, exists:, native eval: functions */
        if (m->rule2pat[i] < 0)
            st->by_engine[TM_ENG_NONE]++;
        else
            st->by_engine[m->pats[m->rule2pat[i]].eng]++;
    }
    for (i = 0; i < m->ngroups; i++) {
        size_t sz = 0;
        if (m->groups[i].db != NULL) {
            st->databases++;
            if (hs_database_size(m->groups[i].db, &sz) == HS_SUCCESS)
                st->db_bytes += sz;
        }
    }
    st->from_cache = cached && !compiled_in_child;
    st->compile_ms = tm_now_ms() - t0;
    *out = m;
    return TM_OK;
}

void
tm_match_free(struct tm_matcher *m)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->npats; i++) {
        pcre2_code_free(m->pats[i].re);
        clear_why(&m->pats[i]);
        tm_free(m->pats[i].gate);
        tm_free(m->pats[i].gate2);
    }
    for (i = 0; i < m->ngroups; i++) {
        hs_free_database(m->groups[i].db);
        tm_free(m->groups[i].label);
        tm_free(m->groups[i].pats);
        tm_free(m->groups[i].pcre);
        tm_free(m->groups[i].neg);
    }
    tm_free(m->groups);
    tm_free(m->pats);
    tm_free(m->rule2pat);
    tm_free(m->exists);
    tm_free(m);
}

enum tm_engine_kind
tm_match_engine(const struct tm_matcher *m, size_t rule, const char **why)
{
    const struct tm_rule *r = &m->rs->rules[rule];
    int32_t p = m->rule2pat[rule];

    if (why != NULL)
        *why = NULL;
    if (r->unsupported) {
        if (why != NULL)
            *why = r->why;
        return TM_ENG_NONE;
    }
    if (p < 0)
        return TM_ENG_NONE;
    if (why != NULL)
        *why = m->pats[p].why;
    return m->pats[p].eng;
}

struct tm_match_scratch *
tm_match_scratch_new(const struct tm_matcher *m)
{
    struct tm_match_scratch *s = tm_calloc(1, sizeof(*s));
    size_t i;

    if (s == NULL)
        return NULL;
    for (i = 0; i < m->ngroups; i++)
        if (m->groups[i].db != NULL && hs_alloc_scratch(m->groups[i].db, &s->hs) != HS_SUCCESS)
            goto fail;
    s->md = pcre2_match_data_create(32, NULL);
    s->mctx = pcre2_match_context_create(NULL);
    if (s->md == NULL || s->mctx == NULL)
        goto fail;
    pcre2_set_match_limit(s->mctx, (uint32_t)m->opts.pcre2_match_limit);
    pcre2_set_depth_limit(s->mctx, (uint32_t)m->opts.pcre2_depth_limit);
    s->capcand = m->npats ? m->npats : 1;
    s->cand = tm_calloc(s->capcand, sizeof(*s->cand));
    s->ends = tm_calloc(s->capcand, sizeof(*s->ends));
    s->lastend = tm_calloc(s->capcand, sizeof(*s->lastend));
    if (s->cand == NULL || s->ends == NULL || s->lastend == NULL)
        goto fail;
    return s;
fail:
    tm_match_scratch_free(s);
    return NULL;
}

void
tm_match_scratch_free(struct tm_match_scratch *s)
{
    if (s == NULL)
        return;
    hs_free_scratch(s->hs);
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mctx);
    tm_free(s->cand);
    tm_free(s->ends);
    tm_free(s->lastend);
    tm_free(s);
}

struct scan_ctx {
    const struct tm_matcher *m;
    struct tm_match_scratch *s;
    struct tm_match_result *res;
    struct tm_task *t;
    uint8_t *seen; /* per pat: SEEN_* bits of this piece; nonzero = in s->cand */
};

static int
on_hs_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
            void *ctx)
{
    struct scan_ctx *c = ctx;
    struct tm_match_scratch *s = c->s;
    unsigned bit = SEEN_MAIN;

    (void)from;
    (void)flags;
    if (id >= c->m->npats) {
        id -= (unsigned)c->m->npats;
        bit = SEEN_SECOND;
    }
    if (!c->seen[id]) {
        s->cand[s->ncand++] = id;
        s->ends[id] = 1;
        s->lastend[id] = (uint32_t)to;
    } else if (c->m->pats[id].need > 1 && s->lastend[id] != (uint32_t)to) {
        /* an end reported twice, or out of order, is counted twice: the
         * count can only be too high, never too low */
        s->ends[id]++;
        s->lastend[id] = (uint32_t)to;
    }
    c->seen[id] |= (uint8_t)bit;
    return 0;
}

/*
 * pcre_run - PCRE2 on one piece: the number of non-overlapping matches (at
 * most `max`, Perl's //g), and the first match's span. A match or depth
 * limit counts as no match and is logged at debug level.
 */
static uint32_t
pcre_run(const struct pat *p, struct tm_match_scratch *s, const unsigned char *text, size_t len,
         uint32_t max, size_t *mstart, size_t *mend)
{
    PCRE2_SIZE off = 0;
    uint32_t n = 0;

    while (n < max && off <= len) {
        int rc = pcre2_match(p->re, (PCRE2_SPTR)text, len, off, 0, s->md, s->mctx);
        PCRE2_SIZE *ov;
        if (rc < 0) {
            if (rc != PCRE2_ERROR_NOMATCH)
                tm_log(TM_LOG_DEBUG, "pcre2 limit or error %d on rule %u", rc, p->rule);
            break;
        }
        ov = pcre2_get_ovector_pointer(s->md);
        if (n == 0) {
            *mstart = ov[0];
            *mend = ov[1];
        }
        n++;
        off = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
    }
    return n;
}

/* record - a confirmed match of pat p in piece k */
static void
record(struct scan_ctx *c, const struct pat *p, const struct group *g, size_t k,
       const unsigned char *text, size_t len, uint32_t count, size_t ms, size_t me, int have_span)
{
    struct tm_match_result *res = c->res;
    const struct tm_rule *r = &c->m->rs->rules[p->rule];
    uint32_t cap = r->maxhits ? r->maxhits : UINT32_MAX;

    if (r->tflags & TM_TF_MULTIPLE) {
        uint32_t h = res->hits[p->rule];
        res->hits[p->rule] = count > cap - h ? cap : h + count;
    } else {
        res->hits[p->rule] = 1;
    }
    if (res->where != NULL && res->where[p->rule].target == NULL) {
        struct tm_match_where *w = &res->where[p->rule];
        if (!have_span && p->re != NULL)
            have_span = pcre_run(p, c->s, text, len, 1, &ms, &me) > 0;
        w->target = g->label;
        w->piece = k;
        w->offset = have_span ? ms : 0;
        w->text = text + (have_span ? ms : 0);
        w->len = have_span ? TM_MIN(me - ms, (size_t)EXPLAIN_MAX_TEXT) : 0;
    }
}

static tm_rc
pieces_of(struct tm_task *t, const struct group *g, const struct tm_textset **set,
          struct tm_str *one, int *present)
{
    static const enum tm_text_hdr_kind kinds[] = {TM_TEXT_HDR_NAMED, TM_TEXT_HDR_ALL,
                                                  TM_TEXT_HDR_TOCC, TM_TEXT_HDR_MESSAGEID,
                                                  TM_TEXT_HDR_EXISTS};
    *set = NULL;
    *present = 1;
    switch (g->type) {
    case TM_RULE_BODY:
        return tm_text_body(t, set);
    case TM_RULE_RAWBODY:
        return tm_text_rawbody(t, set);
    case TM_RULE_URI:
        return tm_url_uri_target(t, set);
    case TM_RULE_FULL:
        *one = tm_text_full(t);
        return TM_OK;
    case TM_RULE_HEADER: {
        tm_rc rc = tm_text_header(t, kinds[g->kind], g->names, g->nnames, g->mods, one, present);
        if (rc == TM_OK && !*present && g->if_unset != NULL)
            *one = tm_str_make(g->if_unset, strlen(g->if_unset));
        else if (rc == TM_OK && !*present)
            *one = tm_str_make("", 0);
        return rc;
    }
    default:
        return TM_EINVAL;
    }
}

/* A PCRE2 confirmation that waits (tm_match_result.lazy). */
struct tm_match_deferred {
    uint32_t pat;
    uint32_t group;
    size_t piece;
    const unsigned char *text; /* the task's piece: it lives as long as the task */
    size_t len;
};

/*
 * defer - keep the candidate of a lazy pat for tm_match_confirm; 0 when it
 * was kept, -1 when it could not be (no memory: confirm it now instead)
 */
static int
defer(struct scan_ctx *c, uint32_t pi, const struct group *g, size_t k, const unsigned char *text,
      size_t len)
{
    struct tm_match_result *res = c->res;
    const struct pat *p = &c->m->pats[pi];
    struct tm_match_deferred *d;

    if (res->hits[p->rule])
        return 0; /* a plain hit is already known: one more candidate adds nothing */
    if (res->pending == NULL &&
        (res->pending = tm_arena_calloc(c->t->arena, c->m->rs->n, 1)) == NULL)
        return -1;
    if (res->ndeferred == res->capdeferred) {
        size_t cap = res->capdeferred ? 2 * res->capdeferred : 64;
        struct tm_match_deferred *n = tm_arena_realloc(
            c->t->arena, res->deferred, res->capdeferred * sizeof(*n), cap * sizeof(*n));
        if (n == NULL)
            return -1;
        res->deferred = n;
        res->capdeferred = cap;
    }
    d = &res->deferred[res->ndeferred++];
    d->pat = pi;
    d->group = (uint32_t)(g - c->m->groups);
    d->piece = k;
    d->text = text;
    d->len = len;
    res->pending[p->rule] = 1;
    return 0;
}

static void
scan_piece(struct scan_ctx *c, const struct group *g, size_t k, const unsigned char *text,
           size_t len)
{
    struct tm_match_scratch *s = c->s;
    size_t i;

    s->ncand = 0;
    if (g->db != NULL) {
        static const unsigned char empty[1] = {0};
        (void)hs_scan(g->db, len ? (const char *)text : (const char *)empty, (unsigned)len, 0, s->hs,
                      on_hs_match, c);
    }
    for (i = 0; i < s->ncand; i++) {
        const struct pat *p = &c->m->pats[s->cand[i]];
        const struct tm_rule *r = &c->m->rs->rules[p->rule];
        size_t ms = 0, me = 0;
        uint32_t n;
        unsigned seen = c->seen[s->cand[i]];
        c->seen[s->cand[i]] = 0;
        if (p->two && seen != (SEEN_MAIN | SEEN_SECOND))
            continue; /* one of its two gates only */
        if (p->need > 1 && s->ends[s->cand[i]] < p->need)
            continue; /* a counted gate with fewer match ends than the repeat needs */
        if (p->eng == TM_ENG_HS && !p->counts) {
            record(c, p, g, k, text, len, 1, 0, 0, 0);
            continue;
        }
        if (c->res->lazy && p->lazy && defer(c, s->cand[i], g, k, text, len) == 0)
            continue;
        n = pcre_run(p, s, text, len, p->counts ? (r->maxhits ? r->maxhits : 1000) : 1, &ms, &me);
        if (n > 0)
            record(c, p, g, k, text, len, n, ms, me, 1);
    }
    for (i = 0; i < g->npcre; i++) {
        const struct pat *p = &c->m->pats[g->pcre[i]];
        const struct tm_rule *r = &c->m->rs->rules[p->rule];
        size_t ms = 0, me = 0;
        uint32_t n;
        if (c->res->lazy && p->lazy && defer(c, g->pcre[i], g, k, text, len) == 0)
            continue;
        n = pcre_run(p, s, text, len, p->counts ? (r->maxhits ? r->maxhits : 1000) : 1, &ms, &me);
        if (n > 0)
            record(c, p, g, k, text, len, n, ms, me, 1);
    }
}

/* exists_kind - exists:ToCc and exists:MESSAGEID name SpamAssassin's composite headers */
static enum tm_text_hdr_kind
exists_kind(const struct tm_rule *r)
{
    if (r->n_hdr_names == 1 && strcmp(r->hdr_names[0], "ToCc") == 0)
        return TM_TEXT_HDR_TOCC;
    if (r->n_hdr_names == 1 && strcmp(r->hdr_names[0], "MESSAGEID") == 0)
        return TM_TEXT_HDR_MESSAGEID;
    if (r->n_hdr_names == 1 && strcmp(r->hdr_names[0], "ALL") == 0)
        return TM_TEXT_HDR_ALL;
    return TM_TEXT_HDR_NAMED;
}

tm_rc
tm_match_result_init(const struct tm_matcher *m, struct tm_task *t, int explain,
                     struct tm_match_result *res)
{
    size_t n = m->rs->n ? m->rs->n : 1;

    memset(res, 0, sizeof(*res));
    res->hits = tm_arena_calloc(t->arena, n, sizeof(*res->hits));
    res->where = explain ? tm_arena_calloc(t->arena, n, sizeof(*res->where)) : NULL;
    return res->hits == NULL || (explain && res->where == NULL) ? TM_ENOMEM : TM_OK;
}

tm_rc
tm_match_scan(const struct tm_matcher *m, struct tm_match_scratch *s, struct tm_task *t,
              struct tm_match_result *res)
{
    struct scan_ctx c;
    size_t gi, i, k;
    const struct tm_ruleset *rs = m->rs;

    c.seen = tm_arena_calloc(t->arena, m->npats ? m->npats : 1, 1);
    if (res->hits == NULL || c.seen == NULL)
        return TM_ENOMEM;
    c.m = m;
    c.s = s;
    c.res = res;
    c.t = t;

    for (gi = 0; gi < m->ngroups; gi++) {
        const struct group *g = &m->groups[gi];
        const struct tm_textset *set;
        struct tm_str one = TM_STR_NULL;
        int present;
        tm_rc rc = pieces_of(t, g, &set, &one, &present);
        if (rc != TM_OK)
            return rc;
        if (set != NULL) {
            for (k = 0; k < set->n; k++)
                scan_piece(&c, g, k, set->v[k].p, set->v[k].len);
        } else {
            scan_piece(&c, g, 0, one.p, one.len);
        }
        /* !~ rules hit when their regex did not match. */
        for (i = 0; i < g->nneg; i++) {
            const struct pat *p = &m->pats[g->neg[i]];
            res->hits[p->rule] = res->hits[p->rule] ? 0 : 1;
        }
    }
    /* exists: rules */
    for (k = 0; k < m->nexists; k++) {
        const struct tm_rule *r = &rs->rules[m->exists[k]];
        struct tm_str v;
        int present = 0;
        i = m->exists[k];
        if (tm_text_header(t, exists_kind(r), r->hdr_names, r->n_hdr_names, r->hdr_mods, &v,
                           &present) != TM_OK)
            return TM_ENOMEM;
        if (present)
            res->hits[i] = 1;
        if (present && res->where != NULL) {
            res->where[i].target = "header exists";
            res->where[i].text = v.p;
            res->where[i].len = TM_MIN(v.len, (size_t)EXPLAIN_MAX_TEXT);
        }
    }
    return TM_OK;
}

tm_rc
tm_match_confirm(const struct tm_matcher *m, struct tm_match_scratch *s, struct tm_task *t,
                 struct tm_match_result *res, size_t rule)
{
    struct scan_ctx c;
    size_t i;

    if (res->pending == NULL || rule >= m->rs->n || !res->pending[rule])
        return TM_OK;
    memset(&c, 0, sizeof(c));
    c.m = m;
    c.s = s;
    c.res = res;
    c.t = t;
    res->pending[rule] = 0;
    for (i = 0; i < res->ndeferred && !res->hits[rule]; i++) {
        const struct tm_match_deferred *d = &res->deferred[i];
        const struct pat *p = &m->pats[d->pat];
        size_t ms = 0, me = 0;
        if (p->rule != rule)
            continue;
        if (pcre_run(p, s, d->text, d->len, 1, &ms, &me) > 0)
            record(&c, p, &m->groups[d->group], d->piece, d->text, d->len, 1, ms, me, 1);
    }
    return TM_OK;
}

int
tm_match_lazy(const struct tm_matcher *m, size_t rule)
{
    return rule < m->rs->n && m->rule2pat[rule] >= 0 && m->pats[m->rule2pat[rule]].lazy;
}
