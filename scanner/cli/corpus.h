/*
 * corpus.h - `tamis corpus`: the engine over labelled corpora, for rule
 * authors. One run is a struct tm_corpus_run, filled by corpus.c (reading,
 * scanning on all cores, statistics) and read by the report writers
 * (terminal table and JSON in corpus.c, HTML in corpus_html.c) and by the
 * score fitter (corpus_fit.c).
 *
 * Every count comes from the verdicts themselves: a message's hits are the
 * rules its verdict lists (all_hits, sub-rules included) and its score is
 * the verdict's score, so the statistics equal `tamis scan` run message by
 * message. A message is classed spam when its score reaches the threshold
 * (the rule set's required_score unless --threshold says otherwise), as
 * SpamAssassin's mass-check does.
 */
#ifndef TM_CLI_CORPUS_H
#define TM_CLI_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#define TM_CORPUS_OVERLAP 3 /* other rules listed per rule in the overlap column */
#define TM_CORPUS_TOP     5 /* symbols listed per FP/FN message */

struct tm_corpus_hit {
    uint32_t rule;  /* index into run->rules */
    uint32_t count; /* match count (tflags multiple rules score count times) */
};

struct tm_corpus_msg {
    char *name;            /* the file, or "MBOX#N" for the N-th message of an mbox */
    uint64_t offset;       /* byte offset of an mbox message, 0 for a file */
    uint64_t size;         /* bytes scanned */
    int spam;              /* the label: 1 spam, 0 ham */
    double score;          /* the verdict's score */
    int action;            /* enum tm_action of the verdict */
    struct tm_corpus_hit *hits; /* every rule that hit, in rule order */
    uint32_t nhits;
};

struct tm_corpus_overlap {
    uint32_t rule; /* the other rule */
    double pct;    /* % of this rule's hits that the other rule also hit */
};

struct tm_corpus_rule {
    const char *name;
    const char *describe; /* may be NULL */
    double score;         /* the score in force for this run */
    int sub;              /* a __ sub-rule (never scored) */
    int fittable;         /* may get a fitted score: scored, not forced, not a sub-rule */
    int runnable;         /* loaded and compiled (an unsupported rule can never hit) */
    uint64_t spam_hits, ham_hits;
    double spam_pct, ham_pct; /* of the spam / ham messages */
    double so;                /* spam% / (spam% + ham%); 0 when it never hit */
    double rank;              /* 0..1, SpamAssassin hit-frequencies style (see corpus.c) */
    struct tm_corpus_overlap overlap[TM_CORPUS_OVERLAP];
    size_t noverlap;
};

struct tm_corpus_confusion {
    double threshold;
    uint64_t tp, fp, tn, fn; /* positive = spam */
    double fp_rate;          /* fp / ham */
    double fn_rate;          /* fn / spam */
    double precision, recall, accuracy;
    double error_rate;       /* (fp + fn) / messages */
};

/* one point of the threshold sweep */
struct tm_corpus_point {
    double threshold;
    uint64_t fp, fn;
    double fpr, tpr; /* ROC coordinates */
};

struct tm_corpus_fit {
    int done;
    const char *out_path;  /* the .cf written */
    double lambda;         /* L2 weight toward the current scores, chosen on validation */
    double fp_cost;        /* weight of a ham error against a spam error */
    double validation;     /* share of messages held out */
    size_t nfeatures;      /* rules whose score was fitted */
    size_t ntrain, nval;
    struct tm_corpus_confusion val_before, val_after;     /* held-out part, model fitted on the rest */
    struct tm_corpus_confusion train_before, train_after; /* training part */
    struct tm_corpus_confusion all_before, all_after;     /* all messages, final scores */
    double *new_score;     /* per rule (run->nrules): the fitted score; NAN when not fitted */
};

/* an earlier run's JSON (--baseline), lined up with this run's rules */
struct tm_corpus_baseline {
    const char *path;
    uint64_t ham, spam;
    struct tm_corpus_confusion conf;
    double msgs_per_s;
    int *has;          /* per current rule: present in the baseline */
    double *spam_pct, *ham_pct, *so, *score; /* per current rule, when has[i] */
    char **gone;       /* rules of the baseline that this run does not have */
    size_t ngone;
};

struct tm_corpus_source {
    const char *path;
    int spam;
    const char *kind; /* "dir", "maildir", "mbox", "file" */
    uint64_t messages;
};

struct tm_corpus_run {
    struct tm_corpus_msg *msgs; /* in input order */
    size_t nmsgs;
    uint64_t nham, nspam, bytes;
    uint64_t errors; /* messages that could not be read */
    struct tm_corpus_rule *rules;
    size_t nrules;
    struct tm_corpus_source *sources;
    size_t nsources;
    struct tm_corpus_confusion conf; /* at the threshold */
    struct tm_corpus_point *roc;     /* thresholds ascending */
    size_t nroc;
    double auc;
    double secs, msgs_per_s, mb_per_s;
    unsigned jobs;
    const char *rules_version;
    struct tm_corpus_fit fit;
    struct tm_corpus_baseline *base; /* NULL without --baseline */
};

/*
 * tm_corpus_confusion_at - classify n messages (score[i] >= threshold is
 * spam) against their labels spam[i] and fill *c.
 */
void tm_corpus_confusion_at(const double *score, const uint8_t *spam, size_t n, double threshold,
                            struct tm_corpus_confusion *c);

/*
 * tm_corpus_top_symbols - the (at most TM_CORPUS_TOP) scored rules of m
 * with the largest |score| contribution, largest first; returns how many.
 */
size_t tm_corpus_top_symbols(const struct tm_corpus_run *r, const struct tm_corpus_msg *m,
                             uint32_t *out);

/*
 * tm_corpus_write_html - the self-contained report (no external assets):
 * summary, score histograms for ham and spam, ROC curve, per-rule table
 * with sorting, FP/FN lists, baseline and fit sections when present.
 * 0, or -1 with err set.
 */
int tm_corpus_write_html(const struct tm_corpus_run *r, const char *path, char *err,
                         size_t errlen);

struct tm_corpus_fit_opts {
    const char *out_path;  /* the .cf to write */
    double validation;     /* share held out, 0 < v < 1 (default 0.2) */
    double fp_cost;        /* default 1 */
    double lambda;         /* < 0: choose from a grid on the validation split */
    double max_score;      /* |fitted score| bound (default 10) */
    unsigned min_hits;     /* rules hit by fewer training messages keep their score */
    uint64_t seed;         /* the split: a hash of the message name and the seed */
};

/*
 * tm_corpus_fit_scores - propose scores for the fittable rules from the
 * hits: L2-regularised logistic regression toward the current scores, the
 * threshold fixed, signs kept. Fills run->fit and writes the .cf file.
 * 0, or -1 with err set.
 */
int tm_corpus_fit_scores(struct tm_corpus_run *r, const struct tm_corpus_fit_opts *o, char *err,
                         size_t errlen);

/* `tamis corpus ...` */
int tamis_corpus_main(int argc, char **argv);

#endif
