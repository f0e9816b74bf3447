/*
 * hdr.c - the text a header rule matches, as SpamAssassin 4.0.1's
 * PerMsgStatus::get() and Plugin::Check build it (RFC 5322 2.2, RFC 2047).
 *
 * A named header gives every occurrence in the top-level header section, in
 * order. Decoded (the default): folding removed, outer whitespace trimmed,
 * raw 8-bit text kept when it is UTF-8 and read as windows-1252 otherwise,
 * then RFC 2047 words decoded SpamAssassin's way (not for Received, Date,
 * Message-ID, MIME-Version, References, In-Reply-To, List-*), each with "\n"
 * appended. :raw gives the value after the colon as written (folds kept) and
 * its newline. :addr and :name parse the raw value into mailboxes. :first and
 * :last keep one occurrence. The values are joined with nothing when they end
 * in "\n" and with "\n" otherwise (Check.pm, bug 8121). ALL is every field as
 * "Name: decoded\n"; ToCc is To then Cc; MESSAGEID is X-Message-Id,
 * Resent-Message-Id, X-Original-Message-ID and Message-Id.
 *
 * Limits: the values are bounded by header_max_len and mime_max_headers
 * upstream; the joined text by text_max_body.
 */
#include "text/text.h"

#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/limits.h"
#include "core/task.h"
#include "mime/addr.h"
#include "mime/charset.h"
#include "mime/decode.h"
#include "mime/mime.h"
#include "text/text_int.h"

/* Same values as rules.h's TM_HDRMOD_*, which this module may not include. */
#define MOD_RAW    0x1u
#define MOD_ADDR   0x2u
#define MOD_NAME   0x4u
#define MOD_HOST   0x8u
#define MOD_DOMAIN 0x10u
#define MOD_FIRST  0x20u
#define MOD_LAST   0x40u

/* The values of one get() call, before joining. */
struct vals {
    struct tm_text_list l;
};

/*
 * name_is - the stored field name (trailing blanks dropped, as SA does)
 * equals `name` of length nlen (measured once by the caller: strlen per
 * field per header rule group was 1.3 % of a scan with SA's rules, perf)
 */
static int
name_is(struct tm_str field, const char *name, size_t nlen)
{
    while (field.len > 0 && (field.p[field.len - 1] == ' ' || field.p[field.len - 1] == '\t'))
        field.len--;
    return field.len == nlen && tm_mem_ieq(field.p, name, nlen);
}

static int
is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* raw_value - the value as SpamAssassin stores it: after the colon, CRLF as LF, newline ended */
static tm_rc
raw_value(struct tm_task *t, const struct tm_mime_header *h, struct tm_str *out)
{
    struct tm_buf b;
    size_t i;
    tm_rc rc = TM_OK;

    tm_buf_init(&b, t->arena, h->value.len + 2);
    for (i = 0; i < h->value.len && rc == TM_OK; i++)
        if (!(h->value.p[i] == '\r' && i + 1 < h->value.len && h->value.p[i + 1] == '\n'))
            rc = tm_buf_putc(&b, h->value.p[i]);
    if (rc == TM_OK)
        rc = tm_buf_putc(&b, '\n');
    *out = tm_str_make(b.data, b.len);
    return rc;
}

/* unfold_raw - Node::get_header($h, 1): s/\r?\n\s+/ /g */
static tm_rc
unfold_raw(struct tm_task *t, struct tm_str v, struct tm_str *out)
{
    struct tm_buf b;
    size_t i = 0;
    tm_rc rc = TM_OK;

    tm_buf_init(&b, t->arena, v.len + 1);
    while (i < v.len && rc == TM_OK) {
        size_t j = i;
        if (v.p[j] == '\r' && j + 1 < v.len && v.p[j + 1] == '\n')
            j++;
        if (v.p[j] == '\n' && j + 1 < v.len && is_ws(v.p[j + 1])) {
            j++;
            while (j < v.len && is_ws(v.p[j]))
                j++;
            rc = tm_buf_putc(&b, ' ');
            i = j;
            continue;
        }
        rc = tm_buf_putc(&b, v.p[i]);
        i++;
    }
    *out = tm_str_make(b.data, b.len);
    return rc;
}

/* no_2047 - fields SpamAssassin never MIME-decodes (bugs 6945, 7249) */
static int
no_2047(struct tm_str name)
{
    static const char *const names[] = {"received",   "message-id",  "resent-message-id",
                                        "date",       "resent-date", "mime-version",
                                        "references", "in-reply-to", NULL};
    size_t i;

    while (name.len > 0 && (name.p[name.len - 1] == ' ' || name.p[name.len - 1] == '\t'))
        name.len--;
    for (i = 0; names[i] != NULL; i++)
        if (tm_str_ieq(name, names[i]))
            return 1;
    return name.len >= 5 && tm_mem_ieq(name.p, "list-", 5);
}

/* ew_match - an encoded word =?charset?B|Q?text?= at p; returns its length or 0 */
static size_t
ew_match(const unsigned char *p, size_t n, size_t *cs_end, size_t *text_start)
{
    size_t i = 2;

    if (n < 7 || p[0] != '=' || p[1] != '?')
        return 0;
    while (i < n && ((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z') ||
                     (p[i] >= '0' && p[i] <= '9') || p[i] == '*' || p[i] == '_' || p[i] == '-'))
        i++;
    if (i == 2 || i + 3 > n || p[i] != '?')
        return 0;
    *cs_end = i;
    i++;
    if (!(p[i] == 'b' || p[i] == 'B' || p[i] == 'q' || p[i] == 'Q') || p[i + 1] != '?')
        return 0;
    i += 2;
    *text_start = i;
    while (i < n && p[i] != '?')
        i++;
    if (i + 1 >= n || p[i + 1] != '=')
        return 0;
    return i + 2;
}

/* ew_decode - base64 or Q-decode the text of one word into b (bytes, no charset) */
static tm_rc
ew_decode(const unsigned char *w, size_t cs_end, size_t ts, size_t len, struct tm_buf *b)
{
    size_t tl = len - 2 - ts;
    unsigned flags = 0;
    unsigned char *o;
    tm_rc rc;
    int b64 = w[cs_end + 1] == 'b' || w[cs_end + 1] == 'B';

    o = tm_buf_reserve(b, b64 ? TM_B64_MAX_OUT(tl) : TM_QP_MAX_OUT(tl) + 1, &rc);
    if (o == NULL)
        return rc;
    b->len += b64 ? tm_b64_decode(w + ts, tl, o, &flags) : tm_qp_decode(w + ts, tl, o, 1, &flags);
    return TM_OK;
}

/* flush_section - append a merged encoded section converted from its charset */
static tm_rc
flush_section(struct tm_task *t, const unsigned char *cs, size_t cslen, struct tm_buf *sect,
              struct tm_buf *out)
{
    struct tm_str norm;
    char name[64];
    size_t k;
    int chars;
    tm_rc rc;

    for (k = 0; k < cslen && cs[k] != '*'; k++)
        ;
    if (k >= sizeof(name))
        k = sizeof(name) - 1;
    memcpy(name, cs, k);
    name[k] = '\0';
    rc = tm_text_normalize(t, name, k, sect->data, sect->len, 1, &norm, &chars);
    if (rc == TM_OK)
        rc = tm_buf_append(out, norm.p, norm.len);
    sect->len = 0;
    return rc;
}

/*
 * decode_2047 - Node::_decode_header's RFC 2047 step: whitespace between two
 * encoded words dropped, neighbouring words of one charset merged before
 * conversion (bug 7249), words recognised anywhere in the text.
 */
static tm_rc
decode_2047(struct tm_task *t, struct tm_str v, struct tm_buf *out)
{
    struct tm_buf sect;
    const unsigned char *cur_cs = NULL;
    size_t cur_len = 0, i = 0, len, cse, ts;
    tm_rc rc = TM_OK;

    tm_buf_init(&sect, t->arena, v.len + 16);
    while (i < v.len && rc == TM_OK) {
        if ((len = ew_match(v.p + i, v.len - i, &cse, &ts)) != 0) {
            size_t j = i + len, k = j, c2, t2;
            if (cur_cs != NULL && !(cur_len == cse - 2 && tm_mem_ieq(cur_cs, v.p + i + 2, cur_len)))
                rc = flush_section(t, cur_cs, cur_len, &sect, out);
            cur_cs = v.p + i + 2;
            cur_len = cse - 2;
            if (rc == TM_OK)
                rc = ew_decode(v.p + i, cse, ts, len, &sect);
            while (k < v.len && is_ws(v.p[k]))
                k++;
            if (k > j && ew_match(v.p + k, v.len - k, &c2, &t2) != 0)
                j = k;
            i = j;
            continue;
        }
        if (cur_cs != NULL) {
            rc = flush_section(t, cur_cs, cur_len, &sect, out);
            cur_cs = NULL;
        }
        if (rc == TM_OK)
            rc = tm_buf_putc(out, v.p[i]);
        i++;
    }
    if (rc == TM_OK && cur_cs != NULL)
        rc = flush_section(t, cur_cs, cur_len, &sect, out);
    return rc;
}

/* has_ew_start - "=?" occurs in v (the triage before RFC 2047 decoding) */
static int
has_ew_start(struct tm_str v)
{
    size_t i;

    for (i = 0; i + 1 < v.len; i++)
        if (v.p[i] == '=' && v.p[i + 1] == '?')
            return 1;
    return 0;
}

/*
 * decoded_value - Node::header() storing a field and _decode_header: unfold,
 * trim, 8-bit text to UTF-8, RFC 2047; "\n" appended (Node::get_header).
 */
static tm_rc
decoded_value(struct tm_task *t, const struct tm_mime_header *h, struct tm_str *out)
{
    struct tm_buf b, o;
    struct tm_str v, norm;
    size_t i = 0, s, e;
    int chars;
    tm_rc rc = TM_OK;

    tm_buf_init(&b, t->arena, h->value.len + 2);
    while (i < h->value.len && rc == TM_OK) {
        const unsigned char *p = h->value.p;
        size_t j = i;
        if (p[j] == '\r' && j + 1 < h->value.len && p[j + 1] == '\n')
            j++;
        if (p[j] == '\n' && j + 1 < h->value.len && (p[j + 1] == ' ' || p[j + 1] == '\t')) {
            j++;
            while (j < h->value.len && (p[j] == ' ' || p[j] == '\t'))
                j++;
            rc = tm_buf_putc(&b, ' ');
            i = j;
            continue;
        }
        if (p[j] == '\n' && j > i) /* a CRLF that does not fold: kept as LF */
            i = j;
        rc = tm_buf_putc(&b, p[i]);
        i++;
    }
    if (rc != TM_OK)
        return rc;
    s = 0;
    e = b.len;
    while (s < e && is_ws(b.data[s]))
        s++;
    while (e > s && is_ws(b.data[e - 1]))
        e--;
    v = tm_str_make(b.data ? b.data + s : (const unsigned char *)"", e - s);
    for (i = 0; i < v.len; i++)
        if (v.p[i] & 0x80)
            break;
    if (i < v.len) {
        if ((rc = tm_text_normalize(t, "UTF-8", 5, v.p, v.len, 0, &norm, &chars)) != TM_OK)
            return rc;
        v = norm;
    }
    tm_buf_init(&o, t->arena, v.len * 4 + 16);
    if (!no_2047(h->name) && has_ew_start(v))
        rc = decode_2047(t, v, &o);
    else
        rc = tm_buf_append(&o, v.p, v.len);
    if (rc == TM_OK)
        rc = tm_buf_putc(&o, '\n');
    *out = tm_str_make(o.data, o.len);
    return rc;
}

/*
 * decoded_root - decoded_value of the i-th top-level field, from the task's
 * cache: each header rule group asked for it again (13% of the samples of a
 * default-rules scan went to decoding the same fields, perf, issue 10).
 */
static tm_rc
decoded_root(struct tm_task *t, size_t i, struct tm_str *out)
{
    const struct tm_mime_part *root = t->msg->root;
    struct tm_text_cache *c = tm_text_cache_get(t);
    tm_rc rc;

    if (c == NULL)
        return TM_ENOMEM;
    if (c->hdr_dec == NULL && root->nhdrs > 0) {
        if ((c->hdr_dec = tm_arena_calloc(t->arena, root->nhdrs, sizeof(*c->hdr_dec))) == NULL)
            return TM_ENOMEM;
        c->nhdr_dec = root->nhdrs;
    }
    if (i < c->nhdr_dec && c->hdr_dec[i].p != NULL) {
        *out = c->hdr_dec[i];
        return TM_OK;
    }
    rc = decoded_value(t, &root->hdrs[i], out);
    if (rc == TM_OK && i < c->nhdr_dec && out->p != NULL)
        c->hdr_dec[i] = *out;
    return rc;
}

/* collect - all values of header `name` of the top-level part; how: 0 decoded, 1 raw, 2 unfolded raw */
static tm_rc
collect(struct tm_task *t, const char *name, int how, struct vals *vs, int *present)
{
    const struct tm_mime_part *root = t->msg ? t->msg->root : NULL;
    size_t i, nlen = strlen(name);
    tm_rc rc;

    if (root == NULL)
        return TM_OK;
    for (i = 0; i < root->nhdrs; i++) {
        const struct tm_mime_header *h = &root->hdrs[i];
        struct tm_str v;
        if (!name_is(h->name, name, nlen))
            continue;
        *present = 1;
        if (how == 0) {
            rc = decoded_root(t, i, &v);
        } else {
            rc = raw_value(t, h, &v);
            if (rc == TM_OK && how == 2)
                rc = unfold_raw(t, v, &v);
        }
        if (rc == TM_OK)
            rc = tm_text_list_push(t, &vs->l, v.p, v.len);
        if (rc != TM_OK)
            return rc;
    }
    return TM_OK;
}

/* all_headers - Node::get_all_headers(0): "Name: decoded\n" for every field, in order */
static tm_rc
all_headers(struct tm_task *t, struct vals *vs, int raw)
{
    const struct tm_mime_part *root = t->msg ? t->msg->root : NULL;
    size_t i;
    tm_rc rc;

    if (root == NULL)
        return TM_OK;
    for (i = 0; i < root->nhdrs; i++) {
        const struct tm_mime_header *h = &root->hdrs[i];
        struct tm_str name = h->name, v;
        struct tm_buf b;
        while (name.len > 0 && (name.p[name.len - 1] == ' ' || name.p[name.len - 1] == '\t'))
            name.len--;
        if (raw) {
            rc = raw_value(t, h, &v);
        } else {
            rc = decoded_root(t, i, &v);
        }
        if (rc != TM_OK)
            return rc;
        tm_buf_init(&b, t->arena, name.len + v.len + 3);
        if ((rc = tm_buf_append(&b, name.p, name.len)) != TM_OK ||
            (rc = tm_buf_putc(&b, ':')) != TM_OK ||
            (!raw && (rc = tm_buf_putc(&b, ' ')) != TM_OK) ||
            (rc = tm_buf_append(&b, v.p, v.len)) != TM_OK)
            return rc;
        if ((rc = tm_text_list_push(t, &vs->l, b.data, b.len)) != TM_OK)
            return rc;
    }
    return TM_OK;
}

/* strip_comments - drop (...) comments (not nested), in place into a new arena copy */
static struct tm_str
strip_comments(struct tm_task *t, struct tm_str s)
{
    unsigned char *o = tm_arena_alloc(t->arena, s.len + 1);
    size_t i, k = 0;
    int depth = 0, esc = 0;

    if (o == NULL)
        return s;
    for (i = 0; i < s.len; i++) {
        unsigned char c = s.p[i];
        if (depth > 0) {
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == ')')
                depth = 0;
            continue;
        }
        if (c == '(' && memchr(s.p + i, ')', s.len - i) != NULL) {
            depth = 1;
            continue;
        }
        o[k++] = c;
    }
    return tm_str_make(o, k);
}

/*
 * phrase_of - the display name of one mailbox (its text before '<', quotes
 * and comments removed; else a trailing comment), decoded and with its
 * whitespace folded as PerMsgStatus::_get does for :name.
 */
static tm_rc
phrase_of(struct tm_task *t, struct tm_str mb, struct vals *vs, int raw)
{
    const unsigned char *lt = NULL;
    struct tm_buf b, d;
    struct tm_str ph = TM_STR_NULL;
    size_t i;
    int inq = 0, esc = 0;
    tm_rc rc;

    for (i = 0; i < mb.len; i++) {
        unsigned char c = mb.p[i];
        if (esc) {
            esc = 0;
        } else if (c == '\\') {
            esc = 1;
        } else if (c == '"') {
            inq = !inq;
        } else if (c == '<' && !inq) {
            lt = mb.p + i;
            break;
        }
    }
    tm_buf_init(&b, t->arena, mb.len + 1);
    if (lt != NULL) {
        struct tm_str pre = strip_comments(t, tm_str_make(mb.p, (size_t)(lt - mb.p)));
        inq = esc = 0;
        for (i = 0; i < pre.len; i++) {
            unsigned char c = pre.p[i];
            if (inq && esc) {
                esc = 0;
            } else if (inq && c == '\\') {
                esc = 1;
                continue;
            } else if (c == '"') {
                inq = !inq;
                continue;
            }
            if ((rc = tm_buf_putc(&b, c)) != TM_OK)
                return rc;
        }
        ph = tm_str_trim(tm_str_make(b.data, b.len));
    }
    if (ph.len == 0) {
        const unsigned char *o = memchr(mb.p, '(', mb.len), *c;
        if (o == NULL || (c = memchr(o, ')', mb.len - (size_t)(o - mb.p))) == NULL)
            return TM_OK;
        ph = tm_str_make(o + 1, (size_t)(c - o - 1));
        if (ph.len == 0)
            return TM_OK;
    }
    /* :name:raw - the phrase as written, no RFC 2047 decoding or folding (SA _get) */
    if (raw)
        return tm_text_list_push(t, &vs->l, ph.p, ph.len);
    tm_buf_init(&d, t->arena, ph.len * 4 + 16);
    if ((rc = decode_2047(t, ph, &d)) != TM_OK)
        return rc;
    {
        struct tm_buf f;
        size_t s = 0, e = d.len;
        int sp = 0;
        tm_buf_init(&f, t->arena, d.len + 1);
        while (s < e && is_ws(d.data[s]))
            s++;
        while (e > s && is_ws(d.data[e - 1]))
            e--;
        for (i = s; i < e; i++) {
            if (is_ws(d.data[i])) {
                sp = 1;
                continue;
            }
            if (sp && (rc = tm_buf_putc(&f, ' ')) != TM_OK)
                return rc;
            sp = 0;
            if ((rc = tm_buf_putc(&f, d.data[i])) != TM_OK)
                return rc;
        }
        if (f.len >= 2 && f.data[0] == '\'' && f.data[f.len - 1] == '\'')
            return tm_text_list_push(t, &vs->l, f.data + 1, f.len - 2);
        return tm_text_list_push(t, &vs->l, f.data ? f.data : (const unsigned char *)"", f.len);
    }
}

/* names_of - :name for one raw value: split into mailboxes at top-level commas */
static tm_rc
names_of(struct tm_task *t, struct tm_str v, struct vals *vs, int raw)
{
    size_t i, start = 0;
    int inq = 0, esc = 0, ang = 0, par = 0;
    tm_rc rc;

    for (i = 0; i <= v.len; i++) {
        unsigned char c = i < v.len ? v.p[i] : ',';
        if (esc) {
            esc = 0;
            continue;
        }
        if (c == '\\' && i < v.len) {
            esc = 1;
        } else if (c == '"' && !par) {
            inq = !inq;
        } else if (!inq && c == '(') {
            par++;
        } else if (!inq && c == ')' && par > 0) {
            par--;
        } else if (!inq && !par && c == '<') {
            ang = 1;
        } else if (!inq && !par && c == '>') {
            ang = 0;
        } else if (!inq && !par && !ang && (c == ',' || c == ';')) {
            struct tm_str mb = tm_str_trim(tm_str_make(v.p + start, i - start));
            const unsigned char *colon;
            /* a group "name: a, b;" keeps its members only */
            if ((colon = memchr(mb.p, ':', mb.len)) != NULL && memchr(mb.p, '<', mb.len) == NULL &&
                memchr(mb.p, '"', (size_t)(colon - mb.p)) == NULL)
                mb = tm_str_trim(tm_str_make(colon + 1, mb.len - (size_t)(colon + 1 - mb.p)));
            if (mb.len > 0 && (rc = phrase_of(t, mb, vs, raw)) != TM_OK)
                return rc;
            start = i + 1;
        }
    }
    return TM_OK;
}

/* addr_mods - apply :addr / :name to the collected raw values */
static tm_rc
addr_mods(struct tm_task *t, unsigned mods, struct vals *in, struct vals *out)
{
    size_t i, j, n;
    tm_rc rc;

    for (i = 0; i < in->l.n; i++) {
        const char **addrs;
        int trunc = 0;
        if (mods & MOD_NAME) {
            if ((rc = names_of(t, in->l.v[i], out, (mods & MOD_RAW) != 0)) != TM_OK)
                return rc;
            continue;
        }
        rc = tm_addr_list(t->arena, in->l.v[i].p, in->l.v[i].len, 1000, &addrs, &n, &trunc);
        if (rc != TM_OK)
            return rc;
        for (j = 0; j < n; j++) {
            if (addrs[j][0] == '\0' || strchr(addrs[j], '@') == NULL)
                continue;
            if ((rc = tm_text_list_push(t, &out->l, (const unsigned char *)addrs[j],
                                        strlen(addrs[j]))) != TM_OK)
                return rc;
        }
    }
    return TM_OK;
}

/* host_mods - :host / :domain on addresses: the part after the last '@' (no TLD check yet) */
static tm_rc
host_mods(struct tm_task *t, struct vals *in, struct vals *out)
{
    size_t i;
    tm_rc rc;

    for (i = 0; i < in->l.n; i++) {
        struct tm_str v = in->l.v[i];
        size_t k = v.len;
        while (k > 0 && v.p[k - 1] != '@')
            k--;
        if (k == 0)
            continue;
        if ((rc = tm_text_list_push(t, &out->l, v.p + k, v.len - k)) != TM_OK)
            return rc;
    }
    return TM_OK;
}

/* join - Check.pm: join with "" when the first value ends in "\n", else "\n" */
static tm_rc
join(struct tm_task *t, const struct vals *vs, struct tm_str *out)
{
    struct tm_buf b;
    size_t i, total = 0;
    int nl;
    tm_rc rc;

    if (vs->l.n == 0) {
        *out = tm_str_make("", 0);
        return TM_OK;
    }
    nl = vs->l.v[0].len > 0 && vs->l.v[0].p[vs->l.v[0].len - 1] == '\n';
    for (i = 0; i < vs->l.n; i++)
        total += vs->l.v[i].len + 1;
    if (vs->l.n == 1) {
        *out = vs->l.v[0];
        return TM_OK;
    }
    tm_buf_init(&b, t->arena, total + 1);
    for (i = 0; i < vs->l.n; i++) {
        if (i > 0 && !nl && (rc = tm_buf_putc(&b, '\n')) != TM_OK)
            return rc;
        if ((rc = tm_buf_append(&b, vs->l.v[i].p, vs->l.v[i].len)) != TM_OK)
            return rc;
    }
    *out = tm_str_make(b.data, b.len);
    return TM_OK;
}

tm_rc
tm_text_header(struct tm_task *t, enum tm_text_hdr_kind kind, const char *const *names,
               size_t nnames, unsigned mods, struct tm_str *out, int *present)
{
    static const char *const msgid[] = {"X-Message-Id", "Resent-Message-Id",
                                        "X-Original-Message-ID", "Message-Id"};
    struct vals vs, v2;
    size_t i;
    int raw = (mods & MOD_RAW) != 0, needraw = (mods & (MOD_ADDR | MOD_NAME)) != 0;
    int how = raw || needraw ? 1 : 0;
    tm_rc rc = TM_OK;

    *out = tm_str_make("", 0);
    *present = 0;
    memset(&vs, 0, sizeof(vs));
    memset(&v2, 0, sizeof(v2));
    vs.l.max = v2.l.max = t->limits->mime_max_headers * 4 + 16;
    switch (kind) {
    case TM_TEXT_HDR_ALL:
        rc = all_headers(t, &vs, raw);
        break;
    case TM_TEXT_HDR_TOCC:
        rc = collect(t, "To", raw ? 2 : 0, &vs, present);
        if (rc == TM_OK)
            rc = collect(t, "Cc", raw ? 2 : 0, &vs, present);
        break;
    case TM_TEXT_HDR_MESSAGEID:
        for (i = 0; i < TM_NELEM(msgid) && rc == TM_OK; i++)
            rc = collect(t, msgid[i], raw ? 2 : 0, &vs, present);
        break;
    case TM_TEXT_HDR_NAMED:
    case TM_TEXT_HDR_EXISTS:
    default:
        for (i = 0; i < nnames && rc == TM_OK; i++)
            rc = collect(t, names[i], how, &vs, present);
        break;
    }
    if (rc != TM_OK)
        return rc;
    *present = vs.l.n > 0;
    if (kind == TM_TEXT_HDR_EXISTS || vs.l.n == 0)
        return TM_OK;
    if ((mods & MOD_FIRST) && vs.l.n > 1)
        vs.l.n = 1;
    else if ((mods & MOD_LAST) && vs.l.n > 1) {
        vs.l.v[0] = vs.l.v[vs.l.n - 1];
        vs.l.n = 1;
    }
    if (needraw) {
        if ((rc = addr_mods(t, mods, &vs, &v2)) != TM_OK)
            return rc;
        vs = v2;
        memset(&v2, 0, sizeof(v2));
        v2.l.max = vs.l.max;
    }
    if ((mods & (MOD_HOST | MOD_DOMAIN)) && vs.l.n > 0) {
        if ((rc = host_mods(t, &vs, &v2)) != TM_OK)
            return rc;
        vs = v2;
    }
    *present = vs.l.n > 0;
    return join(t, &vs, out);
}
