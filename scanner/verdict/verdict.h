/*
 * verdict.h - from rule hits to symbols, score and action.
 *
 * Meta rules are compiled once per rule set into postfix programs, in an
 * order where every meta comes after the metas it uses (a cycle makes the
 * metas on it unsupported). Values follow SpamAssassin: a rule name is its
 * hit count (1 for a plain hit), && and || return the deciding operand as in
 * Perl, comparisons give 1 or 0, and a meta hits when its value is non-zero.
 * Scores use SpamAssassin's score set 0 (no network tests, no Bayes); a rule
 * without a score line scores 1.0, a __sub-rule 0 and a T_ test rule 0.01.
 */
#ifndef TM_VERDICT_VERDICT_H
#define TM_VERDICT_VERDICT_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

struct tm_ruleset;
struct tm_task;
struct tm_match_result;
struct tm_match_where;

enum tm_action {
    TM_ACT_NONE,
    TM_ACT_ADD_HEADER,
    TM_ACT_REWRITE_SUBJECT,
    TM_ACT_SOFT_REJECT, /* tempfail: the relay answers 4xx and the sender retries */
    TM_ACT_QUARANTINE,  /* accepted, held for review */
    TM_ACT_REJECT,
    TM_ACT_DISCARD,     /* accepted and dropped: the sender is not told (force_action only) */
    TM_ACT__COUNT
};

struct tm_verdict_cfg {
    double threshold[TM_ACT__COUNT]; /* score at which each action starts; <0 = disabled */
    int required_from_rules;         /* add_header threshold = the rules' required_score */
    /*
     * What the relay gets when Tamis cannot decide: an attachment ClamAV
     * could not scan, or a scan that failed (out of memory, an internal
     * error). Default soft reject (tempfail); TM_ACT_NONE lets it pass.
     */
    enum tm_action undecided;
    /*
     * Early exit (issue 10, as rspamd does): once the eval rules (ClamAV,
     * sender authentication, URL lists ...) make the strongest action the
     * rule set can reach certain, and at least reject, the regex and meta
     * rules are not run (tm_verdict_early). With it, the PCRE2 run that
     * confirms a __sub-rule's candidate waits until a scored rule needs
     * it (tm_verdict_resolve). On by default; `tamis corpus`, --explain
     * and --all-hits turn it off, since they want every hit.
     */
    int early_exit;
};

struct tm_symbol {
    const char *name;
    double score;
    const char *description;
    uint32_t rule;
    uint32_t count;
    const struct tm_match_where *where; /* may be NULL */
    const char *const *options;         /* what made it fire (URLs, parts ...), may be NULL */
    size_t noptions;
};

/* A header field the relay inserts at the top of the message (sign, seal, results). */
struct tm_verdict_header {
    const char *name;  /* "DKIM-Signature" */
    const char *value; /* after "Name: ", folded with "\r\n\t"/"\r\n " where long, no final CRLF */
};

#define TM_VERDICT_MAX_PREPEND 8
#define TM_VERDICT_MAX_REMOVE  16

struct tm_verdict {
    struct tm_symbol *syms; /* scored hits, highest score first */
    size_t n;
    const char **all_hits; /* every rule that hit, sub-rules and zero scores included */
    uint32_t *all_rules;   /* their rule indices, ascending */
    uint32_t *all_counts;  /* their match counts */
    size_t nall;
    double score;
    double required;
    enum tm_action action;
    const char *forced_by;  /* the rule (or TAMIS_AV_ERROR, TAMIS_SCAN_ERROR) that set the action */
    const char *early_exit; /* why the regex and meta rules were not run, or NULL */
    const char *smtp_reply; /* for reject and soft reject: the reply, naming no internals */
    /* fields to insert at the top of the message, top-most first: the ARC set,
     * DKIM-Signature, Authentication-Results (scanner/auth/outbound.h) */
    struct tm_verdict_header prepend[TM_VERDICT_MAX_PREPEND];
    size_t nprepend;
    /* Authentication-Results fields of the message that claim this relay's
     * authserv-id (forged, or left by a loop): 1-based among the message's
     * Authentication-Results fields, ascending; the relay deletes them
     * (RFC 8601 section 5) before inserting its own */
    unsigned remove_ar[TM_VERDICT_MAX_REMOVE];
    size_t nremove_ar;
};

struct tm_scorer;

void tm_verdict_cfg_default(struct tm_verdict_cfg *c);
const char *tm_action_name(enum tm_action a);
/* tm_action_parse - "reject" -> TM_ACT_REJECT; -1 when unknown */
int tm_action_parse(const char *s);

/*
 * tm_scorer_build - compile the metas of rs. runnable[i] says whether
 * non-meta rule i can run (loaded as supported and compiled): 1, or 2 when
 * its match may wait for tm_verdict_resolve (tm_match_lazy). A meta that
 * does not parse, sits on a cycle, or uses a rule that cannot run (directly
 * or through another meta) is not evaluated, and tm_scorer_meta_problem says
 * why: evaluating it with the missing rule as 0 could fire where
 * SpamAssassin would not (think "!EVAL_RULE && X").
 */
tm_rc tm_scorer_build(const struct tm_ruleset *rs, const uint8_t *runnable, struct tm_scorer **out);
void tm_scorer_free(struct tm_scorer *s);
/* tm_scorer_meta_problem - why meta rule i cannot run, or NULL */
const char *tm_scorer_meta_problem(const struct tm_scorer *s, size_t rule);
/* tm_scorer_rule_score - the score rule i contributes when it hits */
double tm_scorer_rule_score(const struct tm_scorer *s, size_t rule);

/* Symbols the verdict makes itself when it cannot decide (no rule behind them). */
#define TM_SYM_AV_ERROR   "TAMIS_AV_ERROR"
#define TM_SYM_SCAN_ERROR "TAMIS_SCAN_ERROR"
#define TM_SYM_NO_RULE    UINT32_MAX /* tm_symbol.rule of such a symbol */

/*
 * tm_verdict_early - with the hits of the eval rules alone in res (the
 * regex rules not run yet), why the action is already certain, or NULL:
 * the action of their score plus the least the other rules could add (the
 * negative scores of every regex and meta rule, a multiple rule at its
 * maximum count) or an action they force, is the strongest action any
 * outcome could give (a threshold or a force_action of the rule set), and
 * at least reject. The reason is in the task arena.
 */
const char *tm_verdict_early(const struct tm_scorer *s, struct tm_task *t,
                             const struct tm_match_result *res, const struct tm_verdict_cfg *cfg);

/*
 * tm_verdict_resolve - when res has PCRE2 confirmations waiting (a lazy
 * tm_match_scan), run through confirm those that some scored meta's value
 * (or a meta's force_action) depends on, until every such meta has the value
 * it would have with all of them run. The others stay 0: no score, no
 * action and no forced action can differ, only the hits of sub-rules.
 */
tm_rc tm_verdict_resolve(const struct tm_scorer *s, struct tm_task *t, struct tm_match_result *res,
                         tm_rc (*confirm)(void *ctx, size_t rule), void *ctx);

/*
 * tm_verdict_compute - evaluate metas over res->hits (extended in place with
 * meta hits), then symbols, score and action; all in the task arena.
 */
tm_rc tm_verdict_compute(const struct tm_scorer *s, struct tm_task *t, struct tm_match_result *res,
                         const struct tm_verdict_cfg *cfg, struct tm_verdict *out);

/* tm_verdict_reply - set v->smtp_reply from v->action */
void tm_verdict_reply(struct tm_verdict *v);

/*
 * tm_verdict_undecided - Tamis could not decide (name: TM_SYM_AV_ERROR or
 * TM_SYM_SCAN_ERROR): add that symbol (score 0, options say what) and raise
 * the action to cfg->undecided, so the message is never passed as clean by
 * default. Works on a zeroed verdict too (no rules ran).
 */
tm_rc tm_verdict_undecided(struct tm_task *t, const struct tm_verdict_cfg *cfg, const char *name,
                           const char *description, const char *const *options, size_t noptions,
                           struct tm_verdict *v);

/*
 * tm_verdict_force - a symbol without a rule behind it (a policy Tamis
 * enforces itself, e.g. TAMIS_SENDER_UNVERIFIED) that raises the action to
 * at least `action` (forced_by names it when the action was no stronger
 * before); reply (a one-line SMTP reply, in the arena or static) replaces
 * the default reply when given.
 */
tm_rc tm_verdict_force(struct tm_task *t, enum tm_action action, const char *name,
                       const char *description, const char *const *options, size_t noptions,
                       const char *reply, struct tm_verdict *v);

#endif
