/*
 * corpus.c - `tamis corpus`: the engine over labelled corpora (SpamAssassin's
 * mass-check and hit-frequencies in one command).
 *
 *   tamis corpus --ham PATH... --spam PATH... [--rules PATH]... [--json OUT]
 *                [--html OUT] [--baseline OLD.json] [--fit] ...
 *
 * The main thread reads the sources (mailbox.h) into a bounded queue; one
 * worker per core scans with its own match scratch and keeps, per message,
 * only its name, label, score, action and the rules it hit. Memory is
 * therefore bounded by the queue (MAX_QUEUE messages and MAX_QUEUE_BYTES)
 * plus a few dozen bytes per message and hit, never by the corpus bytes.
 * Results are put back in input order, so every report is the same whatever
 * the number of jobs.
 *
 * Statistics (per rule, over the messages of each label): hits, % of the
 * label's messages, S/O = spam% / (spam% + ham%), a rank and the overlap
 * with other rules. Rank follows SpamAssassin's hit-frequencies: rules that
 * lean spam (S/O >= 0.5) and rules that lean ham are ranked apart; within a
 * group a rule's rank is the mean of its percentile by S/O (by 1 - S/O for
 * the ham group) and by hit rate in the label it leans to, so 1.0 is the
 * most accurate and most frequent rule of its group.
 */
#include "cli/corpus.h"

#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cliargs.h"
#include "cli/jread.h"
#include "cli/mailbox.h"
#include "core/core.h"
#include "core/json.h"
#include "core/task.h"
#include "mime/charset.h"
#include "tamis/tamis.h"
#include "verdict/scanner.h"

#define MAX_QUEUE         256
#define MAX_QUEUE_BYTES   (256u << 20)
#define MAX_JOBS          256
#define MAX_SOURCES       1024
#define MAX_PATTERNS      256
#define MAX_ROC_OUT       1000          /* points written to JSON and HTML */
#define MAX_OVERLAP_RULES 4096          /* rules that hit, for the overlap matrix */
#define BASELINE_MAX      (1ull << 31)  /* bytes of a baseline JSON */
#define BASELINE_NODES    (16u << 20)   /* JSON values of a baseline */

/* ---- the work queue ---- */

struct job {
    struct tm_mailbox_msg m;
    int spam;
    size_t seq;
};

struct queue {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    struct job v[MAX_QUEUE];
    size_t head, n;
    size_t bytes;
    int closed;
    uint64_t done, done_bytes; /* scanned so far (progress) */
};

struct ctx {
    const struct tm_scanner *sc;
    struct queue q;
    uint32_t *runnable_multiple; /* per rule: 1 when tflags multiple (count scores) */
};

struct worker {
    pthread_t th;
    struct ctx *cx;
    struct tm_match_scratch *ms;
    struct tm_corpus_msg *out;
    size_t *seq;
    size_t n, cap;
    uint64_t scan_errors;
};

static void
q_push(struct queue *q, struct job *j)
{
    pthread_mutex_lock(&q->mu);
    while (q->n == MAX_QUEUE || (q->n > 0 && q->bytes + j->m.len > MAX_QUEUE_BYTES))
        pthread_cond_wait(&q->not_full, &q->mu);
    q->v[(q->head + q->n) % MAX_QUEUE] = *j;
    q->n++;
    q->bytes += j->m.len;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
}

/* q_pop - 1 with a job, 0 when the queue is closed and empty */
static int
q_pop(struct queue *q, struct job *j)
{
    pthread_mutex_lock(&q->mu);
    while (q->n == 0 && !q->closed)
        pthread_cond_wait(&q->not_empty, &q->mu);
    if (q->n == 0) {
        pthread_mutex_unlock(&q->mu);
        return 0;
    }
    *j = q->v[q->head];
    q->head = (q->head + 1) % MAX_QUEUE;
    q->n--;
    q->bytes -= j->m.len;
    pthread_cond_signal(&q->not_full);
    pthread_mutex_unlock(&q->mu);
    return 1;
}

/*
 * worker_main - scan jobs until the queue closes. A message keeps what the
 * statistics need: the verdict's score and action and the rules it hit
 * (v.all_rules, sub-rules included), with the match count for tflags
 * multiple rules (their score counts once per match) and 1 otherwise.
 */
static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    const struct tm_scanner *sc = w->cx->sc;
    struct job j;

    while (q_pop(&w->cx->q, &j)) {
        struct tm_task *t = tm_task_new(sc->engine);
        struct tm_corpus_msg *m;
        struct tm_verdict v;
        size_t k, len = j.m.len;
        if (t == NULL)
            tm_fatal("cannot create task");
        if (tm_scanner_scan(sc, w->ms, t, j.m.data, j.m.len, 0, &v) != TM_OK)
            w->scan_errors++;
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 1024;
            w->out = tm_xrealloc(w->out, w->cap * sizeof(*w->out));
            w->seq = tm_xrealloc(w->seq, w->cap * sizeof(*w->seq));
        }
        m = &w->out[w->n];
        memset(m, 0, sizeof(*m));
        w->seq[w->n++] = j.seq;
        m->name = j.m.name;
        m->offset = j.m.offset;
        m->size = j.m.len;
        m->spam = j.spam;
        m->score = v.score;
        m->action = (int)v.action;
        m->nhits = (uint32_t)v.nall;
        m->hits = tm_xcalloc(v.nall ? v.nall : 1, sizeof(*m->hits));
        for (k = 0; k < v.nall; k++) {
            m->hits[k].rule = v.all_rules[k];
            m->hits[k].count = w->cx->runnable_multiple[v.all_rules[k]] ? v.all_counts[k] : 1;
        }
        tm_task_free(t);
        tm_free(j.m.data);
        pthread_mutex_lock(&w->cx->q.mu);
        w->cx->q.done++;
        w->cx->q.done_bytes += len;
        pthread_mutex_unlock(&w->cx->q.mu);
    }
    tm_charset_cache_clear(); /* this thread's iconv descriptors */
    return NULL;
}

/* ---- progress ---- */

struct progress {
    pthread_t th;
    struct queue *q;
    uint64_t total_bytes;
    double t0;
    int stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void
progress_line(struct progress *p, int final)
{
    uint64_t done, bytes;
    double secs = (tm_now_ms() - p->t0) / 1000.0, frac, rate;
    char bar[31];
    int i, fill;

    pthread_mutex_lock(&p->q->mu);
    done = p->q->done;
    bytes = p->q->done_bytes;
    pthread_mutex_unlock(&p->q->mu);
    frac = p->total_bytes ? (double)bytes / (double)p->total_bytes : 0;
    if (final || frac > 1)
        frac = 1;
    fill = (int)(frac * 30);
    for (i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    rate = secs > 0 ? (double)done / secs : 0;
    fprintf(stderr, "\r[%s] %3.0f%%  %llu msgs  %.0f msgs/s  %.1f s ", bar, frac * 100,
            (unsigned long long)done, rate, secs);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

static void *
progress_main(void *arg)
{
    struct progress *p = arg;

    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&p->cv, &p->mu, &ts);
        if (!p->stop)
            progress_line(p, 0);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- options ---- */

struct corpus_opts {
    struct tm_cli_args sa;
    struct { const char *path; int spam; } src[MAX_SOURCES];
    size_t nsrc;
    const char *json_out, *html_out, *baseline;
    const char *match[MAX_PATTERNS];
    size_t nmatch;
    const char *sort;
    size_t top, list;
    int sub, quiet, progress, no_message_list, threshold_set;
    double threshold;
    unsigned jobs;
    int fit;
    struct tm_corpus_fit_opts fo;
};

static void
corpus_usage(FILE *f)
{
    fputs("usage: tamis corpus --ham PATH --spam PATH [--ham PATH]... [--spam PATH]...\n"
          "                    [--rules PATH]... [--json OUT] [--html OUT] [--baseline OLD.json]\n"
          "                    [--sort so|rank|spam|ham|score|name] [--match GLOB]... [--sub]\n"
          "                    [--top N] [--list N] [--threshold SCORE] [--jobs N] [--quiet]\n"
          "                    [--fit [--fit-out FILE.cf] [--fit-validation F] [--fit-fp-cost C]\n"
          "                     [--fit-lambda L] [--fit-max-score S] [--fit-min-hits N] [--fit-seed N]]\n"
          "                    [--no-message-list] [scan options: -o, --no-av, --av-db, --cache,\n"
          "                     --url-blocklist, --url-allowlist, --action]\n"
          "\n"
          "Scans labelled corpora on all cores and reports, per rule, hits in spam and ham\n"
          "(count and %), S/O, rank, score and overlap with other rules; the confusion matrix\n"
          "at the threshold (the rules' required_score unless --threshold), a threshold sweep\n"
          "(ROC), and the false positives and negatives with their top symbols.\n"
          "--ham/--spam  a directory of message files, a Maildir, an mbox or one message\n"
          "              (prefix dir:, maildir:, mbox: or file: to force the kind); repeatable\n"
          "--json OUT    the whole report as JSON ('-': standard output, no table)\n"
          "--html OUT    a self-contained HTML report (charts, sortable rule table, FP/FN)\n"
          "--baseline F  compare with an earlier run's --json output, per rule and overall\n"
          "--sort K      order of the rule table (default so: S/O, then spam hits)\n"
          "--match GLOB  only rules whose name matches (fnmatch; repeatable: any of them)\n"
          "--sub         show __ sub-rules too; --top N: at most N rows (default all that hit)\n"
          "--list N      false positives/negatives listed on the terminal (default 20)\n"
          "--jobs N      scanning threads (default: the number of cores)\n"
          "--quiet       no progress bar (there is none when stderr is not a terminal)\n"
          "--fit         propose scores (logistic regression toward the current scores, signs\n"
          "              kept, L2 weight chosen on a held-out split) and write them as a .cf\n"
          "              (default fitted-scores.cf) to load after the rules. --fit-validation\n"
          "              share held out (0.2); --fit-fp-cost weight of a ham error (1);\n"
          "              --fit-lambda L2 weight (chosen on the held-out split); --fit-max-score\n"
          "              bound (10); --fit-min-hits rules hit less keep their score (3)\n",
          f);
}

static int
parse_double(const char *opt, const char *v, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(v, &end);
    if (end == v || *end != '\0' || errno != 0 || *out != *out) {
        fprintf(stderr, "tamis: %s: not a number: %s\n", opt, v);
        return -1;
    }
    return 0;
}

static int
parse_size(const char *opt, const char *v, size_t lo, size_t hi, size_t *out)
{
    char *end;
    unsigned long long n;

    errno = 0;
    n = strtoull(v, &end, 10);
    if (end == v || *end != '\0' || errno != 0 || n < lo || n > hi || v[0] == '-') {
        fprintf(stderr, "tamis: %s: want a whole number in [%zu, %zu]: %s\n", opt, lo, hi, v);
        return -1;
    }
    *out = (size_t)n;
    return 0;
}

/* parse_opts - 0, 1 for --help, -1 on a usage error (printed) */
static int
parse_opts(struct corpus_opts *o, int argc, char **argv)
{
    int i, r;
    size_t z;
    double d;

    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return 1;
        if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            o->quiet = 1;
            continue;
        }
        if (strcmp(a, "--progress") == 0) {
            o->progress = 1;
            continue;
        }
        if (strcmp(a, "--sub") == 0) {
            o->sub = 1;
            continue;
        }
        if (strcmp(a, "--fit") == 0) {
            o->fit = 1;
            continue;
        }
        if (strcmp(a, "--no-message-list") == 0) {
            o->no_message_list = 1;
            continue;
        }
        if (strcmp(a, "--ham") && strcmp(a, "--spam") && strcmp(a, "--json") &&
            strcmp(a, "--html") && strcmp(a, "--baseline") && strcmp(a, "--match") &&
            strcmp(a, "--sort") && strcmp(a, "--top") && strcmp(a, "--list") &&
            strcmp(a, "--threshold") && strcmp(a, "--jobs") && strncmp(a, "--fit-", 6))
            takes = 0;
        if (!takes) {
            if (strcmp(a, "--explain") == 0 || strcmp(a, "--all-hits") == 0 ||
                strcmp(a, "--pretty") == 0) {
                fprintf(stderr, "tamis: corpus: %s is a `tamis scan` option\n", a);
                return -1;
            }
            if ((r = tm_cli_args_option(&o->sa, argc, argv, &i)) < 0)
                return -1;
            if (r == 0) {
                fprintf(stderr, "tamis: corpus: unknown option or argument %s\n", a);
                return -1;
            }
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "tamis: %s needs a value\n", a);
            return -1;
        }
        i++;
        if (strcmp(a, "--ham") == 0 || strcmp(a, "--spam") == 0) {
            if (o->nsrc == MAX_SOURCES) {
                fprintf(stderr, "tamis: more than %d sources\n", MAX_SOURCES);
                return -1;
            }
            o->src[o->nsrc].path = v;
            o->src[o->nsrc++].spam = a[2] == 's';
        } else if (strcmp(a, "--json") == 0) {
            o->json_out = v;
        } else if (strcmp(a, "--html") == 0) {
            o->html_out = v;
        } else if (strcmp(a, "--baseline") == 0) {
            o->baseline = v;
        } else if (strcmp(a, "--match") == 0) {
            if (o->nmatch == MAX_PATTERNS) {
                fprintf(stderr, "tamis: more than %d --match patterns\n", MAX_PATTERNS);
                return -1;
            }
            o->match[o->nmatch++] = v;
        } else if (strcmp(a, "--sort") == 0) {
            if (strcmp(v, "so") && strcmp(v, "rank") && strcmp(v, "spam") && strcmp(v, "ham") &&
                strcmp(v, "score") && strcmp(v, "name")) {
                fprintf(stderr, "tamis: --sort: want so, rank, spam, ham, score or name\n");
                return -1;
            }
            o->sort = v;
        } else if (strcmp(a, "--top") == 0) {
            if (parse_size(a, v, 0, SIZE_MAX / 2, &o->top) < 0)
                return -1;
        } else if (strcmp(a, "--list") == 0) {
            if (parse_size(a, v, 0, SIZE_MAX / 2, &o->list) < 0)
                return -1;
        } else if (strcmp(a, "--jobs") == 0) {
            if (parse_size(a, v, 1, MAX_JOBS, &z) < 0)
                return -1;
            o->jobs = (unsigned)z;
        } else if (strcmp(a, "--threshold") == 0) {
            if (parse_double(a, v, &o->threshold) < 0)
                return -1;
            o->threshold_set = 1;
        } else if (strcmp(a, "--fit-out") == 0) {
            o->fo.out_path = v;
            o->fit = 1;
        } else if (strcmp(a, "--fit-min-hits") == 0 || strcmp(a, "--fit-seed") == 0) {
            if (parse_size(a, v, 0, UINT32_MAX, &z) < 0)
                return -1;
            if (a[6] == 'm')
                o->fo.min_hits = (unsigned)z;
            else
                o->fo.seed = z;
            o->fit = 1;
        } else if (strncmp(a, "--fit-", 6) == 0) {
            if (parse_double(a, v, &d) < 0)
                return -1;
            if (strcmp(a, "--fit-validation") == 0 && d > 0 && d < 1) {
                o->fo.validation = d;
            } else if (strcmp(a, "--fit-fp-cost") == 0 && d > 0 && d <= 1000) {
                o->fo.fp_cost = d;
            } else if (strcmp(a, "--fit-lambda") == 0 && d >= 0 && d <= 1e6) {
                o->fo.lambda = d;
            } else if (strcmp(a, "--fit-max-score") == 0 && d > 0 && d <= 1000) {
                o->fo.max_score = d;
            } else {
                fprintf(stderr, "tamis: %s %s: unknown option or value out of range "
                                "(validation in (0,1), fp-cost in (0,1000], lambda >= 0, "
                                "max-score in (0,1000])\n", a, v);
                return -1;
            }
            o->fit = 1;
        }
    }
    return 0;
}

/* ---- statistics ---- */

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/*
 * rule_stats - hits per label, percentages, S/O; the rank (see the file
 * comment) with percentiles over the rules that hit, by group.
 */
static void
rule_stats(struct tm_corpus_run *r)
{
    size_t i, k, g;
    double *key = tm_xcalloc(r->nrules ? r->nrules : 1, sizeof(*key));

    for (i = 0; i < r->nmsgs; i++) {
        const struct tm_corpus_msg *m = &r->msgs[i];
        for (k = 0; k < m->nhits; k++) {
            if (m->spam)
                r->rules[m->hits[k].rule].spam_hits++;
            else
                r->rules[m->hits[k].rule].ham_hits++;
        }
    }
    for (i = 0; i < r->nrules; i++) {
        struct tm_corpus_rule *ru = &r->rules[i];
        ru->spam_pct = r->nspam ? 100.0 * (double)ru->spam_hits / (double)r->nspam : 0;
        ru->ham_pct = r->nham ? 100.0 * (double)ru->ham_hits / (double)r->nham : 0;
        ru->so = ru->spam_pct + ru->ham_pct > 0 ? ru->spam_pct / (ru->spam_pct + ru->ham_pct) : 0;
        ru->rank = 0;
    }
    /*
     * Percentile of x within the group: the share of the group's values at
     * or below it, so ties rank alike and the best of a group gets 1.
     */
    for (g = 0; g < 2; g++) {
        int pass;
        for (pass = 0; pass < 2; pass++) {
            size_t n = 0;
            for (i = 0; i < r->nrules; i++) {
                const struct tm_corpus_rule *ru = &r->rules[i];
                if (ru->sub || ru->spam_hits + ru->ham_hits == 0 || (ru->so >= 0.5) != (g == 0))
                    continue;
                key[n++] = pass == 0 ? (g == 0 ? ru->so : 1 - ru->so)
                                     : (g == 0 ? ru->spam_pct : ru->ham_pct);
            }
            if (n == 0)
                continue;
            qsort(key, n, sizeof(*key), cmp_double);
            for (i = 0; i < r->nrules; i++) {
                struct tm_corpus_rule *ru = &r->rules[i];
                double x;
                size_t lo = 0, hi = n, below, upto;
                if (ru->sub || ru->spam_hits + ru->ham_hits == 0 || (ru->so >= 0.5) != (g == 0))
                    continue;
                x = pass == 0 ? (g == 0 ? ru->so : 1 - ru->so)
                              : (g == 0 ? ru->spam_pct : ru->ham_pct);
                while (lo < hi) { /* first index with key >= x */
                    size_t mid = (lo + hi) / 2;
                    if (key[mid] < x)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                below = lo;
                hi = n;
                while (lo < hi) { /* first index with key > x */
                    size_t mid = (lo + hi) / 2;
                    if (key[mid] <= x)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                upto = lo;
                (void)below;
                ru->rank += 0.5 * (double)upto / (double)n;
            }
        }
    }
    for (i = 0; i < r->nrules; i++)
        if (r->rules[i].rank > 1)
            r->rules[i].rank = 1;
    tm_free(key);
}

/*
 * overlap - for every rule, the other rules that hit the same messages most
 * often: |R and Q| / |R|. Counted in a dense matrix over the rules that hit
 * at all (sub-rules left out); with more than MAX_OVERLAP_RULES of those the
 * column is left empty rather than spending quadratic memory.
 */
static void
overlap(struct tm_corpus_run *r)
{
    uint32_t *compact = tm_xcalloc(r->nrules ? r->nrules : 1, sizeof(*compact));
    uint32_t *back, *mat, *tmp;
    size_t i, k, l, n = 0;

    for (i = 0; i < r->nrules; i++)
        if (!r->rules[i].sub && r->rules[i].spam_hits + r->rules[i].ham_hits > 0)
            compact[i] = (uint32_t)++n;
    if (n == 0 || n > MAX_OVERLAP_RULES) {
        tm_free(compact);
        return;
    }
    back = tm_xcalloc(n, sizeof(*back));
    for (i = 0; i < r->nrules; i++)
        if (compact[i])
            back[compact[i] - 1] = (uint32_t)i;
    mat = tm_xcalloc(n * n, sizeof(*mat));
    tmp = tm_xcalloc(n, sizeof(*tmp));
    for (i = 0; i < r->nmsgs; i++) {
        const struct tm_corpus_msg *m = &r->msgs[i];
        size_t c = 0;
        for (k = 0; k < m->nhits; k++)
            if (compact[m->hits[k].rule])
                tmp[c++] = compact[m->hits[k].rule] - 1;
        for (k = 0; k < c; k++)
            for (l = 0; l < c; l++)
                if (k != l)
                    mat[(size_t)tmp[k] * n + tmp[l]]++;
    }
    for (k = 0; k < n; k++) {
        struct tm_corpus_rule *ru = &r->rules[back[k]];
        double hits = (double)(ru->spam_hits + ru->ham_hits);
        ru->noverlap = 0;
        for (l = 0; l < n; l++) {
            uint32_t c = mat[k * n + l];
            double pct;
            size_t p;
            if (c == 0)
                continue;
            pct = 100.0 * c / hits;
            /* keep the TM_CORPUS_OVERLAP largest, ties in rule order */
            for (p = ru->noverlap; p > 0 && ru->overlap[p - 1].pct < pct; p--)
                if (p < TM_CORPUS_OVERLAP)
                    ru->overlap[p] = ru->overlap[p - 1];
            if (p < TM_CORPUS_OVERLAP) {
                ru->overlap[p].rule = back[l];
                ru->overlap[p].pct = pct;
                if (ru->noverlap < TM_CORPUS_OVERLAP)
                    ru->noverlap++;
            }
        }
    }
    tm_free(tmp);
    tm_free(mat);
    tm_free(back);
    tm_free(compact);
}

struct scored {
    double s;
    int spam;
};

static int
cmp_scored(const void *a, const void *b)
{
    const struct scored *x = a, *y = b;

    return x->s < y->s ? -1 : x->s > y->s;
}

/*
 * sweep - the ROC: for every distinct score t (ascending), messages with
 * score >= t are called spam. AUC is the probability that a random spam
 * outscores a random ham, ties counting half (the area under the step
 * curve). At most MAX_ROC_OUT points are kept, evenly spread, always with
 * both ends.
 */
static void
sweep(struct tm_corpus_run *r)
{
    struct scored *v = tm_xcalloc(r->nmsgs ? r->nmsgs : 1, sizeof(*v));
    struct tm_corpus_point *all;
    size_t i, j, n = 0, keep;
    uint64_t ham_below = 0, spam_below = 0;
    double auc = 0;

    for (i = 0; i < r->nmsgs; i++) {
        v[i].s = r->msgs[i].score;
        v[i].spam = r->msgs[i].spam;
    }
    qsort(v, r->nmsgs, sizeof(*v), cmp_scored);
    all = tm_xcalloc(r->nmsgs + 1, sizeof(*all));
    for (i = 0; i < r->nmsgs;) {
        uint64_t h = 0, s = 0;
        for (j = i; j < r->nmsgs && v[j].s == v[i].s; j++) {
            if (v[j].spam)
                s++;
            else
                h++;
        }
        all[n].threshold = v[i].s;
        all[n].fp = r->nham - ham_below;
        all[n].fn = spam_below;
        n++;
        auc += (double)s * ((double)ham_below + 0.5 * (double)h);
        ham_below += h;
        spam_below += s;
        i = j;
    }
    r->auc = r->nham && r->nspam ? auc / ((double)r->nham * (double)r->nspam) : 0;
    for (i = 0; i < n; i++) {
        all[i].fpr = r->nham ? (double)all[i].fp / (double)r->nham : 0;
        all[i].tpr = r->nspam ? (double)(r->nspam - all[i].fn) / (double)r->nspam : 0;
    }
    keep = n <= MAX_ROC_OUT ? n : MAX_ROC_OUT;
    r->roc = tm_xcalloc(keep ? keep : 1, sizeof(*r->roc));
    for (i = 0; i < keep; i++)
        r->roc[i] = all[keep == n ? i : (keep > 1 ? i * (n - 1) / (keep - 1) : 0)];
    r->nroc = keep;
    tm_free(all);
    tm_free(v);
}

static void
confusion(struct tm_corpus_run *r, double threshold)
{
    double *s = tm_xcalloc(r->nmsgs ? r->nmsgs : 1, sizeof(*s));
    uint8_t *l = tm_xcalloc(r->nmsgs ? r->nmsgs : 1, 1);
    size_t i;

    for (i = 0; i < r->nmsgs; i++) {
        s[i] = r->msgs[i].score;
        l[i] = (uint8_t)r->msgs[i].spam;
    }
    tm_corpus_confusion_at(s, l, r->nmsgs, threshold, &r->conf);
    tm_free(s);
    tm_free(l);
}

/* ---- baseline ---- */

static char *
slurp(const char *path, uint64_t max, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, r;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (n == cap) {
            if (cap >= max) {
                snprintf(err, errlen, "%s: larger than %llu bytes", path,
                         (unsigned long long)max);
                fclose(f);
                tm_free(buf);
                return NULL;
            }
            cap = cap ? cap * 2 : 1 << 20;
            buf = tm_xrealloc(buf, cap);
        }
        if ((r = fread(buf + n, 1, cap - n, f)) == 0)
            break;
        n += r;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
        fclose(f);
        tm_free(buf);
        return NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

static double
jnum(const struct tm_jparser *jp, size_t obj, const char *key)
{
    size_t i = tm_jget(jp, obj, key);

    return tm_jis(jp, i, TM_J_NUM) ? jp->v[i].num : NAN;
}

static void
read_confusion(const struct tm_jparser *jp, size_t c, struct tm_corpus_confusion *out)
{
    memset(out, 0, sizeof(*out));
    out->threshold = jnum(jp, c, "threshold");
    out->tp = (uint64_t)fmax(0, jnum(jp, c, "tp"));
    out->fp = (uint64_t)fmax(0, jnum(jp, c, "fp"));
    out->tn = (uint64_t)fmax(0, jnum(jp, c, "tn"));
    out->fn = (uint64_t)fmax(0, jnum(jp, c, "fn"));
    out->fp_rate = jnum(jp, c, "fp_rate");
    out->fn_rate = jnum(jp, c, "fn_rate");
    out->precision = jnum(jp, c, "precision");
    out->recall = jnum(jp, c, "recall");
    out->accuracy = jnum(jp, c, "accuracy");
    out->error_rate = jnum(jp, c, "error_rate");
}

/*
 * load_baseline - an earlier run's JSON, lined up with this run's rules by
 * name. The file is untrusted as any input: size and node count bounded,
 * fields of the wrong type read as absent.
 */
static struct tm_corpus_baseline *
load_baseline(const struct tm_corpus_run *r, const char *path, char *err, size_t errlen)
{
    struct tm_corpus_baseline *b;
    struct tm_jparser jp;
    size_t len = 0, root, rules, msgs, i, e, nb = 0;
    char *text = slurp(path, BASELINE_MAX, &len, err, errlen);
    const char **names;
    double *bv[4];

    if (text == NULL)
        return NULL;
    memset(&jp, 0, sizeof(jp));
    jp.max_nodes = BASELINE_NODES;
    root = tm_jparse(&jp, text, len);
    rules = tm_jget(&jp, root, "rules");
    msgs = tm_jget(&jp, root, "messages");
    if (!tm_jis(&jp, rules, TM_J_ARR) || !tm_jis(&jp, msgs, TM_J_OBJ)) {
        snprintf(err, errlen, "%s: not the JSON of a `tamis corpus` run (%s)", path,
                 root == TM_JNONE ? "does not parse, or too large" : "no rules or messages");
        tm_free(jp.v);
        tm_free(text);
        return NULL;
    }
    b = tm_xcalloc(1, sizeof(*b));
    b->path = path;
    b->ham = (uint64_t)fmax(0, jnum(&jp, msgs, "ham"));
    b->spam = (uint64_t)fmax(0, jnum(&jp, msgs, "spam"));
    b->msgs_per_s = jnum(&jp, root, "msgs_per_s");
    read_confusion(&jp, tm_jget(&jp, root, "confusion"), &b->conf);
    b->has = tm_xcalloc(r->nrules ? r->nrules : 1, sizeof(*b->has));
    b->spam_pct = tm_xcalloc(r->nrules ? r->nrules : 1, sizeof(double));
    b->ham_pct = tm_xcalloc(r->nrules ? r->nrules : 1, sizeof(double));
    b->so = tm_xcalloc(r->nrules ? r->nrules : 1, sizeof(double));
    b->score = tm_xcalloc(r->nrules ? r->nrules : 1, sizeof(double));
    bv[0] = b->spam_pct;
    bv[1] = b->ham_pct;
    bv[2] = b->so;
    bv[3] = b->score;
    /* the baseline's rule names, matched against ours through a sorted index */
    for (e = jp.v[rules].first; e != TM_JNONE; e = jp.v[e].next)
        nb++;
    names = tm_xcalloc(r->nrules ? r->nrules : 1, sizeof(*names));
    for (i = 0; i < r->nrules; i++)
        names[i] = r->rules[i].name;
    b->gone = tm_xcalloc(nb ? nb : 1, sizeof(*b->gone));
    for (e = jp.v[rules].first; e != TM_JNONE; e = jp.v[e].next) {
        size_t nm = tm_jget(&jp, e, "name"), j;
        static const char *const keys[4] = {"spam_pct", "ham_pct", "so", "score"};
        char name[256];
        int found = 0;
        if (!tm_jis(&jp, nm, TM_J_STR) || jp.v[nm].slen == 0 || jp.v[nm].slen >= sizeof(name))
            continue;
        memcpy(name, jp.v[nm].s, jp.v[nm].slen);
        name[jp.v[nm].slen] = '\0';
        if (strlen(name) != jp.v[nm].slen)
            continue; /* a NUL inside */
        for (i = 0; i < r->nrules; i++) {
            if (strcmp(names[i], name) != 0)
                continue;
            b->has[i] = 1;
            for (j = 0; j < 4; j++)
                bv[j][i] = jnum(&jp, e, keys[j]);
            found = 1;
            break;
        }
        if (!found)
            b->gone[b->ngone++] = tm_xstrdup(name);
    }
    tm_free(names);
    tm_free(jp.v);
    tm_free(text);
    return b;
}

static void
free_baseline(struct tm_corpus_baseline *b)
{
    size_t i;

    if (b == NULL)
        return;
    for (i = 0; i < b->ngone; i++)
        tm_free(b->gone[i]);
    tm_free(b->gone);
    tm_free(b->has);
    tm_free(b->spam_pct);
    tm_free(b->ham_pct);
    tm_free(b->so);
    tm_free(b->score);
    tm_free(b);
}

/* ---- output ---- */

static const struct tm_corpus_run *sort_run;
static const char *sort_key;

static int
cmp_rule_idx(const void *a, const void *b)
{
    const struct tm_corpus_rule *x = &sort_run->rules[*(const size_t *)a];
    const struct tm_corpus_rule *y = &sort_run->rules[*(const size_t *)b];
    double dx = 0, dy = 0;

    switch (sort_key[0]) {
    case 'r':
        dx = x->rank;
        dy = y->rank;
        break;
    case 's':
        if (sort_key[1] == 'p') {
            dx = (double)x->spam_hits;
            dy = (double)y->spam_hits;
        } else if (sort_key[1] == 'c') {
            dx = x->score;
            dy = y->score;
        } else {
            dx = x->so;
            dy = y->so;
        }
        break;
    case 'h':
        dx = (double)x->ham_hits;
        dy = (double)y->ham_hits;
        break;
    default:
        return strcmp(x->name, y->name);
    }
    if (dx != dy)
        return dx > dy ? -1 : 1;
    if (x->spam_hits != y->spam_hits)
        return x->spam_hits > y->spam_hits ? -1 : 1;
    if (x->ham_hits != y->ham_hits)
        return x->ham_hits < y->ham_hits ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int
name_selected(const struct corpus_opts *o, const struct tm_corpus_rule *ru)
{
    size_t i;

    if (ru->sub && !o->sub)
        return 0;
    if (o->nmatch == 0)
        return 1;
    for (i = 0; i < o->nmatch; i++)
        if (fnmatch(o->match[i], ru->name, 0) == 0)
            return 1;
    return 0;
}

/* put_name - a message or rule name on the terminal, control bytes escaped */
static void
put_name(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
}

static void
print_msg_list(FILE *f, const struct tm_corpus_run *r, int want_fp, size_t max)
{
    size_t *idx = tm_xcalloc(r->nmsgs ? r->nmsgs : 1, sizeof(*idx));
    size_t i, n = 0, k;

    for (i = 0; i < r->nmsgs; i++) {
        const struct tm_corpus_msg *m = &r->msgs[i];
        int pos = m->score >= r->conf.threshold;
        if (want_fp ? (!m->spam && pos) : (m->spam && !pos))
            idx[n++] = i;
    }
    fprintf(f, "\n%s (%zu):\n", want_fp ? "false positives: ham at or above the threshold"
                                        : "false negatives: spam below the threshold", n);
    /* FP highest score first, FN lowest first: the worst ones lead */
    for (i = 1; i < n; i++) {
        size_t v = idx[i], j = i;
        double s = r->msgs[v].score;
        while (j > 0 && (want_fp ? r->msgs[idx[j - 1]].score < s : r->msgs[idx[j - 1]].score > s)) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
    for (i = 0; i < n && i < max; i++) {
        const struct tm_corpus_msg *m = &r->msgs[idx[i]];
        uint32_t top[TM_CORPUS_TOP];
        size_t nt = tm_corpus_top_symbols(r, m, top);
        fprintf(f, "  %7.2f  ", m->score);
        put_name(f, m->name);
        if (m->offset)
            fprintf(f, " (byte %llu)", (unsigned long long)m->offset);
        fputs("\n           ", f);
        if (nt == 0)
            fputs("(no scored rule hit)", f);
        for (k = 0; k < nt; k++) {
            fputs(k ? ", " : "", f);
            put_name(f, r->rules[top[k]].name);
            fprintf(f, " %.2f", r->rules[top[k]].score);
        }
        fputc('\n', f);
    }
    if (n > max)
        fprintf(f, "  ... %zu more (see --json or --html)\n", n - max);
    tm_free(idx);
}

static void
print_name_list(FILE *f, const char *title, const struct tm_corpus_run *r,
                const struct corpus_opts *o, int which)
{
    size_t i, n = 0, shown = 0, col = 0;

    for (i = 0; i < r->nrules; i++) {
        const struct tm_corpus_rule *ru = &r->rules[i];
        if (!name_selected(o, ru))
            continue;
        if (which == 0 ? ru->spam_hits + ru->ham_hits == 0
                       : (ru->ham_hits > 0 && ru->spam_hits == 0))
            n++;
    }
    fprintf(f, "\n%s: %zu\n", title, n);
    for (i = 0; i < r->nrules && shown < 60; i++) {
        const struct tm_corpus_rule *ru = &r->rules[i];
        size_t len = strlen(ru->name);
        if (!name_selected(o, ru) ||
            !(which == 0 ? ru->spam_hits + ru->ham_hits == 0
                         : (ru->ham_hits > 0 && ru->spam_hits == 0)))
            continue;
        if (col > 0 && col + len + 2 > 96) {
            fputc('\n', f);
            col = 0;
        }
        fputs(col == 0 ? "  " : " ", f);
        put_name(f, ru->name);
        if (which == 0 && !ru->runnable) {
            fputs("(unsupported)", f);
            len += 13;
        }
        col += len + 2;
        shown++;
    }
    if (col > 0)
        fputc('\n', f);
    if (n > shown)
        fprintf(f, "  ... %zu more (see --json)\n", n - shown);
}

static void
print_report(FILE *f, const struct tm_corpus_run *r, const struct corpus_opts *o)
{
    size_t *idx = tm_xcalloc(r->nrules ? r->nrules : 1, sizeof(*idx));
    size_t i, n = 0, rows = 0;
    const double marks[] = {-5, 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20};

    fprintf(f, "tamis corpus: %zu messages (%llu ham, %llu spam), %.1f MB in %.2f s on %u jobs: "
               "%.0f msgs/s, %.1f MB/s\n",
            r->nmsgs, (unsigned long long)r->nham, (unsigned long long)r->nspam,
            (double)r->bytes / 1e6, r->secs, r->jobs, r->msgs_per_s, r->mb_per_s);
    for (i = 0; i < r->nsources; i++) {
        fprintf(f, "  %-4s %-7s %8llu  ", r->sources[i].spam ? "spam" : "ham", r->sources[i].kind,
                (unsigned long long)r->sources[i].messages);
        put_name(f, r->sources[i].path);
        fputc('\n', f);
    }
    if (r->errors)
        fprintf(f, "  %llu messages could not be read (named on stderr)\n",
                (unsigned long long)r->errors);
    fprintf(f, "rules: %zu (version %.16s), threshold %.2f\n\n", r->nrules,
            r->rules_version ? r->rules_version : "-", r->conf.threshold);
    for (i = 0; i < r->nrules; i++) {
        const struct tm_corpus_rule *ru = &r->rules[i];
        if (name_selected(o, ru) && ru->spam_hits + ru->ham_hits > 0)
            idx[n++] = i;
    }
    sort_run = r;
    sort_key = o->sort ? o->sort : "so";
    qsort(idx, n, sizeof(*idx), cmp_rule_idx);
    fprintf(f, "%7s %8s %7s %8s %6s %5s %7s  %s\n", "SPAM", "SPAM%", "HAM", "HAM%", "S/O", "RANK",
            "SCORE", "NAME");
    fprintf(f, "%7llu %8.3f %7llu %8.3f %6.3f %5s %7s  (all messages)\n",
            (unsigned long long)r->nspam, r->nspam ? 100.0 : 0, (unsigned long long)r->nham,
            r->nham ? 100.0 : 0, r->nmsgs ? (double)r->nspam / (double)r->nmsgs : 0, "", "");
    for (i = 0; i < n && (o->top == 0 || rows < o->top); i++, rows++) {
        const struct tm_corpus_rule *ru = &r->rules[idx[i]];
        size_t k;
        fprintf(f, "%7llu %8.3f %7llu %8.3f %6.3f %5.2f %7.3f  ", (unsigned long long)ru->spam_hits,
                ru->spam_pct, (unsigned long long)ru->ham_hits, ru->ham_pct, ru->so, ru->rank,
                ru->score);
        put_name(f, ru->name);
        if (ru->noverlap > 0 && ru->overlap[0].pct >= 50) {
            fputs("  [overlap", f);
            for (k = 0; k < ru->noverlap && ru->overlap[k].pct >= 50; k++) {
                fputc(' ', f);
                put_name(f, r->rules[ru->overlap[k].rule].name);
                fprintf(f, " %.0f%%", ru->overlap[k].pct);
            }
            fputc(']', f);
        }
        fputc('\n', f);
    }
    if (n > rows)
        fprintf(f, "... %zu more rules that hit (--top 0 shows all)\n", n - rows);
    print_name_list(f, "rules that never hit", r, o, 0);
    print_name_list(f, "rules that hit only ham", r, o, 1);

    fprintf(f, "\nat threshold %.2f:        called spam   called ham\n", r->conf.threshold);
    fprintf(f, "  spam %8llu          %8llu     %8llu\n", (unsigned long long)r->nspam,
            (unsigned long long)r->conf.tp, (unsigned long long)r->conf.fn);
    fprintf(f, "  ham  %8llu          %8llu     %8llu\n", (unsigned long long)r->nham,
            (unsigned long long)r->conf.fp, (unsigned long long)r->conf.tn);
    fprintf(f, "  FP rate %.3f%%  FN rate %.3f%%  precision %.4f  recall %.4f  error rate %.3f%%  "
               "AUC %.4f\n",
            100 * r->conf.fp_rate, 100 * r->conf.fn_rate, r->conf.precision, r->conf.recall,
            100 * r->conf.error_rate, r->auc);
    fprintf(f, "\nthreshold sweep:\n  %9s %7s %8s %7s %8s\n", "threshold", "FP", "FP%", "FN", "FN%");
    for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
        size_t k;
        uint64_t fp = 0, fn = 0;
        for (k = 0; k < r->nmsgs; k++) {
            int pos = r->msgs[k].score >= marks[i];
            if (r->msgs[k].spam && !pos)
                fn++;
            if (!r->msgs[k].spam && pos)
                fp++;
        }
        fprintf(f, "  %9.1f %7llu %7.3f%% %7llu %7.3f%%%s\n", marks[i], (unsigned long long)fp,
                r->nham ? 100.0 * (double)fp / (double)r->nham : 0, (unsigned long long)fn,
                r->nspam ? 100.0 * (double)fn / (double)r->nspam : 0,
                marks[i] == r->conf.threshold ? "   <- threshold" : "");
    }
    print_msg_list(f, r, 1, o->list);
    print_msg_list(f, r, 0, o->list);
    tm_free(idx);
}

/*
 * base_changed - rule i differs from the baseline. The baseline's numbers
 * went through JSON with 10 significant digits, so equal means equal to
 * 1e-6 (of a percentage or a score), not bit for bit.
 */
static int
base_changed(const struct tm_corpus_baseline *b, const struct tm_corpus_rule *ru, size_t i)
{
    return !(fabs(ru->spam_pct - b->spam_pct[i]) <= 1e-6 &&
             fabs(ru->ham_pct - b->ham_pct[i]) <= 1e-6 && fabs(ru->score - b->score[i]) <= 1e-6);
}

static void
print_baseline(FILE *f, const struct tm_corpus_run *r)
{
    const struct tm_corpus_baseline *b = r->base;
    size_t *idx = tm_xcalloc(r->nrules ? r->nrules : 1, sizeof(*idx));
    double *mag = tm_xcalloc(r->nrules ? r->nrules : 1, sizeof(*mag));
    size_t i, j, n = 0, nnew = 0;

    fprintf(f, "\ncompared with the baseline ");
    put_name(f, b->path);
    fprintf(f, " (%llu ham, %llu spam):\n", (unsigned long long)b->ham, (unsigned long long)b->spam);
    fprintf(f, "  FP %llu -> %llu   FN %llu -> %llu   FP rate %.3f%% -> %.3f%%   FN rate %.3f%% -> "
               "%.3f%%   error rate %.3f%% -> %.3f%%   msgs/s %.0f -> %.0f\n",
            (unsigned long long)b->conf.fp, (unsigned long long)r->conf.fp,
            (unsigned long long)b->conf.fn, (unsigned long long)r->conf.fn, 100 * b->conf.fp_rate,
            100 * r->conf.fp_rate, 100 * b->conf.fn_rate, 100 * r->conf.fn_rate,
            100 * b->conf.error_rate, 100 * r->conf.error_rate, b->msgs_per_s, r->msgs_per_s);
    for (i = 0; i < r->nrules; i++) {
        const struct tm_corpus_rule *ru = &r->rules[i];
        double d;
        if (ru->sub)
            continue;
        if (!b->has[i]) {
            nnew++;
            continue;
        }
        d = fabs(ru->spam_pct - b->spam_pct[i]) + fabs(ru->ham_pct - b->ham_pct[i]) +
            fabs(ru->score - b->score[i]);
        if (base_changed(b, ru, i)) {
            mag[i] = d;
            idx[n++] = i;
        }
    }
    /* biggest change first (insertion sort on a short list is fine for n <= rules) */
    for (i = 1; i < n; i++) {
        size_t v = idx[i];
        for (j = i; j > 0 && mag[idx[j - 1]] < mag[v]; j--)
            idx[j] = idx[j - 1];
        idx[j] = v;
    }
    fprintf(f, "  rules changed: %zu, new: %zu, gone: %zu\n", n, nnew, b->ngone);
    if (n > 0)
        fprintf(f, "  %17s %17s %13s %15s  %s\n", "SPAM% before/after", "HAM% before/after",
                "S/O", "SCORE", "NAME");
    for (i = 0; i < n && i < 50; i++) {
        const struct tm_corpus_rule *ru = &r->rules[idx[i]];
        size_t k = idx[i];
        fprintf(f, "  %8.3f %8.3f %8.3f %8.3f %6.3f %6.3f %7.3f %7.3f  ", b->spam_pct[k],
                ru->spam_pct, b->ham_pct[k], ru->ham_pct, b->so[k], ru->so, b->score[k],
                ru->score);
        put_name(f, ru->name);
        fputc('\n', f);
    }
    if (n > 50)
        fprintf(f, "  ... %zu more (see --json or --html)\n", n - 50);
    if (nnew > 0) {
        fputs("  new rules:", f);
        for (i = 0, j = 0; i < r->nrules && j < 40; i++)
            if (!r->rules[i].sub && !b->has[i]) {
                fputc(' ', f);
                put_name(f, r->rules[i].name);
                j++;
            }
        fputs(nnew > 40 ? " ...\n" : "\n", f);
    }
    if (b->ngone > 0) {
        fputs("  rules gone:", f);
        for (i = 0; i < b->ngone && i < 40; i++) {
            fputc(' ', f);
            put_name(f, b->gone[i]);
        }
        fputs(b->ngone > 40 ? " ...\n" : "\n", f);
    }
    tm_free(idx);
    tm_free(mag);
}

static void
print_fit(FILE *f, const struct tm_corpus_run *r)
{
    const struct tm_corpus_fit *ft = &r->fit;

    fprintf(f, "\nscore fit: %zu rules fitted on %zu messages, %zu held out (lambda %g, "
               "fp cost %g)\n", ft->nfeatures, ft->ntrain, ft->nval, ft->lambda, ft->fp_cost);
    fprintf(f, "  held out, current scores: FP %llu  FN %llu  error rate %.3f%%\n",
            (unsigned long long)ft->val_before.fp, (unsigned long long)ft->val_before.fn,
            100 * ft->val_before.error_rate);
    fprintf(f, "  held out, fitted scores:  FP %llu  FN %llu  error rate %.3f%%\n",
            (unsigned long long)ft->val_after.fp, (unsigned long long)ft->val_after.fn,
            100 * ft->val_after.error_rate);
    fprintf(f, "  all messages, refitted:   FP %llu -> %llu  FN %llu -> %llu  error rate %.3f%% -> "
               "%.3f%%\n",
            (unsigned long long)ft->all_before.fp, (unsigned long long)ft->all_after.fp,
            (unsigned long long)ft->all_before.fn, (unsigned long long)ft->all_after.fn,
            100 * ft->all_before.error_rate, 100 * ft->all_after.error_rate);
    fprintf(f, "  scores written to ");
    put_name(f, ft->out_path);
    fprintf(f, " (load it after the rules: --rules RULES --rules ");
    put_name(f, ft->out_path);
    fprintf(f, ")\n");
}

static void
json_confusion(struct tm_json *j, const struct tm_corpus_confusion *c)
{
    tm_json_obj(j);
    tm_json_key(j, "threshold");
    tm_json_number(j, c->threshold);
    tm_json_key(j, "tp");
    tm_json_uint(j, c->tp);
    tm_json_key(j, "fp");
    tm_json_uint(j, c->fp);
    tm_json_key(j, "tn");
    tm_json_uint(j, c->tn);
    tm_json_key(j, "fn");
    tm_json_uint(j, c->fn);
    tm_json_key(j, "fp_rate");
    tm_json_number(j, c->fp_rate);
    tm_json_key(j, "fn_rate");
    tm_json_number(j, c->fn_rate);
    tm_json_key(j, "precision");
    tm_json_number(j, c->precision);
    tm_json_key(j, "recall");
    tm_json_number(j, c->recall);
    tm_json_key(j, "accuracy");
    tm_json_number(j, c->accuracy);
    tm_json_key(j, "error_rate");
    tm_json_number(j, c->error_rate);
    tm_json_end_obj(j);
}

static void
json_msg_list(struct tm_json *j, const struct tm_corpus_run *r, int want_fp)
{
    size_t i, k;

    tm_json_arr(j);
    for (i = 0; i < r->nmsgs; i++) {
        const struct tm_corpus_msg *m = &r->msgs[i];
        int pos = m->score >= r->conf.threshold;
        uint32_t top[TM_CORPUS_TOP];
        size_t nt;
        if (want_fp ? !(!m->spam && pos) : !(m->spam && !pos))
            continue;
        tm_json_obj(j);
        tm_json_key(j, "file");
        tm_json_str(j, m->name);
        tm_json_key(j, "offset");
        tm_json_uint(j, m->offset);
        tm_json_key(j, "score");
        tm_json_number(j, m->score);
        tm_json_key(j, "top");
        tm_json_arr(j);
        nt = tm_corpus_top_symbols(r, m, top);
        for (k = 0; k < nt; k++) {
            tm_json_obj(j);
            tm_json_key(j, "name");
            tm_json_str(j, r->rules[top[k]].name);
            tm_json_key(j, "score");
            tm_json_number(j, r->rules[top[k]].score);
            tm_json_end_obj(j);
        }
        tm_json_end_arr(j);
        tm_json_end_obj(j);
    }
    tm_json_end_arr(j);
}

/* flush - write what the JSON buffer holds, so memory stays flat */
static int
flush(struct tm_json *j, FILE *f)
{
    if (j->len > 0 && fwrite(j->p, 1, j->len, f) != j->len)
        return -1;
    j->len = 0;
    return 0;
}

static int
write_json(const struct tm_corpus_run *r, const struct corpus_opts *o, FILE *f)
{
    struct tm_json j;
    size_t i, k;
    int bad = 0;

    tm_json_init(&j, 0);
    tm_json_obj(&j);
    tm_json_key(&j, "tool");
    tm_json_str(&j, "tamis corpus");
    tm_json_key(&j, "version");
    tm_json_str(&j, tamis_version());
    tm_json_key(&j, "rules_version");
    tm_json_str(&j, r->rules_version);
    tm_json_key(&j, "threshold");
    tm_json_number(&j, r->conf.threshold);
    tm_json_key(&j, "sources");
    tm_json_arr(&j);
    for (i = 0; i < r->nsources; i++) {
        tm_json_obj(&j);
        tm_json_key(&j, "path");
        tm_json_str(&j, r->sources[i].path);
        tm_json_key(&j, "label");
        tm_json_str(&j, r->sources[i].spam ? "spam" : "ham");
        tm_json_key(&j, "kind");
        tm_json_str(&j, r->sources[i].kind);
        tm_json_key(&j, "messages");
        tm_json_uint(&j, r->sources[i].messages);
        tm_json_end_obj(&j);
    }
    tm_json_end_arr(&j);
    tm_json_key(&j, "messages");
    tm_json_obj(&j);
    tm_json_key(&j, "ham");
    tm_json_uint(&j, r->nham);
    tm_json_key(&j, "spam");
    tm_json_uint(&j, r->nspam);
    tm_json_key(&j, "total");
    tm_json_uint(&j, r->nmsgs);
    tm_json_key(&j, "bytes");
    tm_json_uint(&j, r->bytes);
    tm_json_key(&j, "unreadable");
    tm_json_uint(&j, r->errors);
    tm_json_end_obj(&j);
    tm_json_key(&j, "seconds");
    tm_json_number(&j, r->secs);
    tm_json_key(&j, "jobs");
    tm_json_uint(&j, r->jobs);
    tm_json_key(&j, "msgs_per_s");
    tm_json_number(&j, r->msgs_per_s);
    tm_json_key(&j, "mb_per_s");
    tm_json_number(&j, r->mb_per_s);
    tm_json_key(&j, "confusion");
    json_confusion(&j, &r->conf);
    tm_json_key(&j, "auc");
    tm_json_number(&j, r->auc);
    tm_json_key(&j, "roc");
    tm_json_arr(&j);
    for (i = 0; i < r->nroc; i++) {
        tm_json_obj(&j);
        tm_json_key(&j, "threshold");
        tm_json_number(&j, r->roc[i].threshold);
        tm_json_key(&j, "fp");
        tm_json_uint(&j, r->roc[i].fp);
        tm_json_key(&j, "fn");
        tm_json_uint(&j, r->roc[i].fn);
        tm_json_key(&j, "fpr");
        tm_json_number(&j, r->roc[i].fpr);
        tm_json_key(&j, "tpr");
        tm_json_number(&j, r->roc[i].tpr);
        tm_json_end_obj(&j);
    }
    tm_json_end_arr(&j);
    tm_json_key(&j, "rules");
    tm_json_arr(&j);
    for (i = 0; i < r->nrules; i++) {
        const struct tm_corpus_rule *ru = &r->rules[i];
        tm_json_obj(&j);
        tm_json_key(&j, "name");
        tm_json_str(&j, ru->name);
        tm_json_key(&j, "score");
        tm_json_number(&j, ru->score);
        tm_json_key(&j, "spam_hits");
        tm_json_uint(&j, ru->spam_hits);
        tm_json_key(&j, "ham_hits");
        tm_json_uint(&j, ru->ham_hits);
        tm_json_key(&j, "spam_pct");
        tm_json_number(&j, ru->spam_pct);
        tm_json_key(&j, "ham_pct");
        tm_json_number(&j, ru->ham_pct);
        tm_json_key(&j, "so");
        tm_json_number(&j, ru->so);
        tm_json_key(&j, "rank");
        tm_json_number(&j, ru->rank);
        tm_json_key(&j, "sub");
        tm_json_bool(&j, ru->sub);
        tm_json_key(&j, "runnable");
        tm_json_bool(&j, ru->runnable);
        tm_json_key(&j, "overlap");
        tm_json_arr(&j);
        for (k = 0; k < ru->noverlap; k++) {
            tm_json_obj(&j);
            tm_json_key(&j, "rule");
            tm_json_str(&j, r->rules[ru->overlap[k].rule].name);
            tm_json_key(&j, "pct");
            tm_json_number(&j, ru->overlap[k].pct);
            tm_json_end_obj(&j);
        }
        tm_json_end_arr(&j);
        tm_json_end_obj(&j);
        if (j.len > (1u << 20))
            bad |= flush(&j, f);
    }
    tm_json_end_arr(&j);
    tm_json_key(&j, "never_hit");
    tm_json_arr(&j);
    for (i = 0; i < r->nrules; i++)
        if (!r->rules[i].sub && r->rules[i].spam_hits + r->rules[i].ham_hits == 0)
            tm_json_str(&j, r->rules[i].name);
    tm_json_end_arr(&j);
    tm_json_key(&j, "ham_only");
    tm_json_arr(&j);
    for (i = 0; i < r->nrules; i++)
        if (!r->rules[i].sub && r->rules[i].ham_hits > 0 && r->rules[i].spam_hits == 0)
            tm_json_str(&j, r->rules[i].name);
    tm_json_end_arr(&j);
    tm_json_key(&j, "false_positives");
    json_msg_list(&j, r, 1);
    tm_json_key(&j, "false_negatives");
    json_msg_list(&j, r, 0);
    bad |= flush(&j, f);
    if (r->fit.done) {
        const struct tm_corpus_fit *ft = &r->fit;
        tm_json_key(&j, "fit");
        tm_json_obj(&j);
        tm_json_key(&j, "out");
        tm_json_str(&j, ft->out_path);
        tm_json_key(&j, "lambda");
        tm_json_number(&j, ft->lambda);
        tm_json_key(&j, "fp_cost");
        tm_json_number(&j, ft->fp_cost);
        tm_json_key(&j, "validation");
        tm_json_number(&j, ft->validation);
        tm_json_key(&j, "features");
        tm_json_uint(&j, ft->nfeatures);
        tm_json_key(&j, "train");
        tm_json_uint(&j, ft->ntrain);
        tm_json_key(&j, "held_out");
        tm_json_uint(&j, ft->nval);
        tm_json_key(&j, "held_out_before");
        json_confusion(&j, &ft->val_before);
        tm_json_key(&j, "held_out_after");
        json_confusion(&j, &ft->val_after);
        tm_json_key(&j, "train_before");
        json_confusion(&j, &ft->train_before);
        tm_json_key(&j, "train_after");
        json_confusion(&j, &ft->train_after);
        tm_json_key(&j, "all_before");
        json_confusion(&j, &ft->all_before);
        tm_json_key(&j, "all_after");
        json_confusion(&j, &ft->all_after);
        tm_json_key(&j, "scores");
        tm_json_obj(&j);
        for (i = 0; i < r->nrules; i++)
            if (ft->new_score != NULL && !isnan(ft->new_score[i])) {
                tm_json_key(&j, r->rules[i].name);
                tm_json_number(&j, ft->new_score[i]);
            }
        tm_json_end_obj(&j);
        tm_json_end_obj(&j);
    }
    if (r->base != NULL) {
        const struct tm_corpus_baseline *b = r->base;
        tm_json_key(&j, "baseline");
        tm_json_obj(&j);
        tm_json_key(&j, "path");
        tm_json_str(&j, b->path);
        tm_json_key(&j, "ham");
        tm_json_uint(&j, b->ham);
        tm_json_key(&j, "spam");
        tm_json_uint(&j, b->spam);
        tm_json_key(&j, "msgs_per_s");
        tm_json_number(&j, b->msgs_per_s);
        tm_json_key(&j, "confusion");
        json_confusion(&j, &b->conf);
        tm_json_key(&j, "changed");
        tm_json_arr(&j);
        for (i = 0; i < r->nrules; i++) {
            const struct tm_corpus_rule *ru = &r->rules[i];
            if (ru->sub || !b->has[i] || !base_changed(b, ru, i))
                continue;
            tm_json_obj(&j);
            tm_json_key(&j, "name");
            tm_json_str(&j, ru->name);
            tm_json_key(&j, "spam_pct_before");
            tm_json_number(&j, b->spam_pct[i]);
            tm_json_key(&j, "spam_pct");
            tm_json_number(&j, ru->spam_pct);
            tm_json_key(&j, "ham_pct_before");
            tm_json_number(&j, b->ham_pct[i]);
            tm_json_key(&j, "ham_pct");
            tm_json_number(&j, ru->ham_pct);
            tm_json_key(&j, "so_before");
            tm_json_number(&j, b->so[i]);
            tm_json_key(&j, "so");
            tm_json_number(&j, ru->so);
            tm_json_key(&j, "score_before");
            tm_json_number(&j, b->score[i]);
            tm_json_key(&j, "score");
            tm_json_number(&j, ru->score);
            tm_json_end_obj(&j);
        }
        tm_json_end_arr(&j);
        tm_json_key(&j, "new");
        tm_json_arr(&j);
        for (i = 0; i < r->nrules; i++)
            if (!r->rules[i].sub && !b->has[i])
                tm_json_str(&j, r->rules[i].name);
        tm_json_end_arr(&j);
        tm_json_key(&j, "gone");
        tm_json_arr(&j);
        for (i = 0; i < b->ngone; i++)
            tm_json_str(&j, b->gone[i]);
        tm_json_end_arr(&j);
        tm_json_end_obj(&j);
    }
    if (!o->no_message_list) {
        /* every message: what a script needs to recompute every figure above */
        tm_json_key(&j, "per_message");
        tm_json_arr(&j);
        for (i = 0; i < r->nmsgs; i++) {
            const struct tm_corpus_msg *m = &r->msgs[i];
            tm_json_obj(&j);
            tm_json_key(&j, "file");
            tm_json_str(&j, m->name);
            tm_json_key(&j, "label");
            tm_json_str(&j, m->spam ? "spam" : "ham");
            tm_json_key(&j, "score");
            tm_json_number(&j, m->score);
            tm_json_key(&j, "action");
            tm_json_str(&j, tm_action_name((enum tm_action)m->action));
            tm_json_key(&j, "rules");
            tm_json_arr(&j);
            for (k = 0; k < m->nhits; k++)
                tm_json_str(&j, r->rules[m->hits[k].rule].name);
            tm_json_end_arr(&j);
            tm_json_end_obj(&j);
            if (j.len > (1u << 20))
                bad |= flush(&j, f);
        }
        tm_json_end_arr(&j);
    }
    tm_json_end_obj(&j);
    tm_json_raw(&j, "\n");
    bad |= flush(&j, f);
    tm_json_free(&j);
    return bad ? -1 : 0;
}

static int
write_json_file(const struct tm_corpus_run *r, const struct corpus_opts *o)
{
    FILE *f = strcmp(o->json_out, "-") == 0 ? stdout : fopen(o->json_out, "w");
    int rc;

    if (f == NULL) {
        fprintf(stderr, "tamis: cannot write %s: %s\n", o->json_out, strerror(errno));
        return -1;
    }
    rc = write_json(r, o, f);
    if (f != stdout) {
        if (fclose(f) != 0)
            rc = -1;
    } else if (fflush(f) != 0) {
        rc = -1;
    }
    if (rc != 0)
        fprintf(stderr, "tamis: cannot write %s: %s\n", o->json_out, strerror(errno));
    return rc;
}

/* ---- the run ---- */

/*
 * scan_all - read every source into the queue while the workers scan; put
 * the results back in input order. Returns the number of messages that
 * could not be read (each named on stderr).
 */
static uint64_t
scan_all(struct tm_corpus_run *r, const struct tm_scanner *sc, const struct corpus_opts *o)
{
    struct ctx cx;
    struct worker *w;
    struct progress pg;
    unsigned k;
    size_t seq = 0, i, total = 0;
    uint64_t unreadable = 0, total_bytes = 0;
    int show = !o->quiet && (o->progress || isatty(STDERR_FILENO));
    double t0;

    memset(&cx, 0, sizeof(cx));
    cx.sc = sc;
    pthread_mutex_init(&cx.q.mu, NULL);
    pthread_cond_init(&cx.q.not_empty, NULL);
    pthread_cond_init(&cx.q.not_full, NULL);
    cx.runnable_multiple = tm_xcalloc(r->nrules ? r->nrules : 1, sizeof(uint32_t));
    for (i = 0; i < r->nrules; i++)
        cx.runnable_multiple[i] = (sc->rules.rules[i].tflags & TM_TF_MULTIPLE) != 0;
    w = tm_xcalloc(r->jobs, sizeof(*w));
    memset(&pg, 0, sizeof(pg));
    if (show) {
        for (i = 0; i < o->nsrc; i++)
            total_bytes += tm_mailbox_size(o->src[i].path);
        pg.q = &cx.q;
        pg.total_bytes = total_bytes;
        pthread_mutex_init(&pg.mu, NULL);
        pthread_cond_init(&pg.cv, NULL);
    }
    t0 = tm_now_ms();
    pg.t0 = t0;
    for (k = 0; k < r->jobs; k++) {
        w[k].cx = &cx;
        if (sc->matcher != NULL && (w[k].ms = tm_match_scratch_new(sc->matcher)) == NULL)
            tm_fatal("cannot allocate scan scratch");
        if (pthread_create(&w[k].th, NULL, worker_main, &w[k]) != 0)
            tm_fatal("cannot start a scan thread");
    }
    if (show && pthread_create(&pg.th, NULL, progress_main, &pg) != 0)
        show = 0;
    for (i = 0; i < o->nsrc; i++) {
        struct tm_mailbox *mb;
        struct tm_corpus_source *src = &r->sources[r->nsources++];
        char err[512];
        int rc;
        src->path = o->src[i].path;
        src->spam = o->src[i].spam;
        src->kind = "?";
        if (tm_mailbox_open(o->src[i].path, &mb, err, sizeof(err)) != 0) {
            fprintf(stderr, "%stamis: %s\n", show ? "\n" : "", err);
            unreadable++;
            continue;
        }
        src->kind = tm_mailbox_kind(mb);
        src->path = o->src[i].path;
        for (;;) {
            struct job j;
            memset(&j, 0, sizeof(j));
            rc = tm_mailbox_next(mb, o->sa.so.limits.message_max_size, &j.m, err, sizeof(err));
            if (rc == 0)
                break;
            if (rc < 0) {
                fprintf(stderr, "%stamis: %s\n", show ? "\n" : "", err);
                unreadable++;
                continue;
            }
            j.spam = o->src[i].spam;
            j.seq = seq++;
            src->messages++;
            if (j.spam)
                r->nspam++;
            else
                r->nham++;
            r->bytes += j.m.len;
            q_push(&cx.q, &j);
        }
        tm_mailbox_close(mb);
    }
    pthread_mutex_lock(&cx.q.mu);
    cx.q.closed = 1;
    pthread_cond_broadcast(&cx.q.not_empty);
    pthread_mutex_unlock(&cx.q.mu);
    for (k = 0; k < r->jobs; k++)
        pthread_join(w[k].th, NULL);
    r->secs = (tm_now_ms() - t0) / 1000.0;
    if (show) {
        pthread_mutex_lock(&pg.mu);
        pg.stop = 1;
        pthread_cond_signal(&pg.cv);
        pthread_mutex_unlock(&pg.mu);
        pthread_join(pg.th, NULL);
        progress_line(&pg, 1);
        pthread_cond_destroy(&pg.cv);
        pthread_mutex_destroy(&pg.mu);
    }
    /* back in input order: seq is dense from 0 */
    for (k = 0; k < r->jobs; k++)
        total += w[k].n;
    r->msgs = tm_xcalloc(total ? total : 1, sizeof(*r->msgs));
    r->nmsgs = total;
    for (k = 0; k < r->jobs; k++) {
        for (i = 0; i < w[k].n; i++) {
            TM_ASSERT(w[k].seq[i] < total);
            r->msgs[w[k].seq[i]] = w[k].out[i];
        }
        if (w[k].scan_errors)
            fprintf(stderr, "tamis: %llu messages ended in a scan error (TAMIS_SCAN_ERROR)\n",
                    (unsigned long long)w[k].scan_errors);
        tm_free(w[k].out);
        tm_free(w[k].seq);
        tm_match_scratch_free(w[k].ms);
    }
    tm_free(w);
    tm_free(cx.runnable_multiple);
    pthread_cond_destroy(&cx.q.not_empty);
    pthread_cond_destroy(&cx.q.not_full);
    pthread_mutex_destroy(&cx.q.mu);
    return unreadable;
}

static void
free_run(struct tm_corpus_run *r)
{
    size_t i;

    for (i = 0; i < r->nmsgs; i++) {
        tm_free(r->msgs[i].name);
        tm_free(r->msgs[i].hits);
    }
    tm_free(r->msgs);
    tm_free(r->rules);
    tm_free(r->sources);
    tm_free(r->roc);
    tm_free(r->fit.new_score);
    free_baseline(r->base);
}

int
tamis_corpus_main(int argc, char **argv)
{
    struct corpus_opts *o = tm_xcalloc(1, sizeof(*o));
    struct tm_corpus_run run;
    struct tm_scanner *sc;
    char err[512];
    size_t i, nham = 0, nspam = 0;
    int rc = 0, p;
    long ncpu;
    tm_rc brc;
    FILE *table;

    memset(&run, 0, sizeof(run));
    tm_cli_args_init(&o->sa);
    o->sa.so.cfg.early_exit = 0; /* rule statistics need every rule's hits */
    o->list = 20;
    o->fo.lambda = -1; /* chosen on the held-out split unless --fit-lambda */
    o->fo.min_hits = 3; /* a rule hit by fewer training messages keeps its score */
    if ((p = parse_opts(o, argc, argv)) != 0) {
        corpus_usage(p > 0 ? stdout : stderr);
        tm_cli_args_free(&o->sa);
        tm_free(o);
        return p > 0 ? 0 : 2;
    }
    for (i = 0; i < o->nsrc; i++) {
        if (o->src[i].spam)
            nspam++;
        else
            nham++;
    }
    if (nham == 0 || nspam == 0) {
        fprintf(stderr, "tamis: corpus: give at least one --ham and one --spam source\n");
        corpus_usage(stderr);
        tm_cli_args_free(&o->sa);
        tm_free(o);
        return 2;
    }
    sc = tm_cli_build_scanner(&o->sa, 1, &brc);
    if (sc == NULL || brc != TM_OK || !sc->has_rules) {
        if (sc != NULL && !sc->has_rules)
            fprintf(stderr, "tamis: corpus needs rules (--rules PATH)\n");
        else if (brc == TM_EINVAL)
            fprintf(stderr, "tamis: the rules have errors (see above); fix them or run "
                            "`tamis rules check`\n");
        tm_scanner_free(sc);
        tm_cli_args_free(&o->sa);
        tm_free(o);
        return 2;
    }
    ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    run.jobs = o->jobs ? o->jobs : (unsigned)(ncpu > 0 ? (ncpu > MAX_JOBS ? MAX_JOBS : ncpu) : 1);
    run.rules_version = sc->rules_version;
    run.nrules = sc->rules.n;
    run.rules = tm_xcalloc(run.nrules ? run.nrules : 1, sizeof(*run.rules));
    for (i = 0; i < run.nrules; i++) {
        const struct tm_rule *ru = &sc->rules.rules[i];
        struct tm_corpus_rule *cr = &run.rules[i];
        const char *why = NULL;
        cr->name = ru->name;
        cr->describe = ru->describe;
        cr->score = tm_scorer_rule_score(sc->scorer, i);
        cr->sub = strncmp(ru->name, "__", 2) == 0;
        cr->runnable = strcmp(tm_scanner_rule_status(sc, i, &why), "unsupported") != 0;
        cr->fittable = !cr->sub && cr->runnable && cr->score != 0 && ru->force_action == NULL &&
                       strncmp(ru->name, "T_", 2) != 0;
    }
    run.sources = tm_xcalloc(o->nsrc, sizeof(*run.sources));
    run.errors = scan_all(&run, sc, o);
    if (run.errors)
        rc = 2;
    run.msgs_per_s = run.secs > 0 ? (double)run.nmsgs / run.secs : 0;
    run.mb_per_s = run.secs > 0 ? (double)run.bytes / 1e6 / run.secs : 0;
    {
        /* the threshold the verdicts used: the rules' required_score (or --action add_header) */
        double th = sc->cfg.required_from_rules && sc->rules.has_required_score
                        ? sc->rules.required_score
                        : sc->cfg.threshold[TM_ACT_ADD_HEADER];
        if (th <= 0)
            th = 5.0;
        confusion(&run, o->threshold_set ? o->threshold : th);
    }
    rule_stats(&run);
    overlap(&run);
    sweep(&run);
    if (o->baseline != NULL &&
        (run.base = load_baseline(&run, o->baseline, err, sizeof(err))) == NULL) {
        fprintf(stderr, "tamis: --baseline %s\n", err);
        rc = 2;
    }
    if (o->fit) {
        if (o->fo.out_path == NULL)
            o->fo.out_path = "fitted-scores.cf";
        if (tm_corpus_fit_scores(&run, &o->fo, err, sizeof(err)) != 0) {
            fprintf(stderr, "tamis: --fit: %s\n", err);
            rc = 2;
        }
    }
    table = o->json_out != NULL && strcmp(o->json_out, "-") == 0 ? stderr : stdout;
    if (table == stdout) {
        print_report(table, &run, o);
        if (run.base != NULL)
            print_baseline(table, &run);
        if (run.fit.done)
            print_fit(table, &run);
    } else if (!o->quiet) {
        fprintf(stderr, "tamis corpus: %zu messages (%llu ham, %llu spam) in %.2f s, %.0f msgs/s; "
                        "FP %llu, FN %llu at %.2f\n",
                run.nmsgs, (unsigned long long)run.nham, (unsigned long long)run.nspam, run.secs,
                run.msgs_per_s, (unsigned long long)run.conf.fp, (unsigned long long)run.conf.fn,
                run.conf.threshold);
    }
    if (o->json_out != NULL && write_json_file(&run, o) != 0)
        rc = 2;
    if (o->html_out != NULL && tm_corpus_write_html(&run, o->html_out, err, sizeof(err)) != 0) {
        fprintf(stderr, "tamis: --html: %s\n", err);
        rc = 2;
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "tamis: stdout: %s\n", strerror(errno));
        rc = 2;
    }
    free_run(&run);
    tm_scanner_free(sc);
    tm_cli_args_free(&o->sa);
    tm_free(o);
    return rc;
}
