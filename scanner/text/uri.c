/*
 * uri.c - the `uri` target until the url stage lands: a subset of
 * SpamAssassin's PerMsgStatus::_process_text_uri_list (its ThunderBird-like
 * scan of the rendered body) and of the HTML attribute URLs, with a few of
 * Util::uri_list_canonicalize's variants.
 *
 * Found in body lines: http://, https://, ftp:// URLs and www./ftp. names
 * (given a scheme), ended by ><"`}]{[| whitespace ESC or NBSP, with ')'
 * ending the URL when no '(' precedes it and trailing punctuation dropped;
 * mail addresses with a dot after the '@' as mailto:. Not yet: schemeless
 * host names (SpamAssassin needs its TLD list for them), redirector and
 * %-decoding variants, IDN.
 *
 * Limits: text_max_uris URLs (the set is clipped), text_max_uri_len bytes
 * each (longer candidates are cut).
 */
#include "text/text.h"

#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/limits.h"
#include "core/task.h"
#include "text/text_int.h"

static int
end_delim(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];

    if (c == '>' || c == '<' || c == '"' || c == '`' || c == '}' || c == ']' || c == '{' ||
        c == '[' || c == '|' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
        c == '\v' || c == 0x1b)
        return 1;
    return c == 0xC2 && n > 1 && p[1] == 0xA0;
}

static int
mail_delim(const unsigned char *p, size_t n)
{
    return end_delim(p, n) || p[0] == ',' || p[0] == '(' || p[0] == '\'' || p[0] >= 0x80;
}

static int
trail_punct(unsigned char c)
{
    return c != '\0' && strchr("-~!@#^&*()_+=:;'?,.", c) != NULL;
}

/* add - put one URL into the set (no duplicates), clipped to text_max_uri_len */
static tm_rc
add(struct tm_task *t, struct tm_text_list *out, const unsigned char *p, size_t n,
    const char *prefix)
{
    size_t pl = prefix ? strlen(prefix) : 0, i;
    unsigned char *o;

    if (n + pl > t->limits->text_max_uri_len)
        n = t->limits->text_max_uri_len - pl;
    for (i = 0; i < out->n; i++)
        if (out->v[i].len == n + pl && (pl == 0 || memcmp(out->v[i].p, prefix, pl) == 0) &&
            memcmp(out->v[i].p + pl, p, n) == 0)
            return TM_OK;
    if ((o = tm_arena_alloc(t->arena, n + pl + 1)) == NULL)
        return TM_ENOMEM;
    if (pl > 0)
        memcpy(o, prefix, pl);
    memcpy(o + pl, p, n);
    return tm_text_list_push(t, out, o, n + pl);
}

/* add_canon - the URL and the canonical variants SpamAssassin adds for http(s) */
static tm_rc
add_canon(struct tm_task *t, struct tm_text_list *out, const unsigned char *p, size_t n,
          const char *prefix)
{
    struct tm_buf b;
    size_t i, h;
    tm_rc rc;

    if ((rc = add(t, out, p, n, prefix)) != TM_OK)
        return rc;
    tm_buf_init(&b, t->arena, n + 32);
    if (prefix != NULL && (rc = tm_buf_append(&b, prefix, strlen(prefix))) != TM_OK)
        return rc;
    if ((rc = tm_buf_append(&b, p, n)) != TM_OK)
        return rc;
    /* http://host?x -> http://host/?x */
    if (b.len > 7 && (tm_mem_ieq(b.data, "http://", 7) || tm_mem_ieq(b.data, "https://", 8))) {
        h = tm_mem_ieq(b.data, "https://", 8) ? 8 : 7;
        for (i = h; i < b.len && b.data[i] != '/' && b.data[i] != '?' && b.data[i] != '#'; i++)
            ;
        if (i < b.len && (b.data[i] == '?' || b.data[i] == '#')) {
            struct tm_buf c;
            tm_buf_init(&c, t->arena, b.len + 2);
            if ((rc = tm_buf_append(&c, b.data, i)) != TM_OK || (rc = tm_buf_putc(&c, '/')) ||
                (rc = tm_buf_append(&c, b.data + i, b.len - i)) != TM_OK)
                return rc;
            return add(t, out, c.data, c.len, NULL);
        }
    }
    return TM_OK;
}

/* word_start - a URL may start at i: at a word boundary or after a start delimiter */
static int
word_start(const unsigned char *p, size_t i)
{
    unsigned char c;

    if (i == 0)
        return 1;
    c = p[i - 1];
    return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_');
}

/* scheme_at - length of a known scheme or www./ftp. prefix at p, 0 if none */
static size_t
scheme_at(const unsigned char *p, size_t n, const char **prefix)
{
    static const char *const s[] = {"http://", "https://", "ftp://"};
    size_t i, k;

    *prefix = NULL;
    for (i = 0; i < 3; i++) {
        k = strlen(s[i]);
        if (n > k && tm_mem_ieq(p, s[i], k))
            return k;
    }
    if (n > 4 && tm_mem_ieq(p, "www", 3)) {
        k = 3;
        while (k < n && k < 5 && p[k] >= '0' && p[k] <= '9')
            k++;
        if (k < n && p[k] == '.') {
            *prefix = "http://";
            return k + 1;
        }
    }
    if (n > 4 && tm_mem_ieq(p, "ftp.", 4)) {
        *prefix = "ftp://";
        return 4;
    }
    return 0;
}

/* scan_line - URLs and mail addresses in one rendered body line */
static tm_rc
scan_line(struct tm_task *t, struct tm_str s, struct tm_text_list *out)
{
    const unsigned char *p = s.p;
    size_t n = s.len, i = 0, e, k;
    const char *prefix;
    tm_rc rc;

    while (i < n) {
        if (word_start(p, i) && (k = scheme_at(p + i, n - i, &prefix)) != 0) {
            const unsigned char *lp;
            e = i;
            while (e < n && !end_delim(p + e, n - e))
                e++;
            lp = memchr(p + i, '(', e - i);
            if (lp == NULL) {
                const unsigned char *rp = memchr(p + i, ')', e - i);
                if (rp != NULL)
                    e = (size_t)(rp - p);
            }
            while (e > i && trail_punct(p[e - 1]))
                e--;
            if (e > i + k && (rc = add_canon(t, out, p + i, e - i, prefix)) != TM_OK)
                return rc;
            i = e > i ? e : i + 1;
            continue;
        }
        if (p[i] == '@' && i > 0) {
            size_t b = i, d;
            while (b > 0 && !mail_delim(p + b - 1, n - b + 1) && p[b - 1] != '@')
                b--;
            e = i + 1;
            while (e < n && !mail_delim(p + e, n - e) && p[e] != '@')
                e++;
            while (e > i + 1 && trail_punct(p[e - 1]))
                e--;
            for (d = i + 1; d + 1 < e && p[d] != '.'; d++)
                ;
            if (b < i && d + 1 < e && p[d] == '.') {
                size_t a = b;
                if (n - a > 7 && tm_mem_ieq(p + a, "mailto:", 7))
                    a += 7;
                if (a < i && (rc = add(t, out, p + a, e - a, "mailto:")) != TM_OK)
                    return rc;
            }
            i = e;
            continue;
        }
        i++;
    }
    return TM_OK;
}

tm_rc
tm_text_uri_scan(struct tm_task *t, const struct tm_textset *body, const struct tm_text_list *html,
                 struct tm_text_list *out)
{
    size_t i;
    tm_rc rc;

    for (i = 0; i < body->n; i++)
        if ((rc = scan_line(t, body->v[i], out)) != TM_OK)
            return rc;
    for (i = 0; i < html->n; i++) {
        struct tm_str u = tm_str_trim(html->v[i]);
        if (u.len <= 1 || u.p[0] == '#' || u.p[0] == '?' || u.p[0] == '&' ||
            (u.p[0] == '/' && u.p[1] != '/'))
            continue;
        if ((rc = add_canon(t, out, u.p, u.len, NULL)) != TM_OK)
            return rc;
    }
    return TM_OK;
}
