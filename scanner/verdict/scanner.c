/*
 * scanner.c - assembling the engine from its stages (see scanner.h).
 */
#include "verdict/scanner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dirent.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "core/arena.h"
#include "core/task.h"
#include "dns/dns.h"
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
    if (o->av_db != NULL) {
        struct tm_av *av = NULL;
        const struct tm_limits *l = &o->limits;
        char e[512];
        memset(&sc->av_opts, 0, sizeof(sc->av_opts));
        snprintf(sc->av_db_path, sizeof(sc->av_db_path), "%s", o->av_db);
        sc->av_opts.db = sc->av_db_path;
        sc->av_opts.all_leaves = o->av_all_leaves;
        if (o->av_tmpdir != NULL && o->av_tmpdir[0] != '\0') {
            snprintf(sc->av_tmpdir, sizeof(sc->av_tmpdir), "%s", o->av_tmpdir);
            sc->av_opts.tmpdir = sc->av_tmpdir;
        }
        sc->av_opts.max_filesize = l->av_max_filesize;
        sc->av_opts.max_scansize = l->av_max_scansize;
        sc->av_opts.max_recursion = (unsigned)l->av_max_recursion;
        sc->av_opts.max_files = (unsigned)l->av_max_files;
        sc->av_opts.max_scantime_ms = (unsigned)l->av_max_scantime;
        if (tm_av_new(&sc->av_opts, &av, &sc->av_sigs, e, sizeof(e)) != TM_OK) {
            snprintf(err, errlen, "ClamAV database %s: %s", o->av_db, e);
            *out = sc;
            return TM_EIO;
        }
        if ((sc->av = tm_av_slot_new(av)) == NULL) {
            tm_av_unref(av);
            snprintf(err, errlen, "out of memory");
            *out = sc;
            return TM_ENOMEM;
        }
    }
    tm_auth_config_default(&sc->auth_cfg);
    if (o->auth.authserv_id != NULL)
        sc->auth_cfg.authserv_id = o->auth.authserv_id;
    if (o->auth.min_rsa_bits)
        sc->auth_cfg.min_rsa_bits = o->auth.min_rsa_bits;
    if (o->auth.max_lookups)
        sc->auth_cfg.max_lookups = o->auth.max_lookups;
    if (o->auth.timeout_ms)
        sc->auth_cfg.timeout_ms = o->auth.timeout_ms;
    if (o->auth.max_signatures)
        sc->auth_cfg.max_signatures = o->auth.max_signatures;
    if (o->dns_zone != NULL || o->dns) {
        char e[512];
        struct tm_dns_opts dopt;
        tm_rc drc;
        memset(&dopt, 0, sizeof(dopt));
        dopt.servers = o->dns_servers;
        dopt.timeout_ms = sc->auth_cfg.timeout_ms;
        drc = o->dns_zone != NULL ? tm_dns_new_zone(o->dns_zone, &sc->dns, e, sizeof(e))
                                  : tm_dns_new_cares(&dopt, &sc->dns, e, sizeof(e));
        if (drc != TM_OK) {
            snprintf(err, errlen, "DNS %s: %s", o->dns_zone ? o->dns_zone : "resolver", e);
            *out = sc;
            return drc;
        }
    }
    {
        struct tm_outbound_opts ob = o->outbound;
        tm_rc orc;
        ob.authserv_id = sc->auth_cfg.authserv_id;
        if ((orc = tm_outbound_new(&ob, &sc->outbound, err, errlen)) != TM_OK) {
            *out = sc;
            return orc;
        }
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
            if (sc->av != NULL) {
                /* the AV database in force: its path and signature count */
                EVP_DigestUpdate(sha, "av:", 3);
                EVP_DigestUpdate(sha, sc->av_db_path, strlen(sc->av_db_path) + 1);
                EVP_DigestUpdate(sha, &sc->av_sigs, sizeof(sc->av_sigs));
            }
            lrc = load_lists(sc, o, sha, err, errlen);
            EVP_DigestFinal_ex(sha, md, &mdlen);
            EVP_MD_CTX_free(sha);
            if (lrc != TM_OK) {
                *out = sc;
                return lrc;
            }
            for (i = 0; i < 32; i++)
                snprintf(sc->rules_version + 2 * i, 3, "%02x",
                         sc->url_block || sc->url_allow || sc->av ? md[i] : sc->rules.sha256[i]);
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
                if (runnable[i] && tm_match_lazy(sc->matcher, i))
                    runnable[i] = 2;
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
    tm_av_slot_free(sc->av);
    tm_dns_free(sc->dns);
    tm_outbound_free(sc->outbound);
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

/*
 * undecided_scan - the scan failed (rc): the verdict is TAMIS_SCAN_ERROR
 * with the undecided action (tempfail by default), never a silent pass
 */
static tm_rc
undecided_scan(const struct tm_scanner *sc, struct tm_task *t, tm_rc rc, struct tm_verdict *v)
{
    const char **opt;

    tm_task_fail(t, rc);
    memset(v, 0, sizeof(*v));
    v->required = 5.0;
    opt = tm_arena_calloc(t->arena, 1, sizeof(*opt));
    if (opt != NULL)
        opt[0] = tm_rc_str(rc);
    (void)tm_verdict_undecided(t, &sc->cfg, TM_SYM_SCAN_ERROR,
                               "The message could not be scanned to the end", opt, opt ? 1 : 0,
                               v);
    return rc;
}

struct confirm_ctx {
    const struct tm_scanner *sc;
    struct tm_match_scratch *ms;
    struct tm_task *t;
    struct tm_match_result *res;
};

static tm_rc
confirm_rule(void *ctx, size_t rule)
{
    struct confirm_ctx *c = ctx;

    return tm_match_confirm(c->sc->matcher, c->ms, c->t, c->res, rule);
}

/*
 * resolve - the PCRE2 confirmations tm_match_scan left waiting that a
 * scored rule depends on (issue 10: __FILL_THIS_FORM_SHORT2 alone was half
 * of all PCRE2 time with SA's rules, and its one meta is mostly decided by
 * other rules)
 */
static tm_rc
resolve(const struct tm_scanner *sc, struct tm_match_scratch *ms, struct tm_task *t,
        struct tm_match_result *res)
{
    struct confirm_ctx c = {sc, ms, t, res};

    return tm_verdict_resolve(sc->scorer, t, res, confirm_rule, &c);
}

/* undecided_av - parts ClamAV could not scan: TAMIS_AV_ERROR and the undecided action */
static tm_rc
undecided_av(const struct tm_scanner *sc, struct tm_task *t, const struct tm_av_report *rep,
             struct tm_verdict *v)
{
    const char **opt;
    size_t i, n = 0;
    char path[64], buf[300];

    for (i = 0; i < rep->n; i++)
        n += rep->v[i].result == TM_AV_ERROR;
    if (n == 0)
        return TM_OK;
    if ((opt = tm_arena_calloc(t->arena, n, sizeof(*opt))) == NULL)
        return TM_ENOMEM;
    for (i = 0, n = 0; i < rep->n; i++) {
        const struct tm_av_hit *h = &rep->v[i];
        if (h->result != TM_AV_ERROR)
            continue;
        tm_mime_part_path(h->part, path, sizeof(path));
        snprintf(buf, sizeof(buf), "part %s%s%.100s: %.120s", path, h->filename ? " " : "",
                 h->filename ? h->filename : "", h->signature ? h->signature : "error");
        if ((opt[n] = tm_arena_strdup(t->arena, buf)) == NULL)
            return TM_ENOMEM;
        n++;
    }
    return tm_verdict_undecided(t, &sc->cfg, TM_SYM_AV_ERROR,
                                "ClamAV could not scan an attachment; not passed as clean", opt,
                                n, v);
}

const char *
tm_scanner_default_av_db(const char *rules_dir, char *buf, size_t buflen, int *fallback)
{
    static const char *const exts[] = {".cvd", ".cld", ".cud"};
    struct stat st;
    DIR *d;
    struct dirent *e;
    int found = 0;
    size_t k, n;

    *fallback = 0;
    if ((d = opendir("/var/lib/clamav")) != NULL) {
        while (!found && (e = readdir(d)) != NULL) {
            n = strlen(e->d_name);
            for (k = 0; k < TM_NELEM(exts); k++)
                if (n > 4 && strcmp(e->d_name + n - 4, exts[k]) == 0)
                    found = 1;
        }
        closedir(d);
    }
    if (found) {
        snprintf(buf, buflen, "/var/lib/clamav");
        return buf;
    }
    if (rules_dir == NULL)
        return NULL;
    snprintf(buf, buflen, "%s/av", rules_dir);
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    *fallback = 1;
    return buf;
}

tm_rc
tm_scanner_reload_av(struct tm_scanner *sc, struct tm_av_reload_stats *st, char *err,
                     size_t errlen)
{
    if (sc->av == NULL) {
        snprintf(err, errlen, "no ClamAV database is in use");
        return TM_EINVAL;
    }
    return tm_av_slot_reload(sc->av, &sc->av_opts, st, err, errlen);
}

tm_rc
tm_scanner_scan(const struct tm_scanner *sc, struct tm_match_scratch *ms, struct tm_task *t,
                const unsigned char *msg, size_t len, int explain, struct tm_verdict *v)
{
    return tm_scanner_scan_env(sc, ms, t, msg, len, explain, NULL, v);
}

tm_rc
tm_scanner_scan_env(const struct tm_scanner *sc, struct tm_match_scratch *ms, struct tm_task *t,
                    const unsigned char *msg, size_t len, int explain,
                    const struct tm_auth_env *env, struct tm_verdict *v)
{
    const struct tm_av_report *rep = NULL;
    struct tm_match_result res;
    struct tm_auth_env none;
    tm_rc rc;

    memset(v, 0, sizeof(*v));
    rc = tm_mime_parse(t, msg, len);
    if (rc != TM_OK)
        return undecided_scan(sc, t, rc, v);
    if (sc->av != NULL) {
        struct tm_av *av = tm_av_slot_get(sc->av);
        rc = tm_av_scan_task(av, t, &rep);
        tm_av_unref(av);
        if (rc != TM_OK)
            return undecided_scan(sc, t, rc, v);
    }
    if (sc->dns != NULL) {
        /* a DNS failure is a temperror result, not an error: only the arena can fail here */
        memset(&none, 0, sizeof(none));
        if ((rc = tm_auth_run(t, sc->dns, &sc->auth_cfg, env != NULL ? env : &none, msg, len)) !=
            TM_OK)
            return undecided_scan(sc, t, rc, v);
    }
    if (sc->has_rules && sc->matcher != NULL) {
        const char *early = NULL;
        /* evals first: they read the task, never other rules' hits */
        if ((rc = tm_match_result_init(sc->matcher, t, explain, &res)) != TM_OK ||
            (rc = tm_evals_run(sc->evals, &sc->env, t, &res)) != TM_OK)
            return undecided_scan(sc, t, rc, v);
        if (sc->cfg.early_exit)
            early = tm_verdict_early(sc->scorer, t, &res, &sc->cfg);
        res.skipped = early != NULL;
        res.lazy = sc->cfg.early_exit && !explain; /* explaining shows where each rule hit */
        if ((early == NULL && (rc = tm_match_scan(sc->matcher, ms, t, &res)) != TM_OK) ||
            (rc = resolve(sc, ms, t, &res)) != TM_OK ||
            (rc = tm_verdict_compute(sc->scorer, t, &res, &sc->cfg, v)) != TM_OK)
            return undecided_scan(sc, t, rc, v);
        v->early_exit = early;
    }
    if (rep != NULL && (rc = undecided_av(sc, t, rep, v)) != TM_OK)
        return rc;
    if ((rc = tm_outbound_apply(sc->outbound, t, env, msg, len, v)) != TM_OK)
        return undecided_scan(sc, t, rc, v);
    return TM_OK;
}
