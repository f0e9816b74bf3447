/*
 * cares.c - the real-DNS back end: c-ares 1.18 channels, the queries of one
 * tm_dns_lookup_many in flight together, one poll loop until every answer is
 * in or the message's deadline passes.
 *
 * Threads. A c-ares 1.18 channel must not be used by two threads at once, so
 * the resolver keeps a mutex-protected pool of idle channels: a batch takes
 * one (or makes one when all are busy), uses it alone, and gives it back.
 * The pool grows to the number of threads that look things up at the same
 * time (the daemon's scan workers) and keeps at most TM_DNS_MAX_IDLE_CHANS
 * idle. Why not a channel per thread behind a pthread key: a key's
 * destructor can run after tm_dns_free (use after free), pthread_key_delete
 * runs no destructors (channels of live threads leak on a reload), and keys
 * are a finite process resource; a pool has none of these problems and
 * tm_dns_free reclaims every channel. The servers are read once (from
 * opts->servers or /etc/resolv.conf) and given to every later channel.
 *
 * Sockets are watched through ARES_OPT_SOCK_STATE_CB and poll(), never
 * ares_fds/select: a daemon's descriptors go past FD_SETSIZE.
 *
 * Answers: ares_parse_{a,aaaa,mx,txt_ext,ptr}_reply, and a small walk of
 * the wire message for what those do not report (the TTL of MX, TXT and
 * PTR records, the SOA of a negative answer, RFC 2308 section 5). Statuses:
 * ARES_ENOTFOUND (NXDOMAIN) -> NXDOMAIN; ARES_ENODATA, or an answer without a
 * record of the type -> NODATA; anything else (timeout, SERVFAIL, REFUSED,
 * connection refused, a malformed answer, the deadline) -> TEMPFAIL.
 * Bounds: struct tm_dns_limits (at most 64 records, TXT cut at 64 KB) and
 * TM_DNS_MAX_NAME for names in record data (a longer one drops its record).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>

#include <ares.h>

#include "core/arena.h"
#include "core/core.h"
#include "core/str.h"
#include "dns/dns_impl.h"

#define DNS_CLASS_IN 1
#define DNS_TYPE_SOA 6
#define DNS_HDR      12
#define TTL_MAX      0x7fffffffu /* RFC 2181 section 8: a TTL with the top bit set is 0 */

struct chan {
    ares_channel ch;
    struct chan *next;   /* in the idle pool */
    struct pollfd *pfd;  /* what c-ares wants watched (sock_state_cb) */
    struct pollfd *snap; /* a copy polled on: callbacks may change pfd meanwhile */
    size_t npfd, cap;
};

struct cares {
    struct tm_dns d;
    pthread_mutex_t mu;
    struct chan *idle;
    size_t nidle;
    int timeout_ms, tries;
    struct ares_addr_port_node *servers; /* read once, given to every channel */
};

/* One query of a batch, the callback's argument. */
struct slot {
    struct tm_dns *d;
    struct tm_dns_ask *ask;
    struct tm_arena *a;
    size_t *pending;
    tm_rc rc;
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_status = ARES_SUCCESS;

static void
lib_init(void)
{
    lib_status = ares_library_init(ARES_LIB_INIT_ALL);
}

static void
seterr(char *err, size_t errlen, const char *what, int status)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "c-ares: %s: %s", what, ares_strerror(status));
}

/* ---- sockets ---- */

static void
sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct chan *c = data;
    size_t i;

    for (i = 0; i < c->npfd && c->pfd[i].fd != fd; i++)
        ;
    if (!readable && !writable) {
        if (i < c->npfd)
            c->pfd[i] = c->pfd[--c->npfd];
        return;
    }
    if (i == c->npfd) {
        if (c->npfd == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 4;
            c->pfd = tm_xrealloc(c->pfd, c->cap * sizeof(*c->pfd));
            c->snap = tm_xrealloc(c->snap, c->cap * sizeof(*c->snap));
        }
        c->npfd++;
        c->pfd[i].fd = fd;
    }
    c->pfd[i].events = (short)((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
    c->pfd[i].revents = 0;
}

/* ---- channels and the pool ---- */

static void
chan_free(struct chan *c)
{
    ares_destroy(c->ch);
    tm_free(c->pfd);
    tm_free(c->snap);
    tm_free(c);
}

/*
 * chan_new - a channel with our options. The first one (csv != NULL or
 * first set) reads resolv.conf or the configured list, and its servers are
 * saved; later ones get the saved list, so every channel asks the same
 * servers even if /etc/resolv.conf changes or cannot be read any more.
 */
static struct chan *
chan_new(struct cares *r, int first, const char *csv, char *err, size_t errlen)
{
    struct chan *c = tm_xcalloc(1, sizeof(*c));
    struct ares_options ao;
    int st;

    memset(&ao, 0, sizeof(ao));
    ao.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_EDNS;
    ao.timeout = r->timeout_ms;
    ao.tries = r->tries;
    ao.ednspsz = TM_DNS_EDNS_SIZE;
    ao.sock_state_cb = sock_state;
    ao.sock_state_cb_data = c;
    st = ares_init_options(&c->ch, &ao,
                           ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_EDNSPSZ |
                               ARES_OPT_SOCK_STATE_CB);
    if (st != ARES_SUCCESS) {
        seterr(err, errlen, "ares_init_options", st);
        tm_free(c);
        return NULL;
    }
    if (first && csv != NULL)
        st = ares_set_servers_ports_csv(c->ch, csv);
    else if (!first)
        st = ares_set_servers_ports(c->ch, r->servers);
    if (st == ARES_SUCCESS && first)
        st = ares_get_servers_ports(c->ch, &r->servers);
    if (st != ARES_SUCCESS) {
        seterr(err, errlen, first && csv != NULL ? "servers" : "ares_set_servers", st);
        chan_free(c);
        return NULL;
    }
    return c;
}

static struct chan *
pool_get(struct cares *r)
{
    struct chan *c;

    pthread_mutex_lock(&r->mu);
    if ((c = r->idle) != NULL) {
        r->idle = c->next;
        r->nidle--;
    }
    pthread_mutex_unlock(&r->mu);
    if (c == NULL && (c = chan_new(r, 0, NULL, NULL, 0)) == NULL)
        tm_log(TM_LOG_WARN, "dns: cannot make a c-ares channel");
    return c;
}

static void
pool_put(struct cares *r, struct chan *c)
{
    pthread_mutex_lock(&r->mu);
    if (r->nidle < TM_DNS_MAX_IDLE_CHANS) {
        c->next = r->idle;
        r->idle = c;
        r->nidle++;
        c = NULL;
    }
    pthread_mutex_unlock(&r->mu);
    if (c != NULL)
        chan_free(c);
}

/* ---- the wire: TTLs and the SOA that c-ares's parsers do not report ---- */

struct wire {
    const unsigned char *p;
    size_t len, off;
};

static int
skip_name(struct wire *w)
{
    for (;;) {
        unsigned c;

        if (w->off >= w->len)
            return 0;
        c = w->p[w->off];
        if (c == 0) {
            w->off++;
            return 1;
        }
        if ((c & 0xc0) == 0xc0) {
            if (w->len - w->off < 2)
                return 0;
            w->off += 2;
            return 1;
        }
        if (c & 0xc0)
            return 0;
        w->off += 1 + c;
    }
}

static int
get16(struct wire *w, unsigned *v)
{
    if (w->off > w->len || w->len - w->off < 2)
        return 0;
    *v = (unsigned)w->p[w->off] << 8 | w->p[w->off + 1];
    w->off += 2;
    return 1;
}

static int
get32(struct wire *w, uint32_t *v)
{
    if (w->off > w->len || w->len - w->off < 4)
        return 0;
    *v = tm_get_be32(w->p + w->off);
    w->off += 4;
    if (*v > TTL_MAX)
        *v = 0;
    return 1;
}

/*
 * scan_ttls - the smallest TTL in the answer section (CNAMEs included: an
 * answer reached through a CNAME lives no longer than the CNAME), and the
 * negative-caching TTL from an SOA in the authority section: min(SOA TTL,
 * SOA MINIMUM) (RFC 2308 section 5). 0 when the message is malformed.
 */
static int
scan_ttls(const unsigned char *abuf, int alen, uint32_t *ans, uint32_t *neg)
{
    struct wire w = {abuf, alen > 0 ? (size_t)alen : 0, DNS_HDR};
    unsigned qd, an, ns, i, type, cls, rdlen;
    uint32_t ttl, v;
    size_t end;

    *ans = TTL_MAX;
    *neg = TM_DNS_NEG_TTL;
    if (w.len < DNS_HDR)
        return 0;
    qd = (unsigned)abuf[4] << 8 | abuf[5];
    an = (unsigned)abuf[6] << 8 | abuf[7];
    ns = (unsigned)abuf[8] << 8 | abuf[9];
    for (i = 0; i < qd; i++)
        if (!skip_name(&w) || !get16(&w, &type) || !get16(&w, &cls))
            return 0;
    for (i = 0; i < an + ns; i++) {
        if (!skip_name(&w) || !get16(&w, &type) || !get16(&w, &cls) || !get32(&w, &ttl) ||
            !get16(&w, &rdlen) || rdlen > w.len - w.off)
            return 0;
        end = w.off + rdlen;
        if (i < an) {
            *ans = TM_MIN(*ans, ttl);
        } else if (type == DNS_TYPE_SOA) {
            struct wire r = {abuf, end, w.off};
            unsigned k;

            if (skip_name(&r) && skip_name(&r)) {
                for (k = 0; k < 5 && get32(&r, &v); k++)
                    ;
                if (k == 5)
                    *neg = TM_MIN(ttl, v);
            }
        }
        w.off = end;
    }
    *neg = TM_MIN(*neg, TM_DNS_NEG_TTL_MAX);
    return 1;
}

/* ---- parsing answers into the arena ---- */

static tm_rc
rr_alloc(struct slot *s, size_t n)
{
    struct tm_dns_rrset *res = &s->ask->q->res;

    if ((res->rr = tm_arena_calloc(s->a, n, sizeof(*res->rr))) == NULL)
        return TM_ENOMEM;
    return TM_OK;
}

static int
parse_a(struct slot *s, const unsigned char *abuf, int alen)
{
    struct tm_dns_rrset *res = &s->ask->q->res;
    struct ares_addrttl at[TM_DNS_MAX_RR];
    struct ares_addr6ttl at6[TM_DNS_MAX_RR];
    int st, n = (int)s->d->lim.max_rr, i;

    if (s->ask->q->type == TM_DNS_A)
        st = ares_parse_a_reply(abuf, alen, NULL, at, &n);
    else
        st = ares_parse_aaaa_reply(abuf, alen, NULL, at6, &n);
    if (st != ARES_SUCCESS)
        return st;
    if (n <= 0)
        return ARES_ENODATA;
    if ((s->rc = rr_alloc(s, (size_t)n)) != TM_OK)
        return ARES_ENOMEM;
    for (i = 0; i < n; i++) {
        struct tm_dns_rr *rr = &res->rr[i];

        if (s->ask->q->type == TM_DNS_A) {
            rr->family = 4;
            memcpy(rr->addr, &at[i].ipaddr, 4);
            rr->ttl = at[i].ttl > 0 ? (uint32_t)at[i].ttl : 0;
        } else {
            rr->family = 6;
            memcpy(rr->addr, &at6[i].ip6addr, 16);
            rr->ttl = at6[i].ttl > 0 ? (uint32_t)at6[i].ttl : 0;
        }
    }
    res->n = (size_t)n;
    return ARES_SUCCESS;
}

/* add_name - one MX or PTR record; 0 when skipped (too long), -1 out of arena */
static int
add_name(struct slot *s, const char *name, unsigned pref, uint32_t ttl)
{
    struct tm_dns_rrset *res = &s->ask->q->res;
    struct tm_dns_rr *rr;
    size_t len = strlen(name);

    if (len > TM_DNS_MAX_NAME || res->n >= s->d->lim.max_rr)
        return 0;
    rr = &res->rr[res->n];
    if ((rr->text = tm_arena_strndup(s->a, name, len)) == NULL)
        return -1;
    rr->len = len;
    rr->pref = pref;
    rr->ttl = ttl;
    res->n++;
    return 1;
}

static int
parse_mx(struct slot *s, const unsigned char *abuf, int alen, uint32_t ttl)
{
    struct ares_mx_reply *mx, *m;
    int st;

    if ((st = ares_parse_mx_reply(abuf, alen, &mx)) != ARES_SUCCESS)
        return st;
    if ((s->rc = rr_alloc(s, s->d->lim.max_rr)) == TM_OK) {
        for (m = mx; m != NULL; m = m->next)
            if (add_name(s, m->host, m->priority, ttl) < 0) {
                s->rc = TM_ENOMEM;
                break;
            }
    }
    ares_free_data(mx);
    if (s->rc != TM_OK)
        return ARES_ENOMEM;
    return s->ask->q->res.n > 0 ? ARES_SUCCESS : ARES_ENODATA;
}

static int
parse_ptr(struct slot *s, const unsigned char *abuf, int alen, uint32_t ttl)
{
    static const unsigned char any[4]; /* c-ares copies an address into the hostent */
    struct hostent *h;
    char **al;
    int st;

    if ((st = ares_parse_ptr_reply(abuf, alen, any, 4, AF_INET, &h)) != ARES_SUCCESS)
        return st;
    if ((s->rc = rr_alloc(s, s->d->lim.max_rr)) == TM_OK) {
        /* every PTR target is in h_aliases, in answer order; h_name is one of them */
        al = h->h_aliases;
        if (al == NULL || al[0] == NULL) {
            if (h->h_name != NULL && add_name(s, h->h_name, 0, ttl) < 0)
                s->rc = TM_ENOMEM;
        } else {
            for (; *al != NULL; al++)
                if (add_name(s, *al, 0, ttl) < 0) {
                    s->rc = TM_ENOMEM;
                    break;
                }
        }
    }
    ares_free_hostent(h);
    if (s->rc != TM_OK)
        return ARES_ENOMEM;
    return s->ask->q->res.n > 0 ? ARES_SUCCESS : ARES_ENODATA;
}

/*
 * parse_txt - one tm_dns_rr per TXT record, its character-strings joined
 * (RFC 7208 section 3.3, RFC 6376 section 3.6.2.2), cut at max_txt bytes.
 * Two passes over c-ares's list: lengths, then copies.
 */
static int
parse_txt(struct slot *s, const unsigned char *abuf, int alen, uint32_t ttl)
{
    struct tm_dns_rrset *res = &s->ask->q->res;
    struct ares_txt_ext *txt, *t;
    size_t lens[TM_DNS_MAX_RR], max_rr = s->d->lim.max_rr, max_txt = s->d->lim.max_txt;
    size_t n = 0, i, k, take;
    char *dst[TM_DNS_MAX_RR];
    int st;

    if ((st = ares_parse_txt_reply_ext(abuf, alen, &txt)) != ARES_SUCCESS)
        return st;
    for (t = txt; t != NULL; t = t->next) {
        if (t->record_start || n == 0) {
            if (n == max_rr)
                break;
            lens[n++] = 0;
        }
        lens[n - 1] += TM_MIN(t->length, max_txt - lens[n - 1]);
    }
    if (n > 0 && (s->rc = rr_alloc(s, n)) == TM_OK) {
        for (i = 0; i < n; i++) {
            if ((dst[i] = tm_arena_alloc(s->a, lens[i] + 1)) == NULL) {
                s->rc = TM_ENOMEM;
                break;
            }
            res->rr[i].text = dst[i];
            res->rr[i].len = 0;
            res->rr[i].ttl = ttl;
            dst[i][lens[i]] = '\0';
        }
        for (t = txt, k = 0; s->rc == TM_OK && t != NULL; t = t->next) {
            if ((t->record_start || k == 0) && k++ == n)
                break;
            take = TM_MIN(t->length, lens[k - 1] - res->rr[k - 1].len);
            memcpy(dst[k - 1] + res->rr[k - 1].len, t->txt, take);
            res->rr[k - 1].len += take;
        }
        res->n = s->rc == TM_OK ? n : 0;
    }
    ares_free_data(txt);
    if (s->rc != TM_OK)
        return ARES_ENOMEM;
    return n > 0 ? ARES_SUCCESS : ARES_ENODATA;
}

/* on_answer - the c-ares callback: status and records of one query, then the cache */
static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct slot *s = arg;
    struct tm_dns_rrset *res = &s->ask->q->res;
    enum tm_dns_type type = s->ask->q->type;
    uint32_t ans = 0, neg = TM_DNS_NEG_TTL, ttl = 0;
    int st = status;
    size_t i;

    (void)timeouts;
    (*s->pending)--;
    res->rr = NULL;
    res->n = 0;
    if (abuf != NULL && !scan_ttls(abuf, alen, &ans, &neg) && st == ARES_SUCCESS)
        st = ARES_EBADRESP;
    if (st == ARES_SUCCESS) {
        if (type == TM_DNS_A || type == TM_DNS_AAAA)
            st = parse_a(s, abuf, alen);
        else if (type == TM_DNS_MX)
            st = parse_mx(s, abuf, alen, ans);
        else if (type == TM_DNS_TXT)
            st = parse_txt(s, abuf, alen, ans);
        else
            st = parse_ptr(s, abuf, alen, ans);
    }
    if (st == ARES_SUCCESS) {
        res->status = TM_DNS_OK;
        ttl = TTL_MAX;
        for (i = 0; i < res->n; i++)
            ttl = TM_MIN(ttl, res->rr[i].ttl);
    } else if (st == ARES_ENOTFOUND || st == ARES_ENODATA) {
        res->status = st == ARES_ENOTFOUND ? TM_DNS_NXDOMAIN : TM_DNS_NODATA;
        ttl = neg;
    } else {
        res->status = TM_DNS_TEMPFAIL;
        res->rr = NULL;
        res->n = 0;
        return;
    }
    if (s->d->cache != NULL)
        tm_dns_cache_put(s->d->cache, s->ask->name, s->ask->len, type, res,
                         TM_MIN(ttl, s->d->max_ttl), s->d->now_ms());
}

/* ---- the batch ---- */

/*
 * wait_answers - poll the channel's sockets until nothing is pending or the
 * deadline passes. The poll timeout is c-ares's next retry time, capped by
 * the deadline; every wake-up goes through ares_process_fd, which also runs
 * c-ares's timeouts (a retry, the next server, or ARES_ETIMEOUT).
 */
static void
wait_answers(struct chan *c, const size_t *pending, double deadline)
{
    struct timeval maxtv, tvbuf, *tv;
    double now, left;
    size_t i, n;
    int ms, r;

    while (*pending > 0) {
        now = tm_now_ms();
        if (deadline > 0 && now >= deadline)
            return;
        left = deadline > 0 ? deadline - now : 3600e3;
        maxtv.tv_sec = (time_t)(left / 1000);
        maxtv.tv_usec = (suseconds_t)((left - (double)maxtv.tv_sec * 1000) * 1000);
        tv = ares_timeout(c->ch, &maxtv, &tvbuf);
        ms = (int)(tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000);
        n = c->npfd;
        if (n > 0)
            memcpy(c->snap, c->pfd, n * sizeof(*c->pfd));
        r = poll(c->snap, (nfds_t)n, ms);
        if (r <= 0) {
            if (r < 0 && errno != EINTR)
                tm_log(TM_LOG_WARN, "dns: poll: %s", strerror(errno));
            ares_process_fd(c->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
            continue;
        }
        for (i = 0; i < n; i++) {
            short ev = c->snap[i].revents;

            if (ev == 0)
                continue;
            ares_process_fd(c->ch,
                            ev & (POLLIN | POLLERR | POLLHUP) ? c->snap[i].fd : ARES_SOCKET_BAD,
                            ev & (POLLOUT | POLLERR) ? c->snap[i].fd : ARES_SOCKET_BAD);
        }
    }
}

/*
 * cares_lookup - send every ask on one channel, wait for all of them (or
 * the deadline), cancel what is left (its callbacks answer TEMPFAIL) and
 * give the channel back clean. The slots live in the arena, so the
 * callbacks never outlive them: nothing is pending when this returns.
 */
static tm_rc
cares_lookup(struct tm_dns *d, struct tm_arena *a, struct tm_dns_ask *asks, size_t n,
             double deadline)
{
    struct cares *r = d->impl;
    struct slot *s = tm_arena_calloc(a, n, sizeof(*s));
    struct chan *c;
    size_t i, pending = n;
    tm_rc rc = TM_OK;

    if (s == NULL || (c = pool_get(r)) == NULL) {
        for (i = 0; i < n; i++)
            asks[i].q->res.status = TM_DNS_TEMPFAIL;
        return s == NULL ? TM_ENOMEM : TM_OK;
    }
    for (i = 0; i < n; i++) {
        s[i].d = d;
        s[i].ask = &asks[i];
        s[i].a = a;
        s[i].pending = &pending;
        s[i].rc = TM_OK;
        ares_query(c->ch, asks[i].name, DNS_CLASS_IN, (int)asks[i].q->type, on_answer, &s[i]);
    }
    wait_answers(c, &pending, deadline);
    if (pending > 0)
        ares_cancel(c->ch);
    TM_ASSERT(pending == 0);
    pool_put(r, c);
    for (i = 0; i < n; i++)
        if (s[i].rc != TM_OK)
            rc = s[i].rc;
    return rc;
}

static void
cares_destroy(struct tm_dns *d)
{
    struct cares *r = d->impl;
    struct chan *c;

    while ((c = r->idle) != NULL) {
        r->idle = c->next;
        chan_free(c);
    }
    if (r->servers != NULL)
        ares_free_data(r->servers);
    pthread_mutex_destroy(&r->mu);
    tm_free(r);
}

static const struct tm_dns_ops cares_ops = {cares_lookup, cares_destroy};

/*
 * tm_dns_new_cares - check the options, make the first channel (which fixes
 * the servers), and the cache. Options NULL: every default, the cache
 * included; in given options cache_entries 0 means no cache, and 0 for
 * timeout_ms, tries or max_ttl means the default.
 */
tm_rc
tm_dns_new_cares(const struct tm_dns_opts *o, struct tm_dns **out, char *err, size_t errlen)
{
    struct tm_dns_opts def = {NULL, 0, 0, TM_DNS_DEF_CACHE, 0};
    struct cares *r;
    struct chan *c;

    *out = NULL;
    if (o == NULL)
        o = &def;
    if (o->timeout_ms > TM_DNS_MAX_TIMEOUT_MS || o->tries > TM_DNS_MAX_TRIES ||
        o->cache_entries > TM_DNS_MAX_CACHE) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen,
                     "dns: timeout_ms (max %u), tries (max %u) or cache_entries (max %u) "
                     "out of range",
                     TM_DNS_MAX_TIMEOUT_MS, TM_DNS_MAX_TRIES, TM_DNS_MAX_CACHE);
        return TM_EINVAL;
    }
    pthread_once(&lib_once, lib_init);
    if (lib_status != ARES_SUCCESS) {
        seterr(err, errlen, "ares_library_init", lib_status);
        return TM_EIO;
    }
    r = tm_xcalloc(1, sizeof(*r));
    tm_dns_init(&r->d, &cares_ops, r);
    r->timeout_ms = (int)(o->timeout_ms ? o->timeout_ms : TM_DNS_DEF_TIMEOUT_MS);
    r->tries = (int)(o->tries ? o->tries : TM_DNS_DEF_TRIES);
    if (pthread_mutex_init(&r->mu, NULL) != 0)
        tm_fatal("dns: pthread_mutex_init failed");
    if ((c = chan_new(r, 1, o->servers, err, errlen)) == NULL) {
        cares_destroy(&r->d);
        return TM_EIO;
    }
    r->idle = c;
    r->nidle = 1;
    if (r->servers == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "dns: no DNS servers%s", o->servers ? "" : " in resolv.conf");
        cares_destroy(&r->d);
        return TM_EIO;
    }
    r->d.max_ttl = o->max_ttl ? o->max_ttl : TM_DNS_DEF_MAX_TTL;
    if (o->cache_entries > 0)
        r->d.cache = tm_dns_cache_new(o->cache_entries, TM_DNS_CACHE_MAX_BYTES);
    *out = &r->d;
    return TM_OK;
}
