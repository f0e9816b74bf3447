/*
 * collect.c - the URLs of one message; see collect.h.
 */
#include "url/collect.h"

#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/limits.h"
#include "core/str.h"
#include "core/task.h"
#include "html/html.h"
#include "mime/mime.h"
#include "text/text.h"

struct tm_url_cache {
    int have_set, have_target;
    tm_rc set_rc, target_rc;
    struct tm_urlset set;
    struct tm_textset target;
    size_t cap;
    /* (normal form, source) -> index, open addressing; slots hold index + 1 */
    uint32_t *slot;
    size_t nslot;
};

struct found_ctx {
    struct tm_task *t;
    struct tm_url_cache *c;
    enum tm_url_source source;
    const struct tm_mime_part *part;
};

static uint64_t
hash_bytes(const unsigned char *p, size_t n, uint64_t h)
{
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t
item_hash(const struct tm_url_item *it)
{
    return hash_bytes(it->u.normalized.p, it->u.normalized.len,
                      0xcbf29ce484222325ULL ^ (uint64_t)it->source);
}

static int
item_same(const struct tm_url_item *a, const struct tm_url_item *b)
{
    return a->source == b->source && tm_str_eq(a->u.normalized, b->u.normalized);
}

/* grow_index - rehash into a table twice the size (load factor <= 1/2) */
static tm_rc
grow_index(struct tm_task *t, struct tm_url_cache *c)
{
    size_t n = c->nslot ? c->nslot * 2 : 64, i, k;
    uint32_t *s = tm_arena_calloc(t->arena, n, sizeof(*s));

    if (s == NULL)
        return TM_ENOMEM;
    for (i = 0; i < c->set.n; i++) {
        for (k = (size_t)item_hash(&c->set.v[i]) & (n - 1); s[k] != 0; k = (k + 1) & (n - 1))
            ;
        s[k] = (uint32_t)(i + 1);
    }
    c->slot = s;
    c->nslot = n;
    return TM_OK;
}

/*
 * add_item - append it unless the same (normal form, source) is there; *idx
 * gets its index (the existing one for a duplicate). TM_ELIMIT when full.
 */
static tm_rc
add_item(struct tm_task *t, struct tm_url_cache *c, const struct tm_url_item *it, size_t *idx)
{
    size_t k;
    tm_rc rc;

    if (c->nslot == 0 || (c->set.n + 1) * 2 > c->nslot)
        if ((rc = grow_index(t, c)) != TM_OK)
            return rc;
    for (k = (size_t)item_hash(it) & (c->nslot - 1); c->slot[k] != 0; k = (k + 1) & (c->nslot - 1))
        if (item_same(&c->set.v[c->slot[k] - 1], it)) {
            *idx = c->slot[k] - 1;
            return TM_OK;
        }
    if (c->set.n >= t->limits->text_max_uris) {
        if (!c->set.clipped)
            tm_task_finding(t, TM_F_URL_LIMIT_COUNT);
        c->set.clipped = 1;
        return TM_ELIMIT;
    }
    if (c->set.n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 16;
        struct tm_url_item *v = tm_arena_realloc(t->arena, c->set.v, c->cap * sizeof(*v),
                                                 ncap * sizeof(*v));
        if (v == NULL)
            return TM_ENOMEM;
        c->set.v = v;
        c->cap = ncap;
    }
    c->set.v[c->set.n] = *it;
    c->slot[k] = (uint32_t)(c->set.n + 1);
    *idx = c->set.n++;
    return TM_OK;
}

/* skipped_scheme - links that name no host to block: javascript:, data:, cid:, about: ... */
static int
skipped_scheme(const unsigned char *p, size_t n)
{
    static const char *const s[] = {"javascript:", "data:", "cid:", "about:", "vbscript:",
                                    "tel:", "sms:", "file:", "blob:"};
    size_t i, k;

    for (i = 0; i < TM_NELEM(s); i++) {
        k = strlen(s[i]);
        if (n >= k && tm_mem_ieq(p, s[i], k))
            return 1;
    }
    return 0;
}

/* relative - a reference with no scheme and no authority ("/x", "x.html", "#f", "?q") */
static int
relative(const unsigned char *p, size_t n)
{
    size_t i;

    if (n == 0 || p[0] == '#' || p[0] == '?' || (p[0] == '/' && (n < 2 || p[1] != '/')))
        return 1;
    for (i = 0; i < n; i++) {
        unsigned char ch = p[i];
        if (ch == ':')
            return i == 0;
        if (ch == '/' || ch == '?' || ch == '#')
            break;
    }
    return 0;
}

/* add_url - normalise one URL and add it, then its redirector target one level down */
static tm_rc
add_url(struct found_ctx *f, const unsigned char *p, size_t n, unsigned flags,
        struct tm_str anchor, unsigned hidden)
{
    struct tm_task *t = f->t;
    struct tm_url_item it, inner;
    struct tm_str target;
    size_t idx, jdx;
    tm_rc rc;

    if (n > t->limits->text_max_uri_len) {
        tm_task_finding(t, TM_F_URL_LIMIT_LEN);
        n = t->limits->text_max_uri_len;
    }
    /* p may point into the extractor's scratch: keep our own copy */
    if ((p = (const unsigned char *)tm_arena_strndup(t->arena, p, n)) == NULL)
        return TM_ENOMEM;
    memset(&it, 0, sizeof(it));
    if ((rc = tm_url_normalize(t->arena, p, n, flags, &it.u)) != TM_OK)
        return rc;
    /* a URL whose host cannot be made out is kept (flag bad): uri rules still see it */
    it.source = f->source;
    it.anchor = anchor;
    it.hidden = hidden;
    it.parent = -1;
    it.part = f->part;
    if ((rc = add_item(t, f->c, &it, &idx)) != TM_OK)
        return rc;
    if (!tm_url_redirect_target(t->arena, &f->c->set.v[idx].u, &target))
        return TM_OK;
    memset(&inner, 0, sizeof(inner));
    if ((rc = tm_url_normalize(t->arena, target.p, target.len, 0, &inner.u)) != TM_OK)
        return rc;
    if (inner.u.host.len == 0)
        return TM_OK;
    inner.source = TM_URL_SRC_REDIRECT;
    inner.hidden = hidden;
    inner.parent = (int)idx;
    inner.part = f->part;
    return add_item(t, f->c, &inner, &jdx);
}

static tm_rc
found_text(void *ud, const unsigned char *p, size_t n, unsigned flags)
{
    return add_url(ud, p, n, flags, TM_STR_NULL, 0);
}

static enum tm_url_source
link_source(enum tm_html_link_kind k)
{
    switch (k) {
    case TM_HTML_LINK_IMG:
    case TM_HTML_LINK_IFRAME:
        return TM_URL_SRC_SRC;
    case TM_HTML_LINK_FORM:
        return TM_URL_SRC_FORM;
    case TM_HTML_LINK_A:
    case TM_HTML_LINK_AREA:
    case TM_HTML_LINK_META:
    case TM_HTML_LINK_OTHER:
        break;
    }
    return TM_URL_SRC_HREF;
}

static tm_rc
collect_html(struct found_ctx *f)
{
    const struct tm_text_html_part *hp;
    size_t nh, i, j;
    tm_rc rc;

    if ((rc = tm_text_html_docs(f->t, &hp, &nh)) != TM_OK)
        return rc;
    for (i = 0; i < nh; i++) {
        f->part = hp[i].part;
        for (j = 0; j < hp[i].doc.nlinks; j++) {
            const struct tm_html_link *l = &hp[i].doc.links[j];
            struct tm_str u = tm_str_trim(l->url);
            if (u.len == 0 || skipped_scheme(u.p, u.len) || relative(u.p, u.len))
                continue;
            f->source = link_source(l->kind);
            if ((rc = add_url(f, u.p, u.len, 0, l->anchor, l->hidden)) != TM_OK)
                return rc;
        }
    }
    f->part = NULL;
    return TM_OK;
}

static tm_rc
collect_text(struct found_ctx *f)
{
    const struct tm_textset *body;
    size_t i;
    tm_rc rc;

    if ((rc = tm_text_body(f->t, &body)) != TM_OK)
        return rc;
    f->source = TM_URL_SRC_TEXT;
    for (i = 0; i < body->n; i++)
        if ((rc = tm_url_extract_text(f->t->arena, body->v[i].p, body->v[i].len, found_text, f)) !=
            TM_OK)
            return rc;
    return TM_OK;
}

static tm_rc
collect_headers(struct found_ctx *f)
{
    static const char *const names[] = {"List-Unsubscribe", "List-Subscribe", "List-Help"};
    const struct tm_mime_header *h;
    const char *v;
    size_t i, k, vlen;
    tm_rc rc;

    if (f->t->msg == NULL || f->t->msg->root == NULL)
        return TM_OK;
    f->source = TM_URL_SRC_HEADER;
    for (i = 0; i < TM_NELEM(names); i++)
        for (k = 0; k < 8 && (h = tm_mime_header_find(f->t->msg->root, names[i], k)) != NULL;
             k++) {
            if ((rc = tm_mime_header_decode(f->t, h, &v, &vlen)) != TM_OK)
                return rc;
            rc = tm_url_extract_text(f->t->arena, (const unsigned char *)v, vlen, found_text, f);
            if (rc != TM_OK)
                return rc;
        }
    return TM_OK;
}

static struct tm_url_cache *
cache_get(struct tm_task *t)
{
    if (t->url == NULL)
        t->url = tm_arena_calloc(t->arena, 1, sizeof(*t->url));
    return t->url;
}

tm_rc
tm_url_collect(struct tm_task *t, const struct tm_urlset **out)
{
    struct tm_url_cache *c = cache_get(t);
    struct found_ctx f;
    tm_rc rc;

    if (c == NULL)
        return TM_ENOMEM;
    if (!c->have_set) {
        memset(&f, 0, sizeof(f));
        f.t = t;
        f.c = c;
        rc = collect_html(&f);
        if (rc == TM_OK)
            rc = collect_text(&f);
        if (rc == TM_OK)
            rc = collect_headers(&f);
        if (rc == TM_ELIMIT) /* text_max_uris: what fitted is the set */
            rc = TM_OK;
        c->set_rc = rc;
        c->have_set = 1;
    }
    *out = &c->set;
    return c->set_rc;
}

/* target_add - one piece of the uri target, unless the same bytes are the previous ones */
static tm_rc
target_add(struct tm_task *t, struct tm_textset *ts, size_t *cap, const char *prefix,
           struct tm_str s)
{
    size_t pl = prefix ? strlen(prefix) : 0;
    unsigned char *o;

    if (*cap == ts->n) {
        size_t ncap = *cap ? *cap * 2 : 32;
        struct tm_str *v = tm_arena_realloc(t->arena, ts->v, *cap * sizeof(*v), ncap * sizeof(*v));
        if (v == NULL)
            return TM_ENOMEM;
        ts->v = v;
        *cap = ncap;
    }
    if (pl == 0) {
        ts->v[ts->n++] = s;
        return TM_OK;
    }
    if ((o = tm_arena_alloc(t->arena, pl + s.len + 1)) == NULL)
        return TM_ENOMEM;
    memcpy(o, prefix, pl);
    memcpy(o + pl, s.p, s.len);
    o[pl + s.len] = '\0';
    ts->v[ts->n++] = tm_str_make(o, pl + s.len);
    return TM_OK;
}

/*
 * target_form - the normal form as uri rules see it: without the "/" that
 * normalising added to a URL written with no path ("http://x.example"), so
 * that rules written for SpamAssassin's lists ("host/" means a path follows)
 * keep their meaning.
 */
static struct tm_str
target_form(const struct tm_url *u)
{
    struct tm_str n = u->normalized;
    size_t k;

    if (n.len < 2 || n.p[n.len - 1] != '/' || u->raw.len == 0 || u->raw.p[u->raw.len - 1] == '/')
        return n;
    for (k = 0; k + 2 < n.len && !(n.p[k] == ':' && n.p[k + 1] == '/' && n.p[k + 2] == '/'); k++)
        ;
    if (k + 3 >= n.len || memchr(n.p + k + 3, '/', n.len - k - 4) != NULL)
        return n;
    n.len--;
    return n;
}

/*
 * pct_decoded - the URL as written with every %XX decoded (SpamAssassin
 * lists this variant too: "http://%77%77%77..." is matched as "http://www...");
 * an empty view when nothing was escaped or a NUL would appear
 */
static struct tm_str
pct_decoded(struct tm_task *t, struct tm_str s)
{
    unsigned char *o;
    size_t i, k = 0;
    int any = 0;

    if (memchr(s.p, '%', s.len) == NULL || (o = tm_arena_alloc(t->arena, s.len + 1)) == NULL)
        return TM_STR_NULL;
    for (i = 0; i < s.len; i++) {
        int h, l;
        if (s.p[i] == '%' && i + 2 < s.len && (h = tm_hexval(s.p[i + 1])) >= 0 &&
            (l = tm_hexval(s.p[i + 2])) >= 0 && (h | l) != 0) {
            o[k++] = (unsigned char)(h << 4 | l);
            i += 2;
            any = 1;
        } else {
            o[k++] = s.p[i];
        }
    }
    o[k] = '\0';
    return any ? tm_str_make(o, k) : TM_STR_NULL;
}

tm_rc
tm_url_uri_target(struct tm_task *t, const struct tm_textset **out)
{
    struct tm_url_cache *c = cache_get(t);
    const struct tm_urlset *set;
    size_t i, cap = 0;
    tm_rc rc = TM_OK;

    if (c == NULL)
        return TM_ENOMEM;
    if (!c->have_target) {
        rc = tm_url_collect(t, &set);
        for (i = 0; rc == TM_OK && i < set->n; i++) {
            const struct tm_url *u = &set->v[i].u;
            const char *prefix = NULL;
            struct tm_str raw = u->raw;
            if (u->flags & TM_URLF_MAILTO) {
                if (raw.len < 7 || !tm_mem_ieq(raw.p, "mailto:", 7))
                    prefix = "mailto:";
            } else if ((u->flags & TM_URLF_SCHEMELESS) &&
                       !(raw.len >= 2 && raw.p[0] == '/' && raw.p[1] == '/')) {
                prefix = "http://";
            }
            if (set->v[i].source == TM_URL_SRC_HEADER)
                continue; /* SpamAssassin's uri rules see the body's URLs only */
            if (set->v[i].source != TM_URL_SRC_REDIRECT)
                rc = target_add(t, &c->target, &cap, prefix, raw);
            if (rc == TM_OK && (prefix != NULL || !tm_str_eq(raw, u->normalized) ||
                                set->v[i].source == TM_URL_SRC_REDIRECT))
                rc = target_add(t, &c->target, &cap, NULL, target_form(u));
            if (rc == TM_OK && set->v[i].source != TM_URL_SRC_REDIRECT) {
                struct tm_str d = pct_decoded(t, raw);
                if (d.len > 0)
                    rc = target_add(t, &c->target, &cap, prefix, d);
            }
        }
        c->target_rc = rc;
        c->have_target = 1;
    }
    *out = &c->target;
    return c->target_rc;
}
