/*
 * addr.c - extract addr-specs from an address-list header (RFC 5322 3.4,
 * with the obsolete forms of 4.4). One left-to-right pass: comments and
 * quoted strings are skipped as units, a top-level ',' ends a mailbox, ':'
 * opens a group and ';' closes it. The addr-spec of a mailbox is what is
 * inside its angle brackets (minus an obsolete "@route:" prefix) or, without
 * brackets, the mailbox text with comments and whitespace removed. Quoted
 * local parts keep their quotes. Nothing here allocates more than the input
 * length per address.
 */
#include "mime/addr.h"

#include <string.h>

#include "core/arena.h"
#include "mime/lex.h"

/* clean - copy [s,e) without comments, whitespace and line breaks */
static char *
clean(struct tm_arena *a, const unsigned char *s, const unsigned char *e)
{
    char *out = tm_arena_alloc(a, (size_t)(e - s) + 1), *o = out;

    if (out == NULL)
        return NULL;
    while (s < e) {
        if (*s == '(') {
            s = tm_lex_skip_comment(s, e, NULL);
            continue;
        }
        if (*s == '"') {
            const unsigned char *q = tm_lex_skip_quoted(s, e);
            memcpy(o, s, (size_t)(q - s));
            o += q - s;
            s = q;
            continue;
        }
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            *o++ = (char)*s;
        s++;
    }
    *o = '\0';
    return out;
}

/* mailbox - the addr-spec of one mailbox text, or NULL if it has none */
static char *
mailbox(struct tm_arena *a, const unsigned char *s, const unsigned char *e, int *oom)
{
    const unsigned char *p = s, *lt = NULL, *gt = NULL;
    char *r;

    while (p < e) {
        if (*p == '(') {
            p = tm_lex_skip_comment(p, e, NULL);
            continue;
        }
        if (*p == '"') {
            p = tm_lex_skip_quoted(p, e);
            continue;
        }
        if (*p == '<' && lt == NULL)
            lt = p;
        else if (*p == '>' && lt != NULL && gt == NULL)
            gt = p;
        p++;
    }
    if (lt != NULL) {
        s = lt + 1;
        e = gt ? gt : e;
    }
    r = clean(a, s, e);
    if (r == NULL) {
        *oom = 1;
        return NULL;
    }
    /* obsolete route: "@a,@b:local@domain" */
    if (r[0] == '@') {
        char *colon = strchr(r, ':');
        if (colon != NULL)
            r = colon + 1;
    }
    return r[0] != '\0' ? r : NULL;
}

tm_rc
tm_addr_list(struct tm_arena *a, const unsigned char *in, size_t len, size_t max,
             const char ***out, size_t *n, int *truncated)
{
    const unsigned char *p, *end, *start;
    const char **v;
    int oom = 0, angle = 0;

    if (in == NULL) /* an empty view may have no pointer */
        in = (const unsigned char *)"";
    p = in;
    end = in + len;
    start = in;
    *n = 0;
    *truncated = 0;
    v = tm_arena_calloc(a, max ? max : 1, sizeof(*v));
    if (v == NULL)
        return TM_ENOMEM;
    *out = v;
    while (p <= end) {
        if (p < end && *p == '(') {
            p = tm_lex_skip_comment(p, end, NULL);
            continue;
        }
        if (p < end && *p == '"') {
            p = tm_lex_skip_quoted(p, end);
            continue;
        }
        if (p < end && *p == '<')
            angle = 1;
        else if (p < end && *p == '>')
            angle = 0;
        if (p == end || (!angle && (*p == ',' || *p == ';' || *p == ':'))) {
            if (p < end && *p == ':') {
                /* group name: drop it, members follow */
                start = p + 1;
                p++;
                continue;
            }
            if (p > start) {
                char *m = mailbox(a, start, p, &oom);
                if (oom)
                    return TM_ENOMEM;
                if (m != NULL) {
                    if (*n >= max) {
                        *truncated = 1;
                        return TM_OK;
                    }
                    v[(*n)++] = m;
                }
            }
            if (p == end)
                break;
            start = p + 1;
        }
        p++;
    }
    return TM_OK;
}
