/*
 * cond.h - the `if`/`ifplugin` expressions of SpamAssassin .cf files, and the
 * answers Tamis gives to them (private to scanner/rules).
 */
#ifndef TM_RULES_COND_H
#define TM_RULES_COND_H

#include <stddef.h>

#include "core/core.h"

/* The Perl version Tamis claims to `perl_version` (Debian bookworm's perl). */
#define TM_RULES_PERL_VERSION 5.036000

/* Deepest parenthesis nesting accepted in an `if` expression. */
#define TM_RULES_COND_MAX_DEPTH 32

/* How the evaluator asks whether a plugin is loaded (name as written, normalised by the callee). */
struct tm_rules_cond_env {
    int (*plugin)(void *arg, const char *name, size_t len);
    void *arg;
};

/*
 * tm_rules_cond_eval - evaluate an `if` expression (s, len; not NUL-reliant).
 * TM_OK with *truth set, or TM_EINVAL with *errpos (offset into s) and
 * *errmsg (static text) describing the first problem.
 */
tm_rc tm_rules_cond_eval(const char *s, size_t len, const struct tm_rules_cond_env *env, int *truth,
                         size_t *errpos, const char **errmsg);

/* tm_rules_plugin_default - 1 when SpamAssassin's default .pre files load this plugin */
int tm_rules_plugin_default(const char *name, size_t len);

#endif
