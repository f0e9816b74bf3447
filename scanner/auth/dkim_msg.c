/*
 * dkim_msg.c - the raw header-field splitter of DKIM and ARC.
 *
 * Canonicalisation needs each field exactly as it came, folding and all,
 * so this works on the raw bytes and not on the MIME parser's view. Mail
 * stored with LF line ends is made CRLF first, as dkimpy and OpenDKIM do,
 * so that signatures made on the wire still verify.
 */
#include <string.h>

#include "auth/dkim_int.h"
#include "core/arena.h"
#include "core/str.h"

static int
is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* to_crlf - the message with every bare LF made CRLF (msg itself when there is none) */
static const unsigned char *
to_crlf(struct tm_arena *a, const unsigned char *msg, size_t len, size_t *outlen)
{
    size_t i, bare = 0, o;
    unsigned char *d;

    for (i = 0; i < len; i++)
        if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
            bare++;
    *outlen = len;
    if (bare == 0)
        return msg;
    if (bare > SIZE_MAX - len || (d = tm_arena_alloc(a, len + bare)) == NULL)
        return NULL;
    for (i = 0, o = 0; i < len; i++) {
        if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
            d[o++] = '\r';
        d[o++] = msg[i];
    }
    *outlen = o;
    return d;
}

/* line_end - the offset just past the LF ending the line at pos, or len */
static size_t
line_end(const unsigned char *p, size_t len, size_t pos)
{
    const unsigned char *nl = memchr(p + pos, '\n', len - pos);

    return nl == NULL ? len : (size_t)(nl - p) + 1;
}

/* field_name - fill namelen and valoff from the field's first colon */
static void
field_name(struct dkim_field *f)
{
    const unsigned char *c = memchr(f->p, ':', f->len);
    size_t n, i;

    f->namelen = 0;
    f->valoff = f->len;
    if (c == NULL)
        return;
    n = (size_t)(c - f->p);
    f->valoff = n + 1;
    while (n > 0 && is_wsp(f->p[n - 1]))
        n--;
    for (i = 0; i < n; i++)
        if (f->p[i] <= ' ' || f->p[i] >= 0x7f)
            return; /* not a field name: never matches */
    f->namelen = n;
}

/*
 * dkim_msg_parse - two passes over the header: count the fields (so the
 * array is allocated once, at most max_fields long), then record them.
 * The header ends at the first empty line; without one it is all header.
 */
tm_rc
dkim_msg_parse(struct tm_arena *a, const unsigned char *msg, size_t len, size_t max_fields,
               struct dkim_msg *m)
{
    const unsigned char *p;
    size_t pos, n, count = 0, hdr_end, body;

    memset(m, 0, sizeof(*m));
    if ((p = to_crlf(a, msg, len, &len)) == NULL)
        return TM_ENOMEM;
    m->buf = p;
    m->len = len;
    /* pass 1: where the header ends, and how many fields start in it */
    pos = 0;
    while (pos < len) {
        if (p[pos] == '\r' && pos + 1 < len && p[pos + 1] == '\n')
            break;
        if (!is_wsp(p[pos]) || pos == 0)
            count++;
        pos = line_end(p, len, pos);
    }
    hdr_end = pos;
    body = pos < len ? pos + 2 : len;
    m->body = p + body;
    m->bodylen = len - body;
    n = count < max_fields ? count : max_fields;
    m->nf_dropped = count - n;
    if (n == 0)
        return TM_OK;
    if ((m->f = tm_arena_calloc(a, n, sizeof(*m->f))) == NULL)
        return TM_ENOMEM;
    /* pass 2: a field runs from a line not starting with WSP to the next one */
    pos = 0;
    while (pos < hdr_end && m->nf < n) {
        size_t start = pos;

        pos = line_end(p, hdr_end, pos);
        while (pos < hdr_end && is_wsp(p[pos]))
            pos = line_end(p, hdr_end, pos);
        m->f[m->nf].p = p + start;
        m->f[m->nf].len = pos - start;
        field_name(&m->f[m->nf]);
        m->nf++;
    }
    return TM_OK;
}

int
dkim_field_name_eq(const struct dkim_field *f, const unsigned char *name, size_t n)
{
    return n > 0 && f->namelen == n && tm_mem_ieq(f->p, name, n);
}

int
dkim_field_is(const struct dkim_field *f, const char *name)
{
    return dkim_field_name_eq(f, (const unsigned char *)name, strlen(name));
}

size_t
dkim_field_value_len(const struct dkim_field *f)
{
    size_t end = f->len;

    if (end >= 2 && f->p[end - 2] == '\r' && f->p[end - 1] == '\n')
        end -= 2;
    return end > f->valoff ? end - f->valoff : 0;
}
