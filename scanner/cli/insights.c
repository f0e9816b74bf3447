/*
 * insights.c - `tamis insights [--html OUT.html] [--top N] LOG...`: read the
 * analytics log of tamisd (one JSON object per line, server.c analytics_line)
 * and summarise it: messages per action per hour, top symbols, top blocked
 * URLs and domains (TAMIS_URL_BLOCKLISTED options "URL (domain)"), top AV
 * signatures and scan latency percentiles; optionally as one self-contained
 * HTML page with inline SVG charts.
 *
 * The log is untrusted input. Invariants and limits:
 *   - a line is held in a buffer capped at INS_MAX_LINE; a longer line is
 *     skipped to its newline and counted as bad;
 *   - lines are read with jread.h, bounded in depth and values per line;
 *     deeper or larger lines are bad lines, never a crash;
 *   - each counter table keeps at most INS_MAX_KEYS distinct keys, later new
 *     keys are counted as "(other)";
 *   - latency samples are kept exactly up to INS_MAX_SAMPLES, then by
 *     reservoir sampling (Vitter's algorithm R); max is always exact.
 * Untrusted strings are escaped on output: control bytes as \xNN on the
 * terminal, & < > " ' as entities in HTML.
 */
#include "cli/insights.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/jread.h"
#include "core/core.h"

#define INS_MAX_LINE    (16u << 20) /* bytes per log line */
#define INS_MAX_SAMPLES 1000000u    /* latency samples kept */
#define INS_MAX_KEYS    1000000u    /* distinct keys per counter table */
#define INS_MAX_TOP     1000
#define INS_HIST_BINS   20

/* ---- counters ---- */

struct ctr_ent {
    char *k;
    size_t klen;
    uint64_t n;
};

struct ctr {
    struct ctr_ent *v;
    size_t cap, n;
    uint64_t other; /* counts of keys beyond INS_MAX_KEYS */
};

static uint64_t
hash(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
    return h;
}

static void
ctr_grow(struct ctr *c)
{
    struct ctr_ent *old = c->v;
    size_t i, oldcap = c->cap;

    c->cap = c->cap ? c->cap * 2 : 64;
    c->v = tm_xcalloc(c->cap, sizeof(*c->v));
    for (i = 0; i < oldcap; i++) {
        size_t j;
        if (old[i].k == NULL)
            continue;
        j = (size_t)hash(old[i].k, old[i].klen) & (c->cap - 1);
        while (c->v[j].k != NULL)
            j = (j + 1) & (c->cap - 1);
        c->v[j] = old[i];
    }
    tm_free(old);
}

/* ctr_add - add `inc` to key k (klen bytes); beyond INS_MAX_KEYS to "other" */
static void
ctr_add(struct ctr *c, const char *k, size_t klen, uint64_t inc)
{
    size_t j;

    if (c->n * 2 >= c->cap)
        ctr_grow(c);
    j = (size_t)hash(k, klen) & (c->cap - 1);
    while (c->v[j].k != NULL) {
        if (c->v[j].klen == klen && memcmp(c->v[j].k, k, klen) == 0) {
            c->v[j].n += inc;
            return;
        }
        j = (j + 1) & (c->cap - 1);
    }
    if (c->n >= INS_MAX_KEYS) {
        c->other += inc;
        return;
    }
    c->v[j].k = tm_xstrdup_n(k, klen);
    c->v[j].klen = klen;
    c->v[j].n = inc;
    c->n++;
}

static uint64_t
ctr_get(const struct ctr *c, const char *k, size_t klen)
{
    size_t j;

    if (c->cap == 0)
        return 0;
    j = (size_t)hash(k, klen) & (c->cap - 1);
    while (c->v[j].k != NULL) {
        if (c->v[j].klen == klen && memcmp(c->v[j].k, k, klen) == 0)
            return c->v[j].n;
        j = (j + 1) & (c->cap - 1);
    }
    return 0;
}

static void
ctr_free(struct ctr *c)
{
    size_t i;

    for (i = 0; i < c->cap; i++)
        tm_free(c->v[i].k);
    tm_free(c->v);
    memset(c, 0, sizeof(*c));
}

static int
cmp_key(const struct ctr_ent *a, const struct ctr_ent *b)
{
    int r = memcmp(a->k, b->k, TM_MIN(a->klen, b->klen));

    if (r != 0)
        return r;
    return a->klen < b->klen ? -1 : a->klen > b->klen;
}

/* by count descending, then key ascending, so ties print in a stable order */
static int
cmp_count(const void *x, const void *y)
{
    const struct ctr_ent *a = *(const struct ctr_ent *const *)x;
    const struct ctr_ent *b = *(const struct ctr_ent *const *)y;

    if (a->n != b->n)
        return a->n > b->n ? -1 : 1;
    return cmp_key(a, b);
}

static int
cmp_name(const void *x, const void *y)
{
    return cmp_key(*(const struct ctr_ent *const *)x, *(const struct ctr_ent *const *)y);
}

/* ctr_sorted - array of pointers to the entries, sorted; caller frees */
static struct ctr_ent **
ctr_sorted(const struct ctr *c, int by_count)
{
    struct ctr_ent **v = tm_xcalloc(c->n + 1, sizeof(*v));
    size_t i, n = 0;

    for (i = 0; i < c->cap; i++)
        if (c->v[i].k != NULL)
            v[n++] = &c->v[i];
    qsort(v, n, sizeof(*v), by_count ? cmp_count : cmp_name);
    return v;
}

/* ---- aggregation ---- */

struct insights {
    uint64_t messages, bad, toolong;
    struct ctr hours;   /* hour -> messages */
    struct ctr actions; /* action -> messages */
    struct ctr hour_action;
    struct ctr symbols, urls, domains, av;
    double *lat;
    size_t nlat;
    uint64_t lat_seen;
    double lat_max;
    uint64_t rng;
};

static uint64_t
rng_next(struct insights *in)
{
    in->rng ^= in->rng << 13;
    in->rng ^= in->rng >> 7;
    in->rng ^= in->rng << 17;
    return in->rng;
}

static void
add_latency(struct insights *in, double ms)
{
    if (!isfinite(ms) || ms < 0)
        return;
    if (in->lat_seen == 0 || ms > in->lat_max)
        in->lat_max = ms;
    in->lat_seen++;
    if (in->nlat < INS_MAX_SAMPLES) {
        if (in->lat == NULL)
            in->lat = tm_xcalloc(INS_MAX_SAMPLES, sizeof(*in->lat));
        in->lat[in->nlat++] = ms;
    } else {
        uint64_t r = rng_next(in) % in->lat_seen;
        if (r < INS_MAX_SAMPLES)
            in->lat[r] = ms;
    }
}

/* hour_of - "YYYY-MM-DDTHH" from the time field, or "(no time)" */
static void
hour_of(const struct tm_jparser *jp, size_t t, const char **h, size_t *hlen)
{
    static const char *const shape = "dddd-dd-ddTdd";
    size_t i;

    *h = "(no time)";
    *hlen = 9;
    if (!tm_jis(jp, t, TM_J_STR) || jp->v[t].slen < 13)
        return;
    for (i = 0; i < 13; i++) {
        char c = jp->v[t].s[i];
        if (shape[i] == 'd' ? (c < '0' || c > '9') : c != shape[i])
            return;
    }
    *h = jp->v[t].s;
    *hlen = 13;
}

/* add_blocked - option "URL (domain)" of TAMIS_URL_BLOCKLISTED */
static void
add_blocked(struct insights *in, const char *s, size_t len)
{
    size_t i;

    if (len >= 4 && s[len - 1] == ')') {
        for (i = len - 1; i-- > 0;) {
            if (s[i] == '(' && i > 0 && s[i - 1] == ' ') {
                ctr_add(&in->urls, s, i - 1, 1);
                ctr_add(&in->domains, s + i + 1, len - i - 2, 1);
                return;
            }
        }
    }
    ctr_add(&in->urls, s, len, 1);
}

static void
add_symbols(struct insights *in, const struct tm_jparser *jp, size_t syms)
{
    size_t i, o;

    if (!tm_jis(jp, syms, TM_J_ARR))
        return;
    for (i = jp->v[syms].first; i != TM_JNONE; i = jp->v[i].next) {
        size_t name = tm_jget(jp, i, "name");
        if (!tm_jis(jp, name, TM_J_STR))
            continue;
        ctr_add(&in->symbols, jp->v[name].s, jp->v[name].slen, 1);
        if (!tm_jstreq(jp, name, "TAMIS_URL_BLOCKLISTED"))
            continue;
        o = tm_jget(jp, i, "options");
        if (!tm_jis(jp, o, TM_J_ARR))
            continue;
        for (o = jp->v[o].first; o != TM_JNONE; o = jp->v[o].next)
            if (tm_jis(jp, o, TM_J_STR))
                add_blocked(in, jp->v[o].s, jp->v[o].slen);
    }
}

static void
add_av(struct insights *in, const struct tm_jparser *jp, size_t av)
{
    size_t i, sig;

    if (!tm_jis(jp, av, TM_J_ARR))
        return;
    for (i = jp->v[av].first; i != TM_JNONE; i = jp->v[i].next) {
        if (!tm_jstreq(jp, tm_jget(jp, i, "result"), "infected"))
            continue;
        sig = tm_jget(jp, i, "signature");
        if (tm_jis(jp, sig, TM_J_STR))
            ctr_add(&in->av, jp->v[sig].s, jp->v[sig].slen, 1);
        else
            ctr_add(&in->av, "(unnamed)", 9, 1);
    }
}

/* add_line - one log line; a line that is not an object with a verdict is bad */
static void
add_line(struct insights *in, struct tm_jparser *jp, char *line, size_t len)
{
    size_t root, v, a, t, i;
    const char *h, *act = "(none)";
    size_t hlen, alen = 6;
    char key[256];

    for (i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            break;
    if (i == len)
        return; /* blank lines are ignored */
    root = tm_jparse(jp, line, len);
    v = tm_jget(jp, root, "verdict");
    if (!tm_jis(jp, v, TM_J_OBJ)) {
        in->bad++;
        return;
    }
    in->messages++;
    hour_of(jp, tm_jget(jp, root, "time"), &h, &hlen);
    a = tm_jget(jp, v, "action");
    if (tm_jis(jp, a, TM_J_STR) && jp->v[a].slen <= sizeof(key) - 16) {
        act = jp->v[a].s;
        alen = jp->v[a].slen;
    }
    ctr_add(&in->hours, h, hlen, 1);
    ctr_add(&in->actions, act, alen, 1);
    memcpy(key, h, hlen);
    key[hlen] = '\x1f';
    memcpy(key + hlen + 1, act, alen);
    ctr_add(&in->hour_action, key, hlen + 1 + alen, 1);
    add_symbols(in, jp, tm_jget(jp, v, "symbols"));
    add_av(in, jp, tm_jget(jp, v, "av"));
    t = tm_jget(jp, v, "scan_ms");
    if (tm_jis(jp, t, TM_J_NUM))
        add_latency(in, jp->v[t].num);
}

/*
 * read_log - feed each line of f to add_line. A line is capped at
 * INS_MAX_LINE bytes; the rest of a longer line is skipped and the line
 * counted bad. Returns -1 on a read error.
 */
static int
read_log(struct insights *in, struct tm_jparser *jp, FILE *f)
{
    char *line = NULL;
    size_t len = 0, cap = 0;
    int c, skipping = 0;

    while ((c = getc(f)) != EOF) {
        if (c == '\n') {
            if (!skipping)
                add_line(in, jp, line, len);
            skipping = 0;
            len = 0;
            continue;
        }
        if (skipping)
            continue;
        if (len == INS_MAX_LINE) {
            in->bad++;
            in->toolong++;
            skipping = 1;
            continue;
        }
        if (len == cap) {
            cap = cap ? TM_MIN(cap * 2, (size_t)INS_MAX_LINE) : 4096;
            line = tm_xrealloc(line, cap);
        }
        line[len++] = (char)c;
    }
    if (!skipping && len > 0)
        add_line(in, jp, line, len);
    tm_free(line);
    return ferror(f) ? -1 : 0;
}

/* ---- statistics ---- */

static int
cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;

    return a < b ? -1 : a > b;
}

/* pct - nearest-rank percentile of the sorted samples */
static double
pct(const struct insights *in, double q)
{
    size_t r;

    if (in->nlat == 0)
        return 0;
    r = (size_t)(q * (double)in->nlat);
    if ((double)r < q * (double)in->nlat)
        r++; /* ceil without libm */
    if (r < 1)
        r = 1;
    if (r > in->nlat)
        r = in->nlat;
    return in->lat[r - 1];
}

/* action_order - the verdict's actions mildest first, then others by name */
static const char *const known_actions[] = {"no action",       "greylist",    "add header",
                                            "rewrite subject", "soft reject", "quarantine",
                                            "reject"};
static const char *const action_colors[] = {"#4caf50", "#9e9e9e", "#ffc107", "#ff9800",
                                            "#ff5722", "#9c27b0", "#d32f2f"};

static int
known_rank(const struct ctr_ent *e)
{
    size_t i;

    for (i = 0; i < TM_NELEM(known_actions); i++)
        if (strlen(known_actions[i]) == e->klen && memcmp(known_actions[i], e->k, e->klen) == 0)
            return (int)i;
    return (int)TM_NELEM(known_actions);
}

static int
cmp_action(const void *x, const void *y)
{
    const struct ctr_ent *a = *(const struct ctr_ent *const *)x;
    const struct ctr_ent *b = *(const struct ctr_ent *const *)y;
    int ra = known_rank(a), rb = known_rank(b);

    if (ra != rb)
        return ra - rb;
    return cmp_key(a, b);
}

static const char *
action_color(const struct ctr_ent *e, size_t idx)
{
    static const char *const extra[] = {"#2196f3", "#00bcd4", "#795548", "#607d8b"};
    int r = known_rank(e);

    if (r < (int)TM_NELEM(known_actions))
        return action_colors[r];
    return extra[idx % TM_NELEM(extra)];
}

static uint64_t
hour_action_count(const struct insights *in, const struct ctr_ent *h, const struct ctr_ent *a)
{
    char key[300];

    if (h->klen + 1 + a->klen > sizeof(key))
        return 0;
    memcpy(key, h->k, h->klen);
    key[h->klen] = '\x1f';
    memcpy(key + h->klen + 1, a->k, a->klen);
    return ctr_get(&in->hour_action, key, h->klen + 1 + a->klen);
}

/* ---- text output ---- */

/* put_safe - untrusted bytes for a terminal: control bytes as \xNN, clipped */
static void
put_safe(FILE *f, const char *s, size_t n, int width)
{
    size_t i;
    int w = 0;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\x%02x", c);
            w += 4;
        } else {
            putc(c, f);
            if ((c & 0xC0) != 0x80)
                w++;
        }
    }
    for (; w < width; w++)
        putc(' ', f);
}

static void
print_top(const struct insights *in, const struct ctr *c, const char *title, size_t top,
          int with_pct)
{
    struct ctr_ent **v = ctr_sorted(c, 1);
    size_t i;

    printf("\n%s (%zu distinct)\n", title, c->n);
    for (i = 0; i < c->n && i < top; i++) {
        printf("  %8llu", (unsigned long long)v[i]->n);
        if (with_pct)
            printf("  %5.1f%%",
                   in->messages ? 100.0 * (double)v[i]->n / (double)in->messages : 0.0);
        fputs("  ", stdout);
        put_safe(stdout, v[i]->k, v[i]->klen, 0);
        putchar('\n');
    }
    if (c->other > 0)
        printf("  %8llu  (other)\n", (unsigned long long)c->other);
    tm_free(v);
}

static void
print_hours(const struct insights *in, struct ctr_ent **hours, struct ctr_ent **acts)
{
    size_t i, k;

    printf("\nmessages by action per hour (UTC)\n  %-13s %8s", "hour", "total");
    for (k = 0; k < in->actions.n; k++) {
        putchar(' ');
        put_safe(stdout, acts[k]->k, TM_MIN(acts[k]->klen, (size_t)15), 15);
    }
    putchar('\n');
    for (i = 0; i < in->hours.n; i++) {
        fputs("  ", stdout);
        put_safe(stdout, hours[i]->k, hours[i]->klen, 13);
        printf(" %8llu", (unsigned long long)hours[i]->n);
        for (k = 0; k < in->actions.n; k++)
            printf(" %-15llu", (unsigned long long)hour_action_count(in, hours[i], acts[k]));
        putchar('\n');
    }
}

static void
print_text(const struct insights *in, struct ctr_ent **hours, struct ctr_ent **acts, size_t top)
{
    printf("messages:  %llu\nbad lines: %llu\n", (unsigned long long)in->messages,
           (unsigned long long)in->bad);
    print_hours(in, hours, acts);
    print_top(in, &in->symbols, "top symbols (count, % of messages)", top, 1);
    print_top(in, &in->urls, "top blocked URLs", top, 0);
    print_top(in, &in->domains, "top blocked domains", top, 0);
    print_top(in, &in->av, "top AV signatures", top, 0);
    printf("\nscan latency (ms, %llu samples%s)\n", (unsigned long long)in->lat_seen,
           in->lat_seen > in->nlat ? ", percentiles from a reservoir sample" : "");
    if (in->nlat > 0)
        printf("  p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n", pct(in, 0.50), pct(in, 0.90),
               pct(in, 0.99), in->lat_max);
}

/* ---- HTML output ---- */

static void
html_esc(FILE *f, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            if (c < 0x20 || c == 0x7f)
                fputs("&#xFFFD;", f);
            else
                putc(c, f);
        }
    }
}

static void
html_actions_chart(FILE *f, const struct insights *in, struct ctr_ent **hours,
                   struct ctr_ent **acts)
{
    size_t i, k, nh = in->hours.n;
    uint64_t maxn = 1;
    double bw, x, y, h, plot_h = 220, W;

    for (i = 0; i < nh; i++)
        maxn = TM_MAX(maxn, hours[i]->n);
    bw = nh > 0 ? TM_MAX(4.0, TM_MIN(40.0, 900.0 / (double)nh)) : 40;
    W = 60 + bw * (double)nh + 20;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"300\">\n", W);
    fprintf(f, "<text x=\"4\" y=\"24\" class=\"ax\">%llu</text>\n", (unsigned long long)maxn);
    fprintf(f, "<line x1=\"56\" y1=\"240\" x2=\"%.0f\" y2=\"240\" stroke=\"#888\"/>\n", W - 10);
    for (i = 0; i < nh; i++) {
        x = 60 + bw * (double)i;
        y = 240;
        for (k = 0; k < in->actions.n; k++) {
            uint64_t n = hour_action_count(in, hours[i], acts[k]);
            if (n == 0)
                continue;
            h = plot_h * (double)n / (double)maxn;
            y -= h;
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">", x,
                    y, bw * 0.8, h, action_color(acts[k], k));
            fputs("<title>", f);
            html_esc(f, hours[i]->k, hours[i]->klen);
            fputs(" ", f);
            html_esc(f, acts[k]->k, acts[k]->klen);
            fprintf(f, ": %llu</title></rect>\n", (unsigned long long)n);
        }
        if (nh <= 24 || i % (nh / 12 + 1) == 0) {
            fprintf(f, "<text x=\"%.1f\" y=\"256\" class=\"ax\" transform=\"rotate(30 %.1f 256)\">",
                    x, x);
            html_esc(f, hours[i]->k + (hours[i]->klen == 13 ? 5 : 0),
                     hours[i]->klen == 13 ? 8 : hours[i]->klen);
            fputs("h</text>\n", f);
        }
    }
    fputs("</svg>\n<p>", f);
    for (k = 0; k < in->actions.n; k++) {
        fprintf(f, "<span class=\"sw\" style=\"background:%s\"></span>", action_color(acts[k], k));
        html_esc(f, acts[k]->k, acts[k]->klen);
        fprintf(f, " (%llu) ", (unsigned long long)acts[k]->n);
    }
    fputs("</p>\n", f);
}

static void
html_symbols_chart(FILE *f, const struct insights *in, size_t top)
{
    struct ctr_ent **v = ctr_sorted(&in->symbols, 1);
    size_t i, n = TM_MIN(top, in->symbols.n);
    double maxn = n > 0 ? (double)v[0]->n : 1;

    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"%zu\">\n",
            n * 22 + 10);
    for (i = 0; i < n; i++) {
        double w = 500.0 * (double)v[i]->n / maxn, y = 5 + 22.0 * (double)i;
        fprintf(f, "<text x=\"290\" y=\"%.0f\" text-anchor=\"end\" class=\"lb\">", y + 14);
        html_esc(f, v[i]->k, TM_MIN(v[i]->klen, (size_t)48));
        fprintf(f,
                "</text><rect x=\"300\" y=\"%.0f\" width=\"%.1f\" height=\"16\" fill=\"#3f51b5\"/>"
                "<text x=\"%.1f\" y=\"%.0f\" class=\"lb\">%llu (%.1f%%)</text>\n",
                y, w, 305 + w, y + 14, (unsigned long long)v[i]->n,
                in->messages ? 100.0 * (double)v[i]->n / (double)in->messages : 0.0);
    }
    fputs("</svg>\n", f);
    tm_free(v);
}

/* html_latency_chart - histogram of the (sorted) samples in equal bins up to max */
static void
html_latency_chart(FILE *f, const struct insights *in)
{
    uint64_t bins[INS_HIST_BINS] = {0}, maxb = 1;
    double top = in->nlat > 0 ? in->lat[in->nlat - 1] : 0, bw = 36;
    size_t i, b;

    if (top <= 0)
        top = 1;
    for (i = 0; i < in->nlat; i++) {
        b = (size_t)(in->lat[i] / top * INS_HIST_BINS);
        bins[TM_MIN(b, (size_t)INS_HIST_BINS - 1)]++;
    }
    for (b = 0; b < INS_HIST_BINS; b++)
        maxb = TM_MAX(maxb, bins[b]);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"260\">\n",
            60 + bw * INS_HIST_BINS + 20);
    fprintf(f, "<text x=\"4\" y=\"24\" class=\"ax\">%llu</text>\n", (unsigned long long)maxb);
    for (b = 0; b < INS_HIST_BINS; b++) {
        double h = 200.0 * (double)bins[b] / (double)maxb, x = 60 + bw * (double)b;
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#009688\">"
                "<title>%.3f-%.3f ms: %llu</title></rect>\n",
                x, 220 - h, bw * 0.9, h, top * (double)b / INS_HIST_BINS,
                top * (double)(b + 1) / INS_HIST_BINS, (unsigned long long)bins[b]);
    }
    fprintf(f,
            "<text x=\"60\" y=\"240\" class=\"ax\">0 ms</text>"
            "<text x=\"%.0f\" y=\"240\" class=\"ax\" text-anchor=\"end\">%.3f ms</text>\n",
            60 + bw * INS_HIST_BINS, top);
    fputs("</svg>\n", f);
}

static void
html_table(FILE *f, const struct ctr *c, const char *title, size_t top)
{
    struct ctr_ent **v = ctr_sorted(c, 1);
    size_t i;

    fprintf(f, "<h2>%s</h2>\n<table><tr><th>count</th><th>value</th></tr>\n", title);
    for (i = 0; i < c->n && i < top; i++) {
        fprintf(f, "<tr><td class=\"n\">%llu</td><td>", (unsigned long long)v[i]->n);
        html_esc(f, v[i]->k, v[i]->klen);
        fputs("</td></tr>\n", f);
    }
    if (c->other > 0)
        fprintf(f, "<tr><td class=\"n\">%llu</td><td>(other)</td></tr>\n",
                (unsigned long long)c->other);
    fputs("</table>\n", f);
    tm_free(v);
}

static int
write_html(const char *path, const struct insights *in, struct ctr_ent **hours,
           struct ctr_ent **acts, size_t top)
{
    FILE *f = fopen(path, "w");
    int bad;

    if (f == NULL) {
        fprintf(stderr, "tamis insights: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<title>Tamis insights</title>\n<style>\n"
          "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\n"
          "table{border-collapse:collapse;margin-bottom:1em}\n"
          "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}\n"
          "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
          ".ax,.lb{font-size:11px;fill:#444}\n"
          ".sw{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}\n"
          "</style></head><body>\n<h1>Tamis insights</h1>\n",
          f);
    fprintf(f, "<p>%llu messages, %llu bad lines.</p>\n", (unsigned long long)in->messages,
            (unsigned long long)in->bad);
    fputs("<h2>Actions per hour (UTC)</h2>\n", f);
    html_actions_chart(f, in, hours, acts);
    fputs("<h2>Top symbols</h2>\n", f);
    html_symbols_chart(f, in, top);
    fputs("<h2>Scan latency</h2>\n", f);
    if (in->nlat > 0)
        fprintf(f, "<p>p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms (%llu samples)</p>\n",
                pct(in, 0.50), pct(in, 0.90), pct(in, 0.99), in->lat_max,
                (unsigned long long)in->lat_seen);
    html_latency_chart(f, in);
    html_table(f, &in->urls, "Top blocked URLs", top);
    html_table(f, &in->domains, "Top blocked domains", top);
    html_table(f, &in->av, "Top AV signatures", top);
    fputs("</body></html>\n", f);
    bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "tamis insights: %s: write error\n", path);
        return -1;
    }
    return 0;
}

/* ---- command ---- */

static void
insights_usage(void)
{
    fputs("usage: tamis insights [--html OUT.html] [--top N] LOG...\n", stderr);
}

static int
parse_top(const char *s, size_t *top)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > INS_MAX_TOP)
        return -1;
    *top = (size_t)v;
    return 0;
}

static int
read_logs(struct insights *in, int argc, char **argv, int i)
{
    struct tm_jparser jp;
    int rc = 0;

    memset(&jp, 0, sizeof(jp));
    for (; i < argc; i++) {
        int is_stdin = strcmp(argv[i], "-") == 0;
        FILE *f = is_stdin ? stdin : fopen(argv[i], "r");
        if (f == NULL) {
            fprintf(stderr, "tamis insights: %s: %s\n", argv[i], strerror(errno));
            rc = 2;
            continue;
        }
        if (read_log(in, &jp, f) < 0) {
            fprintf(stderr, "tamis insights: %s: read error\n", argv[i]);
            rc = 2;
        }
        if (!is_stdin)
            fclose(f);
    }
    tm_free(jp.v);
    return rc;
}

int
tamis_insights_main(int argc, char **argv)
{
    struct insights in;
    struct ctr_ent **hours, **acts;
    const char *html = NULL;
    size_t top = 10;
    int i, rc;

    for (i = 0; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        if (strcmp(argv[i], "--html") == 0 && i + 1 < argc) {
            html = argv[++i];
        } else if (strcmp(argv[i], "--top") == 0 && i + 1 < argc) {
            if (parse_top(argv[++i], &top) < 0) {
                fprintf(stderr, "tamis insights: --top wants 1..%d\n", INS_MAX_TOP);
                return 2;
            }
        } else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else {
            insights_usage();
            return 2;
        }
    }
    if (i >= argc) {
        insights_usage();
        return 2;
    }
    memset(&in, 0, sizeof(in));
    in.rng = 0x9E3779B97F4A7C15ull;
    rc = read_logs(&in, argc, argv, i);
    if (in.nlat > 0)
        qsort(in.lat, in.nlat, sizeof(*in.lat), cmp_double);
    hours = ctr_sorted(&in.hours, 0);
    acts = ctr_sorted(&in.actions, 0);
    qsort(acts, in.actions.n, sizeof(*acts), cmp_action);
    print_text(&in, hours, acts, top);
    if (html != NULL && write_html(html, &in, hours, acts, top) < 0)
        rc = 2;
    if (in.bad > 0)
        fprintf(stderr, "tamis insights: %llu malformed line(s) skipped (%llu too long)\n",
                (unsigned long long)in.bad, (unsigned long long)in.toolong);
    if (fflush(stdout) != 0)
        rc = 2;
    tm_free(hours);
    tm_free(acts);
    tm_free(in.lat);
    ctr_free(&in.hours);
    ctr_free(&in.actions);
    ctr_free(&in.hour_action);
    ctr_free(&in.symbols);
    ctr_free(&in.urls);
    ctr_free(&in.domains);
    ctr_free(&in.av);
    return rc;
}
