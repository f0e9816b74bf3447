/*
 * jread.c - the JSON reader of jread.h: recursive descent, bounded depth and
 * node count, strings decoded in place.
 */
#include "cli/jread.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define JR_NUM_MAX 64 /* characters of a JSON number */

static int j_value(struct tm_jparser *jp, int depth, size_t *out);

static void
j_ws(struct tm_jparser *jp)
{
    while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
        jp->p++;
}

static int
j_node(struct tm_jparser *jp, enum tm_jtype t, size_t *out)
{
    struct tm_jnode *n;

    if (jp->n >= (jp->max_nodes ? jp->max_nodes : TM_JREAD_MAX_NODES))
        return -1;
    if (jp->n == jp->cap) {
        jp->cap = jp->cap ? jp->cap * 2 : 256;
        jp->v = tm_xrealloc(jp->v, jp->cap * sizeof(*jp->v));
    }
    n = &jp->v[jp->n];
    memset(n, 0, sizeof(*n));
    n->t = t;
    n->first = n->last = n->next = TM_JNONE;
    *out = jp->n++;
    return 0;
}

static int
j_hex4(const char *p, const char *end, unsigned *out)
{
    unsigned v = 0;
    int i;

    if (end - p < 4)
        return -1;
    for (i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static char *
j_utf8(char *w, unsigned cp)
{
    if (cp < 0x80) {
        *w++ = (char)cp;
    } else if (cp < 0x800) {
        *w++ = (char)(0xC0 | cp >> 6);
        *w++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *w++ = (char)(0xE0 | cp >> 12);
        *w++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *w++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *w++ = (char)(0xF0 | cp >> 18);
        *w++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *w++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *w++ = (char)(0x80 | (cp & 0x3F));
    }
    return w;
}

/*
 * j_escape - decode one \u escape (p after "\u") and a following low
 * surrogate if any; a lone surrogate becomes U+FFFD. The output (<= 4 bytes)
 * never outruns the input (>= 6 bytes), so in-place decoding is safe.
 */
static int
j_uescape(struct tm_jparser *jp, char **w)
{
    unsigned cp, lo;

    if (j_hex4(jp->p, jp->end, &cp) < 0)
        return -1;
    jp->p += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (jp->end - jp->p >= 6 && jp->p[0] == '\\' && jp->p[1] == 'u' &&
            j_hex4(jp->p + 2, jp->end, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
            jp->p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else {
            cp = 0xFFFD;
        }
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        cp = 0xFFFD;
    }
    *w = j_utf8(*w, cp);
    return 0;
}

/* j_string - parse a string at jp->p (on the quote), decoding in place */
static int
j_string(struct tm_jparser *jp, const char **s, size_t *len)
{
    char *w, *start;

    jp->p++;
    start = w = jp->p;
    for (;;) {
        unsigned char c;
        if (jp->p >= jp->end)
            return -1;
        c = (unsigned char)*jp->p++;
        if (c == '"')
            break;
        if (c < 0x20)
            return -1;
        if (c != '\\') {
            *w++ = (char)c;
            continue;
        }
        if (jp->p >= jp->end)
            return -1;
        c = (unsigned char)*jp->p++;
        switch (c) {
        case '"':
        case '\\':
        case '/':
            *w++ = (char)c;
            break;
        case 'b':
            *w++ = '\b';
            break;
        case 'f':
            *w++ = '\f';
            break;
        case 'n':
            *w++ = '\n';
            break;
        case 'r':
            *w++ = '\r';
            break;
        case 't':
            *w++ = '\t';
            break;
        case 'u':
            if (j_uescape(jp, &w) < 0)
                return -1;
            break;
        default:
            return -1;
        }
    }
    *s = start;
    *len = (size_t)(w - start);
    return 0;
}

/* j_number - check the RFC 8259 number grammar, then strtod a bounded copy */
static int
j_number(struct tm_jparser *jp, double *out)
{
    const char *p = jp->p, *e = jp->end;
    char tmp[JR_NUM_MAX + 1];
    size_t n;
    char *endp;

    if (p < e && *p == '-')
        p++;
    if (p < e && *p == '0')
        p++;
    else if (p < e && *p >= '1' && *p <= '9')
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    else
        return -1;
    if (p < e && *p == '.') {
        p++;
        if (p >= e || *p < '0' || *p > '9')
            return -1;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || *p < '0' || *p > '9')
            return -1;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    n = (size_t)(p - jp->p);
    if (n > JR_NUM_MAX)
        return -1;
    memcpy(tmp, jp->p, n);
    tmp[n] = '\0';
    errno = 0;
    *out = strtod(tmp, &endp);
    if (endp != tmp + n)
        return -1;
    jp->p += n;
    return 0;
}

static void
j_link(struct tm_jparser *jp, size_t parent, size_t child)
{
    if (jp->v[parent].last == TM_JNONE)
        jp->v[parent].first = child;
    else
        jp->v[jp->v[parent].last].next = child;
    jp->v[parent].last = child;
}

/* j_container - parse the members of an array or object after its bracket */
static int
j_container(struct tm_jparser *jp, int depth, size_t self, int is_obj)
{
    char close = is_obj ? '}' : ']';

    j_ws(jp);
    if (jp->p < jp->end && *jp->p == close) {
        jp->p++;
        return 0;
    }
    for (;;) {
        const char *key = NULL;
        size_t klen = 0, child;
        if (is_obj) {
            if (jp->p >= jp->end || *jp->p != '"' || j_string(jp, &key, &klen) < 0)
                return -1;
            j_ws(jp);
            if (jp->p >= jp->end || *jp->p != ':')
                return -1;
            jp->p++;
        }
        if (j_value(jp, depth + 1, &child) < 0)
            return -1;
        jp->v[child].key = key;
        jp->v[child].klen = klen;
        j_link(jp, self, child);
        j_ws(jp);
        if (jp->p >= jp->end)
            return -1;
        if (*jp->p == close) {
            jp->p++;
            return 0;
        }
        if (*jp->p != ',')
            return -1;
        jp->p++;
        j_ws(jp);
    }
}

static int
j_literal(struct tm_jparser *jp, const char *lit, size_t n)
{
    if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, lit, n) != 0)
        return -1;
    jp->p += n;
    return 0;
}

/*
 * j_value - parse one value. Recursion is bounded by TM_JREAD_MAX_DEPTH, so a
 * line of a million '[' costs 64 stack frames and is then a bad line.
 */
static int
j_value(struct tm_jparser *jp, int depth, size_t *out)
{
    char c;

    if (depth > TM_JREAD_MAX_DEPTH)
        return -1;
    j_ws(jp);
    if (jp->p >= jp->end)
        return -1;
    c = *jp->p;
    if (c == '{' || c == '[') {
        if (j_node(jp, c == '{' ? TM_J_OBJ : TM_J_ARR, out) < 0)
            return -1;
        jp->p++;
        return j_container(jp, depth, *out, c == '{');
    }
    if (c == '"') {
        const char *s;
        size_t len;
        if (j_string(jp, &s, &len) < 0 || j_node(jp, TM_J_STR, out) < 0)
            return -1;
        jp->v[*out].s = s;
        jp->v[*out].slen = len;
        return 0;
    }
    if (c == 't')
        return j_literal(jp, "true", 4) < 0 ? -1 : j_node(jp, TM_J_TRUE, out);
    if (c == 'f')
        return j_literal(jp, "false", 5) < 0 ? -1 : j_node(jp, TM_J_FALSE, out);
    if (c == 'n')
        return j_literal(jp, "null", 4) < 0 ? -1 : j_node(jp, TM_J_NULL, out);
    {
        double d;
        if (j_number(jp, &d) < 0 || j_node(jp, TM_J_NUM, out) < 0)
            return -1;
        jp->v[*out].num = d;
        return 0;
    }
}

/* tm_jparse - parse a whole document (modified in place); the root index or TM_JNONE */
size_t
tm_jparse(struct tm_jparser *jp, char *p, size_t len)
{
    size_t root;

    jp->p = p;
    jp->end = p + len;
    jp->n = 0;
    if (j_value(jp, 1, &root) < 0)
        return TM_JNONE;
    j_ws(jp);
    return jp->p == jp->end ? root : TM_JNONE;
}

/* tm_jget - member `key` of object `obj`, or TM_JNONE */
size_t
tm_jget(const struct tm_jparser *jp, size_t obj, const char *key)
{
    size_t i, n = strlen(key);

    if (obj == TM_JNONE || jp->v[obj].t != TM_J_OBJ)
        return TM_JNONE;
    for (i = jp->v[obj].first; i != TM_JNONE; i = jp->v[i].next)
        if (jp->v[i].klen == n && memcmp(jp->v[i].key, key, n) == 0)
            return i;
    return TM_JNONE;
}

int
tm_jis(const struct tm_jparser *jp, size_t i, enum tm_jtype t)
{
    return i != TM_JNONE && jp->v[i].t == t;
}

int
tm_jstreq(const struct tm_jparser *jp, size_t i, const char *s)
{
    size_t n = strlen(s);

    return tm_jis(jp, i, TM_J_STR) && jp->v[i].slen == n && memcmp(jp->v[i].s, s, n) == 0;
}
