/*
 * loadgen.c - the load client of bench/run: drives a mail scanner over its own
 * wire protocol (or Tamis in process) with N concurrent connections and
 * measures each message's latency.
 *
 *   loadgen run  --proto P [--socket PATH] [--concurrency N] [--warmup K]
 *                [--json OUT] [--label NAME] [--list FILE] [FILE...]
 *                [--count N] [--min-seconds S] [--rate R [--threads]]
 *                [--sample-pid PID --sample-every K]
 *                [--rules PATH]... [--av-db PATH] [--cache DIR]   (P = inproc)
 *                [--build-only]  (inproc: build the engine, print its build time)
 *   loadgen ping --proto P --socket PATH [--timeout S] [--pid PID]
 *
 * P is one of:
 *   milter  a minimal, correct MTA side of milter v6: OPTNEG (all protocol bits
 *           offered, the negotiated NO_* and NR_* bits honoured), CONNECT,
 *           HELO once per connection, then per message MAIL, RCPT, DATA, each
 *           header, EOH, BODY in chunks of at most 65535 bytes, EOM, and the
 *           replies read until the final one (accept, continue, reject,
 *           discard, tempfail or replycode). A leading mbox "From " line is not
 *           sent (an MTA never passes it on).
 *   spamd   SPAMC/1.5 CHECK, one connection per message, as spamc does it.
 *   http    POST /checkv2 (rspamd's protocol; rspamd and tamisd), one
 *           connection per message, as rspamc does it.
 *   clamd   zINSTREAM, one connection per message, as clamdscan --stream.
 *   inproc  Tamis in this process, the way a tamisd worker scans: the engine
 *           is built first (its build time is reported as startup_s), then N
 *           threads share it, each with its own match scratch, one task per
 *           message (tm_scanner_scan, no reply formatting). With
 *           --public-api, through include/tamis/tamis.h instead, which
 *           allocates a match scratch per task.
 *
 * All messages are read into memory before anything is timed. K warm-up
 * messages (the first K of the list, default 0) go through untimed. Then N
 * threads take messages from a shared counter until all are done; latency is
 * the time from connect (or task creation) to the final reply. --count N
 * sends N messages instead of the list once: message i is the list's
 * i mod (list length), so a short list is repeated. --min-seconds S (closed
 * loop only) repeats those N messages, as further phases of the same workers,
 * until the timed phases add up to S seconds: a pass of a fast system then
 * spans more than a moment of the machine's noise, and every repetition keeps
 * the list's mix of messages.
 *
 * Open loop (--rate R, messages per second): message i of the timed phase is
 * due at start + i / R, whatever happened to the earlier ones; the thread
 * that takes it sleeps until then and sends it, and its latency is measured
 * from that scheduled time, not from the send, so a server (or a client)
 * that falls behind shows its queueing in the latency (no coordinated
 * omission). The N connections are the most requests in flight at once: when
 * all are busy a due message waits, and that wait is counted. In the open loop
 * the N connections are not N threads: they are N green threads (ucontext) of
 * one event loop (epoll, non-blocking sockets), as wrk2 drives a fixed rate, so
 * that the client's own thread wake-ups do not take the server's CPU on a small
 * machine (--threads: one thread per connection instead). The report adds the
 * target rate, the achieved one (messages / time from the first due time to
 * the last reply), how late the sends were (send_late_ms: p99, max) and the
 * most requests in flight at once (max_in_flight: N means every connection was
 * busy and due messages waited for one; below N, lateness is the client's own
 * scheduling).
 *
 * --sample-pid PID --sample-every K: after every K-th answered message of the
 * timed phase (and once before it) the VmRSS of process PID (0: this
 * process) is read from /proc; the JSON gets rss_samples [[answered, kB],
 * ...] and PID's VmHWM at the end (pid_vmhwm_kb). Used for the soak run.
 *
 * Replies are
 * counted by kind (an action, spam/ham, a clamd result, a milter reply); a
 * transport error, a protocol error, an error reply (HTTP status other than
 * 200, a spamd code other than 0, clamd "ERROR", a milter tempfail or an
 * abnormal milter reply) counts as an error. The program prints one JSON
 * object (also to --json OUT) and exits 1 when any request failed or not
 * every message was answered.
 *
 * `ping` waits until the socket answers the protocol's own liveness request
 * (spamd PING, HTTP GET /ping, clamd zPING, milter OPTNEG) and prints the
 * seconds it waited; used to time a server's start-up.
 */
#define _GNU_SOURCE 1 /* epoll_pwait2, MAP_ANONYMOUS, MAP_STACK */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "core/limits.h"
#include "core/str.h"
#include "core/task.h"
#include "match/match.h"
#include "tamis/tamis.h"
#include "verdict/scanner.h"
#include "verdict/verdict.h"

#define MAX_KINDS       32
#define KIND_LEN        48
#define MILTER_CHUNK    65535u
#define MILTER_MAX_PKT  (1u << 24)
#define MILTER_OUTBUF   4096u /* Postfix's VSTREAM_BUFSIZE */
#define REPLY_MAX       (64u << 20)
#define ERRMSG_LEN      256
#define DEFAULT_TIMEOUT 300.0

enum proto { P_MILTER, P_SPAMD, P_HTTP, P_CLAMD, P_INPROC };

struct msg {
    unsigned char *p;
    size_t len;
};

/* reply kinds counted by one thread; merged at the end */
struct kinds {
    char name[MAX_KINDS][KIND_LEN];
    unsigned long count[MAX_KINDS];
    size_t n;
};

/* one worker thread's state */
struct worker {
    pthread_t tid;
    size_t id;
    struct kinds kinds;
    unsigned long errors;
    char first_error[ERRMSG_LEN];
    /* milter: the connection is kept across messages */
    int mfd;
    uint32_t mproto;
    unsigned char mout[MILTER_OUTBUF]; /* packets not sent yet (milter_send) */
    size_t mout_len;
    unsigned char min[MILTER_OUTBUF]; /* bytes read and not yet taken (milter_take) */
    size_t min_pos, min_len;
    /* reply buffer */
    unsigned char *buf;
    size_t cap;
    /* inproc: this thread's match scratch */
    struct tm_match_scratch *ms;
    /* event loop: this green thread's context and stack */
    ucontext_t uc;
    void *stack;
    double wake_at; /* runnable from this time; 0: waiting for I/O */
    int done;
};

static enum proto proto;
static const char *sock_path;
static struct msg *msgs;
static size_t nmsgs;
static double *lat_ms;
static _Atomic size_t next_msg;
static size_t run_from, run_to;     /* the messages of the current phase */
static int timing;                  /* 1 in the timed phase: latencies are recorded */
static struct tamis_engine *engine; /* --public-api */
static struct tm_scanner *scanner;  /* otherwise */
static int public_api;
static double rate;                 /* --rate: messages/s of the open loop; 0: closed loop */
static double sched_t0;             /* open loop: when message run_from is due */
static double *late_ms;             /* open loop: send time - due time, per message */
static long sample_pid = -1;        /* --sample-pid; -1: no RSS sampling */
static size_t sample_every;
static long (*samples)[2];          /* [answered, VmRSS kB] */
static size_t nsamples;
static _Atomic size_t n_answered;   /* messages of the timed phase answered so far */
static _Atomic size_t in_flight;    /* open loop: requests sent and not answered yet */
static _Atomic size_t max_in_flight;
static int client_threads;          /* --threads: the open loop on one thread per connection */
static int evloop;                  /* the workers are green threads of one event loop */

/* ---- small helpers ---------------------------------------------------- */

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
    fprintf(stderr, "loadgen: %s\n", what);
    exit(2);
}

static void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        die("out of memory");
    return q;
}

/* ---- the open loop's event loop -------------------------------------------------- */

#define GREEN_STACK (256u << 10)

static int epfd = -1;
static ucontext_t sched_uc; /* the event loop's own context */
static struct worker *cur;  /* the green thread running now */

/* yield - back to the event loop; returns when it resumes this green thread */
static void
yield(void)
{
    struct worker *w = cur;

    if (swapcontext(&w->uc, &sched_uc) < 0)
        die("swapcontext failed");
}

/* io_wait - event loop: wait until fd is ready for EVENTS (EPOLLIN, EPOLLOUT) */
static void
io_wait(int fd, uint32_t events)
{
    struct epoll_event e;

    memset(&e, 0, sizeof(e));
    e.events = events | EPOLLONESHOT;
    e.data.ptr = cur;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) < 0 &&
        (errno != EEXIST || epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &e) < 0)) {
        fprintf(stderr, "loadgen: epoll_ctl: %s\n", strerror(errno));
        exit(2);
    }
    cur->wake_at = 0;
    yield();
}

/* sleep_until - sleep until monotonic time t (seconds) */
static void
sleep_until(double t)
{
    struct timespec ts;

    if (evloop) {
        cur->wake_at = t;
        yield();
        return;
    }
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static void fail(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* fail - count an error; the first one's text is kept for the report */
static void
fail(struct worker *w, const char *fmt, ...)
{
    va_list ap;

    w->errors++;
    if (w->first_error[0] == '\0') {
        va_start(ap, fmt);
        vsnprintf(w->first_error, sizeof(w->first_error), fmt, ap);
        va_end(ap);
    }
}

static void
count_kind_n(struct kinds *k, const char *name, size_t len, unsigned long n)
{
    size_t i;

    if (len >= KIND_LEN)
        len = KIND_LEN - 1;
    for (i = 0; i < k->n; i++)
        if (strlen(k->name[i]) == len && memcmp(k->name[i], name, len) == 0) {
            k->count[i] += n;
            return;
        }
    if (k->n == MAX_KINDS) {
        k->count[MAX_KINDS - 1] += n; /* "other" bucket: the last one */
        return;
    }
    memcpy(k->name[k->n], name, len);
    k->name[k->n][len] = '\0';
    k->count[k->n++] = n;
}

static void
count_kind(struct kinds *k, const char *name, size_t len)
{
    count_kind_n(k, name, len, 1);
}

static int
connect_unix(const char *path)
{
    struct sockaddr_un sa;
    double deadline = now_s() + DEFAULT_TIMEOUT;
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (evloop ? SOCK_NONBLOCK : 0), 0)) < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        socklen_t el = sizeof(e);
        if (e == EINTR)
            continue;
        if (evloop && e == EAGAIN && now_s() < deadline) {
            /* the listen backlog is full: try again shortly, as a blocking connect waits */
            sleep_until(now_s() + 200e-6);
            continue;
        }
        if (evloop && e == EINPROGRESS) {
            io_wait(fd, EPOLLOUT);
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0)
                break;
        }
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* piece - an iovec of bytes this program only reads (sendmsg does not write them) */
static struct iovec
piece(const void *p, size_t n)
{
    struct iovec v;

    v.iov_base = (void *)(uintptr_t)p;
    v.iov_len = n;
    return v;
}

/*
 * write_iov - the pieces in one gather write (more only when the socket
 * buffer is full): one request, or the milter packets buffered until a
 * reply is due, per write rather than a syscall per field; 0, or -1 with
 * errno set. iov is consumed.
 */
static int
write_iov(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        struct msghdr mh;
        ssize_t k;
        memset(&mh, 0, sizeof(mh));
        mh.msg_iov = iov;
        mh.msg_iovlen = (size_t)n;
        k = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            if (evloop && errno == EAGAIN) {
                io_wait(fd, EPOLLOUT);
                continue;
            }
            return -1;
        }
        while (n > 0 && (size_t)k >= iov->iov_len) {
            k -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + k;
            iov->iov_len -= (size_t)k;
        }
    }
    return 0;
}

static int
write_all(int fd, const void *p, size_t n)
{
    struct iovec v = piece(p, n);

    return write_iov(fd, &v, 1);
}

/*
 * read_some - one read of up to n bytes, again after EINTR and, under the
 * event loop, after waiting out EAGAIN: the count (0 at end of stream) or -1
 */
static ssize_t
read_some(int fd, void *p, size_t n)
{
    for (;;) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && evloop && errno == EAGAIN) {
            io_wait(fd, EPOLLIN);
            continue;
        }
        return k;
    }
}

static int
read_full(int fd, unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = read_some(fd, p, n);
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* read_until_eof - the whole reply into w->buf (NUL-terminated); its length or -1 */
static long
read_until_eof(struct worker *w, int fd)
{
    size_t len = 0;

    for (;;) {
        ssize_t k;
        if (w->cap - len < 4096) {
            if (w->cap >= REPLY_MAX)
                return -1;
            w->cap = w->cap ? w->cap * 2 : 65536;
            w->buf = xrealloc(w->buf, w->cap);
        }
        k = read_some(fd, w->buf + len, w->cap - len - 1);
        if (k < 0)
            return -1;
        if (k == 0)
            break;
        len += (size_t)k;
    }
    w->buf[len] = '\0';
    return (long)len;
}

/* ---- spamd -------------------------------------------------------------- */

/* spamd_one - CHECK one message; 0 and the kind counted, or -1 */
/*
 * request - one connection: the header hdr[0..n) and the message, then
 * (half_close: after shutting down the write side, as spamc does) the
 * whole reply into w->buf. 0, or -1 after fail() named what broke.
 */
static int
request(struct worker *w, const char *what, const char *hdr, int n, const struct msg *m,
        int half_close)
{
    int fd;
    long len;
    struct iovec iov[2];

    if ((fd = connect_unix(sock_path)) < 0) {
        fail(w, "%s: connect: %s", what, strerror(errno));
        return -1;
    }
    iov[0] = piece(hdr, (size_t)n);
    iov[1] = piece(m->p, m->len);
    if (write_iov(fd, iov, 2) < 0) {
        fail(w, "%s: write: %s", what, strerror(errno));
        close(fd);
        return -1;
    }
    if (half_close)
        shutdown(fd, SHUT_WR);
    len = read_until_eof(w, fd);
    close(fd);
    if (len < 0) {
        fail(w, "%s: read: %s", what, strerror(errno));
        return -1;
    }
    return 0;
}

static int
spamd_one(struct worker *w, const struct msg *m)
{
    char hdr[128];
    int n;
    const char *p, *e;

    n = snprintf(hdr, sizeof(hdr), "CHECK SPAMC/1.5\r\nContent-length: %zu\r\nUser: bench\r\n\r\n",
                 m->len);
    if (request(w, "spamd", hdr, n, m, 1) < 0)
        return -1;
    p = (const char *)w->buf;
    if (strncmp(p, "SPAMD/1.", 8) != 0 || (e = strchr(p, ' ')) == NULL || e[1] != '0' ||
        e[2] != ' ') {
        fail(w, "spamd: bad reply: %.80s", p);
        return -1;
    }
    if ((e = strstr(p, "\nSpam: ")) == NULL) {
        fail(w, "spamd: no Spam header: %.80s", p);
        return -1;
    }
    e += 7;
    if (strncmp(e, "True", 4) == 0 || strncmp(e, "Yes", 3) == 0)
        count_kind(&w->kinds, "spam", 4);
    else
        count_kind(&w->kinds, "ham", 3);
    return 0;
}

/* ---- HTTP (rspamd /checkv2) ------------------------------------------------ */

/* json_action - the value of the first "action" key of a JSON text, or NULL */
static const char *
json_action(const char *p, size_t *len)
{
    const char *e;

    if ((p = strstr(p, "\"action\"")) == NULL)
        return NULL;
    p += 8;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ':')
        p++;
    if (*p != '"')
        return NULL;
    p++;
    if ((e = strchr(p, '"')) == NULL)
        return NULL;
    *len = (size_t)(e - p);
    return p;
}

static int
http_one(struct worker *w, const struct msg *m)
{
    char hdr[160];
    int n;
    const char *p, *body, *act;
    size_t alen;

    n = snprintf(hdr, sizeof(hdr),
                 "POST /checkv2 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                 "Content-Length: %zu\r\n\r\n",
                 m->len);
    if (request(w, "http", hdr, n, m, 0) < 0)
        return -1;
    p = (const char *)w->buf;
    if (strncmp(p, "HTTP/1.", 7) != 0 || strncmp(p + 8, " 200", 4) != 0) {
        fail(w, "http: status: %.80s", p);
        return -1;
    }
    if ((body = strstr(p, "\r\n\r\n")) == NULL) {
        fail(w, "http: no end of header: %.80s", p);
        return -1;
    }
    if ((act = json_action(body, &alen)) == NULL) {
        fail(w, "http: no action in reply: %.120s", body + 4);
        return -1;
    }
    count_kind(&w->kinds, act, alen);
    return 0;
}

/* ---- clamd zINSTREAM ---------------------------------------------------------- */

static int
clamd_one(struct worker *w, const struct msg *m)
{
    static const char cmd[] = "zINSTREAM"; /* sent with its NUL */
    unsigned char len4[4];
    size_t off, n;
    int fd;
    long len;
    const char *p;
    size_t pl;

    if ((fd = connect_unix(sock_path)) < 0) {
        fail(w, "clamd: connect: %s", strerror(errno));
        return -1;
    }
    if (write_all(fd, cmd, sizeof(cmd)) < 0)
        goto werr;
    for (off = 0; off < m->len; off += n) {
        n = m->len - off < 1048576 ? m->len - off : 1048576;
        struct iovec iov[2];
        iov[0] = piece(len4, 4);
        iov[1] = piece(m->p + off, n);
        tm_put_be32(len4, (uint32_t)n);
        if (write_iov(fd, iov, 2) < 0)
            goto werr;
    }
    tm_put_be32(len4, 0);
    if (write_all(fd, len4, 4) < 0)
        goto werr;
    len = read_until_eof(w, fd);
    close(fd);
    if (len <= 0) {
        fail(w, "clamd: read: %s", len < 0 ? strerror(errno) : "empty reply");
        return -1;
    }
    p = (const char *)w->buf;
    pl = strlen(p);
    while (pl > 0 && (p[pl - 1] == '\n' || p[pl - 1] == '\0'))
        pl--;
    if (pl >= 3 && memcmp(p + pl - 3, " OK", 3) == 0)
        count_kind(&w->kinds, "clean", 5);
    else if (pl >= 6 && memcmp(p + pl - 6, " FOUND", 6) == 0)
        count_kind(&w->kinds, "infected", 8);
    else {
        fail(w, "clamd: %.120s", p);
        return -1;
    }
    return 0;
werr:
    fail(w, "clamd: write: %s", strerror(errno));
    close(fd);
    return -1;
}

/* ---- milter ------------------------------------------------------------------ */

#define SMFIP_NOCONNECT   0x1u
#define SMFIP_NOHELO      0x2u
#define SMFIP_NOMAIL      0x4u
#define SMFIP_NORCPT      0x8u
#define SMFIP_NOBODY      0x10u
#define SMFIP_NOHDRS      0x20u
#define SMFIP_NOEOH       0x40u
#define SMFIP_NR_HDR      0x80u
#define SMFIP_NODATA      0x200u
#define SMFIP_NR_CONN     0x1000u
#define SMFIP_NR_HELO     0x2000u
#define SMFIP_NR_MAIL     0x4000u
#define SMFIP_NR_RCPT     0x8000u
#define SMFIP_NR_DATA     0x10000u
#define SMFIP_NR_EOH      0x40000u
#define SMFIP_NR_BODY     0x80000u
#define SMFIP_HDR_LEADSPC 0x100000u
#define SMFIP_ALL_V6      0x1FFFFFu

/* milter_flush - send the buffered packets; 0 or -1 */
static int
milter_flush(struct worker *w)
{
    size_t n = w->mout_len;

    w->mout_len = 0;
    return n > 0 ? write_all(w->mfd, w->mout, n) : 0;
}

/*
 * milter_send - one packet: length, command, then up to two payload
 * pieces. Like Postfix's milter client (milter8.c writes each packet to
 * a VSTREAM of 4096 bytes, which it flushes before it reads a reply or
 * when it is full), packets that wait for no reply share a write:
 * the headers of a message under SMFIP_NR_HDR, for one. A packet larger
 * than the buffer goes out in one gather write of its own.
 */
static int
milter_send(struct worker *w, char cmd, const void *a, size_t an, const void *b, size_t bn)
{
    unsigned char h[5];
    struct iovec iov[3];
    size_t len = 5 + an + bn;

    tm_put_be32(h, (uint32_t)(1 + an + bn));
    h[4] = (unsigned char)cmd;
    if (w->mout_len + len > MILTER_OUTBUF && milter_flush(w) < 0)
        return -1;
    if (len > MILTER_OUTBUF) {
        iov[0] = piece(h, 5);
        iov[1] = piece(a, an);
        iov[2] = piece(b, bn);
        return write_iov(w->mfd, iov, 3);
    }
    memcpy(w->mout + w->mout_len, h, 5);
    if (an > 0)
        memcpy(w->mout + w->mout_len + 5, a, an);
    if (bn > 0)
        memcpy(w->mout + w->mout_len + 5 + an, b, bn);
    w->mout_len += len;
    return 0;
}

/*
 * milter_take - n bytes of the reply stream into p, through a buffer: the
 * replies at the end of a message (header changes, then the decision)
 * come in a few reads, not two per packet. 0 or -1.
 */
static int
milter_take(struct worker *w, unsigned char *p, size_t n)
{
    while (n > 0) {
        size_t k = w->min_len - w->min_pos;
        if (k == 0 && n >= sizeof(w->min))
            return read_full(w->mfd, p, n);
        if (k == 0) {
            ssize_t r = read_some(w->mfd, w->min, sizeof(w->min));
            if (r <= 0)
                return -1;
            w->min_pos = 0;
            w->min_len = (size_t)r;
            continue;
        }
        if (k > n)
            k = n;
        memcpy(p, w->min + w->min_pos, k);
        w->min_pos += k;
        p += k;
        n -= k;
    }
    return 0;
}

/*
 * milter_read - one packet into w->buf (the buffered packets are sent
 * first); its command in *cmd, payload length in *n
 */
static int
milter_read(struct worker *w, char *cmd, size_t *n)
{
    unsigned char h[5];
    uint32_t len;

    if (milter_flush(w) < 0 || milter_take(w, h, 5) < 0)
        return -1;
    len = tm_get_be32(h);
    if (len == 0 || len > MILTER_MAX_PKT)
        return -1;
    *cmd = (char)h[4];
    *n = len - 1;
    if (w->cap < *n + 1) {
        w->cap = *n + 1 > 65536 ? *n + 1 : 65536;
        w->buf = xrealloc(w->buf, w->cap);
    }
    if (*n > 0 && milter_take(w, w->buf, *n) < 0)
        return -1;
    w->buf[*n] = '\0';
    return 0;
}

/*
 * milter_reply - read replies to one command until a decision. Returns 0 on
 * 'c' (go on), 1 on a final reply (counted as a kind), -1 on an error (also
 * for a tempfail: the scanner could not decide). At EOM, header changes and
 * quarantine come first; they are skipped.
 */
static int
milter_reply(struct worker *w, int eom)
{
    char cmd;
    size_t n;

    for (;;) {
        if (milter_read(w, &cmd, &n) < 0) {
            fail(w, "milter: read: connection lost or bad packet");
            return -1;
        }
        switch (cmd) {
        case 'p': /* progress */
            continue;
        case 'c':
            if (!eom)
                return 0;
            count_kind(&w->kinds, "continue", 8);
            return 1;
        case '+':
        case '-':
        case '2':
        case 'b':
        case 'e':
        case 'h':
        case 'i':
        case 'm':
        case 'q':
        case 'l':
            if (eom)
                continue; /* modifications before the final reply */
            fail(w, "milter: modification before end of message");
            return -1;
        case 'a':
            count_kind(&w->kinds, "accept", 6);
            return 1;
        case 'd':
            count_kind(&w->kinds, "discard", 7);
            return 1;
        case 'r':
            count_kind(&w->kinds, "reject", 6);
            return 1;
        case 'y':
            if (w->buf[0] == '4') {
                fail(w, "milter: tempfail reply %.60s", (const char *)w->buf);
                return -1;
            }
            count_kind(&w->kinds, "replycode", 9);
            return 1;
        case 't':
            fail(w, "milter: tempfail");
            return -1;
        case 's':
            if (!eom)
                return 0; /* skip: the caller stops sending body */
            fail(w, "milter: skip at end of message");
            return -1;
        default: {
            char c[2] = {cmd, '\0'};
            fail(w, "milter: unexpected reply '%s'", c);
            return -1;
        }
        }
    }
}

static void
milter_close(struct worker *w)
{
    if (w->mfd >= 0) {
        if (milter_send(w, 'Q', NULL, 0, NULL, 0) == 0)
            (void)milter_flush(w);
        close(w->mfd);
    }
    w->mfd = -1;
}

/* milter_open - connect, negotiate, CONNECT and HELO; 0 or -1 */
static int
milter_open(struct worker *w)
{
    static const unsigned char conn[] = "bench.localhost\0"
                                        "4\x00\x19"
                                        "127.0.0.1";
    unsigned char opt[12];
    char cmd;
    size_t n;
    int r;

    w->mout_len = w->min_pos = w->min_len = 0;
    if ((w->mfd = connect_unix(sock_path)) < 0) {
        fail(w, "milter: connect: %s", strerror(errno));
        return -1;
    }
    tm_put_be32(opt, 6);
    tm_put_be32(opt + 4, 0x1FFu);
    tm_put_be32(opt + 8, SMFIP_ALL_V6);
    if (milter_send(w, 'O', opt, sizeof(opt), NULL, 0) < 0 ||
        milter_read(w, &cmd, &n) < 0 || cmd != 'O' || n < 12) {
        fail(w, "milter: option negotiation failed");
        goto bad;
    }
    w->mproto = tm_get_be32(w->buf + 8);
    if (!(w->mproto & SMFIP_NOCONNECT)) {
        if (milter_send(w, 'C', conn, sizeof(conn), NULL, 0) < 0)
            goto werr;
        if (!(w->mproto & SMFIP_NR_CONN) && (r = milter_reply(w, 0)) != 0) {
            if (r > 0)
                fail(w, "milter: connection refused at CONNECT");
            goto bad;
        }
    }
    if (!(w->mproto & SMFIP_NOHELO)) {
        if (milter_send(w, 'H', "bench.localhost", 16, NULL, 0) < 0)
            goto werr;
        if (!(w->mproto & SMFIP_NR_HELO) && (r = milter_reply(w, 0)) != 0) {
            if (r > 0)
                fail(w, "milter: connection refused at HELO");
            goto bad;
        }
    }
    return 0;
werr:
    fail(w, "milter: write: %s", strerror(errno));
bad:
    close(w->mfd);
    w->mfd = -1;
    return -1;
}

/*
 * milter_step - send one command and, unless its no-reply bit was
 * negotiated, read the reply. 0: go on; 1: the message is decided; -1 error.
 */
static int
milter_step(struct worker *w, char cmd, const void *a, size_t an, const void *b, size_t bn,
            uint32_t nr_bit)
{
    if (milter_send(w, cmd, a, an, b, bn) < 0) {
        fail(w, "milter: write: %s", strerror(errno));
        return -1;
    }
    if (w->mproto & nr_bit)
        return 0;
    return milter_reply(w, 0);
}

/* milter_headers - each header of the message as name\0value\0; 0, 1 or -1 */
static int
milter_headers(struct worker *w, const unsigned char *p, size_t hlen, unsigned char **scratch,
               size_t *scap)
{
    size_t i = 0;

    while (i < hlen) {
        size_t s = i, colon = 0, e, vs, k = 0;
        int r;
        /* a header: its first line and every continuation line */
        for (e = i; e < hlen; e++) {
            if (p[e] == ':' && colon == 0)
                colon = e;
            if (p[e] == '\n' && !(e + 1 < hlen && (p[e + 1] == ' ' || p[e + 1] == '\t')))
                break;
        }
        i = e + 1;
        if (colon == 0 || colon == s)
            continue; /* not a header line */
        vs = colon + 1;
        if (!(w->mproto & SMFIP_HDR_LEADSPC))
            while (vs < e && (p[vs] == ' ' || p[vs] == '\t'))
                vs++;
        if (*scap < (colon - s) + (e - vs) + 2) {
            *scap = (colon - s) + (e - vs) + 2;
            *scratch = xrealloc(*scratch, *scap);
        }
        memcpy(*scratch, p + s, colon - s);
        k = colon - s;
        (*scratch)[k++] = '\0';
        for (; vs < e; vs++)
            if (p[vs] != '\r')
                (*scratch)[k++] = p[vs];
        (*scratch)[k++] = '\0';
        if ((r = milter_step(w, 'L', *scratch, k, NULL, 0, SMFIP_NR_HDR)) != 0)
            return r;
    }
    return 0;
}

/* milter_body - the body in chunks; 0, 1 or -1 (a skip reply ends it early with 0) */
static int
milter_body(struct worker *w, const unsigned char *p, size_t len)
{
    size_t off, n;

    for (off = 0; off < len; off += n) {
        n = len - off < MILTER_CHUNK ? len - off : MILTER_CHUNK;
        if (milter_send(w, 'B', p + off, n, NULL, 0) < 0) {
            fail(w, "milter: write: %s", strerror(errno));
            return -1;
        }
        if (!(w->mproto & SMFIP_NR_BODY)) {
            char cmd;
            size_t k;
            if (milter_read(w, &cmd, &k) < 0) {
                fail(w, "milter: read: connection lost");
                return -1;
            }
            if (cmd == 's')
                return 0;
            if (cmd != 'c') {
                fail(w, "milter: decision during body");
                return -1;
            }
        }
    }
    return 0;
}

static int
milter_one(struct worker *w, const struct msg *m)
{
    static const char from[] = "<bench@example.org>";
    static const char rcpt[] = "<rcpt@example.net>";
    const unsigned char *p = m->p, *end = m->p + m->len, *ls, *le, *body = end;
    size_t hlen;
    unsigned char *hbuf = NULL;
    size_t hcap = 0;
    int r = 0;

    if (w->mfd < 0 && milter_open(w) < 0)
        return -1;
    /* an mbox "From " line is not part of the message */
    if (m->len > 5 && memcmp(p, "From ", 5) == 0) {
        const unsigned char *nl = memchr(p, '\n', m->len);
        p = nl ? nl + 1 : end;
    }
    /* the header section ends at the first empty line; the body follows it */
    hlen = (size_t)(end - p);
    for (ls = p; ls < end; ls = le + 1) {
        le = memchr(ls, '\n', (size_t)(end - ls));
        if (le == NULL)
            le = end;
        if (le == ls || (le == ls + 1 && *ls == '\r')) {
            hlen = (size_t)(ls - p);
            body = le < end ? le + 1 : end;
            break;
        }
    }
    if (!(w->mproto & SMFIP_NOMAIL))
        r = milter_step(w, 'M', from, sizeof(from), NULL, 0, SMFIP_NR_MAIL);
    if (r == 0 && !(w->mproto & SMFIP_NORCPT))
        r = milter_step(w, 'R', rcpt, sizeof(rcpt), NULL, 0, SMFIP_NR_RCPT);
    if (r == 0 && !(w->mproto & SMFIP_NODATA))
        r = milter_step(w, 'T', NULL, 0, NULL, 0, SMFIP_NR_DATA);
    if (r == 0 && !(w->mproto & SMFIP_NOHDRS))
        r = milter_headers(w, p, hlen, &hbuf, &hcap);
    if (r == 0 && !(w->mproto & SMFIP_NOEOH))
        r = milter_step(w, 'N', NULL, 0, NULL, 0, SMFIP_NR_EOH);
    if (r == 0 && !(w->mproto & SMFIP_NOBODY))
        r = milter_body(w, body, (size_t)(end - body));
    free(hbuf);
    if (r == 0) {
        if (milter_send(w, 'E', NULL, 0, NULL, 0) < 0) {
            fail(w, "milter: write: %s", strerror(errno));
            r = -1;
        } else {
            r = milter_reply(w, 1);
        }
    }
    if (r < 0) {
        /* the connection's state is unknown now: start a new one */
        if (w->mfd >= 0)
            close(w->mfd);
        w->mfd = -1;
        return -1;
    }
    return 0;
}

/* ---- in process ------------------------------------------------------------- */

static int
inproc_one(struct worker *w, const struct msg *m)
{
    struct tamis_task *t;
    struct tm_task *tt;
    struct tm_verdict v;
    const char *name;

    if (!public_api) {
        if (w->ms == NULL && scanner->matcher != NULL &&
            (w->ms = tm_match_scratch_new(scanner->matcher)) == NULL) {
            fail(w, "inproc: match scratch: out of memory");
            return -1;
        }
        if ((tt = tm_task_new(scanner->engine)) == NULL) {
            fail(w, "inproc: task: out of memory");
            return -1;
        }
        if (tm_scanner_scan(scanner, w->ms, tt, m->p, m->len, 0, &v) != TM_OK) {
            fail(w, "inproc: scan failed");
            tm_task_free(tt);
            return -1;
        }
        name = tm_action_name(v.action);
        count_kind(&w->kinds, name, strlen(name));
        tm_task_free(tt);
        return 0;
    }
    t = tamis_task_new(engine);
    const char *action = NULL;

    if (t == NULL) {
        fail(w, "inproc: task: out of memory");
        return -1;
    }
    if (tamis_task_scan(t, m->p, m->len) != TAMIS_OK) {
        fail(w, "inproc: scan failed");
        tamis_task_free(t);
        return -1;
    }
    (void)tamis_task_score(t, &action);
    if (action == NULL)
        action = "none";
    count_kind(&w->kinds, action, strlen(action));
    tamis_task_free(t);
    return 0;
}

/* ---- driver ------------------------------------------------------------------- */

static int
one(struct worker *w, const struct msg *m)
{
    switch (proto) {
    case P_MILTER:
        return milter_one(w, m);
    case P_SPAMD:
        return spamd_one(w, m);
    case P_HTTP:
        return http_one(w, m);
    case P_CLAMD:
        return clamd_one(w, m);
    case P_INPROC:
        return inproc_one(w, m);
    }
    return -1;
}

/* proc_kb - the value of FIELD ("VmRSS:", "VmHWM:") in /proc/PID/status (0: self), in kB */
static long
proc_kb(long pid, const char *field)
{
    char path[64], line[256];
    size_t fl = strlen(field);
    long kb = 0;
    FILE *f;

    if (pid > 0)
        snprintf(path, sizeof(path), "/proc/%ld/status", pid);
    else
        snprintf(path, sizeof(path), "/proc/self/status");
    if ((f = fopen(path, "r")) == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, field, fl) == 0) {
            kb = strtol(line + fl, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;

    for (;;) {
        size_t i = atomic_fetch_add(&next_msg, 1), f, m;
        double t0;
        if (i >= run_to)
            break;
        if (timing && rate > 0) {
            /* open loop: due at a fixed time; the latency counts from then */
            double due = sched_t0 + (double)(i - run_from) / rate;
            if (now_s() < due)
                sleep_until(due);
            late_ms[i - run_from] = (now_s() - due) * 1e3;
            t0 = due;
            f = atomic_fetch_add(&in_flight, 1) + 1;
            m = atomic_load(&max_in_flight);
            while (f > m && !atomic_compare_exchange_weak(&max_in_flight, &m, f))
                ;
        } else {
            t0 = now_s();
        }
        (void)one(w, &msgs[i % nmsgs]);
        if (timing && rate > 0)
            atomic_fetch_sub(&in_flight, 1);
        if (timing) {
            size_t done;
            lat_ms[i] = (now_s() - t0) * 1e3; /* timed phases count from 0 */
            done = atomic_fetch_add(&n_answered, 1) + 1;
            if (sample_every > 0 && done % sample_every == 0 && done / sample_every < nsamples) {
                samples[done / sample_every][0] = (long)done;
                samples[done / sample_every][1] = proc_kb(sample_pid, "VmRSS:");
            }
        }
    }
    if (proto == P_MILTER)
        milter_close(w);
    tm_match_scratch_free(w->ms);
    w->ms = NULL;
    return NULL;
}

static struct worker *green_ws; /* the event loop's workers, for green_main */

static void
green_main(int k)
{
    struct worker *w = &green_ws[k];

    (void)worker_main(w);
    w->done = 1; /* uc_link: back to the event loop */
}

/* resume - run green thread w until it waits again or ends */
static void
resume(struct worker *w)
{
    cur = w;
    w->wake_at = 0;
    if (swapcontext(&sched_uc, &w->uc) < 0)
        die("swapcontext failed");
    cur = NULL;
}

/* green_init - worker k as a green thread that starts at worker_main, runnable now */
__attribute__((noinline)) static void
green_init(struct worker *w, int k)
{
    if (w->stack == NULL) {
        /* a guard page below each stack */
        unsigned char *m = mmap(NULL, GREEN_STACK + 4096, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (m == MAP_FAILED || mprotect(m, 4096, PROT_NONE) < 0)
            die("cannot map a green thread's stack");
        w->stack = m + 4096;
    }
    if (getcontext(&w->uc) < 0) /* returns once: the context is only a template */
        die("getcontext failed");
    w->uc.uc_stack.ss_sp = w->stack;
    w->uc.uc_stack.ss_size = GREEN_STACK;
    w->uc.uc_link = &sched_uc;
    makecontext(&w->uc, (void (*)(void))green_main, 1, k);
    w->done = 0;
    w->wake_at = 1e-9; /* runnable at once */
}

/*
 * evloop_run - the nw workers as green threads on this thread until all have
 * ended: each runs until it waits for its socket (epoll) or for a time (the
 * next due message); the loop sleeps in epoll_pwait2 until the earliest of
 * those.
 */
static void
evloop_run(struct worker *ws, size_t nw)
{
    struct epoll_event ev[64];
    size_t live = nw, i;
    int n, k;

    green_ws = ws;
    for (i = 0; i < nw; i++)
        green_init(&ws[i], (int)i);
    while (live > 0) {
        double next = INFINITY, now = now_s(), d = 0;
        struct timespec ts, *tp = NULL;
        for (i = 0; i < nw; i++) {
            struct worker *w = &ws[i];
            if (!w->done && w->wake_at > 0 && w->wake_at <= now) {
                resume(w);
                live -= (size_t)w->done;
                now = now_s();
            }
            if (!w->done && w->wake_at > 0 && w->wake_at < next)
                next = w->wake_at;
        }
        if (live == 0)
            break;
        if (next < INFINITY) {
            d = next - now_s();
            if (d < 0)
                d = 0;
            ts.tv_sec = (time_t)d;
            ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
            tp = &ts;
        }
        n = epoll_pwait2(epfd, ev, (int)(sizeof(ev) / sizeof(ev[0])), tp, NULL);
        if (n < 0 && errno == ENOSYS) /* a kernel before 5.11: millisecond timeouts, rounded up */
            n = epoll_wait(epfd, ev, (int)(sizeof(ev) / sizeof(ev[0])),
                           tp ? (int)(d * 1e3) + 1 : -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("epoll_pwait2 failed");
        for (k = 0; k < n; k++) {
            struct worker *w = ev[k].data.ptr;
            resume(w);
            live -= (size_t)w->done;
        }
    }
}

/* run_phase - messages [from, to) through nw workers; the wall time */
static double
run_phase(struct worker *ws, size_t nw, size_t from, size_t to)
{
    double t0;
    size_t i;

    run_from = from;
    run_to = to;
    atomic_store(&next_msg, from);
    t0 = now_s();
    if (timing && rate > 0) {
        /* the first message is due once the threads are up */
        sched_t0 = t0 + 0.002;
        t0 = sched_t0;
    }
    if (evloop) {
        evloop_run(ws, nw);
        return now_s() - t0;
    }
    for (i = 0; i < nw; i++)
        if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0)
            die("pthread_create failed");
    for (i = 0; i < nw; i++)
        pthread_join(ws[i].tid, NULL);
    return now_s() - t0;
}

static void
add_file(const char *path, size_t *cap)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    unsigned char *p;

    if (f == NULL || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "loadgen: cannot read %s\n", path);
        exit(2);
    }
    p = xrealloc(NULL, (size_t)st.st_size + 1);
    if (fread(p, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        fprintf(stderr, "loadgen: short read on %s\n", path);
        exit(2);
    }
    fclose(f);
    if (nmsgs == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        msgs = xrealloc(msgs, *cap * sizeof(*msgs));
    }
    msgs[nmsgs].p = p;
    msgs[nmsgs].len = (size_t)st.st_size;
    nmsgs++;
}

static void
add_list(const char *list, size_t *cap)
{
    FILE *f = fopen(list, "r");
    char line[4096];

    if (f == NULL) {
        fprintf(stderr, "loadgen: cannot read %s\n", list);
        exit(2);
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t n = strlen(line);
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n > 0)
            add_file(line, cap);
    }
    fclose(f);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* pct - nearest-rank percentile of sorted v[0..n) */
static double
pct(const double *v, size_t n, double q)
{
    size_t k;

    if (n == 0)
        return 0;
    k = (size_t)(q * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return v[k - 1];
}

/* self_hwm_kb - this process's peak resident set (VmHWM), in kB */
static long
self_hwm_kb(void)
{
    return proc_kb(0, "VmHWM:");
}

static void
json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

struct result {
    const char *label;
    size_t conc, n, warm;
    double bytes, secs, startup;
    double late_p99, late_max; /* open loop: send time - due time, ms */
    struct kinds kinds;
    unsigned long errors;
    const char *first_error;
};

static void
print_json(FILE *f, const struct result *r, const double *sorted)
{
    size_t i;
    double sum = 0;
    static const char *names[] = {"milter", "spamd", "http", "clamd", "inproc"};

    for (i = 0; i < r->n; i++)
        sum += sorted[i];
    fprintf(f, "{\"label\": ");
    json_str(f, r->label);
    fprintf(f,
            ", \"proto\": \"%s\", \"concurrency\": %zu, \"messages\": %zu, \"warmup\": %zu, "
            "\"bytes\": %.0f, \"seconds\": %.4f, \"msgs_per_s\": %.2f, \"mb_per_s\": %.3f, "
            "\"latency_ms\": {\"p50\": %.3f, \"p99\": %.3f, \"max\": %.3f, \"mean\": %.3f}",
            names[proto], r->conc, r->n, r->warm, r->bytes, r->secs,
            r->secs > 0 ? (double)r->n / r->secs : 0.0,
            r->secs > 0 ? r->bytes / 1e6 / r->secs : 0.0, pct(sorted, r->n, 0.50),
            pct(sorted, r->n, 0.99), r->n ? sorted[r->n - 1] : 0.0,
            r->n ? sum / (double)r->n : 0.0);
    if (r->startup >= 0)
        fprintf(f, ", \"startup_s\": %.4f", r->startup);
    fprintf(f, ", \"vmhwm_kb\": %ld", self_hwm_kb());
    fprintf(f, ", \"open_loop\": %s, \"client\": \"%s\"", rate > 0 ? "true" : "false",
            evloop ? "event loop, 1 thread" : "1 thread per connection");
    if (rate > 0)
        fprintf(f, ", \"rate_target\": %.2f, \"rate_achieved\": %.2f, "
                   "\"send_late_ms\": {\"p99\": %.3f, \"max\": %.3f}, \"max_in_flight\": %zu",
                rate, r->secs > 0 ? (double)r->n / r->secs : 0.0, r->late_p99, r->late_max,
                atomic_load(&max_in_flight));
    if (sample_every > 0) {
        fprintf(f, ", \"sample_pid\": %ld, \"pid_vmhwm_kb\": %ld, \"rss_samples\": [", sample_pid,
                proc_kb(sample_pid, "VmHWM:"));
        for (i = 0; i < nsamples; i++)
            if (samples[i][0] >= 0)
                fprintf(f, "%s[%ld, %ld]", i ? ", " : "", samples[i][0], samples[i][1]);
        fprintf(f, "]");
    }
    fprintf(f, ", \"replies\": {");
    for (i = 0; i < r->kinds.n; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_str(f, r->kinds.name[i]);
        fprintf(f, ": %lu", r->kinds.count[i]);
    }
    fprintf(f, "}, \"errors\": %lu", r->errors);
    if (r->first_error) {
        fprintf(f, ", \"first_error\": ");
        json_str(f, r->first_error);
    }
    fprintf(f, "}\n");
}

static enum proto
parse_proto(const char *s)
{
    if (strcmp(s, "milter") == 0)
        return P_MILTER;
    if (strcmp(s, "spamd") == 0)
        return P_SPAMD;
    if (strcmp(s, "http") == 0)
        return P_HTTP;
    if (strcmp(s, "clamd") == 0)
        return P_CLAMD;
    if (strcmp(s, "inproc") == 0)
        return P_INPROC;
    die("--proto is one of milter, spamd, http, clamd, inproc");
    return P_INPROC;
}

static size_t
parse_size(const char *s)
{
    char *e;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &e, 10);
    if (errno || *e || e == s)
        die("bad number");
    return (size_t)v;
}

/* ping_once - 0 when the socket answered the protocol's liveness request */
static int
ping_once(struct worker *w)
{
    int fd, ok = 0;
    long len;

    if (proto == P_MILTER) {
        unsigned char opt[12];
        char cmd;
        size_t n;
        if ((fd = connect_unix(sock_path)) < 0)
            return -1;
        tm_put_be32(opt, 6);
        tm_put_be32(opt + 4, 0x1FFu);
        tm_put_be32(opt + 8, SMFIP_ALL_V6);
        w->mfd = fd;
        w->mout_len = w->min_pos = w->min_len = 0;
        ok = milter_send(w, 'O', opt, sizeof(opt), NULL, 0) == 0 &&
             milter_read(w, &cmd, &n) == 0 && cmd == 'O';
        close(fd);
        w->mfd = -1;
        return ok ? 0 : -1;
    }
    if ((fd = connect_unix(sock_path)) < 0)
        return -1;
    if (proto == P_SPAMD)
        ok = write_all(fd, "PING SPAMC/1.5\r\n\r\n", 18) == 0;
    else if (proto == P_HTTP)
        ok = write_all(fd, "GET /ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                       58) == 0;
    else if (proto == P_CLAMD)
        ok = write_all(fd, "zPING", 6) == 0;
    if (ok && proto == P_SPAMD)
        shutdown(fd, SHUT_WR);
    len = ok ? read_until_eof(w, fd) : -1;
    close(fd);
    if (len <= 0)
        return -1;
    if (proto == P_SPAMD)
        return strstr((char *)w->buf, "PONG") ? 0 : -1;
    if (proto == P_HTTP)
        return strncmp((char *)w->buf + 8, " 200", 4) == 0 ? 0 : -1;
    return strncmp((char *)w->buf, "PONG", 4) == 0 ? 0 : -1;
}

static int
cmd_ping(int argc, char **argv)
{
    struct worker w;
    double timeout = DEFAULT_TIMEOUT, t0 = now_s();
    long pid = 0;
    int i;

    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--proto") == 0 && i + 1 < argc)
            proto = parse_proto(argv[++i]);
        else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
            sock_path = argv[++i];
        else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
            timeout = strtod(argv[++i], NULL);
        else if (strcmp(argv[i], "--pid") == 0 && i + 1 < argc)
            pid = (long)parse_size(argv[++i]);
        else
            die("usage: loadgen ping --proto P --socket PATH [--timeout S] [--pid PID]");
    }
    if (sock_path == NULL || proto == P_INPROC)
        die("ping needs --socket and a wire protocol");
    memset(&w, 0, sizeof(w));
    w.mfd = -1;
    while (ping_once(&w) != 0) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        if (now_s() - t0 > timeout) {
            fprintf(stderr, "loadgen: %s did not answer within %.0f s\n", sock_path, timeout);
            return 1;
        }
        if (pid > 0 && kill((pid_t)pid, 0) != 0) {
            fprintf(stderr, "loadgen: server %ld exited before %s answered\n", pid, sock_path);
            return 1;
        }
        nanosleep(&ts, NULL);
    }
    printf("%.4f\n", now_s() - t0);
    free(w.buf);
    return 0;
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: loadgen run --proto milter|spamd|http|clamd|inproc [--socket PATH]\n"
            "                   [--concurrency N] [--warmup K] [--json OUT] [--label NAME]\n"
            "                   [--list FILE] [--rules PATH]... [--av-db PATH] [--cache DIR]\n"
            "                   [--build-only] [--public-api] [--count N] [--min-seconds S]\n"
            "                   [--rate MSGS_PER_S [--threads]]\n"
            "                   [--sample-pid PID --sample-every K] [FILE...]\n"
            "       loadgen ping --proto P --socket PATH [--timeout S] [--pid PID]\n");
    exit(2);
}

static void
build_engine(const char **rules, size_t nrules, const char *avdb, const char *cache, double *secs)
{
    char err[1024];
    size_t i;
    double t0 = now_s();

    if (!public_api) {
        struct tm_scanner_opts o;
        memset(&o, 0, sizeof(o));
        o.limits = tm_limits_default();
        tm_verdict_cfg_default(&o.cfg);
        o.rule_paths = rules;
        o.nrule_paths = nrules;
        o.cache_dir = cache;
        o.av_db = avdb;
        err[0] = '\0';
        if (tm_scanner_new(&o, &scanner, err, sizeof(err)) != TM_OK) {
            fprintf(stderr, "loadgen: engine: %s\n", err[0] ? err : "the rules have errors");
            exit(2);
        }
        *secs = now_s() - t0;
        return;
    }
    if ((engine = tamis_engine_new()) == NULL)
        die("tamis_engine_new failed");
    if (cache && tamis_engine_set(engine, "cache_dir", cache, err, sizeof(err)) != TAMIS_OK)
        die(err);
    if (avdb && tamis_engine_set(engine, "av_db", avdb, err, sizeof(err)) != TAMIS_OK)
        die(err);
    for (i = 0; i < nrules; i++)
        if (tamis_engine_add_rules(engine, rules[i]) != TAMIS_OK)
            die("tamis_engine_add_rules failed");
    if (tamis_engine_build(engine, err, sizeof(err)) != TAMIS_OK)
        die(err);
    *secs = now_s() - t0;
}

static int
cmd_run(int argc, char **argv)
{
    const char *json = NULL, *avdb = NULL, *cache = NULL, *label = "";
    const char **rules = xrealloc(NULL, (size_t)argc * sizeof(*rules));
    size_t nrules = 0, conc = 1, warm = 0, cap = 0, i, j, nw, count = 0, total;
    struct worker *ws;
    struct result r;
    double bytes = 0, min_secs = 0;
    int a, have_proto = 0, build_only = 0;

    for (a = 0; a < argc; a++) {
        const char *o = argv[a];
        if (o[0] != '-') {
            add_file(o, &cap);
            continue;
        }
        if (strcmp(o, "--build-only") == 0) {
            build_only = 1;
            continue;
        }
        if (strcmp(o, "--public-api") == 0) {
            public_api = 1;
            continue;
        }
        if (strcmp(o, "--threads") == 0) {
            client_threads = 1;
            continue;
        }
        if (a + 1 >= argc)
            usage();
        if (strcmp(o, "--proto") == 0) {
            proto = parse_proto(argv[++a]);
            have_proto = 1;
        } else if (strcmp(o, "--socket") == 0)
            sock_path = argv[++a];
        else if (strcmp(o, "--concurrency") == 0)
            conc = parse_size(argv[++a]);
        else if (strcmp(o, "--warmup") == 0)
            warm = parse_size(argv[++a]);
        else if (strcmp(o, "--json") == 0)
            json = argv[++a];
        else if (strcmp(o, "--label") == 0)
            label = argv[++a];
        else if (strcmp(o, "--list") == 0)
            add_list(argv[++a], &cap);
        else if (strcmp(o, "--rules") == 0)
            rules[nrules++] = argv[++a];
        else if (strcmp(o, "--av-db") == 0)
            avdb = argv[++a];
        else if (strcmp(o, "--cache") == 0)
            cache = argv[++a];
        else if (strcmp(o, "--count") == 0)
            count = parse_size(argv[++a]);
        else if (strcmp(o, "--rate") == 0) {
            char *e;
            rate = strtod(argv[++a], &e);
            if (*e || !(rate > 0))
                die("--rate wants a positive number of messages per second");
        } else if (strcmp(o, "--min-seconds") == 0) {
            char *e;
            min_secs = strtod(argv[++a], &e);
            if (*e || !(min_secs >= 0))
                die("--min-seconds wants a number of seconds");
        } else if (strcmp(o, "--sample-pid") == 0)
            sample_pid = (long)parse_size(argv[++a]);
        else if (strcmp(o, "--sample-every") == 0)
            sample_every = parse_size(argv[++a]);
        else
            usage();
    }
    if (!have_proto || conc < 1 || conc > 1024 || (nmsgs == 0 && !build_only) ||
        (proto != P_INPROC && sock_path == NULL) || (build_only && proto != P_INPROC) ||
        (min_secs > 0 && (rate > 0 || sample_pid >= 0)))
        usage();
    memset(&r, 0, sizeof(r));
    r.startup = -1;
    if (proto == P_INPROC)
        build_engine(rules, nrules, avdb, cache, &r.startup);
    if (build_only) {
        printf("{\"startup_s\": %.4f, \"vmhwm_kb\": %ld}\n", r.startup, self_hwm_kb());
        return 0;
    }
    if (warm > nmsgs)
        warm = nmsgs;
    if (count == 0)
        count = nmsgs;
    if (sample_pid < 0)
        sample_every = 0;
    if (sample_every > 0) {
        nsamples = count / sample_every + 1;
        samples = xrealloc(NULL, nsamples * sizeof(*samples));
        for (i = 0; i < nsamples; i++)
            samples[i][0] = -1;
    }
    ws = xrealloc(NULL, conc * sizeof(*ws));
    memset(ws, 0, conc * sizeof(*ws));
    for (i = 0; i < conc; i++) {
        ws[i].id = i;
        ws[i].mfd = -1;
    }
    if (rate > 0)
        late_ms = xrealloc(NULL, count * sizeof(*late_ms));
    nw = conc;
    if (rate > 0 && proto != P_INPROC && !client_threads) {
        evloop = 1;
        if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
            die("epoll_create1 failed");
    }
    if (warm > 0) {
        timing = 0;
        (void)run_phase(ws, nw, 0, warm);
        for (i = 0; i < nw; i++)
            ws[i].kinds.n = 0; /* errors of the warm-up count */
    }
    timing = 1;
    if (sample_every > 0) {
        samples[0][0] = 0;
        samples[0][1] = proc_kb(sample_pid, "VmRSS:");
    }
    /* the timed phases: [0, count), then with --min-seconds [count, 2 count) ... */
    total = 0;
    do {
        lat_ms = xrealloc(lat_ms, (total + count) * sizeof(*lat_ms));
        r.secs += run_phase(ws, nw, total, total + count);
        total += count;
    } while (r.secs < min_secs);
    for (i = 0; i < total; i++)
        bytes += (double)msgs[i % nmsgs].len;
    if (rate > 0) {
        qsort(late_ms, count, sizeof(*late_ms), cmp_double);
        r.late_p99 = pct(late_ms, count, 0.99);
        r.late_max = late_ms[count - 1];
    }
    r.label = label;
    r.conc = conc;
    r.n = total;
    r.warm = warm;
    r.bytes = bytes;
    for (i = 0; i < nw; i++) {
        r.errors += ws[i].errors;
        if (r.first_error == NULL && ws[i].first_error[0])
            r.first_error = ws[i].first_error;
        for (j = 0; j < ws[i].kinds.n; j++)
            count_kind_n(&r.kinds, ws[i].kinds.name[j], strlen(ws[i].kinds.name[j]),
                         ws[i].kinds.count[j]);
    }
    qsort(lat_ms, total, sizeof(*lat_ms), cmp_double);
    print_json(stdout, &r, lat_ms);
    if (json) {
        FILE *f = fopen(json, "w");
        if (f == NULL)
            die("cannot write --json file");
        print_json(f, &r, lat_ms);
        fclose(f);
    }
    {
        unsigned long answered = 0;
        for (i = 0; i < r.kinds.n; i++)
            answered += r.kinds.count[i];
        if (r.errors > 0 || answered != total) {
            fprintf(stderr, "loadgen: %s: %lu of %zu requests failed (%lu answered)%s%s\n", label,
                    r.errors, total, answered, r.first_error ? "; first: " : "",
                    r.first_error ? r.first_error : "");
            return 1;
        }
    }
    if (engine)
        tamis_engine_free(engine);
    if (scanner)
        tm_scanner_free(scanner);
    return 0;
}

int
main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "ping") == 0)
        return cmd_ping(argc - 2, argv + 2);
    usage();
    return 2;
}
