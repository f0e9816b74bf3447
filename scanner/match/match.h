/*
 * match.h - a rule set's regexes compiled for scanning (the `match` stage).
 *
 * Every regex rule is assigned one engine when the matcher is built:
 *   hyperscan  compiled into its target's Hyperscan block-mode database
 *              (one database per target: body, rawbody, uri, full, and one
 *              per distinct header selection), HS_FLAG_SINGLEMATCH unless the
 *              rule counts hits;
 *   prefilter  Hyperscan cannot express it exactly: compiled with
 *              HS_FLAG_PREFILTER into the same database, and each candidate
 *              confirmed with PCRE2;
 *              A regex Hyperscan cannot take even as a prefilter gets a
 *              relaxed form as its gate (relax.h); "(G){n}" gets the
 *              relaxed G, and a piece is a candidate only when it matched
 *              with n distinct ends (a counted gate);
 *   pcre2      no gate is possible: PCRE2 (JIT) alone on every piece of
 *              the target;
 *   none       the rule is unsupported (the loader said so, or PCRE2 cannot
 *              compile the pattern either).
 * PCRE2 runs with match and depth limits on every call. The matcher is
 * immutable and shared by threads; each thread owns a tm_match_scratch.
 *
 * With a cache directory, compiling happens in a child process with a time
 * limit, which writes the cache file; the engine loads only that validated
 * file (a rule set is a trust boundary: rspamd's hs_helper does the same).
 * Databases are cached on disk, serialized, in one file per rule set keyed
 * by the rules' hash, the Hyperscan version and this file's format; the file
 * carries a SHA-256 of its payload and is rebuilt when anything is off.
 */
#ifndef TM_MATCH_MATCH_H
#define TM_MATCH_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

struct tm_ruleset;
struct tm_task;
struct tm_matcher;
struct tm_match_scratch;

enum tm_engine_kind { TM_ENG_NONE, TM_ENG_HS, TM_ENG_PREFILTER, TM_ENG_PCRE2 };

struct tm_match_stats {
    size_t rules;         /* all rules in the set */
    size_t by_engine[4];  /* regex rules per tm_engine_kind (NONE = unsupported) */
    size_t databases;     /* Hyperscan databases */
    double compile_ms;    /* building (or loading) the databases */
    int from_cache;       /* 1 when loaded from the cache file */
    size_t db_bytes;      /* serialized size of all databases */
};

struct tm_match_opts {
    const char *cache_dir; /* NULL: no cache, compile in process */
    unsigned long compile_timeout_s; /* with a cache: the compiler child's time limit (600) */
    unsigned long pcre2_match_limit;
    unsigned long pcre2_depth_limit;
};

/*
 * tm_match_build - compile the regex rules of rs (which must outlive the
 * matcher). Never fails because of one bad rule: such a rule gets engine
 * TM_ENG_NONE and a reason. Fails on resource exhaustion or when Hyperscan
 * rejects a whole database it had accepted pattern by pattern.
 */
tm_rc tm_match_build(const struct tm_ruleset *rs, const struct tm_match_opts *o,
                     struct tm_matcher **out, struct tm_match_stats *st, char *err,
                     size_t errlen);
void tm_match_free(struct tm_matcher *m);

/* tm_match_engine - the engine of rule i, and why when TM_ENG_NONE or not hyperscan */
enum tm_engine_kind tm_match_engine(const struct tm_matcher *m, size_t rule, const char **why);
const char *tm_engine_name(enum tm_engine_kind k);

struct tm_match_scratch *tm_match_scratch_new(const struct tm_matcher *m);
void tm_match_scratch_free(struct tm_match_scratch *s);

/* Where a rule first matched, for --explain. */
struct tm_match_where {
    const char *target; /* "body", "header Subject", ... */
    size_t piece;       /* index of the paragraph / URL / line in the target */
    size_t offset;      /* of the match in that piece */
    const unsigned char *text;
    size_t len;
};

/* Options of a hit (native evals: the URLs, parts ... that made it fire). */
struct tm_match_hitopts {
    const char **v;
    size_t n;
};

struct tm_match_deferred;

struct tm_match_result {
    uint32_t *hits; /* per rule: match count (1 for a plain hit), 0 = no hit */
    struct tm_match_where *where; /* per rule when explaining, else NULL */
    struct tm_match_hitopts *opts; /* per rule, or NULL when no rule gave options */
    int skipped; /* the regex rules did not run (an early exit): metas are not evaluated */
    /*
     * lazy (set before tm_match_scan): the PCRE2 run that confirms a
     * Hyperscan candidate of a plain __sub-rule waits; pending[rule] is then
     * 1 (NULL when nothing waits) until tm_match_confirm runs it. The
     * scorer confirms only what some scored rule's value depends on
     * (tm_verdict_resolve); the rest stay 0, as if they had not matched.
     */
    int lazy;
    uint8_t *pending;
    struct tm_match_deferred *deferred;
    size_t ndeferred, capdeferred;
};

/*
 * tm_match_result_init - the result arrays of a task, all zero, in the task
 * arena (one slot per rule of the set); the eval rules and then
 * tm_match_scan fill them.
 */
tm_rc tm_match_result_init(const struct tm_matcher *m, struct tm_task *t, int explain,
                           struct tm_match_result *res);

/*
 * tm_match_scan - run every regex rule over the task's targets, into res
 * (from tm_match_result_init, whose explain gave res->where; other rules'
 * slots are left as they are).
 */
tm_rc tm_match_scan(const struct tm_matcher *m, struct tm_match_scratch *s, struct tm_task *t,
                    struct tm_match_result *res);

/* tm_match_lazy - whether a match of rule i may wait for tm_match_confirm (res->lazy) */
int tm_match_lazy(const struct tm_matcher *m, size_t rule);

/* tm_match_confirm - run the waiting PCRE2 confirmations of `rule` (to its first match) */
tm_rc tm_match_confirm(const struct tm_matcher *m, struct tm_match_scratch *s, struct tm_task *t,
                       struct tm_match_result *res, size_t rule);

#endif
