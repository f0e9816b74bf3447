/*
 * scanner.c - assembling the engine from its stages (see scanner.h).
 */
#include "verdict/scanner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/task.h"
#include "mime/mime.h"

tm_rc
tm_scanner_new(const struct tm_scanner_opts *o, struct tm_scanner **out, char *err, size_t errlen)
{
    struct tm_scanner *sc = tm_xcalloc(1, sizeof(*sc));
    struct tm_match_opts mo;
    tm_rc rc = TM_OK, lrc;
    size_t i;

    sc->cfg = o->cfg;
    sc->engine = tm_engine_new_bare(&o->limits);
    if (sc->engine == NULL) {
        tm_free(sc);
        snprintf(err, errlen, "out of memory");
        return TM_ENOMEM;
    }
    if (o->nrule_paths > 0) {
        sc->has_rules = 1;
        lrc = tm_rules_load(&sc->rules, o->rule_paths, o->nrule_paths);
        if (lrc == TM_EIO) {
            snprintf(err, errlen, "cannot read the rules (see the diagnostics)");
            *out = sc;
            return TM_EIO;
        }
        if (lrc != TM_OK)
            rc = lrc;
        for (i = 0; i < 32; i++)
            snprintf(sc->rules_version + 2 * i, 3, "%02x", sc->rules.sha256[i]);
        memset(&mo, 0, sizeof(mo));
        mo.cache_dir = o->cache_dir;
        if ((lrc = tm_match_build(&sc->rules, &mo, &sc->matcher, &sc->stats, err, errlen)) !=
            TM_OK) {
            *out = sc;
            return lrc;
        }
        {
            uint8_t *runnable = tm_xcalloc(sc->rules.n ? sc->rules.n : 1, 1);
            for (i = 0; i < sc->rules.n; i++) {
                const struct tm_rule *r = &sc->rules.rules[i];
                if (r->unsupported || r->type == TM_RULE_META)
                    continue;
                runnable[i] = tm_rule_is_exists(r) ||
                              tm_match_engine(sc->matcher, i, NULL) != TM_ENG_NONE;
            }
            lrc = tm_scorer_build(&sc->rules, runnable, &sc->scorer);
            tm_free(runnable);
        }
        if (lrc != TM_OK) {
            snprintf(err, errlen, "cannot build the scorer");
            *out = sc;
            return lrc;
        }
    }
    *out = sc;
    return rc;
}

void
tm_scanner_free(struct tm_scanner *sc)
{
    if (sc == NULL)
        return;
    tm_scorer_free(sc->scorer);
    tm_match_free(sc->matcher);
    if (sc->has_rules)
        tm_rules_free(&sc->rules);
    tm_engine_unref(sc->engine);
    tm_free(sc);
}

const char *
tm_scanner_default_cache_dir(char *buf, size_t buflen)
{
    const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");

    if (x != NULL && x[0] == '/')
        snprintf(buf, buflen, "%s/tamis", x);
    else if (h != NULL && h[0] == '/')
        snprintf(buf, buflen, "%s/.cache/tamis", h);
    else
        snprintf(buf, buflen, "/tmp/tamis-cache-%ld", (long)getuid());
    return buf;
}

tm_rc
tm_scanner_scan(const struct tm_scanner *sc, struct tm_match_scratch *ms, struct tm_task *t,
                const unsigned char *msg, size_t len, int explain, struct tm_verdict *v)
{
    struct tm_match_result res;
    tm_rc rc;

    memset(v, 0, sizeof(*v));
    rc = tm_mime_parse(t, msg, len);
    if (rc != TM_OK || !sc->has_rules || sc->matcher == NULL)
        return rc;
    if ((rc = tm_match_scan(sc->matcher, ms, t, explain, &res)) != TM_OK) {
        tm_task_fail(t, rc);
        return rc;
    }
    return tm_verdict_compute(sc->scorer, t, &res, &sc->cfg, v);
}
