/*
 * str.h - byte-string views. A view points into bytes owned by someone else
 * (the raw message or a task arena) and is never NUL-terminated by contract.
 */
#ifndef TM_CORE_STR_H
#define TM_CORE_STR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct tm_str {
    const unsigned char *p;
    size_t len;
};

#define TM_STR_NULL ((struct tm_str){NULL, 0})
/* TM_STR_LIT - a view of a string literal, its length known at compile time
 * (an initializer: a table of literals compared by length first) */
#define TM_STR_LIT(s) {(const unsigned char *)(s), sizeof(s) - 1}

static inline struct tm_str
tm_str_make(const void *p, size_t len)
{
    struct tm_str s;

    s.p = (const unsigned char *)p;
    s.len = len;
    return s;
}

/* tm_get_be32 / tm_put_be32 - a 32-bit number in network byte order
 * (milter packets, DNS TTLs, the rule cache file) */
static inline uint32_t
tm_get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void
tm_put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static inline unsigned char
tm_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* tm_hexval - the value of a hex digit (either case), -1 when c is not one */
static inline int
tm_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tm_lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* tm_str_eq - byte equality of two views (an empty view's p may be NULL) */
static inline int
tm_str_eq(struct tm_str a, struct tm_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* tm_str_ieq - ASCII case-insensitive equality of a view and a C string */
int tm_str_ieq(struct tm_str s, const char *lit);
/* tm_mem_ieq - ASCII case-insensitive equality of two byte ranges of length n */
int tm_mem_ieq(const void *a, const void *b, size_t n);
/* tm_str_trim - drop leading and trailing space, tab, CR and LF */
struct tm_str tm_str_trim(struct tm_str s);

#endif
