/*
 * dkim_canon.c - the canonicalisations of RFC 6376 section 3.4, streamed
 * into a sink (the hash, or a buffer in tests). Input has CRLF line ends
 * (dkim_msg_parse made them so).
 */
#include <string.h>

#include "auth/dkim_int.h"
#include "core/str.h"

static int
is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static const unsigned char crlf[2] = {'\r', '\n'};
static const unsigned char sp[1] = {' '};

/* strip_crlf - the length of f without one final CRLF */
static size_t
strip_crlf(const unsigned char *f, size_t len)
{
    if (len >= 2 && f[len - 2] == '\r' && f[len - 1] == '\n')
        return len - 2;
    return len;
}

/*
 * relaxed_value - 3.4.2 on a value: unfold (drop each CRLF), every WSP run
 * one SP, none at the start or the end. Runs of ordinary bytes are passed
 * on in one piece.
 */
static void
relaxed_value(const unsigned char *v, size_t len, dkim_put_fn put, void *ud)
{
    size_t i = 0, run;
    int pending = 0, any = 0;

    while (i < len) {
        if (v[i] == '\r' && i + 1 < len && v[i + 1] == '\n') {
            i += 2;
            continue;
        }
        if (is_wsp(v[i])) {
            pending = 1;
            i++;
            continue;
        }
        if (pending && any)
            put(ud, sp, 1);
        pending = 0;
        any = 1;
        run = i;
        while (i < len && !is_wsp(v[i]) && !(v[i] == '\r' && i + 1 < len && v[i + 1] == '\n'))
            i++;
        put(ud, v + run, i - run);
    }
}

/*
 * dkim_canon_header - simple: the field unchanged. relaxed: the name in
 * lower case, no WSP around the colon, the value as relaxed_value makes it.
 */
void
dkim_canon_header(enum tm_dkim_canon c, const unsigned char *f, size_t len, int crlf_after,
                  dkim_put_fn put, void *ud)
{
    const unsigned char *colon;
    size_t n, i, name;
    unsigned char low[64];

    len = strip_crlf(f, len);
    if (c == TM_DKIM_SIMPLE) {
        put(ud, f, len);
    } else {
        colon = memchr(f, ':', len);
        name = colon != NULL ? (size_t)(colon - f) : len;
        n = name;
        while (n > 0 && is_wsp(f[n - 1]))
            n--;
        for (i = 0; i < n;) {
            size_t k;

            for (k = 0; k < sizeof(low) && i < n; k++, i++)
                low[k] = tm_lower(f[i]);
            put(ud, low, k);
        }
        if (colon != NULL) {
            put(ud, (const unsigned char *)":", 1);
            relaxed_value(f + name + 1, len - name - 1, put, ud);
        }
    }
    if (crlf_after)
        put(ud, crlf, 2);
}

/* simple_body - 3.4.3: trailing empty lines dropped, one CRLF at the end (or only CRLF) */
static uint64_t
simple_body(const unsigned char *b, size_t len, dkim_put_fn put, void *ud)
{
    while (len >= 2 && b[len - 2] == '\r' && b[len - 1] == '\n')
        len -= 2;
    if (len > 0)
        put(ud, b, len);
    put(ud, crlf, 2);
    return (uint64_t)len + 2;
}

/*
 * relaxed_body - 3.4.4: per line, WSP runs become one SP (leading ones
 * too, unlike in header values) and trailing WSP goes; empty lines are held back and only written when a non-empty line
 * follows, so the trailing ones vanish. A last line without CRLF gets one.
 * An empty body stays empty (RFC 6376 erratum 3133).
 */
static uint64_t
relaxed_body(const unsigned char *b, size_t len, dkim_put_fn put, void *ud)
{
    size_t pos = 0, held = 0;
    uint64_t total = 0;

    while (pos < len) {
        const unsigned char *nl = memchr(b + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - b) : len, next = nl != NULL ? end + 1 : len;
        size_t i, run;
        int pending = 0, any = 0;

        if (nl != NULL && end > pos && b[end - 1] == '\r')
            end--;
        for (i = pos; i < end;) {
            if (is_wsp(b[i])) {
                pending = 1;
                i++;
                continue;
            }
            if (!any) {
                for (; held > 0; held--) {
                    put(ud, crlf, 2);
                    total += 2;
                }
            }
            if (pending) { /* a run before the first byte too: " C " is " C" */
                put(ud, sp, 1);
                total++;
            }
            pending = 0;
            any = 1;
            run = i;
            while (i < end && !is_wsp(b[i]))
                i++;
            put(ud, b + run, i - run);
            total += i - run;
        }
        if (any) {
            put(ud, crlf, 2);
            total += 2;
        } else {
            held++;
        }
        pos = next;
    }
    return total;
}

uint64_t
dkim_canon_body(enum tm_dkim_canon c, const unsigned char *b, size_t len, dkim_put_fn put, void *ud)
{
    return c == TM_DKIM_SIMPLE ? simple_body(b, len, put, ud) : relaxed_body(b, len, put, ud);
}
