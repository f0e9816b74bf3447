/*
 * charset.c - declared charset -> UTF-8 (RFC 2046 4.1.2, RFC 2047 section 3).
 *
 * us-ascii, utf-8 and iso-8859-1 are converted here without iconv (they are
 * most of all mail); everything else goes through glibc iconv with a small
 * per-thread cache of descriptors, because iconv_open costs microseconds and
 * a header-heavy message asks for the same charset dozens of times. Invalid
 * sequences become U+FFFD; an unknown charset falls back to UTF-8 when the
 * bytes are valid UTF-8, else windows-1252, as mail readers do.
 */
#include "mime/charset.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/str.h"

#define CS_NAME_MAX   40
#define CS_CACHE_SIZE 8

struct cs_cache_ent {
    char name[CS_NAME_MAX];
    iconv_t cd; /* (iconv_t)-1 caches "unknown" too */
};

static _Thread_local struct cs_cache_ent cs_cache[CS_CACHE_SIZE];
static _Thread_local unsigned cs_cache_next;

static const unsigned char utf8_fffd[3] = {0xEF, 0xBF, 0xBD};

/* windows-1252 0x80-0x9F as Unicode code points (0 = undefined) */
static const unsigned short cp1252_c1[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

/*
 * tm_utf8_valid - strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF),
 * with an ASCII fast path eight bytes at a time.
 */
int
tm_utf8_valid(const unsigned char *p, size_t len)
{
    const unsigned char *end;

    if (len == 0)
        return 1;
    end = p + len;
    while (p < end) {
        if (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if ((w & 0x8080808080808080ull) == 0) {
                p += 8;
                continue;
            }
        }
        if (*p < 0x80) {
            p++;
        } else if (*p >= 0xC2 && *p <= 0xDF) {
            if (end - p < 2 || (p[1] & 0xC0) != 0x80)
                return 0;
            p += 2;
        } else if (*p >= 0xE0 && *p <= 0xEF) {
            if (end - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
                return 0;
            if (*p == 0xE0 && p[1] < 0xA0)
                return 0;
            if (*p == 0xED && p[1] >= 0xA0)
                return 0;
            p += 3;
        } else if (*p >= 0xF0 && *p <= 0xF4) {
            if (end - p < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
                (p[3] & 0xC0) != 0x80)
                return 0;
            if (*p == 0xF0 && p[1] < 0x90)
                return 0;
            if (*p == 0xF4 && p[1] >= 0x90)
                return 0;
            p += 4;
        } else {
            return 0;
        }
    }
    return 1;
}

/* tm_utf8_put - append code point cp (below 0x110000) as UTF-8 */
tm_rc
tm_utf8_put(struct tm_buf *b, unsigned long cp)
{
    unsigned char u[4];
    size_t n;

    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | (cp >> 6));
        u[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | (cp >> 12));
        u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (unsigned char)(0xF0 | (cp >> 18));
        u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return tm_buf_append(b, u, n);
}

/* single_byte - latin-1 (cp1252 = 0 ) or windows-1252 (cp1252 = 1) to UTF-8 */
static tm_rc
single_byte(const unsigned char *in, size_t len, int cp1252, struct tm_buf *out, int *bad)
{
    size_t i, run = 0;
    tm_rc rc;

    for (i = 0; i < len; i++) {
        unsigned cp = in[i];
        if (cp < 0x80)
            continue;
        if (i > run && (rc = tm_buf_append(out, in + run, i - run)) != TM_OK)
            return rc;
        run = i + 1;
        if (cp1252 && cp < 0xA0) {
            cp = cp1252_c1[cp - 0x80];
            if (cp == 0) {
                *bad = 1;
                cp = 0xFFFD;
            }
        }
        if ((rc = tm_utf8_put(out, cp)) != TM_OK)
            return rc;
    }
    return len > run ? tm_buf_append(out, in + run, len - run) : TM_OK;
}

/* utf8_lossy - copy UTF-8, replacing each invalid byte with U+FFFD */
static tm_rc
utf8_lossy(const unsigned char *in, size_t len, struct tm_buf *out, int *bad)
{
    size_t i = 0, run = 0;
    tm_rc rc;

    while (i < len) {
        size_t n;
        if (in[i] < 0x80) {
            i++;
            continue;
        }
        n = (in[i] >= 0xC2 && in[i] <= 0xDF) ? 2 : (in[i] >= 0xE0 && in[i] <= 0xEF) ? 3
            : (in[i] >= 0xF0 && in[i] <= 0xF4)                                       ? 4
                                                                                     : 0;
        if (n != 0 && len - i >= n && tm_utf8_valid(in + i, n)) {
            i += n;
            continue;
        }
        if ((rc = tm_buf_append(out, in + run, i - run)) != TM_OK)
            return rc;
        if ((rc = tm_buf_append(out, utf8_fffd, 3)) != TM_OK)
            return rc;
        *bad = 1;
        i++;
        run = i;
    }
    return tm_buf_append(out, in + run, len - run);
}

/* norm_name - lower-case, trimmed, quotes dropped; 0 if too long or empty */
static size_t
norm_name(const char *cs, size_t n, char *out)
{
    size_t i, k = 0;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)cs[i];
        if (c == '"' || c == '\'' || c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c < 0x21 || c > 0x7E || k + 1 >= CS_NAME_MAX)
            return 0;
        out[k++] = (char)tm_lower(c);
    }
    out[k] = '\0';
    return k;
}

static const struct {
    const char *alias;
    const char *name;
} cs_aliases[] = {
    {"ks_c_5601-1987", "CP949"}, {"ks_c_5601", "CP949"},   {"x-sjis", "SHIFT_JIS"},
    {"x-gbk", "GBK"},            {"gb2312", "GB18030"},    {"gbk", "GB18030"},
    {"x-euc-jp", "EUC-JP"},      {"x-user-defined", "WINDOWS-1252"},
    {"unicode-1-1-utf-7", "UTF-7"}, {"x-unknown", "WINDOWS-1252"},
    {"iso-8859-8-i", "ISO-8859-8"}, {"tis-620", "CP874"},
};

static iconv_t
cs_open(const char *name)
{
    size_t i;
    const char *target = name;
    iconv_t cd;

    for (i = 0; i < CS_CACHE_SIZE; i++)
        if (cs_cache[i].name[0] != '\0' && strcmp(cs_cache[i].name, name) == 0)
            return cs_cache[i].cd;
    for (i = 0; i < sizeof(cs_aliases) / sizeof(cs_aliases[0]); i++)
        if (strcmp(cs_aliases[i].alias, name) == 0)
            target = cs_aliases[i].name;
    cd = iconv_open("UTF-8", target);
    i = cs_cache_next++ % CS_CACHE_SIZE;
    if (cs_cache[i].name[0] != '\0' && cs_cache[i].cd != (iconv_t)-1)
        iconv_close(cs_cache[i].cd);
    memcpy(cs_cache[i].name, name, strlen(name) + 1);
    cs_cache[i].cd = cd;
    return cd;
}

void
tm_charset_cache_clear(void)
{
    size_t i;

    for (i = 0; i < CS_CACHE_SIZE; i++) {
        if (cs_cache[i].name[0] != '\0' && cs_cache[i].cd != (iconv_t)-1)
            iconv_close(cs_cache[i].cd);
        cs_cache[i].name[0] = '\0';
    }
}

/* via_iconv - convert with replacement of invalid or incomplete input */
static tm_rc
via_iconv(iconv_t cd, const unsigned char *in, size_t len, struct tm_buf *out, int *bad)
{
    char *ip = (char *)(uintptr_t)in;
    size_t il = len;
    tm_rc rc;

    iconv(cd, NULL, NULL, NULL, NULL);
    while (il > 0) {
        size_t room = il * 4 + 16, ol;
        unsigned char *o = tm_buf_reserve(out, room, &rc);
        char *op;
        size_t r;
        if (o == NULL) {
            /* Near the cap: ask for what is left and let iconv stop short. */
            room = out->max - out->len;
            if (room == 0 || (o = tm_buf_reserve(out, room, &rc)) == NULL)
                return rc == TM_OK ? TM_ELIMIT : rc;
        }
        op = (char *)o;
        ol = room;
        r = iconv(cd, &ip, &il, &op, &ol);
        out->len += room - ol;
        if (r != (size_t)-1)
            break;
        if (errno == E2BIG) {
            if (room - ol == 0)
                return TM_ELIMIT;
            continue;
        }
        /* EILSEQ or EINVAL: one replacement character per bad byte. */
        *bad = 1;
        if ((rc = tm_buf_append(out, utf8_fffd, 3)) != TM_OK)
            return rc;
        ip++;
        il--;
        iconv(cd, NULL, NULL, NULL, NULL);
    }
    /* Flush shift state (ISO-2022-JP). */
    {
        char tail[16], *op = tail;
        size_t ol = sizeof(tail);
        if (iconv(cd, NULL, NULL, &op, &ol) != (size_t)-1 && ol < sizeof(tail))
            return tm_buf_append(out, tail, sizeof(tail) - ol);
    }
    return TM_OK;
}

static int
all_ascii(const unsigned char *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (p[i] & 0x80)
            return 0;
    return 1;
}

tm_rc
tm_charset_to_utf8(const char *charset, size_t charset_len, const unsigned char *in, size_t len,
                   struct tm_buf *out, int *bad)
{
    char name[CS_NAME_MAX];
    size_t n, start;
    iconv_t cd;
    tm_rc rc;

    if (len == 0)
        return TM_OK;
    n = charset ? norm_name(charset, charset_len, name) : 0;

    if (n == 0 || strcmp(name, "us-ascii") == 0 || strcmp(name, "ascii") == 0 ||
        strcmp(name, "utf-8") == 0 || strcmp(name, "utf8") == 0 ||
        strcmp(name, "ansi_x3.4-1968") == 0) {
        if (all_ascii(in, len) || tm_utf8_valid(in, len))
            return tm_buf_append(out, in, len);
        if (n > 0 && (name[0] == 'u'))
            return utf8_lossy(in, len, out, bad);
        /* Undeclared or "ascii" 8-bit text is almost always windows-1252. */
        return single_byte(in, len, 1, out, bad);
    }
    if (strcmp(name, "iso-8859-1") == 0 || strcmp(name, "latin1") == 0 ||
        strcmp(name, "latin-1") == 0 || strcmp(name, "l1") == 0)
        return single_byte(in, len, 0, out, bad);
    if (strcmp(name, "windows-1252") == 0 || strcmp(name, "cp1252") == 0)
        return single_byte(in, len, 1, out, bad);
    cd = cs_open(name); /* cached: an unknown name is looked up once per thread */
    if (cd == (iconv_t)-1) {
        *bad = 1;
        if (tm_utf8_valid(in, len))
            return tm_buf_append(out, in, len);
        return single_byte(in, len, 1, out, bad);
    }
    /* ASCII-compatible charsets map ASCII to itself: skip iconv. */
    if (all_ascii(in, len) && strncmp(name, "utf-16", 6) != 0 && strncmp(name, "utf-32", 6) != 0 &&
        strncmp(name, "utf-7", 5) != 0 && strncmp(name, "iso-2022", 8) != 0 &&
        strncmp(name, "ucs", 3) != 0 && strcmp(name, "hz-gb-2312") != 0)
        return tm_buf_append(out, in, len);
    start = out->len;
    if ((rc = via_iconv(cd, in, len, out, bad)) != TM_OK)
        return rc;
    /*
     * glibc's UTF-8 reader accepts the obsolete 5- and 6-byte forms, so a
     * charset that iconv maps to UTF-8 ("ut[f-8" normalises to UTF8) can pass
     * them through. The output must be UTF-8: re-check and repair.
     */
    if (!tm_utf8_valid(out->data + start, out->len - start)) {
        struct tm_buf tmp;
        tm_buf_init(&tmp, out->arena, out->len - start);
        if ((rc = tm_buf_append(&tmp, out->data + start, out->len - start)) != TM_OK)
            return rc;
        out->len = start;
        *bad = 1;
        return utf8_lossy(tmp.data, tmp.len, out, bad);
    }
    return TM_OK;
}
