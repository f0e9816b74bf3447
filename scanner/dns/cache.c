/*
 * cache.c - the DNS answer cache shared by every thread using one c-ares
 * resolver: a hash table of (lower-cased name, type) -> answer, with an LRU
 * list, behind one mutex.
 *
 * Bounds: at most max_entries entries and max_bytes bytes (entry headers,
 * records and text all counted); an answer bigger than
 * TM_DNS_CACHE_MAX_ENTRY is served but not kept. Past either bound the least
 * recently used entries go first. Expired entries are dropped when met.
 *
 * What is kept: OK, NODATA and NXDOMAIN answers, for the TTL the caller
 * gives (cares.c caps it with max_ttl, and negative answers with the SOA
 * rule of RFC 2308 section 5, at most TM_DNS_NEG_TTL_MAX). TEMPFAIL and
 * LIMIT are never kept. A hit reports the remaining TTL, as a caching
 * resolver would.
 *
 * The names come from hostile mail (SPF includes, DKIM d=), so the table is
 * keyed with SipHash-2-4 under a random per-cache key: nobody can aim many
 * names at one bucket. Memory is fallible (tm_calloc): no memory just means
 * no caching.
 */
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include "core/arena.h"
#include "core/core.h"
#include "dns/dns_impl.h"

#define CACHE_MIN_BUCKETS 16

struct centry {
    struct centry *hnext;       /* hash chain */
    struct centry *prev, *next; /* LRU list, most recent first */
    uint64_t hash;
    double expires_ms;
    size_t bytes;
    enum tm_dns_status status;
    enum tm_dns_type type;
    struct tm_dns_rr *rr; /* n records, then the name and the texts, in this block */
    size_t n;
    char *name;
    size_t name_len;
};

struct tm_dns_cache {
    pthread_mutex_t mu;
    struct centry **bucket;
    size_t nbucket; /* a power of two */
    struct centry *head, *tail;
    size_t max_entries, max_bytes;
    uint64_t k0, k1; /* SipHash key */
    struct tm_dns_cache_stats st;
};

/* ---- SipHash-2-4 (Aumasson and Bernstein), one call per key ---- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND           \
    do {                   \
        v0 += v1;          \
        v1 = ROTL(v1, 13); \
        v1 ^= v0;          \
        v0 = ROTL(v0, 32); \
        v2 += v3;          \
        v3 = ROTL(v3, 16); \
        v3 ^= v2;          \
        v0 += v3;          \
        v3 = ROTL(v3, 21); \
        v3 ^= v0;          \
        v2 += v1;          \
        v1 = ROTL(v1, 17); \
        v1 ^= v2;          \
        v2 = ROTL(v2, 32); \
    } while (0)

static uint64_t
load64(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    size_t i;

    for (i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint64_t
siphash(uint64_t k0, uint64_t k1, const unsigned char *p, size_t len)
{
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    uint64_t m;
    size_t i, full = len - len % 8;

    for (i = 0; i < full; i += 8) {
        m = load64(p + i, 8);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    m = load64(p + full, len - full) | (uint64_t)(len & 0xff) << 56;
    v3 ^= m;
    SIPROUND;
    SIPROUND;
    v0 ^= m;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static uint64_t
key_hash(const struct tm_dns_cache *c, const char *name, size_t len, enum tm_dns_type type)
{
    return siphash(c->k0, c->k1 ^ (uint64_t)type, (const unsigned char *)name, len);
}

/* random_key - 16 bytes from the kernel; the clock and an address if that fails */
static void
random_key(struct tm_dns_cache *c)
{
    unsigned char k[16];

    if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k)) {
        uint64_t t = (uint64_t)(tm_now_ms() * 1000.0);

        memcpy(k, &t, 8);
        t = (uint64_t)(uintptr_t)c;
        memcpy(k + 8, &t, 8);
    }
    c->k0 = load64(k, 8);
    c->k1 = load64(k + 8, 8);
}

/* tm_dns_cache_new - an empty cache: buckets for max_entries, a random SipHash key */
struct tm_dns_cache *
tm_dns_cache_new(size_t max_entries, size_t max_bytes)
{
    struct tm_dns_cache *c = tm_xcalloc(1, sizeof(*c));
    size_t nb = CACHE_MIN_BUCKETS;

    TM_ASSERT(max_entries > 0 && max_entries <= TM_DNS_MAX_CACHE);
    while (nb < max_entries)
        nb *= 2;
    c->bucket = tm_xcalloc(nb, sizeof(*c->bucket));
    c->nbucket = nb;
    c->max_entries = max_entries;
    c->max_bytes = max_bytes;
    random_key(c);
    if (pthread_mutex_init(&c->mu, NULL) != 0)
        tm_fatal("dns cache: pthread_mutex_init failed");
    return c;
}

/* drop_entry - out of its chain and the LRU list, and freed; lock held */
static void
drop_entry(struct tm_dns_cache *c, struct centry *e)
{
    struct centry **pp = &c->bucket[e->hash & (c->nbucket - 1)];

    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    c->st.entries--;
    c->st.bytes -= e->bytes;
    tm_free(e);
}

/* tm_dns_cache_free - every entry, then the table */
void
tm_dns_cache_free(struct tm_dns_cache *c)
{
    while (c->head != NULL)
        drop_entry(c, c->head);
    pthread_mutex_destroy(&c->mu);
    tm_free(c->bucket);
    tm_free(c);
}

static struct centry *
find(struct tm_dns_cache *c, uint64_t h, const char *name, size_t len, enum tm_dns_type type)
{
    struct centry *e;

    for (e = c->bucket[h & (c->nbucket - 1)]; e != NULL; e = e->hnext)
        if (e->hash == h && e->type == type && e->name_len == len &&
            memcmp(e->name, name, len) == 0)
            return e;
    return NULL;
}

static void
to_front(struct tm_dns_cache *c, struct centry *e)
{
    if (c->head == e)
        return;
    if (e->prev != NULL) { /* linked: take it out first */
        e->prev->next = e->next;
        if (e->next != NULL)
            e->next->prev = e->prev;
        else
            c->tail = e->prev;
    }
    e->prev = NULL;
    e->next = c->head;
    if (c->head != NULL)
        c->head->prev = e;
    c->head = e;
    if (c->tail == NULL)
        c->tail = e;
}

/* tm_dns_cache_get - copy a live entry into the arena and make it most recent */
int
tm_dns_cache_get(struct tm_dns_cache *c, struct tm_arena *a, const char *name, size_t len,
                 enum tm_dns_type type, double now_ms, struct tm_dns_rrset *res)
{
    uint64_t h = key_hash(c, name, len, type);
    struct centry *e;
    uint32_t left;
    size_t i;
    int ret = 0;

    pthread_mutex_lock(&c->mu);
    e = find(c, h, name, len, type);
    if (e != NULL && now_ms >= e->expires_ms) {
        drop_entry(c, e);
        c->st.expired++;
        e = NULL;
    }
    if (e == NULL) {
        c->st.misses++;
        pthread_mutex_unlock(&c->mu);
        return 0;
    }
    c->st.hits++;
    to_front(c, e);
    res->status = e->status;
    if (tm_dns_rrset_copy(a, e->rr, e->n, res) != TM_OK) {
        ret = TM_ENOMEM;
    } else {
        left = (uint32_t)((e->expires_ms - now_ms) / 1000.0 + 0.999);
        for (i = 0; i < res->n; i++)
            res->rr[i].ttl = TM_MIN(res->rr[i].ttl, left);
        ret = 1;
    }
    pthread_mutex_unlock(&c->mu);
    return ret;
}

/* entry_size - bytes of one block holding the answer; 0 when too big to keep */
static size_t
entry_size(const struct tm_dns_rrset *res, size_t len)
{
    size_t i, sz = sizeof(struct centry) + res->n * sizeof(struct tm_dns_rr) + len + 1;

    for (i = 0; i < res->n; i++) {
        if (res->rr[i].text == NULL)
            continue;
        if (res->rr[i].len > TM_DNS_CACHE_MAX_ENTRY)
            return 0;
        sz += res->rr[i].len + 1;
    }
    return sz <= TM_DNS_CACHE_MAX_ENTRY ? sz : 0;
}

/* build - one block: header, records, name, texts (the records point into it) */
static struct centry *
build(const char *name, size_t len, enum tm_dns_type type, const struct tm_dns_rrset *res,
      size_t sz)
{
    struct centry *e;
    char *p;
    size_t i;

    _Static_assert(sizeof(struct centry) % _Alignof(struct tm_dns_rr) == 0, "rr alignment");
    if ((e = tm_calloc(1, sz)) == NULL)
        return NULL;
    e->bytes = sz;
    e->status = res->status;
    e->type = type;
    e->n = res->n;
    e->rr = (struct tm_dns_rr *)(e + 1);
    p = (char *)(e->rr + res->n);
    e->name = p;
    e->name_len = len;
    memcpy(p, name, len);
    p += len + 1;
    for (i = 0; i < res->n; i++) {
        e->rr[i] = res->rr[i];
        if (res->rr[i].text != NULL) {
            memcpy(p, res->rr[i].text, res->rr[i].len);
            e->rr[i].text = p;
            p += res->rr[i].len + 1;
        }
    }
    return e;
}

/* tm_dns_cache_put - build the entry outside the lock, then replace and evict under it */
void
tm_dns_cache_put(struct tm_dns_cache *c, const char *name, size_t len, enum tm_dns_type type,
                 const struct tm_dns_rrset *res, uint32_t ttl, double now_ms)
{
    struct centry *e, *old;
    size_t sz;

    if (ttl == 0 || (res->status != TM_DNS_OK && res->status != TM_DNS_NODATA &&
                     res->status != TM_DNS_NXDOMAIN))
        return;
    if ((sz = entry_size(res, len)) == 0 || sz > c->max_bytes)
        return;
    if ((e = build(name, len, type, res, sz)) == NULL)
        return;
    e->hash = key_hash(c, name, len, type);
    e->expires_ms = now_ms + (double)ttl * 1000.0;
    pthread_mutex_lock(&c->mu);
    if ((old = find(c, e->hash, name, len, type)) != NULL)
        drop_entry(c, old);
    while (c->tail != NULL &&
           (c->st.entries >= c->max_entries || sz > c->max_bytes - c->st.bytes)) {
        drop_entry(c, c->tail);
        c->st.evictions++;
    }
    e->hnext = c->bucket[e->hash & (c->nbucket - 1)];
    c->bucket[e->hash & (c->nbucket - 1)] = e;
    to_front(c, e);
    c->st.entries++;
    c->st.bytes += sz;
    c->st.inserts++;
    pthread_mutex_unlock(&c->mu);
}

/* tm_dns_cache_stats - the counters, read under the lock */
void
tm_dns_cache_stats(struct tm_dns_cache *c, struct tm_dns_cache_stats *st)
{
    pthread_mutex_lock(&c->mu);
    *st = c->st;
    pthread_mutex_unlock(&c->mu);
}
