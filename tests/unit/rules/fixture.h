/*
 * fixture.h - helpers shared by the rules tests: .cf snippets written to a
 * fresh temporary directory, loaded with tm_rules_load, diags looked up by
 * message text.
 */
#ifndef TM_TESTS_RULES_FIXTURE_H
#define TM_TESTS_RULES_FIXTURE_H

#include <stddef.h>

#include "core/core.h"
#include "rules/rules.h"

struct rfx {
    char dir[64];
    char path[256]; /* the main file: DIR/t.cf */
    struct tm_ruleset rs;
    tm_rc rc;
};

/* rfx_write - write DIR/name with text; returns the path in a static buffer */
const char *rfx_write(struct rfx *f, const char *name, const char *text);
/* rfx_load - write text to DIR/t.cf and load that one file */
int rfx_load(struct rfx *f, const char *text);
/* rfx_done - free the set and remove the directory */
void rfx_done(struct rfx *f);
/* rfx_diag - the n-th diag (0-based) whose message contains `sub`, or NULL */
const struct tm_rule_diag *rfx_diag(const struct rfx *f, const char *sub, size_t n);
/* rfx_nerrors - error diags in the set */
size_t rfx_nerrors(const struct tm_ruleset *rs);
/* rfx_print - print every diag (shown when a test fails) */
void rfx_print(const struct tm_ruleset *rs);

#endif
