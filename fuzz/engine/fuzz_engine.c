/*
 * fuzz_engine.c - message in, verdict out: MIME parsing, every rule target,
 * Hyperscan and PCRE2 matching with Tamis's default rule set (rules/),
 * metas, scores and the verdict JSON. The engine is built once (rule
 * compilation goes through the cache in a scratch directory). Invariants:
 * the score is finite, every symbol names a rule of the set, and the JSON
 * renders. (Test AV signatures join when the av stage lands.)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/task.h"
#include "verdict/report.h"
#include "verdict/scanner.h"

#ifndef TAMIS_RULES_DIR
#define TAMIS_RULES_DIR "rules"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tm_scanner *sc;
static struct tm_match_scratch *ms;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct tm_scanner_opts o;
    static const char *rules[1] = {TAMIS_RULES_DIR};
    static char cache[] = "/tmp/fuzz_engine_cache.XXXXXX";
    char err[256];

    (void)argc;
    (void)argv;
    memset(&o, 0, sizeof(o));
    o.limits = tm_limits_default();
    o.limits.mime_max_depth = 8;
    o.limits.mime_max_parts = 64;
    o.limits.task_arena_budget = 32u << 20;
    tm_verdict_cfg_default(&o.cfg);
    o.rule_paths = rules;
    o.nrule_paths = 1;
    if (mkdtemp(cache) == NULL)
        abort();
    o.cache_dir = cache;
    if (tm_scanner_new(&o, &sc, err, sizeof(err)) != TM_OK || sc->matcher == NULL) {
        fprintf(stderr, "fuzz_engine: %s\n", err);
        abort();
    }
    if ((ms = tm_match_scratch_new(sc->matcher)) == NULL)
        abort();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tm_task *t = tm_task_new(sc->engine);
    struct tm_verdict v;
    struct tm_report_opts o;
    struct tm_json j;
    size_t i;

    if (t == NULL)
        abort();
    if (tm_scanner_scan(sc, ms, t, data, size, 1, &v) == TM_OK) {
        TM_ASSERT(isfinite(v.score));
        for (i = 0; i < v.n; i++)
            TM_ASSERT(v.syms[i].rule < sc->rules.n);
        memset(&o, 0, sizeof(o));
        o.verdict = &v;
        o.rules_version = sc->rules_version;
        o.all_hits = 1;
        o.explain = 1;
        tm_json_init(&j, 0);
        tm_report_json(t, &o, &j);
        TM_ASSERT(j.len > 0 && j.p[0] == '{');
        tm_json_free(&j);
    }
    tm_task_free(t);
    return 0;
}
