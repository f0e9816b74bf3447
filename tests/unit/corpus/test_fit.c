/*
 * test_fit.c - tm_corpus_fit_scores on synthetic runs built by hand: the
 * fit lowers the held-out error of deliberately wrong scores, keeps signs
 * and bounds, leaves the rules it may not fit alone, hits the analytic
 * optimum of a one-rule problem, is deterministic, writes exactly its
 * scores to the .cf, and survives the edge cases (one class, no feature,
 * no message, an unwritable path, NaN scores).
 *
 * (How long a fit takes is measured by bench/corpus/run, not here.)
 */
#include "harness.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/corpus.h"
#include "core/core.h"
#include "suites.h"

/* ---- synthetic runs ------------------------------------------------------ */

struct spec {
    const char *name;
    double score; /* the score in force (deliberately wrong for some) */
    int fittable, sub;
    double p_spam, p_ham; /* chance that a spam / a ham hits it */
    unsigned max_count;   /* > 1: tflags multiple, count 1..max_count */
};

enum {
    R_SPAM_STRONG, /* a good spam sign scored 0.1 */
    R_HAM_FP,      /* hits ham mostly, scored +2 */
    R_NEG_HAM,     /* a ham sign, negative */
    R_SPAM_OK1,
    R_SPAM_OK2,
    R_SPAM_WEAK,
    R_FIXED,  /* not fittable */
    R_RARE,   /* fittable but hit by 3 messages */
    R_SUB,    /* a __ sub-rule */
    R_ZERO,   /* fittable, score 0: no sign to keep */
    R_BADNAM, /* a name the .cf cannot carry */
    R_MULTI,  /* tflags multiple, counts 1..3 */
    R_NRULES
};

static const struct spec specs[R_NRULES] = {
    [R_SPAM_STRONG] = {"SPAM_STRONG", 0.1, 1, 0, 0.45, 0.01, 1},
    [R_HAM_FP] = {"HAM_FP", 2.0, 1, 0, 0.05, 0.30, 1},
    [R_NEG_HAM] = {"NEG_HAM", -1.0, 1, 0, 0.05, 0.40, 1},
    [R_SPAM_OK1] = {"SPAM_OK1", 2.5, 1, 0, 0.40, 0.05, 1},
    [R_SPAM_OK2] = {"SPAM_OK2", 1.5, 1, 0, 0.30, 0.05, 1},
    [R_SPAM_WEAK] = {"SPAM_WEAK", 1.0, 1, 0, 0.20, 0.10, 1},
    [R_FIXED] = {"FIXED_RULE", 1.5, 0, 0, 0.30, 0.10, 1},
    [R_RARE] = {"RARE_RULE", 1.0, 1, 0, 0, 0, 1},
    [R_SUB] = {"__SUB_RULE", 0, 0, 1, 0.50, 0.50, 1},
    [R_ZERO] = {"ZERO_RULE", 0, 1, 0, 0.30, 0.10, 1},
    [R_BADNAM] = {"BAD-NAME", 1.0, 1, 0, 0.30, 0.10, 1},
    [R_MULTI] = {"MULTI_RULE", 0.5, 1, 0, 0.30, 0.05, 3},
};

static uint64_t
rnd64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* uniform in [0, 1) */
static double
rnd(uint64_t *s)
{
    return (double)(rnd64(s) >> 11) * 0x1.0p-53;
}

static char *
dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = tm_xmalloc(n);

    memcpy(p, s, n);
    return p;
}

static void
run_rules(struct tm_corpus_run *r, const struct spec *sp, size_t n)
{
    size_t j;

    r->rules = tm_xcalloc(n, sizeof(*r->rules));
    r->nrules = n;
    for (j = 0; j < n; j++) {
        r->rules[j].name = sp[j].name;
        r->rules[j].score = sp[j].score;
        r->rules[j].fittable = sp[j].fittable;
        r->rules[j].sub = sp[j].sub;
        r->rules[j].runnable = 1;
    }
}

static void
set_name(struct tm_corpus_msg *m, size_t i)
{
    char name[64];

    snprintf(name, sizeof(name), "/corpus/%s/%zu", m->spam ? "spam" : "ham", i);
    m->name = dup_str(name);
}

/*
 * run_make - n messages, a share `spam_share` of spam, hits drawn from the
 * specs' per-class chances; R_RARE hits messages 0..2 only. A message's
 * score is a base (things no rule here carries: ham around 0, spam around
 * 1.5) plus its hits' current scores times their counts.
 */
static void
run_make(struct tm_corpus_run *r, size_t n, double spam_share, uint64_t seed)
{
    size_t i, j;
    uint64_t s = seed;

    memset(r, 0, sizeof(*r));
    run_rules(r, specs, R_NRULES);
    r->conf.threshold = 5.0;
    r->msgs = tm_xcalloc(n, sizeof(*r->msgs));
    r->nmsgs = n;
    for (i = 0; i < n; i++) {
        struct tm_corpus_msg *m = &r->msgs[i];
        m->spam = rnd(&s) < spam_share;
        set_name(m, i);
        m->hits = tm_xcalloc(R_NRULES, sizeof(*m->hits));
        m->score = m->spam ? 0.5 + 2 * rnd(&s) : -1 + 2 * rnd(&s);
        for (j = 0; j < R_NRULES; j++) {
            double p = m->spam ? specs[j].p_spam : specs[j].p_ham;
            int hit = j == R_RARE ? i < 3 : rnd(&s) < p;
            if (!hit)
                continue;
            m->hits[m->nhits].rule = (uint32_t)j;
            m->hits[m->nhits].count =
                specs[j].max_count > 1 ? 1 + (uint32_t)(rnd64(&s) % specs[j].max_count) : 1;
            m->score += specs[j].score * (double)m->hits[m->nhits].count;
            m->nhits++;
        }
        if (m->spam)
            r->nspam++;
        else
            r->nham++;
    }
}

static void
run_free(struct tm_corpus_run *r)
{
    size_t i;

    for (i = 0; i < r->nmsgs; i++) {
        tm_free(r->msgs[i].name);
        tm_free(r->msgs[i].hits);
    }
    tm_free(r->msgs);
    tm_free(r->rules);
    tm_free(r->fit.new_score);
    memset(r, 0, sizeof(*r));
}

static struct tm_corpus_fit_opts
opts_default(const char *out)
{
    struct tm_corpus_fit_opts o;

    memset(&o, 0, sizeof(o));
    o.out_path = out;
    o.lambda = -1;
    o.min_hits = 5;
    o.seed = 1;
    return o;
}

/* a fresh directory for the test's files: the tests run in parallel processes */
static void
tmp_path(char *dir, size_t dlen, char *path, size_t plen, const char *file)
{
    snprintf(dir, dlen, "/tmp/tm_corpus_fit_XXXXXX");
    if (mkdtemp(dir) == NULL)
        dir[0] = '\0';
    snprintf(path, plen, "%s/%s", dir, file);
}

static char *
slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    char *buf;
    size_t n;

    if (fp == NULL)
        return NULL;
    buf = tm_xcalloc(1 << 16, 1);
    n = fread(buf, 1, (1 << 16) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static double
errors(const struct tm_corpus_confusion *c, double fp_cost)
{
    return (double)c->fn + fp_cost * (double)c->fp;
}

static int
is_feature(size_t j)
{
    return j == R_SPAM_STRONG || j == R_HAM_FP || j == R_NEG_HAM || j == R_SPAM_OK1 ||
           j == R_SPAM_OK2 || j == R_SPAM_WEAK || j == R_MULTI;
}

/* ---- the fit on a realistic mix ------------------------------------------ */

TM_TEST(fit_improves_heldout_error)
{
    struct tm_corpus_run r;
    struct tm_corpus_fit_opts o;
    char dir[64], path[128], err[256] = "";
    double *sc;
    uint8_t *lab;
    struct tm_corpus_confusion c;
    size_t i, j, k;

    tmp_path(dir, sizeof(dir), path, sizeof(path), "fit.cf");
    run_make(&r, 2000, 0.4, 42);
    o = opts_default(path);
    REQUIRE(tm_corpus_fit_scores(&r, &o, err, sizeof(err)) == 0);
    CHECK_STR(err, "");
    CHECK_EQ_INT(r.fit.done, 1);
    CHECK_STR(r.fit.out_path, path);
    CHECK_EQ_SIZE(r.fit.nfeatures, 7);
    CHECK_EQ_SIZE(r.fit.ntrain + r.fit.nval, 2000);
    CHECK(r.fit.nval >= 320 && r.fit.nval <= 480);
    CHECK(r.fit.validation == 0.2);
    CHECK(r.fit.fp_cost == 1);
    CHECK(r.fit.lambda == 1 || r.fit.lambda == 1e-1 || r.fit.lambda == 1e-2 ||
          r.fit.lambda == 1e-3 || r.fit.lambda == 1e-4);
    CHECK_EQ_SIZE(r.fit.val_before.tp + r.fit.val_before.fp + r.fit.val_before.tn +
                      r.fit.val_before.fn,
                  r.fit.nval);
    CHECK_EQ_SIZE(r.fit.train_after.tp + r.fit.train_after.fp + r.fit.train_after.tn +
                      r.fit.train_after.fn,
                  r.fit.ntrain);
    printf("  held-out errors %.0f -> %.0f, all %.0f -> %.0f, lambda %g\n",
           errors(&r.fit.val_before, 1), errors(&r.fit.val_after, 1), errors(&r.fit.all_before, 1),
           errors(&r.fit.all_after, 1), r.fit.lambda);
    for (j = 0; j < R_NRULES; j++)
        printf("  %-12s %6.3f -> %6.3f\n", specs[j].name, specs[j].score, r.fit.new_score[j]);
    /* the wrong scores cost a lot; the fitted ones must win clearly, held out too */
    CHECK(errors(&r.fit.val_before, 1) >= 40);
    CHECK(errors(&r.fit.val_after, 1) <= 0.5 * errors(&r.fit.val_before, 1));
    CHECK(errors(&r.fit.train_after, 1) <= 0.5 * errors(&r.fit.train_before, 1));
    CHECK(errors(&r.fit.all_after, 1) <= 0.5 * errors(&r.fit.all_before, 1));
    /* the deliberately wrong scores move the right way */
    CHECK(r.fit.new_score[R_SPAM_STRONG] > 2.0);
    CHECK(r.fit.new_score[R_HAM_FP] >= 0 && r.fit.new_score[R_HAM_FP] < 0.5);
    CHECK(r.fit.new_score[R_NEG_HAM] < -1.5);
    /* signs and bounds; NAN exactly where nothing may be fitted */
    for (j = 0; j < R_NRULES; j++) {
        double v = r.fit.new_score[j];
        if (!is_feature(j)) {
            CHECK(isnan(v));
            continue;
        }
        CHECK(isfinite(v));
        CHECK(v >= -10 && v <= 10);
        CHECK(specs[j].score > 0 ? v >= 0 : v <= 0);
        CHECK(round(v * 1000) / 1000 == v);
    }
    /* all_before is the run's own verdicts; all_after what these scores give */
    sc = tm_xcalloc(r.nmsgs, sizeof(*sc));
    lab = tm_xcalloc(r.nmsgs, sizeof(*lab));
    for (i = 0; i < r.nmsgs; i++) {
        sc[i] = r.msgs[i].score;
        lab[i] = (uint8_t)r.msgs[i].spam;
    }
    tm_corpus_confusion_at(sc, lab, r.nmsgs, 5.0, &c);
    CHECK(memcmp(&c, &r.fit.all_before, sizeof(c)) == 0);
    for (i = 0; i < r.nmsgs; i++) {
        sc[i] = r.msgs[i].score;
        for (k = 0; k < r.msgs[i].nhits; k++) {
            const struct tm_corpus_hit *h = &r.msgs[i].hits[k];
            if (is_feature(h->rule))
                sc[i] += (r.fit.new_score[h->rule] - specs[h->rule].score) * h->count;
        }
    }
    tm_corpus_confusion_at(sc, lab, r.nmsgs, 5.0, &c);
    CHECK_EQ_INT(c.fp, r.fit.all_after.fp);
    CHECK_EQ_INT(c.fn, r.fit.all_after.fn);
    tm_free(sc);
    tm_free(lab);
    run_free(&r);
    unlink(path);
    rmdir(dir);
}

/* the .cf holds one `score` line per fitted rule, equal to new_score, and the header */
TM_TEST(fit_cf_holds_exactly_the_scores)
{
    struct tm_corpus_run r;
    struct tm_corpus_fit_opts o;
    char dir[64], path[128], err[256] = "", line[512];
    int seen[R_NRULES] = {0};
    size_t nscore = 0, j;
    FILE *fp;
    char *all;

    tmp_path(dir, sizeof(dir), path, sizeof(path), "fit.cf");
    run_make(&r, 2000, 0.4, 42);
    r.rules_version = "test-rules 1.2\n# injected";
    o = opts_default(path);
    REQUIRE(tm_corpus_fit_scores(&r, &o, err, sizeof(err)) == 0);
    fp = fopen(path, "r");
    REQUIRE(fp != NULL);
    while (fgets(line, sizeof(line), fp) != NULL) {
        char name[128];
        char *end, *sp;
        double v;
        size_t len = strlen(line);

        CHECK(len > 0 && line[len - 1] == '\n');
        if (line[0] == '#')
            continue;
        /* anything else is `score NAME VALUE` */
        CHECK(strncmp(line, "score ", 6) == 0);
        if (strncmp(line, "score ", 6) != 0)
            continue;
        sp = strchr(line + 6, ' ');
        REQUIRE(sp != NULL && (size_t)(sp - (line + 6)) < sizeof(name));
        memcpy(name, line + 6, (size_t)(sp - (line + 6)));
        name[sp - (line + 6)] = '\0';
        v = strtod(sp + 1, &end);
        CHECK(*end == '\n');
        CHECK(strchr(sp + 1, '.') != NULL && strlen(strchr(sp + 1, '.')) == 5); /* .ddd\n */
        for (j = 0; j < R_NRULES; j++)
            if (strcmp(name, specs[j].name) == 0)
                break;
        REQUIRE(j < R_NRULES);
        CHECK(is_feature(j));
        CHECK(v == r.fit.new_score[j]);
        seen[j]++;
        nscore++;
    }
    fclose(fp);
    CHECK_EQ_SIZE(nscore, r.fit.nfeatures);
    for (j = 0; j < R_NRULES; j++)
        CHECK_EQ_INT(seen[j], is_feature(j) ? 1 : 0);
    all = slurp(path);
    REQUIRE(all != NULL);
    CHECK(strstr(all, "tamis corpus --fit") != NULL);
    CHECK(strstr(all, "--rules RULES --rules THIS.cf") != NULL);
    CHECK(strstr(all, "# rules_version: test-rules 1.2?# injected\n") != NULL);
    CHECK(strstr(all, "threshold 5 ") != NULL);
    CHECK(strstr(all, "fp_cost 1,") != NULL);
    /* rules in rule order */
    CHECK(strstr(all, "score SPAM_STRONG") < strstr(all, "score HAM_FP"));
    CHECK(strstr(all, "score SPAM_WEAK") < strstr(all, "score MULTI_RULE"));
    tm_free(all);
    run_free(&r);
    unlink(path);
    rmdir(dir);
}

TM_TEST(fit_is_deterministic)
{
    struct tm_corpus_run a, b;
    struct tm_corpus_fit_opts o;
    char dir[64], pa[128], pb[128], err[256] = "";
    char *ca, *cb;

    tmp_path(dir, sizeof(dir), pa, sizeof(pa), "a.cf");
    snprintf(pb, sizeof(pb), "%s/b.cf", dir);
    run_make(&a, 1500, 0.5, 7);
    run_make(&b, 1500, 0.5, 7);
    o = opts_default(pa);
    REQUIRE(tm_corpus_fit_scores(&a, &o, err, sizeof(err)) == 0);
    o.out_path = pb;
    REQUIRE(tm_corpus_fit_scores(&b, &o, err, sizeof(err)) == 0);
    CHECK(memcmp(a.fit.new_score, b.fit.new_score, R_NRULES * sizeof(double)) == 0);
    CHECK(a.fit.lambda == b.fit.lambda);
    CHECK(memcmp(&a.fit.val_after, &b.fit.val_after, sizeof(a.fit.val_after)) == 0);
    ca = slurp(pa);
    cb = slurp(pb);
    REQUIRE(ca != NULL && cb != NULL);
    CHECK_STR(ca, cb);
    /* and a second fit of the same run gives the same again (new_score replaced, not leaked) */
    REQUIRE(tm_corpus_fit_scores(&b, &o, err, sizeof(err)) == 0);
    CHECK(memcmp(a.fit.new_score, b.fit.new_score, R_NRULES * sizeof(double)) == 0);
    tm_free(ca);
    tm_free(cb);
    run_free(&a);
    run_free(&b);
    unlink(pa);
    unlink(pb);
    rmdir(dir);
}

/* the seed moves the split; the share is honoured */
TM_TEST(fit_seed_and_share_pick_the_split)
{
    struct tm_corpus_run r;
    struct tm_corpus_fit_opts o;
    char err[256] = "";
    size_t nval[4];
    uint64_t tp[4];
    unsigned s;

    run_make(&r, 2000, 0.4, 3);
    o = opts_default(NULL);
    o.lambda = 0.01;
    for (s = 0; s < 4; s++) {
        o.seed = s + 100;
        REQUIRE(tm_corpus_fit_scores(&r, &o, err, sizeof(err)) == 0);
        nval[s] = r.fit.nval;
        tp[s] = r.fit.val_before.tp;
    }
    CHECK(!(nval[0] == nval[1] && nval[1] == nval[2] && nval[2] == nval[3] && tp[0] == tp[1] &&
            tp[1] == tp[2] && tp[2] == tp[3]));
    o.validation = 0.5;
    REQUIRE(tm_corpus_fit_scores(&r, &o, err, sizeof(err)) == 0);
    CHECK(r.fit.validation == 0.5);
    CHECK(r.fit.nval >= 900 && r.fit.nval <= 1100);
    CHECK_EQ_INT(r.fit.done, 1);
    CHECK(r.fit.out_path == NULL);
    o.validation = 1.5; /* out of range: the default */
    REQUIRE(tm_corpus_fit_scores(&r, &o, err, sizeof(err)) == 0);
    CHECK(r.fit.validation == 0.2);
    run_free(&r);
}

/* ---- the objective, against its analytic optimum ------------------------- */

static const struct spec exact_specs[2] = {
    {"BASE_RULE", 2.0, 0, 0, 1, 1, 1},
    {"MULTI_RULE", 1.0, 1, 0, 1, 1, 3},
};

/*
 * exact_run - 200 spam hitting MULTI_RULE 3 times, 200 ham hitting it once,
 * every message BASE_RULE (2, not fittable); threshold 5. On all messages
 * the loss in w is  0.5 softplus(3 - 3w) + 0.5 c softplus(w - 3)
 * + lambda (w - 1)^2  (c = fp_cost), whose minimum the test finds by
 * bisection. A fitter that took a count as 1 would find no such w.
 */
static void
exact_run(struct tm_corpus_run *r)
{
    size_t i;

    memset(r, 0, sizeof(*r));
    run_rules(r, exact_specs, 2);
    r->conf.threshold = 5;
    r->nmsgs = 400;
    r->msgs = tm_xcalloc(r->nmsgs, sizeof(*r->msgs));
    for (i = 0; i < r->nmsgs; i++) {
        struct tm_corpus_msg *m = &r->msgs[i];
        m->spam = i % 2 == 0;
        set_name(m, i);
        m->hits = tm_xcalloc(2, sizeof(*m->hits));
        m->nhits = 2;
        m->hits[0].rule = 0;
        m->hits[0].count = 1;
        m->hits[1].rule = 1;
        m->hits[1].count = m->spam ? 3 : 1;
        m->score = 2.0 + 1.0 * m->hits[1].count;
    }
    r->nspam = r->nham = 200;
}

static double
sigm(double z)
{
    return 1 / (1 + exp(-z));
}

/* the derivative of exact_run's loss is increasing in w: bisect its zero */
static double
exact_optimum(double c, double lambda)
{
    double lo = 0, hi = 10;
    int i;

    for (i = 0; i < 100; i++) {
        double w = (lo + hi) / 2;
        double d = 0.5 * (-3 * sigm(-(3 * w - 3))) + 0.5 * c * sigm(w - 3) + 2 * lambda * (w - 1);
        if (d > 0)
            hi = w;
        else
            lo = w;
    }
    return (lo + hi) / 2;
}

TM_TEST(fit_reaches_the_analytic_optimum)
{
    static const double cases[][2] = {{1, 0}, {2, 0}, {1, 0.1}, {3, 0.01}};
    struct tm_corpus_run r;
    struct tm_corpus_fit_opts o;
    char err[256] = "";
    size_t t;

    exact_run(&r);
    for (t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
        double want = exact_optimum(cases[t][0], cases[t][1]);
        o = opts_default(NULL);
        o.fp_cost = cases[t][0];
        o.lambda = cases[t][1];
        REQUIRE(tm_corpus_fit_scores(&r, &o, err, sizeof(err)) == 0);
        CHECK_EQ_SIZE(r.fit.nfeatures, 1);
        CHECK(isnan(r.fit.new_score[0]));
        printf("  fp_cost %g lambda %g: %.4f (optimum %.4f)\n", cases[t][0], cases[t][1],
               r.fit.new_score[1], want);
        CHECK(fabs(r.fit.new_score[1] - want) <= 0.0006);
        CHECK(r.fit.lambda == cases[t][1]);
        CHECK(r.fit.fp_cost == cases[t][0]);
    }
    /* a given bound holds (the optimum is ~1.9) */
    o = opts_default(NULL);
    o.lambda = 0;
    o.max_score = 1.5;
    REQUIRE(tm_corpus_fit_scores(&r, &o, err, sizeof(err)) == 0);
    CHECK(r.fit.new_score[1] == 1.5);
    /* a huge lambda keeps the current score, and so every verdict */
    o.max_score = 0;
    o.lambda = 1e9;
    REQUIRE(tm_corpus_fit_scores(&r, &o, err, sizeof(err)) == 0);
    CHECK(r.fit.new_score[1] == 1.0);
    CHECK(memcmp(&r.fit.all_before, &r.fit.all_after, sizeof(r.fit.all_after)) == 0);
    run_free(&r);
}

/* a ham error costing fp_cost times a spam error gives fewer false positives */
TM_TEST(fit_fp_cost_trades_fn_for_fp)
{
    struct tm_corpus_run r;
    struct tm_corpus_fit_opts o;
    char err[256] = "";
    struct tm_corpus_confusion c1, c10;

    run_make(&r, 2000, 0.4, 11);
    o = opts_default(NULL);
    o.lambda = 1e-3;
    REQUIRE(tm_corpus_fit_scores(&r, &o, err, sizeof(err)) == 0);
    c1 = r.fit.all_after;
    o.fp_cost = 10;
    REQUIRE(tm_corpus_fit_scores(&r, &o, err, sizeof(err)) == 0);
    c10 = r.fit.all_after;
    printf("  fp_cost 1: fp %llu fn %llu; fp_cost 10: fp %llu fn %llu\n", (unsigned long long)c1.fp,
           (unsigned long long)c1.fn, (unsigned long long)c10.fp, (unsigned long long)c10.fn);
    CHECK(c10.fp < c1.fp);
    CHECK(c10.fn > c1.fn);
    run_free(&r);
}

/* ---- edge cases ----------------------------------------------------------- */

static size_t
count_score_lines(const char *text)
{
    size_t n = 0;
    const char *p;

    for (p = text; (p = strstr(p, "score ")) != NULL; p++)
        if (p == text || p[-1] == '\n')
            n++;
    return n;
}

TM_TEST(fit_one_class_writes_header_only)
{
    struct tm_corpus_run r;
    struct tm_corpus_fit_opts o;
    char dir[64], path[128], err[256] = "";
    char *text;
    size_t i, j;

    tmp_path(dir, sizeof(dir), path, sizeof(path), "one.cf");
    run_make(&r, 300, 1.0, 5); /* spam only */
    for (i = 0; i < r.nmsgs; i++)
        REQUIRE(r.msgs[i].spam == 1);
    o = opts_default(path);
    CHECK_EQ_INT(tm_corpus_fit_scores(&r, &o, err, sizeof(err)), 0);
    CHECK_EQ_INT(r.fit.done, 1);
    CHECK_EQ_SIZE(r.fit.nfeatures, 0);
    CHECK_EQ_SIZE(r.fit.ntrain + r.fit.nval, 300);
    REQUIRE(r.fit.new_score != NULL);
    for (j = 0; j < R_NRULES; j++)
        CHECK(isnan(r.fit.new_score[j]));
    CHECK(memcmp(&r.fit.all_before, &r.fit.all_after, sizeof(r.fit.all_after)) == 0);
    text = slurp(path);
    REQUIRE(text != NULL);
    CHECK(strstr(text, "tamis corpus --fit") != NULL);
    CHECK(strstr(text, "no ham") != NULL);
    CHECK_EQ_SIZE(count_score_lines(text), 0);
    tm_free(text);
    run_free(&r);
    unlink(path);
    rmdir(dir);
}

TM_TEST(fit_no_feature_writes_header_only)
{
    struct tm_corpus_run r;
    struct tm_corpus_fit_opts o;
    char dir[64], path[128], err[256] = "";
    char *text;
    size_t j;

    tmp_path(dir, sizeof(dir), path, sizeof(path), "none.cf");
    run_make(&r, 500, 0.4, 5);
    for (j = 0; j < r.nrules; j++)
        r.rules[j].fittable = 0;
    o = opts_default(path);
    CHECK_EQ_INT(tm_corpus_fit_scores(&r, &o, err, sizeof(err)), 0);
    CHECK_EQ_INT(r.fit.done, 1);
    CHECK_EQ_SIZE(r.fit.nfeatures, 0);
    for (j = 0; j < R_NRULES; j++)
        CHECK(isnan(r.fit.new_score[j]));
    text = slurp(path);
    REQUIRE(text != NULL);
    CHECK(strstr(text, "nothing fitted") != NULL);
    CHECK_EQ_SIZE(count_score_lines(text), 0);
    tm_free(text);
    /* min_hits above every rule's hit count: the same */
    for (j = 0; j < r.nrules; j++)
        r.rules[j].fittable = specs[j].fittable;
    o.min_hits = 100000;
    CHECK_EQ_INT(tm_corpus_fit_scores(&r, &o, err, sizeof(err)), 0);
    CHECK_EQ_SIZE(r.fit.nfeatures, 0);
    run_free(&r);
    unlink(path);
    rmdir(dir);
}

TM_TEST(fit_no_messages_is_an_error)
{
    struct tm_corpus_run r;
    struct tm_corpus_fit_opts o;
    char err[256] = "";

    memset(&r, 0, sizeof(r));
    run_rules(&r, specs, R_NRULES);
    r.conf.threshold = 5;
    o = opts_default("/tmp/tm_corpus_fit_never_written.cf");
    CHECK_EQ_INT(tm_corpus_fit_scores(&r, &o, err, sizeof(err)), -1);
    CHECK(strstr(err, "no messages") != NULL);
    CHECK_EQ_INT(r.fit.done, 0);
    CHECK(access("/tmp/tm_corpus_fit_never_written.cf", F_OK) != 0);
    run_free(&r);
}

TM_TEST(fit_unwritable_path_is_an_error)
{
    struct tm_corpus_run r;
    struct tm_corpus_fit_opts o;
    char err[256] = "";

    run_make(&r, 300, 0.4, 9);
    o = opts_default("/nonexistent-tm-dir/fit.cf");
    CHECK_EQ_INT(tm_corpus_fit_scores(&r, &o, err, sizeof(err)), -1);
    CHECK(strncmp(err, "cannot write /nonexistent-tm-dir/fit.cf: ", 41) == 0);
    CHECK(strstr(err, "No such file") != NULL);
    CHECK_EQ_INT(r.fit.done, 0);
    /* a full disk shows at fclose */
    if (access("/dev/full", W_OK) == 0) {
        err[0] = '\0';
        o.out_path = "/dev/full";
        CHECK_EQ_INT(tm_corpus_fit_scores(&r, &o, err, sizeof(err)), -1);
        CHECK(strncmp(err, "cannot write /dev/full: ", 24) == 0);
    }
    run_free(&r);
}

/* scores that are not numbers neither crash nor poison the fitted scores */
TM_TEST(fit_survives_nan_scores)
{
    struct tm_corpus_run r;
    struct tm_corpus_fit_opts o;
    char err[256] = "";
    size_t j;

    run_make(&r, 600, 0.4, 13);
    r.msgs[10].score = NAN;
    r.msgs[11].score = INFINITY;
    r.msgs[12].score = -INFINITY;
    if (r.msgs[13].nhits > 0)
        r.msgs[13].hits[0].count = 1000000;
    o = opts_default(NULL);
    CHECK_EQ_INT(tm_corpus_fit_scores(&r, &o, err, sizeof(err)), 0);
    CHECK(r.fit.nfeatures > 0);
    for (j = 0; j < R_NRULES; j++)
        if (is_feature(j))
            CHECK(isfinite(r.fit.new_score[j]) && fabs(r.fit.new_score[j]) <= 10);
    run_free(&r);
}

const struct tm_test tests_corpus_fit[] = {
    TM_TEST_ENTRY(fit_improves_heldout_error),
    TM_TEST_ENTRY(fit_cf_holds_exactly_the_scores),
    TM_TEST_ENTRY(fit_is_deterministic),
    TM_TEST_ENTRY(fit_seed_and_share_pick_the_split),
    TM_TEST_ENTRY(fit_reaches_the_analytic_optimum),
    TM_TEST_ENTRY(fit_fp_cost_trades_fn_for_fp),
    TM_TEST_ENTRY(fit_one_class_writes_header_only),
    TM_TEST_ENTRY(fit_no_feature_writes_header_only),
    TM_TEST_ENTRY(fit_no_messages_is_an_error),
    TM_TEST_ENTRY(fit_unwritable_path_is_an_error),
    TM_TEST_ENTRY(fit_survives_nan_scores),
    TM_TEST_END,
};
