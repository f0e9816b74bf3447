/*
 * scanner.c - assembling the engine from its stages (see scanner.h).
 */
#include "verdict/scanner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/task.h"
#include "mime/mime.h"
#include "url/list.h"

/* load_lists - the URL block/allow lists of the options and the rules, into two sets */
static tm_rc
load_lists(struct tm_scanner *sc, const struct tm_scanner_opts *o, EVP_MD_CTX *sha, char *err,
           size_t errlen)
{
    size_t i, nb = o->nurl_blocklists, na = o->nurl_allowlists, n;
    const char *path;
    char e[512];
    int allow;

    n = nb + na + sc->rules.nurl_lists;
    for (i = 0; i < n; i++) {
        struct tm_hostset **set;
        if (i < nb) {
            path = o->url_blocklists[i];
            allow = 0;
        } else if (i < nb + na) {
            path = o->url_allowlists[i - nb];
            allow = 1;
        } else {
            path = sc->rules.url_lists[i - nb - na].path;
            allow = sc->rules.url_lists[i - nb - na].allow;
        }
        set = allow ? &sc->url_allow : &sc->url_block;
        if (*set == NULL && (*set = tm_hostset_new()) == NULL) {
            snprintf(err, errlen, "out of memory");
            return TM_ENOMEM;
        }
        e[0] = '\0';
        if (tm_hostset_load(*set, path, e, sizeof(e)) != TM_OK) {
            snprintf(err, errlen, "URL %s %s: %s", allow ? "allowlist" : "blocklist", path,
                     e[0] ? e : "cannot be read");
            return TM_EIO;
        }
        if (e[0] != '\0')
            tm_log(TM_LOG_WARN, "URL %s: %s", allow ? "allowlist" : "blocklist", e);
        EVP_DigestUpdate(sha, allow ? "allow:" : "block:", 6);
        EVP_DigestUpdate(sha, path, strlen(path) + 1);
    }
    if (sc->url_block != NULL) {
        struct tm_hostset_stats st;
        tm_hostset_stats(sc->url_block, &st);
        EVP_DigestUpdate(sha, &st.entries, sizeof(st.entries));
    }
    sc->env.block = sc->url_block;
    sc->env.allow = sc->url_allow;
    return TM_OK;
}

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
        {
            /* the version covers the rule files, the lists named and their size */
            EVP_MD_CTX *sha = EVP_MD_CTX_new();
            unsigned char md[32];
            unsigned mdlen = 0;
            if (sha == NULL || !EVP_DigestInit_ex(sha, EVP_sha256(), NULL)) {
                EVP_MD_CTX_free(sha);
                snprintf(err, errlen, "out of memory");
                *out = sc;
                return TM_ENOMEM;
            }
            EVP_DigestUpdate(sha, sc->rules.sha256, 32);
            lrc = load_lists(sc, o, sha, err, errlen);
            EVP_DigestFinal_ex(sha, md, &mdlen);
            EVP_MD_CTX_free(sha);
            if (lrc != TM_OK) {
                *out = sc;
                return lrc;
            }
            for (i = 0; i < 32; i++)
                snprintf(sc->rules_version + 2 * i, 3, "%02x",
                         sc->url_block || sc->url_allow ? md[i] : sc->rules.sha256[i]);
        }
        tm_evals_build(&sc->rules, &sc->evals);
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
                runnable[i] = tm_rule_is_exists(r) || tm_evals_bound(sc->evals, i) ||
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
    tm_evals_free(sc->evals);
    tm_hostset_free(sc->url_block);
    tm_hostset_free(sc->url_allow);
    tm_match_free(sc->matcher);
    if (sc->has_rules)
        tm_rules_free(&sc->rules);
    tm_engine_unref(sc->engine);
    tm_free(sc);
}

const char *
tm_scanner_rule_status(const struct tm_scanner *sc, size_t i, const char **why)
{
    const struct tm_rule *r = &sc->rules.rules[i];
    const char *mp = tm_scorer_meta_problem(sc->scorer, i), *ep = tm_evals_problem(sc->evals, i);
    enum tm_engine_kind e;

    *why = NULL;
    if (r->unsupported || mp != NULL || ep != NULL) {
        *why = r->unsupported ? r->why : ep != NULL ? ep : mp;
        return "unsupported";
    }
    if (r->type == TM_RULE_META || tm_rule_is_exists(r) || tm_evals_bound(sc->evals, i))
        return "native";
    e = tm_match_engine(sc->matcher, i, why);
    return e == TM_ENG_NONE ? "unsupported" : tm_engine_name(e);
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
    if ((rc = tm_match_scan(sc->matcher, ms, t, explain, &res)) != TM_OK ||
        (rc = tm_evals_run(sc->evals, &sc->env, t, &res)) != TM_OK) {
        tm_task_fail(t, rc);
        return rc;
    }
    return tm_verdict_compute(sc->scorer, t, &res, &sc->cfg, v);
}
