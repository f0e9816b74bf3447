/*
 * spf.c - check_host() of RFC 7208 (section 4) over scanner/dns.
 *
 * include and redirect are evaluated on an explicit stack of frames (one
 * per record being evaluated), never by recursion: include pushes a frame,
 * redirect replaces the frame's record in place (so the exp= of the
 * redirect target, not of the original record, is the one used, 6.2), and
 * a finished frame hands its result to the include that opened it (5.2:
 * pass matches, fail/softfail/neutral do not, temperror stays, permerror
 * and none become permerror).
 *
 * Limits (struct tm_spf_limits, RFC 4.6.4): DNS-querying terms (include a
 * mx ptr exists redirect) above max_dns_terms, or void lookups above
 * max_void, are a permerror; an mx mechanism needing more than max_mx
 * names is a permerror, a ptr mechanism and %{p} look at the first
 * max_ptr names only; include nesting is bounded by max_depth. DNS
 * tempfail is a temperror, as is the message's DNS budget running out.
 * The exp= lookup counts towards no limit (it is not a term) and %{p}
 * lookups count only as queries.
 */
#include "auth/spf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/spf_int.h"
#include "core/arena.h"
#include "core/str.h"
#include "dns/dns.h"

enum spf_step { SPF_NOMATCH, SPF_MATCH, SPF_PUSH, SPF_STOP };

struct spf_frame {
    const char *domain;
    struct tm_spf_record rec;
    size_t next;                   /* next term to evaluate */
    const struct tm_spf_term *via; /* the include that opened the frame; NULL at the top */
    int redirected;
    int loaded;
};

struct spf_ctx {
    struct tm_dns *dns;
    struct tm_arena *a;
    struct tm_dns_budget *b;
    struct tm_spf_limits lim;
    struct tm_spf_macro_env env; /* d is set before each expansion */
    int p_done;                  /* %{p}: validated names, looked up once */
    const char **p_names;
    size_t p_n;
    unsigned terms, voids, queries;
    enum tm_spf_res stop; /* the frame's result when a step says SPF_STOP */
    const char *reason;
    tm_rc rc; /* TM_ENOMEM once the arena is spent */
    struct spf_frame st[TM_SPF_MAX_DEPTH + 1];
    size_t depth;
};

void
tm_spf_limits_default(struct tm_spf_limits *l)
{
    l->max_dns_terms = 10;
    l->max_void = 2;
    l->max_mx = 10;
    l->max_ptr = 10;
    l->max_depth = 10;
}

const char *
tm_spf_result_name(enum tm_spf_res r)
{
    static const char *const names[] = {"none",     "neutral",   "pass",     "fail",
                                        "softfail", "temperror", "permerror"};

    return (size_t)r < TM_NELEM(names) ? names[r] : "?";
}

static enum spf_step
spf_stop(struct spf_ctx *c, enum tm_spf_res r, const char *why)
{
    c->stop = r;
    c->reason = why;
    return SPF_STOP;
}

static enum spf_step
spf_oom(struct spf_ctx *c)
{
    c->rc = TM_ENOMEM;
    return spf_stop(c, TM_SPF_TEMPERROR, "out of memory");
}

static tm_rc
spf_lookup(struct spf_ctx *c, const char *name, enum tm_dns_type type, struct tm_dns_rrset *rs)
{
    c->queries++;
    return tm_dns_lookup(c->dns, c->a, name, type, c->b, rs);
}

/* spf_dns_error - the step for a tempfail or a spent budget, else SPF_NOMATCH */
static enum spf_step
spf_dns_error(struct spf_ctx *c, const struct tm_dns_rrset *rs)
{
    if (rs->status == TM_DNS_TEMPFAIL)
        return spf_stop(c, TM_SPF_TEMPERROR, "DNS error");
    if (rs->status == TM_DNS_LIMIT)
        return spf_stop(c, TM_SPF_TEMPERROR, "DNS lookup budget spent");
    return SPF_NOMATCH;
}

/* spf_count_term - one more DNS-querying term; 0 (and a permerror) past the limit */
static int
spf_count_term(struct spf_ctx *c)
{
    if (++c->terms > c->lim.max_dns_terms) {
        (void)spf_stop(c, TM_SPF_PERMERROR, "too many DNS lookups");
        return 0;
    }
    return 1;
}

/* spf_void - count a void answer (4.6.4); 0 (and a permerror) past the limit */
static int
spf_void(struct spf_ctx *c, const struct tm_dns_rrset *rs)
{
    if (rs->status != TM_DNS_NXDOMAIN && rs->status != TM_DNS_NODATA)
        return 1;
    if (++c->voids > c->lim.max_void) {
        (void)spf_stop(c, TM_SPF_PERMERROR, "too many void DNS lookups");
        return 0;
    }
    return 1;
}

/* spf_net_match - the first bits of ip and net agree */
static int
spf_net_match(const unsigned char *ip, const unsigned char *net, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    unsigned char mask;

    if (full > 0 && memcmp(ip, net, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    mask = (unsigned char)(0xffu << (8 - rest));
    return (ip[full] & mask) == (net[full] & mask);
}

/* spf_addr_match - any A/AAAA record of rs within cidr of the client */
static int
spf_addr_match(const struct spf_ctx *c, const struct tm_dns_rrset *rs, unsigned cidr4,
               unsigned cidr6)
{
    size_t i;

    if (rs->status != TM_DNS_OK)
        return 0;
    for (i = 0; i < rs->n; i++) {
        if (rs->rr[i].family != c->env.family)
            continue;
        if (spf_net_match(c->env.ip, rs->rr[i].addr, c->env.family == 4 ? cidr4 : cidr6))
            return 1;
    }
    return 0;
}

/* spf_name_len - length of a DNS name without its trailing dot */
static size_t
spf_name_len(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

/* spf_in_domain - name equals dom or is a subdomain of it (case-insensitive) */
static int
spf_in_domain(const char *name, const char *dom)
{
    size_t n = spf_name_len(name), d = spf_name_len(dom);

    if (n == d)
        return tm_mem_ieq(name, dom, n);
    return n > d && name[n - d - 1] == '.' && tm_mem_ieq(name + n - d, dom, d);
}

/* spf_reverse_name - the in-addr.arpa / ip6.arpa name of the client */
static void
spf_reverse_name(const struct spf_ctx *c, char *buf, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *ip = c->env.ip;
    size_t n = 0;
    int i;

    if (c->env.family == 4) {
        (void)snprintf(buf, cap, "%u.%u.%u.%u.in-addr.arpa", ip[3], ip[2], ip[1], ip[0]);
        return;
    }
    for (i = 15; i >= 0 && n + 4 < cap; i--) {
        buf[n++] = hex[ip[i] & 15];
        buf[n++] = '.';
        buf[n++] = hex[ip[i] >> 4];
        buf[n++] = '.';
    }
    (void)snprintf(buf + n, cap - n, "ip6.arpa");
}

/*
 * spf_validate - the PTR names of the client (at most max_ptr of them,
 * and of those only the ones `keep` accepts) whose A/AAAA records hold the
 * client IP (5.5). DNS errors on either side just leave names out. The
 * address lookups of all names go out together.
 */
static tm_rc
spf_validate(struct spf_ctx *c, const char *within, const char ***out, size_t *nout,
             struct tm_dns_rrset *ptr)
{
    char rev[80];
    struct tm_dns_query *q;
    size_t i, n = 0;

    *out = NULL;
    *nout = 0;
    spf_reverse_name(c, rev, sizeof(rev));
    if (spf_lookup(c, rev, TM_DNS_PTR, ptr) != TM_OK)
        return TM_ENOMEM;
    if (ptr->status != TM_DNS_OK)
        return TM_OK;
    q = tm_arena_calloc(c->a, TM_MIN(ptr->n, (size_t)c->lim.max_ptr) + 1, sizeof(*q));
    *out = tm_arena_calloc(c->a, TM_MIN(ptr->n, (size_t)c->lim.max_ptr) + 1, sizeof(**out));
    if (q == NULL || *out == NULL)
        return TM_ENOMEM;
    for (i = 0; i < ptr->n && i < c->lim.max_ptr; i++) {
        const char *name = ptr->rr[i].text;

        if (name == NULL || spf_name_len(name) == 0)
            continue;
        if (within != NULL && !spf_in_domain(name, within))
            continue;
        q[n].name = name;
        q[n].type = c->env.family == 4 ? TM_DNS_A : TM_DNS_AAAA;
        n++;
    }
    if (n == 0)
        return TM_OK;
    c->queries += (unsigned)n;
    if (tm_dns_lookup_many(c->dns, c->a, q, n, c->b) != TM_OK)
        return TM_ENOMEM;
    for (i = 0; i < n; i++)
        if (spf_addr_match(c, &q[i].res, 32, 128))
            (*out)[(*nout)++] = q[i].name;
    return TM_OK;
}

/*
 * spf_p_value - %{p} for the current domain d (7.3, 5.5): a validated name
 * equal to d, else one under d, else any validated name, else "unknown".
 */
static const char *
spf_p_value(struct spf_ctx *c, const char *d)
{
    struct tm_dns_rrset ptr;
    size_t i;

    if (!c->p_done) {
        c->p_done = 1;
        if (spf_validate(c, NULL, &c->p_names, &c->p_n, &ptr) != TM_OK) {
            c->rc = TM_ENOMEM;
            c->p_n = 0;
        }
    }
    for (i = 0; i < c->p_n; i++)
        if (spf_name_len(c->p_names[i]) == spf_name_len(d) && spf_in_domain(c->p_names[i], d))
            return c->p_names[i];
    for (i = 0; i < c->p_n; i++)
        if (spf_in_domain(c->p_names[i], d))
            return c->p_names[i];
    return c->p_n > 0 ? c->p_names[0] : "unknown";
}

/*
 * spf_expand - a macro-string expanded for domain d; NULL when the arena
 * is spent (c->rc set). %{p} is looked up only when the string uses it.
 */
static char *
spf_expand(struct spf_ctx *c, const char *d, const char *spec, size_t n, enum tm_spf_mode mode,
           size_t *outlen)
{
    char *out;

    c->env.d = d;
    c->env.p = NULL;
    if (tm_spf_macro_uses(spec, n, 'p'))
        c->env.p = spf_p_value(c, d);
    if (c->rc != TM_OK)
        return NULL;
    if (tm_spf_expand(c->a, &c->env, spec, n, mode, &out, outlen) != TM_OK) {
        c->rc = TM_ENOMEM; /* the parser accepted spec, so only memory can fail */
        return NULL;
    }
    return out;
}

/*
 * spf_target - <target-name> of a term: its domain-spec expanded, or the
 * current domain. *ok is 0 when the name cannot be asked for (an empty or
 * over-long label); callers treat that as no match (4.3, 4.8).
 */
static const char *
spf_target(struct spf_ctx *c, const struct spf_frame *f, const struct tm_spf_term *t, int *ok)
{
    const char *name;
    size_t n;

    if (t->spec == NULL) {
        *ok = 1;
        return f->domain;
    }
    if ((name = spf_expand(c, f->domain, t->spec, t->spec_len, TM_SPF_M_DOMAIN, &n)) == NULL)
        return NULL;
    *ok = tm_spf_domain_ok(name, n, 0);
    return name;
}

/* spf_mech_a - a: the target's A (or AAAA) records, within the CIDR lengths */
static enum spf_step
spf_mech_a(struct spf_ctx *c, const char *name, const struct tm_spf_term *t)
{
    struct tm_dns_rrset rs;

    if (spf_lookup(c, name, c->env.family == 4 ? TM_DNS_A : TM_DNS_AAAA, &rs) != TM_OK)
        return spf_oom(c);
    if (spf_dns_error(c, &rs) == SPF_STOP || !spf_void(c, &rs))
        return SPF_STOP;
    return spf_addr_match(c, &rs, t->cidr4, t->cidr6) ? SPF_MATCH : SPF_NOMATCH;
}

/*
 * spf_mech_mx - mx (5.4): the addresses of the target's MX hosts. The
 * first max_mx hosts are looked up together and checked in answer order;
 * needing an eleventh is a permerror. A null MX ("." or "") is skipped.
 */
static enum spf_step
spf_mech_mx(struct spf_ctx *c, const char *name, const struct tm_spf_term *t)
{
    struct tm_dns_rrset rs;
    struct tm_dns_query *q;
    size_t i, n = 0, hosts = 0;

    if (spf_lookup(c, name, TM_DNS_MX, &rs) != TM_OK)
        return spf_oom(c);
    if (spf_dns_error(c, &rs) == SPF_STOP || !spf_void(c, &rs))
        return SPF_STOP;
    if (rs.status != TM_DNS_OK)
        return SPF_NOMATCH;
    if ((q = tm_arena_calloc(c->a, TM_MIN(rs.n, (size_t)c->lim.max_mx) + 1, sizeof(*q))) == NULL)
        return spf_oom(c);
    for (i = 0; i < rs.n; i++) {
        if (rs.rr[i].text == NULL || spf_name_len(rs.rr[i].text) == 0)
            continue;
        if (++hosts > c->lim.max_mx)
            continue;
        q[n].name = rs.rr[i].text;
        q[n].type = c->env.family == 4 ? TM_DNS_A : TM_DNS_AAAA;
        n++;
    }
    c->queries += (unsigned)n;
    if (n > 0 && tm_dns_lookup_many(c->dns, c->a, q, n, c->b) != TM_OK)
        return spf_oom(c);
    for (i = 0; i < n; i++) {
        if (spf_dns_error(c, &q[i].res) == SPF_STOP)
            return SPF_STOP;
        if (spf_addr_match(c, &q[i].res, t->cidr4, t->cidr6))
            return SPF_MATCH;
    }
    if (hosts > c->lim.max_mx)
        return spf_stop(c, TM_SPF_PERMERROR, "too many MX names");
    return SPF_NOMATCH;
}

/* spf_mech_ptr - ptr (5.5): a validated name of the client at or under the target */
static enum spf_step
spf_mech_ptr(struct spf_ctx *c, const char *name)
{
    struct tm_dns_rrset ptr;
    const char **names;
    size_t n;

    if (spf_validate(c, name, &names, &n, &ptr) != TM_OK)
        return spf_oom(c);
    if (ptr.status == TM_DNS_LIMIT)
        return spf_dns_error(c, &ptr);
    if (!spf_void(c, &ptr)) /* a tempfail on the PTR lookup is just no match (5.5) */
        return SPF_STOP;
    return n > 0 ? SPF_MATCH : SPF_NOMATCH;
}

/* spf_mech_exists - exists (5.7): any A record of the target, whatever the client's family */
static enum spf_step
spf_mech_exists(struct spf_ctx *c, const char *name)
{
    struct tm_dns_rrset rs;

    if (spf_lookup(c, name, TM_DNS_A, &rs) != TM_OK)
        return spf_oom(c);
    if (spf_dns_error(c, &rs) == SPF_STOP || !spf_void(c, &rs))
        return SPF_STOP;
    return rs.status == TM_DNS_OK && rs.n > 0 ? SPF_MATCH : SPF_NOMATCH;
}

/* spf_push - include: open a frame for the target's record */
static enum spf_step
spf_push(struct spf_ctx *c, const char *name, int ok, const struct tm_spf_term *t)
{
    struct spf_frame *nf;

    if (!ok) /* check_host() of a malformed name is none, and an included none is a permerror */
        return spf_stop(c, TM_SPF_PERMERROR, "bad include target");
    if (c->depth > c->lim.max_depth)
        return spf_stop(c, TM_SPF_PERMERROR, "includes nested too deeply");
    nf = &c->st[c->depth++];
    memset(nf, 0, sizeof(*nf));
    nf->domain = name;
    nf->via = t;
    return SPF_PUSH;
}

/* spf_mech - evaluate one mechanism of frame f */
static enum spf_step
spf_mech(struct spf_ctx *c, const struct spf_frame *f, const struct tm_spf_term *t)
{
    const char *name;
    int ok = 0;

    switch (t->kind) {
    case TM_SPF_K_ALL:
        return SPF_MATCH;
    case TM_SPF_K_IP4:
        return c->env.family == 4 && spf_net_match(c->env.ip, t->net, t->cidr4) ? SPF_MATCH
                                                                                : SPF_NOMATCH;
    case TM_SPF_K_IP6:
        return c->env.family == 6 && spf_net_match(c->env.ip, t->net, t->cidr6) ? SPF_MATCH
                                                                                : SPF_NOMATCH;
    default:
        break;
    }
    if (!spf_count_term(c))
        return SPF_STOP;
    if ((name = spf_target(c, f, t, &ok)) == NULL)
        return spf_oom(c);
    if (t->kind == TM_SPF_K_INCLUDE)
        return spf_push(c, name, ok, t);
    if (!ok)
        return SPF_NOMATCH;
    switch (t->kind) {
    case TM_SPF_K_A:
        return spf_mech_a(c, name, t);
    case TM_SPF_K_MX:
        return spf_mech_mx(c, name, t);
    case TM_SPF_K_PTR:
        return spf_mech_ptr(c, name);
    case TM_SPF_K_EXISTS:
        return spf_mech_exists(c, name);
    default:
        break;
    }
    return SPF_NOMATCH;
}

/*
 * spf_load - fetch and parse the record of frame f (4.4, 4.5): none for a
 * malformed name, NXDOMAIN, no data or no "v=spf1" record; permerror for
 * two records or a syntax error; temperror for a DNS error.
 */
static enum spf_step
spf_load(struct spf_ctx *c, struct spf_frame *f)
{
    struct tm_dns_rrset rs;
    const struct tm_dns_rr *rec = NULL;
    size_t i, n = 0;

    if (!tm_spf_domain_ok(f->domain, spf_name_len(f->domain), 1))
        return spf_stop(c, TM_SPF_NONE, "malformed domain");
    if (spf_lookup(c, f->domain, TM_DNS_TXT, &rs) != TM_OK)
        return spf_oom(c);
    if (spf_dns_error(c, &rs) == SPF_STOP)
        return SPF_STOP;
    for (i = 0; rs.status == TM_DNS_OK && i < rs.n; i++) {
        if (rs.rr[i].text != NULL && tm_spf_is_record(rs.rr[i].text, rs.rr[i].len)) {
            rec = &rs.rr[i];
            n++;
        }
    }
    if (n == 0)
        return spf_stop(c, TM_SPF_NONE, "no SPF record");
    if (n > 1)
        return spf_stop(c, TM_SPF_PERMERROR, "several SPF records");
    if (tm_spf_parse(c->a, rec->text, rec->len, &f->rec) != TM_OK)
        return spf_oom(c);
    if (f->rec.error != NULL)
        return spf_stop(c, TM_SPF_PERMERROR, f->rec.error);
    return SPF_NOMATCH;
}

/* spf_redirect - redirect= (6.1): evaluate the target's record in this frame's place */
static enum spf_step
spf_redirect(struct spf_ctx *c, struct spf_frame *f)
{
    const char *name;
    int ok = 0;

    if (!spf_count_term(c))
        return SPF_STOP;
    if ((name = spf_target(c, f, f->rec.redirect, &ok)) == NULL)
        return spf_oom(c);
    if (!ok)
        return spf_stop(c, TM_SPF_PERMERROR, "bad redirect target");
    f->domain = name;
    f->redirected = 1;
    f->loaded = 0;
    f->next = 0;
    memset(&f->rec, 0, sizeof(f->rec));
    return SPF_NOMATCH;
}

/*
 * spf_frame_step - advance the top frame by one term. Returns 1 when the
 * frame is finished, with its result in *r and the term that matched (if
 * one did) in *m.
 */
static int
spf_frame_step(struct spf_ctx *c, enum tm_spf_res *r, const struct tm_spf_term **m)
{
    struct spf_frame *f = &c->st[c->depth - 1];
    const struct tm_spf_term *t;

    *m = NULL;
    if (!f->loaded) {
        if (spf_load(c, f) == SPF_STOP) {
            *r = c->stop;
            if (*r == TM_SPF_NONE && f->redirected) {
                *r = TM_SPF_PERMERROR;
                c->reason = "redirect target has no SPF record";
            }
            return 1;
        }
        f->loaded = 1;
        return 0;
    }
    if (f->next < f->rec.n) {
        t = &f->rec.terms[f->next++];
        if (t->kind >= TM_SPF_K_REDIRECT)
            return 0;
        switch (spf_mech(c, f, t)) {
        case SPF_MATCH:
            *r = t->qual;
            *m = t;
            return 1;
        case SPF_STOP:
            *r = c->stop;
            return 1;
        default:
            return 0;
        }
    }
    if (f->rec.redirect != NULL) {
        if (spf_redirect(c, f) == SPF_STOP) {
            *r = c->stop;
            return 1;
        }
        return 0;
    }
    *r = TM_SPF_NEUTRAL;
    c->reason = "no mechanism matched";
    return 1;
}

/*
 * spf_run - check_host() for domain: step frames until the top one is
 * done. A finished include frame becomes the include's match (pass), a
 * non-match (fail, softfail, neutral) or the parent's end (errors).
 */
static enum tm_spf_res
spf_run(struct spf_ctx *c, const char *domain, const struct tm_spf_term **decided)
{
    enum tm_spf_res r;
    const struct tm_spf_term *m;

    memset(&c->st[0], 0, sizeof(c->st[0]));
    c->st[0].domain = domain;
    c->depth = 1;
    for (;;) {
        if (!spf_frame_step(c, &r, &m))
            continue;
        for (;;) {
            const struct tm_spf_term *via;

            if (c->depth == 1) {
                *decided = m;
                return r;
            }
            via = c->st[--c->depth].via;
            if (r == TM_SPF_PASS) {
                r = via->qual;
                m = via;
                continue;
            }
            if (r == TM_SPF_FAIL || r == TM_SPF_SOFTFAIL || r == TM_SPF_NEUTRAL)
                break;
            if (r == TM_SPF_NONE) {
                r = TM_SPF_PERMERROR;
                c->reason = "included domain has no SPF record";
            }
            m = NULL;
        }
    }
}

/*
 * spf_explain - exp= (6.2) of the record that decided a fail: one TXT
 * record, a valid explain-string, else no explanation at all.
 */
static const char *
spf_explain(struct spf_ctx *c)
{
    const struct spf_frame *f = &c->st[0];
    const struct tm_spf_term *e = f->rec.exp;
    struct tm_dns_rrset rs;
    const char *name;
    char *text;
    size_t n;
    int ok = 0;

    if (e == NULL || (name = spf_target(c, f, e, &ok)) == NULL || !ok)
        return NULL;
    if (spf_lookup(c, name, TM_DNS_TXT, &rs) != TM_OK) {
        c->rc = TM_ENOMEM;
        return NULL;
    }
    if (rs.status != TM_DNS_OK || rs.n != 1 || rs.rr[0].text == NULL ||
        !tm_spf_macro_valid(rs.rr[0].text, rs.rr[0].len, TM_SPF_M_EXPLAIN))
        return NULL;
    text = spf_expand(c, f->domain, rs.rr[0].text, rs.rr[0].len, TM_SPF_M_EXPLAIN, &n);
    return text;
}

/* spf_parse_ip - the client address; IPv4-mapped IPv6 is IPv4 (RFC 7208 5) */
static int
spf_parse_ip(const struct tm_spf_request *req, struct tm_spf_macro_env *env)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    unsigned char a6[16];

    memset(env->ip, 0, sizeof(env->ip));
    if (req->ip == NULL) {
        if (req->family != 4 && req->family != 6)
            return 0;
        env->family = req->family;
        memcpy(env->ip, req->addr, req->family == 4 ? 4 : 16);
    } else if (inet_pton(AF_INET, req->ip, env->ip) == 1) {
        env->family = 4;
    } else if (inet_pton(AF_INET6, req->ip, a6) == 1) {
        env->family = 6;
        memcpy(env->ip, a6, 16);
    } else {
        return 0;
    }
    if (env->family == 6 && memcmp(env->ip, mapped, 12) == 0) {
        memmove(env->ip, env->ip + 12, 4);
        memset(env->ip + 4, 0, 12);
        env->family = 4;
    }
    return 1;
}

/*
 * spf_identity - the <sender> and <domain> (4.3, 2.4): the reverse-path
 * without its brackets; no local-part is "postmaster"; a null path is
 * postmaster@HELO. The domain loses one trailing dot.
 */
static tm_rc
spf_identity(struct spf_ctx *c, const char *mail_from, const char *helo, const char **domain)
{
    size_t n = mail_from != NULL ? strnlen(mail_from, TM_SPF_MAX_VALUE) : 0;
    const char *p = mail_from, *at;
    char *local, *dom, *s;
    size_t ln, dn;

    if (n > 0 && p[0] == '<' && p[n - 1] == '>' && n >= 2) {
        p++;
        n -= 2;
    }
    if (n == 0) {
        local = tm_arena_strdup(c->a, "postmaster");
        dom = tm_arena_strndup(c->a, helo, strnlen(helo, TM_SPF_MAX_VALUE));
    } else {
        for (at = p + n; at > p && at[-1] != '@'; at--)
            ;
        at = at > p ? at - 1 : NULL;
        ln = at != NULL ? (size_t)(at - p) : 0;
        dn = at != NULL ? n - ln - 1 : n;
        local = ln > 0 ? tm_arena_strndup(c->a, p, ln) : tm_arena_strdup(c->a, "postmaster");
        dom = tm_arena_strndup(c->a, at != NULL ? at + 1 : p, dn);
    }
    if (local == NULL || dom == NULL)
        return TM_ENOMEM;
    dn = strlen(dom);
    if (dn > 0 && dom[dn - 1] == '.')
        dom[dn - 1] = '\0';
    ln = strlen(local) + strlen(dom) + 2;
    if ((s = tm_arena_alloc(c->a, ln)) == NULL)
        return TM_ENOMEM;
    (void)snprintf(s, ln, "%s@%s", local, dom);
    c->env.s = s;
    c->env.l = local;
    c->env.o = dom;
    *domain = dom;
    return TM_OK;
}

/*
 * spf_check - the common part of the MAIL FROM and HELO checks: set the
 * macro values up, run check_host() and fetch the explanation of a fail.
 */
static tm_rc
spf_check(struct tm_dns *dns, struct tm_arena *a, struct tm_dns_budget *b,
          const struct tm_spf_request *req, const char *mail_from, struct tm_spf_result *out)
{
    struct spf_ctx *c;
    const struct tm_spf_term *m = NULL;
    const char *domain, *helo = req->helo != NULL ? req->helo : "";

    memset(out, 0, sizeof(*out));
    out->result = TM_SPF_NONE;
    if ((c = tm_arena_calloc(a, 1, sizeof(*c))) == NULL)
        return TM_ENOMEM;
    c->dns = dns;
    c->a = a;
    c->b = b;
    if (req->limits != NULL)
        c->lim = *req->limits;
    else
        tm_spf_limits_default(&c->lim);
    c->lim.max_depth = TM_MIN(c->lim.max_depth, (unsigned)TM_SPF_MAX_DEPTH);
    if (!spf_parse_ip(req, &c->env)) {
        out->reason = "no client IP";
        return TM_EINVAL;
    }
    c->env.h = tm_arena_strndup(a, helo, strnlen(helo, TM_SPF_MAX_VALUE));
    c->env.r = req->receiver;
    c->env.t = req->now != 0 ? req->now : (int64_t)time(NULL);
    if (mail_from != NULL && strnlen(mail_from, TM_SPF_MAX_VALUE + 1) > TM_SPF_MAX_VALUE) {
        out->reason = "sender too long";
        return TM_OK;
    }
    if (c->env.h == NULL || spf_identity(c, mail_from, helo, &domain) != TM_OK)
        return TM_ENOMEM;
    out->domain = domain;
    out->result = spf_run(c, domain, &m);
    out->mechanism = m != NULL ? m->text : NULL;
    out->reason = m == NULL ? c->reason : NULL;
    if (out->result == TM_SPF_FAIL && c->rc == TM_OK)
        out->explanation = spf_explain(c);
    out->dns_terms = c->terms;
    out->void_lookups = c->voids;
    out->queries = c->queries;
    return c->rc;
}

tm_rc
tm_spf_check(struct tm_dns *dns, struct tm_arena *a, struct tm_dns_budget *b,
             const struct tm_spf_request *req, struct tm_spf_result *out)
{
    return spf_check(dns, a, b, req, req->mail_from != NULL ? req->mail_from : "", out);
}

tm_rc
tm_spf_check_helo(struct tm_dns *dns, struct tm_arena *a, struct tm_dns_budget *b,
                  const struct tm_spf_request *req, struct tm_spf_result *out)
{
    return spf_check(dns, a, b, req, NULL, out);
}
