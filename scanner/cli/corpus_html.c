/*
 * corpus_html.c - the HTML report of `tamis corpus`: one self-contained
 * HTML5 file (no external asset, no font, no image by URL) that opens
 * offline. Sections: summary, score histograms for ham and spam, ROC curve
 * (linear and log-x), per-rule table, false positives and false negatives,
 * then the baseline comparison and the score fit when the run has them.
 *
 * Every chart is inline SVG drawn here, so the page reads the same with
 * JavaScript disabled. The one small script only sorts tables, filters the
 * rule table by name and marks <body data-ready="1"> once it ran (the check
 * script tests/corpus/check-html-report looks for that); it never contains
 * data. With "#tm-selftest" in the URL it also sorts the rule table a few
 * ways, checks the order and sets <body data-selftest="pass">.
 *
 * Invariants:
 *   - every string from the corpus or the rules (file names, rule names,
 *     descriptions, paths) is untrusted and goes through esc(): & < > " '
 *     become entities, control bytes and ill-formed UTF-8 become U+FFFD,
 *     in text, attributes and SVG text alike; none of it reaches <script>;
 *   - a NaN or infinite number prints as a dash in text and as a clamped
 *     finite coordinate in SVG, never as "nan" inside an attribute;
 *   - each FP / FN list shows at most CH_MAX_LIST messages, the comparison
 *     table at most CH_MAX_CHANGES rules; the rest are counted.
 */
#include "cli/corpus.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define CH_MAX_LIST    500   /* messages per FP / FN list */
#define CH_MAX_CHANGES 2000  /* rules in the baseline comparison table */
#define CH_HIST_BINS   60    /* at most this many histogram bins (a round width, so 24-60) */
#define CH_HIST_CLIP   0.005 /* share of scores clipped into each end bin */
#define DASH           "\xe2\x80\x93"
#define ARROW          " \xe2\x86\x92 "

/* histogram geometry (pixels) */
#define H_X0  64.0
#define H_PW  780.0
#define H_PH  150.0
#define H_T0  46.0 /* top of the ham panel */
#define H_GAP 48.0 /* between the panels */
#define H_W   870.0

/* ROC geometry */
#define R_X0 62.0
#define R_Y0 40.0
#define R_S  320.0
#define R_W  410.0
#define R_H  420.0

static const char ham_color[] = "#1f77b4";
static const char spam_color[] = "#d62728";
static const char roc_color[] = "#2ca02c";

/* ---- output helpers ---- */

/* utf8_seq - length of the well-formed UTF-8 sequence at p (NUL-terminated), 0 if ill-formed */
static size_t
utf8_seq(const unsigned char *p)
{
    unsigned char c = p[0];
    unsigned long cp;
    size_t n, i;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    for (i = 1; i < n; i++) { /* a NUL is not a continuation byte, so this stops there */
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    if (n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
        return 0;
    if (n == 4 && (cp < 0x10000 || cp > 0x10ffff))
        return 0;
    return n;
}

/*
 * esc - write an untrusted string as HTML text or as a quoted attribute
 * value (both are safe with the same escaping). & < > " ' become entities so
 * nothing can end an attribute, a tag or an element early; control bytes and
 * ill-formed UTF-8 become U+FFFD so the file stays valid UTF-8 whatever the
 * corpus file names are made of. NULL writes nothing.
 */
static void
esc(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n;

    if (p == NULL)
        return;
    while (*p != '\0') {
        switch (*p) {
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
            if (*p < 0x20 || *p == 0x7f) {
                fputs("&#xFFFD;", f);
                break;
            }
            n = utf8_seq(p);
            if (n == 0) {
                fputs("&#xFFFD;", f);
                break;
            }
            fwrite(p, 1, n, f);
            p += n;
            continue;
        }
        p++;
    }
}

/* num - v with prec decimals (%g when huge, not 300 digits), a dash when NaN or infinite */
static void
num(FILE *f, double v, int prec)
{
    if (!isfinite(v))
        fputs(DASH, f);
    else if (fabs(v) >= 1e9)
        fprintf(f, "%g", v);
    else
        fprintf(f, "%.*f", prec, v);
}

/* snum - like num with an explicit sign, for differences */
static void
snum(FILE *f, double v, int prec)
{
    if (!isfinite(v))
        fputs(DASH, f);
    else if (fabs(v) >= 1e9)
        fprintf(f, "%+g", v);
    else
        fprintf(f, "%+.*f", prec, v);
}

/* pct - a fraction as a percentage; small ones get more decimals so 0.04% is not 0.0% */
static void
pct(FILE *f, double frac)
{
    if (!isfinite(frac))
        fputs(DASH, f);
    else if (fabs(frac) >= 1e7)
        fprintf(f, "%g%%", 100.0 * frac);
    else
        fprintf(f, "%.*f%%", fabs(frac) < 0.01 && frac != 0 ? 3 : 2, 100.0 * frac);
}

/* count - n with thousands separators, for prose and cards (never in sortable cells) */
static void
count(FILE *f, uint64_t n)
{
    char d[24];
    int len = snprintf(d, sizeof(d), "%llu", (unsigned long long)n), i;

    for (i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            putc(',', f);
        putc(d[i], f);
    }
}

/* fin - a coordinate: v when finite, else 0 (SVG rejects nan/inf) */
static double
fin(double v)
{
    return isfinite(v) ? v : 0.0;
}

static double
clamp(double v, double lo, double hi)
{
    v = fin(v);
    return v < lo ? lo : v > hi ? hi : v;
}

/* nice_step - the 1, 2, 2.5 or 5 times a power of ten nearest above raw, for bins and ticks */
static double
nice_step(double raw)
{
    double m, x;

    if (!isfinite(raw) || raw <= 0)
        return 1;
    m = pow(10, floor(log10(raw)));
    x = raw / m;
    if (x <= 1)
        return m;
    if (x <= 2)
        return 2 * m;
    if (x <= 2.5)
        return 2.5 * m;
    if (x <= 5)
        return 5 * m;
    return 10 * m;
}

/* step_prec - decimals needed to print multiples of step exactly (0.25 -> 2) */
static int
step_prec(double step)
{
    int p;
    double s = step;

    for (p = 0; p < 6; p++, s *= 10)
        if (fabs(s - round(s)) < 1e-6 * (s > 1 ? s : 1))
            return p;
    return 6;
}

/* ---- page frame ---- */

static const char page_css[] =
    ":root{--fg:#1d2330;--mut:#5d6676;--bd:#dde1e8;--bg:#f6f7f9}\n"
    "*{box-sizing:border-box}\n"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "margin:0;color:var(--fg);background:#fff}\n"
    "header{background:#1d2330;color:#fff;padding:14px 32px}\n"
    "header h1{margin:0;font-size:20px;font-weight:600}\n"
    "header p{margin:2px 0 0;color:#b3bccb;font-size:12.5px}\n"
    "nav{position:sticky;top:0;z-index:3;background:#fff;border-bottom:1px solid var(--bd);"
    "padding:7px 32px}\n"
    "nav a{color:#344054;text-decoration:none;margin-right:18px;font-size:13px}\n"
    "nav a:hover{text-decoration:underline}\n"
    "main{padding:4px 32px 48px;max-width:1500px}\n"
    "h2{font-size:17px;margin:30px 0 10px;padding-bottom:4px;border-bottom:2px solid #e6e9ef}\n"
    "h3{font-size:14px;margin:16px 0 6px}\n"
    "p.note{color:var(--mut);font-size:12.5px;margin:4px 0 10px}\n"
    ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:10px;"
    "margin:10px 0 16px}\n"
    ".card{border:1px solid var(--bd);border-radius:6px;padding:8px 12px;background:var(--bg)}\n"
    ".card .k{font-size:11px;color:var(--mut);text-transform:uppercase;letter-spacing:.04em}\n"
    ".card .v{font-size:20px;font-weight:600;font-variant-numeric:tabular-nums}\n"
    ".card .d{font-size:12px;color:var(--mut)}\n"
    ".row{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}\n"
    "figure{margin:0}\n"
    "figcaption{font-size:12.5px;color:var(--mut);max-width:870px}\n"
    "table{border-collapse:collapse;font-size:13px;margin:4px 0 8px}\n"
    "th,td{padding:3px 8px;border-bottom:1px solid #e8ebf0;text-align:left;vertical-align:top}\n"
    "th{background:#eef1f5;font-weight:600;white-space:nowrap}\n"
    "table.sortable th{cursor:pointer;user-select:none;position:sticky;top:33px;z-index:1}\n"
    "table.sortable th[aria-sort=ascending]::after{content:' \\25B2';font-size:9px}\n"
    "table.sortable th[aria-sort=descending]::after{content:' \\25BC';font-size:9px}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "tbody tr:hover td{background:#f7f9fc}\n"
    "td.nm{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:12.5px;"
    "white-space:nowrap}\n"
    "td.ov,td.sy{font-size:12px;color:#3b4352}\n"
    "td.msg{word-break:break-all;min-width:380px;max-width:820px}\n"
    ".off{color:var(--mut);font-size:12px}\n"
    ".tag{display:inline-block;font:10.5px system-ui,sans-serif;padding:0 5px;margin-left:6px;"
    "border-radius:8px;background:#e6e9ef;color:#4a5263;vertical-align:1px}\n"
    ".tag.bad{background:#fde2e0;color:#8a1c12}\n"
    ".sym{white-space:nowrap;margin-right:10px;font-family:ui-monospace,'DejaVu Sans Mono',"
    "monospace}\n"
    "tr.nohit td{color:#a0a7b3}\n"
    "tr.sub td.nm{padding-left:22px}\n"
    "tr.sub,tr.fx{display:none}\n"
    "#showsub:checked~.tw tr.sub{display:table-row}\n"
    "#rules tr.fx{display:none!important}\n"
    ".ctl{margin:6px 0 8px;font-size:13px;display:flex;gap:18px;align-items:center}\n"
    ".ctl input[type=search]{font:inherit;padding:3px 8px;border:1px solid #c4cad4;"
    "border-radius:4px;width:260px}\n"
    ".js{display:none}\nbody[data-ready] .js{display:inline}\n"
    "table.cm td,table.cm th{padding:6px 14px;text-align:right}\n"
    "table.cm td.ok{background:#e7f4ea}\ntable.cm td.er{background:#fbeaea;font-weight:600}\n"
    ".better{color:#0b6b3a}\n.worse{color:#a3130f}\n"
    "svg text{font:11px system-ui,'DejaVu Sans',sans-serif;fill:#3b4352}\n"
    "svg .ttl{font-size:13px;font-weight:600;fill:#1d2330}\n"
    "svg .lbl{font-size:12px;font-weight:600}\n";

/*
 * page_js - sorting and filtering only. Cells sort on data-v when present,
 * else on their text; numeric columns (th data-t="n") parse as numbers with
 * anything unparsable (a dash) lowest. Sorting is stable: ties keep the
 * order of the previous sort, so S/O then spam hits works by two clicks.
 * Keys are read from the DOM once per row and column and cached, and rows
 * move with one DocumentFragment, so thousands of rules sort quickly. The
 * first click on the column the page came sorted by reverses it. No data
 * is ever placed in here.
 */
static const char page_js[] =
    "(function(){'use strict';\n"
    "var B=document.body;\n"
    "function key(tr,c,n){var k=tr.tmK||(tr.tmK={});if(c in k)return k[c];"
    "var td=tr.cells[c],v=td?td.getAttribute('data-v'):'';"
    "if(v===null)v=td.textContent;"
    "if(n){v=parseFloat(v);if(isNaN(v))v=-Infinity;}else v=v.toLowerCase();return k[c]=v;}\n"
    "function setup(t){var tb=t.tBodies[0],hs=t.tHead.rows[0].cells,cur=-1,dir=1,i;\n"
    " function sortBy(c,d){var n=hs[c].getAttribute('data-t')==='n',j,"
    "rs=Array.prototype.slice.call(tb.rows),ks=[];\n"
    "  for(j=0;j<rs.length;j++)ks.push([key(rs[j],c,n),j,rs[j]]);\n"
    "  ks.sort(function(a,b){return a[0]<b[0]?-d:a[0]>b[0]?d:a[1]-b[1];});\n"
    "  var fr=document.createDocumentFragment();"
    "for(j=0;j<ks.length;j++)fr.appendChild(ks[j][2]);tb.appendChild(fr);\n"
    "  for(j=0;j<hs.length;j++)hs[j].removeAttribute('aria-sort');"
    "hs[c].setAttribute('aria-sort',d>0?'ascending':'descending');cur=c;dir=d;}\n"
    " for(i=0;i<hs.length;i++){var s=hs[i].getAttribute('aria-sort');"
    "if(s){cur=i;dir=s==='ascending'?1:-1;}\n"
    "  (function(c){hs[c].title='sort';hs[c].addEventListener('click',function(){"
    "sortBy(c,cur===c?-dir:(hs[c].getAttribute('data-t')==='n'?-1:1));});})(i);}\n"
    " t.tmSort=sortBy;return tb.rows.length;}\n"
    "var ts=document.querySelectorAll('table.sortable'),n=0,i;\n"
    "for(i=0;i<ts.length;i++)n+=setup(ts[i]);\n"
    "var rt=document.getElementById('rules'),fi=document.getElementById('rfilter'),"
    "cnt=document.getElementById('rcount');\n"
    "function filt(){var q=fi.value.toLowerCase(),rs=rt.tBodies[0].rows,k=0,j;\n"
    " for(j=0;j<rs.length;j++){var hit=key(rs[j],0,false).indexOf(q)>=0;"
    "rs[j].classList.toggle('fx',!hit);if(hit)k++;}\n"
    " if(cnt)cnt.textContent=q?k+' of '+rs.length+' rules match':'';return k;}\n"
    "if(rt&&fi)fi.addEventListener('input',filt);\n"
    "if(rt&&fi&&location.hash==='#tm-selftest'){var ok=true,why='',rs=rt.tBodies[0].rows;\n"
    " function chk(c,n,d){rt.tmSort(c,d);for(var j=1;j<rs.length;j++){"
    "var a=key(rs[j-1],c,n),b=key(rs[j],c,n);"
    "if(d>0?a>b:a<b){ok=false;why='column '+c+' row '+j;}}}\n"
    " chk(0,false,1);chk(1,true,-1);chk(2,true,-1);chk(6,true,-1);chk(0,false,-1);\n"
    " var h1=rt.tHead.rows[0].cells[1];h1.click();"
    "if(h1.getAttribute('aria-sort')!=='descending'){ok=false;why='header click';}\n"
    " if(rs.length!==+rt.getAttribute('data-rows')){ok=false;why='rows lost';}\n"
    " if(rs.length){var q=key(rs[rs.length-1],0,false);fi.value=q;"
    "var m=filt(),all=true,j;for(j=0;j<rs.length;j++)"
    "if(!rs[j].classList.contains('fx')&&key(rs[j],0,false).indexOf(q)<0)all=false;"
    "if(m<1||!all){ok=false;why='filter';}fi.value='';"
    "if(filt()!==rs.length){ok=false;why='filter reset';}}\n"
    " B.setAttribute('data-selftest',ok?'pass':'fail: '+why);}\n"
    "B.setAttribute('data-rows',String(rt?rt.tBodies[0].rows.length:0));\n"
    "B.setAttribute('data-sortable',String(n));\n"
    "B.setAttribute('data-ready','1');\n"
    "})();\n";

static void
card(FILE *f, const char *k)
{
    fprintf(f, "<div class=\"card\"><div class=\"k\">%s</div><div class=\"v\">", k);
}

static void
card_end(FILE *f, const char *detail_open)
{
    fputs("</div>", f);
    if (detail_open != NULL)
        fputs(detail_open, f);
}

/* ---- summary ---- */

static void
confusion_table(FILE *f, const struct tm_corpus_confusion *c)
{
    fputs("<table class=\"cm\"><thead><tr><th></th><th>classed ham</th><th>classed spam</th>"
          "</tr></thead><tbody>\n",
          f);
    fprintf(f, "<tr><th>ham</th><td class=\"ok\">TN %llu</td><td class=\"er\">FP %llu</td></tr>\n",
            (unsigned long long)c->tn, (unsigned long long)c->fp);
    fprintf(f, "<tr><th>spam</th><td class=\"er\">FN %llu</td><td class=\"ok\">TP %llu</td></tr>\n",
            (unsigned long long)c->fn, (unsigned long long)c->tp);
    fputs("</tbody></table>\n", f);
}

static void
sources_table(FILE *f, const struct tm_corpus_run *r)
{
    size_t i;

    if (r->nsources == 0)
        return;
    fputs("<h3>Sources</h3>\n<table><thead><tr><th>path</th><th>kind</th><th>label</th>"
          "<th class=\"n\">messages</th></tr></thead><tbody>\n",
          f);
    for (i = 0; i < r->nsources; i++) {
        const struct tm_corpus_source *s = &r->sources[i];
        fputs("<tr><td class=\"msg\">", f);
        esc(f, s->path);
        fputs("</td><td>", f);
        esc(f, s->kind);
        fprintf(f, "</td><td>%s</td><td class=\"n\">%llu</td></tr>\n", s->spam ? "spam" : "ham",
                (unsigned long long)s->messages);
    }
    fputs("</tbody></table>\n", f);
}

/*
 * summary - the numbers a rule author looks at first: how many messages,
 * where the threshold sits, the confusion matrix and the rates derived from
 * it, the AUC (threshold-free), and how fast the run went.
 */
static void
summary(FILE *f, const struct tm_corpus_run *r)
{
    const struct tm_corpus_confusion *c = &r->conf;

    fputs("<section id=\"summary\"><h2>Summary</h2>\n<div class=\"cards\">\n", f);
    card(f, "messages");
    count(f, r->nham + r->nspam);
    card_end(f, "<div class=\"d\">");
    count(f, r->nham);
    fputs(" ham, ", f);
    count(f, r->nspam);
    fputs(" spam", f);
    if (r->errors > 0) {
        fputs(", ", f);
        count(f, r->errors);
        fputs(" unreadable", f);
    }
    fputs("</div></div>\n", f);
    card(f, "threshold");
    num(f, c->threshold, 2);
    card_end(f, "<div class=\"d\">score &ge; threshold is spam</div></div>\n");
    card(f, "false positive rate");
    pct(f, c->fp_rate);
    card_end(f, "<div class=\"d\">");
    fprintf(f, "%llu ham classed spam</div></div>\n", (unsigned long long)c->fp);
    card(f, "false negative rate");
    pct(f, c->fn_rate);
    card_end(f, "<div class=\"d\">");
    fprintf(f, "%llu spam missed</div></div>\n", (unsigned long long)c->fn);
    card(f, "precision");
    pct(f, c->precision);
    card_end(f, "</div>\n");
    card(f, "recall");
    pct(f, c->recall);
    card_end(f, "</div>\n");
    card(f, "error rate");
    pct(f, c->error_rate);
    card_end(f, "<div class=\"d\">accuracy ");
    pct(f, c->accuracy);
    fputs("</div></div>\n", f);
    card(f, "ROC AUC");
    num(f, r->auc, 4);
    card_end(f, "</div>\n");
    card(f, "throughput");
    num(f, r->msgs_per_s, 0);
    card_end(f, "<div class=\"d\">msgs/s, ");
    num(f, r->mb_per_s, 2);
    fprintf(f, " MB/s, %u jobs</div></div>\n", r->jobs);
    card(f, "run time");
    num(f, r->secs, 2);
    card_end(f, "<div class=\"d\">seconds, ");
    num(f, (double)r->bytes / 1e6, 1);
    fputs(" MB scanned</div></div>\n", f);
    fputs("</div>\n<div class=\"row\"><div><h3>Confusion matrix</h3>\n", f);
    confusion_table(f, c);
    fputs("</div><div>", f);
    sources_table(f, r);
    fputs("</div></div>\n</section>\n", f);
}

/* ---- score histograms ---- */

struct hist {
    double lo, hi, step; /* bins [lo + k step, lo + (k+1) step), k < nbins */
    size_t nbins;
    uint64_t *n[2]; /* per bin, [0] ham, [1] spam */
    uint64_t max[2], total[2];
    uint64_t below, above, nonfinite; /* clipped into the end bins; not drawn */
    double min, max_score;            /* of the finite scores */
};

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/*
 * hist_range - bins that show the bulk of the scores: from the 0.5th to the
 * 99.5th percentile of all finite scores (so one 500-point outlier does not
 * squash everything into two bars), widened to contain the threshold, with
 * a round bin width. Scores outside land in the end bins and are counted.
 */
static void
hist_range(struct hist *h, const struct tm_corpus_run *r)
{
    double *v = tm_xmalloc((r->nmsgs ? r->nmsgs : 1) * sizeof(*v)), lo, hi, thr = r->conf.threshold;
    size_t i, n = 0;

    for (i = 0; i < r->nmsgs; i++)
        if (isfinite(r->msgs[i].score))
            v[n++] = r->msgs[i].score;
    if (n > 0) {
        qsort(v, n, sizeof(*v), cmp_double);
        lo = v[(size_t)(CH_HIST_CLIP * (double)(n - 1))];
        hi = v[(size_t)((1 - CH_HIST_CLIP) * (double)(n - 1))];
    } else {
        lo = hi = 0;
    }
    tm_free(v);
    if (isfinite(thr)) {
        lo = fmin(lo, thr);
        hi = fmax(hi, thr);
    }
    /* beyond +-1e9 the bin arithmetic loses precision; such scores go to the end bins */
    lo = clamp(lo, -1e9, 1e9);
    hi = clamp(hi, -1e9, 1e9);
    if (hi - lo < 1e-9) {
        lo -= 1;
        hi += 1;
    }
    h->step = nice_step((hi - lo) / CH_HIST_BINS);
    h->lo = floor(lo / h->step) * h->step;
    h->hi = ceil(hi / h->step) * h->step;
    if (isfinite(thr) && thr >= h->hi - h->step * 1e-9)
        h->hi += h->step; /* room right of a threshold at the top score */
    h->nbins = (size_t)llround((h->hi - h->lo) / h->step);
    if (h->nbins < 1)
        h->nbins = 1;
}

static void
hist_fill(struct hist *h, const struct tm_corpus_run *r)
{
    size_t i, k;

    memset(h, 0, sizeof(*h));
    hist_range(h, r);
    h->n[0] = tm_xcalloc(h->nbins, sizeof(uint64_t));
    h->n[1] = tm_xcalloc(h->nbins, sizeof(uint64_t));
    for (i = 0; i < r->nmsgs; i++) {
        double s = r->msgs[i].score;
        int lab = r->msgs[i].spam != 0;
        if (!isfinite(s)) {
            h->nonfinite++;
            continue;
        }
        if (h->total[0] + h->total[1] == 0 || s < h->min)
            h->min = s;
        if (h->total[0] + h->total[1] == 0 || s > h->max_score)
            h->max_score = s;
        if (s < h->lo) {
            k = 0;
            h->below++;
        } else if (s >= h->hi) {
            k = h->nbins - 1;
            h->above++;
        } else {
            k = (size_t)((s - h->lo) / h->step);
            if (k >= h->nbins)
                k = h->nbins - 1;
        }
        h->n[lab][k]++;
        h->total[lab]++;
    }
    for (k = 0; k < h->nbins; k++) {
        h->max[0] = TM_MAX(h->max[0], h->n[0][k]);
        h->max[1] = TM_MAX(h->max[1], h->n[1][k]);
    }
}

static double
hist_x(const struct hist *h, double s)
{
    return H_X0 + clamp((s - h->lo) / (h->hi - h->lo), 0, 1) * H_PW;
}

/* hist_axes - one panel's y grid and ticks, baseline and x tick labels */
static void
hist_axes(FILE *f, const struct hist *h, double top, double ytop, double ystep)
{
    double v, y, base = top + H_PH, xstep = nice_step((h->hi - h->lo) / 10), k0;
    int yp = step_prec(ystep), xp = step_prec(xstep), k;

    for (k = 0; k <= 12 && (v = ystep * k) <= ytop + ystep * 1e-9; k++) {
        y = base - H_PH * v / ytop;
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e6eb\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n",
                H_X0, y, H_X0 + H_PW, y, H_X0 - 6, y + 4, yp, v);
    }
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#8a919c\"/>\n", H_X0,
            base, H_X0 + H_PW, base);
    k0 = ceil(h->lo / xstep);
    for (k = 0; k <= 24 && (v = (k0 + k) * xstep) <= h->hi + xstep * 1e-9; k++) {
        double x = hist_x(h, v);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#8a919c\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.*f</text>\n",
                x, base, x, base + 4, x, base + 16, xp, fabs(v) < xstep * 1e-9 ? 0.0 : v);
    }
}

/* hist_panel - the bars of one label, scaled to that label's tallest bin */
static void
hist_panel(FILE *f, const struct hist *h, int lab, double top)
{
    const char *col = lab ? spam_color : ham_color, *what = lab ? "spam" : "ham";
    double ystep = nice_step((double)(h->max[lab] ? h->max[lab] : 1) / 4);
    double ytop = ceil((double)(h->max[lab] ? h->max[lab] : 1) / ystep) * ystep;
    double bw = H_PW / (double)h->nbins, gap = bw >= 4 ? 1 : 0;
    int p = step_prec(h->step);
    size_t k;

    hist_axes(f, h, top, ytop, ystep);
    for (k = 0; k < h->nbins; k++) {
        double a = h->lo + h->step * (double)k, bh = H_PH * (double)h->n[lab][k] / ytop;
        if (h->n[lab][k] == 0)
            continue;
        if (bh < 2)
            bh = 2; /* one ham message right of the threshold must stay visible */
        fprintf(f,
                "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\">"
                "<title>%s, score ",
                H_X0 + bw * (double)k + gap / 2, top + H_PH - bh, bw - gap, bh, col, what);
        if (k == 0 && h->below > 0)
            fprintf(f, "&lt; %.*f", p, a + h->step);
        else if (k + 1 == h->nbins && h->above > 0)
            fprintf(f, "&ge; %.*f", p, a);
        else
            fprintf(f, "%.*f to %.*f", p, a, p, a + h->step);
        fprintf(f, ": %llu</title></rect>\n", (unsigned long long)h->n[lab][k]);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"lbl\" style=\"fill:%s\">%s, ", H_X0 + 8,
            top + 14, col, what);
    count(f, h->total[lab]);
    fputs(" messages</text>\n", f);
    fprintf(f,
            "<text transform=\"translate(16 %.1f) rotate(-90)\" text-anchor=\"middle\">"
            "messages</text>\n",
            top + H_PH / 2);
}

/*
 * histograms - ham above spam on one score axis, each panel scaled to its
 * own tallest bar (a corpus is rarely balanced, and a shared scale would
 * flatten the smaller class), with the threshold as a dashed line across
 * both: ham right of it are the false positives, spam left of it the
 * false negatives.
 */
static void
histograms(FILE *f, const struct tm_corpus_run *r)
{
    struct hist h;
    double top2 = H_T0 + H_PH + H_GAP, bottom = top2 + H_PH, x;

    hist_fill(&h, r);
    fputs("<figure>\n", f);
    fprintf(f,
            "<svg width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
            "aria-label=\"score histograms\">\n",
            H_W, bottom + 48, H_W, bottom + 48);
    fputs("<text x=\"64\" y=\"20\" class=\"ttl\">Score distribution by label</text>\n", f);
    hist_panel(f, &h, 0, H_T0);
    hist_panel(f, &h, 1, top2);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">score</text>\n", H_X0 + H_PW / 2,
            bottom + 38);
    if (isfinite(r->conf.threshold)) {
        x = hist_x(&h, r->conf.threshold);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222\" "
                "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">threshold ",
                x, H_T0 - 6, x, bottom, x + (x > H_X0 + H_PW - 100 ? -4 : 4), H_T0 - 8,
                x > H_X0 + H_PW - 100 ? "end" : "start");
        num(f, r->conf.threshold, 2);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n<figcaption>Bin width ", f);
    num(f, h.step, step_prec(h.step));
    fputs(". Each panel has its own vertical scale.", f);
    if (h.below > 0)
        fprintf(f, " The first bin also holds %llu lower score(s), down to %.6g.",
                (unsigned long long)h.below, h.min);
    if (h.above > 0)
        fprintf(f, " The last bin also holds %llu higher score(s), up to %.6g.",
                (unsigned long long)h.above, h.max_score);
    if (h.nonfinite > 0)
        fprintf(f, " %llu message(s) with a non-finite score are not drawn.",
                (unsigned long long)h.nonfinite);
    fputs("</figcaption></figure>\n", f);
    tm_free(h.n[0]);
    tm_free(h.n[1]);
}

/* ---- ROC ---- */

struct roc_axis {
    int logx;
    double xmin; /* log axis: smallest FPR shown (a power of ten) */
};

static double
roc_x(const struct roc_axis *a, double fpr)
{
    double lx;

    if (!a->logx)
        return R_X0 + clamp(fpr, 0, 1) * R_S;
    lx = log10(clamp(fpr, a->xmin, 1));
    return R_X0 + (lx - log10(a->xmin)) / -log10(a->xmin) * R_S;
}

static double
roc_y(double tpr)
{
    return R_Y0 + R_S - clamp(tpr, 0, 1) * R_S;
}

static void
roc_grid(FILE *f, const struct roc_axis *a)
{
    double v, x, y;
    int k;

    for (k = 0; k <= 5; k++) {
        y = roc_y(k / 5.0);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e6eb\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%d%%</text>\n",
                R_X0, y, R_X0 + R_S, y, R_X0 - 6, y + 4, k * 20);
    }
    for (k = 0;; k++) {
        if (a->logx) {
            v = a->xmin * pow(10, k);
            if (v > 1.0000001)
                break;
        } else {
            if (k > 5)
                break;
            v = k / 5.0;
        }
        x = roc_x(a, v);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e6eb\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                x, R_Y0, x, R_Y0 + R_S, x, R_Y0 + R_S + 16);
        if (a->logx)
            fprintf(f, "%.*f%%", v >= 0.01 ? 0 : (int)llround(-log10(v)) - 2, 100 * v);
        else
            fprintf(f, "%d%%", k * 20);
        fputs("</text>\n", f);
    }
    fprintf(f,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
            "stroke=\"#8a919c\"/>\n"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">false positive rate "
            "(ham classed spam)%s</text>\n"
            "<text transform=\"translate(16 %.1f) rotate(-90)\" text-anchor=\"middle\">"
            "true positive rate (spam caught)</text>\n",
            R_X0, R_Y0, R_S, R_S, R_X0 + R_S / 2, R_Y0 + R_S + 36, a->logx ? ", log scale" : "",
            R_Y0 + R_S / 2);
}

/* roc_pt - append one polyline vertex unless it is within a pixel of the last one */
static void
roc_pt(FILE *f, double x, double y, double *lx, double *ly, int force)
{
    if (!force && fabs(x - *lx) < 0.6 && fabs(y - *ly) < 0.6)
        return;
    fprintf(f, "%.1f,%.1f ", x, y);
    *lx = x;
    *ly = y;
}

/*
 * roc_chart - the sweep as a polyline from (0,0) to (1,1): thresholds run
 * ascending, so the points are walked backwards to go left to right. A
 * sweep over every distinct score can have a point per message; vertices
 * closer than a pixel are dropped, which changes nothing visible and keeps
 * the file small. The log-x variant shows the low-FPR end that matters for
 * ham; FPR 0 is drawn at its left edge.
 */
static void
roc_chart(FILE *f, const struct tm_corpus_run *r, const struct roc_axis *a)
{
    double lx = -1, ly = -1, ox, oy;
    size_t i;

    fprintf(f,
            "<figure><svg width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
            "aria-label=\"ROC curve\">\n",
            R_W, R_H, R_W, R_H);
    fprintf(f, "<text x=\"%.1f\" y=\"22\" class=\"ttl\">", R_X0);
    if (a->logx) {
        fputs("ROC, low false-positive end", f);
    } else {
        fputs("ROC curve, AUC ", f);
        num(f, r->auc, 4);
    }
    fputs("</text>\n", f);
    roc_grid(f, a);
    if (!a->logx)
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#9aa1ad\" "
                "stroke-dasharray=\"4 4\"/>\n",
                roc_x(a, 0), roc_y(0), roc_x(a, 1), roc_y(1));
    fprintf(f,
            "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2.5\" "
            "stroke-linejoin=\"round\" points=\"",
            roc_color);
    roc_pt(f, roc_x(a, 0), roc_y(0), &lx, &ly, 1);
    for (i = r->nroc; i-- > 0;) {
        const struct tm_corpus_point *p = &r->roc[i];
        if (isfinite(p->fpr) && isfinite(p->tpr))
            roc_pt(f, roc_x(a, p->fpr), roc_y(p->tpr), &lx, &ly, 0);
    }
    roc_pt(f, roc_x(a, 1), roc_y(1), &lx, &ly, 1);
    fputs("\"/>\n", f);
    ox = roc_x(a, r->conf.fp_rate);
    oy = roc_y(r->conf.recall);
    fprintf(f,
            "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#ff7f0e\" stroke=\"#222\" "
            "stroke-width=\"1.2\"><title>threshold ",
            ox, oy);
    num(f, r->conf.threshold, 2);
    fputs(": FPR ", f);
    pct(f, r->conf.fp_rate);
    fputs(", TPR ", f);
    pct(f, r->conf.recall);
    fprintf(f, "</title></circle>\n<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">threshold ",
            ox + (ox > R_X0 + R_S - 90 ? -9 : 9), oy + 16, ox > R_X0 + R_S - 90 ? "end" : "start");
    num(f, r->conf.threshold, 2);
    fputs("</text>\n</svg></figure>\n", f);
}

static void
roc_section(FILE *f, const struct tm_corpus_run *r)
{
    struct roc_axis lin = {0, 0}, lg = {1, 1e-4};
    double e;

    if (r->nham > 0) {
        e = floor(log10(1.0 / (double)r->nham));
        lg.xmin = pow(10, e < -6 ? -6 : e > -1 ? -1 : e);
    }
    fputs("<section id=\"roc\"><h2>ROC curve</h2>\n", f);
    if (r->nroc == 0 || r->nham == 0 || r->nspam == 0) {
        fputs("<p class=\"note\">No ROC curve: it needs ham and spam and a threshold sweep.</p>\n",
              f);
    } else {
        fputs("<div class=\"row\">\n", f);
        roc_chart(f, r, &lin);
        roc_chart(f, r, &lg);
        fputs("</div>\n", f);
    }
    fputs("<p class=\"note\">The orange point is the operating point at threshold ", f);
    num(f, r->conf.threshold, 2);
    fputs(": false positive rate ", f);
    pct(f, r->conf.fp_rate);
    fputs(", true positive rate ", f);
    pct(f, r->conf.recall);
    fprintf(f, ". %zu thresholds swept.</p>\n</section>\n", r->nroc);
}

/* ---- rule table ---- */

static int
cmp_rule(const void *a, const void *b)
{
    const struct tm_corpus_rule *x = *(const struct tm_corpus_rule *const *)a;
    const struct tm_corpus_rule *y = *(const struct tm_corpus_rule *const *)b;
    double sx = fin(x->so), sy = fin(y->so);

    if (sx != sy)
        return sx > sy ? -1 : 1;
    if (x->spam_hits != y->spam_hits)
        return x->spam_hits > y->spam_hits ? -1 : 1;
    if (x->ham_hits != y->ham_hits) /* ham rules (S/O 0) before rules that never hit */
        return x->ham_hits > y->ham_hits ? -1 : 1;
    return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

static void
rule_row(FILE *f, const struct tm_corpus_run *r, const struct tm_corpus_rule *ru)
{
    size_t k;

    int nohit = ru->spam_hits + ru->ham_hits == 0;

    if (ru->sub || nohit)
        fprintf(f, "<tr class=\"%s%s%s\">", ru->sub ? "sub" : "", ru->sub && nohit ? " " : "",
                nohit ? "nohit" : "");
    else
        fputs("<tr>", f);
    fputs("<td class=\"nm\" data-v=\"", f);
    esc(f, ru->name);
    fputs("\"", f);
    if (ru->describe != NULL && ru->describe[0] != '\0') {
        fputs(" title=\"", f);
        esc(f, ru->describe);
        fputs("\"", f);
    }
    fputs(">", f);
    esc(f, ru->name);
    if (ru->sub)
        fputs("<span class=\"tag\">sub</span>", f);
    if (!ru->runnable)
        fputs("<span class=\"tag bad\">not runnable</span>", f);
    fputs("</td><td class=\"n\">", f);
    num(f, ru->score, 3);
    fprintf(f, "</td><td class=\"n\">%llu</td><td class=\"n\">", (unsigned long long)ru->spam_hits);
    num(f, ru->spam_pct, 3);
    fprintf(f, "</td><td class=\"n\">%llu</td><td class=\"n\">", (unsigned long long)ru->ham_hits);
    num(f, ru->ham_pct, 3);
    fputs("</td><td class=\"n\">", f);
    num(f, ru->so, 3);
    fputs("</td><td class=\"n\">", f);
    num(f, ru->rank, 2);
    fputs("</td><td class=\"ov\">", f);
    for (k = 0; k < ru->noverlap && k < TM_CORPUS_OVERLAP; k++) {
        if (ru->overlap[k].rule >= r->nrules)
            continue;
        fputs(k ? ", " : "", f);
        esc(f, r->rules[ru->overlap[k].rule].name);
        fputs(" ", f);
        num(f, ru->overlap[k].pct, 0);
        fputs("%", f);
    }
    fputs("</td></tr>\n", f);
}

/*
 * rules_table - every rule, one row each, built here in the default order
 * (S/O, then spam hits, descending) so the page is complete without
 * JavaScript; the script only reorders rows. Sub-rules are hidden by CSS
 * and the "show sub-rules" checkbox reveals them with a sibling selector,
 * which also works without JavaScript. Rules that never hit stay, dimmed.
 */
static void
rules_table(FILE *f, const struct tm_corpus_run *r)
{
    const struct tm_corpus_rule **v = tm_xmalloc((r->nrules ? r->nrules : 1) * sizeof(*v));
    size_t i, nsub = 0, nohit = 0;

    for (i = 0; i < r->nrules; i++) {
        v[i] = &r->rules[i];
        nsub += r->rules[i].sub != 0;
        nohit += r->rules[i].spam_hits + r->rules[i].ham_hits == 0;
    }
    qsort(v, r->nrules, sizeof(*v), cmp_rule);
    fprintf(f,
            "<section id=\"rules-sec\"><h2>Rules</h2>\n<p class=\"note\">%zu rules (%zu "
            "sub-rules, %zu never hit, dimmed). Spam %% and ham %% are of the spam and ham "
            "messages; S/O is spam%% / (spam%% + ham%%). Default order: S/O, then spam hits, then "
            "ham hits. "
            "<span class=\"js\">Click a column header to sort; hover a name for its "
            "description.</span></p>\n",
            r->nrules, nsub, nohit);
    fputs("<input type=\"checkbox\" id=\"showsub\"><label for=\"showsub\"> show sub-rules</label>"
          "<span class=\"js\"> &nbsp; <input type=\"search\" id=\"rfilter\" "
          "placeholder=\"filter by rule name\" aria-label=\"filter rules by name\"> "
          "<span id=\"rcount\" class=\"off\"></span></span>\n",
          f);
    fprintf(f,
            "<div class=\"tw\"><table id=\"rules\" class=\"sortable\" data-rows=\"%zu\"><thead><tr>"
            "<th>rule</th><th class=\"n\" data-t=\"n\">score</th>"
            "<th class=\"n\" data-t=\"n\">spam hits</th><th class=\"n\" data-t=\"n\">spam %%</th>"
            "<th class=\"n\" data-t=\"n\">ham hits</th><th class=\"n\" data-t=\"n\">ham %%</th>"
            "<th class=\"n\" data-t=\"n\" aria-sort=\"descending\">S/O</th>"
            "<th class=\"n\" data-t=\"n\">rank</th><th>overlap</th></tr></thead><tbody>\n",
            r->nrules);
    for (i = 0; i < r->nrules; i++)
        rule_row(f, r, v[i]);
    fputs("</tbody></table></div>\n</section>\n", f);
    tm_free(v);
}

/* ---- false positives and false negatives ---- */

static int
cmp_msg_desc(const void *a, const void *b)
{
    const struct tm_corpus_msg *x = *(const struct tm_corpus_msg *const *)a;
    const struct tm_corpus_msg *y = *(const struct tm_corpus_msg *const *)b;

    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

static int
cmp_msg_asc(const void *a, const void *b)
{
    const struct tm_corpus_msg *x = *(const struct tm_corpus_msg *const *)a;
    const struct tm_corpus_msg *y = *(const struct tm_corpus_msg *const *)b;

    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    return cmp_msg_desc(a, b);
}

static void
msg_row(FILE *f, const struct tm_corpus_run *r, const struct tm_corpus_msg *m, size_t idx)
{
    uint32_t top[TM_CORPUS_TOP];
    size_t n = tm_corpus_top_symbols(r, m, top), k;

    fprintf(f, "<tr><td class=\"n\">%zu</td><td class=\"msg\">", idx);
    esc(f, m->name);
    if (m->offset != 0)
        fprintf(f, " <span class=\"off\">@ %llu</span>", (unsigned long long)m->offset);
    fputs("</td><td class=\"n\">", f);
    num(f, m->score, 2);
    fputs("</td><td class=\"sy\">", f);
    if (n == 0)
        fputs("<span class=\"off\">(no scored rule hit)</span>", f);
    for (k = 0; k < n; k++) {
        if (top[k] >= r->nrules)
            continue;
        fputs("<span class=\"sym\">", f);
        esc(f, r->rules[top[k]].name);
        fputs(" ", f);
        snum(f, r->rules[top[k]].score, 2);
        fputs("</span> ", f);
    }
    fputs("</td></tr>\n", f);
}

/*
 * msg_list - the misclassified messages of one label, worst first: ham by
 * score descending (the ham spam rules hate most), spam by score ascending
 * (the spam they miss most). The test is the one of tm_corpus_confusion_at,
 * score >= threshold, so the counts match the summary.
 */
static void
msg_list(FILE *f, const struct tm_corpus_run *r, int spam)
{
    const struct tm_corpus_msg **v = tm_xmalloc((r->nmsgs ? r->nmsgs : 1) * sizeof(*v));
    double thr = r->conf.threshold;
    size_t i, n = 0;

    for (i = 0; i < r->nmsgs; i++) {
        const struct tm_corpus_msg *m = &r->msgs[i];
        int pos = m->score >= thr;
        if (spam ? (m->spam && !pos) : (!m->spam && pos))
            v[n++] = m;
    }
    qsort(v, n, sizeof(*v), spam ? cmp_msg_asc : cmp_msg_desc);
    fprintf(f, "<section id=\"%s\"><h2>%s (%zu)</h2>\n", spam ? "fn" : "fp",
            spam ? "False negatives: spam below the threshold"
                 : "False positives: ham at or above the threshold",
            n);
    if (n == 0) {
        fputs("<p class=\"note\">None.</p>\n</section>\n", f);
        tm_free(v);
        return;
    }
    fprintf(f,
            "<p class=\"note\">Sorted by score, %s first; the top symbols are the scored rules "
            "with the largest |score| that hit.</p>\n"
            "<table class=\"sortable\"><thead><tr><th class=\"n\" data-t=\"n\">#</th>"
            "<th>message</th><th class=\"n\" data-t=\"n\">score</th><th>top symbols</th>"
            "</tr></thead><tbody>\n",
            spam ? "lowest" : "highest");
    for (i = 0; i < n && i < CH_MAX_LIST; i++)
        msg_row(f, r, v[i], i + 1);
    fputs("</tbody></table>\n", f);
    if (n > CH_MAX_LIST)
        fprintf(f, "<p class=\"note\">%zu more not listed.</p>\n", n - CH_MAX_LIST);
    fputs("</section>\n", f);
    tm_free(v);
}

/* ---- baseline comparison ---- */

/*
 * delta - a cell with after - before, green when it moved the good way
 * (better > 0: up is good, < 0: down is good, 0: neither) and red when it
 * moved the bad way. A change that rounds to nothing at the printed
 * precision prints as a plain 0, never as a coloured "-0.000".
 */
static void
delta(FILE *f, double before, double after, int better, int as_pct, int prec)
{
    double d = as_pct ? 100 * (after - before) : after - before;
    const char *cls = "";

    if (!isfinite(d)) {
        fputs("<td class=\"n\">" DASH "</td>", f);
        return;
    }
    if (fabs(d) < 0.5 * pow(10, -prec)) {
        fputs("<td class=\"n\" data-v=\"0\">0</td>", f);
        return;
    }
    if (better != 0)
        cls = (d > 0) == (better > 0) ? " better" : " worse";
    fprintf(f, "<td class=\"n%s\">", cls);
    snum(f, d, prec);
    fprintf(f, "%s</td>", as_pct ? " pp" : "");
}

/* cmp_row - label, before, after, change; kind 0 a number, 1 a rate (as %), 2 a count */
static void
cmp_row(FILE *f, const char *label, double before, double after, int kind, int better)
{
    fprintf(f, "<tr><th>%s</th><td class=\"n\">", label);
    if (kind == 1)
        pct(f, before);
    else
        num(f, before, kind == 2 ? 0 : 2);
    fputs("</td><td class=\"n\">", f);
    if (kind == 1)
        pct(f, after);
    else
        num(f, after, kind == 2 ? 0 : 2);
    fputs("</td>", f);
    delta(f, before, after, better, kind == 1, kind == 1 ? 3 : kind == 2 ? 0 : 2);
    fputs("</tr>\n", f);
}

/* confusion_rows - the rows the baseline and fit sections compare */
static void
confusion_rows(FILE *f, const struct tm_corpus_confusion *a, const struct tm_corpus_confusion *b)
{
    cmp_row(f, "false positives", (double)a->fp, (double)b->fp, 2, -1);
    cmp_row(f, "false negatives", (double)a->fn, (double)b->fn, 2, -1);
    cmp_row(f, "FP rate", a->fp_rate, b->fp_rate, 1, -1);
    cmp_row(f, "FN rate", a->fn_rate, b->fn_rate, 1, -1);
    cmp_row(f, "precision", a->precision, b->precision, 1, 1);
    cmp_row(f, "recall", a->recall, b->recall, 1, 1);
    cmp_row(f, "error rate", a->error_rate, b->error_rate, 1, -1);
}

struct change {
    size_t i;   /* rule index, or index into base->gone */
    int kind;   /* 0 changed, 1 new, 2 gone */
    double mag; /* ordering key, biggest first */
};

static int
cmp_change(const void *a, const void *b)
{
    const struct change *x = a, *y = b;

    if ((x->kind == 2) != (y->kind == 2))
        return x->kind == 2 ? 1 : -1;
    if (x->mag != y->mag)
        return x->mag > y->mag ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* moved - a difference visible at the printed precision; a value turning NaN counts */
static int
moved(double a, double b, double eps)
{
    if (isfinite(a) != isfinite(b))
        return 1;
    return isfinite(a) && fabs(a - b) >= eps;
}

/*
 * base_changes - the rules worth showing against the baseline: changed
 * ones (hit rates, S/O or score moved), new ones and gone ones. The order
 * key adds the hit-rate moves in points and the S/O move scaled to match,
 * so a rule that started hitting 3% more ham comes before one whose S/O
 * wobbled; gone rules, which have nothing to weigh, come last.
 */
static size_t
base_changes(const struct tm_corpus_run *r, struct change *c)
{
    const struct tm_corpus_baseline *b = r->base;
    size_t i, n = 0;

    for (i = 0; i < r->nrules; i++) {
        const struct tm_corpus_rule *ru = &r->rules[i];
        if (!b->has[i]) {
            c[n].i = i;
            c[n].kind = 1;
            c[n++].mag = fin(ru->spam_pct) + fin(ru->ham_pct);
        } else if (moved(b->spam_pct[i], ru->spam_pct, 0.0005) ||
                   moved(b->ham_pct[i], ru->ham_pct, 0.0005) || moved(b->so[i], ru->so, 0.0005) ||
                   moved(b->score[i], ru->score, 0.0005)) {
            c[n].i = i;
            c[n].kind = 0;
            c[n++].mag = fabs(fin(ru->spam_pct - b->spam_pct[i])) +
                         fabs(fin(ru->ham_pct - b->ham_pct[i])) +
                         100 * fabs(fin(ru->so - b->so[i])) + fabs(fin(ru->score - b->score[i]));
        }
    }
    for (i = 0; i < b->ngone; i++) {
        c[n].i = i;
        c[n].kind = 2;
        c[n++].mag = 0;
    }
    qsort(c, n, sizeof(*c), cmp_change);
    return n;
}

/* was_now - "old -> new" cell, or just the value when it did not move */
static void
was_now(FILE *f, double was, double now, int prec)
{
    fprintf(f, "<td class=\"n\" data-v=\"%.6g\">", fin(now));
    if (moved(was, now, 0.5 * pow(10, -prec))) {
        num(f, was, prec);
        fputs(ARROW, f);
    }
    num(f, now, prec);
    fputs("</td>", f);
}

static void
change_row(FILE *f, const struct tm_corpus_run *r, const struct change *c)
{
    const struct tm_corpus_baseline *b = r->base;
    const struct tm_corpus_rule *ru = c->kind == 2 ? NULL : &r->rules[c->i];
    int good;

    fputs("<tr><td class=\"nm\" data-v=\"", f);
    esc(f, ru ? ru->name : b->gone[c->i]);
    fputs("\">", f);
    esc(f, ru ? ru->name : b->gone[c->i]);
    fprintf(f, "</td><td>%s</td>", c->kind == 0 ? "changed" : c->kind == 1 ? "new" : "gone");
    if (ru == NULL) {
        fputs("<td></td><td></td><td></td><td></td><td></td><td></td><td></td></tr>\n", f);
        return;
    }
    if (c->kind == 1) {
        fputs("<td class=\"n\">", f);
        num(f, ru->score, 3);
        fputs("</td><td class=\"n\">", f);
        num(f, ru->spam_pct, 3);
        fputs("</td><td></td><td class=\"n\">", f);
        num(f, ru->ham_pct, 3);
        fputs("</td><td></td><td class=\"n\">", f);
        num(f, ru->so, 3);
        fputs("</td><td></td></tr>\n", f);
        return;
    }
    /* a spam rule should hit more spam and less ham, a ham rule the reverse */
    good = ru->score > 0 ? 1 : ru->score < 0 ? -1 : 0;
    was_now(f, b->score[c->i], ru->score, 3);
    was_now(f, b->spam_pct[c->i], ru->spam_pct, 3);
    delta(f, b->spam_pct[c->i], ru->spam_pct, good, 0, 3);
    was_now(f, b->ham_pct[c->i], ru->ham_pct, 3);
    delta(f, b->ham_pct[c->i], ru->ham_pct, -good, 0, 3);
    was_now(f, b->so[c->i], ru->so, 3);
    delta(f, b->so[c->i], ru->so, good, 0, 3);
    fputs("</tr>\n", f);
}

/*
 * baseline - this run against an earlier run's JSON: the overall numbers
 * side by side, then only the rules whose numbers moved, biggest first, so
 * a rule change's side effects are the first thing on the page.
 */
static void
baseline(FILE *f, const struct tm_corpus_run *r)
{
    const struct tm_corpus_baseline *b = r->base;
    struct change *c = tm_xmalloc((r->nrules + b->ngone + 1) * sizeof(*c));
    size_t n = base_changes(r, c), i;

    fputs("<section id=\"baseline\"><h2>Compared with the baseline</h2>\n<p class=\"note\">"
          "Baseline: ",
          f);
    esc(f, b->path);
    fputs(" (", f);
    count(f, b->ham);
    fputs(" ham, ", f);
    count(f, b->spam);
    fputs(" spam). Green is better, red is worse.</p>\n", f);
    fputs("<table><thead><tr><th></th><th class=\"n\">baseline</th><th class=\"n\">this run</th>"
          "<th class=\"n\">change</th></tr></thead><tbody>\n",
          f);
    cmp_row(f, "threshold", b->conf.threshold, r->conf.threshold, 0, 0);
    cmp_row(f, "ham messages", (double)b->ham, (double)r->nham, 2, 0);
    cmp_row(f, "spam messages", (double)b->spam, (double)r->nspam, 2, 0);
    confusion_rows(f, &b->conf, &r->conf);
    cmp_row(f, "msgs/s", b->msgs_per_s, r->msgs_per_s, 2, 1);
    fputs("</tbody></table>\n", f);
    fprintf(f, "<h3>Rules that changed (%zu)</h3>\n", n);
    if (n == 0) {
        fputs("<p class=\"note\">No rule's hit rates, S/O or score changed.</p>\n</section>\n", f);
        tm_free(c);
        return;
    }
    fputs("<table class=\"sortable\"><thead><tr><th>rule</th><th>change</th>"
          "<th class=\"n\" data-t=\"n\">score</th><th class=\"n\" data-t=\"n\">spam %</th>"
          "<th class=\"n\" data-t=\"n\">&Delta;</th><th class=\"n\" data-t=\"n\">ham %</th>"
          "<th class=\"n\" data-t=\"n\">&Delta;</th><th class=\"n\" data-t=\"n\">S/O</th>"
          "<th class=\"n\" data-t=\"n\">&Delta;</th></tr></thead><tbody>\n",
          f);
    for (i = 0; i < n && i < CH_MAX_CHANGES; i++)
        change_row(f, r, &c[i]);
    fputs("</tbody></table>\n", f);
    if (n > CH_MAX_CHANGES)
        fprintf(f, "<p class=\"note\">%zu more not listed.</p>\n", n - CH_MAX_CHANGES);
    fputs("</section>\n", f);
    tm_free(c);
}

/* ---- score fit ---- */

static void
fit_rows(FILE *f, const char *title, const struct tm_corpus_confusion *a,
         const struct tm_corpus_confusion *b)
{
    fprintf(f,
            "<div><h3>%s</h3><table><thead><tr><th></th><th class=\"n\">current</th>"
            "<th class=\"n\">fitted</th><th class=\"n\">change</th></tr></thead><tbody>\n",
            title);
    confusion_rows(f, a, b);
    fputs("</tbody></table></div>\n", f);
}

static int
cmp_fit(const void *a, const void *b)
{
    const struct change *x = a, *y = b;

    if (x->mag != y->mag)
        return x->mag > y->mag ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static void
fit_changes(FILE *f, const struct tm_corpus_run *r)
{
    const struct tm_corpus_fit *ft = &r->fit;
    struct change *c = tm_xmalloc((r->nrules + 1) * sizeof(*c));
    size_t i, n = 0;

    for (i = 0; ft->new_score != NULL && i < r->nrules; i++)
        if (isfinite(ft->new_score[i]) && moved(r->rules[i].score, ft->new_score[i], 0.0005)) {
            c[n].i = i;
            c[n].kind = 0;
            c[n++].mag = fabs(fin(ft->new_score[i] - r->rules[i].score));
        }
    qsort(c, n, sizeof(*c), cmp_fit);
    fprintf(f, "<h3>Scores that changed (%zu)</h3>\n", n);
    if (n > 0)
        fputs("<table class=\"sortable\"><thead><tr><th>rule</th>"
              "<th class=\"n\" data-t=\"n\">current</th><th class=\"n\" data-t=\"n\">fitted</th>"
              "<th class=\"n\" data-t=\"n\">&Delta;</th><th class=\"n\" data-t=\"n\">spam %</th>"
              "<th class=\"n\" data-t=\"n\">ham %</th><th class=\"n\" data-t=\"n\">S/O</th>"
              "</tr></thead><tbody>\n",
              f);
    for (i = 0; i < n; i++) {
        const struct tm_corpus_rule *ru = &r->rules[c[i].i];
        fputs("<tr><td class=\"nm\" data-v=\"", f);
        esc(f, ru->name);
        fputs("\">", f);
        esc(f, ru->name);
        fputs("</td><td class=\"n\">", f);
        num(f, ru->score, 3);
        fputs("</td><td class=\"n\">", f);
        num(f, ft->new_score[c[i].i], 3);
        fputs("</td>", f);
        delta(f, ru->score, ft->new_score[c[i].i], 0, 0, 3);
        fputs("<td class=\"n\">", f);
        num(f, ru->spam_pct, 3);
        fputs("</td><td class=\"n\">", f);
        num(f, ru->ham_pct, 3);
        fputs("</td><td class=\"n\">", f);
        num(f, ru->so, 3);
        fputs("</td></tr>\n", f);
    }
    if (n > 0)
        fputs("</tbody></table>\n", f);
    tm_free(c);
}

/*
 * fit - what the score fitter proposes and what it would buy: the held-out
 * numbers first (the honest estimate), then the training part and all
 * messages with the final scores, then each score that moved.
 */
static void
fit(FILE *f, const struct tm_corpus_run *r)
{
    const struct tm_corpus_fit *ft = &r->fit;

    fputs("<section id=\"fit\"><h2>Score fit</h2>\n<p class=\"note\">", f);
    fprintf(f, "%zu rules fitted; L2 weight &lambda; = ", ft->nfeatures);
    num(f, ft->lambda, 4);
    fputs(", false positive cost ", f);
    num(f, ft->fp_cost, 2);
    fputs(", ", f);
    pct(f, ft->validation);
    fprintf(f, " held out (%zu training, %zu validation messages)", ft->ntrain, ft->nval);
    if (ft->out_path != NULL) {
        fputs("; scores written to ", f);
        esc(f, ft->out_path);
    }
    fputs(".</p>\n<div class=\"row\">\n", f);
    fit_rows(f, "Validation (held out)", &ft->val_before, &ft->val_after);
    fit_rows(f, "Training", &ft->train_before, &ft->train_after);
    fit_rows(f, "All messages", &ft->all_before, &ft->all_after);
    fputs("</div>\n", f);
    fit_changes(f, r);
    fputs("</section>\n", f);
}

/* ---- the page ---- */

static void
page_head(FILE *f, const struct tm_corpus_run *r)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
          "<title>Tamis corpus report</title>\n<style>\n",
          f);
    fputs(page_css, f);
    fputs("</style></head><body>\n<header><h1>Tamis corpus report</h1><p>", f);
    count(f, r->nham + r->nspam);
    fputs(" messages &middot; threshold ", f);
    num(f, r->conf.threshold, 2);
    fputs(" &middot; rules ", f);
    if (r->rules_version != NULL && r->rules_version[0] != '\0')
        esc(f, r->rules_version);
    else
        fputs("(unversioned)", f);
    fputs("</p></header>\n<nav><a href=\"#summary\">Summary</a><a href=\"#dist\">Scores</a>"
          "<a href=\"#roc\">ROC</a><a href=\"#rules-sec\">Rules</a>"
          "<a href=\"#fp\">False positives</a><a href=\"#fn\">False negatives</a>",
          f);
    if (r->base != NULL)
        fputs("<a href=\"#baseline\">Baseline</a>", f);
    if (r->fit.done)
        fputs("<a href=\"#fit\">Fit</a>", f);
    fputs("</nav>\n<main>\n", f);
}

static void
page_body(FILE *f, const struct tm_corpus_run *r)
{
    summary(f, r);
    fputs("<section id=\"dist\"><h2>Score distribution</h2>\n", f);
    if (r->nmsgs == 0)
        fputs("<p class=\"note\">No messages.</p>\n", f);
    else
        histograms(f, r);
    fputs("</section>\n", f);
    roc_section(f, r);
    rules_table(f, r);
    msg_list(f, r, 0);
    msg_list(f, r, 1);
    if (r->base != NULL)
        baseline(f, r);
    if (r->fit.done)
        fit(f, r);
    fputs("</main>\n<script>\n", f);
    fputs(page_js, f);
    fputs("</script>\n</body></html>\n", f);
}

int
tm_corpus_write_html(const struct tm_corpus_run *r, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    int e = 0;

    if (f == NULL) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    page_head(f, r);
    page_body(f, r);
    errno = 0;
    if (fflush(f) != 0 || ferror(f))
        e = errno ? errno : EIO;
    if (fclose(f) != 0 && e == 0)
        e = errno ? errno : EIO;
    if (e != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
        return -1;
    }
    return 0;
}
