/*
 * daemon.h - tamisd's insides: the scan workers, which take connections,
 * read, scan and reply themselves (epoll, EPOLLONESHOT), the loop thread
 * (signals, idle timeouts, and the queue when every worker is busy), the
 * engine in force (swapped on reload), and the protocol sessions behind one
 * small interface.
 *
 * One thread at a time holds a connection: the one that got its event, until
 * it re-arms or frees it. Its protocol session turns bytes into replies and
 * says when a whole message is there; a worker then scans it at once with
 * the engine in force and asks the session for the final reply. When no
 * worker is free, the loop thread reads the waiting connections and queues
 * their messages for the workers. A full queue, a failed scan or a missed
 * deadline give the session's tempfail reply: the relay retries, nothing
 * passes unscanned.
 */
#ifndef TM_DAEMON_DAEMON_H
#define TM_DAEMON_DAEMON_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "daemon/config.h"

struct tm_task;
struct tm_verdict;

/* A growable output/input byte buffer owned by a connection (heap, capped). */
struct tm_dbuf {
    unsigned char *p;
    size_t len, cap, max;
};

tm_rc tm_dbuf_append(struct tm_dbuf *b, const void *p, size_t n);
void tm_dbuf_consume(struct tm_dbuf *b, size_t n);
void tm_dbuf_free(struct tm_dbuf *b);

/* What the relay told us about the message (whatever the protocol carries). */
struct tm_envelope {
    char client_ip[64];
    char helo[256];
    char mail_from[512];
    char queue_id[64];
    char user[256];
    size_t nrcpt; /* recipients seen (their addresses go to the analytics log) */
    char rcpt[8][512];
};

/* What a session's feed found. */
enum tm_sess_ev {
    TM_SESS_MORE,    /* need more bytes */
    TM_SESS_MESSAGE, /* a whole message: scan it (tm_sess_ops.message) */
    TM_SESS_CLOSE,   /* the peer is done (QUIT, one-shot protocol): close after writing */
    TM_SESS_ERROR,   /* protocol error: write what is queued, then close */
};

struct tm_sess_ops {
    const char *name;
    void *(*open)(const struct tm_daemon_cfg *cfg);
    void (*close)(void *s);
    /*
     * feed - consume bytes (*used of n), append immediate replies to out
     * (option negotiation, per-stage CONTINUE, PING answers ...).
     */
    enum tm_sess_ev (*feed)(void *s, const unsigned char *p, size_t n, size_t *used,
                            struct tm_dbuf *out);
    /* message - the message to scan and its envelope, after TM_SESS_MESSAGE */
    tm_rc (*message)(void *s, const unsigned char **msg, size_t *len, struct tm_envelope *env);
    /* respond - the reply for the verdict (worker thread); *close_after for one-shot protocols */
    tm_rc (*respond)(void *s, struct tm_task *t, const struct tm_verdict *v, double scan_ms,
                     struct tm_dbuf *out, int *close_after);
    /* tempfail - the reply when the message could not be scanned (overload, deadline, error) */
    tm_rc (*tempfail)(void *s, struct tm_dbuf *out, int *close_after);
    /* eof - the peer closed its write side (a protocol may then have a whole request) */
    enum tm_sess_ev (*eof)(void *s, struct tm_dbuf *out);
};

/* tm_dbuf_put_buf - copy n bytes produced in an arena tm_buf into a connection buffer */
#define TM_DBUF_FROM(dst, buf) tm_dbuf_append((dst), (buf)->data, (buf)->len)

/* Protocols tamisd serves (daemon/glue_*.c); NULL members until implemented. */
extern const struct tm_sess_ops tm_sess_milter, tm_sess_spamd, tm_sess_http;

/*
 * tm_daemon_run - bind the listeners, start the workers, serve until
 * SIGTERM/SIGINT (drain: no new connections, in-flight scans finish and
 * their replies are written), reload on SIGHUP. Returns the exit status.
 */
int tm_daemon_run(struct tm_daemon_cfg *cfg, const char *config_path);

/* tm_daemon_check - build the engine as tm_daemon_run would, print what loaded; 0 if fine */
int tm_daemon_check(struct tm_daemon_cfg *cfg);

/* tm_daemon_metrics - Prometheus text exposition of tamisd's counters (GET /metrics) */
tm_rc tm_daemon_metrics(struct tm_dbuf *out);

#endif
