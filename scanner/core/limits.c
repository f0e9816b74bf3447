/*
 * limits.c - the table of bounds on untrusted input. Defaults are sized for
 * a relay: generous for real mail (a 64 MiB message, 100 levels of nesting is
 * never legitimate, 10k parts is far above what mail clients produce) while
 * keeping a single hostile message's cost bounded.
 */
#include "core/limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIM(field, def, min, max, doc)                                                             \
    {#field, (def), (min), (max), offsetof(struct tm_limits, field), (doc)}

const struct tm_limit_def tm_limit_table[] = {
    LIM(message_max_size, 64u << 20, 1024, (size_t)1 << 32, "raw message bytes looked at"),
    LIM(mime_max_depth, 32, 1, 1000, "nesting of multiparts and inner messages"),
    LIM(mime_max_parts, 4096, 1, 1000000, "MIME nodes per message"),
    LIM(mime_max_headers, 1000, 1, 100000, "header fields per part"),
    LIM(header_max_len, 64u << 10, 78, 16u << 20, "bytes of one folded header field"),
    LIM(mime_max_boundary_len, 256, 70, 4096, "bytes of a multipart boundary"),
    LIM(mime_max_decoded_size, 256u << 20, 1024, (size_t)1 << 34,
        "transfer-decoded bytes per message"),
    LIM(mime_max_params, 64, 1, 10000, "parameters in one structured header"),
    LIM(mime_max_uu_blocks, 64, 0, 10000, "uuencoded blocks inside text parts"),
    LIM(mime_max_encoded_words, 256, 1, 100000, "RFC 2047 words decoded per header"),
    LIM(task_arena_budget, 1024u << 20, 64u << 10, (size_t)1 << 36, "bytes a task arena may hold"),
    LIM(text_max_body, 32u << 20, 1024, (size_t)1 << 32, "body/rawbody text bytes per message"),
    LIM(text_max_body_part, 50000, 0, (size_t)1 << 30,
        "rendered chars per part for body rules (SpamAssassin body_part_scan_size; 0: all)"),
    LIM(text_max_rawbody_part, 500000, 0, (size_t)1 << 30,
        "decoded bytes per part for rawbody rules (SpamAssassin rawbody_part_scan_size; 0: all)"),
    LIM(text_max_pieces, 200000, 16, 100000000, "lines or paragraphs in one rule target"),
    LIM(text_max_uris, 10000, 1, 1000000, "URLs collected per message"),
    LIM(text_max_uri_len, 8192, 64, 1u << 20, "bytes of one URL"),
    LIM(html_max_nodes, 100000, 16, 100000000, "HTML elements parsed per part; parsing stops there"),
    LIM(html_max_depth, 256, 8, 10000, "HTML element nesting followed per part"),
    LIM(av_max_filesize, 25u << 20, 1024, (size_t)4 << 30,
        "bytes of one file inside an attachment that ClamAV scans"),
    LIM(av_max_scansize, 100u << 20, 1024, (size_t)4 << 30,
        "bytes ClamAV scans per attachment, unpacked files together"),
    LIM(av_max_recursion, 17, 1, 100, "archive nesting ClamAV follows (libclamav's default)"),
    LIM(av_max_files, 10000, 1, 1000000, "files ClamAV unpacks per attachment"),
    LIM(av_max_scantime, 120000, 100, 3600000, "milliseconds ClamAV spends per attachment"),
};
const size_t tm_limit_count = sizeof(tm_limit_table) / sizeof(tm_limit_table[0]);

struct tm_limits
tm_limits_default(void)
{
    struct tm_limits l;
    size_t i;

    memset(&l, 0, sizeof(l));
    for (i = 0; i < tm_limit_count; i++)
        *(size_t *)(void *)((char *)&l + tm_limit_table[i].offset) = tm_limit_table[i].def;
    return l;
}

size_t
tm_limits_get(const struct tm_limits *l, const struct tm_limit_def *d)
{
    return *(const size_t *)(const void *)((const char *)l + d->offset);
}

/* parse_size - decimal with an optional k/m/g (binary) suffix; 0 on success */
static int
parse_size(const char *s, size_t *out)
{
    unsigned long long v, mul = 1;
    char *end;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0)
        return -1;
    if (*end == 'k' || *end == 'K')
        mul = 1024ull, end++;
    else if (*end == 'm' || *end == 'M')
        mul = 1024ull * 1024, end++;
    else if (*end == 'g' || *end == 'G')
        mul = 1024ull * 1024 * 1024, end++;
    if (*end != '\0' || v > (unsigned long long)SIZE_MAX / mul)
        return -1;
    *out = (size_t)(v * mul);
    return 0;
}

tm_rc
tm_limits_set(struct tm_limits *l, const char *name, const char *value, char *err, size_t errlen)
{
    size_t i, v;

    for (i = 0; i < tm_limit_count; i++) {
        const struct tm_limit_def *d = &tm_limit_table[i];
        if (strcmp(d->name, name) != 0)
            continue;
        if (parse_size(value, &v) != 0) {
            snprintf(err, errlen, "%s: not a size: \"%.40s\"", name, value);
            return TM_EINVAL;
        }
        if (v < d->min || v > d->max) {
            snprintf(err, errlen, "%s: %zu is out of range [%zu, %zu]", name, v, d->min, d->max);
            return TM_EINVAL;
        }
        *(size_t *)(void *)((char *)l + d->offset) = v;
        return TM_OK;
    }
    snprintf(err, errlen, "unknown setting \"%.40s\"", name);
    return TM_EINVAL;
}
