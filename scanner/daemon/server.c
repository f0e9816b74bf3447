/*
 * server.c - tamisd's event loop, workers, engine swap and metrics; see
 * daemon.h. Linux: epoll, eventfd, signalfd.
 */
#define _GNU_SOURCE 1 /* accept4, initgroups */

#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <netdb.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/json.h"
#include "core/task.h"
#include "mime/charset.h"
#include "verdict/report.h"
#include "verdict/scanner.h"

#define DAEMON_READ_CHUNK 65536
#define DAEMON_OUT_MAX    (64u << 20)
#define DAEMON_IN_MAX     (1u << 20) /* unconsumed input a session may leave */

/* ---- byte buffers ------------------------------------------------------------ */

tm_rc
tm_dbuf_append(struct tm_dbuf *b, const void *p, size_t n)
{
    size_t max = b->max ? b->max : DAEMON_OUT_MAX, nc;

    if (n == 0)
        return TM_OK;
    if (n > max - b->len || b->len > max)
        return TM_ELIMIT;
    if (b->len + n > b->cap) {
        nc = b->cap ? b->cap : 4096;
        while (nc < b->len + n)
            nc *= 2;
        if (nc > max)
            nc = max;
        b->p = tm_xrealloc(b->p, nc);
        b->cap = nc;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return TM_OK;
}

void
tm_dbuf_consume(struct tm_dbuf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

void
tm_dbuf_free(struct tm_dbuf *b)
{
    tm_free(b->p);
    memset(b, 0, sizeof(*b));
}

/* ---- the engine in force ------------------------------------------------------- */

struct dengine {
    struct tm_scanner *sc;
    _Atomic unsigned refs;
    _Atomic uint64_t *sym_hits; /* per rule of sc, for /metrics */
};

static pthread_mutex_t engine_mu = PTHREAD_MUTEX_INITIALIZER;
static struct dengine *engine_cur;

static struct dengine *
engine_get(void)
{
    struct dengine *e;

    pthread_mutex_lock(&engine_mu);
    e = engine_cur;
    atomic_fetch_add(&e->refs, 1);
    pthread_mutex_unlock(&engine_mu);
    return e;
}

static void
engine_put(struct dengine *e)
{
    if (e != NULL && atomic_fetch_sub(&e->refs, 1) == 1) {
        tm_scanner_free(e->sc);
        tm_free((void *)(uintptr_t)e->sym_hits);
        tm_free(e);
    }
}

/* engine_build - a scanner from the configuration; NULL and err on failure */
static struct dengine *
engine_build(const struct tm_daemon_cfg *cfg, char *err, size_t errlen)
{
    struct tm_scanner_opts o;
    struct tm_scanner *sc = NULL;
    const char *def_rules[1] = {TAMIS_RULES_DIR};
    char cache[4096], avbuf[4096];
    struct dengine *e;
    size_t i;
    tm_rc rc;

    memset(&o, 0, sizeof(o));
    o.limits = cfg->limits;
    o.cfg = cfg->verdict;
    if (cfg->nrules > 0) {
        o.rule_paths = (const char *const *)cfg->rules;
        o.nrule_paths = cfg->nrules;
    } else {
        o.rule_paths = def_rules;
        o.nrule_paths = 1;
    }
    o.cache_dir = cfg->cache_dir[0] ? cfg->cache_dir
                                    : tm_scanner_default_cache_dir(cache, sizeof(cache));
    o.url_blocklists = (const char *const *)cfg->url_blocklists;
    o.nurl_blocklists = cfg->nurl_blocklists;
    o.url_allowlists = (const char *const *)cfg->url_allowlists;
    o.nurl_allowlists = cfg->nurl_allowlists;
    o.av_all_leaves = cfg->av_all_parts;
    o.av_tmpdir = cfg->av_tmpdir;
    if (cfg->av) {
        int fallback = 0;
        if (cfg->av_db[0] != '\0') {
            o.av_db = cfg->av_db;
        } else if ((o.av_db = tm_scanner_default_av_db(TAMIS_RULES_DIR, avbuf, sizeof(avbuf),
                                                       &fallback)) == NULL) {
            tm_log(TM_LOG_WARN, "no ClamAV database (none in /var/lib/clamav); attachments "
                                "are not scanned for malware");
        } else if (fallback) {
            tm_log(TM_LOG_WARN, "no ClamAV database in /var/lib/clamav (run freshclam); using "
                                "the test signatures of %s", o.av_db);
        }
    }
    if (cfg->dns_zone[0] != '\0')
        o.dns_zone = cfg->dns_zone;
    o.dns = cfg->dns;
    o.dns_servers = cfg->dns_servers[0] ? cfg->dns_servers : NULL;
    if (cfg->authserv_id[0] != '\0') {
        o.auth.authserv_id = cfg->authserv_id;
    } else {
        static char host[256];
        if (host[0] == '\0' && (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0'))
            snprintf(host, sizeof(host), "tamis");
        o.auth.authserv_id = host;
    }
    o.outbound.sender_domains = cfg->sender_domains[0] ? cfg->sender_domains : NULL;
    o.outbound.dkim_keys = (const char *const *)cfg->dkim_sign;
    o.outbound.ndkim_keys = cfg->ndkim_sign;
    o.outbound.dkim_headers = cfg->dkim_sign_headers[0] ? cfg->dkim_sign_headers : NULL;
    o.outbound.dkim_canon = cfg->dkim_sign_canon[0] ? cfg->dkim_sign_canon : NULL;
    o.outbound.dkim_sign_all = cfg->dkim_sign_all;
    o.outbound.arc_seal = cfg->arc_seal[0] ? cfg->arc_seal : NULL;
    o.outbound.auth_results = cfg->auth_results && (cfg->dns || cfg->dns_zone[0] != '\0');
    if (o.outbound.arc_seal != NULL && !cfg->dns && cfg->dns_zone[0] == '\0')
        tm_log(TM_LOG_WARN, "arc_seal needs sender authentication (dns = yes or dns_zone): "
                            "no mail will be sealed");
    rc = tm_scanner_new(&o, &sc, err, errlen);
    if (sc != NULL && sc->has_rules)
        for (i = 0; i < sc->rules.ndiags; i++)
            if (sc->rules.diags[i].error)
                tm_log(TM_LOG_ERR, "%s:%u:%u: %s", sc->rules.diags[i].file,
                       sc->rules.diags[i].line, sc->rules.diags[i].col, sc->rules.diags[i].msg);
    if (rc != TM_OK) {
        if (err[0] == '\0')
            snprintf(err, errlen, "the rules have errors");
        tm_scanner_free(sc);
        return NULL;
    }
    e = tm_xcalloc(1, sizeof(*e));
    e->sc = sc;
    atomic_init(&e->refs, 1);
    e->sym_hits = tm_xcalloc(sc->rules.n ? sc->rules.n : 1, sizeof(*e->sym_hits));
    return e;
}

/* ---- metrics ------------------------------------------------------------------------ */

static const double lat_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                    0.1,   0.25,   0.5,   1,    2.5,   5};
#define NLAT (sizeof(lat_bounds) / sizeof(lat_bounds[0]))

static struct {
    _Atomic uint64_t by_action[TM_ACT__COUNT];
    _Atomic uint64_t lat[NLAT + 1];
    _Atomic uint64_t lat_sum_us;
    _Atomic uint64_t tempfails, errors, reloads, reload_failures, connections;
    _Atomic long inflight;
} metrics;

tm_rc
tm_daemon_metrics(struct tm_dbuf *out)
{
    struct dengine *e = engine_get();
    char line[512];
    uint64_t cum = 0, n = 0;
    size_t i;
    int k;
    tm_rc rc = TM_OK;

#define EMIT(...)                                                                                  \
    do {                                                                                           \
        k = snprintf(line, sizeof(line), __VA_ARGS__);                                             \
        if (rc == TM_OK && k > 0)                                                                  \
            rc = tm_dbuf_append(out, line, (size_t)k < sizeof(line) ? (size_t)k : sizeof(line) - 1); \
    } while (0)
    EMIT("# HELP tamis_messages_total Messages scanned, by action.\n"
         "# TYPE tamis_messages_total counter\n");
    for (i = 0; i < TM_ACT__COUNT; i++)
        EMIT("tamis_messages_total{action=\"%s\"} %llu\n", tm_action_name((enum tm_action)i),
             (unsigned long long)atomic_load(&metrics.by_action[i]));
    EMIT("# HELP tamis_scan_seconds Time to scan one message.\n"
         "# TYPE tamis_scan_seconds histogram\n");
    for (i = 0; i <= NLAT; i++) {
        cum += atomic_load(&metrics.lat[i]);
        if (i < NLAT)
            EMIT("tamis_scan_seconds_bucket{le=\"%g\"} %llu\n", lat_bounds[i],
                 (unsigned long long)cum);
    }
    n = cum;
    EMIT("tamis_scan_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)n);
    EMIT("tamis_scan_seconds_sum %.6f\n", (double)atomic_load(&metrics.lat_sum_us) / 1e6);
    EMIT("tamis_scan_seconds_count %llu\n", (unsigned long long)n);
    EMIT("# HELP tamis_symbols_total Rule hits since the rules were last loaded.\n"
         "# TYPE tamis_symbols_total counter\n");
    for (i = 0; i < e->sc->rules.n; i++) {
        uint64_t h = atomic_load(&e->sym_hits[i]);
        if (h > 0)
            EMIT("tamis_symbols_total{symbol=\"%.100s\"} %llu\n", e->sc->rules.rules[i].name,
                 (unsigned long long)h);
    }
    EMIT("# TYPE tamis_tempfails_total counter\ntamis_tempfails_total %llu\n",
         (unsigned long long)atomic_load(&metrics.tempfails));
    EMIT("# TYPE tamis_errors_total counter\ntamis_errors_total %llu\n",
         (unsigned long long)atomic_load(&metrics.errors));
    EMIT("# TYPE tamis_inflight gauge\ntamis_inflight %ld\n", atomic_load(&metrics.inflight));
    EMIT("# TYPE tamis_reloads_total counter\ntamis_reloads_total %llu\n",
         (unsigned long long)atomic_load(&metrics.reloads));
    EMIT("# TYPE tamis_reload_failures_total counter\ntamis_reload_failures_total %llu\n",
         (unsigned long long)atomic_load(&metrics.reload_failures));
    EMIT("# TYPE tamis_connections_total counter\ntamis_connections_total %llu\n",
         (unsigned long long)atomic_load(&metrics.connections));
#undef EMIT
    engine_put(e);
    return rc;
}

/* ---- analytics log ------------------------------------------------------------------- */

static FILE *analytics;
static pthread_mutex_t analytics_mu = PTHREAD_MUTEX_INITIALIZER;

static void
analytics_line(struct tm_task *t, const struct tm_verdict *v, const struct tm_scanner *sc,
               const struct tm_envelope *env, double scan_ms)
{
    struct tm_report_opts o;
    struct tm_json j;
    char ts[64];
    struct timespec now;
    struct tm tmv;
    size_t i;

    if (analytics == NULL)
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tmv);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tmv);
    tm_json_init(&j, 0);
    tm_json_obj(&j);
    tm_json_key(&j, "time");
    tm_json_str(&j, ts);
    tm_json_key(&j, "queue_id");
    tm_json_str(&j, env->queue_id[0] ? env->queue_id : NULL);
    tm_json_key(&j, "client_ip");
    tm_json_str(&j, env->client_ip[0] ? env->client_ip : NULL);
    tm_json_key(&j, "helo");
    tm_json_str(&j, env->helo[0] ? env->helo : NULL);
    tm_json_key(&j, "mail_from");
    tm_json_str(&j, env->mail_from[0] ? env->mail_from : NULL);
    tm_json_key(&j, "rcpt");
    tm_json_arr(&j);
    for (i = 0; i < env->nrcpt && i < 8; i++)
        tm_json_str(&j, env->rcpt[i]);
    tm_json_end_arr(&j);
    tm_json_key(&j, "verdict");
    memset(&o, 0, sizeof(o));
    o.scan_ms = scan_ms;
    o.verdict = v;
    o.rules_version = sc->rules_version;
    (void)tm_report_json(t, &o, &j);
    tm_json_end_obj(&j);
    tm_json_raw(&j, "\n");
    pthread_mutex_lock(&analytics_mu);
    fwrite(j.p, 1, j.len, analytics);
    fflush(analytics);
    pthread_mutex_unlock(&analytics_mu);
    tm_json_free(&j);
}

/* ---- jobs, connections and workers ------------------------------------------------- */

/*
 * The listeners and the connections are in one epoll set, cset, that the
 * scan workers wait on, each with EPOLLONESHOT: one thread at a time holds a
 * connection, from the event it got until it re-arms or frees it. A worker
 * accepts a connection, reads it, scans a whole message where it is (the
 * session's bytes, no copy) and writes the reply: no hand-off to another
 * thread and back (tamisd over HTTP, default rules, 2 workers and 2 clients
 * on 2 vCPUs: 4,073 -> 5,999 msgs/s, issue 10). The loop thread watches the
 * signals, idle timeouts and draining; when no worker waits, it takes the
 * ready connections itself (it looks every LOOP_POLL_MS) and queues their
 * messages, up to max_queue; beyond that, or past scan_deadline_ms in the
 * queue, the relay gets the undecided action. A worker takes the queued
 * messages before it waits for more.
 */
#define LOOP_POLL_MS  10  /* how soon the loop thread sees that every worker is busy */
#define LOOP_SWEEP_MS 100 /* idle timeouts and draining */

struct conn;

struct job {
    struct conn *c;
    unsigned char *msg; /* a queued job's copy, or the session's own bytes */
    size_t len;
    struct tm_envelope env;
    double queued_ms;
    struct tm_dbuf out; /* the reply, filled by the worker */
    int close_after;
    struct job *next;
};

static struct {
    pthread_mutex_t mu;
    struct job *head, *tail;
    size_t n, max;
    unsigned idle; /* workers waiting on cset */
    int stop;
} queue = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, 0, 0, 0};

static int epfd = -1;   /* the loop thread's epoll set: listeners, signals */
static int cset = -1;   /* epoll set of the connections (and of wakefd) */
static int wakefd = -1; /* eventfd (semaphore): a job was queued, or the workers stop */

static const struct tm_daemon_cfg *gcfg;

static void count_latency(double ms);

/* scan_job - the worker's part: scan, verdict, reply (or tempfail) */
static void
scan_job(struct job *j, const struct tm_sess_ops *ops, void *sess, struct dengine *e,
         struct tm_match_scratch *ms)
{
    struct tm_verdict v;
    struct tm_task *t;
    double t0 = tm_now_ms(), scan_ms;
    tm_rc rc;
    size_t i;

    if (t0 - j->queued_ms > (double)gcfg->scan_deadline_ms) {
        atomic_fetch_add(&metrics.tempfails, 1);
        tm_log(TM_LOG_WARN, "queue %s: waited %.0f ms, over the scan deadline: tempfail",
               j->env.queue_id[0] ? j->env.queue_id : "-", t0 - j->queued_ms);
        (void)ops->tempfail(sess, &j->out, &j->close_after);
        return;
    }
    if ((t = tm_task_new(e->sc->engine)) == NULL) {
        atomic_fetch_add(&metrics.errors, 1);
        (void)ops->tempfail(sess, &j->out, &j->close_after);
        return;
    }
    {
        const char *rcpt[8];
        struct tm_auth_env ae;
        size_t k;
        memset(&ae, 0, sizeof(ae));
        ae.ip = j->env.client_ip[0] ? j->env.client_ip : NULL;
        ae.helo = j->env.helo[0] ? j->env.helo : NULL;
        ae.mail_from = j->env.mail_from[0] ? j->env.mail_from : NULL;
        ae.user = j->env.user[0] ? j->env.user : NULL;
        for (k = 0; k < j->env.nrcpt && k < 8; k++)
            rcpt[k] = j->env.rcpt[k];
        ae.rcpt = rcpt;
        ae.nrcpt = k;
        rc = tm_scanner_scan_env(e->sc, ms, t, j->msg, j->len, 0, &ae, &v);
    }
    scan_ms = tm_now_ms() - t0;
    count_latency(scan_ms);
    if (rc != TM_OK)
        atomic_fetch_add(&metrics.errors, 1);
    /* a failed scan still has a verdict: TAMIS_SCAN_ERROR and the undecided action */
    atomic_fetch_add(&metrics.by_action[v.action < TM_ACT__COUNT ? v.action : 0], 1);
    for (i = 0; i < v.n; i++)
        if (v.syms[i].rule < e->sc->rules.n)
            atomic_fetch_add(&e->sym_hits[v.syms[i].rule], 1);
    analytics_line(t, &v, e->sc, &j->env, scan_ms);
    /* the last use of the task's message: a scan in place (scan_here) reads the
     * session's own bytes, and a session may release them once it has replied */
    if (ops->respond(sess, t, &v, scan_ms, &j->out, &j->close_after) != TM_OK) {
        j->out.len = 0;
        atomic_fetch_add(&metrics.errors, 1);
        (void)ops->tempfail(sess, &j->out, &j->close_after);
    }
    tm_task_free(t);
}

/* conn.state: who may touch the connection */
enum {
    CONN_ARMED = 0,     /* armed in cset, waiting for input */
    CONN_HELD = 1,      /* a thread got its event (or accepted it) and serves it */
    CONN_ARMED_OUT = 2, /* armed, a reply still to write */
    CONN_KILLED = 3     /* the loop thread shut it down: its next holder frees it */
};

struct conn {
    int fd;
    const struct tm_sess_ops *ops;
    void *sess;
    struct tm_dbuf in, out;            /* these and the flags: the holder's */
    int closing, dead, peer_eof;
    int in_cset; /* registered in cset (it is not, while its first holder serves it) */
    atomic_int state;
    _Atomic long long last_ms; /* the last read or write */
    struct conn *prev, *next; /* conns_mu */
};

static pthread_mutex_t conns_mu = PTHREAD_MUTEX_INITIALIZER;
static struct conn *conns;
static size_t nconns;

/* the state of a scan worker */
struct worker {
    struct dengine *e; /* the engine its scratch is for */
    struct tm_match_scratch *ms;
};

/*
 * pin_workers - worker k on the k-th CPU of the process's affinity mask,
 * when there are no more workers than CPUs. Left to the scheduler, a
 * worker woken for each message lands on whichever CPU is free and finds
 * the rule databases (megabytes with SpamAssassin's stock rules) out of
 * that CPU's caches: tamisd over HTTP with the stock rules, 1 worker and 1
 * client on 2 vCPUs, went from 673 to 968 msgs/s pinned (issue 10).
 */
static void
pin_workers(pthread_t *threads, unsigned n)
{
    cpu_set_t allowed, one;
    size_t cpus[CPU_SETSIZE], ncpus = 0, c;
    unsigned i;

    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
        return;
    for (c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &allowed))
            cpus[ncpus++] = c;
    if (n > ncpus) {
        tm_log(TM_LOG_INFO, "cpu_affinity: %u workers, %zu CPUs: not pinned", n, ncpus);
        return;
    }
    for (i = 0; i < n; i++) {
        CPU_ZERO(&one);
        CPU_SET(cpus[i], &one);
        if (pthread_setaffinity_np(threads[i], sizeof(one), &one) != 0)
            tm_log(TM_LOG_WARN, "cpu_affinity: cannot pin worker %u to CPU %zu", i, cpus[i]);
    }
}

static void
count_latency(double ms)
{
    double s = ms / 1e3;
    size_t i;

    for (i = 0; i < NLAT && s > lat_bounds[i]; i++)
        ;
    atomic_fetch_add(&metrics.lat[i], 1);
    atomic_fetch_add(&metrics.lat_sum_us, (uint64_t)(ms * 1e3));
}

/* ---- listeners ---------------------------------------------------------------------- */

struct listener {
    int fd;
    const struct tm_sess_ops *ops;
    const struct tm_listen *l;
};

static struct listener listeners[TM_DAEMON_MAX_LISTEN];
static unsigned nlisteners;
static atomic_int accepting = 1; /* 0 once draining */

static const struct tm_sess_ops *
proto_ops(enum tm_listen_proto p)
{
    switch (p) {
    case TM_LISTEN_MILTER:
        return &tm_sess_milter;
    case TM_LISTEN_SPAMD:
        return &tm_sess_spamd;
    case TM_LISTEN_HTTP:
        return &tm_sess_http;
    }
    return NULL;
}

static int
set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int
bind_listener(const struct tm_daemon_cfg *cfg, const struct tm_listen *l)
{
    int fd = -1, one = 1;

    if (l->is_unix) {
        struct sockaddr_un sa;
        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", l->path);
        if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
            goto fail;
        (void)unlink(l->path); /* a stale socket from an earlier run */
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
            goto fail;
        if (chmod(l->path, cfg->socket_mode) < 0)
            goto fail;
        if (cfg->socket_group[0] != '\0') {
            struct group *g = getgrnam(cfg->socket_group);
            if (g == NULL || chown(l->path, (uid_t)-1, g->gr_gid) < 0) {
                tm_log(TM_LOG_ERR, "%s: group %s: %s", l->path, cfg->socket_group,
                       g == NULL ? "no such group" : strerror(errno));
                close(fd);
                return -1;
            }
        }
    } else {
        struct addrinfo hints, *ai = NULL, *a;
        char port[16];
        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
        snprintf(port, sizeof(port), "%u", l->port);
        if (getaddrinfo(l->host, port, &hints, &ai) != 0 || ai == NULL) {
            tm_log(TM_LOG_ERR, "listen %s:%u: cannot resolve", l->host, l->port);
            return -1;
        }
        for (a = ai; a != NULL; a = a->ai_next) {
            fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
            if (fd < 0)
                continue;
            (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            if (bind(fd, a->ai_addr, a->ai_addrlen) == 0)
                break;
            close(fd);
            fd = -1;
        }
        freeaddrinfo(ai);
        if (fd < 0)
            goto fail;
    }
    if (listen(fd, 1024) < 0 || set_nonblock(fd) < 0)
        goto fail;
    return fd;
fail:
    tm_log(TM_LOG_ERR, "listen %s%s: %s", l->is_unix ? "unix:" : "inet:",
           l->is_unix ? l->path : l->host, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

static int
drop_privileges(const char *user)
{
    struct passwd *pw = getpwnam(user);

    if (pw == NULL) {
        tm_log(TM_LOG_ERR, "user %s: no such user", user);
        return -1;
    }
    if (initgroups(user, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
        tm_log(TM_LOG_ERR, "cannot become %s: %s", user, strerror(errno));
        return -1;
    }
    tm_log(TM_LOG_INFO, "running as %s", user);
    return 0;
}

int
tm_daemon_check(struct tm_daemon_cfg *cfg)
{
    char err[1024] = "";
    struct dengine *e = engine_build(cfg, err, sizeof(err));

    if (e == NULL) {
        fprintf(stderr, "tamisd: %s\n", err);
        return 1;
    }
    printf("rules: %zu, version %.16s; AV: %s (%u signatures); URL lists: %s\n",
           e->sc->rules.n, e->sc->rules_version, e->sc->av ? e->sc->av_db_path : "off",
           e->sc->av_sigs, e->sc->url_block || e->sc->url_allow ? "loaded" : "none");
    engine_put(e);
    return 0;
}

/* ---- connections -------------------------------------------------------------------- */

static long long
now_ms_ll(void)
{
    return (long long)tm_now_ms();
}

static void conn_free(struct conn *c);

/* conn_arm - the holder lets go: the next event on c goes to one thread of cset */
static void
conn_arm(struct conn *c)
{
    struct epoll_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.data.ptr = c;
    /* no read interest after the peer's EOF or once closing: level-triggered RDHUP
       would wake a thread again and again */
    ev.events = EPOLLONESHOT |
                (c->closing || c->peer_eof ? 0u : (unsigned)(EPOLLIN | EPOLLRDHUP)) |
                (c->out.len ? (unsigned)EPOLLOUT : 0u);
    /* everything before the re-arm: from then on another thread may hold it */
    atomic_store(&c->state, c->out.len ? CONN_ARMED_OUT : CONN_ARMED);
    if (c->in_cset) {
        (void)epoll_ctl(cset, EPOLL_CTL_MOD, c->fd, &ev);
        return;
    }
    c->in_cset = 1;
    if (epoll_ctl(cset, EPOLL_CTL_ADD, c->fd, &ev) != 0) { /* not armed: still ours */
        tm_log(TM_LOG_ERR, "epoll: %s: connection closed", strerror(errno));
        c->in_cset = 0;
        atomic_store(&c->state, CONN_HELD);
        conn_free(c);
    }
}

/* conn_free - by its holder (or at exit, when no worker runs) */
static void
conn_free(struct conn *c)
{
    pthread_mutex_lock(&conns_mu);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    nconns--;
    pthread_mutex_unlock(&conns_mu);
    /* unlinked first: the loop thread shuts fds down under conns_mu, never a closed one */
    if (c->in_cset)
        (void)epoll_ctl(cset, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->ops->close(c->sess);
    tm_dbuf_free(&c->in);
    tm_dbuf_free(&c->out);
    tm_free(c);
}

/* conn_flush - write what is queued; 0 ok, -1 the connection is gone */
static int
conn_flush(struct conn *c)
{
    while (c->out.len > 0) {
        ssize_t w = send(c->fd, c->out.p, c->out.len, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN) /* == EWOULDBLOCK on Linux */
                return 0;
            if (errno == EINTR)
                continue;
            return -1;
        }
        atomic_store(&c->last_ms, now_ms_ll());
        tm_dbuf_consume(&c->out, (size_t)w);
    }
    return 0;
}

/* deliver - a scanned job's reply goes to its connection */
static void
deliver(struct conn *c, struct job *j)
{
    if (tm_dbuf_append(&c->out, j->out.p, j->out.len) != TM_OK)
        c->dead = 1;
    if (j->close_after)
        c->closing = 1;
    tm_dbuf_free(&j->out);
    if (!c->dead && conn_flush(c) < 0)
        c->dead = 1;
}

/* worker_engine - the engine in force, with the worker's scratch for it (engine_put after) */
static struct dengine *
worker_engine(struct worker *w)
{
    struct dengine *e = engine_get();

    if (e != w->e) { /* a reload: scratch for the new matcher, drop the old engine */
        tm_match_scratch_free(w->ms);
        w->ms = e->sc->matcher ? tm_match_scratch_new(e->sc->matcher) : NULL;
        engine_put(w->e);
        w->e = e;
        atomic_fetch_add(&e->refs, 1);
    }
    return e;
}

/* run_job - scan j for c on this worker and deliver the reply */
static void
run_job(struct job *j, struct conn *c, struct worker *w)
{
    struct dengine *e = worker_engine(w);

    scan_job(j, c->ops, c->sess, e, w->ms);
    engine_put(e);
    deliver(c, j);
}

/* scan_here - a worker scans the session's message where it is, no copy */
static void
scan_here(struct conn *c, struct worker *w)
{
    const unsigned char *msg;
    struct job j;

    memset(&j, 0, sizeof(j));
    if (c->ops->message(c->sess, &msg, &j.len, &j.env) != TM_OK) {
        (void)c->ops->tempfail(c->sess, &c->out, &c->closing);
        return;
    }
    j.msg = (unsigned char *)(uintptr_t)msg;
    j.queued_ms = tm_now_ms();
    atomic_fetch_add(&metrics.inflight, 1);
    run_job(&j, c, w);
    atomic_fetch_sub(&metrics.inflight, 1);
}

/* wake_workers - units on wakefd: each wakes one worker waiting on cset */
static void
wake_workers(uint64_t units)
{
    if (write(wakefd, &units, sizeof(units)) < 0)
        tm_log(TM_LOG_ERR, "eventfd: %s", strerror(errno));
}

/*
 * submit - the loop thread queues the session's message (1: the job holds c
 * now, and the caller must not touch c again), or answers tempfail when the
 * queue is full (0)
 */
static int
submit(struct conn *c)
{
    const unsigned char *msg;
    struct job *j = tm_xcalloc(1, sizeof(*j));
    size_t len;
    int wake;

    j->c = c;
    if (c->ops->message(c->sess, &msg, &len, &j->env) != TM_OK) {
        tm_free(j);
        (void)c->ops->tempfail(c->sess, &c->out, &c->closing);
        return 0;
    }
    j->msg = tm_xmalloc(len ? len : 1);
    memcpy(j->msg, msg, len);
    j->len = len;
    j->queued_ms = tm_now_ms();
    pthread_mutex_lock(&queue.mu);
    if (queue.n >= queue.max) {
        pthread_mutex_unlock(&queue.mu);
        atomic_fetch_add(&metrics.tempfails, 1);
        tm_log(TM_LOG_WARN, "scan queue full (%zu): tempfail", queue.max);
        (void)c->ops->tempfail(c->sess, &c->out, &c->closing);
        tm_free(j->msg);
        tm_free(j);
        return 0;
    }
    atomic_fetch_add(&metrics.inflight, 1);
    if (queue.tail != NULL)
        queue.tail->next = j;
    else
        queue.head = j;
    queue.tail = j;
    queue.n++;
    wake = queue.idle > 0;
    pthread_mutex_unlock(&queue.mu); /* from here a worker may hold c, and free it */
    if (wake)
        wake_workers(1);
    return 1;
}

/*
 * conn_process - feed buffered input to the session until it needs more, or
 * its message is queued (1: the job holds c now; the caller lets go of it); a
 * worker (w) scans each message at once. kick feeds it once even with
 * nothing buffered (after a verdict a session may hold the next command).
 */
static int
conn_process(struct conn *c, int kick, struct worker *w)
{
    while (!c->closing && !c->dead && (c->in.len > 0 || kick)) {
        size_t used = 0;
        enum tm_sess_ev ev = c->ops->feed(c->sess, c->in.p, c->in.len, &used, &c->out);
        kick = 0;
        if (used > c->in.len)
            used = c->in.len;
        tm_dbuf_consume(&c->in, used);
        if (ev == TM_SESS_MESSAGE) {
            if (w == NULL && submit(c))
                return 1;
            if (w != NULL)
                scan_here(c, w);
            kick = 1;
        } else if (ev == TM_SESS_CLOSE || ev == TM_SESS_ERROR) {
            c->closing = 1;
        } else if (used == 0) {
            break;
        }
    }
    if (!c->closing && !c->dead && c->peer_eof) {
        /* the peer closed its side: a protocol may now have a whole request */
        enum tm_sess_ev ev = c->ops->eof(c->sess, &c->out);
        c->peer_eof = 0;
        c->closing = 1; /* after this request's reply, if it has one */
        if (ev == TM_SESS_MESSAGE) {
            if (w == NULL)
                return submit(c);
            scan_here(c, w);
        }
    }
    return 0;
}

static void
conn_read(struct conn *c)
{
    unsigned char buf[DAEMON_READ_CHUNK];

    for (;;) {
        ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
        if (r > 0) {
            atomic_store(&c->last_ms, now_ms_ll());
            if (tm_dbuf_append(&c->in, buf, (size_t)r) != TM_OK) {
                c->closing = c->dead = 1;
                return;
            }
            if (c->in.len > DAEMON_IN_MAX + DAEMON_READ_CHUNK)
                break; /* let the session consume first */
            continue;
        }
        if (r == 0) {
            c->peer_eof = 1; /* conn_process asks the session what that means */
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            c->closing = c->dead = 1;
        break;
    }
}

/* conn_continue - the holder feeds the session and writes, then re-arms or frees c */
static void
conn_continue(struct conn *c, int kick, struct worker *w)
{
    if (conn_process(c, kick, w))
        return; /* its message waits in the queue, and the job holds c */
    if (!c->dead && conn_flush(c) < 0)
        c->dead = 1;
    if (c->dead || (c->closing && c->out.len == 0))
        conn_free(c);
    else
        conn_arm(c);
}

/* conn_service - an event of c: this thread (a worker, or the loop thread: w NULL) holds it */
static void
conn_service(struct conn *c, uint32_t events, struct worker *w)
{
    if (atomic_exchange(&c->state, CONN_HELD) == CONN_KILLED) {
        conn_free(c);
        return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        conn_read(c);
    conn_continue(c, 0, w);
}

static int
is_listener(const void *p)
{
    return p >= (const void *)listeners && p < (const void *)(listeners + nlisteners);
}

/* arm_oneshot - a listener or wakefd in cset: its next event goes to one thread */
static void
arm_oneshot(int op, int fd, void *ptr)
{
    struct epoll_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.ptr = ptr;
    (void)epoll_ctl(cset, op, fd, &ev);
}

/*
 * accept_one - a listener's event: take one connection, let the listener go
 * (the next connection goes to another thread), and serve the new one at
 * once: its request is often there already. A worker thus takes a spamc or
 * HTTP request from connect to reply alone.
 */
static void
accept_one(struct listener *ls, struct worker *w)
{
    struct conn *c;
    int full, fd = accept4(ls->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (atomic_load(&accepting))
        arm_oneshot(EPOLL_CTL_MOD, ls->fd, ls);
    if (fd < 0)
        return;
    if (!atomic_load(&accepting)) {
        close(fd);
        return;
    }
    /* whole before the loop thread can see it in conns (sweep reads state and fd) */
    c = tm_xcalloc(1, sizeof(*c));
    c->fd = fd;
    c->ops = ls->ops;
    c->sess = ls->ops->open(gcfg);
    c->in.max = DAEMON_IN_MAX + 2 * DAEMON_READ_CHUNK;
    atomic_init(&c->state, CONN_HELD);
    atomic_init(&c->last_ms, now_ms_ll());
    pthread_mutex_lock(&conns_mu);
    full = nconns >= gcfg->max_connections;
    if (!full) {
        c->next = conns;
        if (conns != NULL)
            conns->prev = c;
        conns = c;
        nconns++;
    }
    pthread_mutex_unlock(&conns_mu);
    if (full) {
        c->ops->close(c->sess);
        tm_free(c);
        close(fd);
        tm_log(TM_LOG_WARN, "max_connections (%u) reached: connection refused",
               gcfg->max_connections);
        return;
    }
    atomic_fetch_add(&metrics.connections, 1);
    conn_read(c);
    conn_continue(c, 0, w);
}

/* finish_queued - a worker scans a message the loop thread queued */
static void
finish_queued(struct job *j, struct worker *w)
{
    struct conn *c = j->c;

    run_job(j, c, w);
    atomic_fetch_sub(&metrics.inflight, 1);
    tm_free(j->msg);
    tm_free(j);
    conn_continue(c, 1, w);
}

/* serve - a listener's or a connection's event, on a worker or (w NULL) the loop thread */
static void
serve(const struct epoll_event *ev, struct worker *w)
{
    if (is_listener(ev->data.ptr))
        accept_one(ev->data.ptr, w);
    else
        conn_service(ev->data.ptr, ev->events, w);
}

static void *
worker_main(void *arg)
{
    struct worker w;

    (void)arg;
    memset(&w, 0, sizeof(w));
    for (;;) {
        struct epoll_event ev;
        struct job *j = NULL;
        int n;
        pthread_mutex_lock(&queue.mu);
        if (queue.head != NULL) {
            j = queue.head;
            queue.head = j->next;
            if (queue.head == NULL)
                queue.tail = NULL;
            queue.n--;
        } else if (queue.stop) {
            pthread_mutex_unlock(&queue.mu);
            break;
        } else {
            queue.idle++;
        }
        pthread_mutex_unlock(&queue.mu);
        if (j != NULL) {
            finish_queued(j, &w);
            continue;
        }
        n = epoll_wait(cset, &ev, 1, -1);
        pthread_mutex_lock(&queue.mu);
        queue.idle--;
        pthread_mutex_unlock(&queue.mu);
        if (n != 1)
            continue;
        if (ev.data.ptr == &wakefd) {
            uint64_t v;
            if (read(wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                tm_log(TM_LOG_ERR, "eventfd: %s", strerror(errno));
            /* one unit per worker: a second job wakes a second worker */
            arm_oneshot(EPOLL_CTL_MOD, wakefd, &wakefd);
            continue;
        }
        serve(&ev, &w);
    }
    tm_match_scratch_free(w.ms);
    engine_put(w.e);
    tm_charset_cache_clear(); /* this thread's iconv descriptors */
    return NULL;
}

/*
 * take_waiting - with no worker waiting on cset, the loop thread takes its
 * ready connections; while it finds some, it also watches cset from its own
 * epoll set, so that it reads a message as it arrives. With a worker
 * waiting, or nothing ready, it leaves cset to the workers (and is not
 * woken for every message they take).
 */
static void
take_waiting(int *watching)
{
    struct epoll_event evs[64];
    unsigned idle;
    int n = 0, k;

    pthread_mutex_lock(&queue.mu);
    idle = queue.idle;
    pthread_mutex_unlock(&queue.mu);
    if (idle == 0)
        n = epoll_wait(cset, evs, 64, 0);
    if ((n > 0) != *watching) {
        struct epoll_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.events = EPOLLIN;
        ev.data.ptr = &cset;
        if (epoll_ctl(epfd, n > 0 ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, cset, &ev) == 0)
            *watching = n > 0;
    }
    for (k = 0; k < n; k++) {
        if (evs[k].data.ptr == &wakefd) {
            /* with no worker waiting, each checks the queue before it waits: the
             * unit is nobody's (and left there it would wake this loop over and
             * over); else it is a waiting worker's. Only this thread queues jobs. */
            uint64_t v;
            pthread_mutex_lock(&queue.mu);
            if (queue.idle == 0 && read(wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                tm_log(TM_LOG_ERR, "eventfd: %s", strerror(errno));
            pthread_mutex_unlock(&queue.mu);
            arm_oneshot(EPOLL_CTL_MOD, wakefd, &wakefd);
        } else {
            serve(&evs[k], NULL);
        }
    }
}

/*
 * sweep - the loop thread shuts down each armed connection that has been
 * idle past read_timeout_ms (or, draining, each that waits for input): the
 * shutdown wakes it in cset, and its next holder frees it. A connection a
 * thread takes meanwhile is not touched (the state changes atomically
 * either way), so no request that arrives at that moment is cut.
 */
static void
sweep(int draining, long long now)
{
    struct conn *c;

    pthread_mutex_lock(&conns_mu);
    for (c = conns; c != NULL; c = c->next) {
        int st = atomic_load(&c->state);
        if (st == CONN_HELD || st == CONN_KILLED)
            continue;
        if (((draining && st == CONN_ARMED) ||
             now - atomic_load(&c->last_ms) > (long long)gcfg->read_timeout_ms) &&
            atomic_compare_exchange_strong(&c->state, &st, CONN_KILLED))
            (void)shutdown(c->fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&conns_mu);
}

/* reload - rebuild the engine from the configuration file and swap it in */
static void reload(const char *config_path);

static atomic_flag reloading = ATOMIC_FLAG_INIT;

static void *
reload_main(void *arg)
{
    reload(arg);
    atomic_flag_clear(&reloading);
    return NULL;
}

/*
 * reload_async - reload in a thread of its own: compiling rules or loading a
 * large ClamAV database takes seconds, and the loop must keep serving
 * meanwhile (workers go on scanning with the old engine until the swap)
 */
static void
reload_async(const char *config_path)
{
    pthread_t th;
    pthread_attr_t at;

    if (atomic_flag_test_and_set(&reloading)) {
        tm_log(TM_LOG_WARN, "reload already in progress; this one is skipped");
        return;
    }
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &at, reload_main, (void *)(uintptr_t)config_path) != 0) {
        atomic_flag_clear(&reloading);
        tm_log(TM_LOG_ERR, "reload: cannot start a thread; reloading in the loop");
        reload(config_path);
    }
    pthread_attr_destroy(&at);
}

static void
reload(const char *config_path)
{
    struct tm_daemon_cfg nc;
    struct dengine *e, *old;
    char err[1024] = "";

    tm_log(TM_LOG_INFO, "reload: loading the configuration, rules, lists and AV database");
    tm_daemon_cfg_defaults(&nc);
    if (config_path != NULL && tm_daemon_cfg_load(&nc, config_path, err, sizeof(err)) != TM_OK) {
        tm_log(TM_LOG_ERR, "reload failed, the old engine keeps serving: %s", err);
        atomic_fetch_add(&metrics.reload_failures, 1);
        tm_daemon_cfg_free(&nc);
        return;
    }
    if (config_path == NULL) { /* no file: the same settings, new rules and databases */
        tm_daemon_cfg_free(&nc);
        nc = *gcfg;
        nc.nrules = nc.nurl_blocklists = nc.nurl_allowlists = 0; /* borrowed, not owned */
        e = engine_build(gcfg, err, sizeof(err));
    } else {
        e = engine_build(&nc, err, sizeof(err));
        tm_daemon_cfg_free(&nc);
    }
    if (e == NULL) {
        tm_log(TM_LOG_ERR, "reload failed, the old engine keeps serving: %s", err);
        atomic_fetch_add(&metrics.reload_failures, 1);
        return;
    }
    pthread_mutex_lock(&engine_mu);
    old = engine_cur;
    engine_cur = e;
    pthread_mutex_unlock(&engine_mu);
    engine_put(old); /* freed when the last scan on it ends */
    atomic_fetch_add(&metrics.reloads, 1);
    tm_log(TM_LOG_INFO, "reload done: rules version %.16s, %zu rules",
           e->sc->rules_version, e->sc->rules.n);
}

int
tm_daemon_run(struct tm_daemon_cfg *cfg, const char *config_path)
{
    struct listener *ls = listeners;
    struct epoll_event ev, evs[256];
    pthread_t *threads;
    sigset_t mask;
    unsigned nworkers, i;
    int sfd, draining = 0, rc = 0, watching = 0;
    char err[1024] = "";
    double drain_start = 0, last_sweep = 0;
    long ncpu;

    gcfg = cfg;
    if ((engine_cur = engine_build(cfg, err, sizeof(err))) == NULL) {
        tm_log(TM_LOG_ERR, "cannot start: %s", err);
        return 1;
    }
    if (cfg->analytics_log[0] != '\0') {
        analytics = strcmp(cfg->analytics_log, "-") == 0 ? stderr
                                                         : fopen(cfg->analytics_log, "a");
        if (analytics == NULL) {
            tm_log(TM_LOG_ERR, "analytics_log %s: %s", cfg->analytics_log, strerror(errno));
            return 1;
        }
    }
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &mask, NULL); /* workers inherit it */
    signal(SIGPIPE, SIG_IGN);
    if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 || (cset = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
        (wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC | EFD_SEMAPHORE)) < 0) {
        tm_log(TM_LOG_ERR, "epoll/signalfd/eventfd: %s", strerror(errno));
        return 1;
    }
    for (i = 0; i < cfg->nlisten; i++) {
        ls[i].l = &cfg->listen[i];
        ls[i].ops = proto_ops(cfg->listen[i].proto);
        if ((ls[i].fd = bind_listener(cfg, &cfg->listen[i])) < 0)
            return 1;
        nlisteners = i + 1;
        tm_log(TM_LOG_INFO, "listening: %s on %s%s", ls[i].ops->name,
               cfg->listen[i].is_unix ? "unix:" : "inet:",
               cfg->listen[i].is_unix ? cfg->listen[i].path : cfg->listen[i].host);
    }
    if (cfg->user[0] != '\0' && drop_privileges(cfg->user) < 0)
        return 1;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.ptr = &sfd;
    (void)epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);
    arm_oneshot(EPOLL_CTL_ADD, wakefd, &wakefd);
    for (i = 0; i < nlisteners; i++)
        arm_oneshot(EPOLL_CTL_ADD, ls[i].fd, &ls[i]);
    ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    nworkers = cfg->workers ? cfg->workers : (unsigned)(ncpu > 0 ? ncpu : 1);
    queue.max = cfg->max_queue;
    threads = tm_xcalloc(nworkers, sizeof(*threads));
    for (i = 0; i < nworkers; i++)
        if (pthread_create(&threads[i], NULL, worker_main, NULL) != 0)
            tm_panic(__FILE__, __LINE__, "cannot start worker %u", i);
    if (cfg->cpu_affinity)
        pin_workers(threads, nworkers);
    tm_log(TM_LOG_INFO, "tamisd ready: %u workers, rules version %.16s", nworkers,
           engine_cur->sc->rules_version);
    for (;;) {
        size_t open_conns;
        int n, k;
        double now;
        /* the workers accept: this thread learns that all of them are busy by looking */
        n = epoll_wait(epfd, evs, 256, LOOP_POLL_MS);
        now = tm_now_ms();
        if (n < 0 && errno != EINTR) {
            tm_log(TM_LOG_ERR, "epoll_wait: %s", strerror(errno));
            rc = 1;
            break;
        }
        for (k = 0; k < n; k++) {
            void *p = evs[k].data.ptr;
            if (p == &sfd) {
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                    if (si.ssi_signo == SIGHUP) {
                        reload_async(config_path);
                    } else if (!draining) {
                        tm_log(TM_LOG_INFO, "signal %u: draining (no new connections, "
                                            "scans in flight finish)", si.ssi_signo);
                        draining = 1;
                        drain_start = now;
                        last_sweep = 0;
                        /* a thread may be accepting right now: the fds stay open
                         * (no number reused under it) until the workers are done */
                        atomic_store(&accepting, 0);
                        for (i = 0; i < nlisteners; i++) {
                            (void)epoll_ctl(cset, EPOLL_CTL_DEL, ls[i].fd, NULL);
                            (void)shutdown(ls[i].fd, SHUT_RDWR);
                            if (cfg->listen[i].is_unix)
                                (void)unlink(cfg->listen[i].path);
                        }
                    }
                }
            }
        }
        take_waiting(&watching);
        if (now - last_sweep >= LOOP_SWEEP_MS) {
            sweep(draining, (long long)now);
            last_sweep = now;
        }
        if (draining) {
            long inflight = atomic_load(&metrics.inflight);
            pthread_mutex_lock(&conns_mu);
            open_conns = nconns;
            pthread_mutex_unlock(&conns_mu);
            if ((inflight == 0 && open_conns == 0) || now - drain_start > 60000.0) {
                if (inflight != 0)
                    tm_log(TM_LOG_WARN, "drain timeout: %ld scans unfinished", inflight);
                break;
            }
        }
    }
    pthread_mutex_lock(&queue.mu);
    queue.stop = 1;
    pthread_mutex_unlock(&queue.mu);
    wake_workers(nworkers);
    for (i = 0; i < nworkers; i++)
        pthread_join(threads[i], NULL);
    tm_free(threads);
    while (conns != NULL) /* no worker runs now: the loop thread holds them all */
        conn_free(conns);
    for (i = 0; i < nlisteners; i++)
        close(ls[i].fd);
    while (atomic_flag_test_and_set(&reloading)) /* a reload in flight finishes first */
        (void)usleep(10000);
    engine_put(engine_cur);
    if (analytics != NULL && analytics != stderr)
        fclose(analytics);
    tm_log(TM_LOG_INFO, "tamisd stopped");
    return rc;
}
