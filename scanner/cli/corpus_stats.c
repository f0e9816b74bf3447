/*
 * corpus_stats.c - the small computations the corpus driver, the HTML
 * report and the score fitter share: a confusion matrix at a threshold and
 * a message's top symbols.
 */
#include "cli/corpus.h"

#include <math.h>
#include <string.h>

void
tm_corpus_confusion_at(const double *score, const uint8_t *spam, size_t n, double threshold,
                       struct tm_corpus_confusion *c)
{
    size_t i;
    uint64_t ham = 0, sp = 0;

    memset(c, 0, sizeof(*c));
    c->threshold = threshold;
    for (i = 0; i < n; i++) {
        int pos = score[i] >= threshold;
        if (spam[i]) {
            sp++;
            if (pos)
                c->tp++;
            else
                c->fn++;
        } else {
            ham++;
            if (pos)
                c->fp++;
            else
                c->tn++;
        }
    }
    c->fp_rate = ham ? (double)c->fp / (double)ham : 0;
    c->fn_rate = sp ? (double)c->fn / (double)sp : 0;
    c->precision = c->tp + c->fp ? (double)c->tp / (double)(c->tp + c->fp) : 0;
    c->recall = sp ? (double)c->tp / (double)sp : 0;
    c->accuracy = n ? (double)(c->tp + c->tn) / (double)n : 0;
    c->error_rate = n ? (double)(c->fp + c->fn) / (double)n : 0;
}

size_t
tm_corpus_top_symbols(const struct tm_corpus_run *r, const struct tm_corpus_msg *m, uint32_t *out)
{
    double best[TM_CORPUS_TOP];
    size_t n = 0, i, k;

    for (i = 0; i < m->nhits; i++) {
        const struct tm_corpus_rule *ru = &r->rules[m->hits[i].rule];
        double s;
        if (ru->sub || ru->score == 0)
            continue;
        s = fabs(ru->score);
        /* insertion into the sorted top list; ties keep rule order */
        for (k = n; k > 0 && best[k - 1] < s; k--)
            if (k < TM_CORPUS_TOP) {
                best[k] = best[k - 1];
                out[k] = out[k - 1];
            }
        if (k < TM_CORPUS_TOP) {
            best[k] = s;
            out[k] = m->hits[i].rule;
            if (n < TM_CORPUS_TOP)
                n++;
        }
    }
    return n;
}
