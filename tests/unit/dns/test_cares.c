/*
 * test_cares.c - the c-ares resolver against a small DNS server in a thread
 * of the test (UDP on 127.0.0.1, answers made up by name): answer parsing
 * (TXT joining, MX, PTR, AAAA, the 64-record cap, TXT cut with a small
 * limit), status mapping (NXDOMAIN, NODATA, SERVFAIL and silence to
 * TEMPFAIL), the cache (hits counted by the server not seeing the query,
 * TTL expiry and max_ttl on a fake clock, negative TTLs from the SOA,
 * TEMPFAIL never kept, the entry bound), the budget counting cache hits, the
 * deadline, and several threads on one resolver.
 *
 * The server's names: a.test A (TTL 100), aaaa.test AAAA, many.test 70 A,
 * txt.test two TXT records (one of two strings), big.test one 800-byte TXT,
 * mx.test MX, ptr.test PTR, long.test A (TTL 86400), nx.test NXDOMAIN with
 * an SOA (MINIMUM 30), nxbare.test NXDOMAIN without SOA, nodata.test
 * NOERROR and no answer (SOA MINIMUM 40), fail.test SERVFAIL, silent.test
 * no reply, nN.test A 192.0.2.N (TTL 100).
 */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/core.h"
#include "dns/dns_impl.h"
#include "suites.h"

#define ARENA       (8u << 20)
#define PKT_MAX     4096
#define T_A         1
#define T_SOA       6
#define T_MX        15
#define T_TXT       16
#define T_AAAA      28
#define T_PTR       12
#define RCODE_SERVF 2
#define RCODE_NX    3

struct fake {
    int fd;
    unsigned short port;
    pthread_t th;
    atomic_int stop;
    atomic_uint queries; /* queries received */
};

/* The response being built. */
struct pkt {
    unsigned char b[PKT_MAX];
    size_t len;
    unsigned an, ns;
};

static void
put(struct pkt *p, const void *src, size_t n)
{
    if (n > PKT_MAX - p->len)
        abort();
    memcpy(p->b + p->len, src, n);
    p->len += n;
}

static void
put16(struct pkt *p, unsigned v)
{
    unsigned char b[2] = {(unsigned char)(v >> 8), (unsigned char)v};

    put(p, b, 2);
}

static void
put32(struct pkt *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p, v & 0xffff);
}

static void
put_name(struct pkt *p, const char *name)
{
    const char *dot;
    unsigned char n;

    while (*name != '\0') {
        dot = strchr(name, '.');
        n = (unsigned char)(dot != NULL ? (size_t)(dot - name) : strlen(name));
        put(p, &n, 1);
        put(p, name, n);
        name += n + (dot != NULL);
    }
    n = 0;
    put(p, &n, 1);
}

/* rr - an answer (or authority) record owned by the question's name (pointer 0xc00c) */
static void
rr(struct pkt *p, unsigned type, uint32_t ttl, const void *rdata, size_t rdlen)
{
    put16(p, 0xc00c);
    put16(p, type);
    put16(p, 1);
    put32(p, ttl);
    put16(p, (unsigned)rdlen);
    put(p, rdata, rdlen);
}

static void
rr_soa(struct pkt *p, uint32_t ttl, uint32_t minimum)
{
    struct pkt r;

    r.len = 0;
    put_name(&r, "ns.test");
    put_name(&r, "h.test");
    put32(&r, 1);
    put32(&r, 3600);
    put32(&r, 600);
    put32(&r, 86400);
    put32(&r, minimum);
    rr(p, T_SOA, ttl, r.b, r.len);
    p->ns++;
}

static void
rr_a(struct pkt *p, uint32_t ttl, unsigned last)
{
    unsigned char a[4] = {192, 0, 2, (unsigned char)last};

    rr(p, T_A, ttl, a, 4);
    p->an++;
}

static void
rr_txt(struct pkt *p, const char *const *strs, size_t n)
{
    struct pkt r;
    size_t i;
    unsigned char len;

    r.len = 0;
    for (i = 0; i < n; i++) {
        len = (unsigned char)strlen(strs[i]);
        put(&r, &len, 1);
        put(&r, strs[i], len);
    }
    rr(p, T_TXT, 50, r.b, r.len);
    p->an++;
}

static void
rr_name(struct pkt *p, unsigned type, int pref, const char *name)
{
    struct pkt r;

    r.len = 0;
    if (pref >= 0)
        put16(&r, (unsigned)pref);
    put_name(&r, name);
    rr(p, type, 200, r.b, r.len);
    p->an++;
}

/* answer - the made-up zone; returns the rcode, -1 for no reply */
static int
answer(struct pkt *p, const char *name, unsigned type)
{
    static const char *const spf[] = {"v=spf1 ", "-all"}, *const hello[] = {"hello"};
    char big[201];
    const char *bigs[4] = {big, big, big, big};
    unsigned i;

    memset(big, 'x', 200);
    big[200] = '\0';
    if (strcmp(name, "silent.test") == 0)
        return -1;
    if (strcmp(name, "fail.test") == 0)
        return RCODE_SERVF;
    if (strcmp(name, "nx.test") == 0 || strcmp(name, "nxbare.test") == 0) {
        if (name[2] == '.')
            rr_soa(p, 500, 30);
        return RCODE_NX;
    }
    if (strcmp(name, "a.test") == 0 && type == T_A)
        rr_a(p, 100, 1);
    else if (strcmp(name, "long.test") == 0 && type == T_A)
        rr_a(p, 86400, 7);
    else if (strcmp(name, "many.test") == 0 && type == T_A)
        for (i = 0; i < 70; i++)
            rr_a(p, 100, i);
    else if (name[0] == 'n' && name[1] >= '0' && name[1] <= '9' && type == T_A)
        rr_a(p, 100, (unsigned)strtoul(name + 1, NULL, 10));
    else if (strcmp(name, "aaaa.test") == 0 && type == T_AAAA) {
        unsigned char a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

        rr(p, T_AAAA, 100, a6, 16);
        p->an++;
    } else if (strcmp(name, "txt.test") == 0 && type == T_TXT) {
        rr_txt(p, spf, 2);
        rr_txt(p, hello, 1);
    } else if (strcmp(name, "big.test") == 0 && type == T_TXT)
        rr_txt(p, bigs, 4);
    else if (strcmp(name, "mx.test") == 0 && type == T_MX) {
        rr_name(p, T_MX, 10, "mx1.test");
        rr_name(p, T_MX, 20, "mx2.test");
    } else if (strcmp(name, "ptr.test") == 0 && type == T_PTR)
        rr_name(p, T_PTR, -1, "host.test");
    if (p->an == 0)
        rr_soa(p, 500, 40); /* NODATA, with an SOA for the negative TTL */
    return 0;
}

/* serve_one - read one query, answer it (or not) */
static void
serve_one(struct fake *f)
{
    unsigned char q[PKT_MAX];
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    struct pkt p;
    char name[256];
    size_t off = 12, nl = 0, qend;
    ssize_t n;
    unsigned type;
    int rcode;

    n = recvfrom(f->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
    if (n < 17)
        return;
    atomic_fetch_add(&f->queries, 1);
    while (off < (size_t)n && q[off] != 0) {
        size_t l = q[off];

        if (off + 1 + l >= (size_t)n || nl + l + 1 >= sizeof(name))
            return;
        if (nl > 0)
            name[nl++] = '.';
        for (size_t i = 0; i < l; i++) {
            char c = (char)q[off + 1 + i];

            name[nl++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        off += 1 + l;
    }
    name[nl] = '\0';
    qend = off + 5;
    if (qend > (size_t)n)
        return;
    type = (unsigned)q[off + 1] << 8 | q[off + 2];
    memset(&p, 0, sizeof(p));
    p.len = 12;
    put(&p, q + 12, qend - 12);
    rcode = answer(&p, name, type);
    if (rcode < 0)
        return;
    p.b[0] = q[0];
    p.b[1] = q[1];
    p.b[2] = 0x81; /* QR, RD */
    p.b[3] = (unsigned char)(0x80 | rcode);
    p.b[5] = 1;
    p.b[6] = (unsigned char)(p.an >> 8);
    p.b[7] = (unsigned char)p.an;
    p.b[9] = (unsigned char)p.ns;
    sendto(f->fd, p.b, p.len, 0, (struct sockaddr *)&from, fl);
}

static void *
serve(void *arg)
{
    struct fake *f = arg;
    struct pollfd pfd;

    pfd.fd = f->fd;
    pfd.events = POLLIN;
    while (!atomic_load(&f->stop))
        if (poll(&pfd, 1, 20) > 0)
            serve_one(f);
    return NULL;
}

static int
fake_start(struct fake *f)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);

    memset(f, 0, sizeof(*f));
    if ((f->fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(f->fd, (struct sockaddr *)&sa, &sl) != 0)
        return -1;
    f->port = ntohs(sa.sin_port);
    return pthread_create(&f->th, NULL, serve, f) == 0 ? 0 : -1;
}

static void
fake_stop(struct fake *f)
{
    atomic_store(&f->stop, 1);
    pthread_join(f->th, NULL);
    close(f->fd);
}

static double fake_clock;

static double
fake_now(void)
{
    return fake_clock;
}

/* resolver - c-ares against the fake server, on the fake clock */
static struct tm_dns *
resolver(struct fake *f, size_t cache_entries, unsigned timeout_ms, uint32_t max_ttl)
{
    struct tm_dns_opts o;
    struct tm_dns *d = NULL;
    char servers[64], err[256];

    snprintf(servers, sizeof(servers), "127.0.0.1:%u", f->port);
    memset(&o, 0, sizeof(o));
    o.servers = servers;
    o.timeout_ms = timeout_ms;
    o.tries = 1;
    o.cache_entries = cache_entries;
    o.max_ttl = max_ttl;
    if (tm_dns_new_cares(&o, &d, err, sizeof(err)) != TM_OK) {
        tm_test_fail(__FILE__, __LINE__, "tm_dns_new_cares: %s", err);
        return NULL;
    }
    fake_clock = 1e6;
    tm_dns_set_clock(d, fake_now);
    return d;
}

TM_TEST(cares_answers_parsed)
{
    struct fake f;
    struct tm_arena *a = tm_arena_new(ARENA);
    struct tm_dns *d;
    struct tm_dns_rrset rs;

    REQUIRE(a != NULL && fake_start(&f) == 0);
    REQUIRE((d = resolver(&f, 0, 1000, 0)) != NULL);
    CHECK_STR(dns_ans(d, a, "a.test", TM_DNS_A), "ok 192.0.2.1");
    CHECK_STR(dns_ans(d, a, "A.Test.", TM_DNS_A), "ok 192.0.2.1");
    CHECK_STR(dns_ans(d, a, "aaaa.test", TM_DNS_AAAA), "ok 2001:db8::1");
    CHECK_STR(dns_ans(d, a, "txt.test", TM_DNS_TXT), "ok v=spf1 -all hello");
    CHECK_STR(dns_ans(d, a, "mx.test", TM_DNS_MX), "ok 10:mx1.test 20:mx2.test");
    CHECK_STR(dns_ans(d, a, "ptr.test", TM_DNS_PTR), "ok host.test");
    CHECK_STR(dns_ans(d, a, "a.test", TM_DNS_TXT), "nodata");
    CHECK_STR(dns_ans(d, a, "nx.test", TM_DNS_A), "nxdomain");
    CHECK_STR(dns_ans(d, a, "fail.test", TM_DNS_A), "tempfail");
    REQUIRE(tm_dns_lookup(d, a, "a.test", TM_DNS_A, NULL, &rs) == TM_OK && rs.n == 1);
    CHECK_EQ_INT(rs.rr[0].ttl, 100);
    CHECK_EQ_INT(rs.rr[0].family, 4);
    REQUIRE(tm_dns_lookup(d, a, "mx.test", TM_DNS_MX, NULL, &rs) == TM_OK && rs.n == 2);
    CHECK_EQ_INT(rs.rr[0].ttl, 200);
    CHECK_EQ_INT(rs.rr[0].text[rs.rr[0].len], '\0');
    /* 70 records on the wire (over EDNS), 64 kept; then smaller bounds */
    REQUIRE(tm_dns_lookup(d, a, "many.test", TM_DNS_A, NULL, &rs) == TM_OK);
    CHECK_EQ_INT(rs.status, TM_DNS_OK);
    CHECK_EQ_SIZE(rs.n, TM_DNS_MAX_RR);
    REQUIRE(tm_dns_lookup(d, a, "big.test", TM_DNS_TXT, NULL, &rs) == TM_OK && rs.n == 1);
    CHECK_EQ_SIZE(rs.rr[0].len, 800);
    tm_dns_set_limits(d, 3, 250);
    REQUIRE(tm_dns_lookup(d, a, "many.test", TM_DNS_A, NULL, &rs) == TM_OK);
    CHECK_EQ_SIZE(rs.n, 3);
    REQUIRE(tm_dns_lookup(d, a, "big.test", TM_DNS_TXT, NULL, &rs) == TM_OK && rs.n == 1);
    CHECK_EQ_SIZE(rs.rr[0].len, 250);
    CHECK_EQ_INT(rs.rr[0].text[250], '\0');
    tm_dns_set_limits(d, 1, 3);
    CHECK_STR(dns_ans(d, a, "txt.test", TM_DNS_TXT), "ok v=s");
    tm_dns_free(d);
    fake_stop(&f);
    tm_arena_free(a);
}

TM_TEST(cares_cache_hits_and_ttl)
{
    struct fake f;
    struct tm_arena *a = tm_arena_new(ARENA);
    struct tm_dns *d;
    struct tm_dns_budget b = {100, 0, 0};
    struct tm_dns_rrset rs;
    struct tm_dns_cache_stats st;
    unsigned q0;

    REQUIRE(a != NULL && fake_start(&f) == 0);
    REQUIRE((d = resolver(&f, 100, 1000, 3600)) != NULL);
    CHECK_EQ_INT(tm_dns_lookup(d, a, "a.test", TM_DNS_A, &b, &rs), TM_OK);
    CHECK_EQ_INT(rs.status, TM_DNS_OK);
    q0 = atomic_load(&f.queries);
    CHECK_EQ_INT(q0, 1);
    /* a hit: the server sees nothing, the budget is charged, the TTL runs down */
    fake_clock += 40e3;
    CHECK_EQ_INT(tm_dns_lookup(d, a, "A.TEST", TM_DNS_A, &b, &rs), TM_OK);
    CHECK_STR(dns_fmt(a, &rs, TM_DNS_A), "ok 192.0.2.1");
    CHECK_EQ_INT(rs.rr[0].ttl, 60);
    CHECK_EQ_INT(atomic_load(&f.queries), q0);
    CHECK_EQ_INT(b.used, 2);
    /* the same name, another type: another entry */
    CHECK_STR(dns_ans(d, a, "a.test", TM_DNS_TXT), "nodata");
    CHECK_EQ_INT(atomic_load(&f.queries), q0 + 1);
    /* expired after 100 s: asked again */
    fake_clock += 61e3;
    CHECK_STR(dns_ans(d, a, "a.test", TM_DNS_A), "ok 192.0.2.1");
    CHECK_EQ_INT(atomic_load(&f.queries), q0 + 2);
    CHECK(tm_dns_get_cache_stats(d, &st));
    CHECK_EQ_INT(st.hits, 1);
    CHECK_EQ_INT(st.expired, 1);
    tm_dns_free(d);
    /* max_ttl caps a day-long TTL at 10 s */
    REQUIRE((d = resolver(&f, 100, 1000, 10)) != NULL);
    q0 = atomic_load(&f.queries);
    CHECK_STR(dns_ans(d, a, "long.test", TM_DNS_A), "ok 192.0.2.7");
    fake_clock += 9e3;
    CHECK_STR(dns_ans(d, a, "long.test", TM_DNS_A), "ok 192.0.2.7");
    CHECK_EQ_INT(atomic_load(&f.queries), q0 + 1);
    fake_clock += 2e3;
    CHECK_STR(dns_ans(d, a, "long.test", TM_DNS_A), "ok 192.0.2.7");
    CHECK_EQ_INT(atomic_load(&f.queries), q0 + 2);
    tm_dns_free(d);
    fake_stop(&f);
    tm_arena_free(a);
}

TM_TEST(cares_cache_negative_and_tempfail)
{
    struct fake f;
    struct tm_arena *a = tm_arena_new(ARENA);
    struct tm_dns *d;
    unsigned q0;

    REQUIRE(a != NULL && fake_start(&f) == 0);
    REQUIRE((d = resolver(&f, 100, 300, 3600)) != NULL);
    /* NXDOMAIN with an SOA: min(SOA TTL 500, MINIMUM 30) = 30 s */
    CHECK_STR(dns_ans(d, a, "nx.test", TM_DNS_A), "nxdomain");
    q0 = atomic_load(&f.queries);
    fake_clock += 29e3;
    CHECK_STR(dns_ans(d, a, "nx.test", TM_DNS_A), "nxdomain");
    CHECK_EQ_INT(atomic_load(&f.queries), q0);
    fake_clock += 2e3;
    CHECK_STR(dns_ans(d, a, "nx.test", TM_DNS_A), "nxdomain");
    CHECK_EQ_INT(atomic_load(&f.queries), q0 + 1);
    /* NXDOMAIN without an SOA: TM_DNS_NEG_TTL (60 s) */
    CHECK_STR(dns_ans(d, a, "nxbare.test", TM_DNS_A), "nxdomain");
    q0 = atomic_load(&f.queries);
    fake_clock += 59e3;
    CHECK_STR(dns_ans(d, a, "nxbare.test", TM_DNS_A), "nxdomain");
    CHECK_EQ_INT(atomic_load(&f.queries), q0);
    fake_clock += 2e3;
    CHECK_STR(dns_ans(d, a, "nxbare.test", TM_DNS_A), "nxdomain");
    CHECK_EQ_INT(atomic_load(&f.queries), q0 + 1);
    /* NODATA: the SOA MINIMUM 40 */
    CHECK_STR(dns_ans(d, a, "nodata.test", TM_DNS_MX), "nodata");
    q0 = atomic_load(&f.queries);
    fake_clock += 39e3;
    CHECK_STR(dns_ans(d, a, "nodata.test", TM_DNS_MX), "nodata");
    CHECK_EQ_INT(atomic_load(&f.queries), q0);
    fake_clock += 2e3;
    CHECK_STR(dns_ans(d, a, "nodata.test", TM_DNS_MX), "nodata");
    CHECK_EQ_INT(atomic_load(&f.queries), q0 + 1);
    /* SERVFAIL and silence: TEMPFAIL, asked again every time */
    q0 = atomic_load(&f.queries);
    CHECK_STR(dns_ans(d, a, "fail.test", TM_DNS_A), "tempfail");
    CHECK_STR(dns_ans(d, a, "fail.test", TM_DNS_A), "tempfail");
    CHECK_EQ_INT(atomic_load(&f.queries), q0 + 2);
    CHECK_STR(dns_ans(d, a, "silent.test", TM_DNS_A), "tempfail");
    CHECK_STR(dns_ans(d, a, "silent.test", TM_DNS_A), "tempfail");
    CHECK_EQ_INT(atomic_load(&f.queries), q0 + 4);
    tm_dns_free(d);
    fake_stop(&f);
    tm_arena_free(a);
}

TM_TEST(cares_cache_bound_and_lru)
{
    struct fake f;
    struct tm_arena *a = tm_arena_new(ARENA);
    struct tm_dns *d;
    struct tm_dns_cache_stats st;
    char name[32], want[32];
    unsigned i, q0;

    REQUIRE(a != NULL && fake_start(&f) == 0);
    REQUIRE((d = resolver(&f, 4, 1000, 3600)) != NULL);
    for (i = 1; i <= 10; i++) {
        snprintf(name, sizeof(name), "n%u.test", i);
        snprintf(want, sizeof(want), "ok 192.0.2.%u", i);
        CHECK_STR(dns_ans(d, a, name, TM_DNS_A), want);
        if (i == 8) /* n7 becomes the most recently used */
            CHECK_STR(dns_ans(d, a, "n7.test", TM_DNS_A), "ok 192.0.2.7");
    }
    CHECK(tm_dns_get_cache_stats(d, &st));
    CHECK_EQ_SIZE(st.entries, 4);
    CHECK_EQ_INT(st.evictions, 6);
    CHECK_LE_SIZE(st.bytes, TM_DNS_CACHE_MAX_BYTES);
    /* kept: n7, n8, n9, n10 */
    q0 = atomic_load(&f.queries);
    CHECK_STR(dns_ans(d, a, "n7.test", TM_DNS_A), "ok 192.0.2.7");
    CHECK_STR(dns_ans(d, a, "n10.test", TM_DNS_A), "ok 192.0.2.10");
    CHECK_EQ_INT(atomic_load(&f.queries), q0);
    CHECK_STR(dns_ans(d, a, "n1.test", TM_DNS_A), "ok 192.0.2.1");
    CHECK_EQ_INT(atomic_load(&f.queries), q0 + 1);
    tm_dns_free(d);
    /* cache_entries 0: no cache */
    REQUIRE((d = resolver(&f, 0, 1000, 3600)) != NULL);
    q0 = atomic_load(&f.queries);
    CHECK_STR(dns_ans(d, a, "a.test", TM_DNS_A), "ok 192.0.2.1");
    CHECK_STR(dns_ans(d, a, "a.test", TM_DNS_A), "ok 192.0.2.1");
    CHECK_EQ_INT(atomic_load(&f.queries), q0 + 2);
    CHECK(!tm_dns_get_cache_stats(d, &st));
    tm_dns_free(d);
    fake_stop(&f);
    tm_arena_free(a);
}

TM_TEST(cares_batch_budget_and_deadline)
{
    struct fake f;
    struct tm_arena *a = tm_arena_new(ARENA);
    struct tm_dns *d;
    struct tm_dns_budget b = {3, 0, 0};
    struct tm_dns_query q[5];
    const char *names[5] = {"a.test", "silent.test", "mx.test", "txt.test", "n5.test"};
    double t0, took;
    unsigned q0;
    size_t i;

    REQUIRE(a != NULL && fake_start(&f) == 0);
    REQUIRE((d = resolver(&f, 100, 5000, 3600)) != NULL);
    CHECK_STR(dns_ans(d, a, "a.test", TM_DNS_A), "ok 192.0.2.1"); /* cached now */
    q0 = atomic_load(&f.queries);
    for (i = 0; i < 5; i++) {
        q[i].name = names[i];
        q[i].type = i == 2 ? TM_DNS_MX : TM_DNS_A;
    }
    /* the silent server would hold the batch 5 s; the deadline ends it at 300 ms */
    b.deadline_ms = tm_now_ms() + 300;
    t0 = tm_now_ms();
    CHECK_EQ_INT(tm_dns_lookup_many(d, a, q, 5, &b), TM_OK);
    took = tm_now_ms() - t0;
    CHECK(took >= 250 && took < 1500);
    CHECK_STR(dns_fmt(a, &q[0].res, TM_DNS_A), "ok 192.0.2.1"); /* a hit, charged */
    CHECK_STR(dns_fmt(a, &q[1].res, TM_DNS_A), "tempfail");     /* cut by the deadline */
    CHECK_STR(dns_fmt(a, &q[2].res, TM_DNS_MX), "ok 10:mx1.test 20:mx2.test");
    CHECK_STR(dns_fmt(a, &q[3].res, TM_DNS_A), "limit");
    CHECK_STR(dns_fmt(a, &q[4].res, TM_DNS_A), "limit");
    CHECK_EQ_INT(b.used, 3);
    CHECK_EQ_INT(atomic_load(&f.queries), q0 + 2); /* silent and mx only */
    /* the channel came back clean: the next batch works */
    CHECK_STR(dns_ans(d, a, "ptr.test", TM_DNS_PTR), "ok host.test");
    /* a deadline already past: LIMIT at once, even for a cached name */
    b.used = 0;
    b.deadline_ms = tm_now_ms() - 1;
    CHECK_EQ_INT(tm_dns_lookup_many(d, a, q, 1, &b), TM_OK);
    CHECK_EQ_INT(q[0].res.status, TM_DNS_LIMIT);
    tm_dns_free(d);
    fake_stop(&f);
    tm_arena_free(a);
}

struct worker {
    struct tm_dns *d;
    unsigned id;
    unsigned bad;
};

static void *
work(void *arg)
{
    struct worker *w = arg;
    struct tm_arena *a;
    struct tm_dns_query q[4];
    char names[4][32], want[32];
    unsigned i, k, n[4];

    for (i = 0; i < 25; i++) {
        if ((a = tm_arena_new(ARENA)) == NULL) {
            w->bad++;
            return NULL;
        }
        for (k = 0; k < 4; k++) {
            n[k] = (w->id * 7 + i * 4 + k) % 200 + 1;
            snprintf(names[k], sizeof(names[k]), "n%u.test", n[k]);
            q[k].name = names[k];
            q[k].type = TM_DNS_A;
        }
        if (tm_dns_lookup_many(w->d, a, q, 4, NULL) != TM_OK)
            w->bad++;
        for (k = 0; k < 4; k++) {
            snprintf(want, sizeof(want), "ok 192.0.2.%u", n[k]);
            if (strcmp(dns_fmt(a, &q[k].res, TM_DNS_A), want) != 0)
                w->bad++;
        }
        tm_arena_free(a);
    }
    return NULL;
}

TM_TEST(cares_threads_share_one_resolver)
{
    struct fake f;
    struct tm_dns *d;
    struct worker w[4];
    pthread_t th[4];
    struct tm_dns_cache_stats st;
    unsigned i;

    REQUIRE(fake_start(&f) == 0);
    REQUIRE((d = resolver(&f, 64, 2000, 3600)) != NULL);
    tm_dns_set_clock(d, NULL);
    for (i = 0; i < 4; i++) {
        w[i].d = d;
        w[i].id = i;
        w[i].bad = 0;
        REQUIRE(pthread_create(&th[i], NULL, work, &w[i]) == 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(w[i].bad, 0);
    }
    CHECK(tm_dns_get_cache_stats(d, &st));
    CHECK_LE_SIZE(st.entries, 64);
    CHECK_EQ_INT(st.hits + st.misses, 400);
    tm_dns_free(d);
    fake_stop(&f);
}

TM_TEST(cares_bad_options)
{
    struct tm_dns_opts o;
    struct tm_dns *d = NULL;
    char err[256];

    memset(&o, 0, sizeof(o));
    o.servers = "not an address";
    CHECK_EQ_INT(tm_dns_new_cares(&o, &d, err, sizeof(err)), TM_EIO);
    CHECK(d == NULL);
    CHECK(strstr(err, "c-ares") != NULL);
    o.servers = "127.0.0.1";
    o.tries = 1000;
    CHECK_EQ_INT(tm_dns_new_cares(&o, &d, err, sizeof(err)), TM_EINVAL);
    o.tries = 0;
    o.timeout_ms = 100;
    REQUIRE(tm_dns_new_cares(&o, &d, err, sizeof(err)) == TM_OK);
    tm_dns_free(d);
    /* NULL options: resolv.conf (or c-ares's default) and every default */
    REQUIRE(tm_dns_new_cares(NULL, &d, err, sizeof(err)) == TM_OK);
    tm_dns_free(d);
}

const struct tm_test tests_dns_cares[] = {
    TM_TEST_ENTRY(cares_answers_parsed),
    TM_TEST_ENTRY(cares_cache_hits_and_ttl),
    TM_TEST_ENTRY(cares_cache_negative_and_tempfail),
    TM_TEST_ENTRY(cares_cache_bound_and_lru),
    TM_TEST_ENTRY(cares_batch_budget_and_deadline),
    TM_TEST_ENTRY(cares_threads_share_one_resolver),
    TM_TEST_ENTRY(cares_bad_options),
    TM_TEST_END,
};
