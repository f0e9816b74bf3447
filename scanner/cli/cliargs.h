/*
 * cliargs.h - the options `tamis scan`, `tamis rules check` and `tamis
 * corpus` share (rules, lists, ClamAV, cache, limits, action thresholds)
 * and the scanner they build.
 */
#ifndef TM_CLI_CLIARGS_H
#define TM_CLI_CLIARGS_H

#include <stddef.h>

#include "verdict/scanner.h"

/* common options of scan, rules check and corpus */
struct tm_cli_args {
    struct tm_scanner_opts so;
    const char **rules;
    size_t nrules;
    const char **lists[2]; /* --url-blocklist, --url-allowlist files */
    size_t nlists[2];
    const char *av_db;     /* --av-db */
    int no_av, av_all;
    char av_buf[4096];
    char cache_buf[4096];
    int no_cache, no_rules;
    int json, pretty, explain, all_hits;
    /* sender authentication: the resolver and the envelope */
    const char *rcpt[TM_AUTH_MAX_RCPT];
    struct tm_auth_env env;
    /* the outbound stage: --sender-domains, --dkim-sign (repeatable), --arc-seal */
    const char **dkim_sign;
    size_t ndkim_sign;
};

void tm_cli_args_init(struct tm_cli_args *sa);
void tm_cli_args_free(struct tm_cli_args *sa);

/*
 * tm_cli_args_option - parse one option at argv[*i] (advancing *i past its
 * value); 1 if taken, 0 if not ours, -1 on error (printed)
 */
int tm_cli_args_option(struct tm_cli_args *sa, int argc, char **argv, int *i);

/*
 * tm_cli_build_scanner - the engine with the rules given (the default rule
 * set without --rules); prints rule diagnostics (errors only when
 * quiet_warnings) and sets *rcp.
 */
struct tm_scanner *tm_cli_build_scanner(struct tm_cli_args *sa, int quiet_warnings, tm_rc *rcp);

#endif
