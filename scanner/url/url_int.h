/*
 * url_int.h - helpers shared by the files of the url stage (not for other
 * modules): host normalisation, percent-decoding, UTF-8 decoding.
 */
#ifndef TM_URL_URL_INT_H
#define TM_URL_URL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "core/str.h"
#include "url/url.h"

struct tm_arena;

/* A normalised host: ASCII (punycode) and Unicode forms, NUL-terminated in the arena. */
struct tm_url_host {
    char *ascii;
    size_t len;
    char *utf8;
    size_t utf8_len;
    unsigned flags; /* IP, IP_OBFUSCATED, IPV6, IDN, HOST_PCT, MIXED_SCRIPT */
};

tm_rc tm_url_host_norm(struct tm_arena *a, const unsigned char *p, size_t n,
                       struct tm_url_host *out);
int tm_url_ipv4(const char *s, size_t n, uint32_t *addr);
long tm_url_pct_decode(const unsigned char *p, size_t n, unsigned char *out, int *had);
uint32_t tm_url_utf8_next(const unsigned char *s, size_t n, size_t *i);
/* tm_url_defang_at - length of a defanged dot ("[.]", "(dot)", ...) at p, else 0 */
size_t tm_url_defang_at(const unsigned char *p, size_t n);

/* tm_url_fullwidth_dot - length of a U+3002, U+FF0E or U+FF61 at s (dots as IDNA maps them), else 0 */
static inline size_t
tm_url_fullwidth_dot(const unsigned char *s, size_t n)
{
    if (n >= 3 && ((s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x82) ||
                   (s[0] == 0xef && s[1] == 0xbc && s[2] == 0x8e) ||
                   (s[0] == 0xef && s[1] == 0xbd && s[2] == 0xa1)))
        return 3;
    return 0;
}

#endif
