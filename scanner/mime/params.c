/*
 * params.c - "token *(; name=value)" headers: Content-Type (RFC 2045 5.1),
 * Content-Disposition (RFC 2183), RFC 2231 parameter value continuations
 * and character sets, RFC 5322 comments.
 *
 * Parsing is one left-to-right pass with no backtracking; the raw parameters
 * are kept (at most max_params) and assembled afterwards: sections of an RFC
 * 2231 continuation are joined in section order (gaps stop the join, as
 * RFC 2231 section 3 says the sections must be contiguous), extended sections
 * are %XX-decoded, and the bytes are converted from the charset of section 0.
 * Plain values may carry RFC 2047 words (mail clients put them in filenames);
 * those are decoded too. Hostile input (unbalanced quotes or parentheses,
 * missing '=', junk) is recovered from, with TM_PARAM_BAD.
 */
#include "mime/params.h"

#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/str.h"
#include "mime/charset.h"
#include "mime/lex.h"
#include "mime/rfc2047.h"

#define PARAM_MAX_SECTION 1000 /* RFC 2231 continuation numbers above this are junk */

struct raw_param {
    const unsigned char *name;
    size_t name_len;  /* without the '*' suffixes */
    int section;      /* -1 if none */
    int extended;     /* value is charset'lang'%XX */
    const unsigned char *val;
    size_t val_len;
    int quoted;
    int used;
};

/* skip_cfws - whitespace, line breaks and (nested) comments */
static const unsigned char *
skip_cfws(const unsigned char *p, const unsigned char *end, unsigned *flags)
{
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            p++;
        if (p < end && *p == '(') {
            int unclosed = 0;
            p = tm_lex_skip_comment(p, end, &unclosed);
            if (unclosed)
                *flags |= TM_PARAM_BAD;
            continue;
        }
        return p;
    }
}

static int
is_tspecial_end(unsigned char c)
{
    return c == ';' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '(';
}

/* parse_name - split "name*2*" into name, section and extended */
static void
parse_name(struct raw_param *rp)
{
    const unsigned char *n = rp->name;
    size_t len = rp->name_len, i;

    rp->section = -1;
    rp->extended = 0;
    if (len > 0 && n[len - 1] == '*') {
        rp->extended = 1;
        len--;
    }
    /* A trailing "*<digits>" is a section number. */
    for (i = len; i > 0 && n[i - 1] >= '0' && n[i - 1] <= '9'; i--)
        ;
    if (i < len && i > 1 && n[i - 1] == '*' && len - i <= 4) {
        int sec = 0;
        size_t k;
        for (k = i; k < len; k++)
            sec = sec * 10 + (n[k] - '0');
        /* "name*01" is not a section per RFC 2231; accept "0" and no leading zero. */
        if (!(n[i] == '0' && len - i > 1) && sec <= PARAM_MAX_SECTION) {
            rp->section = sec;
            len = i - 1;
        }
    }
    rp->name_len = len;
}

/* unquote - append a quoted-string's content (quotes already stripped), resolving '\' escapes */
static tm_rc
unquote(struct tm_buf *b, const unsigned char *v, size_t n)
{
    size_t i, run = 0;
    tm_rc rc;

    for (i = 0; i < n; i++) {
        if (v[i] == '\\' && i + 1 < n) {
            if ((rc = tm_buf_append(b, v + run, i - run)) != TM_OK)
                return rc;
            run = i + 1;
            i++;
        } else if (v[i] == '\r' || v[i] == '\n') {
            /* folding inside a quoted string: drop the line break */
            if ((rc = tm_buf_append(b, v + run, i - run)) != TM_OK)
                return rc;
            run = i + 1;
        }
    }
    return tm_buf_append(b, v + run, n - run);
}

/* pct_decode - append %XX-decoded bytes (bad escapes kept literally) */
static tm_rc
pct_decode(struct tm_buf *b, const unsigned char *v, size_t n, unsigned *flags)
{
    size_t i;
    int h, l;
    tm_rc rc;

    for (i = 0; i < n; i++) {
        unsigned char c = v[i];
        if (c == '%' && i + 2 < n && (h = tm_hexval(v[i + 1])) >= 0 && (l = tm_hexval(v[i + 2])) >= 0) {
            c = (unsigned char)(h << 4 | l);
            i += 2;
        } else if (c == '%') {
            *flags |= TM_PARAM_2231;
        }
        if ((rc = tm_buf_putc(b, c)) != TM_OK)
            return rc;
    }
    return TM_OK;
}

/*
 * assemble - build the value of parameter rp[k] (and its continuations) into
 * UTF-8. Marks the raw entries used.
 */
static tm_rc
assemble(struct tm_arena *a, struct raw_param *rp, size_t n, size_t k, struct tm_param *out,
         unsigned *flags)
{
    struct tm_buf bytes, utf8;
    const unsigned char *cs = NULL;
    size_t cs_len = 0, i;
    int sec, any_ext = 0, bad = 0;
    tm_rc rc;

    tm_buf_init(&bytes, a, (size_t)1 << 24);
    tm_buf_init(&utf8, a, (size_t)1 << 24);
    out->name = tm_arena_lowerdup(a, rp[k].name, rp[k].name_len);
    if (out->name == NULL)
        return TM_ENOMEM;

    if (rp[k].section < 0) {
        rp[k].used = 1;
        if (rp[k].extended) {
            /* name*=charset'lang'value */
            const unsigned char *v = rp[k].val, *q1, *q2;
            size_t vl = rp[k].val_len;
            q1 = memchr(v, '\'', vl);
            q2 = q1 ? memchr(q1 + 1, '\'', vl - (size_t)(q1 + 1 - v)) : NULL;
            if (q2 != NULL) {
                cs = v;
                cs_len = (size_t)(q1 - v);
                v = q2 + 1;
                vl -= (size_t)(v - rp[k].val);
            } else {
                *flags |= TM_PARAM_2231;
            }
            if ((rc = pct_decode(&bytes, v, vl, flags)) != TM_OK)
                return rc;
            any_ext = 1;
        } else if ((rc = rp[k].quoted ? unquote(&bytes, rp[k].val, rp[k].val_len)
                                       : tm_buf_append(&bytes, rp[k].val, rp[k].val_len)) != TM_OK) {
            return rc;
        }
    } else {
        /* Continuations: find section 0, 1, 2, ... among entries of the same name. */
        for (sec = 0; sec <= PARAM_MAX_SECTION; sec++) {
            size_t j, found = n;
            for (j = 0; j < n; j++)
                if (!rp[j].used && rp[j].section == sec && rp[j].name_len == rp[k].name_len &&
                    tm_mem_ieq(rp[j].name, rp[k].name, rp[k].name_len)) {
                    found = j;
                    break;
                }
            if (found == n)
                break;
            rp[found].used = 1;
            if (rp[found].extended) {
                const unsigned char *v = rp[found].val;
                size_t vl = rp[found].val_len;
                if (sec == 0) {
                    const unsigned char *q1 = memchr(v, '\'', vl);
                    const unsigned char *q2 =
                        q1 ? memchr(q1 + 1, '\'', vl - (size_t)(q1 + 1 - v)) : NULL;
                    if (q2 != NULL) {
                        cs = v;
                        cs_len = (size_t)(q1 - v);
                        vl -= (size_t)(q2 + 1 - v);
                        v = q2 + 1;
                    }
                }
                if ((rc = pct_decode(&bytes, v, vl, flags)) != TM_OK)
                    return rc;
                any_ext = 1;
            } else if ((rc = rp[found].quoted
                                 ? unquote(&bytes, rp[found].val, rp[found].val_len)
                                 : tm_buf_append(&bytes, rp[found].val, rp[found].val_len)) !=
                       TM_OK) {
                return rc;
            }
        }
        if (sec == 0)
            *flags |= TM_PARAM_2231; /* continuation without section 0 */
        /* Sections past a gap are dropped; mark them used so they do not reappear. */
        for (i = 0; i < n; i++)
            if (rp[i].section >= 0 && rp[i].name_len == rp[k].name_len &&
                tm_mem_ieq(rp[i].name, rp[k].name, rp[k].name_len)) {
                if (!rp[i].used)
                    *flags |= TM_PARAM_2231;
                rp[i].used = 1;
            }
    }

    if (any_ext) {
        rc = tm_charset_to_utf8((const char *)cs, cs_len, bytes.data, bytes.len, &utf8, &bad);
        if (bad)
            *flags |= TM_PARAM_2231;
    } else {
        unsigned f2047 = 0;
        rc = tm_rfc2047_decode(bytes.data, bytes.len, 64, &utf8, &f2047);
        if (f2047 & (TM_2047_BAD | TM_2047_CHARSET))
            *flags |= TM_PARAM_BAD;
    }
    if (rc != TM_OK)
        return rc;
    if (tm_buf_cstr(&utf8) == NULL)
        return TM_ENOMEM;
    out->value = (const char *)utf8.data;
    out->value_len = utf8.len;
    return TM_OK;
}

tm_rc
tm_params_parse(struct tm_arena *a, const unsigned char *in, size_t len, size_t max_params,
                struct tm_params *out, unsigned *flags)
{
    const unsigned char *p, *end, *t0;
    struct raw_param *rp;
    size_t n = 0, i, k, t_len;
    tm_rc rc;

    if (in == NULL) /* an empty view may have no pointer */
        in = (const unsigned char *)"";
    p = in;
    end = in + len;
    out->token = "";
    out->v = NULL;
    out->n = 0;
    rp = tm_arena_calloc(a, max_params, sizeof(*rp));
    if (rp == NULL)
        return TM_ENOMEM;

    /* The leading token; "text / plain" with spaces around the slash is tolerated. */
    p = skip_cfws(p, end, flags);
    t0 = p;
    {
        struct tm_buf tok;
        tm_buf_init(&tok, a, 256);
        while (p < end && *p != ';') {
            if (*p == '(') {
                p = skip_cfws(p, end, flags);
                continue;
            }
            if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
                const unsigned char *q = skip_cfws(p, end, flags);
                /* Whitespace inside the token ends it unless a '/' is on either side. */
                if (q < end && *q != ';' && *q != '/' && tok.len > 0 &&
                    tok.data[tok.len - 1] != '/') {
                    *flags |= TM_PARAM_BAD;
                    p = q;
                    break;
                }
                p = q;
                continue;
            }
            if (tm_buf_putc(&tok, tm_lower(*p)) != TM_OK) {
                *flags |= TM_PARAM_BAD;
                break;
            }
            p++;
        }
        t_len = tok.len;
        (void)t0;
        out->token = t_len ? tm_buf_cstr(&tok) : "";
        if (out->token == NULL)
            return TM_ENOMEM;
    }

    /* Parameters. */
    while (p < end) {
        struct raw_param r;
        memset(&r, 0, sizeof(r));
        if (*p != ';') {
            /* junk between parameters: skip to the next ';' */
            *flags |= TM_PARAM_BAD;
            while (p < end && *p != ';') {
                if (*p == '"') {
                    p++;
                    while (p < end && *p != '"')
                        p += (*p == '\\' && p + 1 < end) ? 2 : 1;
                }
                if (p < end)
                    p++;
            }
            continue;
        }
        p = skip_cfws(p + 1, end, flags);
        if (p >= end)
            break;
        if (*p == ';')
            continue;
        r.name = p;
        while (p < end && *p != '=' && *p != ';' && *p != ' ' && *p != '\t' && *p != '\r' &&
               *p != '\n' && *p != '(' && *p != '"')
            p++;
        r.name_len = (size_t)(p - r.name);
        p = skip_cfws(p, end, flags);
        if (p >= end || *p != '=' || r.name_len == 0) {
            *flags |= TM_PARAM_BAD;
            continue;
        }
        p = skip_cfws(p + 1, end, flags);
        if (p < end && *p == '"') {
            p++;
            r.val = p;
            r.quoted = 1;
            while (p < end && *p != '"')
                p += (*p == '\\' && p + 1 < end) ? 2 : 1;
            if (p > end)
                p = end;
            r.val_len = (size_t)(p - r.val);
            if (p < end)
                p++;
            else
                *flags |= TM_PARAM_BAD; /* unterminated: the rest of the field is the value */
            p = skip_cfws(p, end, flags);
        } else {
            r.val = p;
            while (p < end && !is_tspecial_end(*p))
                p++;
            r.val_len = (size_t)(p - r.val);
            /* An unquoted value with spaces ("name=my file.pdf"): take up to ';'. */
            {
                const unsigned char *q = skip_cfws(p, end, flags);
                if (q < end && *q != ';') {
                    while (q < end && *q != ';')
                        q++;
                    r.val_len = (size_t)(q - r.val);
                    while (r.val_len > 0 && (r.val[r.val_len - 1] == ' ' ||
                                             r.val[r.val_len - 1] == '\t' ||
                                             r.val[r.val_len - 1] == '\r' ||
                                             r.val[r.val_len - 1] == '\n'))
                        r.val_len--;
                    *flags |= TM_PARAM_BAD;
                }
                p = q;
            }
        }
        if (n >= max_params) {
            *flags |= TM_PARAM_LIMIT;
            continue;
        }
        parse_name(&r);
        if (r.name_len == 0) {
            *flags |= TM_PARAM_BAD;
            continue;
        }
        rp[n++] = r;
    }

    /* Assemble, first occurrence of each name wins; an RFC 2231 form beats a plain one. */
    out->v = tm_arena_calloc(a, n ? n : 1, sizeof(*out->v));
    if (out->v == NULL)
        return TM_ENOMEM;
    for (k = 0; k < n; k++) {
        size_t pick = k;
        int dup = 0;
        if (rp[k].used)
            continue;
        for (i = 0; i < out->n; i++)
            if (strlen(out->v[i].name) == rp[k].name_len &&
                tm_mem_ieq(out->v[i].name, rp[k].name, rp[k].name_len))
                dup = 1;
        if (dup) {
            *flags |= TM_PARAM_DUP;
            rp[k].used = 1;
            continue;
        }
        if (!rp[k].extended && rp[k].section < 0) {
            /* prefer a later RFC 2231 form of the same name */
            for (i = k + 1; i < n; i++)
                if (!rp[i].used && (rp[i].extended || rp[i].section >= 0) &&
                    rp[i].name_len == rp[k].name_len &&
                    tm_mem_ieq(rp[i].name, rp[k].name, rp[k].name_len)) {
                    pick = i;
                    rp[k].used = 1;
                    break;
                }
        }
        if ((rc = assemble(a, rp, n, pick, &out->v[out->n], flags)) != TM_OK)
            return rc;
        out->n++;
    }
    return TM_OK;
}

const struct tm_param *
tm_params_get(const struct tm_params *p, const char *name)
{
    size_t i;

    if (p == NULL)
        return NULL;
    for (i = 0; i < p->n; i++)
        if (strcmp(p->v[i].name, name) == 0)
            return &p->v[i];
    return NULL;
}
