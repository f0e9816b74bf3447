/*
 * bench_mime.c - MIME parse and decode throughput: Tamis against GMime 3, on
 * the same messages, in one thread, in the same run.
 *
 * Usage: bench_mime [--iterations N] [--engine tamis|gmime|both] DIR_OR_FILE...
 *        bench_mime --diff DIR_OR_FILE...
 *
 * Every file named (directories are walked recursively; dotfiles and the
 * SpamAssassin tarballs' "cmds" index files are skipped there) is read into
 * memory before any clock starts. Then each engine makes N passes over the
 * whole set (the passes of the two engines alternate, so a noisy neighbour
 * hurts both alike) and we report the best and the median pass.
 *
 * One pass does, per message, for each engine:
 *   - parse the message from memory into a part tree;
 *   - visit every part depth-first, including multipart children and the
 *     inner message of message/rfc822 parts;
 *   - decode every header field of every part to UTF-8 (unfold, RFC 2047
 *     words, charset conversion): Tamis tm_mime_header_decode(), GMime
 *     g_mime_header_get_value(), which in 3.2 unfolds the raw value and runs
 *     _g_mime_utils_header_decode_text() on it, the same code as
 *     g_mime_utils_header_decode_text();
 *   - transfer-decode every leaf body into memory: Tamis does it inside
 *     tm_mime_parse() (part->decoded); for GMime g_mime_part_get_content()
 *     then g_mime_data_wrapper_write_to_stream() into a GMimeStreamMem, which
 *     runs the base64/QP/uu decoding filter;
 *   - free everything.
 * The counters (parts, headers, leaves, decoded bytes, UTF-8 header bytes)
 * are printed per engine with a checksum (decoded bytes + parts) so a reader
 * can see that both did comparable work. They need not match exactly: the two
 * parsers split hostile MIME differently. A message GMime cannot parse at all
 * is counted as a failure.
 *
 * The top-level part: GMime 3.2 splits a message's header section in two, the
 * Content-* fields on the top-level MIME part and all others on the
 * GMimeMessage. We decode both lists and count message + top part as one
 * part, which is what Tamis's root part is.
 *
 * --diff runs each engine once per message, untimed, and lists the messages
 * where those counters differ, so the differences behind the totals can be
 * looked at one by one.
 *
 * If an engine crashes, a signal handler prints the engine and the file it
 * was parsing before the default action runs.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "core/core.h"
#include "core/limits.h"
#include "core/task.h"
#include "mime/mime.h"

#define BENCH_DEFAULT_ITERATIONS 5
#define BENCH_MAX_ITERATIONS     1000
#define BENCH_MAX_DIR_DEPTH      64 /* our own tree, but a symlink loop must not hang us */

enum bench_engine { BENCH_TAMIS, BENCH_GMIME, BENCH__NENGINES };

static const char *const bench_engine_name[BENCH__NENGINES] = {"tamis", "gmime"};

struct bench_msg {
    char *path;
    unsigned char *data; /* g_malloc'd; Tamis reads it, GMime reads it through ba */
    size_t len;
    GByteArray *ba; /* wraps data without a copy, for GMimeStreamMem */
};

struct bench_set {
    struct bench_msg *v;
    size_t n;
    size_t cap;
    size_t bytes;
};

/* What one pass over the set did; identical for every pass of one engine. */
struct bench_stats {
    size_t messages;
    size_t failures; /* GMime: no message built; Tamis: tm_mime_parse() != TM_OK */
    size_t parts;
    size_t leaves;
    size_t headers;
    size_t header_errors; /* Tamis: tm_mime_header_decode() != TM_OK */
    size_t header_bytes;  /* UTF-8 bytes of all decoded header values */
    size_t decoded_bytes; /* transfer-decoded bytes of all leaves */
};

struct bench_result {
    int enabled;
    struct bench_stats st;
    double *secs; /* one per iteration */
};

/* For the crash handler: which engine was on which file. */
static const char *volatile bench_cur_engine = "";
static const char *volatile bench_cur_path = "";

static void
bench_crash_write(const char *s)
{
    size_t n = strlen(s);

    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, s, n);

        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* Async-signal-safe: only write(2), then the default action. */
static void
bench_crash_handler(int sig)
{
    bench_crash_write("\nbench_mime: engine ");
    bench_crash_write(bench_cur_engine);
    bench_crash_write(" crashed (");
    bench_crash_write(sig == SIGSEGV  ? "SIGSEGV"
                      : sig == SIGBUS ? "SIGBUS"
                      : sig == SIGFPE ? "SIGFPE"
                      : sig == SIGILL ? "SIGILL"
                                      : "SIGABRT");
    bench_crash_write(") on ");
    bench_crash_write(bench_cur_path);
    bench_crash_write("\n");
    signal(sig, SIG_DFL);
    raise(sig);
}

static void
bench_install_crash_handler(void)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    struct sigaction sa;
    size_t i;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = bench_crash_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* the handler restores SIG_DFL itself */
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
}

static double
bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- loading ---------------------------------------------------------- */

static void
bench_set_add(struct bench_set *set, const char *path)
{
    gchar *data = NULL;
    gsize len = 0;
    GError *err = NULL;
    struct bench_msg *m;

    if (!g_file_get_contents(path, &data, &len, &err)) {
        fprintf(stderr, "bench_mime: %s: %s\n", path, err->message);
        g_error_free(err);
        exit(1);
    }
    if (set->n == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 1024;
        set->v = g_renew(struct bench_msg, set->v, set->cap);
    }
    m = &set->v[set->n++];
    m->path = g_strdup(path);
    m->data = (unsigned char *)data;
    m->len = len;
    /*
     * g_byte_array_new_take() adopts the buffer without copying; the stream
     * made from it is told not to own it, and we free the wrapper with
     * free_segment = FALSE at the end, so the bytes are never freed twice.
     */
    m->ba = g_byte_array_new_take((guint8 *)data, len);
    set->bytes += len;
}

static int
bench_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
bench_skip_name(const char *name)
{
    return name[0] == '.' || strcmp(name, "cmds") == 0;
}

/* bench_collect - add path (a regular file, or a directory walked in name order) */
static void
bench_collect(struct bench_set *set, const char *path, int depth, int explicit_arg)
{
    struct stat sb;
    DIR *d;
    struct dirent *de;
    GPtrArray *names;
    guint i;

    if (stat(path, &sb) != 0) {
        fprintf(stderr, "bench_mime: %s: %s\n", path, strerror(errno));
        if (explicit_arg)
            exit(1);
        return;
    }
    if (S_ISREG(sb.st_mode)) {
        bench_set_add(set, path);
        return;
    }
    if (!S_ISDIR(sb.st_mode))
        return;
    if (depth >= BENCH_MAX_DIR_DEPTH) {
        fprintf(stderr, "bench_mime: %s: directories nested too deep, skipped\n", path);
        return;
    }
    if ((d = opendir(path)) == NULL) {
        fprintf(stderr, "bench_mime: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    names = g_ptr_array_new_with_free_func(g_free);
    while ((de = readdir(d)) != NULL) {
        if (!bench_skip_name(de->d_name))
            g_ptr_array_add(names, g_build_filename(path, de->d_name, NULL));
    }
    closedir(d);
    qsort(names->pdata, names->len, sizeof(gpointer), bench_cmp_str);
    for (i = 0; i < names->len; i++)
        bench_collect(set, (const char *)g_ptr_array_index(names, i), depth + 1, 0);
    g_ptr_array_free(names, TRUE);
}

static void
bench_set_free(struct bench_set *set)
{
    size_t i;

    for (i = 0; i < set->n; i++) {
        g_byte_array_free(set->v[i].ba, FALSE); /* the wrapper, not the bytes */
        g_free(set->v[i].data);
        g_free(set->v[i].path);
    }
    g_free(set->v);
}

/* ---- Tamis ------------------------------------------------------------ */

static void
bench_tamis_one(struct tm_engine *e, const struct bench_msg *m, struct bench_stats *st)
{
    struct tm_task *t;
    const struct tm_mime_part *p;
    size_t i;

    if ((t = tm_task_new(e)) == NULL) {
        fprintf(stderr, "bench_mime: tm_task_new failed\n");
        exit(1);
    }
    st->messages++;
    if (tm_mime_parse(t, m->data, m->len) != TM_OK)
        st->failures++;
    if (t->msg != NULL) {
        for (p = t->msg->root; p != NULL; p = tm_mime_next(p)) {
            st->parts++;
            for (i = 0; i < p->nhdrs; i++) {
                const char *s = NULL;
                size_t n = 0;

                st->headers++;
                if (tm_mime_header_decode(t, &p->hdrs[i], &s, &n) == TM_OK)
                    st->header_bytes += n;
                else
                    st->header_errors++;
            }
            if (!p->is_multipart && !p->is_message) {
                st->leaves++;
                st->decoded_bytes += p->decoded_len;
            }
        }
    }
    tm_task_free(t);
}

static void
bench_tamis_pass(struct tm_engine *e, const struct bench_set *set, struct bench_stats *st)
{
    size_t i;

    bench_cur_engine = "tamis";
    memset(st, 0, sizeof(*st));
    for (i = 0; i < set->n; i++) {
        bench_cur_path = set->v[i].path;
        bench_tamis_one(e, &set->v[i], st);
    }
}

/* ---- GMime ------------------------------------------------------------ */

static void
bench_gmime_headers(GMimeObject *obj, struct bench_stats *st)
{
    GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
    int i, n;

    if (hl == NULL)
        return;
    n = g_mime_header_list_get_count(hl);
    for (i = 0; i < n; i++) {
        GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
        const char *v = g_mime_header_get_value(h); /* unfold + RFC 2047 + to UTF-8 */

        st->headers++;
        if (v != NULL)
            st->header_bytes += strlen(v);
    }
}

static void bench_gmime_message(GMimeMessage *msg, GMimeStream *sink, struct bench_stats *st);

/*
 * bench_gmime_body - visit what is below obj, whose own headers are already
 * counted. Recursion on input depth is fine here: GMime's parser recursed
 * over the same depth to build the tree.
 */
static void
bench_gmime_body(GMimeObject *obj, GMimeStream *sink, struct bench_stats *st)
{
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = (GMimeMultipart *)obj;
        int i, n = g_mime_multipart_get_count(mp);

        for (i = 0; i < n; i++) {
            GMimeObject *child = g_mime_multipart_get_part(mp, i);

            st->parts++;
            bench_gmime_headers(child, st);
            bench_gmime_body(child, sink, st);
        }
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *inner = g_mime_message_part_get_message((GMimeMessagePart *)obj);

        if (inner != NULL)
            bench_gmime_message(inner, sink, st);
    } else if (GMIME_IS_PART(obj)) {
        GMimeDataWrapper *content = g_mime_part_get_content((GMimePart *)obj);
        GByteArray *out = g_mime_stream_mem_get_byte_array((GMimeStreamMem *)sink);
        guint before = out->len;

        st->leaves++;
        if (content != NULL && g_mime_data_wrapper_write_to_stream(content, sink) >= 0)
            st->decoded_bytes += out->len - before;
    }
}

static void
bench_gmime_message(GMimeMessage *msg, GMimeStream *sink, struct bench_stats *st)
{
    GMimeObject *top;

    st->parts++; /* the message and its top-level part are one node */
    bench_gmime_headers((GMimeObject *)msg, st); /* all but Content-* */
    if ((top = g_mime_message_get_mime_part(msg)) != NULL) {
        bench_gmime_headers(top, st); /* the Content-* fields */
        bench_gmime_body(top, sink, st);
    }
}

static void
bench_gmime_one(const struct bench_msg *m, struct bench_stats *st)
{
    GMimeStream *in, *sink;
    GMimeParser *parser;
    GMimeMessage *msg;

    st->messages++;
    in = g_mime_stream_mem_new_with_byte_array(m->ba);
    g_mime_stream_mem_set_owner((GMimeStreamMem *)in, FALSE);
    parser = g_mime_parser_new_with_stream(in);
    msg = g_mime_parser_construct_message(parser, NULL);
    if (msg == NULL) {
        st->failures++;
    } else {
        sink = g_mime_stream_mem_new(); /* one per message, like a task arena */
        bench_gmime_message(msg, sink, st);
        g_object_unref(sink);
        g_object_unref(msg);
    }
    g_object_unref(parser);
    g_object_unref(in);
}

static void
bench_gmime_pass(const struct bench_set *set, struct bench_stats *st)
{
    size_t i;

    bench_cur_engine = "gmime";
    memset(st, 0, sizeof(*st));
    for (i = 0; i < set->n; i++) {
        bench_cur_path = set->v[i].path;
        bench_gmime_one(&set->v[i], st);
    }
}

/* ---- --diff ---------------------------------------------------------- */

/*
 * bench_diff - untimed: run both engines on each message and print the
 * messages where parts, leaves, headers or decoded bytes disagree, so a reader
 * can check what the totals hide. Returns the number of such messages.
 */
static size_t
bench_diff(struct tm_engine *e, const struct bench_set *set)
{
    struct bench_stats a, b;
    size_t i, ndiff = 0;

    for (i = 0; i < set->n; i++) {
        const struct bench_msg *m = &set->v[i];

        memset(&a, 0, sizeof(a));
        memset(&b, 0, sizeof(b));
        bench_cur_path = m->path;
        bench_cur_engine = "tamis";
        bench_tamis_one(e, m, &a);
        bench_cur_engine = "gmime";
        bench_gmime_one(m, &b);
        if (a.parts == b.parts && a.leaves == b.leaves && a.headers == b.headers &&
            a.decoded_bytes == b.decoded_bytes && a.failures == b.failures)
            continue;
        ndiff++;
        printf("%s\n  tamis: parts %zu leaves %zu headers %zu decoded %zu failed %zu\n"
               "  gmime: parts %zu leaves %zu headers %zu decoded %zu failed %zu\n",
               m->path, a.parts, a.leaves, a.headers, a.decoded_bytes, a.failures, b.parts,
               b.leaves, b.headers, b.decoded_bytes, b.failures);
    }
    printf("%zu of %zu messages differ\n", ndiff, set->n);
    return ndiff;
}

/* ---- report ----------------------------------------------------------- */

static int
bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void
bench_best_median(const double *secs, size_t n, double *best, double *median)
{
    double *s = g_new(double, n);

    memcpy(s, secs, n * sizeof(double));
    qsort(s, n, sizeof(double), bench_cmp_double);
    *best = s[0];
    *median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    g_free(s);
}

static void
bench_report(const struct bench_result *res, const struct bench_set *set, size_t iters)
{
    double mb = (double)set->bytes / 1e6;
    double best[BENCH__NENGINES] = {0}, median[BENCH__NENGINES] = {0};
    int k;

    printf("\n%-6s %8s %8s %9s %9s %9s %10s %7s %8s %9s %10s %8s %12s\n", "engine", "messages",
           "MB", "best s", "median s", "MB/s", "msgs/s", "parts", "leaves", "headers", "decoded MB",
           "failures", "checksum");
    for (k = 0; k < BENCH__NENGINES; k++) {
        const struct bench_stats *st = &res[k].st;

        if (!res[k].enabled)
            continue;
        bench_best_median(res[k].secs, iters, &best[k], &median[k]);
        printf("%-6s %8zu %8.2f %9.4f %9.4f %9.1f %10.0f %7zu %8zu %9zu %10.2f %8zu %12zu\n",
               bench_engine_name[k], st->messages, mb, best[k], median[k], mb / best[k],
               (double)st->messages / best[k], st->parts, st->leaves, st->headers,
               (double)st->decoded_bytes / 1e6, st->failures, st->decoded_bytes + st->parts);
    }
    for (k = 0; k < BENCH__NENGINES; k++) {
        if (res[k].enabled)
            printf("%s: header values decoded to %zu UTF-8 bytes%s", bench_engine_name[k],
                   res[k].st.header_bytes, res[k].st.header_errors ? "" : "\n");
        if (res[k].enabled && res[k].st.header_errors)
            printf(", %zu header decode errors\n", res[k].st.header_errors);
    }
    if (res[BENCH_TAMIS].enabled && res[BENCH_GMIME].enabled)
        printf("ratio tamis/gmime MB/s: %.2fx (best), %.2fx (median)\n",
               best[BENCH_GMIME] / best[BENCH_TAMIS], median[BENCH_GMIME] / median[BENCH_TAMIS]);
    printf("(MB = 10^6 bytes of raw message; one thread; %zu iterations; checksum = decoded "
           "bytes + parts)\n",
           iters);
}

/* ---- main ------------------------------------------------------------- */

static void
bench_usage(FILE *fp)
{
    fprintf(fp,
            "usage: bench_mime [--iterations N] [--engine tamis|gmime|both] DIR_OR_FILE...\n"
            "       bench_mime --diff DIR_OR_FILE...\n"
            "  Parses and decodes every message (directories are walked recursively)\n"
            "  N times per engine (default %d) and prints best and median throughput.\n"
            "  --diff runs each engine once per message, untimed, and lists the\n"
            "  messages where their part, header or decoded-byte counts differ.\n",
            BENCH_DEFAULT_ITERATIONS);
}

static size_t
bench_parse_iterations(const char *s)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < 1 ||
        v > BENCH_MAX_ITERATIONS) {
        fprintf(stderr, "bench_mime: --iterations wants 1..%d, not '%s'\n", BENCH_MAX_ITERATIONS,
                s);
        exit(2);
    }
    return (size_t)v;
}

static int
bench_parse_engine(const char *s, struct bench_result *res)
{
    int both = strcmp(s, "both") == 0;

    if (!both && strcmp(s, "tamis") != 0 && strcmp(s, "gmime") != 0)
        return -1;
    res[BENCH_TAMIS].enabled = both || strcmp(s, "tamis") == 0;
    res[BENCH_GMIME].enabled = both || strcmp(s, "gmime") == 0;
    return 0;
}

/* bench_opt_value - value of "--name V" or "--name=V"; advances *i past it */
static const char *
bench_opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);

    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "bench_mime: %s needs a value\n", name);
        exit(2);
    }
    return argv[++*i];
}

int
main(int argc, char **argv)
{
    struct bench_result res[BENCH__NENGINES];
    struct bench_set set = {NULL, 0, 0, 0};
    size_t iters = BENCH_DEFAULT_ITERATIONS, it;
    const char *v;
    int i, nargs = 0, diff = 0;
    double t0;
    struct tm_limits lim = tm_limits_default();
    struct tm_engine *engine = NULL;

    memset(res, 0, sizeof(res));
    res[BENCH_TAMIS].enabled = res[BENCH_GMIME].enabled = 1;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            bench_usage(stdout);
            return 0;
        } else if ((v = bench_opt_value(argc, argv, &i, "--iterations")) != NULL) {
            iters = bench_parse_iterations(v);
        } else if ((v = bench_opt_value(argc, argv, &i, "--engine")) != NULL) {
            if (bench_parse_engine(v, res) != 0) {
                fprintf(stderr, "bench_mime: --engine wants tamis, gmime or both\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--diff") == 0) {
            diff = 1;
        } else if (strcmp(argv[i], "--") == 0) {
            for (i++; i < argc; i++, nargs++)
                bench_collect(&set, argv[i], 0, 1);
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "bench_mime: unknown option %s\n", argv[i]);
            bench_usage(stderr);
            return 2;
        } else {
            bench_collect(&set, argv[i], 0, 1);
            nargs++;
        }
    }
    if (nargs == 0) {
        bench_usage(stderr);
        return 2;
    }
    if (set.n == 0) {
        fprintf(stderr, "bench_mime: no messages found\n");
        return 1;
    }
    bench_install_crash_handler();
    g_mime_init();
    if ((res[BENCH_TAMIS].enabled || diff) && (engine = tm_engine_new_bare(&lim)) == NULL) {
        fprintf(stderr, "bench_mime: tm_engine_new_bare failed\n");
        return 1;
    }
    if (diff) {
        size_t ndiff = bench_diff(engine, &set);

        tm_engine_unref(engine);
        g_mime_shutdown();
        bench_set_free(&set);
        return ndiff ? 1 : 0;
    }
    printf("bench_mime: %zu messages, %.2f MB, %zu iterations per engine\n", set.n,
           (double)set.bytes / 1e6, iters);
    fflush(stdout);
    for (i = 0; i < BENCH__NENGINES; i++)
        res[i].secs = g_new0(double, iters);

    /* One untimed pass each: opens iconv descriptors, warms caches. */
    if (res[BENCH_TAMIS].enabled)
        bench_tamis_pass(engine, &set, &res[BENCH_TAMIS].st);
    if (res[BENCH_GMIME].enabled)
        bench_gmime_pass(&set, &res[BENCH_GMIME].st);

    for (it = 0; it < iters; it++) {
        if (res[BENCH_TAMIS].enabled) {
            t0 = bench_now();
            bench_tamis_pass(engine, &set, &res[BENCH_TAMIS].st);
            res[BENCH_TAMIS].secs[it] = bench_now() - t0;
        }
        if (res[BENCH_GMIME].enabled) {
            t0 = bench_now();
            bench_gmime_pass(&set, &res[BENCH_GMIME].st);
            res[BENCH_GMIME].secs[it] = bench_now() - t0;
        }
    }
    bench_cur_engine = "";
    bench_cur_path = "(none)";

    bench_report(res, &set, iters);

    if (engine != NULL)
        tm_engine_unref(engine);
    g_mime_shutdown();
    for (i = 0; i < BENCH__NENGINES; i++)
        g_free(res[i].secs);
    bench_set_free(&set);
    return 0;
}
