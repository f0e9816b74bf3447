/*
 * tamis.c - the `tamis` command for rule authors and operators.
 *
 *   tamis scan [--json] [--pretty] [-o name=value]... FILE|DIR|-...
 *   tamis limits            the settings for untrusted-input bounds
 *   tamis version
 *
 * Exit status: 0 when every message was scanned, 2 on usage or I/O errors
 * (each reported on stderr; the other messages are still scanned). A
 * malformed message is never an error: it is scanned and its findings shown.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/arena.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/task.h"
#include "mime/mime.h"
#include "tamis/tamis.h"
#include "verdict/report.h"

#define CLI_MAX_FILES 10000000u
#define CLI_MAX_DEPTH 64

struct filelist {
    char **v;
    size_t n, cap;
};

static void
usage(FILE *f)
{
    fputs("usage: tamis scan [--json] [--pretty] [-o name=value]... FILE|DIR|-...\n"
          "       tamis limits\n"
          "       tamis version\n"
          "\n"
          "scan     parse each message and print its MIME part tree; with --json one verdict\n"
          "         object per message (a JSON array for several). Directories are read\n"
          "         recursively in name order; '-' reads one message from standard input.\n"
          "-o       set a limit for this run (see `tamis limits`), e.g. -o mime_max_depth=8\n",
          f);
}

static void
add_file(struct filelist *fl, const char *path)
{
    if (fl->n == fl->cap) {
        fl->cap = fl->cap ? fl->cap * 2 : 64;
        fl->v = tm_xrealloc(fl->v, fl->cap * sizeof(*fl->v));
    }
    fl->v[fl->n++] = tm_xstrdup(path);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* collect - a path, or the regular files under a directory in name order */
static int
collect(struct filelist *fl, const char *path, int depth)
{
    struct stat st;
    DIR *d;
    struct dirent *de;
    struct filelist sub = {NULL, 0, 0};
    size_t i;
    int rc = 0;

    if (strcmp(path, "-") == 0) {
        add_file(fl, path);
        return 0;
    }
    if (stat(path, &st) != 0) {
        fprintf(stderr, "tamis: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        add_file(fl, path);
        return 0;
    }
    if (depth >= CLI_MAX_DEPTH) {
        fprintf(stderr, "tamis: %s: directories nested too deep\n", path);
        return -1;
    }
    if ((d = opendir(path)) == NULL) {
        fprintf(stderr, "tamis: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        char *p;
        size_t n;
        if (de->d_name[0] == '.')
            continue;
        n = strlen(path) + strlen(de->d_name) + 2;
        p = tm_xmalloc(n);
        snprintf(p, n, "%s/%s", path, de->d_name);
        add_file(&sub, p);
        tm_free(p);
    }
    closedir(d);
    qsort(sub.v, sub.n, sizeof(*sub.v), cmp_str);
    for (i = 0; i < sub.n; i++) {
        if (stat(sub.v[i], &st) == 0 && (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)))
            if (collect(fl, sub.v[i], depth + 1) != 0)
                rc = -1;
        tm_free(sub.v[i]);
    }
    tm_free(sub.v);
    return rc;
}

/* read_all - the whole file (or stdin), capped at max+1 bytes so truncation is seen */
static unsigned char *
read_all(const char *path, size_t max, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0, r;

    if (f == NULL)
        return NULL;
    for (;;) {
        if (n == cap) {
            if (cap > max)
                break;
            cap = cap ? cap * 2 : 65536;
            buf = tm_xrealloc(buf, cap);
        }
        r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    if (ferror(f)) {
        int e = errno;
        if (f != stdin)
            fclose(f);
        tm_free(buf);
        errno = e ? e : EIO;
        return NULL;
    }
    if (f != stdin)
        fclose(f);
    if (buf == NULL)
        buf = tm_xmalloc(1);
    *len = n;
    return buf;
}

static int
cmd_scan(int argc, char **argv)
{
    struct tm_limits lim = tm_limits_default();
    struct filelist fl = {NULL, 0, 0};
    struct tm_engine *e;
    struct tm_json out;
    int json = 0, pretty = 0, rc = 0, i, nargs = 0;
    size_t k;
    char err[256];

    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--pretty") == 0) {
            pretty = 1;
        } else if (strcmp(a, "-o") == 0 || strncmp(a, "--set=", 6) == 0) {
            const char *kv = a[1] == 'o' ? (i + 1 < argc ? argv[++i] : NULL) : a + 6;
            char name[128];
            const char *eq = kv ? strchr(kv, '=') : NULL;
            if (eq == NULL || (size_t)(eq - kv) >= sizeof(name)) {
                fprintf(stderr, "tamis: -o needs name=value\n");
                return 2;
            }
            memcpy(name, kv, (size_t)(eq - kv));
            name[eq - kv] = '\0';
            if (tm_limits_set(&lim, name, eq + 1, err, sizeof(err)) != TM_OK) {
                fprintf(stderr, "tamis: %s\n", err);
                return 2;
            }
        } else if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++, nargs++)
                if (collect(&fl, argv[i], 0) != 0)
                    rc = 2;
            break;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "tamis: scan: unknown option %s\n", a);
            usage(stderr);
            return 2;
        } else {
            nargs++;
            if (collect(&fl, a, 0) != 0)
                rc = 2;
        }
    }
    if (nargs == 0) {
        usage(stderr);
        return 2;
    }
    if ((e = tm_engine_new_bare(&lim)) == NULL)
        tm_fatal("cannot create engine");
    tm_json_init(&out, pretty);
    if (json && fl.n != 1)
        tm_json_arr(&out);
    for (k = 0; k < fl.n; k++) {
        size_t len = 0;
        unsigned char *msg = read_all(fl.v[k], lim.message_max_size, &len);
        struct tm_task *t;
        struct tm_report_opts o;
        double t0;
        if (msg == NULL) {
            fprintf(stderr, "tamis: %s: %s\n", fl.v[k], strerror(errno));
            rc = 2;
            continue;
        }
        if ((t = tm_task_new(e)) == NULL)
            tm_fatal("cannot create task");
        t0 = tm_now_ms();
        (void)tm_mime_parse(t, msg, len);
        o.file = strcmp(fl.v[k], "-") == 0 ? NULL : fl.v[k];
        o.scan_ms = tm_now_ms() - t0;
        if (json)
            tm_report_json(t, &o, &out);
        else
            tm_report_text(t, &o, &out);
        tm_task_free(t);
        tm_free(msg);
        /* Stream the output so memory stays flat over big corpora. */
        if (out.len > (1u << 20) || k + 1 == fl.n) {
            fwrite(out.p, 1, out.len, stdout);
            out.len = 0;
        }
    }
    if (json && fl.n != 1)
        tm_json_end_arr(&out);
    if (json)
        tm_json_raw(&out, "\n");
    fwrite(out.p, 1, out.len, stdout);
    tm_json_free(&out);
    for (k = 0; k < fl.n; k++)
        tm_free(fl.v[k]);
    tm_free(fl.v);
    tm_engine_unref(e);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "tamis: stdout: %s\n", strerror(errno));
        rc = 2;
    }
    return rc;
}

static int
cmd_limits(void)
{
    size_t i;

    for (i = 0; i < tm_limit_count; i++) {
        const struct tm_limit_def *d = &tm_limit_table[i];
        printf("%-24s %12zu  [%zu .. %zu]  %s\n", d->name, d->def, d->min, d->max, d->doc);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    tm_log_set_ident("tamis");
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "scan") == 0)
        return cmd_scan(argc - 2, argv + 2);
    if (strcmp(argv[1], "limits") == 0)
        return cmd_limits();
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        puts(tamis_version());
        return 0;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "tamis: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
