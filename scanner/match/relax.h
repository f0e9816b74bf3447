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

/*
 * tm_re_relax - the relaxed form of pat (PCRE syntax; extended: the /x
 * flag is on, and the result is not /x), heap-allocated (tm_free), or
 * NULL when pat holds a construct it cannot widen soundly.
 */
char *tm_re_relax(const char *pat, int extended);

#endif
