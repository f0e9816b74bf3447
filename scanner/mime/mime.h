/*
 * mime.h - the message as a tree of parts (RFC 5322, RFC 2045-2049).
 *
 * tm_mime_parse() walks the raw bytes once, line by line, keeping the open
 * multipart boundaries on an explicit stack bounded by mime_max_depth (no
 * recursion on input depth). Header names and raw values are views into the
 * message; transfer-decoded leaf bodies are written to the task arena.
 * message/rfc822 (and message/global) parts are parsed as inner messages; if
 * such a part is itself base64 or QP encoded, it is decoded first and parsed
 * from the decoded bytes (queued, not recursive).
 */
#ifndef TM_MIME_MIME_H
#define TM_MIME_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "core/str.h"

struct tm_task;
struct tm_params;

enum tm_cte {
    TM_CTE_7BIT,
    TM_CTE_8BIT,
    TM_CTE_BINARY,
    TM_CTE_BASE64,
    TM_CTE_QP,
    TM_CTE_UUENCODE,
    TM_CTE_UNKNOWN, /* unrecognised value: body taken as is (RFC 2049 2(6)) */
};

struct tm_mime_header {
    struct tm_str name;  /* field name as written, without the colon */
    struct tm_str value; /* raw value after the colon: folding kept, final EOL dropped */
};

struct tm_mime_uu {
    const char *filename; /* UTF-8, from the begin line */
    unsigned mode;
    const unsigned char *data;
    size_t len;
    unsigned char sha256[32];
};

struct tm_mime_part {
    struct tm_mime_part *parent;
    struct tm_mime_part *first_child;
    struct tm_mime_part *last_child;
    struct tm_mime_part *next; /* next sibling */
    unsigned depth;            /* root is 0 */
    unsigned nchildren;

    struct tm_mime_header *hdrs; /* in message order */
    size_t nhdrs;
    struct tm_str header_block; /* the raw header section (for `full`/`:raw` rules) */

    const char *content_type; /* "type/subtype", lower-case, defaults applied */
    const char *charset;      /* lower-case or NULL */
    const char *filename;     /* UTF-8 (Content-Disposition filename, else Content-Type name) */
    const char *disposition;  /* "inline", "attachment", ... lower-case, or NULL */
    const char *cte_name;     /* lower-case Content-Transfer-Encoding as given, or NULL */
    enum tm_cte cte;
    const char *boundary;       /* multipart only */
    struct tm_params *ct_params; /* all Content-Type parameters */

    unsigned is_multipart : 1;
    unsigned is_message : 1;   /* message/rfc822 or message/global parsed as inner message */
    unsigned ct_defaulted : 1; /* no or bad Content-Type; default applied */

    struct tm_str body; /* raw (transfer-encoded) body bytes; for a multipart, the whole body */
    struct tm_str preamble, epilogue; /* multipart only */
    const unsigned char *decoded; /* leaves: transfer-decoded bytes (arena or view) */
    size_t decoded_len;
    unsigned char sha256[32]; /* of decoded, leaves only */
    struct tm_mime_uu *uu;    /* uuencoded blocks found inside a text leaf */
    size_t nuu;
};

struct tm_mime_msg {
    struct tm_str raw;           /* the message as given (after message_max_size) */
    struct tm_str envelope_from; /* mbox "From " line without EOL, if any */
    struct tm_mime_part *root;
    size_t nparts;
    unsigned max_depth_seen;
};

/*
 * tm_mime_parse - parse `p` into task->msg. The bytes must outlive the task.
 * Hostile input never fails: it records findings. Returns TM_ENOMEM when the
 * arena budget ran out (the tree built so far stays usable).
 */
tm_rc tm_mime_parse(struct tm_task *task, const unsigned char *p, size_t len);

/* tm_mime_header_find - the idx-th (0-based) header named `name` (any case), or NULL */
const struct tm_mime_header *tm_mime_header_find(const struct tm_mime_part *part, const char *name,
                                                 size_t idx);

/*
 * tm_mime_header_decode - unfold and RFC 2047-decode a header value to
 * NUL-terminated UTF-8 in the task arena, leading and trailing whitespace
 * trimmed. Records MIME_BAD_2047 / MIME_BAD_CHARSET findings.
 */
tm_rc tm_mime_header_decode(struct tm_task *task, const struct tm_mime_header *h, const char **out,
                            size_t *outlen);

/* tm_mime_root_header - the decoded value of the message's first `name` header, or NULL */
const char *tm_mime_root_header(struct tm_task *t, const char *name);

/* tm_mime_part_path - write the part's path ("1", "1.2", ...) into buf */
size_t tm_mime_part_path(const struct tm_mime_part *part, char *buf, size_t buflen);

/* tm_mime_next - depth-first pre-order successor of part, or NULL */
const struct tm_mime_part *tm_mime_next(const struct tm_mime_part *part);

/* tm_mime_assert_invariants - abort if the tree breaks its invariants (fuzzing) */
void tm_mime_assert_invariants(const struct tm_task *task);

#endif
