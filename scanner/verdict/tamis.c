/*
 * tamis.c - the public API (include/tamis/tamis.h) over the internal
 * scanner. Settings and rule paths are collected until tamis_engine_build;
 * after that the scanner is shared read-only. Each task owns its match
 * scratch while it lives, so tasks of one engine can run on any number of
 * threads; a freed task's scratch goes back to the engine's pool for the
 * next task (allocating Hyperscan scratch for every task made a scan
 * through this API 5x slower at the median than a tamisd worker's).
 */
#include "tamis/tamis.h"

#include <clamav.h>
#include <hs/hs.h>
#include <libxml/xmlversion.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/json.h"
#include "core/task.h"
#include "verdict/report.h"
#include "verdict/scanner.h"

#ifndef TAMIS_VERSION
#define TAMIS_VERSION "0.1.0"
#endif

#define SCRATCH_POOL_MAX 64 /* idle match scratches an engine keeps */

struct tamis_engine {
    struct tm_scanner_opts opts;
    const char **paths;
    size_t npaths;
    char cache_dir[4096];
    char av_db[4096]; /* "" : no AV */
    struct tm_scanner *sc; /* NULL until built */
    atomic_flag building;
    pthread_mutex_t pool_lock;
    struct tm_match_scratch *pool[SCRATCH_POOL_MAX]; /* idle scratches of freed tasks */
    size_t npool;
};

struct tamis_task {
    struct tamis_engine *e;
    struct tm_task *t;
    struct tm_match_scratch *ms;
    struct tm_verdict v;
    int scanned;
    double scan_ms;
    struct tm_json json;
};

const char *
tamis_version(void)
{
    static char buf[512];
    char pcre[64] = "";

    if (buf[0] == '\0') {
        pcre2_config(PCRE2_CONFIG_VERSION, pcre);
        snprintf(buf, sizeof(buf),
                 "tamis %s (libclamav %s, hyperscan %.40s, pcre2 %s, libxml2 %s, %s)",
                 TAMIS_VERSION, cl_retver(), hs_version(), pcre, LIBXML_DOTTED_VERSION,
                 OpenSSL_version(OPENSSL_VERSION));
    }
    return buf;
}

struct tamis_engine *
tamis_engine_new(void)
{
    struct tamis_engine *e = tm_calloc(1, sizeof(*e));

    if (e == NULL)
        return NULL;
    e->opts.limits = tm_limits_default();
    tm_verdict_cfg_default(&e->opts.cfg);
    tm_scanner_default_cache_dir(e->cache_dir, sizeof(e->cache_dir));
    atomic_flag_clear(&e->building);
    pthread_mutex_init(&e->pool_lock, NULL);
    return e;
}

int
tamis_engine_set(struct tamis_engine *e, const char *name, const char *value, char *err,
                 size_t errlen)
{
    if (e->sc != NULL) {
        snprintf(err, errlen, "engine already built; settings are frozen");
        return TAMIS_EINVAL;
    }
    if (strcmp(name, "cache_dir") == 0) {
        snprintf(e->cache_dir, sizeof(e->cache_dir), "%s", value);
        return TAMIS_OK;
    }
    if (strcmp(name, "av_db") == 0) {
        snprintf(e->av_db, sizeof(e->av_db), "%s", value);
        return TAMIS_OK;
    }
    if (strncmp(name, "action.", 7) == 0) {
        int a = tm_action_parse(name + 7);
        char *end;
        double d = strtod(value, &end);
        if (a <= 0 || end == value || *end != '\0') {
            snprintf(err, errlen, "%s: unknown action or bad score \"%.40s\"", name, value);
            return TAMIS_EINVAL;
        }
        e->opts.cfg.threshold[a] = d;
        if (a == TM_ACT_ADD_HEADER)
            e->opts.cfg.required_from_rules = 0;
        return TAMIS_OK;
    }
    return tm_limits_set(&e->opts.limits, name, value, err, errlen);
}

int
tamis_engine_add_rules(struct tamis_engine *e, const char *path)
{
    if (e->sc != NULL)
        return TAMIS_EINVAL;
    e->paths = tm_xrealloc(e->paths, (e->npaths + 1) * sizeof(*e->paths));
    e->paths[e->npaths++] = tm_xstrdup(path);
    return TAMIS_OK;
}

int
tamis_engine_build(struct tamis_engine *e, char *err, size_t errlen)
{
    tm_rc rc;
    size_t i;

    if (e->sc != NULL)
        return TAMIS_OK;
    e->opts.rule_paths = e->paths;
    e->opts.nrule_paths = e->npaths;
    e->opts.cache_dir = e->cache_dir[0] ? e->cache_dir : NULL;
    e->opts.av_db = e->av_db[0] ? e->av_db : NULL;
    err[0] = '\0';
    rc = tm_scanner_new(&e->opts, &e->sc, err, errlen);
    if (rc == TM_OK)
        return TAMIS_OK;
    if (err[0] == '\0' && e->sc != NULL && e->sc->has_rules)
        for (i = 0; i < e->sc->rules.ndiags; i++)
            if (e->sc->rules.diags[i].error) {
                const struct tm_rule_diag *d = &e->sc->rules.diags[i];
                snprintf(err, errlen, "%s:%u:%u: %s", d->file ? d->file : "?", d->line, d->col,
                         d->msg);
                break;
            }
    tm_scanner_free(e->sc);
    e->sc = NULL;
    return (int)rc;
}

void
tamis_engine_free(struct tamis_engine *e)
{
    size_t i;

    if (e == NULL)
        return;
    for (i = 0; i < e->npool; i++)
        tm_match_scratch_free(e->pool[i]);
    pthread_mutex_destroy(&e->pool_lock);
    tm_scanner_free(e->sc);
    for (i = 0; i < e->npaths; i++)
        tm_free((void *)(uintptr_t)e->paths[i]);
    tm_free(e->paths);
    tm_free(e);
}

struct tamis_task *
tamis_task_new(struct tamis_engine *e)
{
    struct tamis_task *tt;
    char err[256];

    if (e->sc == NULL) {
        /* A rule-less engine builds on first use; with rules, build explicitly. */
        if (e->npaths > 0 || atomic_flag_test_and_set(&e->building))
            return NULL;
        if (tamis_engine_build(e, err, sizeof(err)) != TAMIS_OK)
            return NULL;
    }
    if ((tt = tm_calloc(1, sizeof(*tt))) == NULL)
        return NULL;
    tt->e = e;
    tt->t = tm_task_new(e->sc->engine);
    if (e->sc->matcher != NULL) {
        pthread_mutex_lock(&e->pool_lock);
        if (e->npool > 0)
            tt->ms = e->pool[--e->npool];
        pthread_mutex_unlock(&e->pool_lock);
    }
    if (tt->t == NULL || (e->sc->matcher != NULL && tt->ms == NULL &&
                          (tt->ms = tm_match_scratch_new(e->sc->matcher)) == NULL)) {
        tamis_task_free(tt);
        return NULL;
    }
    tm_json_init(&tt->json, 0);
    return tt;
}

int
tamis_task_scan(struct tamis_task *tt, const unsigned char *msg, size_t len)
{
    double t0 = tm_now_ms();
    tm_rc rc;

    if (tt->scanned)
        return TAMIS_EINVAL; /* one message per task */
    rc = tm_scanner_scan(tt->e->sc, tt->ms, tt->t, msg, len, 1, &tt->v);
    tt->scanned = 1;
    tt->scan_ms = tm_now_ms() - t0;
    return rc == TM_OK ? TAMIS_OK : (int)rc;
}

double
tamis_task_score(const struct tamis_task *tt, const char **action)
{
    if (action != NULL)
        *action = tm_action_name(tt->v.action);
    return tt->v.score;
}

const char *
tamis_task_json(struct tamis_task *tt, const char *file, int pretty, size_t *len)
{
    struct tm_report_opts o;

    memset(&o, 0, sizeof(o));
    o.file = file;
    o.scan_ms = tt->scan_ms;
    o.verdict = tt->e->sc->has_rules ? &tt->v : NULL;
    o.rules_version = tt->e->sc->has_rules ? tt->e->sc->rules_version : NULL;
    tm_json_free(&tt->json);
    tm_json_init(&tt->json, pretty);
    tm_report_json(tt->t, &o, &tt->json);
    tm_json_raw(&tt->json, "");
    tt->json.p[tt->json.len] = '\0';
    if (len != NULL)
        *len = tt->json.len;
    return tt->json.p;
}

void
tamis_task_free(struct tamis_task *tt)
{
    if (tt == NULL)
        return;
    tm_json_free(&tt->json);
    if (tt->ms != NULL) {
        struct tamis_engine *e = tt->e;
        pthread_mutex_lock(&e->pool_lock);
        if (e->npool < SCRATCH_POOL_MAX) {
            e->pool[e->npool++] = tt->ms;
            tt->ms = NULL;
        }
        pthread_mutex_unlock(&e->pool_lock);
        tm_match_scratch_free(tt->ms);
    }
    tm_task_free(tt->t);
    tm_free(tt);
}
