/*
 * rules.h - a rule set in SpamAssassin's .cf syntax, as loaded from files.
 *
 * The loader (parse.c) reads .cf files and directories (sorted, *.cf only)
 * with `include`, `if`/`ifplugin`/`else`/`endif`, and keeps every rule it
 * saw: rules it cannot support are kept with `unsupported` set and a reason,
 * never dropped. Regexes are kept in Perl syntax with delimiters and
 * modifiers split off; compiling them is scanner/match's job, evaluating
 * meta expressions and scores scanner/verdict's. The set is immutable after
 * loading and owned by the engine (engine-lifetime memory, tm_x*).
 */
#ifndef TM_RULES_RULES_H
#define TM_RULES_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

enum tm_rule_type {
    TM_RULE_HEADER,
    TM_RULE_BODY,
    TM_RULE_RAWBODY,
    TM_RULE_URI,
    TM_RULE_FULL,
    TM_RULE_META,
    TM_RULE__COUNT
};

/* Regex modifiers (Perl): i m s x. Others (g, o) are accepted and ignored. */
#define TM_RE_I 0x1u
#define TM_RE_M 0x2u
#define TM_RE_S 0x4u
#define TM_RE_X 0x8u

/* What a header rule looks at. */
enum tm_hdr_kind {
    TM_HDR_NAMED,     /* one or more named headers ("Subject", "From:addr") */
    TM_HDR_ALL,       /* the whole header section */
    TM_HDR_TOCC,      /* To and Cc */
    TM_HDR_MESSAGEID, /* Message-Id, Resent-Message-Id, X-Message-Id, X-Message-ID */
    TM_HDR_EXISTS,    /* exists:Name - true when the header is present */
};

/* Header value modifiers after ':' (SA: "From:addr", "Subject:raw"). */
#define TM_HDRMOD_RAW    0x1u /* undecoded, still folded */
#define TM_HDRMOD_ADDR   0x2u /* the first address (addr-spec) */
#define TM_HDRMOD_NAME   0x4u /* the first display name */
#define TM_HDRMOD_HOST   0x8u /* the host of the first address */
#define TM_HDRMOD_DOMAIN 0x10u
#define TM_HDRMOD_FIRST  0x20u /* only the first occurrence */
#define TM_HDRMOD_LAST   0x40u /* only the last occurrence */
#define TM_HDRMOD_IP     0x80u /* the IP address of the :host (SA feature_get_host) */

/* tflags */
#define TM_TF_MULTIPLE   0x1u  /* count every hit (score once unless maxhits) */
#define TM_TF_NICE       0x2u  /* negative score expected */
#define TM_TF_NET        0x4u  /* needs the network: not run by Tamis offline */
#define TM_TF_LEARN      0x8u  /* Bayes learning: not run */
#define TM_TF_USERCONF   0x10u
#define TM_TF_NOAUTOLEARN 0x20u
#define TM_TF_PUBLISH    0x40u
#define TM_TF_NOSUBJECT  0x80u /* body rule does not see the Subject line */
#define TM_TF_AUTOLEARNTEST 0x100u

struct tm_rule {
    const char *name;
    enum tm_rule_type type;
    const char *file; /* where it was defined (first definition) */
    unsigned line;

    /* regex rules (header, body, rawbody, uri, full) */
    const char *pattern; /* Perl regex text between the delimiters */
    unsigned re_flags;   /* TM_RE_* */
    int negate;          /* header NAME X !~ /re/ */

    /* header rules */
    enum tm_hdr_kind hdr_kind;
    const char **hdr_names; /* for TM_HDR_NAMED/EXISTS: names as written ("Subject") */
    size_t n_hdr_names;
    unsigned hdr_mods;     /* TM_HDRMOD_* */
    const char *if_unset;  /* [if-unset: STRING], or NULL */

    /* meta rules: the expression as written; verdict parses it */
    const char *meta;

    /* eval: rules (header NAME eval:f(args), body NAME eval:f()) */
    const char *eval; /* "f(args)" or NULL */

    double score[4]; /* the four score sets; one value given means all four */
    int has_score;   /* a score line was seen */
    const char *describe;
    unsigned tflags;
    unsigned maxhits; /* tflags maxhits=N; 0 = unlimited */
    int priority;
    const char *force_action; /* Tamis force_action: "reject", "soft_reject", ... or NULL */

    int unsupported;        /* loaded but not runnable by Tamis */
    const char *why;        /* reason when unsupported */
};

struct tm_rule_diag {
    const char *file;
    unsigned line;
    unsigned col;
    int error; /* 1 = error (the rule is not loaded), 0 = warning */
    const char *msg;
};

/* Tamis url_blocklist / url_allowlist lines: host list files (paths resolved) */
struct tm_rules_url_list {
    char *path;
    int allow; /* 1: allowlist, 0: blocklist */
};

struct tm_ruleset {
    struct tm_rule *rules; /* in definition order */
    size_t n, cap;
    struct tm_rule_diag *diags;
    size_t ndiags, diags_cap;
    double required_score;  /* from required_score/required_hits; default 5.0 */
    int has_required_score;
    unsigned char sha256[32]; /* of every file's bytes in load order: the rules version */
    size_t nfiles;
    void *index; /* name -> rule lookup, private to parse.c */
    size_t nlang;    /* `lang xx ...` lines skipped (localised describe/report) */
    size_t nignored; /* lines of directives that are not rules, ignored (one diag per name) */
    struct tm_rules_url_list *url_lists;
    size_t nurl_lists, url_lists_cap;
};

/* Claims Tamis makes to `if` lines: the SpamAssassin version it matches. */
#define TM_RULES_SA_VERSION 4.000001

/*
 * tm_rules_load - load files and directories (directories: *.cf in name
 * order, as SpamAssassin does) into rs, which starts zeroed. Every problem is
 * a diag with file:line:col; returns TM_EINVAL when any error diag was
 * recorded (the rest of the set is still loaded), TM_EIO when a path cannot
 * be read.
 */
tm_rc tm_rules_load(struct tm_ruleset *rs, const char *const *paths, size_t npaths);

/* tm_rule_is_exists - header NAME exists:X: decided by presence, no regex */
static inline int
tm_rule_is_exists(const struct tm_rule *r)
{
    return r->type == TM_RULE_HEADER && r->hdr_kind == TM_HDR_EXISTS;
}

/* tm_rules_find - the rule named `name`, or NULL */
const struct tm_rule *tm_rules_find(const struct tm_ruleset *rs, const char *name);

/* tm_rules_free - release everything the set owns */
void tm_rules_free(struct tm_ruleset *rs);

/* tm_rule_type_name - "header", "body", ... */
const char *tm_rule_type_name(enum tm_rule_type t);

#endif
