/*
 * evals.c - the native eval: functions (see evals.h).
 *
 * Each function looks at what the earlier stages left on the task (the URL
 * set of scanner/url, the HTML documents of scanner/html through
 * scanner/text, the MIME tree, the findings) and returns a hit count and up
 * to TM_EVAL_MAX_OPTS options. Thresholds are constants here, documented on
 * each function; rule authors weigh the result with scores and metas.
 */
#include "verdict/evals.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"
#include "av/av.h"
#include "core/arena.h"
#include "core/task.h"
#include "html/html.h"
#include "match/match.h"
#include "mime/mime.h"
#include "rules/rules.h"
#include "text/text.h"
#include "url/collect.h"
#include "url/list.h"
#include "url/url.h"

#define TM_EVAL_MAX_OPTS   8   /* options kept per hit */
#define TM_EVAL_OPT_MAX    300 /* bytes of one option */
#define TM_EVAL_HIDDEN_MIN 20  /* hidden characters before hidden text counts */
#define TM_EVAL_IMG_TEXT   120 /* visible characters below which image mail is "mostly images" */

struct eval_out {
    struct tm_task *t;
    uint32_t count;
    struct tm_match_hitopts opts;
};

struct eval_call {
    const struct tm_evals_env *env;
    const char *arg; /* the quoted argument, unquoted, or NULL */
};

typedef tm_rc (*eval_fn)(const struct eval_call *c, struct tm_task *t, struct eval_out *o);

struct eval_def {
    const char *name;
    eval_fn fn;
    int arg; /* 0: no argument, 1: optional, 2: required */
};

struct binding {
    const struct eval_def *def;
    char *arg;
    char *problem;
};

struct tm_evals {
    const struct tm_ruleset *rs;
    struct binding *b; /* per rule */
};

/* hit - count one hit with an option (printf-style, clipped) */
static tm_rc hit(struct eval_out *o, const char *fmt, ...) TM_PRINTF(2, 3);

static tm_rc
hit(struct eval_out *o, const char *fmt, ...)
{
    char buf[TM_EVAL_OPT_MAX];
    va_list ap;
    const char **v;

    o->count++;
    if (fmt == NULL || o->opts.n >= TM_EVAL_MAX_OPTS)
        return TM_OK;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (o->opts.v == NULL &&
        (o->opts.v = tm_arena_calloc(o->t->arena, TM_EVAL_MAX_OPTS, sizeof(*o->opts.v))) == NULL)
        return TM_ENOMEM;
    v = o->opts.v;
    if ((v[o->opts.n] = tm_arena_strdup(o->t->arena, buf)) == NULL)
        return TM_ENOMEM;
    o->opts.n++;
    return TM_OK;
}

#define URLS(t, set)                                                                               \
    do {                                                                                           \
        tm_rc urc_ = tm_url_collect((t), &(set));                                                  \
        if (urc_ != TM_OK)                                                                         \
            return urc_;                                                                           \
    } while (0)

/* ---- URL lists ------------------------------------------------------------ */

/*
 * first_of_host - the index of the first URL of set with the same host as
 * URL i (i itself when it is the first, which it remembers). A message's
 * links mostly share a few hosts; each distinct host costs one walk of the
 * lists. slot has nslot entries, a power of two above twice the URLs.
 */
static size_t
first_of_host(const struct tm_urlset *set, uint32_t *slot, size_t nslot, size_t i)
{
    const struct tm_str h = set->v[i].u.host;
    uint64_t x = 0xcbf29ce484222325ULL;
    size_t k, j;

    for (k = 0; k < h.len; k++)
        x = (x ^ h.p[k]) * 0x100000001b3ULL;
    for (j = (size_t)x & (nslot - 1); slot[j] != 0; j = (j + 1) & (nslot - 1)) {
        const struct tm_str o = set->v[slot[j] - 1].u.host;
        if (tm_str_eq(o, h))
            return slot[j] - 1;
    }
    slot[j] = (uint32_t)(i + 1);
    return i;
}

/* tamis_url_blocklisted() - a URL's host is on the blocklist and not on the allowlist */
static tm_rc
ev_url_blocklisted(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    const struct tm_urlset *set;
    const char **entry; /* per URL: the blocklist entry covering its host, or NULL */
    uint32_t *slot;
    size_t i, f, nslot = 16;
    tm_rc rc;

    if (c->env->block == NULL)
        return TM_OK;
    URLS(t, set);
    while (nslot < set->n * 2)
        nslot *= 2;
    slot = tm_arena_calloc(t->arena, nslot, sizeof(*slot));
    entry = tm_arena_calloc(t->arena, set->n ? set->n : 1, sizeof(*entry));
    if (slot == NULL || entry == NULL)
        return TM_ENOMEM;
    for (i = 0; i < set->n; i++) {
        const struct tm_url *u = &set->v[i].u;
        const char *h = (const char *)u->host.p;
        if (u->host.len == 0)
            continue;
        if ((f = first_of_host(set, slot, nslot, i)) != i)
            entry[i] = entry[f];
        else if (c->env->allow == NULL || tm_hostset_match(c->env->allow, h, u->host.len) == NULL)
            entry[i] = tm_hostset_match(c->env->block, h, u->host.len);
        if (entry[i] != NULL &&
            (rc = hit(o, "%.*s (%s)", (int)u->normalized.len, u->normalized.p, entry[i])) != TM_OK)
            return rc;
    }
    return TM_OK;
}

/* ---- URL obfuscation ------------------------------------------------------ */

/* url_flag - one hit per URL (not a mailto) with any of flags */
static tm_rc
url_flag(struct tm_task *t, struct eval_out *o, unsigned flags)
{
    const struct tm_urlset *set;
    size_t i;
    tm_rc rc;

    URLS(t, set);
    for (i = 0; i < set->n; i++) {
        const struct tm_url *u = &set->v[i].u;
        if ((u->flags & TM_URLF_MAILTO) || !(u->flags & flags))
            continue;
        if ((rc = hit(o, "%.*s", (int)u->raw.len, u->raw.p)) != TM_OK)
            return rc;
    }
    return TM_OK;
}

/* tamis_url_ip() - a URL whose host is an IP address */
static tm_rc
ev_url_ip(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    (void)c;
    return url_flag(t, o, TM_URLF_IP);
}

/* tamis_url_ip_obfuscated() - an IPv4 host in decimal/hex/octal/short form, or a %-encoded host */
static tm_rc
ev_url_ip_obfuscated(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    (void)c;
    return url_flag(t, o, TM_URLF_IP_OBFUSCATED | TM_URLF_HOST_PCT);
}

/* tamis_url_defanged() - hxxp://, evil[.]com and the like */
static tm_rc
ev_url_defanged(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    (void)c;
    return url_flag(t, o, TM_URLF_DEFANGED);
}

/* tamis_url_userinfo() - http://bank.example@evil.example/: userinfo that looks like a host */
static tm_rc
ev_url_userinfo(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    const struct tm_urlset *set;
    size_t i;
    tm_rc rc;

    (void)c;
    URLS(t, set);
    for (i = 0; i < set->n; i++) {
        const struct tm_url *u = &set->v[i].u;
        if (!(u->flags & TM_URLF_USERINFO) || (u->flags & TM_URLF_MAILTO) ||
            memchr(u->userinfo.p, '.', u->userinfo.len) == NULL)
            continue;
        if ((rc = hit(o, "%.*s -> %s", (int)u->userinfo.len, u->userinfo.p,
                      (const char *)u->host.p)) != TM_OK)
            return rc;
    }
    return TM_OK;
}

/* Well-known URL shorteners (registrable domains). */
static const char *const shorteners[] = {
    "bit.ly", "bitly.com", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly",
    "rebrand.ly", "cutt.ly", "shorturl.at", "tiny.cc", "rb.gy", "bit.do", "t.ly", "v.gd",
    "lnkd.in", "s.id", "shorte.st", "adf.ly", "bl.ink", "soo.gd", "clck.ru", "qr.net",
    "tr.im", "x.co", "u.to", "short.io", "snip.ly", "tiny.one", "urlz.fr", "y2u.be",
    "2no.co", "trib.al", "dlvr.it", "ift.tt", "shorturl.com", "surl.li", "gg.gg", "shrtco.de",
};

/* tamis_url_shortener() - a link through a URL shortener */
static tm_rc
ev_url_shortener(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    const struct tm_urlset *set;
    size_t i, k;
    tm_rc rc;

    (void)c;
    URLS(t, set);
    for (i = 0; i < set->n; i++) {
        const struct tm_url *u = &set->v[i].u;
        if (u->flags & TM_URLF_MAILTO)
            continue;
        for (k = 0; k < TM_NELEM(shorteners); k++)
            if (tm_str_ieq(u->domain, shorteners[k]))
                break;
        if (k < TM_NELEM(shorteners) &&
            (rc = hit(o, "%.*s", (int)u->normalized.len, u->normalized.p)) != TM_OK)
            return rc;
    }
    return TM_OK;
}

/* tamis_url_lookalike() - an IDN/mixed-script or homoglyph host imitating a brand */
static tm_rc
ev_url_lookalike(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    const struct tm_urlset *set;
    const char *brand;
    size_t i;
    tm_rc rc;

    (void)c;
    URLS(t, set);
    for (i = 0; i < set->n; i++) {
        const struct tm_url *u = &set->v[i].u;
        if (u->host.len == 0)
            continue;
        brand = tm_url_brand_lookalike(t->arena, u);
        if (brand == NULL && !(u->flags & TM_URLF_MIXED_SCRIPT))
            continue;
        rc = hit(o, "%.*s (%.*s) imitates %s", (int)u->host_utf8.len, u->host_utf8.p,
                 (int)u->host.len, u->host.p, brand ? brand : "a Latin name (mixed scripts)");
        if (rc != TM_OK)
            return rc;
    }
    return TM_OK;
}

/* tamis_url_redirector() - a redirector whose target is on another domain */
static tm_rc
ev_url_redirector(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    const struct tm_urlset *set;
    size_t i;
    tm_rc rc;

    (void)c;
    URLS(t, set);
    for (i = 0; i < set->n; i++) {
        const struct tm_url_item *it = &set->v[i];
        const struct tm_url *w;
        if (it->source != TM_URL_SRC_REDIRECT || it->parent < 0)
            continue;
        w = &set->v[it->parent].u;
        if (tm_str_eq(w->domain, it->u.domain))
            continue;
        if ((rc = hit(o, "%s -> %s", (const char *)w->domain.p,
                      (const char *)it->u.normalized.p)) != TM_OK)
            return rc;
    }
    return TM_OK;
}

/* ---- phishing links ------------------------------------------------------- */

struct first_url {
    struct tm_arena *a;
    struct tm_url u;
    int have;
};

static tm_rc
take_first(void *ud, const unsigned char *p, size_t n, unsigned flags)
{
    struct first_url *f = ud;
    tm_rc rc;

    if (f->have || (flags & TM_URLF_MAILTO))
        return TM_OK;
    /* the text must show a URL, not name a site: a scheme or a www. name
       ("Dilbert.com" over a newsletter's click tracker is a name) */
    if ((flags & TM_URLF_SCHEMELESS) && !(n >= 4 && tm_mem_ieq(p, "www", 3)))
        return TM_OK;
    if ((rc = tm_url_normalize(f->a, p, n, flags, &f->u)) != TM_OK)
        return rc;
    f->have = f->u.domain.len > 0;
    return TM_OK;
}

/*
 * tamis_link_text_mismatch() - the text of a link shows a URL (with a
 * scheme or a www. name) on one registrable domain and its href goes to
 * another
 */
static tm_rc
ev_link_text_mismatch(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    const struct tm_urlset *set;
    struct first_url f;
    size_t i;
    tm_rc rc;

    (void)c;
    URLS(t, set);
    for (i = 0; i < set->n; i++) {
        const struct tm_url_item *it = &set->v[i];
        if (it->source != TM_URL_SRC_HREF || it->anchor.len == 0 ||
            (it->u.flags & TM_URLF_MAILTO) || it->u.domain.len == 0)
            continue;
        memset(&f, 0, sizeof(f));
        f.a = t->arena;
        if ((rc = tm_url_extract_text(t->arena, it->anchor.p, it->anchor.len, take_first, &f)) !=
            TM_OK)
            return rc;
        if (!f.have || tm_str_eq(f.u.domain, it->u.domain))
            continue;
        if ((rc = hit(o, "text %s, link %s", (const char *)f.u.domain.p,
                      (const char *)it->u.normalized.p)) != TM_OK)
            return rc;
    }
    return TM_OK;
}

/* from_domain - the registrable domain of the From address, or an empty view */
static tm_rc
from_domain(struct tm_task *t, struct tm_str *out)
{
    const char *names[1] = {"From"};
    const unsigned char *at;
    struct tm_str v;
    int present = 0;
    tm_rc rc;

    *out = TM_STR_NULL;
    rc = tm_text_header(t, TM_TEXT_HDR_NAMED, names, 1, TM_HDRMOD_ADDR, &v, &present);
    if (rc != TM_OK || !present || v.len == 0)
        return rc;
    if ((at = memchr(v.p, '@', v.len)) == NULL)
        return TM_OK;
    {
        struct tm_str host = tm_str_make(at + 1, v.len - (size_t)(at + 1 - v.p));
        char *low = tm_arena_lowerdup(t->arena, host.p, host.len);
        if (low == NULL)
            return TM_ENOMEM;
        *out = tm_url_registrable(t->arena, tm_str_make(low, host.len));
    }
    return TM_OK;
}

/* tamis_form_off_domain() - an HTML form posts to a domain other than the sender's */
static tm_rc
ev_form_off_domain(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    const struct tm_urlset *set;
    struct tm_str fd;
    size_t i;
    tm_rc rc;

    (void)c;
    URLS(t, set);
    if ((rc = from_domain(t, &fd)) != TM_OK)
        return rc;
    for (i = 0; i < set->n; i++) {
        const struct tm_url_item *it = &set->v[i];
        if (it->source != TM_URL_SRC_FORM || tm_str_eq(it->u.domain, fd))
            continue;
        if ((rc = hit(o, "%s", (const char *)it->u.normalized.p)) != TM_OK)
            return rc;
    }
    return TM_OK;
}

/* ---- HTML ------------------------------------------------------------------ */

#define HTML(t, hp, nh)                                                                            \
    do {                                                                                           \
        tm_rc hrc_ = tm_text_html_docs((t), &(hp), &(nh));                                         \
        if (hrc_ != TM_OK)                                                                         \
            return hrc_;                                                                           \
    } while (0)

static int
is_attachment(const struct tm_mime_part *p)
{
    return p->disposition != NULL && strcmp(p->disposition, "attachment") == 0;
}

/* tamis_html_only() - text/html with no text/plain alternative or part */
static tm_rc
ev_html_only(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    const struct tm_text_html_part *hp;
    const struct tm_mime_part *p;
    size_t nh;

    (void)c;
    HTML(t, hp, nh);
    if (nh == 0 || t->msg == NULL)
        return TM_OK;
    for (p = t->msg->root; p != NULL; p = tm_mime_next(p))
        if (p->first_child == NULL && !p->is_multipart && !is_attachment(p) &&
            strcmp(p->content_type, "text/plain") == 0 && p->decoded_len > 0)
            return TM_OK;
    return hit(o, NULL);
}

/* tamis_html_mostly_images() - images and fewer than TM_EVAL_IMG_TEXT visible characters */
static tm_rc
ev_html_mostly_images(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    const struct tm_text_html_part *hp;
    size_t nh, i, img = 0, vis = 0;

    (void)c;
    HTML(t, hp, nh);
    for (i = 0; i < nh; i++) {
        img += hp[i].doc.images;
        vis += hp[i].doc.visible_chars;
    }
    if (img == 0 || vis >= TM_EVAL_IMG_TEXT)
        return TM_OK;
    return hit(o, "%zu image%s, %zu characters of text", img, img == 1 ? "" : "s", vis);
}

/* hidden_kind - the TM_HTML_HID_* bit named name, 0 when none */
static unsigned
hidden_kind(const char *name)
{
    unsigned k;

    for (k = 0; k < TM_HTML_HID_KINDS; k++)
        if (strcmp(name, tm_html_hidden_name(k)) == 0)
            return 1u << k;
    return 0;
}

/*
 * tamis_html_hidden_text(['display'|'zero_size'|'colour'|'tiny_font']) -
 * at least TM_EVAL_HIDDEN_MIN characters of text hidden (in that way)
 */
static tm_rc
ev_html_hidden_text(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    const struct tm_text_html_part *hp;
    size_t nh, i, k, hidden = 0;
    unsigned want = ~0u, seen = 0;
    char kinds[80];
    size_t kl = 0;

    HTML(t, hp, nh);
    if (c->arg != NULL)
        want = hidden_kind(c->arg); /* check_arg accepted only known names */
    for (i = 0; i < nh; i++) {
        seen |= hp[i].doc.hidden & want;
        if (want == ~0u) {
            hidden += hp[i].doc.hidden_chars;
            continue;
        }
        for (k = 0; k < TM_HTML_HID_KINDS; k++)
            if (want & (1u << k))
                hidden += hp[i].doc.hidden_kind_chars[k];
    }
    if (hidden < TM_EVAL_HIDDEN_MIN)
        return TM_OK;
    kinds[0] = '\0';
    for (k = 0; k < TM_HTML_HID_KINDS; k++)
        if (seen & (1u << k)) {
            int w = snprintf(kinds + kl, sizeof(kinds) - kl, "%s%s", kl ? "," : "",
                             tm_html_hidden_name((unsigned)k));
            if (w > 0 && (size_t)w < sizeof(kinds) - kl)
                kl += (size_t)w;
        }
    return hit(o, "%zu hidden characters (%s)", hidden, kinds);
}

/* ---- charsets ---------------------------------------------------------------- */

/* cs_key - a charset name folded for comparison: lower-case, no '-', '_' or spaces; Latin-1 family as one */
static void
cs_key(const unsigned char *p, size_t n, char *out, size_t cap)
{
    static const char *const latin1[] = {"iso88591", "latin1", "l1", "cp1252", "windows1252",
                                         "cp819", "iso885915", "usascii", "ascii"};
    size_t i, k = 0;

    for (i = 0; i < n && k + 1 < cap; i++) {
        unsigned char ch = tm_lower(p[i]);
        if (ch == '-' || ch == '_' || ch == ' ' || ch == '"' || ch == '\'')
            continue;
        out[k++] = (char)ch;
    }
    out[k] = '\0';
    for (i = 0; i < TM_NELEM(latin1); i++)
        if (strcmp(out, latin1[i]) == 0)
            snprintf(out, cap, "latin1");
}

/* tamis_charset_mismatch() - an HTML part's <meta> charset contradicts its Content-Type charset */
static tm_rc
ev_charset_mismatch(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    const struct tm_text_html_part *hp;
    char a[64], b[64];
    size_t nh, i;
    tm_rc rc;

    (void)c;
    HTML(t, hp, nh);
    for (i = 0; i < nh; i++) {
        struct tm_str m = hp[i].mime_charset, d = hp[i].doc.meta_charset;
        if (m.len == 0 || d.len == 0)
            continue;
        cs_key(m.p, m.len, a, sizeof(a));
        cs_key(d.p, d.len, b, sizeof(b));
        if (strcmp(a, b) == 0)
            continue;
        if ((rc = hit(o, "Content-Type %.*s, <meta> %.*s", (int)m.len, m.p, (int)d.len, d.p)) !=
            TM_OK)
            return rc;
    }
    return TM_OK;
}

static int
has_8bit(const unsigned char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (p[i] >= 0x80)
            return 1;
    return 0;
}

/* tamis_charset_missing() - a text part with 8-bit bytes and no charset declared anywhere */
static tm_rc
ev_charset_missing(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    const struct tm_mime_part *p;
    char path[64];
    tm_rc rc;

    (void)c;
    if (t->msg == NULL)
        return TM_OK;
    for (p = t->msg->root; p != NULL; p = tm_mime_next(p)) {
        if (p->first_child != NULL || p->is_multipart || is_attachment(p) || p->charset != NULL ||
            strncmp(p->content_type, "text/", 5) != 0 || !has_8bit(p->decoded, p->decoded_len))
            continue;
        if (strcmp(p->content_type, "text/html") == 0 &&
            tm_html_sniff_charset(p->decoded, p->decoded_len).len > 0)
            continue;
        tm_mime_part_path(p, path, sizeof(path));
        if ((rc = hit(o, "part %s (%s)", path, p->content_type)) != TM_OK)
            return rc;
    }
    return TM_OK;
}

/* ---- attachments (scanner/av) ----------------------------------------------------- */

/* av_result - one hit per scanned object with result r: "SIGNATURE in part P (filename)" */
static tm_rc
av_result(struct tm_task *t, struct eval_out *o, enum tm_av_result r)
{
    const struct tm_av_report *rep = tm_av_task_report(t);
    char path[64];
    size_t i;
    tm_rc rc;

    if (rep == NULL)
        return TM_OK;
    for (i = 0; i < rep->n; i++) {
        const struct tm_av_hit *h = &rep->v[i];
        if (h->result != r)
            continue;
        tm_mime_part_path(h->part, path, sizeof(path));
        rc = hit(o, "%.120s in part %s%s%.120s%s", h->signature ? h->signature : "?", path,
                 h->filename ? " (" : "", h->filename ? h->filename : "", h->filename ? ")" : "");
        if (rc != TM_OK)
            return rc;
    }
    return TM_OK;
}

/* tamis_av_virus() - ClamAV found malware in an attachment */
static tm_rc
ev_av_virus(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    (void)c;
    return av_result(t, o, TM_AV_INFECTED);
}

/* tamis_av_limits() - an attachment was not scanned to the end: a ClamAV limit */
static tm_rc
ev_av_limits(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    (void)c;
    return av_result(t, o, TM_AV_LIMITS);
}

/* tamis_av_encrypted() - an encrypted archive or document that ClamAV cannot look into */
static tm_rc
ev_av_encrypted(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    (void)c;
    return av_result(t, o, TM_AV_ENCRYPTED);
}

/* ---- sender authentication --------------------------------------------------- */

/*
 * The auth evals read scanner/auth's report (NULL when authentication did
 * not run: no resolver, so nothing hits). Arguments:
 *   tamis_spf('R')   the SPF result is R (pass fail softfail neutral none
 *                    temperror permerror);
 *   tamis_dkim('R')  pass: a signature passed; fail: signatures, none
 *                    passed, one failed; none: no signature; temperror,
 *                    permerror: as for fail; weak: a passing rsa-sha1
 *                    signature; testing: a passing key in testing mode;
 *                    body_length: a passing signature with l=;
 *   tamis_arc('R')   the ARC chain validates (pass), fails, or is absent (none);
 *   tamis_dmarc('R') pass fail none temperror permerror, or the
 *                    disposition the policy asks for a failing message:
 *                    reject, quarantine.
 */
static const char *const auth_args[][10] = {
    {"tamis_spf", "pass", "fail", "softfail", "neutral", "none", "temperror", "permerror", NULL},
    {"tamis_dkim", "pass", "fail", "none", "temperror", "permerror", "weak", "testing",
     "body_length", NULL},
    {"tamis_arc", "pass", "fail", "none", NULL},
    {"tamis_dmarc", "pass", "fail", "none", "temperror", "permerror", "reject", "quarantine",
     NULL},
};

static tm_rc
ev_spf(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    const struct tm_auth_report *a = t->auth;

    if (a == NULL || !a->ran || a->spf == NULL || strcmp(a->spf, c->arg) != 0)
        return TM_OK;
    return hit(o, "%s (%s)", a->spf_domain ? a->spf_domain : "-",
               a->spf_reason ? a->spf_reason : a->spf);
}

static tm_rc
ev_dkim(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    const struct tm_auth_report *a = t->auth;
    size_t i, pass = 0;
    tm_rc rc;

    if (a == NULL || !a->ran)
        return TM_OK;
    if (strcmp(c->arg, "none") == 0)
        return a->ndkim == 0 ? hit(o, NULL) : TM_OK;
    for (i = 0; i < a->ndkim; i++)
        pass += strcmp(a->dkim[i].result, "pass") == 0;
    for (i = 0; i < a->ndkim; i++) {
        const struct tm_auth_dkim *d = &a->dkim[i];
        int is_pass = strcmp(d->result, "pass") == 0, want;
        if (strcmp(c->arg, "pass") == 0)
            want = is_pass;
        else if (strcmp(c->arg, "weak") == 0)
            want = is_pass && d->weak;
        else if (strcmp(c->arg, "testing") == 0)
            want = is_pass && d->testing;
        else if (strcmp(c->arg, "body_length") == 0)
            want = is_pass && d->body_length;
        else if (strcmp(c->arg, "fail") == 0)
            want = pass == 0 && !is_pass;
        else
            want = pass == 0 && strcmp(d->result, c->arg) == 0;
        if (!want)
            continue;
        if ((rc = hit(o, "d=%s s=%s %s%s%s", d->domain ? d->domain : "-",
                      d->selector ? d->selector : "-", d->result, d->reason ? ": " : "",
                      d->reason ? d->reason : "")) != TM_OK)
            return rc;
        if (o->count > 1)
            o->count = 1; /* several signatures, one hit */
    }
    return TM_OK;
}

static tm_rc
ev_arc(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    const struct tm_auth_report *a = t->auth;

    if (a == NULL || !a->ran || a->arc == NULL || strcmp(a->arc, c->arg) != 0)
        return TM_OK;
    return hit(o, "i=%u%s%s", a->arc_instances, a->arc_reason ? " " : "",
               a->arc_reason ? a->arc_reason : "");
}

static tm_rc
ev_dmarc(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    const struct tm_auth_report *a = t->auth;
    int want;

    if (a == NULL || !a->ran || a->dmarc == NULL)
        return TM_OK;
    if (strcmp(c->arg, "reject") == 0 || strcmp(c->arg, "quarantine") == 0)
        want = strcmp(a->dmarc, "fail") == 0 && a->dmarc_disposition != NULL &&
               strcmp(a->dmarc_disposition, c->arg) == 0;
    else
        want = strcmp(a->dmarc, c->arg) == 0;
    if (!want)
        return TM_OK;
    return hit(o, "%s p=%s", a->from_domain ? a->from_domain : "-",
               a->dmarc_policy ? a->dmarc_policy : "-");
}

/* ---- findings ------------------------------------------------------------------ */

/* tamis_finding('NAME') - the parsers recorded finding NAME (findings.h) */
static tm_rc
ev_finding(const struct eval_call *c, struct tm_task *t, struct eval_out *o)
{
    size_t i;

    for (i = 0; i < TM_F__COUNT; i++)
        if (strcmp(c->arg, tm_finding_name((enum tm_finding)i)) == 0)
            return t->findings[i] ? hit(o, NULL) : TM_OK;
    return TM_OK;
}

static const struct eval_def defs[] = {
    {"tamis_url_blocklisted", ev_url_blocklisted, 0},
    {"tamis_url_ip", ev_url_ip, 0},
    {"tamis_url_ip_obfuscated", ev_url_ip_obfuscated, 0},
    {"tamis_url_defanged", ev_url_defanged, 0},
    {"tamis_url_userinfo", ev_url_userinfo, 0},
    {"tamis_url_shortener", ev_url_shortener, 0},
    {"tamis_url_lookalike", ev_url_lookalike, 0},
    {"tamis_url_redirector", ev_url_redirector, 0},
    {"tamis_link_text_mismatch", ev_link_text_mismatch, 0},
    {"tamis_form_off_domain", ev_form_off_domain, 0},
    {"tamis_html_only", ev_html_only, 0},
    {"tamis_html_mostly_images", ev_html_mostly_images, 0},
    {"tamis_html_hidden_text", ev_html_hidden_text, 1},
    {"tamis_charset_mismatch", ev_charset_mismatch, 0},
    {"tamis_charset_missing", ev_charset_missing, 0},
    {"tamis_av_virus", ev_av_virus, 0},
    {"tamis_av_limits", ev_av_limits, 0},
    {"tamis_av_encrypted", ev_av_encrypted, 0},
    {"tamis_finding", ev_finding, 2},
    {"tamis_spf", ev_spf, 2},
    {"tamis_dkim", ev_dkim, 2},
    {"tamis_arc", ev_arc, 2},
    {"tamis_dmarc", ev_dmarc, 2},
};

/*
 * parse_call - "name(args)" into the definition and the one quoted argument.
 * Returns NULL and a reason in why when the call does not fit.
 */
static const struct eval_def *
parse_call(const char *s, char **arg, char *why, size_t whylen)
{
    const struct eval_def *d = NULL;
    const char *lp = strchr(s, '('), *rp = strrchr(s, ')'), *a, *e;
    size_t n, i;

    *arg = NULL;
    n = lp ? (size_t)(lp - s) : strlen(s);
    for (i = 0; i < TM_NELEM(defs); i++)
        if (strlen(defs[i].name) == n && memcmp(defs[i].name, s, n) == 0)
            d = &defs[i];
    if (d == NULL) {
        snprintf(why, whylen, "eval:%.*s is not a Tamis function", (int)n, s);
        return NULL;
    }
    if (lp == NULL || rp == NULL || rp < lp) {
        snprintf(why, whylen, "eval:%s: missing parentheses", d->name);
        return NULL;
    }
    for (a = lp + 1; a < rp && (*a == ' ' || *a == '\t'); a++)
        ;
    for (e = rp; e > a && (e[-1] == ' ' || e[-1] == '\t'); e--)
        ;
    if (a == e) {
        if (d->arg == 2) {
            snprintf(why, whylen, "eval:%s needs an argument", d->name);
            return NULL;
        }
        return d;
    }
    if (d->arg == 0 || e - a < 2 || (*a != '\'' && *a != '"') || e[-1] != *a ||
        memchr(a + 1, *a, (size_t)(e - a - 2)) != NULL) {
        snprintf(why, whylen, "eval:%s: %s", d->name,
                 d->arg == 0 ? "takes no argument" : "the argument must be one quoted string");
        return NULL;
    }
    *arg = tm_xstrdup_n(a + 1, (size_t)(e - a - 2));
    return d;
}

/* check_arg - the argument is one the function knows */
static int
check_arg(const struct eval_def *d, const char *arg, char *why, size_t whylen)
{
    size_t i;

    if (arg == NULL)
        return 1;
    if (d->fn == ev_finding) {
        for (i = 0; i < TM_F__COUNT; i++)
            if (strcmp(arg, tm_finding_name((enum tm_finding)i)) == 0)
                return 1;
        snprintf(why, whylen, "eval:%s: unknown finding '%s'", d->name, arg);
        return 0;
    }
    for (i = 0; i < sizeof(auth_args) / sizeof(auth_args[0]); i++) {
        size_t k;
        if (strcmp(d->name, auth_args[i][0]) != 0)
            continue;
        for (k = 1; k < 10 && auth_args[i][k] != NULL; k++)
            if (strcmp(arg, auth_args[i][k]) == 0)
                return 1;
        snprintf(why, whylen, "eval:%s: unknown result '%s'", d->name, arg);
        return 0;
    }
    if (d->fn == ev_html_hidden_text) {
        if (hidden_kind(arg) != 0)
            return 1;
        snprintf(why, whylen, "eval:%s: unknown kind '%s' (display, zero_size, colour, tiny_font)",
                 d->name, arg);
        return 0;
    }
    return 1;
}

tm_rc
tm_evals_build(const struct tm_ruleset *rs, struct tm_evals **out)
{
    struct tm_evals *e = tm_xcalloc(1, sizeof(*e));
    char why[200];
    size_t i;

    e->rs = rs;
    e->b = tm_xcalloc(rs->n ? rs->n : 1, sizeof(*e->b));
    for (i = 0; i < rs->n; i++) {
        const struct tm_rule *r = &rs->rules[i];
        const struct eval_def *d;
        char *arg = NULL;
        if (r->eval == NULL || r->unsupported || strncmp(r->eval, "tamis_", 6) != 0)
            continue;
        why[0] = '\0';
        d = parse_call(r->eval, &arg, why, sizeof(why));
        if (d != NULL && !check_arg(d, arg, why, sizeof(why)))
            d = NULL;
        if (d == NULL) {
            tm_free(arg);
            e->b[i].problem = tm_xstrdup(why);
            continue;
        }
        e->b[i].def = d;
        e->b[i].arg = arg;
    }
    *out = e;
    return TM_OK;
}

void
tm_evals_free(struct tm_evals *e)
{
    size_t i;

    if (e == NULL)
        return;
    for (i = 0; i < e->rs->n; i++) {
        tm_free(e->b[i].arg);
        tm_free(e->b[i].problem);
    }
    tm_free(e->b);
    tm_free(e);
}

int
tm_evals_bound(const struct tm_evals *e, size_t rule)
{
    return e != NULL && rule < e->rs->n && e->b[rule].def != NULL;
}

const char *
tm_evals_problem(const struct tm_evals *e, size_t rule)
{
    return e != NULL && rule < e->rs->n ? e->b[rule].problem : NULL;
}

tm_rc
tm_evals_run(const struct tm_evals *e, const struct tm_evals_env *env, struct tm_task *t,
             struct tm_match_result *res)
{
    struct eval_call call;
    struct eval_out o;
    size_t i;
    tm_rc rc;

    call.env = env;
    for (i = 0; i < e->rs->n; i++) {
        if (e->b[i].def == NULL)
            continue;
        memset(&o, 0, sizeof(o));
        o.t = t;
        call.arg = e->b[i].arg;
        if ((rc = e->b[i].def->fn(&call, t, &o)) != TM_OK)
            return rc;
        if (o.count == 0)
            continue;
        res->hits[i] = o.count;
        if (o.opts.n == 0)
            continue;
        if (res->opts == NULL &&
            (res->opts = tm_arena_calloc(t->arena, e->rs->n, sizeof(*res->opts))) == NULL)
            return TM_ENOMEM;
        res->opts[i] = o.opts;
    }
    return TM_OK;
}
