/*
 * relax.h - a wider form of a regex for a Hyperscan prefilter gate.
 *
 * A rule regex that Hyperscan cannot take even as a prefilter (embedded
 * anchors, back-references, lookarounds, huge counted repeats) would run
 * PCRE2 on every piece of its target. tm_re_relax rewrites it into an
 * expression whose language contains the original's (every rewrite drops
 * a constraint), so a Hyperscan prefilter of the relaxed form is a sound
 * gate: PCRE2 runs the original only where the gate matched.
 */
#ifndef TM_MATCH_RELAX_H
#define TM_MATCH_RELAX_H

#include <stddef.h>

/*
 * tm_re_relax - the relaxed form of pat (PCRE syntax; extended: the /x
 * flag is on, and the result is not /x), heap-allocated (tm_free), or
 * NULL when pat holds a construct it cannot widen soundly.
 */
char *tm_re_relax(const char *pat, int extended);

/*
 * tm_re_relax_unit - for a regex that is one group repeated at least
 * twice and nothing else, "(G){n}", "(G){n,}" or "(G){n,m}" with n >= 2
 * (a lazy or possessive mark allowed), the relaxed form of "(G)" and n in
 * *min; NULL for any other regex. A match of the regex is n or more
 * consecutive matches of G, so when G cannot match the empty string the
 * relaxed form matches with at least n distinct end offsets wherever the
 * regex matches: a gate that counts them is sound and far narrower than
 * the relaxed regex, in which the repeat became a '+'.
 */
char *tm_re_relax_unit(const char *pat, int extended, unsigned long *min);

/*
 * tm_re_relax_part - the relaxed form of item k (from 0: an atom with its
 * quantifier) of a regex that is a concatenation at its top level, and
 * the number of items in *count; NULL when k >= *count, or for a regex
 * with a top-level '|' or an option setting such as "(?i)" (it would
 * change the items after it). Wherever the regex matches, each of its
 * items matches a part of that match, in the same context: a gate made of
 * one item is sound. For a regex too large for Hyperscan even relaxed
 * (the stock __YOUR_PASSWORD is 37 kB), one selective item makes a gate.
 */
char *tm_re_relax_part(const char *pat, int extended, size_t k, size_t *count);

#endif
