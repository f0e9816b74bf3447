/*
 * fake_dns.c - the in-memory resolver of fake_dns.h: the functions of
 * scanner/dns/dns.h over a flat table of records, for unit tests only.
 */
#include "fake_dns.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/core.h"

/* CNAME hops followed before a chain counts as a loop */
#define FAKE_MAX_CNAME 8

struct fake_rec {
    char *name; /* lower case, no trailing dot */
    int type;
    char *text; /* TXT, MX host, PTR, CNAME target */
    size_t len;
    unsigned pref;
    int family;
    unsigned char addr[16];
};

struct fake_q {
    char *name;
    int type;
};

struct tm_dns {
    struct fake_rec *r;
    size_t n, cap;
    struct fake_q *log;
    size_t nlog, caplog;
};

static char *
fake_norm(const char *name, size_t n)
{
    char *s;
    size_t i;

    if (n > 0 && name[n - 1] == '.')
        n--;
    s = tm_xstrdup_n(name, n);
    for (i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] + 32);
    return s;
}

struct tm_dns *
fake_dns_new(void)
{
    return tm_xcalloc(1, sizeof(struct tm_dns));
}

void
tm_dns_free(struct tm_dns *d)
{
    size_t i;

    if (d == NULL)
        return;
    for (i = 0; i < d->n; i++) {
        tm_free(d->r[i].name);
        tm_free(d->r[i].text);
    }
    for (i = 0; i < d->nlog; i++)
        tm_free(d->log[i].name);
    tm_free(d->r);
    tm_free(d->log);
    tm_free(d);
}

tm_rc
tm_dns_new_cares(const struct tm_dns_opts *o, struct tm_dns **out, char *err, size_t errlen)
{
    (void)o;
    (void)err;
    (void)errlen;
    *out = NULL;
    return TM_EIO;
}

tm_rc
tm_dns_new_zone(const char *path, struct tm_dns **out, char *err, size_t errlen)
{
    (void)path;
    (void)err;
    (void)errlen;
    *out = NULL;
    return TM_EIO;
}

const char *
tm_dns_status_name(enum tm_dns_status s)
{
    static const char *const names[] = {"ok", "nodata", "nxdomain", "tempfail", "limit"};

    return (size_t)s < TM_NELEM(names) ? names[s] : "?";
}

static int
fake_type(const char *t)
{
    static const struct {
        const char *name;
        int type;
    } types[] = {
        {"A", TM_DNS_A},     {"AAAA", TM_DNS_AAAA}, {"TXT", TM_DNS_TXT},        {"MX", TM_DNS_MX},
        {"PTR", TM_DNS_PTR}, {"CNAME", FAKE_CNAME}, {"TEMPFAIL", FAKE_TEMPFAIL}};
    size_t i;

    for (i = 0; i < TM_NELEM(types); i++)
        if (strcmp(t, types[i].name) == 0)
            return types[i].type;
    return -1;
}

int
fake_dns_add(struct tm_dns *d, const char *name, const char *type, const char *data, size_t len)
{
    struct fake_rec r;
    char buf[64];

    memset(&r, 0, sizeof(r));
    if ((r.type = fake_type(type)) < 0)
        return 0;
    if (r.type == TM_DNS_A || r.type == TM_DNS_AAAA) {
        if (len >= sizeof(buf))
            return 0;
        memcpy(buf, data, len);
        buf[len] = '\0';
        if (inet_pton(AF_INET, buf, r.addr) == 1)
            r.family = 4;
        else if (inet_pton(AF_INET6, buf, r.addr) == 1)
            r.family = 6;
        else
            return 0;
        r.type = r.family == 4 ? TM_DNS_A : TM_DNS_AAAA;
    } else if (r.type == TM_DNS_MX) {
        char *copy = tm_xstrdup_n(data, len), *end;

        r.pref = (unsigned)strtoul(copy, &end, 10);
        while (*end == ' ')
            end++;
        r.text = fake_norm(end, strlen(end));
        r.len = strlen(r.text);
        tm_free(copy);
    } else if (r.type == TM_DNS_PTR || r.type == FAKE_CNAME) {
        r.text = fake_norm(data, len);
        r.len = strlen(r.text);
    } else if (r.type == TM_DNS_TXT) {
        r.text = tm_xstrdup_n(data, len);
        r.len = len;
    }
    r.name = fake_norm(name, strlen(name));
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 64;
        d->r = tm_xrealloc(d->r, d->cap * sizeof(*d->r));
    }
    d->r[d->n++] = r;
    return 1;
}

int
fake_dns_txt(struct tm_dns *d, const char *name, const char *text)
{
    return fake_dns_add(d, name, "TXT", text, strlen(text));
}

int
fake_dns_rr(struct tm_dns *d, const char *name, const char *type, const char *data)
{
    return fake_dns_add(d, name, type, data != NULL ? data : "", data != NULL ? strlen(data) : 0);
}

int
fake_dns_load(struct tm_dns *d, const char *text)
{
    const char *p = text;

    while (*p != '\0') {
        const char *e = strchr(p, '\n'), *s1, *s2;
        char name[300], type[16];
        size_t n;

        if (e == NULL)
            e = p + strlen(p);
        while (p < e && *p == ' ')
            p++;
        if (p < e && *p != '#') {
            s1 = memchr(p, ' ', (size_t)(e - p));
            if (s1 == NULL || (size_t)(s1 - p) >= sizeof(name))
                return 0;
            memcpy(name, p, (size_t)(s1 - p));
            name[s1 - p] = '\0';
            s1++;
            s2 = memchr(s1, ' ', (size_t)(e - s1));
            if (s2 == NULL)
                s2 = e;
            n = (size_t)(s2 - s1);
            if (n >= sizeof(type))
                return 0;
            memcpy(type, s1, n);
            type[n] = '\0';
            if (s2 < e)
                s2++;
            if (!fake_dns_add(d, name, type, s2, (size_t)(e - s2)))
                return 0;
        }
        p = *e != '\0' ? e + 1 : e;
    }
    return 1;
}

unsigned
fake_dns_queries(const struct tm_dns *d)
{
    return (unsigned)d->nlog;
}

unsigned
fake_dns_asked(const struct tm_dns *d, const char *name, enum tm_dns_type type)
{
    char *n = fake_norm(name, strlen(name));
    unsigned k = 0;
    size_t i;

    for (i = 0; i < d->nlog; i++)
        if (d->log[i].type == (int)type && strcmp(d->log[i].name, n) == 0)
            k++;
    tm_free(n);
    return k;
}

/* fake_has - the name has a record of this type (-1: any type) */
static int
fake_has(const struct tm_dns *d, const char *name, int type)
{
    size_t i;

    for (i = 0; i < d->n; i++)
        if (strcmp(d->r[i].name, name) == 0 && (type < 0 || d->r[i].type == type))
            return 1;
    return 0;
}

static const char *
fake_cname(const struct tm_dns *d, const char *name)
{
    size_t i;

    for (i = 0; i < d->n; i++)
        if (d->r[i].type == FAKE_CNAME && strcmp(d->r[i].name, name) == 0)
            return d->r[i].text;
    return NULL;
}

static tm_rc
fake_answer(struct tm_dns *d, struct tm_arena *a, const char *qname, enum tm_dns_type type,
            struct tm_dns_rrset *out)
{
    char *name = fake_norm(qname, strlen(qname));
    const char *cur = name, *next;
    size_t i, n = 0, k = 0;
    int hops = 0;

    memset(out, 0, sizeof(*out));
    while (type != (enum tm_dns_type)FAKE_CNAME && (next = fake_cname(d, cur)) != NULL) {
        if (++hops > FAKE_MAX_CNAME) {
            out->status = TM_DNS_TEMPFAIL;
            tm_free(name);
            return TM_OK;
        }
        cur = next;
    }
    for (i = 0; i < d->n; i++)
        if (strcmp(d->r[i].name, cur) == 0 && d->r[i].type == (int)type)
            n++;
    if (n == 0) {
        out->status = fake_has(d, cur, FAKE_TEMPFAIL) ? TM_DNS_TEMPFAIL
                      : fake_has(d, cur, -1)          ? TM_DNS_NODATA
                                                      : TM_DNS_NXDOMAIN;
        tm_free(name);
        return TM_OK;
    }
    if ((out->rr = tm_arena_calloc(a, n, sizeof(*out->rr))) == NULL) {
        tm_free(name);
        return TM_ENOMEM;
    }
    for (i = 0; i < d->n; i++) {
        const struct fake_rec *r = &d->r[i];
        struct tm_dns_rr *rr = &out->rr[k];

        if (strcmp(r->name, cur) != 0 || r->type != (int)type)
            continue;
        rr->family = r->family;
        memcpy(rr->addr, r->addr, sizeof(rr->addr));
        rr->pref = r->pref;
        rr->ttl = 300;
        if (r->text != NULL) {
            if ((rr->text = tm_arena_strndup(a, r->text, r->len)) == NULL) {
                tm_free(name);
                return TM_ENOMEM;
            }
            rr->len = r->len;
        }
        k++;
    }
    out->n = k;
    out->status = TM_DNS_OK;
    tm_free(name);
    return TM_OK;
}

tm_rc
tm_dns_lookup(struct tm_dns *d, struct tm_arena *a, const char *name, enum tm_dns_type type,
              struct tm_dns_budget *b, struct tm_dns_rrset *out)
{
    memset(out, 0, sizeof(*out));
    if (b != NULL) {
        if (b->used >= b->max_queries || (b->deadline_ms > 0 && tm_now_ms() > b->deadline_ms)) {
            out->status = TM_DNS_LIMIT;
            return TM_OK;
        }
        b->used++;
    }
    if (d->nlog == d->caplog) {
        d->caplog = d->caplog ? 2 * d->caplog : 64;
        d->log = tm_xrealloc(d->log, d->caplog * sizeof(*d->log));
    }
    d->log[d->nlog].name = fake_norm(name, strlen(name));
    d->log[d->nlog].type = (int)type;
    d->nlog++;
    return fake_answer(d, a, name, type, out);
}

tm_rc
tm_dns_lookup_many(struct tm_dns *d, struct tm_arena *a, struct tm_dns_query *q, size_t n,
                   struct tm_dns_budget *b)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (tm_dns_lookup(d, a, q[i].name, q[i].type, b, &q[i].res) != TM_OK)
            return TM_ENOMEM;
    return TM_OK;
}
