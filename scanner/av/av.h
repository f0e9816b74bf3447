/*
 * av.h - attachments through ClamAV's libclamav, in process, from memory
 * (the `av` stage).
 *
 * One tm_av wraps one compiled cl_engine: loaded from a database directory
 * or file (.cvd/.cld/.cud from freshclam, .hdb .hsb .ndb .ldb .yar ...),
 * compiled once, immutable, shared by every scanning thread, and reference
 * counted so that a reload can swap in a new one while scans in flight
 * finish on the old (tm_av_slot). libclamav unpacks archives, Office
 * documents, PDFs and packed executables under the limits set here.
 *
 * Per message, tm_av_scan_task scans each leaf that is an attachment or not
 * text (every leaf with all_leaves), and each uuencoded block found inside a
 * text part, from its decoded bytes in the task (cl_fmap_open_memory +
 * cl_scanmap_callback; no temporary files). Results are kept on the task.
 */
#ifndef TM_AV_AV_H
#define TM_AV_AV_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

struct tm_task;
struct tm_mime_part;
struct tm_av;
struct tm_av_slot;

struct tm_av_opts {
    const char *db;            /* database directory or file */
    int all_leaves;            /* scan text leaves too */
    /* limits handed to libclamav (0: libclamav's default) */
    unsigned long long max_filesize;  /* bytes of one file inside an attachment */
    unsigned long long max_scansize;  /* bytes scanned per attachment, all files */
    unsigned max_recursion;           /* archive nesting */
    unsigned max_files;               /* files per attachment */
    unsigned max_scantime_ms;         /* per attachment */
    /*
     * where libclamav writes the files it extracts (archive members):
     * NULL or "" picks a private directory in /dev/shm when that is a
     * tmpfs (removed with the engine), else libclamav's default ($TMPDIR
     * or /tmp). On ext4, creating and deleting those files cost 1.5 ms per
     * zip attachment, most of it the kernel's inode search (perf, issue 10).
     */
    const char *tmpdir;
};

/* What a scan of one attachment concluded. */
enum tm_av_result {
    TM_AV_CLEAN,
    TM_AV_INFECTED,  /* a signature matched */
    TM_AV_LIMITS,    /* a limit stopped the scan (Heuristics.Limits.Exceeded.* or a size cut) */
    TM_AV_ENCRYPTED, /* an encrypted archive or document (Heuristics.Encrypted.*) */
    TM_AV_ERROR,     /* libclamav failed on it: the part was not scanned */
};

struct tm_av_hit {
    const struct tm_mime_part *part; /* the part (NULL never) */
    int uu;                          /* index of the uuencoded block in part, or -1 */
    const char *filename;            /* part or uu block file name, or NULL */
    enum tm_av_result result;
    const char *signature; /* the signature name (arena copy), or the error text */
};

struct tm_av_report {
    struct tm_av_hit *v; /* one per scanned object, in part order */
    size_t n;
    size_t scanned;      /* objects scanned */
    unsigned long long bytes; /* bytes handed to libclamav */
};

/*
 * tm_av_new - load and compile a database. err gets a reason on failure
 * (no such directory, no supported database files, a bad signature ...).
 * *sigs gets the number of signatures loaded.
 */
tm_rc tm_av_new(const struct tm_av_opts *o, struct tm_av **out, unsigned *sigs, char *err,
                size_t errlen);
void tm_av_ref(struct tm_av *av);
void tm_av_unref(struct tm_av *av);

/* tm_av_version - libclamav's version string and the database's (cl_retflevel...) */
const char *tm_av_version(void);

/*
 * tm_av_scan_task - scan the task's attachments (see above); the report
 * lives in the task arena and is also kept on the task (tm_av_task_report).
 * A libclamav failure on one object is recorded as TM_AV_ERROR for it, never
 * as clean; TM_ENOMEM only when the arena is exhausted.
 */
tm_rc tm_av_scan_task(const struct tm_av *av, struct tm_task *t, const struct tm_av_report **out);

/* tm_av_task_report - the task's report, or NULL when AV did not run */
const struct tm_av_report *tm_av_task_report(const struct tm_task *t);

const char *tm_av_result_name(enum tm_av_result r); /* "clean", "infected", ... */

/*
 * The reload slot: holds the engine in force. tm_av_slot_get returns it
 * with a reference the caller drops with tm_av_unref; tm_av_slot_reload
 * builds a new engine from o (in the caller's thread: the daemon calls it
 * from a background thread) and swaps it in atomically, or leaves the old
 * one serving and returns the error. st (may be NULL) gets the resident
 * memory before, at the peak of the reload (both engines alive) and after.
 */
struct tm_av_reload_stats {
    unsigned sigs;
    double load_ms;
    size_t rss_before, rss_peak, rss_after; /* bytes */
};

struct tm_av_slot *tm_av_slot_new(struct tm_av *av); /* takes the reference */
void tm_av_slot_free(struct tm_av_slot *s);
struct tm_av *tm_av_slot_get(struct tm_av_slot *s);
tm_rc tm_av_slot_reload(struct tm_av_slot *s, const struct tm_av_opts *o,
                        struct tm_av_reload_stats *st, char *err, size_t errlen);

#endif
