/*
 * av.c - attachments through libclamav, in process, from memory.
 *
 * One tm_av owns one compiled cl_engine. After cl_engine_compile the engine
 * is only read (cl_scanmap_callback takes it const), so any number of
 * threads scan with it at once; the reference count (C11 atomics) decides
 * who frees it. The reload slot (tm_av_slot) swaps engines under a mutex;
 * the new engine is built outside the lock, scans in flight keep the old one
 * through their own reference.
 *
 * What is scanned (tm_av_scan_task): every MIME leaf that is an attachment
 * (Content-Disposition attachment or a file name) or is not text (text/ types), every
 * leaf with all_leaves, and every uuencoded block found inside a leaf. The
 * decoded bytes go to libclamav through cl_fmap_open_memory: no temporary
 * file of ours (libclamav may still write its own unpacked files to its
 * temporary directory). Zero-length objects are skipped.
 *
 * Limits: CL_ENGINE_MAX_FILESIZE / MAX_SCANSIZE / MAX_RECURSION / MAX_FILES
 * / MAX_SCANTIME, from tm_av_opts (0 keeps libclamav's default). Scans run
 * with CL_SCAN_HEURISTIC_EXCEEDS_MAX so that libclamav reports a skipped or
 * cut object as Heuristics.Limits.Exceeded.* instead of "clean", and with
 * the encrypted-archive/-document heuristics. HEURISTIC_PRECEDENCE stays off:
 * libclamav then keeps scanning after a heuristic alert and a real
 * signature found later wins; the heuristic is reported only when nothing
 * else matched. As a second net, an object larger than the effective
 * max_filesize that libclamav calls clean is reported as TM_AV_LIMITS
 * ("Tamis.Limits.MaxFileSize"): libclamav never looked at it.
 *
 * What libclamav 1.4.6 does (checked by tests/unit/av): an attachment over
 * max_filesize is not scanned and comes back CL_VIRUS with *virname NULL;
 * the name (Heuristics.Limits.Exceeded.MaxFileSize) reaches only the
 * virus-found callback, which is why av_found exists. A file *inside* an
 * archive over max_filesize is cut to max_filesize and the cut bytes are
 * scanned, with no alert: invisible from here. max_scansize, max_files,
 * max_recursion and max_scantime give Heuristics.Limits.Exceeded.MaxScanSize
 * / MaxFiles / MaxRecursion / MaxScanTime as CL_VIRUS; the CL_EMAX* and
 * CL_ETIMEOUT codes are mapped too but were not seen. An encrypted zip gives
 * Heuristics.Encrypted.Zip.
 */
#include "av/av.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <clamav.h>

#include "core/arena.h"
#include "core/task.h"
#include "mime/mime.h"

/* Bytes of a file name handed to libclamav (it only names temp files and metadata). */
#define AV_NAME_MAX 100

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994 /* linux/magic.h */
#endif

/* Bytes of libclamav's last error message kept for tm_av_new's err. */
#define AV_MSG_MAX 200

struct tm_av {
    _Atomic unsigned refs;
    struct cl_engine *engine;
    int all_leaves;
    unsigned long long max_filesize; /* effective value, read back from the engine */
    unsigned sigs;
    char *own_tmpdir; /* made by av_tmpdir, removed with the engine */
};

struct tm_av_slot {
    pthread_mutex_t lock;
    struct tm_av *cur;
};

static pthread_once_t av_once = PTHREAD_ONCE_INIT;
static cl_error_t av_init_rc = CL_EARG;

/*
 * The first error libclamav printed in this thread since tm_av_new began,
 * so that tm_av_new can say why a database did not load ("Malformed database", "No supported
 * database files found", with the file and line libclamav names).
 */
static _Thread_local char av_lastmsg[AV_MSG_MAX];
static _Thread_local int av_loading; /* this thread is in tm_av_new: errors go to err */

/* av_msg - libclamav's log lines go to debug; the first error is kept for tm_av_new's err */
static void
av_msg(enum cl_msg severity, const char *fullmsg, const char *msg, void *ctx)
{
    size_t n;

    (void)fullmsg;
    (void)ctx;
    if (msg == NULL)
        return;
    n = strcspn(msg, "\r\n");
    if (severity == CL_MSG_ERROR && av_loading) {
        if (av_lastmsg[0] == '\0')
            snprintf(av_lastmsg, sizeof(av_lastmsg), "%.*s", (int)TM_MIN(n, (size_t)AV_MSG_MAX),
                     msg);
        tm_log(TM_LOG_DEBUG, "libclamav: %.*s", (int)TM_MIN(n, (size_t)AV_MSG_MAX), msg);
    } else if (severity == CL_MSG_ERROR) {
        tm_log(TM_LOG_WARN, "libclamav: %.*s", (int)TM_MIN(n, (size_t)AV_MSG_MAX), msg);
    } else {
        tm_log(TM_LOG_DEBUG, "libclamav: %.*s", (int)TM_MIN(n, (size_t)AV_MSG_MAX), msg);
    }
}

static void
av_init_once(void)
{
    cl_set_clcb_msg(av_msg);
    av_init_rc = cl_init(CL_INIT_DEFAULT);
}

/*
 * What the virus-found callback saw during one scan. libclamav 1.4.6
 * returns CL_VIRUS with *virname left NULL when the object itself is larger
 * than max_filesize (Heuristics.Limits.Exceeded.MaxFileSize); the name
 * reaches only this callback (that is how clamscan prints it).
 */
struct av_scan_ctx {
    char name[AV_MSG_MAX];
};

/* av_found - remember the last name libclamav reported for this scan */
static void
av_found(int fd, const char *virname, void *ctx)
{
    struct av_scan_ctx *c = ctx;

    (void)fd;
    if (c != NULL && virname != NULL)
        snprintf(c->name, sizeof(c->name), "%s", virname);
}

const char *
tm_av_version(void)
{
    return cl_retver();
}

const char *
tm_av_result_name(enum tm_av_result r)
{
    switch (r) {
    case TM_AV_CLEAN:
        return "clean";
    case TM_AV_INFECTED:
        return "infected";
    case TM_AV_LIMITS:
        return "limits";
    case TM_AV_ENCRYPTED:
        return "encrypted";
    case TM_AV_ERROR:
        return "error";
    }
    return "?";
}

/* av_fail - write "path: what (libclamav's first error message)" into err */
static void
av_fail(char *err, size_t errlen, const char *path, const char *what)
{
    if (err == NULL || errlen == 0)
        return;
    if (av_lastmsg[0] != '\0')
        snprintf(err, errlen, "%s: %s (%s)", path, what, av_lastmsg);
    else
        snprintf(err, errlen, "%s: %s", path, what);
}

/* av_set - one engine number; 0 keeps libclamav's default */
static cl_error_t
av_set(struct cl_engine *e, enum cl_engine_field f, unsigned long long v)
{
    if (v == 0)
        return CL_SUCCESS;
    if (v > (unsigned long long)LLONG_MAX)
        return CL_EARG;
    return cl_engine_set_num(e, f, (long long)v);
}

/* av_limits - hand the configured limits to the engine; a name for the failing one */
static const char *
av_limits(struct cl_engine *e, const struct tm_av_opts *o)
{
    if (av_set(e, CL_ENGINE_MAX_FILESIZE, o->max_filesize) != CL_SUCCESS)
        return "max_filesize";
    if (av_set(e, CL_ENGINE_MAX_SCANSIZE, o->max_scansize) != CL_SUCCESS)
        return "max_scansize";
    if (av_set(e, CL_ENGINE_MAX_RECURSION, o->max_recursion) != CL_SUCCESS)
        return "max_recursion";
    if (av_set(e, CL_ENGINE_MAX_FILES, o->max_files) != CL_SUCCESS)
        return "max_files";
    if (av_set(e, CL_ENGINE_MAX_SCANTIME, o->max_scantime_ms) != CL_SUCCESS)
        return "max_scantime_ms";
    return NULL;
}

/*
 * av_tmpdir - the directory for libclamav's extracted files: the
 * operator's, else a private one (0700) in /dev/shm when it is a tmpfs,
 * else NULL (libclamav's default). *owned is set to a directory we made.
 */
static const char *
av_tmpdir(const struct tm_av_opts *o, char **owned)
{
    struct statfs fs;
    char tmpl[] = "/dev/shm/tamis-av.XXXXXX";

    *owned = NULL;
    if (o->tmpdir != NULL && o->tmpdir[0] != '\0')
        return o->tmpdir;
    if (statfs("/dev/shm", &fs) != 0 || fs.f_type != TMPFS_MAGIC || access("/dev/shm", W_OK) != 0)
        return NULL;
    if (mkdtemp(tmpl) == NULL)
        return NULL;
    *owned = tm_xstrdup(tmpl);
    return *owned;
}

/* av_build - a new engine with the limits, the database loaded and compiled */
static tm_rc
av_build(const struct tm_av_opts *o, const char *tmpdir, struct cl_engine **out, unsigned *nsigs,
         char *err, size_t errlen)
{
    struct cl_engine *e;
    const char *bad;
    unsigned n = 0;
    cl_error_t rc;

    if ((e = cl_engine_new()) == NULL) {
        av_fail(err, errlen, o->db, "cl_engine_new failed");
        return TM_ENOMEM;
    }
    if ((bad = av_limits(e, o)) != NULL) {
        av_fail(err, errlen, bad, "limit rejected by libclamav");
        cl_engine_free(e);
        return TM_EINVAL;
    }
    if (tmpdir != NULL && cl_engine_set_str(e, CL_ENGINE_TMPDIR, tmpdir) != CL_SUCCESS) {
        av_fail(err, errlen, tmpdir, "temporary directory rejected by libclamav");
        cl_engine_free(e);
        return TM_EINVAL;
    }
    rc = cl_load(o->db, e, &n, CL_DB_STDOPT);
    if (rc == CL_SUCCESS && n == 0) {
        av_fail(err, errlen, o->db, "no signatures loaded");
        cl_engine_free(e);
        return TM_EINVAL;
    }
    if (rc != CL_SUCCESS) {
        av_fail(err, errlen, o->db, cl_strerror(rc));
        cl_engine_free(e);
        return rc == CL_EOPEN || rc == CL_ESTAT || rc == CL_EACCES ? TM_EIO : TM_EINVAL;
    }
    cl_engine_set_clcb_virus_found(e, av_found);
    if ((rc = cl_engine_compile(e)) != CL_SUCCESS) {
        av_fail(err, errlen, o->db, cl_strerror(rc));
        cl_engine_free(e);
        return TM_EINVAL;
    }
    *out = e;
    *nsigs = n;
    return TM_OK;
}

/*
 * tm_av_new - load and compile a database. libclamav's own reason for a
 * failure (its first error message while loading) goes into err together
 * with the path and cl_strerror; a database that loads no signature at all
 * is a failure too.
 */
tm_rc
tm_av_new(const struct tm_av_opts *o, struct tm_av **out, unsigned *sigs, char *err, size_t errlen)
{
    struct cl_engine *e = NULL;
    struct tm_av *av;
    unsigned n = 0;
    long long fs;
    int ok = 0;
    char *own_tmpdir = NULL;
    const char *tmpdir;
    tm_rc rc;

    *out = NULL;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (o == NULL || o->db == NULL) {
        av_fail(err, errlen, "(null)", "no database path");
        return TM_EINVAL;
    }
    pthread_once(&av_once, av_init_once);
    if (av_init_rc != CL_SUCCESS) {
        av_fail(err, errlen, "cl_init", cl_strerror(av_init_rc));
        return TM_EINVAL;
    }
    av_lastmsg[0] = '\0';
    av_loading = 1;
    tmpdir = av_tmpdir(o, &own_tmpdir);
    rc = av_build(o, tmpdir, &e, &n, err, errlen);
    av_loading = 0;
    if (rc != TM_OK) {
        if (own_tmpdir != NULL)
            (void)rmdir(own_tmpdir);
        tm_free(own_tmpdir);
        return rc;
    }
    av = tm_xcalloc(1, sizeof(*av));
    atomic_init(&av->refs, 1);
    av->engine = e;
    av->all_leaves = o->all_leaves;
    av->sigs = n;
    av->own_tmpdir = own_tmpdir;
    fs = cl_engine_get_num(e, CL_ENGINE_MAX_FILESIZE, &ok);
    av->max_filesize = ok == CL_SUCCESS && fs > 0 ? (unsigned long long)fs : 0;
    if (sigs != NULL)
        *sigs = n;
    *out = av;
    return TM_OK;
}

void
tm_av_ref(struct tm_av *av)
{
    unsigned old = atomic_fetch_add_explicit(&av->refs, 1, memory_order_relaxed);

    TM_ASSERT(old > 0);
}

void
tm_av_unref(struct tm_av *av)
{
    unsigned old;

    if (av == NULL)
        return;
    old = atomic_fetch_sub_explicit(&av->refs, 1, memory_order_acq_rel);
    TM_ASSERT(old > 0);
    if (old == 1) {
        cl_engine_free(av->engine);
        if (av->own_tmpdir != NULL)
            (void)rmdir(av->own_tmpdir); /* libclamav removed its files (leave_temps off) */
        tm_free(av->own_tmpdir);
        tm_free(av);
    }
}

/* ---- scanning ------------------------------------------------------------- */

/*
 * av_safe_name - the file name libclamav gets: only [A-Za-z0-9._-], at most
 * AV_NAME_MAX bytes, no leading dot. libclamav uses it in metadata and may
 * derive temporary file names from it; an attacker's "../" has no business
 * there. NULL when there is no name (libclamav accepts that).
 */
static const char *
av_safe_name(struct tm_arena *a, const char *name)
{
    char buf[AV_NAME_MAX + 1];
    size_t i, k = 0;

    if (name == NULL || name[0] == '\0')
        return NULL;
    for (i = 0; name[i] != '\0' && k < AV_NAME_MAX; i++) {
        unsigned char c = (unsigned char)name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || (c == '.' && k > 0);
        buf[k++] = ok ? (char)c : '_';
    }
    buf[k] = '\0';
    return tm_arena_strdup(a, buf);
}

/* av_prefix - s starts with p */
static int
av_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/*
 * av_scan_one - one object through libclamav; fills h->result and
 * h->signature (an arena copy of the name, or libclamav's static error
 * text). TM_ENOMEM only when the arena is exhausted.
 */
static tm_rc
av_scan_one(const struct tm_av *av, struct tm_arena *a, const unsigned char *p, size_t len,
            struct tm_av_hit *h)
{
    struct cl_scan_options so;
    struct av_scan_ctx ctx;
    const char *virname = NULL;
    unsigned long scanned = 0;
    cl_fmap_t *map;
    cl_error_t rc;

    memset(&so, 0, sizeof(so));
    ctx.name[0] = '\0';
    so.parse = ~0u;
    so.general = CL_SCAN_GENERAL_HEURISTICS;
    so.heuristic = CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE | CL_SCAN_HEURISTIC_ENCRYPTED_DOC |
                   CL_SCAN_HEURISTIC_EXCEEDS_MAX;
    if ((map = cl_fmap_open_memory(p, len)) == NULL) {
        h->result = TM_AV_ERROR;
        h->signature = "cl_fmap_open_memory failed";
        return TM_OK;
    }
    rc = cl_scanmap_callback(map, av_safe_name(a, h->filename), &virname, &scanned, av->engine, &so,
                             &ctx);
    cl_fmap_close(map);
    switch (rc) {
    case CL_VIRUS:
        if (virname == NULL && ctx.name[0] != '\0')
            virname = ctx.name;
        if (virname == NULL && av->max_filesize > 0 && len > av->max_filesize)
            virname = "Heuristics.Limits.Exceeded.MaxFileSize";
        if (virname == NULL)
            virname = "Unknown";
        if (av_prefix(virname, "Heuristics.Limits.Exceeded"))
            h->result = TM_AV_LIMITS;
        else if (av_prefix(virname, "Heuristics.Encrypted"))
            h->result = TM_AV_ENCRYPTED;
        else
            h->result = TM_AV_INFECTED;
        if ((h->signature = tm_arena_strdup(a, virname)) == NULL)
            return TM_ENOMEM;
        break;
    case CL_CLEAN:
        h->result = TM_AV_CLEAN;
        h->signature = NULL;
        if (av->max_filesize > 0 && len > av->max_filesize) {
            h->result = TM_AV_LIMITS;
            h->signature = "Tamis.Limits.MaxFileSize";
        }
        break;
    case CL_EMAXSIZE:
    case CL_EMAXREC:
    case CL_EMAXFILES:
    case CL_ETIMEOUT:
        h->result = TM_AV_LIMITS;
        h->signature = cl_strerror(rc);
        break;
    default:
        h->result = TM_AV_ERROR;
        h->signature = cl_strerror(rc);
        break;
    }
    return TM_OK;
}

/* av_wants - a leaf whose decoded body is scanned as a whole */
static int
av_wants(const struct tm_av *av, const struct tm_mime_part *m)
{
    if (m->first_child != NULL || m->is_multipart || m->decoded_len == 0)
        return 0;
    if (av->all_leaves || m->filename != NULL)
        return 1;
    if (m->disposition != NULL && strcmp(m->disposition, "attachment") == 0)
        return 1;
    return m->content_type == NULL || strncmp(m->content_type, "text/", 5) != 0;
}

/* av_count_uu - uuencoded blocks of a leaf with bytes in them */
static size_t
av_count_uu(const struct tm_mime_part *m)
{
    size_t i, n = 0;

    if (m->first_child != NULL || m->is_multipart)
        return 0;
    for (i = 0; i < m->nuu; i++)
        if (m->uu[i].len > 0)
            n++;
    return n;
}

/* av_add - scan one object into the next slot of r */
static tm_rc
av_add(const struct tm_av *av, struct tm_task *t, struct tm_av_report *r,
       const struct tm_mime_part *m, int uu, const unsigned char *p, size_t len,
       const char *filename)
{
    struct tm_av_hit *h = &r->v[r->n];

    h->part = m;
    h->uu = uu;
    h->filename = filename;
    if (av_scan_one(av, t->arena, p, len, h) != TM_OK)
        return TM_ENOMEM;
    r->n++;
    r->scanned++;
    r->bytes += len;
    return TM_OK;
}

/*
 * tm_av_scan_task - two walks over the tree: count the objects, then scan
 * them into an array of exactly that size. The report is on the task even
 * when it is empty (AV ran, nothing to scan).
 */
tm_rc
tm_av_scan_task(const struct tm_av *av, struct tm_task *t, const struct tm_av_report **out)
{
    const struct tm_mime_part *m, *root;
    struct tm_av_report *r;
    size_t total = 0, i;
    tm_rc rc;

    if (out != NULL)
        *out = NULL;
    if ((r = tm_arena_calloc(t->arena, 1, sizeof(*r))) == NULL)
        return TM_ENOMEM;
    root = t->msg != NULL ? t->msg->root : NULL;
    for (m = root; m != NULL; m = tm_mime_next(m))
        total += (size_t)av_wants(av, m) + av_count_uu(m);
    if (total > 0 && (r->v = tm_arena_calloc(t->arena, total, sizeof(*r->v))) == NULL)
        return TM_ENOMEM;
    for (m = root; m != NULL && r->n < total; m = tm_mime_next(m)) {
        if (av_wants(av, m) &&
            (rc = av_add(av, t, r, m, -1, m->decoded, m->decoded_len, m->filename)) != TM_OK)
            return rc;
        if (m->first_child != NULL || m->is_multipart)
            continue;
        for (i = 0; i < m->nuu && r->n < total; i++) {
            if (m->uu[i].len == 0)
                continue;
            if ((rc = av_add(av, t, r, m, (int)i, m->uu[i].data, m->uu[i].len,
                             m->uu[i].filename)) != TM_OK)
                return rc;
        }
    }
    t->av = r;
    if (out != NULL)
        *out = r;
    return TM_OK;
}

const struct tm_av_report *
tm_av_task_report(const struct tm_task *t)
{
    return t->av;
}

/* ---- the reload slot -------------------------------------------------------- */

/* av_rss - resident set size in bytes from /proc/self/statm, 0 if unknown */
static size_t
av_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, res = 0;
    long page = sysconf(_SC_PAGESIZE);
    char line[128];
    char *end;

    if (f == NULL)
        return 0;
    if (fgets(line, sizeof(line), f) == NULL) {
        fclose(f);
        return 0;
    }
    fclose(f);
    size = strtoull(line, &end, 10);
    (void)size;
    res = strtoull(end, NULL, 10);
    return page > 0 ? (size_t)(res * (unsigned long long)page) : 0;
}

struct tm_av_slot *
tm_av_slot_new(struct tm_av *av)
{
    struct tm_av_slot *s = tm_xcalloc(1, sizeof(*s));

    TM_ASSERT(av != NULL);
    if (pthread_mutex_init(&s->lock, NULL) != 0)
        tm_fatal("av: pthread_mutex_init failed");
    s->cur = av;
    return s;
}

void
tm_av_slot_free(struct tm_av_slot *s)
{
    if (s == NULL)
        return;
    tm_av_unref(s->cur);
    pthread_mutex_destroy(&s->lock);
    tm_free(s);
}

struct tm_av *
tm_av_slot_get(struct tm_av_slot *s)
{
    struct tm_av *av;

    pthread_mutex_lock(&s->lock);
    av = s->cur;
    tm_av_ref(av);
    pthread_mutex_unlock(&s->lock);
    return av;
}

/*
 * tm_av_slot_reload - build the new engine first, outside the lock (it
 * takes long: the old one keeps serving meanwhile), then swap and drop the
 * slot's reference to the old one. Scans holding the old engine finish on
 * it; the last unref frees it. On failure the old engine stays in force.
 */
tm_rc
tm_av_slot_reload(struct tm_av_slot *s, const struct tm_av_opts *o, struct tm_av_reload_stats *st,
                  char *err, size_t errlen)
{
    struct tm_av *nav, *old;
    unsigned sigs = 0;
    double t0;
    size_t before, peak;
    tm_rc rc;

    before = av_rss();
    t0 = tm_now_ms();
    if ((rc = tm_av_new(o, &nav, &sigs, err, errlen)) != TM_OK)
        return rc;
    peak = av_rss();
    if (st != NULL) {
        st->sigs = sigs;
        st->load_ms = tm_now_ms() - t0;
        st->rss_before = before;
        st->rss_peak = peak;
    }
    pthread_mutex_lock(&s->lock);
    old = s->cur;
    s->cur = nav;
    pthread_mutex_unlock(&s->lock);
    tm_av_unref(old);
    if (st != NULL)
        st->rss_after = av_rss();
    return TM_OK;
}
