/*
 * test_verdict.c - the verdict's "cannot decide" policy and actions:
 * tm_verdict_undecided never lets a message pass as clean by default,
 * keeps a stronger action, and the SMTP replies name no internals.
 * tm_verdict_early: the bound it takes from the rules that have not run.
 * tm_verdict_resolve: which waiting sub-rule matches it confirms (by hand),
 * and that confirming only those gives the verdict of running them all
 * (random metas against the plain evaluation).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/limits.h"
#include "core/arena.h"
#include "core/task.h"
#include "match/match.h"
#include "rules/rules.h"
#include "suites.h"
#include "verdict/verdict.h"

static struct tm_task *
new_task(struct tm_engine **eng)
{
    struct tm_limits lim = tm_limits_default();

    *eng = tm_engine_new_bare(&lim);
    return *eng != NULL ? tm_task_new(*eng) : NULL;
}

TM_TEST(verdict_undecided_tempfails_by_default)
{
    struct tm_engine *eng;
    struct tm_task *t = new_task(&eng);
    struct tm_verdict_cfg cfg;
    struct tm_verdict v;
    const char *opt[1] = {"part 1.2 x.zip: can't read"};

    REQUIRE(t != NULL);
    tm_verdict_cfg_default(&cfg);
    memset(&v, 0, sizeof(v));
    CHECK_EQ_INT(tm_verdict_undecided(t, &cfg, TM_SYM_AV_ERROR, "d", opt, 1, &v), TM_OK);
    CHECK_EQ_INT(v.action, TM_ACT_SOFT_REJECT);
    CHECK_STR(v.forced_by, TM_SYM_AV_ERROR);
    REQUIRE(v.n == 1);
    CHECK_STR(v.syms[0].name, TM_SYM_AV_ERROR);
    CHECK(v.syms[0].rule == TM_SYM_NO_RULE);
    CHECK(v.syms[0].noptions == 1);
    CHECK_STR(v.smtp_reply, "451 4.7.1 Message not accepted now, try again later");
    CHECK_STR(tm_action_name(v.action), "soft reject");
    tm_task_free(t);
    tm_engine_unref(eng);
}

TM_TEST(verdict_undecided_keeps_stronger_action)
{
    struct tm_engine *eng;
    struct tm_task *t = new_task(&eng);
    struct tm_verdict_cfg cfg;
    struct tm_verdict v;
    struct tm_symbol first;

    REQUIRE(t != NULL);
    tm_verdict_cfg_default(&cfg);
    memset(&v, 0, sizeof(v));
    memset(&first, 0, sizeof(first));
    first.name = "TAMIS_AV_VIRUS";
    first.score = 20;
    v.syms = &first;
    v.n = 1;
    v.score = 20;
    v.action = TM_ACT_REJECT;
    v.forced_by = "TAMIS_AV_VIRUS";
    CHECK_EQ_INT(tm_verdict_undecided(t, &cfg, TM_SYM_AV_ERROR, "d", NULL, 0, &v), TM_OK);
    CHECK_EQ_INT(v.action, TM_ACT_REJECT); /* malware on one part, an error on another */
    CHECK_STR(v.forced_by, "TAMIS_AV_VIRUS");
    REQUIRE(v.n == 2);
    CHECK_STR(v.syms[0].name, "TAMIS_AV_VIRUS");
    CHECK_STR(v.syms[1].name, TM_SYM_AV_ERROR);
    CHECK_STR(v.smtp_reply, "550 5.7.1 Message rejected by content policy");
    tm_task_free(t);
    tm_engine_unref(eng);
}

TM_TEST(verdict_undecided_configurable)
{
    struct tm_engine *eng;
    struct tm_task *t = new_task(&eng);
    struct tm_verdict_cfg cfg;
    struct tm_verdict v;

    REQUIRE(t != NULL);
    tm_verdict_cfg_default(&cfg);
    cfg.undecided = TM_ACT_NONE; /* the operator chose to let such mail pass */
    memset(&v, 0, sizeof(v));
    CHECK_EQ_INT(tm_verdict_undecided(t, &cfg, TM_SYM_SCAN_ERROR, "d", NULL, 0, &v), TM_OK);
    CHECK_EQ_INT(v.action, TM_ACT_NONE);
    CHECK(v.forced_by == NULL);
    CHECK(v.smtp_reply == NULL);
    REQUIRE(v.n == 1); /* still said */
    CHECK_STR(v.syms[0].name, TM_SYM_SCAN_ERROR);
    tm_task_free(t);
    tm_engine_unref(eng);
}

TM_TEST(verdict_force_policy_reply)
{
    struct tm_engine *eng;
    struct tm_task *t = new_task(&eng);
    struct tm_verdict v;
    const char *rep = "550 5.7.1 Sender domain x.example is not verified for this account";

    REQUIRE(t != NULL);
    /* a rule already forced reject: the policy's own reply still speaks to the client */
    memset(&v, 0, sizeof(v));
    v.action = TM_ACT_REJECT;
    v.forced_by = "TAMIS_DMARC_REJECT";
    tm_verdict_reply(&v);
    CHECK_EQ_INT(tm_verdict_force(t, TM_ACT_REJECT, "TAMIS_SENDER_UNVERIFIED", "d", NULL, 0, rep, &v),
                 TM_OK);
    CHECK_EQ_INT(v.action, TM_ACT_REJECT);
    CHECK_STR(v.forced_by, "TAMIS_SENDER_UNVERIFIED");
    CHECK_STR(v.smtp_reply, rep);
    REQUIRE(v.n == 1);
    CHECK_EQ_INT(v.syms[0].rule, TM_SYM_NO_RULE);
    /* a stronger action stays, and so does its reply */
    memset(&v, 0, sizeof(v));
    v.action = TM_ACT_DISCARD;
    v.forced_by = "LOCAL_DISCARD";
    CHECK_EQ_INT(tm_verdict_force(t, TM_ACT_REJECT, "TAMIS_SENDER_UNVERIFIED", "d", NULL, 0, rep, &v),
                 TM_OK);
    CHECK_EQ_INT(v.action, TM_ACT_DISCARD);
    CHECK_STR(v.forced_by, "LOCAL_DISCARD");
    CHECK(v.smtp_reply == NULL);
    tm_task_free(t);
    tm_engine_unref(eng);
}

TM_TEST(verdict_action_names)
{
    CHECK_EQ_INT(tm_action_parse("quarantine"), TM_ACT_QUARANTINE);
    CHECK_EQ_INT(tm_action_parse("soft_reject"), TM_ACT_SOFT_REJECT);
    CHECK_EQ_INT(tm_action_parse("soft reject"), TM_ACT_SOFT_REJECT);
    CHECK_EQ_INT(tm_action_parse("tempfail"), -1);
    CHECK(TM_ACT_SOFT_REJECT < TM_ACT_QUARANTINE && TM_ACT_QUARANTINE < TM_ACT_REJECT);
    CHECK_STR(tm_action_name(TM_ACT_QUARANTINE), "quarantine");
    CHECK_EQ_INT(tm_action_parse("discard"), TM_ACT_DISCARD);
    CHECK(TM_ACT_REJECT < TM_ACT_DISCARD);
}

/*
 * early_with - tm_verdict_early for a rule set of an eval rule E (score 20,
 * hit) and the regex rule NEG given in neg_lines (not run yet); NULL or why
 */
static const char *
early_with(struct tm_task *t, const char *neg_lines, const struct tm_verdict_cfg *cfg)
{
    char path[] = "/tmp/tamis-test-early-XXXXXX";
    const char *paths[1] = {path};
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    struct tm_ruleset rs;
    struct tm_scorer *sc = NULL;
    struct tm_match_result res;
    const char *why = "(not run)";
    size_t i;

    if (f == NULL)
        return why;
    fprintf(f, "body E eval:tamis_av_virus()\nscore E 20\n%s", neg_lines);
    fclose(f);
    memset(&rs, 0, sizeof(rs));
    if (tm_rules_load(&rs, paths, 1) == TM_OK && tm_scorer_build(&rs, NULL, &sc) == TM_OK) {
        memset(&res, 0, sizeof(res));
        res.hits = tm_arena_calloc(t->arena, rs.n, sizeof(*res.hits));
        for (i = 0; i < rs.n && res.hits != NULL; i++)
            res.hits[i] = strcmp(rs.rules[i].name, "E") == 0;
        if (res.hits != NULL)
            why = tm_verdict_early(sc, t, &res, cfg);
    }
    tm_scorer_free(sc);
    tm_rules_free(&rs);
    unlink(path);
    return why;
}

TM_TEST(verdict_early_exit_bound)
{
    struct tm_engine *eng;
    struct tm_task *t = new_task(&eng);
    struct tm_verdict_cfg cfg;
    const char *why;

    REQUIRE(t != NULL);
    tm_verdict_cfg_default(&cfg); /* reject at 15 */
    /* 20 - 2 x 3 (a multiple rule counts each hit, up to maxhits) = 14 < 15 */
    why = early_with(t, "body NEG /x/\nscore NEG -2\ntflags NEG multiple maxhits=3\n", &cfg);
    CHECK(why == NULL);
    /* 20 - 2 x 2 = 16 >= 15 */
    why = early_with(t, "body NEG /x/\nscore NEG -2\ntflags NEG multiple maxhits=2\n", &cfg);
    CHECK(why != NULL && strstr(why, "at least 16.00") != NULL);
    /* a negative multiple rule without maxhits: no bound (1000 a paragraph, any paragraphs) */
    why = early_with(t, "body NEG /x/\nscore NEG -0.001\ntflags NEG multiple\n", &cfg);
    CHECK(why == NULL);
    /* a meta can subtract too */
    why = early_with(t, "body __S /x/\nmeta NEG __S\nscore NEG -6\n", &cfg);
    CHECK(why == NULL);
    /* a __sub-rule and a zero score add nothing */
    why = early_with(t, "body __NEG /x/\nscore __NEG -9\nbody Z /y/\nscore Z 0\n", &cfg);
    CHECK(why != NULL && strstr(why, "at least 20.00") != NULL);
    /* a discard threshold above what is certain: discard stays possible */
    cfg.threshold[TM_ACT_DISCARD] = 30;
    why = early_with(t, "body NEG /x/\nscore NEG -1\n", &cfg);
    CHECK(why == NULL);
    cfg.threshold[TM_ACT_DISCARD] = 19;
    why = early_with(t, "body NEG /x/\nscore NEG -1\n", &cfg);
    CHECK(why != NULL && strstr(why, "discard") != NULL);
    /* no reject threshold, no force_action: never */
    tm_verdict_cfg_default(&cfg);
    cfg.threshold[TM_ACT_REJECT] = -1;
    why = early_with(t, "body NEG /x/\nscore NEG -1\n", &cfg);
    CHECK(why == NULL);
    tm_task_free(t);
    tm_engine_unref(eng);
}

/*
 * A rule set from text, its scorer built with every regex rule runnable and
 * every __sub-rule's match allowed to wait (runnable 2, as tm_match_lazy).
 */
struct rset {
    struct tm_ruleset rs;
    struct tm_scorer *sc;
};

static int
rset_load(struct rset *r, const char *text)
{
    char path[] = "/tmp/tamis-test-resolve-XXXXXX";
    const char *paths[1] = {path};
    int fd = mkstemp(path), ok = 0;
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    uint8_t *runnable;
    size_t i;

    memset(r, 0, sizeof(*r));
    if (f == NULL)
        return 0;
    fputs(text, f);
    fclose(f);
    if (tm_rules_load(&r->rs, paths, 1) == TM_OK) {
        runnable = calloc(r->rs.n ? r->rs.n : 1, 1);
        for (i = 0; runnable != NULL && i < r->rs.n; i++)
            if (r->rs.rules[i].type != TM_RULE_META)
                runnable[i] = strncmp(r->rs.rules[i].name, "__", 2) == 0 ? 2 : 1;
        ok = runnable != NULL && tm_scorer_build(&r->rs, runnable, &r->sc) == TM_OK;
        free(runnable);
    }
    unlink(path);
    return ok;
}

static void
rset_free(struct rset *r)
{
    tm_scorer_free(r->sc);
    tm_rules_free(&r->rs);
}

static size_t
rule_index(const struct tm_ruleset *rs, const char *name)
{
    size_t i;

    for (i = 0; i < rs->n; i++)
        if (strcmp(rs->rules[i].name, name) == 0)
            return i;
    return SIZE_MAX;
}

/* What a confirm callback knows: each rule's real hit, and the rules asked for. */
struct oracle {
    const uint8_t *truth;
    struct tm_match_result *res;
    uint8_t *asked;
};

static tm_rc
oracle_confirm(void *ctx, size_t rule)
{
    struct oracle *o = ctx;

    o->asked[rule] = 1;
    o->res->hits[rule] = o->truth[rule];
    return TM_OK;
}

TM_TEST(verdict_resolve_confirms_what_scores_need)
{
    static const char rules[] =
        "body __A /a/\nbody __B /b/\nmeta S1 __A && __B\nscore S1 1\n"
        "body __C /c/\nbody __D /d/\nmeta S2 __C || __D\nscore S2 1\n"
        "body __E /e/\nbody __F /f/\nmeta S3 __E && !__F\nscore S3 1\n"
        "body __G /g/\nbody __H /h/\nmeta __M (__G + __H) > 1\nbody X /x/\nscore X 0.5\n"
        "meta S4 __M && X\nscore S4 1\n"
        "body __P /p/\nmeta __N __P\n"
        "body __Q /q/\nbody __R /r/\nbody __T /t/\nmeta S5 (__Q + __R + __T) > 2\nscore S5 1\n";
    /* waiting: __A __C __E __G __P __Q, all of them real matches */
    static const char *const waiting[] = {"__A", "__C", "__E", "__G", "__P", "__Q"};
    static const char *const known[] = {"__D", "__H", "X", "__T"}; /* hit; __B __F __R not */
    struct tm_engine *eng;
    struct tm_task *t = new_task(&eng);
    struct rset r;
    struct tm_match_result res;
    struct tm_verdict_cfg cfg;
    struct tm_verdict v;
    struct oracle o;
    uint8_t *truth, *asked;
    size_t i, n;

    REQUIRE(t != NULL);
    REQUIRE(rset_load(&r, rules));
    n = r.rs.n;
    memset(&res, 0, sizeof(res));
    res.hits = tm_arena_calloc(t->arena, n, sizeof(*res.hits));
    res.pending = tm_arena_calloc(t->arena, n, 1);
    truth = tm_arena_calloc(t->arena, n, 1);
    asked = tm_arena_calloc(t->arena, n, 1);
    REQUIRE(res.hits != NULL && res.pending != NULL && truth != NULL && asked != NULL);
    for (i = 0; i < sizeof(waiting) / sizeof(*waiting); i++) {
        size_t k = rule_index(&r.rs, waiting[i]);
        REQUIRE(k != SIZE_MAX);
        res.pending[k] = truth[k] = 1;
    }
    for (i = 0; i < sizeof(known) / sizeof(*known); i++) {
        size_t k = rule_index(&r.rs, known[i]);
        REQUIRE(k != SIZE_MAX);
        res.hits[k] = truth[k] = 1;
    }
    o.truth = truth;
    o.res = &res;
    o.asked = asked;
    CHECK(tm_verdict_resolve(r.sc, t, &res, oracle_confirm, &o) == TM_OK);
    /* S1 is false whatever __A is (__B did not match); S2 true whatever __C is;
     * S5 cannot pass 2 with __R at 0; nothing scored reads __N: no run for those */
    CHECK(!asked[rule_index(&r.rs, "__A")]);
    CHECK(!asked[rule_index(&r.rs, "__C")]);
    CHECK(!asked[rule_index(&r.rs, "__P")]);
    CHECK(!asked[rule_index(&r.rs, "__Q")]);
    /* S3 turns on __E, S4 on __G through the sub-meta __M */
    CHECK(asked[rule_index(&r.rs, "__E")]);
    CHECK(asked[rule_index(&r.rs, "__G")]);
    tm_verdict_cfg_default(&cfg);
    REQUIRE(tm_verdict_compute(r.sc, t, &res, &cfg, &v) == TM_OK);
    /* S2 (1) + S3 (1) + S4 (1) + X (0.5) */
    CHECK(v.score > 3.49 && v.score < 3.51);
    CHECK(res.hits[rule_index(&r.rs, "S3")] == 1 && res.hits[rule_index(&r.rs, "S4")] == 1);
    CHECK(res.hits[rule_index(&r.rs, "S1")] == 0 && res.hits[rule_index(&r.rs, "S5")] == 0);
    rset_free(&r);
    tm_task_free(t);
    tm_engine_unref(eng);
}

/* --- random metas: resolve + compute gives the plain evaluation's verdict ---- */

#define RND_LEAVES 6
#define RND_METAS  14

static unsigned long rnd_state = 20261127ul;

static unsigned
rnd(unsigned n)
{
    rnd_state = rnd_state * 6364136223846793005ul + 1442695040888963407ul;
    return (unsigned)((rnd_state >> 33) % n);
}

/* rnd_expr - a random meta expression over the leaves and the metas before `self` */
static void
rnd_expr(char *out, size_t cap, int depth, int self)
{
    static const char *const bin[] = {"&&", "||", "+", "-", "*", "/", ">", "<", ">=", "<=",
                                      "==", "!="};
    char a[512], b[512];
    unsigned k = depth > 3 ? 0 : rnd(6);

    if (k <= 1) {
        unsigned pick = rnd(RND_LEAVES + (unsigned)self);
        if (pick < RND_LEAVES)
            snprintf(out, cap, "__L%u", pick);
        else
            snprintf(out, cap, "%sM%u", rnd(2) ? "__" : "", pick - RND_LEAVES);
    } else if (k == 2) {
        snprintf(out, cap, "%u", rnd(4));
    } else if (k == 3) {
        rnd_expr(a, sizeof(a), depth + 1, self);
        if (snprintf(out, cap, "!(%s)", a) >= (int)cap)
            snprintf(out, cap, "0"); /* too long (depth 4 keeps it far below): a constant */
    } else {
        rnd_expr(a, sizeof(a), depth + 1, self);
        rnd_expr(b, sizeof(b), depth + 1, self);
        if (snprintf(out, cap, "(%s %s %s)", a, bin[rnd(sizeof(bin) / sizeof(*bin))], b) >= (int)cap)
            snprintf(out, cap, "1");
    }
}

TM_TEST(verdict_resolve_matches_full_evaluation)
{
    struct tm_engine *eng;
    struct tm_task *t = new_task(&eng);
    struct tm_verdict_cfg cfg;
    size_t sets, trials = 0, waited = 0, confirmed = 0;

    REQUIRE(t != NULL);
    tm_task_free(t);
    tm_verdict_cfg_default(&cfg);
    for (sets = 0; sets < 40; sets++) {
        char text[32768], e[512];
        size_t len = 0, i, n, trial;
        struct rset r;
        for (i = 0; i < RND_LEAVES; i++)
            len += (size_t)snprintf(text + len, sizeof(text) - len, "body __L%zu /l%zu/\n", i, i);
        for (i = 0; i < RND_METAS; i++) {
            /* M<i> is scored, __M<i> is its unscored twin */
            rnd_expr(e, sizeof(e), 0, (int)i);
            len += (size_t)snprintf(text + len, sizeof(text) - len,
                                    "meta M%zu %s\nscore M%zu %u\nmeta __M%zu %s\n", i, e, i,
                                    1 + rnd(5), i, e);
        }
        REQUIRE(len < sizeof(text));
        REQUIRE(rset_load(&r, text));
        REQUIRE((t = tm_task_new(eng)) != NULL); /* a task per set: its arena holds 200 trials */
        n = r.rs.n;
        for (trial = 0; trial < 200; trial++) {
            struct tm_match_result full, lazy;
            struct tm_verdict vf, vl;
            struct oracle o;
            uint8_t *truth = tm_arena_calloc(t->arena, n, 1), *asked = tm_arena_calloc(t->arena, n, 1);
            memset(&full, 0, sizeof(full));
            memset(&lazy, 0, sizeof(lazy));
            full.hits = tm_arena_calloc(t->arena, n, sizeof(*full.hits));
            lazy.hits = tm_arena_calloc(t->arena, n, sizeof(*lazy.hits));
            lazy.pending = tm_arena_calloc(t->arena, n, 1);
            REQUIRE(truth && asked && full.hits && lazy.hits && lazy.pending);
            for (i = 0; i < n; i++) {
                if (r.rs.rules[i].type == TM_RULE_META)
                    continue;
                truth[i] = (uint8_t)rnd(2);
                full.hits[i] = truth[i];
                if (rnd(3) != 0) { /* two in three wait */
                    lazy.pending[i] = 1;
                    waited++;
                } else {
                    lazy.hits[i] = truth[i];
                }
            }
            o.truth = truth;
            o.res = &lazy;
            o.asked = asked;
            REQUIRE(tm_verdict_resolve(r.sc, t, &lazy, oracle_confirm, &o) == TM_OK);
            REQUIRE(tm_verdict_compute(r.sc, t, &full, &cfg, &vf) == TM_OK);
            REQUIRE(tm_verdict_compute(r.sc, t, &lazy, &cfg, &vl) == TM_OK);
            for (i = 0; i < n; i++)
                confirmed += asked[i];
            CHECK(vf.score == vl.score && vf.action == vl.action && vf.n == vl.n);
            for (i = 0; i < n; i++) /* every scored meta has its plain value */
                if (strncmp(r.rs.rules[i].name, "M", 1) == 0 && full.hits[i] != lazy.hits[i]) {
                    tm_test_fail(__FILE__, __LINE__, "set %zu trial %zu: %s is %u, plainly %u",
                                 sets, trial, r.rs.rules[i].name, lazy.hits[i], full.hits[i]);
                    break;
                }
            trials++;
        }
        rset_free(&r);
        tm_task_free(t);
    }
    printf("# %zu trials, %zu sub-rule matches waiting, %zu confirmed\n", trials, waited, confirmed);
    CHECK(confirmed < waited); /* some were not needed */
    CHECK(confirmed > 0);
    tm_engine_unref(eng);
}

const struct tm_test tests_verdict[] = {
    TM_TEST_ENTRY(verdict_undecided_tempfails_by_default),
    TM_TEST_ENTRY(verdict_undecided_keeps_stronger_action),
    TM_TEST_ENTRY(verdict_undecided_configurable),
    TM_TEST_ENTRY(verdict_force_policy_reply),
    TM_TEST_ENTRY(verdict_action_names),
    TM_TEST_ENTRY(verdict_early_exit_bound),
    TM_TEST_ENTRY(verdict_resolve_confirms_what_scores_need),
    TM_TEST_ENTRY(verdict_resolve_matches_full_evaluation),
    TM_TEST_END};
