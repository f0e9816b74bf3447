/*
 * test_verdict.c - the verdict's "cannot decide" policy and actions:
 * tm_verdict_undecided never lets a message pass as clean by default,
 * keeps a stronger action, and the SMTP replies name no internals.
 * tm_verdict_early: the bound it takes from the rules that have not run.
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

const struct tm_test tests_verdict[] = {
    TM_TEST_ENTRY(verdict_undecided_tempfails_by_default),
    TM_TEST_ENTRY(verdict_undecided_keeps_stronger_action),
    TM_TEST_ENTRY(verdict_undecided_configurable),
    TM_TEST_ENTRY(verdict_force_policy_reply),
    TM_TEST_ENTRY(verdict_action_names),
    TM_TEST_ENTRY(verdict_early_exit_bound),
    TM_TEST_END};
