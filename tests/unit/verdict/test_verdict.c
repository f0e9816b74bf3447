/*
 * test_verdict.c - the verdict's "cannot decide" policy and actions:
 * tm_verdict_undecided never lets a message pass as clean by default,
 * keeps a stronger action, and the SMTP replies name no internals.
 */
#include "harness.h"

#include <string.h>

#include "core/limits.h"
#include "core/task.h"
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

const struct tm_test tests_verdict[] = {
    TM_TEST_ENTRY(verdict_undecided_tempfails_by_default),
    TM_TEST_ENTRY(verdict_undecided_keeps_stronger_action),
    TM_TEST_ENTRY(verdict_undecided_configurable),
    TM_TEST_ENTRY(verdict_force_policy_reply),
    TM_TEST_ENTRY(verdict_action_names),
    TM_TEST_END};
