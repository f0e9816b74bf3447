/*
 * scanner.h - the whole engine as the CLI, the daemon and the public API
 * use it: limits, the loaded rule set, its compiled matcher and scorer, and
 * the action thresholds. Built once, immutable afterwards; each thread scans
 * with its own tm_match_scratch.
 */
#ifndef TM_VERDICT_SCANNER_H
#define TM_VERDICT_SCANNER_H

#include <stddef.h>

#include "core/core.h"
#include "core/limits.h"
#include "match/match.h"
#include "auth/auth.h"
#include "verdict/outbound.h"
#include "av/av.h"
#include "rules/rules.h"
#include "verdict/evals.h"
#include "verdict/verdict.h"

struct tm_task;
struct tm_hostset;
struct tm_dns;

struct tm_scanner {
    struct tm_engine *engine; /* limits, refcount */
    struct tm_ruleset rules;
    int has_rules;
    struct tm_matcher *matcher;
    struct tm_scorer *scorer;
    struct tm_match_stats stats;
    struct tm_verdict_cfg cfg;
    struct tm_evals *evals;          /* native eval: functions bound to rules */
    struct tm_hostset *url_block;    /* URL blocklist (all files), or NULL */
    struct tm_hostset *url_allow;    /* URL allowlist (all files), or NULL */
    struct tm_av_slot *av;           /* ClamAV engine in force (reloadable), or NULL */
    struct tm_av_opts av_opts;       /* how it was loaded (the reload uses the same) */
    unsigned av_sigs;                /* signatures loaded */
    char av_db_path[4096];
    char av_tmpdir[4096];
    struct tm_evals_env env;
    struct tm_dns *dns;              /* resolver for sender authentication, or NULL (no auth) */
    struct tm_auth_config auth_cfg;
    struct tm_outbound *outbound;    /* sender-domain policy, signing, sealing; or NULL */
    char rules_version[65]; /* hex sha256 of the rule files and URL lists, "" without rules */
};

struct tm_scanner_opts {
    struct tm_limits limits;
    const char *const *rule_paths;
    size_t nrule_paths;
    const char *cache_dir; /* NULL: no compiled-rules cache */
    struct tm_verdict_cfg cfg;
    const char *const *url_blocklists; /* host list files, besides the rules' url_blocklist */
    size_t nurl_blocklists;
    const char *const *url_allowlists; /* besides the rules' url_allowlist */
    size_t nurl_allowlists;
    const char *av_db;                 /* ClamAV database directory or file; NULL: no AV */
    int av_all_leaves;                 /* scan text leaves too */
    const char *av_tmpdir;             /* libclamav's extracted files; NULL: see av.h */
    /*
     * Sender authentication (SPF, DKIM, ARC, DMARC) runs when a resolver is
     * given: dns_zone (a zone file, offline) or dns (real DNS through
     * c-ares; dns_servers "IP[:port],..." or NULL for resolv.conf).
     */
    const char *dns_zone;
    int dns;
    const char *dns_servers;
    struct tm_auth_config auth; /* zeroed fields take tm_auth_config_default's values */
    /* After the verdict (scanner/auth/outbound.h): the sender-domain policy,
     * DKIM signing, ARC sealing, Authentication-Results; authserv_id comes
     * from auth above. */
    struct tm_outbound_opts outbound;
};

/*
 * tm_scanner_new - build the engine. Rule diagnostics stay in
 * sc->rules.diags for the caller to print; a rule file with errors still
 * yields a scanner (TM_EINVAL is returned alongside it) so `rules check`
 * can report everything, while the daemon refuses to start on it.
 */
tm_rc tm_scanner_new(const struct tm_scanner_opts *o, struct tm_scanner **out, char *err,
                     size_t errlen);
void tm_scanner_free(struct tm_scanner *sc);

/*
 * tm_scanner_rule_status - how rule i runs: "hyperscan", "prefilter",
 * "pcre2", "native" (metas, exists:, Tamis eval functions) or
 * "unsupported", and *why when it does not (or why not on Hyperscan).
 */
const char *tm_scanner_rule_status(const struct tm_scanner *sc, size_t i, const char **why);

/*
 * tm_scanner_default_av_db - the ClamAV database to use when none is named:
 * freshclam's directory (/var/lib/clamav) when it holds a database, else the
 * test signatures shipped with the rules (rules_dir/av); *fallback is set
 * in that case, for the caller's warning. NULL when neither exists.
 */
const char *tm_scanner_default_av_db(const char *rules_dir, char *buf, size_t buflen,
                                     int *fallback);

/*
 * tm_scanner_reload_av - load the ClamAV database again (new signatures)
 * and swap it in; scans in flight finish on the old one; a database that
 * fails to load leaves the old one serving (err says why).
 */
tm_rc tm_scanner_reload_av(struct tm_scanner *sc, struct tm_av_reload_stats *st, char *err,
                           size_t errlen);

/* tm_scanner_default_cache_dir - $XDG_CACHE_HOME/tamis or ~/.cache/tamis */
const char *tm_scanner_default_cache_dir(char *buf, size_t buflen);

/*
 * tm_scanner_scan - parse the message into the task, run the rules, fill
 * the verdict (a zero verdict without rules).
 */
tm_rc tm_scanner_scan(const struct tm_scanner *sc, struct tm_match_scratch *ms, struct tm_task *t,
                      const unsigned char *msg, size_t len, int explain, struct tm_verdict *v);

/*
 * tm_scanner_scan_env - the same with the SMTP envelope (client IP, HELO,
 * MAIL FROM, recipients, authenticated user) that sender authentication
 * and the sender-domain policy need; env may be NULL. v->prepend gets the
 * fields the relay inserts (signatures, seal, results).
 */
tm_rc tm_scanner_scan_env(const struct tm_scanner *sc, struct tm_match_scratch *ms,
                          struct tm_task *t, const unsigned char *msg, size_t len, int explain,
                          const struct tm_auth_env *env, struct tm_verdict *v);

#endif
