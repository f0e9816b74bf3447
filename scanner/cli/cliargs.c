/*
 * cliargs.c - the options shared by the scanning commands (cliargs.h).
 */
#include "cli/cliargs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/core.h"
#include "core/limits.h"

/* tm_cli_args_option - see cliargs.h */
int
tm_cli_args_option(struct tm_cli_args *sa, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    char err[256], name[128];

    if (strcmp(a, "--json") == 0) {
        sa->json = 1;
    } else if (strcmp(a, "--pretty") == 0) {
        sa->pretty = 1;
    } else if (strcmp(a, "--explain") == 0) {
        sa->explain = 1;
        sa->so.cfg.early_exit = 0; /* explaining shows every rule's hits */
    } else if (strcmp(a, "--all-hits") == 0) {
        sa->all_hits = 1;
        sa->so.cfg.early_exit = 0; /* every hit, sub-rules included: nothing skipped */
    } else if (strcmp(a, "--no-cache") == 0) {
        sa->no_cache = 1;
    } else if (strcmp(a, "--no-rules") == 0) {
        sa->no_rules = 1;
    } else if (strcmp(a, "--no-av") == 0) {
        sa->no_av = 1;
    } else if (strcmp(a, "--av-all-parts") == 0) {
        sa->av_all = 1;
    } else if (strcmp(a, "--no-early-exit") == 0) {
        sa->so.cfg.early_exit = 0;
    } else if (strcmp(a, "--dns") == 0) {
        sa->so.dns = 1;
    } else if (strcmp(a, "--dkim-sign-all") == 0) {
        sa->so.outbound.dkim_sign_all = 1;
    } else if (strcmp(a, "--rules") == 0 || strcmp(a, "--cache") == 0 || strcmp(a, "-o") == 0 ||
               strcmp(a, "--action") == 0 || strcmp(a, "--url-blocklist") == 0 ||
               strcmp(a, "--url-allowlist") == 0 || strcmp(a, "--av-db") == 0 ||
               strcmp(a, "--dns-zone") == 0 || strcmp(a, "--dns-servers") == 0 ||
               strcmp(a, "--ip") == 0 || strcmp(a, "--helo") == 0 ||
               strcmp(a, "--mail-from") == 0 || strcmp(a, "--rcpt") == 0 ||
               strcmp(a, "--user") == 0 || strcmp(a, "--authserv-id") == 0 ||
               strcmp(a, "--sender-domains") == 0 || strcmp(a, "--dkim-sign") == 0 ||
               strcmp(a, "--dkim-sign-headers") == 0 || strcmp(a, "--dkim-sign-canon") == 0 ||
               strcmp(a, "--arc-seal") == 0) {
        const char *v;
        if (*i + 1 >= argc) {
            fprintf(stderr, "tamis: %s needs a value\n", a);
            return -1;
        }
        v = argv[++*i];
        if (strcmp(a, "--dns-zone") == 0) {
            sa->so.dns_zone = v;
        } else if (strcmp(a, "--sender-domains") == 0) {
            sa->so.outbound.sender_domains = v;
        } else if (strcmp(a, "--dkim-sign") == 0) {
            sa->dkim_sign = tm_xrealloc(sa->dkim_sign, (sa->ndkim_sign + 1) * sizeof(*sa->dkim_sign));
            sa->dkim_sign[sa->ndkim_sign++] = v;
            sa->so.outbound.dkim_keys = sa->dkim_sign;
            sa->so.outbound.ndkim_keys = sa->ndkim_sign;
        } else if (strcmp(a, "--dkim-sign-headers") == 0) {
            sa->so.outbound.dkim_headers = v;
        } else if (strcmp(a, "--dkim-sign-canon") == 0) {
            sa->so.outbound.dkim_canon = v;
        } else if (strcmp(a, "--arc-seal") == 0) {
            sa->so.outbound.arc_seal = v;
        } else if (strcmp(a, "--dns-servers") == 0) {
            sa->so.dns_servers = v;
            sa->so.dns = 1;
        } else if (strcmp(a, "--authserv-id") == 0) {
            sa->so.auth.authserv_id = v;
        } else if (strcmp(a, "--ip") == 0) {
            sa->env.ip = v;
        } else if (strcmp(a, "--helo") == 0) {
            sa->env.helo = v;
        } else if (strcmp(a, "--mail-from") == 0) {
            sa->env.mail_from = v;
        } else if (strcmp(a, "--user") == 0) {
            sa->env.user = v;
        } else if (strcmp(a, "--rcpt") == 0) {
            if (sa->env.nrcpt == TM_AUTH_MAX_RCPT) {
                fprintf(stderr, "tamis: more than %d --rcpt\n", TM_AUTH_MAX_RCPT);
                return -1;
            }
            sa->rcpt[sa->env.nrcpt++] = v;
            sa->env.rcpt = sa->rcpt;
        } else if (strcmp(a, "--rules") == 0) {
            sa->rules = tm_xrealloc(sa->rules, (sa->nrules + 1) * sizeof(*sa->rules));
            sa->rules[sa->nrules++] = v;
        } else if (strcmp(a, "--av-db") == 0) {
            sa->av_db = v;
        } else if (strncmp(a, "--url-", 6) == 0) {
            int k = a[6] == 'a';
            sa->lists[k] = tm_xrealloc(sa->lists[k], (sa->nlists[k] + 1) * sizeof(**sa->lists));
            sa->lists[k][sa->nlists[k]++] = v;
        } else if (strcmp(a, "--cache") == 0) {
            snprintf(sa->cache_buf, sizeof(sa->cache_buf), "%s", v);
        } else {
            const char *eq = strchr(v, '=');
            char *end;
            double d;
            if (eq == NULL || (size_t)(eq - v) >= sizeof(name)) {
                fprintf(stderr, "tamis: %s needs name=value\n", a);
                return -1;
            }
            memcpy(name, v, (size_t)(eq - v));
            name[eq - v] = '\0';
            if (a[1] == 'o') {
                if (tm_limits_set(&sa->so.limits, name, eq + 1, err, sizeof(err)) != TM_OK) {
                    fprintf(stderr, "tamis: %s\n", err);
                    return -1;
                }
            } else {
                int act = tm_action_parse(name);
                d = strtod(eq + 1, &end);
                if (act <= 0 || end == eq + 1 || *end != '\0') {
                    fprintf(stderr, "tamis: --action %s: want add_header, rewrite_subject, "
                                    "soft_reject, quarantine or reject = a number\n", v);
                    return -1;
                }
                sa->so.cfg.threshold[act] = d;
                if (act == TM_ACT_ADD_HEADER)
                    sa->so.cfg.required_from_rules = 0;
            }
        }
    } else {
        return 0;
    }
    return 1;
}

void
tm_cli_args_free(struct tm_cli_args *sa)
{
    tm_free(sa->rules);
    tm_free(sa->lists[0]);
    tm_free(sa->lists[1]);
    tm_free(sa->dkim_sign);
}

void
tm_cli_args_init(struct tm_cli_args *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->so.limits = tm_limits_default();
    tm_verdict_cfg_default(&sa->so.cfg);
}

/* build_scanner - the engine with the rules given; prints rule diagnostics */
struct tm_scanner *
tm_cli_build_scanner(struct tm_cli_args *sa, int quiet_warnings, tm_rc *rcp)
{
    struct tm_scanner *sc = NULL;
    char err[512] = "";
    size_t i;
    tm_rc rc;

    if (sa->nrules == 0 && !sa->no_rules) {
        /* Built-in default: Tamis's own rule set (rules/ in the source tree). */
        struct stat st;
        if (stat(TAMIS_RULES_DIR, &st) == 0 && S_ISDIR(st.st_mode)) {
            sa->rules = tm_xrealloc(sa->rules, sizeof(*sa->rules));
            sa->rules[sa->nrules++] = TAMIS_RULES_DIR;
        } else {
            fprintf(stderr, "tamis: default rules %s not found; scanning without rules "
                            "(use --rules PATH)\n", TAMIS_RULES_DIR);
        }
    }
    sa->so.rule_paths = sa->rules;
    sa->so.nrule_paths = sa->nrules;
    sa->so.url_blocklists = sa->lists[0];
    sa->so.nurl_blocklists = sa->nlists[0];
    sa->so.url_allowlists = sa->lists[1];
    sa->so.nurl_allowlists = sa->nlists[1];
    sa->so.av_all_leaves = sa->av_all;
    /* with sender authentication on, the results field goes with the verdict */
    sa->so.outbound.auth_results = sa->so.dns || sa->so.dns_zone != NULL;
    if (sa->no_av) {
        sa->so.av_db = NULL;
    } else if (sa->av_db != NULL) {
        sa->so.av_db = sa->av_db;
    } else {
        int fallback = 0;
        sa->so.av_db = tm_scanner_default_av_db(TAMIS_RULES_DIR, sa->av_buf, sizeof(sa->av_buf),
                                                &fallback);
        if (sa->so.av_db == NULL)
            fprintf(stderr, "tamis: warning: no ClamAV database (none in /var/lib/clamav, no "
                            "%s/av); attachments are not scanned for malware\n",
                    TAMIS_RULES_DIR);
        else if (fallback)
            fprintf(stderr, "tamis: warning: no ClamAV database in /var/lib/clamav (run "
                            "freshclam); using the test signatures of %s (EICAR and Tamis "
                            "test files only)\n", sa->so.av_db);
    }
    if (sa->no_cache)
        sa->so.cache_dir = NULL;
    else if (sa->cache_buf[0] != '\0')
        sa->so.cache_dir = sa->cache_buf;
    else
        sa->so.cache_dir = tm_scanner_default_cache_dir(sa->cache_buf, sizeof(sa->cache_buf));
    rc = tm_scanner_new(&sa->so, &sc, err, sizeof(err));
    if (sc != NULL && sc->has_rules)
        for (i = 0; i < sc->rules.ndiags; i++) {
            const struct tm_rule_diag *d = &sc->rules.diags[i];
            if (!d->error && quiet_warnings)
                continue;
            fprintf(stderr, "%s:%u:%u: %s: %s\n", d->file ? d->file : "?", d->line, d->col,
                    d->error ? "error" : "warning", d->msg);
        }
    if (err[0] != '\0') {
        fprintf(stderr, "tamis: %s\n", err);
        if (rc == TM_EINVAL) /* said: a bad option or file, not the rules (TM_EINVAL says that) */
            rc = TM_EIO;
    }
    *rcp = rc;
    return sc;
}
