/*
 * evals.h - Tamis's native eval: functions, the heuristics that are not a
 * regex over one target: URL blocking, phishing-link and URL-obfuscation
 * checks, HTML hidden text and image-only mail, charset problems, ClamAV's
 * results on attachments (scanner/av), and the parsers' findings. A rule uses one as SpamAssassin rules use eval:
 *
 *     body   TAMIS_URL_IP        eval:tamis_url_ip()
 *     header TAMIS_CHARSET_MISS  eval:tamis_charset_missing()
 *     body   TAMIS_HIDDEN_COLOUR eval:tamis_html_hidden_text('colour')
 *
 * and gets a score, a describe line and meta rules like any other. A hit
 * carries options saying what fired it (the URL, the part, the hidden
 * kinds), shown in the verdict's symbols.
 */
#ifndef TM_VERDICT_EVALS_H
#define TM_VERDICT_EVALS_H

#include <stddef.h>

#include "core/core.h"

struct tm_ruleset;
struct tm_task;
struct tm_match_result;
struct tm_hostset;
struct tm_evals;

/* The engine-level data the evals use; owned by the scanner. */
struct tm_evals_env {
    const struct tm_hostset *block; /* URL blocklist, or NULL */
    const struct tm_hostset *allow; /* URL allowlist (beats the blocklist), or NULL */
};

/*
 * tm_evals_build - bind every rule of rs whose eval: names a native
 * function. A rule whose arguments are wrong is left unbound and
 * tm_evals_problem says why.
 */
tm_rc tm_evals_build(const struct tm_ruleset *rs, struct tm_evals **out);
void tm_evals_free(struct tm_evals *e);

/* tm_evals_bound - rule i is a native eval that can run */
int tm_evals_bound(const struct tm_evals *e, size_t rule);

/* tm_evals_problem - why rule i's native eval cannot run, or NULL */
const char *tm_evals_problem(const struct tm_evals *e, size_t rule);

/* tm_evals_run - run the bound evals over the task, setting res->hits and res->opts */
tm_rc tm_evals_run(const struct tm_evals *e, const struct tm_evals_env *env, struct tm_task *t,
                   struct tm_match_result *res);

#endif
