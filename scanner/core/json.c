/*
 * json.c - streaming JSON writer (RFC 8259). Engine-lifetime memory: the
 * buffer is malloc'd with tm_xrealloc, because output size is bounded by
 * what the task produced, not by untrusted input directly.
 */
#include "core/json.h"

#include <stdio.h>
#include <string.h>

#include "core/core.h"

void
tm_json_init(struct tm_json *j, int pretty)
{
    memset(j, 0, sizeof(*j));
    j->pretty = pretty;
}

void
tm_json_free(struct tm_json *j)
{
    tm_free(j->p);
    j->p = NULL;
    j->len = j->cap = 0;
}

static void
put(struct tm_json *j, const void *s, size_t n)
{
    if (j->p == NULL || n >= j->cap - j->len) {
        size_t cap = j->cap ? j->cap : 1024;
        while (cap - j->len < n + 1)
            cap *= 2;
        j->p = tm_xrealloc(j->p, cap);
        j->cap = cap;
    }
    memcpy(j->p + j->len, s, n);
    j->len += n;
}

static void
indent(struct tm_json *j)
{
    int i;

    if (!j->pretty)
        return;
    put(j, "\n", 1);
    for (i = 0; i < j->depth; i++)
        put(j, "  ", 2);
}

/* sep - comma and indentation before a value (not after a key) */
static void
sep(struct tm_json *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->depth > 0) {
        if (j->count[j->depth - 1])
            put(j, ",", 1);
        j->count[j->depth - 1] = 1;
        indent(j);
    }
}

static void
open_(struct tm_json *j, char c)
{
    sep(j);
    put(j, &c, 1);
    TM_ASSERT(j->depth < TM_JSON_MAX_DEPTH);
    j->count[j->depth++] = 0;
}

static void
close_(struct tm_json *j, char c)
{
    TM_ASSERT(j->depth > 0);
    j->depth--;
    if (j->count[j->depth])
        indent(j);
    put(j, &c, 1);
}

void
tm_json_obj(struct tm_json *j)
{
    open_(j, '{');
}

void
tm_json_arr(struct tm_json *j)
{
    open_(j, '[');
}

void
tm_json_end_obj(struct tm_json *j)
{
    close_(j, '}');
}

void
tm_json_end_arr(struct tm_json *j)
{
    close_(j, ']');
}

static void
escape(struct tm_json *j, const unsigned char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, run = 0;

    put(j, "\"", 1);
    while (i < n) {
        unsigned char c = s[i];
        size_t k = 0;
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            /* validate one UTF-8 sequence */
            size_t need = (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
                        : (c >= 0xF0 && c <= 0xF4)                                 ? 4
                                                                                   : 0;
            if (need && n - i >= need) {
                for (k = 1; k < need; k++)
                    if ((s[i + k] & 0xC0) != 0x80)
                        break;
                if (k == need && !(c == 0xE0 && s[i + 1] < 0xA0) &&
                    !(c == 0xED && s[i + 1] >= 0xA0) && !(c == 0xF0 && s[i + 1] < 0x90) &&
                    !(c == 0xF4 && s[i + 1] >= 0x90)) {
                    i += need;
                    continue;
                }
            }
            put(j, s + run, i - run);
            put(j, "\\ufffd", 6);
            i++;
            run = i;
            continue;
        }
        put(j, s + run, i - run);
        if (c == '"')
            put(j, "\\\"", 2);
        else if (c == '\\')
            put(j, "\\\\", 2);
        else if (c == '\n')
            put(j, "\\n", 2);
        else if (c == '\r')
            put(j, "\\r", 2);
        else if (c == '\t')
            put(j, "\\t", 2);
        else {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(j, u, 6);
        }
        i++;
        run = i;
    }
    put(j, s + run, n - run);
    put(j, "\"", 1);
}

void
tm_json_key(struct tm_json *j, const char *k)
{
    sep(j);
    escape(j, (const unsigned char *)k, strlen(k));
    put(j, j->pretty ? ": " : ":", j->pretty ? 2 : 1);
    j->after_key = 1;
}

void
tm_json_strn(struct tm_json *j, const void *s, size_t n)
{
    sep(j);
    escape(j, s, n);
}

void
tm_json_str(struct tm_json *j, const char *s)
{
    if (s == NULL)
        tm_json_null(j);
    else
        tm_json_strn(j, s, strlen(s));
}

void
tm_json_null(struct tm_json *j)
{
    sep(j);
    put(j, "null", 4);
}

void
tm_json_bool(struct tm_json *j, int v)
{
    sep(j);
    put(j, v ? "true" : "false", v ? 4 : 5);
}

void
tm_json_uint(struct tm_json *j, unsigned long long v)
{
    char b[32];
    int n = snprintf(b, sizeof(b), "%llu", v);

    sep(j);
    put(j, b, (size_t)n);
}

void
tm_json_double(struct tm_json *j, double v)
{
    char b[64];
    int n = snprintf(b, sizeof(b), "%.3f", v);

    sep(j);
    /* trim trailing zeros, keep one digit after the point */
    while (n > 2 && b[n - 1] == '0' && b[n - 2] != '.')
        n--;
    put(j, b, (size_t)n);
}

void
tm_json_number(struct tm_json *j, double v)
{
    char b[64];
    int n;

    if (v != v || v > 1e300 || v < -1e300) {
        tm_json_null(j);
        return;
    }
    n = snprintf(b, sizeof(b), "%.10g", v);
    sep(j);
    put(j, b, (size_t)n);
}

void
tm_json_raw(struct tm_json *j, const char *s)
{
    put(j, s, strlen(s));
}
