/*
 * limits.h - every bound that untrusted input can push against, in one table
 * of {name, default, min, max} (Redis's static_configs, Postfix's CONFIG
 * tables). Field names are <module>_max_<thing> and the config key is the same
 * name. Setting an unknown key or an out-of-range value is an error, never a
 * silent clamp.
 */
#ifndef TM_CORE_LIMITS_H
#define TM_CORE_LIMITS_H

#include <stddef.h>

#include "core/core.h"

struct tm_limits {
    size_t message_max_size;      /* bytes of raw message looked at */
    size_t mime_max_depth;        /* nesting of multipart and message/rfc822 */
    size_t mime_max_parts;        /* MIME nodes per message */
    size_t mime_max_headers;      /* header fields per part */
    size_t header_max_len;        /* bytes of one (folded) header field */
    size_t mime_max_boundary_len; /* RFC 2046 says 70; hostile mail sends more */
    size_t mime_max_decoded_size; /* decoded bytes per message, all parts together */
    size_t mime_max_params;       /* parameters in one Content-Type/-Disposition */
    size_t mime_max_uu_blocks;    /* uuencoded blocks found inside text parts */
    size_t mime_max_encoded_words; /* RFC 2047 words decoded per header */
    size_t task_arena_budget;     /* bytes a task arena may hold */
    size_t text_max_body;         /* bytes of body/rawbody text per message, all parts */
    size_t text_max_body_part;    /* rendered chars per part for body (SA body_part_scan_size) */
    size_t text_max_rawbody_part; /* decoded bytes per part for rawbody (SA rawbody_part_scan_size) */
    size_t text_max_pieces;       /* lines/paragraphs in one target */
    size_t text_max_uris;         /* URLs collected per message */
    size_t text_max_uri_len;      /* bytes of one URL */
    size_t html_max_nodes;        /* HTML elements parsed per part */
    size_t html_max_depth;        /* HTML element nesting followed per part */
    size_t av_max_filesize;       /* libclamav: bytes of one file inside an attachment */
    size_t av_max_scansize;       /* libclamav: bytes scanned per attachment */
    size_t av_max_recursion;      /* libclamav: archive nesting */
    size_t av_max_files;          /* libclamav: files per attachment */
    size_t av_max_scantime;       /* libclamav: milliseconds per attachment */
};

struct tm_limit_def {
    const char *name;
    size_t def;
    size_t min;
    size_t max;
    size_t offset;
    const char *doc;
};

extern const struct tm_limit_def tm_limit_table[];
extern const size_t tm_limit_count;

struct tm_limits tm_limits_default(void);
/* tm_limits_set - parse "value" (with optional k/m/g suffix) into the named limit */
tm_rc tm_limits_set(struct tm_limits *l, const char *name, const char *value, char *err,
                    size_t errlen);
size_t tm_limits_get(const struct tm_limits *l, const struct tm_limit_def *d);

#endif
