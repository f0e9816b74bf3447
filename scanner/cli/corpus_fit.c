/*
 * corpus_fit.c - `tamis corpus --fit`: propose scores for the fittable rules
 * from a labelled run, as SpamAssassin's score perceptron does for its rule
 * authors, and write them as a .cf file loaded after the rule set.
 *
 * The model is a logistic regression whose weights ARE the scores:
 *
 *   P(spam | message i) = sigmoid(fixed_i + sum_j w_j * count_ij - threshold)
 *
 * with the threshold fixed, so the proposed .cf is directly loadable. The
 * features are the rules with `fittable` set, a non-zero score (the sign to
 * keep), a printable name ([A-Za-z0-9_]) and at least min_hits (>= 1)
 * training messages hitting them. Every other rule keeps its score: its part
 * is in fixed_i = score_i - sum over feature hits of w0_j * count_ij.
 *
 * Loss: the mean over the messages of the class-weighted log-loss (ham
 * weight fp_cost, spam weight 1), plus lambda * sum_j (w_j - w0_j)^2 toward
 * the current scores w0. A rule keeps its sign: w0 > 0 gives w in
 * [0, max_score], w0 < 0 gives w in [-max_score, 0] (a current score
 * beyond the bound starts on it).
 *
 * The solver is cyclic coordinate descent (liblinear's CDN): per rule, one
 * projected Newton step on the rule's column of hits, then a backtracking
 * line search with a sufficient-decrease test. It is exact on the box, has
 * no step size to tune, visits only the sparse hits, and is deterministic.
 * Bounds: FIT_MAX_SWEEPS sweeps, FIT_MAX_HALVINGS halvings per step.
 *
 * The held-out part (share `validation`) is chosen per message by a hash of
 * its name and the seed, so a message stays on its side as the corpus grows.
 * The model fitted on the rest picks lambda from fit_lambdas (unless one is
 * given) and gives the honest before/after numbers; the final scores come
 * from a refit on all messages with that lambda. Scores are rounded to 3
 * decimals, as written, before any "after" number is computed, so the report
 * is what a rescan with the .cf gives.
 */
#include "cli/corpus.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define FIT_VALIDATION_DEFAULT 0.2
#define FIT_MAX_SCORE_DEFAULT  10.0
#define FIT_LAMBDA_NOVAL       1e-2 /* lambda when nothing is held out to choose one */
#define FIT_MAX_SWEEPS         400  /* coordinate descent passes over all features */
#define FIT_TOL                1e-5 /* stop when no score moved more (score points) */
#define FIT_MAX_HALVINGS       30   /* backtracking steps of one line search */
#define FIT_ARMIJO             0.01 /* sufficient decrease: share of the linear decrease */
#define FIT_ZCLAMP             1e6  /* sigmoid input bound: keeps NaN and inf out */
#define FIT_DZ_DIRECT          30   /* margin moves beyond: line_ok's direct way */
#define FIT_HMIN               1e-12

/* the lambda grid, tried from the largest down (ties keep the larger) */
static const double fit_lambdas[] = {1, 1e-1, 1e-2, 1e-3, 1e-4};

/* the features: rules whose score is fitted */
struct fit_feat {
    size_t nf;
    uint32_t *rule;    /* rule index of each feature */
    uint32_t *of_rule; /* per rule: its feature, or UINT32_MAX */
    double *w0, *lo, *hi;
};

/* one set of messages (training part or all) as columns of hits */
struct fit_set {
    size_t n;
    size_t *msg;       /* index into run->msgs */
    double *base;      /* fixed part minus the threshold */
    uint8_t *y;        /* label */
    double *c;         /* loss weight: 1 spam, fp_cost ham */
    size_t *colp;      /* nf + 1 column starts into row[] and x[] */
    uint32_t *row;     /* set-local message of each hit */
    double *x;         /* its count */
    size_t maxcol;     /* longest column */
    double *z, *p, *q; /* solver state per message: margin, P(spam), P(ham) */
    double *pt, *qt;   /* a line-search trial over one column */
};

static void
set_err(char *err, size_t errlen, const char *msg, const char *arg)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s%s", msg, arg != NULL ? arg : "");
}

/*
 * split_hash - FNV-1a 64 of the seed then the name (the index when there
 * is no name), finished with splitmix64's mixer: FNV's last bytes barely
 * reach the top bits, which pick the side.
 */
static uint64_t
split_hash(const char *name, size_t idx, uint64_t seed)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t k;

    for (k = 0; k < 8; k++) {
        h ^= (seed >> (8 * k)) & 0xff;
        h *= 0x100000001b3ULL;
    }
    if (name != NULL) {
        for (; *name != '\0'; name++) {
            h ^= (unsigned char)*name;
            h *= 0x100000001b3ULL;
        }
    } else {
        for (k = 0; k < 8; k++) {
            h ^= ((uint64_t)idx >> (8 * k)) & 0xff;
            h *= 0x100000001b3ULL;
        }
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

/*
 * split - mark the held-out messages (val[i] = 1): a message is held out
 * when its hash, as a number in [0, 1), is below the share. A class with no
 * training message left gets back its held-out message of largest hash, so
 * both classes of the corpus are in the training part.
 */
static void
split(const struct tm_corpus_run *r, double share, uint64_t seed, uint8_t *val)
{
    size_t i, cls;
    double *u = tm_xcalloc(r->nmsgs, sizeof(*u));

    for (i = 0; i < r->nmsgs; i++) {
        u[i] = (double)(split_hash(r->msgs[i].name, i, seed) >> 11) * 0x1.0p-53;
        val[i] = u[i] < share;
    }
    for (cls = 0; cls < 2; cls++) {
        size_t best = SIZE_MAX, ntrain = 0;
        for (i = 0; i < r->nmsgs; i++) {
            if ((r->msgs[i].spam != 0) != (cls != 0))
                continue;
            if (!val[i])
                ntrain++;
            else if (best == SIZE_MAX || u[i] > u[best])
                best = i;
        }
        if (ntrain == 0 && best != SIZE_MAX)
            val[best] = 0;
    }
    tm_free(u);
}

static int
name_ok(const char *s)
{
    if (s == NULL || *s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

/*
 * pick_features - the rules to fit: fittable, scored (the sign to keep),
 * a writable name, and hit by at least min_hits training messages. A hit
 * outside the rule table is ignored (its score is in the fixed part).
 */
static void
pick_features(const struct tm_corpus_run *r, const uint8_t *val, unsigned min_hits,
              double max_score, struct fit_feat *f)
{
    size_t i, k, j;
    uint64_t *hits = tm_xcalloc(r->nrules, sizeof(*hits));

    for (i = 0; i < r->nmsgs; i++) {
        if (val[i])
            continue;
        for (k = 0; k < r->msgs[i].nhits; k++)
            if (r->msgs[i].hits[k].rule < r->nrules)
                hits[r->msgs[i].hits[k].rule]++;
    }
    f->of_rule = tm_xcalloc(r->nrules, sizeof(*f->of_rule));
    f->rule = tm_xcalloc(r->nrules, sizeof(*f->rule));
    f->w0 = tm_xcalloc(r->nrules, sizeof(*f->w0));
    f->lo = tm_xcalloc(r->nrules, sizeof(*f->lo));
    f->hi = tm_xcalloc(r->nrules, sizeof(*f->hi));
    f->nf = 0;
    for (j = 0; j < r->nrules; j++) {
        const struct tm_corpus_rule *ru = &r->rules[j];
        f->of_rule[j] = UINT32_MAX;
        if (!ru->fittable || ru->sub || !isfinite(ru->score) || ru->score == 0 ||
            !name_ok(ru->name) || hits[j] < min_hits)
            continue;
        f->of_rule[j] = (uint32_t)f->nf;
        f->rule[f->nf] = (uint32_t)j;
        f->w0[f->nf] = ru->score;
        f->lo[f->nf] = ru->score > 0 ? 0 : -max_score;
        f->hi[f->nf] = ru->score > 0 ? max_score : 0;
        f->nf++;
    }
    tm_free(hits);
}

static void
feat_free(struct fit_feat *f)
{
    tm_free(f->rule);
    tm_free(f->of_rule);
    tm_free(f->w0);
    tm_free(f->lo);
    tm_free(f->hi);
}

/*
 * set_build - the messages with val[i] == want (all of them when want < 0)
 * as columns: the solver walks one rule's hits at a time. base is the part
 * of the score the features do not carry, minus the threshold; a message
 * whose score is not a number gets 0 there (it then weighs like any other).
 */
static void
set_build(const struct tm_corpus_run *r, const struct fit_feat *f, const uint8_t *val, int want,
          double fp_cost, struct fit_set *s)
{
    size_t i, k, j, nnz = 0, at;
    size_t *fill;

    memset(s, 0, sizeof(*s));
    s->msg = tm_xcalloc(r->nmsgs, sizeof(*s->msg));
    for (i = 0; i < r->nmsgs; i++)
        if (want < 0 || val[i] == want)
            s->msg[s->n++] = i;
    s->base = tm_xcalloc(s->n, sizeof(*s->base));
    s->y = tm_xcalloc(s->n, sizeof(*s->y));
    s->c = tm_xcalloc(s->n, sizeof(*s->c));
    s->z = tm_xcalloc(s->n, sizeof(*s->z));
    s->p = tm_xcalloc(s->n, sizeof(*s->p));
    s->q = tm_xcalloc(s->n, sizeof(*s->q));
    s->colp = tm_xcalloc(f->nf + 1, sizeof(*s->colp));
    for (i = 0; i < s->n; i++) {
        const struct tm_corpus_msg *m = &r->msgs[s->msg[i]];
        double fixed = m->score;
        for (k = 0; k < m->nhits; k++) {
            uint32_t ru = m->hits[k].rule;
            if (ru < r->nrules && f->of_rule[ru] != UINT32_MAX) {
                s->colp[f->of_rule[ru] + 1]++;
                nnz++;
                fixed -= f->w0[f->of_rule[ru]] * (double)m->hits[k].count;
            }
        }
        if (isnan(fixed))
            fixed = 0;
        s->base[i] = fixed - r->conf.threshold;
        s->y[i] = m->spam != 0;
        s->c[i] = m->spam ? 1 : fp_cost;
    }
    for (j = 0; j < f->nf; j++) {
        if (s->colp[j + 1] > s->maxcol)
            s->maxcol = s->colp[j + 1];
        s->colp[j + 1] += s->colp[j];
    }
    s->row = tm_xcalloc(nnz, sizeof(*s->row));
    s->x = tm_xcalloc(nnz, sizeof(*s->x));
    fill = tm_xcalloc(f->nf, sizeof(*fill));
    for (i = 0; i < s->n; i++) {
        const struct tm_corpus_msg *m = &r->msgs[s->msg[i]];
        for (k = 0; k < m->nhits; k++) {
            uint32_t ru = m->hits[k].rule;
            if (ru < r->nrules && f->of_rule[ru] != UINT32_MAX) {
                j = f->of_rule[ru];
                at = s->colp[j] + fill[j]++;
                s->row[at] = (uint32_t)i;
                s->x[at] = (double)m->hits[k].count;
            }
        }
    }
    tm_free(fill);
    s->pt = tm_xcalloc(s->maxcol, sizeof(*s->pt));
    s->qt = tm_xcalloc(s->maxcol, sizeof(*s->qt));
}

static void
set_free(struct fit_set *s)
{
    tm_free(s->msg);
    tm_free(s->base);
    tm_free(s->y);
    tm_free(s->c);
    tm_free(s->colp);
    tm_free(s->row);
    tm_free(s->x);
    tm_free(s->z);
    tm_free(s->p);
    tm_free(s->q);
    tm_free(s->qt);
    tm_free(s->pt);
}

/* clamp_z - the sigmoid input, with NaN and infinities kept out */
static double
clamp_z(double z)
{
    if (!(z > -FIT_ZCLAMP))
        return -FIT_ZCLAMP;
    return z > FIT_ZCLAMP ? FIT_ZCLAMP : z;
}

/*
 * probs - P(spam) and P(ham) at margin z, each computed directly (not as
 * 1 - the other) so that the small one keeps its precision; from
 * exp(-|z|), which never overflows.
 */
static void
probs(double z, double *p, double *q)
{
    double e;

    z = clamp_z(z);
    e = exp(-fabs(z));
    *p = z >= 0 ? 1 / (1 + e) : e / (1 + e);
    *q = z >= 0 ? e / (1 + e) : 1 / (1 + e);
}

/* loss - the weighted log-loss at margin z: softplus(z) = max(z, 0) + log1p(exp(-|z|)) */
static double
loss(double z, int y, double c)
{
    double sp;

    z = clamp_z(z);
    sp = (z > 0 ? z : 0) + log1p(exp(-fabs(z)));
    return c * (y ? sp - z : sp);
}

/*
 * line_ok - does moving one feature by `step` (its column is b..e) lower
 * the loss by FIT_ARMIJO of the linear prediction step * g? Only the
 * column's messages move. A margin moving by dz changes the log-loss by
 * log(q + p e^dz) (- dz for spam), and P(spam) becomes p e^dz / (q + p e^dz):
 * one logarithm per hit, e^dz once per step for the usual count 1. A move
 * beyond FIT_DZ_DIRECT goes the direct way (no overflow). The trial's
 * probabilities are left in pt[], qt[].
 */
static int
line_ok(const struct fit_set *s, size_t b, size_t e, double step, double g, double dw0,
        double lambda, double inv_n)
{
    double df = 0, e1 = fabs(step) <= FIT_DZ_DIRECT ? exp(step) : 0;
    size_t k, i;

    for (k = b; k < e; k++) {
        double dz = step * s->x[k], dl;
        i = s->row[k];
        if (fabs(dz) <= FIT_DZ_DIRECT) {
            double ez = s->x[k] == 1 ? e1 : exp(dz);
            double den = s->q[i] + s->p[i] * ez;
            s->pt[k - b] = s->p[i] * ez / den;
            s->qt[k - b] = s->q[i] / den;
            dl = log(den) - (s->y[i] ? dz : 0);
            df += s->c[i] * dl;
        } else {
            probs(s->z[i] + dz, &s->pt[k - b], &s->qt[k - b]);
            df += loss(s->z[i] + dz, s->y[i], s->c[i]) - loss(s->z[i], s->y[i], s->c[i]);
        }
    }
    df = df * inv_n + lambda * ((dw0 + step) * (dw0 + step) - dw0 * dw0);
    return df <= FIT_ARMIJO * step * g;
}

/*
 * solve - minimise the loss over s for one lambda, starting from w (warm
 * start) and leaving the optimum there. Per feature: gradient g and
 * curvature h over its column, the Newton step clamped to the box, then
 * halvings until line_ok. Ends when a sweep moves no score by FIT_TOL, or
 * after FIT_MAX_SWEEPS. Each sweep recomputes the probabilities from the
 * margins, so the incremental updates of line_ok cannot drift.
 */
static unsigned
solve(struct fit_set *s, const struct fit_feat *f, double lambda, double *w)
{
    size_t i, j, k;
    unsigned sweep;
    double inv_n = s->n ? 1.0 / (double)s->n : 0;

    for (i = 0; i < s->n; i++)
        s->z[i] = s->base[i];
    for (j = 0; j < f->nf; j++)
        for (k = s->colp[j]; k < s->colp[j + 1]; k++)
            s->z[s->row[k]] += w[j] * s->x[k];

    for (sweep = 1; sweep <= FIT_MAX_SWEEPS; sweep++) {
        double moved = 0;
        for (i = 0; i < s->n; i++)
            probs(s->z[i], &s->p[i], &s->q[i]);
        for (j = 0; j < f->nf; j++) {
            size_t b = s->colp[j], e = s->colp[j + 1];
            double g = 0, h = 0, d, step, dw0 = w[j] - f->w0[j];
            unsigned t;

            for (k = b; k < e; k++) {
                i = s->row[k];
                g += s->c[i] * (s->y[i] ? -s->q[i] : s->p[i]) * s->x[k];
                h += s->c[i] * s->p[i] * s->q[i] * s->x[k] * s->x[k];
            }
            g = g * inv_n + 2 * lambda * dw0;
            h = h * inv_n + 2 * lambda;
            if (h < FIT_HMIN)
                h = FIT_HMIN;
            d = w[j] - g / h;
            d = d < f->lo[j] ? f->lo[j] : d > f->hi[j] ? f->hi[j] : d;
            d -= w[j];
            if (!(fabs(d) > 1e-12))
                continue;
            for (t = 0, step = d; t < FIT_MAX_HALVINGS; t++, step *= 0.5)
                if (line_ok(s, b, e, step, g, dw0, lambda, inv_n))
                    break;
            if (t == FIT_MAX_HALVINGS)
                continue;
            for (k = b; k < e; k++) {
                i = s->row[k];
                s->z[i] += step * s->x[k];
                s->p[i] = s->pt[k - b];
                s->q[i] = s->qt[k - b];
            }
            w[j] += step;
            if (w[j] < f->lo[j]) /* rounding of w + (clamped - w) */
                w[j] = f->lo[j];
            else if (w[j] > f->hi[j])
                w[j] = f->hi[j];
            if (fabs(step) > moved)
                moved = fabs(step);
        }
        if (moved < FIT_TOL)
            break;
    }
    return sweep;
}

/* round3 - a score as the .cf writes it (3 decimals; never -0) */
static double
round3(double v)
{
    v = round(v * 1000) / 1000;
    return v == 0 ? 0 : v;
}

/*
 * confusion - the confusion matrix of the messages with val[i] == want (all
 * when want < 0), with feature weights w (NULL: the scores of the run).
 * A message's new score is its score plus the change of each feature hit,
 * so a rule left at its score changes nothing, bit for bit.
 */
static void
confusion(const struct tm_corpus_run *r, const struct fit_feat *f, const uint8_t *val, int want,
          const double *w, double *score, uint8_t *lab, struct tm_corpus_confusion *c)
{
    size_t i, k, n = 0;

    for (i = 0; i < r->nmsgs; i++) {
        const struct tm_corpus_msg *m = &r->msgs[i];
        if (want >= 0 && val[i] != want)
            continue;
        score[n] = m->score;
        lab[n] = m->spam != 0;
        for (k = 0; w != NULL && k < m->nhits; k++) {
            uint32_t ru = m->hits[k].rule;
            if (ru < r->nrules && f->of_rule[ru] != UINT32_MAX) {
                size_t j = f->of_rule[ru];
                if (w[j] != f->w0[j])
                    score[n] += (w[j] - f->w0[j]) * (double)m->hits[k].count;
            }
        }
        n++;
    }
    tm_corpus_confusion_at(score, lab, n, r->conf.threshold, c);
}

static double
cost(const struct tm_corpus_confusion *c, double fp_cost)
{
    return (double)c->fn + fp_cost * (double)c->fp;
}

/* the printable bytes of s, others as '?' (a header line stays one line) */
static void
put_clean(FILE *fp, const char *s)
{
    for (; *s != '\0'; s++)
        fputc(*s >= 0x20 && *s < 0x7f ? *s : '?', fp);
}

static void
put_conf(FILE *fp, const char *what, const struct tm_corpus_confusion *b,
         const struct tm_corpus_confusion *a, double fp_cost)
{
    fprintf(fp,
            "#   %s: before fp %llu fn %llu (weighted errors %.1f), "
            "after fp %llu fn %llu (%.1f)\n",
            what, (unsigned long long)b->fp, (unsigned long long)b->fn, cost(b, fp_cost),
            (unsigned long long)a->fp, (unsigned long long)a->fn, cost(a, fp_cost));
}

/*
 * write_cf - the proposed scores: a comment header saying where they come
 * from and how to use them, then one `score NAME VALUE` line per fitted
 * rule in rule order.
 */
static int
write_cf(const struct tm_corpus_run *r, const struct fit_feat *f, uint64_t nham, uint64_t nspam,
         const char *lambda_from, double max_score, int capped, const char *why_none, char *err,
         size_t errlen)
{
    const struct tm_corpus_fit *ft = &r->fit;
    FILE *fp = fopen(ft->out_path, "w");
    size_t j;
    int bad;

    if (fp == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "cannot write %s: %s", ft->out_path, strerror(errno));
        return -1;
    }
    errno = 0;
    fprintf(fp, "# Scores proposed by `tamis corpus --fit` for %zu rules\n", ft->nfeatures);
    if (why_none != NULL)
        fprintf(fp, "# nothing fitted: %s\n", why_none);
    fprintf(fp, "# corpus: %llu ham, %llu spam; threshold %g (a message is spam at or above)\n",
            (unsigned long long)nham, (unsigned long long)nspam, r->conf.threshold);
    if (r->rules_version != NULL) {
        fputs("# rules_version: ", fp);
        put_clean(fp, r->rules_version);
        fputc('\n', fp);
    }
    if (why_none == NULL)
        fprintf(fp,
                "# logistic loss, L2 toward the current scores: lambda %g (%s), fp_cost %g, "
                "signs kept, |score| <= %g\n",
                ft->lambda, lambda_from, ft->fp_cost, max_score);
    if (capped)
        fprintf(fp, "# the solver stopped at its bound of %d sweeps: scores may be rough\n",
                FIT_MAX_SWEEPS);
    fprintf(fp, "# held out %.0f%%: %zu messages, trained on %zu\n", ft->validation * 100, ft->nval,
            ft->ntrain);
    put_conf(fp, "held-out, model of the training part", &ft->val_before, &ft->val_after,
             ft->fp_cost);
    put_conf(fp, "training part", &ft->train_before, &ft->train_after, ft->fp_cost);
    put_conf(fp, "all messages, these scores", &ft->all_before, &ft->all_after, ft->fp_cost);
    fputs("# Load it after the rule set, e.g.\n"
          "#   tamis scan --rules RULES --rules THIS.cf\n",
          fp);
    for (j = 0; j < f->nf; j++)
        fprintf(fp, "score %s %.3f\n", r->rules[f->rule[j]].name, ft->new_score[f->rule[j]]);
    bad = ferror(fp);
    if (fclose(fp) != 0)
        bad = 1;
    if (bad) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "cannot write %s: %s", ft->out_path,
                     errno ? strerror(errno) : "I/O error");
        return -1;
    }
    return 0;
}

/*
 * fit_train - the model of the training part: for each lambda (the given
 * one, or the grid from the largest down with warm starts), fit and score
 * the held-out messages; keep the strictly best weighted error. Leaves the
 * rounded weights in wbest and returns the lambda; *capped is set when a
 * solve stopped at FIT_MAX_SWEEPS.
 */
static double
fit_train(const struct tm_corpus_run *r, const struct fit_feat *f, const uint8_t *val,
          double fp_cost, double lambda, size_t nval, double *wbest, double *score, uint8_t *lab,
          int *capped)
{
    struct fit_set s;
    double *w = tm_xcalloc(f->nf ? f->nf : 1, sizeof(*w));
    double *wr = tm_xcalloc(f->nf ? f->nf : 1, sizeof(*wr));
    double best = INFINITY, chosen = lambda;
    size_t g, j, ngrid = sizeof(fit_lambdas) / sizeof(fit_lambdas[0]);

    set_build(r, f, val, 0, fp_cost, &s);
    memcpy(w, f->w0, f->nf * sizeof(*w));
    for (j = 0; j < f->nf; j++) /* a current score beyond the bound starts on it */
        w[j] = w[j] < f->lo[j] ? f->lo[j] : w[j] > f->hi[j] ? f->hi[j] : w[j];
    if (lambda >= 0 || nval == 0) {
        chosen = lambda >= 0 ? lambda : FIT_LAMBDA_NOVAL;
        if (solve(&s, f, chosen, w) > FIT_MAX_SWEEPS)
            *capped = 1;
        for (j = 0; j < f->nf; j++)
            wbest[j] = round3(w[j]);
    } else {
        for (g = 0; g < ngrid; g++) {
            struct tm_corpus_confusion c;
            double e;
            if (solve(&s, f, fit_lambdas[g], w) > FIT_MAX_SWEEPS)
                *capped = 1;
            for (j = 0; j < f->nf; j++)
                wr[j] = round3(w[j]);
            confusion(r, f, val, 1, wr, score, lab, &c);
            e = cost(&c, fp_cost);
            if (e < best) {
                best = e;
                chosen = fit_lambdas[g];
                memcpy(wbest, wr, f->nf * sizeof(*wr));
            }
        }
    }
    set_free(&s);
    tm_free(w);
    tm_free(wr);
    return chosen;
}

int
tm_corpus_fit_scores(struct tm_corpus_run *r, const struct tm_corpus_fit_opts *o, char *err,
                     size_t errlen)
{
    struct tm_corpus_fit *ft = &r->fit;
    struct tm_corpus_fit_opts def;
    struct fit_feat f;
    uint8_t *val, *lab;
    double *score, *wtrain, max_score, lambda;
    uint64_t nham = 0, nspam = 0;
    const char *why_none = NULL;
    size_t i, j;
    int rc = 0, capped = 0;

    if (o == NULL) {
        memset(&def, 0, sizeof(def));
        def.lambda = -1;
        o = &def;
    }
    tm_free(ft->new_score);
    memset(ft, 0, sizeof(*ft));
    if (r->nmsgs == 0) {
        set_err(err, errlen, "no messages: nothing to fit", NULL);
        return -1;
    }
    if (r->nmsgs > UINT32_MAX) {
        set_err(err, errlen, "too many messages to fit", NULL);
        return -1;
    }
    if (!isfinite(r->conf.threshold)) {
        set_err(err, errlen, "the threshold is not a number", NULL);
        return -1;
    }
    ft->out_path = o->out_path;
    lambda = o->lambda >= 0 && isfinite(o->lambda) ? o->lambda : -1; /* < 0: the grid */
    ft->validation =
        o->validation > 0 && o->validation < 1 ? o->validation : FIT_VALIDATION_DEFAULT;
    ft->fp_cost = o->fp_cost > 0 && isfinite(o->fp_cost) ? o->fp_cost : 1;
    max_score = o->max_score > 0 && isfinite(o->max_score) ? o->max_score : FIT_MAX_SCORE_DEFAULT;
    max_score = floor(max_score * 1000) / 1000; /* a bound the 3 decimals can hold */

    val = tm_xcalloc(r->nmsgs, sizeof(*val));
    lab = tm_xcalloc(r->nmsgs, sizeof(*lab));
    score = tm_xcalloc(r->nmsgs, sizeof(*score));
    split(r, ft->validation, o->seed, val);
    for (i = 0; i < r->nmsgs; i++) {
        if (r->msgs[i].spam)
            nspam++;
        else
            nham++;
        if (val[i])
            ft->nval++;
    }
    ft->ntrain = r->nmsgs - ft->nval;
    pick_features(r, val, o->min_hits > 0 ? o->min_hits : 1, max_score, &f);
    if (nham == 0 || nspam == 0)
        why_none = nham == 0 ? "the corpus has no ham" : "the corpus has no spam";
    else if (f.nf == 0)
        why_none = "no fittable rule is hit often enough";
    if (why_none != NULL)
        f.nf = 0;
    ft->nfeatures = f.nf;
    ft->new_score = tm_xcalloc(r->nrules ? r->nrules : 1, sizeof(*ft->new_score));
    for (j = 0; j < r->nrules; j++)
        ft->new_score[j] = NAN;
    wtrain = tm_xcalloc(f.nf ? f.nf : 1, sizeof(*wtrain));

    confusion(r, &f, val, 0, NULL, score, lab, &ft->train_before);
    confusion(r, &f, val, 1, NULL, score, lab, &ft->val_before);
    confusion(r, &f, val, -1, NULL, score, lab, &ft->all_before);
    if (why_none == NULL) {
        struct fit_set all;
        ft->lambda =
            fit_train(r, &f, val, ft->fp_cost, lambda, ft->nval, wtrain, score, lab, &capped);
        confusion(r, &f, val, 0, wtrain, score, lab, &ft->train_after);
        confusion(r, &f, val, 1, wtrain, score, lab, &ft->val_after);
        /* the final scores: all messages, warm start from the training model */
        set_build(r, &f, val, -1, ft->fp_cost, &all);
        if (solve(&all, &f, ft->lambda, wtrain) > FIT_MAX_SWEEPS)
            capped = 1;
        set_free(&all);
        for (j = 0; j < f.nf; j++) {
            wtrain[j] = round3(wtrain[j]);
            ft->new_score[f.rule[j]] = wtrain[j];
        }
        confusion(r, &f, val, -1, wtrain, score, lab, &ft->all_after);
    } else {
        ft->lambda = lambda >= 0 ? lambda : 0;
        ft->train_after = ft->train_before;
        ft->val_after = ft->val_before;
        ft->all_after = ft->all_before;
    }
    if (o->out_path != NULL)
        rc = write_cf(r, &f, nham, nspam,
                      lambda >= 0     ? "given"
                      : ft->nval == 0 ? "the default: nothing held out"
                                      : "chosen on the held-out messages",
                      max_score, capped, why_none, err, errlen);
    ft->done = rc == 0;
    feat_free(&f);
    tm_free(wtrain);
    tm_free(score);
    tm_free(lab);
    tm_free(val);
    return rc;
}
