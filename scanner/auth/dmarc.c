/*
 * dmarc.c - DMARC evaluation (RFC 7489): record discovery (6.6.3), the
 * record's tags (6.3), identifier alignment (3.1) and the disposition
 * (6.6.4, 6.3 pct).
 *
 * Discovery asks for _dmarc.<From domain>; when that holds no DMARC
 * record (NXDOMAIN, no TXT, or only non-DMARC TXT strings) it asks once
 * more at the organisational domain, taken from the Public Suffix List
 * (libpsl, Debian's publicsuffix file when present, else libpsl's
 * built-in list). Several DMARC records at the name asked, or a record
 * whose p/sp is missing or bad without a valid rua, mean DMARC does not
 * apply (result none); a DNS tempfail or a spent DNS budget is a
 * temperror. Syntax errors in other tags fall back to their defaults.
 *
 * Bounds: records over TM_DMARC_MAX_RECORD bytes are ignored; at most
 * TM_DMARC_MAX_DKIM passing DKIM domains and TM_DMARC_MAX_FROM From
 * addresses are looked at; names longer than TM_DMARC_MAX_DOMAIN are
 * refused.
 */
#include "auth/dmarc.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libpsl.h>

#include "core/arena.h"
#include "core/str.h"
#include "dns/dns.h"
#include "mime/addr.h"

#define DMARC_PSL_FILE "/usr/share/publicsuffix/public_suffix_list.dafsa"

/* Default report interval (6.3 ri). */
#define DMARC_DEFAULT_RI 86400UL

static pthread_once_t dmarc_psl_once = PTHREAD_ONCE_INIT;
static const psl_ctx_t *dmarc_psl;

static void
dmarc_psl_init(void)
{
    psl_ctx_t *c = psl_latest(DMARC_PSL_FILE);

    dmarc_psl = c != NULL ? c : psl_builtin();
}

const char *
tm_dmarc_result_name(enum tm_dmarc_res r)
{
    static const char *const names[] = {"none", "pass", "fail", "temperror", "permerror"};

    return (size_t)r < TM_NELEM(names) ? names[r] : "?";
}

const char *
tm_dmarc_policy_name(enum tm_dmarc_policy p)
{
    static const char *const names[] = {"none", "quarantine", "reject"};

    return (size_t)p < TM_NELEM(names) ? names[p] : "?";
}

/* ---- names -------------------------------------------------------------- */

/* dmarc_norm - lower-case copy without a trailing dot into out (254 bytes); 0 if unusable */
static int
dmarc_norm(const char *d, char out[TM_DMARC_MAX_DOMAIN + 1])
{
    size_t n = d != NULL ? strnlen(d, TM_DMARC_MAX_DOMAIN + 2) : 0, i;

    if (n > 0 && d[n - 1] == '.')
        n--;
    if (n == 0 || n > TM_DMARC_MAX_DOMAIN)
        return 0;
    for (i = 0; i < n; i++)
        out[i] = (char)tm_lower((unsigned char)d[i]);
    out[n] = '\0';
    return 1;
}

tm_rc
tm_dmarc_org_domain(const char *domain, char *out, size_t outlen)
{
    char low[TM_DMARC_MAX_DOMAIN + 1];
    const char *reg;
    size_t n;

    if (!dmarc_norm(domain, low))
        return TM_EINVAL;
    (void)pthread_once(&dmarc_psl_once, dmarc_psl_init);
    reg = dmarc_psl != NULL ? psl_registrable_domain(dmarc_psl, low) : NULL;
    if (reg == NULL)
        reg = low;
    n = strlen(reg);
    if (n + 1 > outlen)
        return TM_ELIMIT;
    memcpy(out, reg, n + 1);
    return TM_OK;
}

int
tm_dmarc_aligned(const char *a, const char *b, enum tm_dmarc_align mode)
{
    char na[TM_DMARC_MAX_DOMAIN + 1], nb[TM_DMARC_MAX_DOMAIN + 1];

    if (!dmarc_norm(a, na) || !dmarc_norm(b, nb))
        return 0;
    if (mode == TM_DMARC_STRICT)
        return strcmp(na, nb) == 0;
    if (tm_dmarc_org_domain(na, na, sizeof(na)) != TM_OK ||
        tm_dmarc_org_domain(nb, nb, sizeof(nb)) != TM_OK)
        return 0;
    return strcmp(na, nb) == 0;
}

/* ---- the record --------------------------------------------------------- */

static int
dmarc_wsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* dmarc_trim - [*s, *e) without surrounding whitespace */
static void
dmarc_trim(const char **s, const char **e)
{
    while (*s < *e && dmarc_wsp(**s))
        (*s)++;
    while (*e > *s && dmarc_wsp((*e)[-1]))
        (*e)--;
}

static int
dmarc_is(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && tm_mem_ieq(s, lit, n);
}

/* dmarc_policy - "none" / "quarantine" / "reject" (any case); 0 when it is none of them */
static int
dmarc_policy(const char *s, size_t n, enum tm_dmarc_policy *p)
{
    if (dmarc_is(s, n, "none"))
        *p = TM_DMARC_P_NONE;
    else if (dmarc_is(s, n, "quarantine"))
        *p = TM_DMARC_P_QUARANTINE;
    else if (dmarc_is(s, n, "reject"))
        *p = TM_DMARC_P_REJECT;
    else
        return 0;
    return 1;
}

/* dmarc_number - 1*DIGIT up to max; 0 when not */
static int
dmarc_number(const char *s, size_t n, unsigned long max, unsigned long *v)
{
    size_t i;

    *v = 0;
    if (n == 0 || n > 10)
        return 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        *v = *v * 10 + (unsigned long)(s[i] - '0');
    }
    return *v <= max;
}

/* dmarc_scheme_char - ALPHA / DIGIT / "+" / "-" / "." (RFC 3986 scheme) */
static int
dmarc_scheme_char(char c)
{
    unsigned char l = tm_lower((unsigned char)c);

    return (l >= 'a' && l <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

/*
 * dmarc_uri_list_ok - at least one element of a comma-separated dmarc-uri
 * list looks like a URI: a scheme, ':' and something after it.
 */
static int
dmarc_uri_list_ok(const char *s, size_t n)
{
    const char *e = s + n, *p = s;

    while (p < e) {
        const char *q = memchr(p, ',', (size_t)(e - p)), *b = p, *t, *c;

        if (q == NULL)
            q = e;
        t = q;
        dmarc_trim(&b, &t);
        if (b < t && tm_lower((unsigned char)*b) >= 'a' && tm_lower((unsigned char)*b) <= 'z') {
            for (c = b + 1; c < t && dmarc_scheme_char(*c); c++)
                ;
            if (c + 1 < t && *c == ':')
                return 1;
        }
        if (q == e)
            break;
        p = q + 1;
    }
    return 0;
}

/* The tags seen so far, and whether p and sp parsed. */
struct dmarc_tags {
    int seen_p, seen_sp, bad_p, bad_sp, rua_ok;
    unsigned seen; /* bit per known tag: the first one counts */
};

enum { DT_P, DT_SP, DT_PCT, DT_ADKIM, DT_ASPF, DT_RUA, DT_RUF, DT_FO, DT_RF, DT_RI };

/* dmarc_tag - apply one name=value tag (6.3); unknown tags are ignored */
static tm_rc
dmarc_tag(struct tm_arena *a, const char *n, size_t nl, const char *v, size_t vl,
          struct tm_dmarc_record *r, struct dmarc_tags *t)
{
    static const char *const names[] = {"p",   "sp",  "pct", "adkim", "aspf",
                                        "rua", "ruf", "fo",  "rf",    "ri"};
    unsigned long num;
    size_t i;

    for (i = 0; i < TM_NELEM(names) && !dmarc_is(n, nl, names[i]); i++)
        ;
    if (i == TM_NELEM(names) || (t->seen & (1u << i)))
        return TM_OK;
    t->seen |= 1u << i;
    switch (i) {
    case DT_P:
        t->seen_p = 1;
        t->bad_p = !dmarc_policy(v, vl, &r->p);
        break;
    case DT_SP:
        t->seen_sp = 1;
        t->bad_sp = !dmarc_policy(v, vl, &r->sp);
        break;
    case DT_PCT:
        if (dmarc_number(v, vl, 100, &num) && vl <= 3)
            r->pct = (unsigned)num;
        break;
    case DT_ADKIM:
    case DT_ASPF:
        if (dmarc_is(v, vl, "s") || dmarc_is(v, vl, "r")) {
            enum tm_dmarc_align m =
                tm_lower((unsigned char)v[0]) == 's' ? TM_DMARC_STRICT : TM_DMARC_RELAXED;
            if (i == DT_ADKIM)
                r->adkim = m;
            else
                r->aspf = m;
        }
        break;
    case DT_RI:
        if (dmarc_number(v, vl, 0xffffffffUL, &num))
            r->ri = num;
        break;
    default: {
        const char *s = tm_arena_strndup(a, v, vl);

        if (s == NULL)
            return TM_ENOMEM;
        if (i == DT_RUA) {
            r->rua = s;
            t->rua_ok = dmarc_uri_list_ok(v, vl);
        } else if (i == DT_RUF) {
            r->ruf = s;
        } else if (i == DT_FO) {
            r->fo = s;
        } else {
            r->rf = s;
        }
        break;
    }
    }
    return TM_OK;
}

/*
 * tm_dmarc_parse - tag-list = tag *( ";" tag ) [ ";" ], whitespace around
 * names, '=' and values allowed; the first tag must be v=DMARC1 exactly
 * (6.3). A bad p or sp leaves the record usable only through rua (6.6.3
 * step 6), as p=none.
 */
tm_rc
tm_dmarc_parse(struct tm_arena *a, const char *txt, size_t len, struct tm_dmarc_record *out,
               enum tm_dmarc_parse_status *status)
{
    struct dmarc_tags t;
    const char *seg = txt, *e = txt + len;
    int first = 1, last = 0;

    memset(out, 0, sizeof(*out));
    memset(&t, 0, sizeof(t));
    out->pct = 100;
    out->ri = DMARC_DEFAULT_RI;
    *status = TM_DMARC_REC_NOT_DMARC;
    if (len > TM_DMARC_MAX_RECORD)
        return TM_OK;
    while (!last) {
        const char *q = memchr(seg, ';', (size_t)(e - seg)), *ns, *ne, *vs, *ve, *eq;

        if (q == NULL) {
            q = e;
            last = 1;
        }
        ns = seg;
        ve = q;
        seg = last ? e : q + 1;
        dmarc_trim(&ns, &ve);
        if (ns == ve) {
            if (first)
                return TM_OK;
            continue;
        }
        if ((eq = memchr(ns, '=', (size_t)(ve - ns))) == NULL) {
            if (first)
                return TM_OK;
            continue; /* not a tag: ignored like an unknown one */
        }
        ne = eq;
        vs = eq + 1;
        dmarc_trim(&ns, &ne);
        dmarc_trim(&vs, &ve);
        if (first) {
            if (!dmarc_is(ns, (size_t)(ne - ns), "v") || (size_t)(ve - vs) != 6 ||
                memcmp(vs, "DMARC1", 6) != 0)
                return TM_OK;
            first = 0;
            continue;
        }
        if (dmarc_tag(a, ns, (size_t)(ne - ns), vs, (size_t)(ve - vs), out, &t) != TM_OK)
            return TM_ENOMEM;
    }
    if (first)
        return TM_OK;
    if (!t.seen_p || t.bad_p || t.bad_sp) {
        if (!t.rua_ok) {
            *status = TM_DMARC_REC_NO_POLICY;
            return TM_OK;
        }
        out->p = TM_DMARC_P_NONE;
        out->sp = TM_DMARC_P_NONE;
        out->has_sp = 0;
        out->p_fallback = 1;
    } else {
        out->has_sp = t.seen_sp;
        if (!t.seen_sp)
            out->sp = out->p;
    }
    *status = TM_DMARC_REC_OK;
    return TM_OK;
}

/* ---- discovery and evaluation ------------------------------------------- */

enum dmarc_found { DMARC_FOUND, DMARC_ABSENT, DMARC_SEVERAL, DMARC_NO_POLICY, DMARC_DNS_ERROR };

/*
 * dmarc_fetch - the DMARC record at _dmarc.<domain>: FOUND with *rec, or
 * ABSENT (no such name, no TXT, no DMARC record among the TXT strings),
 * SEVERAL, NO_POLICY (the one record has no usable p), DNS_ERROR.
 */
static enum dmarc_found
dmarc_fetch(struct tm_dns *dns, struct tm_arena *a, struct tm_dns_budget *b, const char *domain,
            struct tm_dmarc_result *out, struct tm_dmarc_record *rec, tm_rc *rc)
{
    char name[TM_DMARC_MAX_DOMAIN + 8];
    struct tm_dns_rrset rs;
    enum tm_dmarc_parse_status st, found = TM_DMARC_REC_NOT_DMARC;
    struct tm_dmarc_record r;
    size_t i, n = 0;

    *rc = TM_OK;
    if ((size_t)snprintf(name, sizeof(name), "_dmarc.%s", domain) > TM_DMARC_MAX_DOMAIN)
        return DMARC_ABSENT;
    out->queries++;
    if ((*rc = tm_dns_lookup(dns, a, name, TM_DNS_TXT, b, &rs)) != TM_OK)
        return DMARC_DNS_ERROR;
    if (rs.status == TM_DNS_TEMPFAIL || rs.status == TM_DNS_LIMIT) {
        out->reason = rs.status == TM_DNS_LIMIT ? "DNS lookup budget spent" : "DNS error";
        return DMARC_DNS_ERROR;
    }
    for (i = 0; rs.status == TM_DNS_OK && i < rs.n; i++) {
        if (rs.rr[i].text == NULL)
            continue;
        if ((*rc = tm_dmarc_parse(a, rs.rr[i].text, rs.rr[i].len, &r, &st)) != TM_OK)
            return DMARC_DNS_ERROR;
        if (st == TM_DMARC_REC_NOT_DMARC)
            continue;
        n++;
        found = st;
        *rec = r;
    }
    if (n == 0)
        return DMARC_ABSENT;
    if (n > 1)
        return DMARC_SEVERAL;
    return found == TM_DMARC_REC_OK ? DMARC_FOUND : DMARC_NO_POLICY;
}

/* dmarc_milder - what an unsampled fail gets (6.6.4): reject -> quarantine -> none */
static enum tm_dmarc_policy
dmarc_milder(enum tm_dmarc_policy p)
{
    return p == TM_DMARC_P_REJECT ? TM_DMARC_P_QUARANTINE : TM_DMARC_P_NONE;
}

/* dmarc_align - SPF and DKIM identifier alignment (3.1) under the record's modes */
static void
dmarc_align(const struct tm_dmarc_inputs *in, struct tm_dmarc_result *out)
{
    size_t i;

    out->spf_aligned = in != NULL && in->spf == TM_SPF_PASS && in->spf_domain != NULL &&
                       tm_dmarc_aligned(in->spf_domain, out->from_domain, out->rec.aspf);
    for (i = 0; in != NULL && in->dkim_pass != NULL && i < in->ndkim && i < TM_DMARC_MAX_DKIM;
         i++) {
        if (in->dkim_pass[i] != NULL &&
            tm_dmarc_aligned(in->dkim_pass[i], out->from_domain, out->rec.adkim)) {
            out->dkim_aligned = 1;
            out->dkim_domain = in->dkim_pass[i];
            break;
        }
    }
}

/* dmarc_discover - 6.6.3 steps 1 to 5: the From domain, then the organisational domain */
static enum dmarc_found
dmarc_discover(struct tm_dns *dns, struct tm_arena *a, struct tm_dns_budget *b,
               struct tm_dmarc_result *out, tm_rc *rc)
{
    enum dmarc_found f;

    f = dmarc_fetch(dns, a, b, out->from_domain, out, &out->rec, rc);
    out->record_domain = out->from_domain;
    if (f == DMARC_ABSENT && strcmp(out->org_domain, out->from_domain) != 0) {
        f = dmarc_fetch(dns, a, b, out->org_domain, out, &out->rec, rc);
        out->record_domain = out->org_domain;
    }
    return f;
}

tm_rc
tm_dmarc_check(struct tm_dns *dns, struct tm_arena *a, struct tm_dns_budget *b,
               const char *from_domain, const struct tm_dmarc_inputs *in, unsigned sample,
               struct tm_dmarc_result *out)
{
    char from[TM_DMARC_MAX_DOMAIN + 1], org[TM_DMARC_MAX_DOMAIN + 1];
    enum dmarc_found f;
    tm_rc rc = TM_OK;

    memset(out, 0, sizeof(*out));
    if (!dmarc_norm(from_domain, from) || tm_dmarc_org_domain(from, org, sizeof(org)) != TM_OK) {
        out->result = TM_DMARC_PERMERROR;
        out->reason = "bad From domain";
        return TM_OK;
    }
    out->from_domain = tm_arena_strdup(a, from);
    out->org_domain = tm_arena_strdup(a, org);
    if (out->from_domain == NULL || out->org_domain == NULL)
        return TM_ENOMEM;
    f = dmarc_discover(dns, a, b, out, &rc);
    if (rc != TM_OK)
        return rc;
    switch (f) {
    case DMARC_DNS_ERROR:
        out->result = TM_DMARC_TEMPERROR;
        out->record_domain = NULL;
        return TM_OK;
    case DMARC_ABSENT:
    case DMARC_SEVERAL:
    case DMARC_NO_POLICY:
        out->result = TM_DMARC_NONE;
        out->reason = f == DMARC_ABSENT    ? "no DMARC record"
                      : f == DMARC_SEVERAL ? "several DMARC records"
                                           : "DMARC record without a valid policy";
        out->record_domain = NULL;
        memset(&out->rec, 0, sizeof(out->rec));
        return TM_OK;
    case DMARC_FOUND:
        break;
    }
    out->have_record = 1;
    dmarc_align(in, out);
    out->result = out->spf_aligned || out->dkim_aligned ? TM_DMARC_PASS : TM_DMARC_FAIL;
    out->policy = strcmp(out->record_domain, out->from_domain) != 0 ? out->rec.sp : out->rec.p;
    out->sampled = TM_MIN(sample, 99u) < out->rec.pct;
    if (out->result == TM_DMARC_FAIL)
        out->disposition = out->sampled ? out->policy : dmarc_milder(out->policy);
    return TM_OK;
}

/*
 * tm_dmarc_from_domain - through the RFC 5322 address-list parser of
 * scanner/mime; the domain of each addr-spec is what follows its last
 * '@'. An address without a domain, or with a domain literal, makes the
 * whole field NONE.
 */
tm_rc
tm_dmarc_from_domain(struct tm_arena *a, const unsigned char *value, size_t len,
                     const char **domain, enum tm_dmarc_from_status *status)
{
    const char **list;
    char *first = NULL;
    size_t n, i;
    int truncated;
    tm_rc rc;

    *domain = NULL;
    *status = TM_DMARC_FROM_NONE;
    if ((rc = tm_addr_list(a, value, len, TM_DMARC_MAX_FROM, &list, &n, &truncated)) != TM_OK)
        return rc;
    for (i = 0; i < n; i++) {
        const char *at = strrchr(list[i], '@');
        char d[TM_DMARC_MAX_DOMAIN + 1];

        if (at == NULL || at[1] == '[' || !dmarc_norm(at + 1, d))
            return TM_OK;
        if (first == NULL) {
            if ((first = tm_arena_strdup(a, d)) == NULL)
                return TM_ENOMEM;
        } else if (strcmp(first, d) != 0) {
            *status = TM_DMARC_FROM_MULTIPLE;
            return TM_OK;
        }
    }
    if (first == NULL)
        return TM_OK;
    *domain = first;
    *status = TM_DMARC_FROM_OK;
    return TM_OK;
}
