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

/* ---- jobs and workers ------------------------------------------------------------------ */

struct conn;

struct job {
    struct conn *c;
    unsigned char *msg;
    size_t len;
    struct tm_envelope env;
    double queued_ms;
    struct tm_dbuf out; /* the reply, filled by the worker */
    int close_after;
    struct job *next;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *head, *tail;
    size_t n, max;
    int stop;
} queue = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0, 0};

static struct {
    pthread_mutex_t mu;
    struct job *head;
    int efd;
} done = {PTHREAD_MUTEX_INITIALIZER, NULL, -1};

static const struct tm_daemon_cfg *gcfg;

static void
job_done(struct job *j)
{
    uint64_t one = 1;

    pthread_mutex_lock(&done.mu);
    j->next = done.head;
    done.head = j;
    pthread_mutex_unlock(&done.mu);
    if (write(done.efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        tm_log(TM_LOG_ERR, "eventfd: %s", strerror(errno));
}

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
    if (ops->respond(sess, t, &v, scan_ms, &j->out, &j->close_after) != TM_OK) {
        j->out.len = 0;
        atomic_fetch_add(&metrics.errors, 1);
        (void)ops->tempfail(sess, &j->out, &j->close_after);
    }
    analytics_line(t, &v, e->sc, &j->env, scan_ms);
    tm_task_free(t);
}

struct conn {
    int fd;
    const struct tm_sess_ops *ops;
    void *sess;
    struct tm_dbuf in, out;
    int busy, closing, dead, peer_eof;
    double last_ms;
    struct conn *prev, *next;
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

static void *
worker_main(void *arg)
{
    struct dengine *mine = NULL;
    struct tm_match_scratch *ms = NULL;

    (void)arg;
    for (;;) {
        struct job *j;
        struct dengine *e;
        pthread_mutex_lock(&queue.mu);
        while (queue.head == NULL && !queue.stop)
            pthread_cond_wait(&queue.cv, &queue.mu);
        if (queue.head == NULL) {
            pthread_mutex_unlock(&queue.mu);
            break;
        }
        j = queue.head;
        queue.head = j->next;
        if (queue.head == NULL)
            queue.tail = NULL;
        queue.n--;
        pthread_mutex_unlock(&queue.mu);
        e = engine_get();
        if (e != mine) { /* a reload: scratch for the new matcher, drop the old engine */
            tm_match_scratch_free(ms);
            ms = e->sc->matcher ? tm_match_scratch_new(e->sc->matcher) : NULL;
            engine_put(mine);
            mine = e;
            atomic_fetch_add(&mine->refs, 1);
        }
        scan_job(j, j->c->ops, j->c->sess, e, ms);
        engine_put(e);
        job_done(j);
    }
    tm_match_scratch_free(ms);
    engine_put(mine);
    tm_charset_cache_clear(); /* this thread's iconv descriptors */
    return NULL;
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

/* ---- the loop ------------------------------------------------------------------------ */

static struct conn *conns;
static size_t nconns;
static int epfd = -1;

static void
conn_watch(struct conn *c)
{
    struct epoll_event ev;

    if (c->dead)
        return; /* removed from epoll; freed when its scan is back */
    memset(&ev, 0, sizeof(ev));
    ev.data.ptr = c;
    /* no read interest while a scan runs or after the peer's EOF: level-triggered
       RDHUP would otherwise wake the loop again and again */
    ev.events = (c->busy || c->closing || c->peer_eof ? 0u : (unsigned)(EPOLLIN | EPOLLRDHUP)) |
                (c->out.len ? (unsigned)EPOLLOUT : 0u);
    (void)epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void
conn_free(struct conn *c)
{
    (void)epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->ops->close(c->sess);
    tm_dbuf_free(&c->in);
    tm_dbuf_free(&c->out);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    nconns--;
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
        tm_dbuf_consume(&c->out, (size_t)w);
    }
    return 0;
}

/* submit - queue the session's message for a worker, or answer tempfail when full */
static void
submit(struct conn *c)
{
    const unsigned char *msg;
    struct job *j = tm_xcalloc(1, sizeof(*j));
    size_t len;

    j->c = c;
    if (c->ops->message(c->sess, &msg, &len, &j->env) != TM_OK) {
        tm_free(j);
        (void)c->ops->tempfail(c->sess, &c->out, &c->closing);
        return;
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
        return;
    }
    if (queue.tail != NULL)
        queue.tail->next = j;
    else
        queue.head = j;
    queue.tail = j;
    queue.n++;
    pthread_cond_signal(&queue.cv);
    pthread_mutex_unlock(&queue.mu);
    atomic_fetch_add(&metrics.inflight, 1);
    c->busy = 1;
}

/*
 * conn_process - feed buffered input to the session until it needs more or
 * a scan starts; kick feeds it once even with nothing buffered (after a
 * verdict a session may hold the next command already)
 */
static void
conn_process(struct conn *c, int kick)
{
    while (!c->busy && !c->closing && (c->in.len > 0 || kick)) {
        size_t used = 0;
        enum tm_sess_ev ev = c->ops->feed(c->sess, c->in.p, c->in.len, &used, &c->out);
        kick = 0;
        if (used > c->in.len)
            used = c->in.len;
        tm_dbuf_consume(&c->in, used);
        if (ev == TM_SESS_MESSAGE)
            submit(c);
        else if (ev == TM_SESS_CLOSE || ev == TM_SESS_ERROR)
            c->closing = 1;
        else if (used == 0)
            break;
    }
    if (!c->busy && !c->closing && c->peer_eof) {
        /* the peer closed its side: a protocol may now have a whole request */
        enum tm_sess_ev ev = c->ops->eof(c->sess, &c->out);
        c->peer_eof = 0;
        if (ev == TM_SESS_MESSAGE)
            submit(c);
        if (!c->busy)
            c->closing = 1;
    }
}

static void
conn_read(struct conn *c)
{
    unsigned char buf[DAEMON_READ_CHUNK];

    for (;;) {
        ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
        if (r > 0) {
            c->last_ms = tm_now_ms();
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

static void
accept_all(const struct listener *ls)
{
    for (;;) {
        struct epoll_event ev;
        struct conn *c;
        int fd = accept4(ls->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (nconns >= gcfg->max_connections) {
            close(fd);
            tm_log(TM_LOG_WARN, "max_connections (%u) reached: connection refused",
                   gcfg->max_connections);
            continue;
        }
        c = tm_xcalloc(1, sizeof(*c));
        c->fd = fd;
        c->ops = ls->ops;
        c->sess = ls->ops->open(gcfg);
        c->in.max = DAEMON_IN_MAX + 2 * DAEMON_READ_CHUNK;
        c->last_ms = tm_now_ms();
        c->next = conns;
        if (conns != NULL)
            conns->prev = c;
        conns = c;
        nconns++;
        atomic_fetch_add(&metrics.connections, 1);
        memset(&ev, 0, sizeof(ev));
        ev.data.ptr = c;
        ev.events = EPOLLIN | EPOLLRDHUP;
        (void)epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    }
}

/* finish_jobs - replies from the workers go to their connections */
static void
finish_jobs(void)
{
    struct job *j, *next;
    uint64_t v;

    if (read(done.efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        tm_log(TM_LOG_ERR, "eventfd: %s", strerror(errno));
    pthread_mutex_lock(&done.mu);
    j = done.head;
    done.head = NULL;
    pthread_mutex_unlock(&done.mu);
    for (; j != NULL; j = next) {
        struct conn *c = j->c;
        next = j->next;
        atomic_fetch_sub(&metrics.inflight, 1);
        c->busy = 0;
        if (tm_dbuf_append(&c->out, j->out.p, j->out.len) != TM_OK)
            c->dead = 1;
        if (j->close_after)
            c->closing = 1;
        tm_dbuf_free(&j->out);
        tm_free(j->msg);
        tm_free(j);
        conn_process(c, 1);
        if (conn_flush(c) < 0)
            c->dead = 1;
        conn_watch(c);
    }
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
    struct listener ls[TM_DAEMON_MAX_LISTEN];
    struct epoll_event ev, evs[256];
    pthread_t *threads;
    sigset_t mask;
    unsigned nworkers, i;
    int sfd, draining = 0, rc = 0;
    char err[1024] = "";
    double drain_start = 0;
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
    if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
        (done.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        tm_log(TM_LOG_ERR, "epoll/signalfd/eventfd: %s", strerror(errno));
        return 1;
    }
    for (i = 0; i < cfg->nlisten; i++) {
        ls[i].l = &cfg->listen[i];
        ls[i].ops = proto_ops(cfg->listen[i].proto);
        if ((ls[i].fd = bind_listener(cfg, &cfg->listen[i])) < 0)
            return 1;
        memset(&ev, 0, sizeof(ev));
        ev.events = EPOLLIN;
        ev.data.ptr = &ls[i];
        (void)epoll_ctl(epfd, EPOLL_CTL_ADD, ls[i].fd, &ev);
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
    ev.data.ptr = &done.efd;
    (void)epoll_ctl(epfd, EPOLL_CTL_ADD, done.efd, &ev);
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
        int n = epoll_wait(epfd, evs, 256, 1000), k;
        double now = tm_now_ms();
        struct conn *c, *next;
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
                        for (i = 0; i < cfg->nlisten; i++) {
                            (void)epoll_ctl(epfd, EPOLL_CTL_DEL, ls[i].fd, NULL);
                            close(ls[i].fd);
                            if (cfg->listen[i].is_unix)
                                (void)unlink(cfg->listen[i].path);
                        }
                    }
                }
                continue;
            }
            if (p == &done.efd) {
                finish_jobs();
                continue;
            }
            if (p >= (void *)ls && p < (void *)(ls + cfg->nlisten)) {
                if (!draining)
                    accept_all(p);
                continue;
            }
            c = p;
            if (c->dead)
                continue;
            if ((evs[k].events & (EPOLLHUP | EPOLLERR)) && c->busy) {
                /* the peer is gone while its scan runs: stop the (unmaskable) events */
                c->dead = 1;
                (void)epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
                continue;
            }
            if (evs[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                conn_read(c);
            conn_process(c, 0);
            if (!c->dead && conn_flush(c) < 0)
                c->dead = 1;
            if (!c->dead)
                conn_watch(c);
        }
        /* idle timeouts, and connections that are done */
        for (c = conns; c != NULL; c = next) {
            next = c->next;
            if (!c->busy && c->out.len == 0 &&
                (c->dead || c->closing || now - c->last_ms > (double)cfg->read_timeout_ms))
                conn_free(c);
            else if (c->dead && !c->busy)
                conn_free(c);
        }
        if (draining) {
            long inflight = atomic_load(&metrics.inflight);
            if ((inflight == 0 && conns == NULL) || now - drain_start > 60000.0) {
                if (inflight != 0)
                    tm_log(TM_LOG_WARN, "drain timeout: %ld scans unfinished", inflight);
                break;
            }
            /* idle connections get closed when nothing is in flight for them */
            for (c = conns; c != NULL; c = next) {
                next = c->next;
                if (!c->busy && c->out.len == 0)
                    conn_free(c);
            }
        }
    }
    pthread_mutex_lock(&queue.mu);
    queue.stop = 1;
    pthread_cond_broadcast(&queue.cv);
    pthread_mutex_unlock(&queue.mu);
    for (i = 0; i < nworkers; i++)
        pthread_join(threads[i], NULL);
    tm_free(threads);
    while (conns != NULL)
        conn_free(conns);
    while (atomic_flag_test_and_set(&reloading)) /* a reload in flight finishes first */
        (void)usleep(10000);
    engine_put(engine_cur);
    if (analytics != NULL && analytics != stderr)
        fclose(analytics);
    tm_log(TM_LOG_INFO, "tamisd stopped");
    return rc;
}
