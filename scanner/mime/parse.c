/*
 * parse.c - the MIME tree builder (RFC 5322 section 2-3, RFC 2045-2049).
 *
 * One pass over the bytes. Header sections are read line by line; bodies are
 * skipped with memchr looking for "--" at the start of a line, which is the
 * only place a boundary delimiter can be. The open multiparts live on an
 * explicit stack of at most mime_max_depth frames; a delimiter line matches
 * the innermost frame whose boundary it carries (RFC 2046 5.1.2: an outer
 * boundary ends every inner multipart left open, which records
 * MIME_MISSING_CLOSE). The line end before a delimiter belongs to the
 * delimiter (RFC 2046 5.1.1), so it is cut from the content before it.
 *
 * Line ends: CRLF, bare LF and bare CR are all accepted, as CPython and
 * Postfix accept them. Bounds: message_max_size, mime_max_depth (deeper
 * containers become leaves), mime_max_parts (further delimiters are treated
 * as text of the current part), mime_max_headers and header_max_len per part,
 * mime_max_decoded_size over the message. An encoded message/rfc822 part is
 * decoded and its bytes parsed afterwards from a queue, never recursively.
 *
 * Where the RFCs leave a choice, the choice of CPython's email package is
 * taken so that tests can compare trees: a multipart whose boundary never
 * appears is a leaf; several delimiter lines in a row open one part, not
 * empty ones; a line that is neither a header nor a continuation ends the
 * header section and starts the body.
 */
#include "mime/mime.h"

#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/task.h"
#include "mime/charset.h"
#include "mime/decode.h"
#include "mime/params.h"
#include "mime/rfc2047.h"

struct frame {
    struct tm_mime_part *mp; /* the multipart */
    const unsigned char *b;  /* its boundary */
    size_t blen;
};

struct pending_msg {
    struct pending_msg *next;
    struct tm_mime_part *part; /* the message/rfc822 part whose decoded body is parsed */
};

struct parser {
    struct tm_task *task;
    const struct tm_limits *lim;
    const unsigned char *buf; /* bytes being parsed (message or a decoded inner message) */
    size_t len;
    struct tm_mime_msg *msg;
    struct frame *frames; /* [0] is the outermost open multipart */
    size_t nframes;
    struct pending_msg *queue, *queue_tail;
    unsigned eol_seen; /* 1 = CRLF, 2 = LF, 4 = CR */
    int out_of_memory;
};

struct line {
    size_t start;   /* first byte */
    size_t cend;    /* end of content (before EOL) */
    size_t end;     /* after EOL */
};

/* next_line - the line starting at `pos` (pos < len) */
static inline void
next_line(struct parser *ps, size_t pos, struct line *ln)
{
    const unsigned char *b = ps->buf, *nl, *cr;
    size_t len = ps->len;

    ln->start = pos;
    nl = memchr(b + pos, '\n', len - pos);
    cr = memchr(b + pos, '\r', (size_t)((nl ? nl : b + len) - (b + pos)));
    if (cr != NULL) {
        ln->cend = (size_t)(cr - b);
        if (cr + 1 < b + len && cr[1] == '\n') {
            ln->end = ln->cend + 2;
            ps->eol_seen |= 1;
        } else {
            ln->end = ln->cend + 1;
            ps->eol_seen |= 4;
        }
    } else if (nl != NULL) {
        ln->cend = (size_t)(nl - b);
        ln->end = ln->cend + 1;
        ps->eol_seen |= 2;
    } else {
        ln->cend = len;
        ln->end = len;
    }
}

/* strip_eol - the end of content that precedes a delimiter line at `at` */
static inline size_t
strip_eol(const unsigned char *b, size_t start, size_t at)
{
    if (at > start && b[at - 1] == '\n') {
        at--;
        if (at > start && b[at - 1] == '\r')
            at--;
    } else if (at > start && b[at - 1] == '\r') {
        at--;
    }
    return at;
}

static void
oom(struct parser *ps)
{
    ps->out_of_memory = 1;
    tm_task_fail(ps->task, TM_ENOMEM);
}

static struct tm_mime_part *
new_part(struct parser *ps, struct tm_mime_part *parent)
{
    struct tm_mime_part *p = tm_arena_calloc(ps->task->arena, 1, sizeof(*p));

    if (p == NULL) {
        oom(ps);
        return NULL;
    }
    p->parent = parent;
    if (parent != NULL) {
        p->depth = parent->depth + 1;
        if (parent->last_child != NULL)
            parent->last_child->next = p;
        else
            parent->first_child = p;
        parent->last_child = p;
        parent->nchildren++;
    }
    ps->msg->nparts++;
    if (p->depth > ps->msg->max_depth_seen)
        ps->msg->max_depth_seen = p->depth;
    return p;
}

static int
is_ftext(unsigned char c)
{
    return c >= 33 && c <= 126 && c != ':';
}

/*
 * add_header - append a field to the part. The array grows geometrically in
 * the arena; past mime_max_headers fields are dropped with a finding.
 */
static void
add_header(struct parser *ps, struct tm_mime_part *part, size_t *cap, struct tm_str name,
           struct tm_str value)
{
    struct tm_mime_header *h;

    if (part->nhdrs >= ps->lim->mime_max_headers) {
        if (part->nhdrs == ps->lim->mime_max_headers)
            tm_task_finding(ps->task, TM_F_MIME_LIMIT_HEADERS);
        return;
    }
    if (part->nhdrs == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        if (ncap > ps->lim->mime_max_headers)
            ncap = ps->lim->mime_max_headers;
        h = tm_arena_realloc(ps->task->arena, part->hdrs, *cap * sizeof(*h), ncap * sizeof(*h));
        if (h == NULL) {
            oom(ps);
            return;
        }
        part->hdrs = h;
        *cap = ncap;
    }
    if (name.len + value.len > ps->lim->header_max_len) {
        /* The field (name and value) is clipped; a name alone over the limit keeps no value. */
        value.len = name.len < ps->lim->header_max_len ? ps->lim->header_max_len - name.len : 0;
        if (name.len > ps->lim->header_max_len)
            name.len = ps->lim->header_max_len;
        tm_task_finding(ps->task, TM_F_MIME_LIMIT_HEADER_LEN);
    }
    part->hdrs[part->nhdrs].name = name;
    part->hdrs[part->nhdrs].value = value;
    part->nhdrs++;
}

/*
 * parse_headers - read the header section starting at pos; returns the
 * offset where the body starts. `top` allows an mbox "From " line first.
 */
static size_t
parse_headers(struct parser *ps, struct tm_mime_part *part, size_t pos, int top)
{
    struct line ln;
    size_t cap = 0, hstart = pos, i, last_end = 0;
    int have_last = 0, first = 1, eight = 0;
    struct tm_str name, value;

    while (pos < ps->len) {
        next_line(ps, pos, &ln);
        if (ln.cend == ln.start) { /* blank line: end of headers */
            part->header_block = tm_str_make(ps->buf + hstart, ln.start - hstart);
            pos = ln.end;
            goto done;
        }
        if (first && top && ln.cend - ln.start >= 5 && memcmp(ps->buf + ln.start, "From ", 5) == 0) {
            ps->msg->envelope_from = tm_str_make(ps->buf + ln.start, ln.cend - ln.start);
            hstart = pos = ln.end;
            first = 0;
            continue;
        }
        if (ps->buf[ln.start] == ' ' || ps->buf[ln.start] == '\t') {
            if (have_last) {
                struct tm_mime_header *h = &part->hdrs[part->nhdrs - 1];
                size_t room = h->name.len < ps->lim->header_max_len
                                  ? ps->lim->header_max_len - h->name.len
                                  : 0;
                size_t want = ln.cend - (size_t)(h->value.p - ps->buf);
                if (want <= room) {
                    h->value.len = want;
                } else if (h->value.len < room) {
                    h->value.len = room;
                    tm_task_finding(ps->task, TM_F_MIME_LIMIT_HEADER_LEN);
                }
            } else {
                tm_task_finding(ps->task, TM_F_MIME_HDR_LEADING_WS);
            }
            last_end = ln.end;
            pos = ln.end;
            first = 0;
            continue;
        }
        /* name ':' - the name is ftext; WSP before the colon is obsolete syntax, accepted */
        for (i = ln.start; i < ln.cend && is_ftext(ps->buf[i]); i++)
            ;
        {
            size_t nend = i;
            while (i < ln.cend && (ps->buf[i] == ' ' || ps->buf[i] == '\t'))
                i++;
            if (i >= ln.cend || ps->buf[i] != ':' || nend == ln.start) {
                if (ln.cend - ln.start >= 5 && memcmp(ps->buf + ln.start, "From ", 5) == 0 &&
                    !first) {
                    /* a misplaced envelope line inside headers: ignored (CPython does too) */
                    pos = ln.end;
                    continue;
                }
                tm_task_finding(ps->task, first ? TM_F_MIME_NO_HEADERS : TM_F_MIME_HDR_NO_COLON);
                part->header_block = tm_str_make(ps->buf + hstart, ln.start - hstart);
                pos = ln.start;
                goto done;
            }
            name = tm_str_make(ps->buf + ln.start, nend - ln.start);
            value = tm_str_make(ps->buf + i + 1, ln.cend - (i + 1));
        }
        if (!eight)
            for (i = ln.start; i < ln.cend; i++)
                if (ps->buf[i] & 0x80) {
                    eight = 1;
                    tm_task_finding(ps->task, TM_F_MIME_HDR_8BIT);
                    break;
                }
        add_header(ps, part, &cap, name, value);
        have_last = part->nhdrs > 0 && part->hdrs[part->nhdrs - 1].name.p == name.p;
        if (ps->out_of_memory)
            return ps->len;
        last_end = ln.end;
        pos = ln.end;
        first = 0;
    }
    /* End of input inside the header section: no body. */
    (void)last_end;
    part->header_block = tm_str_make(ps->buf + hstart, ps->len - hstart);
    pos = ps->len;
done:
    return pos;
}

const struct tm_mime_header *
tm_mime_header_find(const struct tm_mime_part *part, const char *name, size_t idx)
{
    size_t i;

    for (i = 0; i < part->nhdrs; i++)
        if (tm_str_ieq(part->hdrs[i].name, name) && idx-- == 0)
            return &part->hdrs[i];
    return NULL;
}

static enum tm_cte
cte_of(const char *s)
{
    if (strcmp(s, "7bit") == 0)
        return TM_CTE_7BIT;
    if (strcmp(s, "8bit") == 0)
        return TM_CTE_8BIT;
    if (strcmp(s, "binary") == 0)
        return TM_CTE_BINARY;
    if (strcmp(s, "base64") == 0)
        return TM_CTE_BASE64;
    if (strcmp(s, "quoted-printable") == 0)
        return TM_CTE_QP;
    if (strcmp(s, "x-uuencode") == 0 || strcmp(s, "uuencode") == 0 || strcmp(s, "x-uue") == 0 ||
        strcmp(s, "uue") == 0)
        return TM_CTE_UUENCODE;
    return TM_CTE_UNKNOWN;
}

static int
valid_type(const char *t)
{
    const char *slash = strchr(t, '/');
    const char *s;

    if (slash == NULL || slash == t || slash[1] == '\0' || strchr(slash + 1, '/') != NULL)
        return 0;
    for (s = t; *s; s++)
        if ((unsigned char)*s <= 32 || (unsigned char)*s >= 127)
            return 0;
    return 1;
}

/*
 * setup_part - interpret Content-Type, -Transfer-Encoding and -Disposition.
 * Defaults (RFC 2045 5.2, RFC 2046 5.1.5): text/plain; us-ascii, or
 * message/rfc822 inside multipart/digest.
 */
static void
setup_part(struct parser *ps, struct tm_mime_part *part)
{
    struct tm_arena *a = ps->task->arena;
    const struct tm_mime_header *ct = tm_mime_header_find(part, "content-type", 0);
    const struct tm_mime_header *cte = tm_mime_header_find(part, "content-transfer-encoding", 0);
    const struct tm_mime_header *cd = tm_mime_header_find(part, "content-disposition", 0);
    const struct tm_param *prm;
    unsigned flags = 0;
    int digest = part->parent != NULL && part->parent->content_type != NULL &&
                 strcmp(part->parent->content_type, "multipart/digest") == 0;

    part->content_type = digest ? "message/rfc822" : "text/plain";
    part->ct_defaulted = 1;
    if (ct != NULL) {
        struct tm_params *pp = tm_arena_calloc(a, 1, sizeof(*pp));
        if (pp == NULL || tm_params_parse(a, ct->value.p, ct->value.len, ps->lim->mime_max_params,
                                          pp, &flags) != TM_OK) {
            oom(ps);
            return;
        }
        part->ct_params = pp;
        if (valid_type(pp->token)) {
            part->content_type = pp->token;
            part->ct_defaulted = 0;
        } else {
            /* CPython: a Content-Type without exactly one '/' means text/plain */
            part->content_type = "text/plain";
            tm_task_finding(ps->task, TM_F_MIME_BAD_CONTENT_TYPE);
        }
        if ((prm = tm_params_get(pp, "charset")) != NULL && prm->value_len > 0) {
            part->charset = tm_arena_lowerdup(a, prm->value, prm->value_len);
        }
        if (tm_mime_header_find(part, "content-type", 1) != NULL)
            tm_task_finding(ps->task, TM_F_MIME_DUP_CONTENT_TYPE);
    }
    if (cte != NULL) {
        struct tm_str v = tm_str_trim(cte->value);
        size_t i;
        /* value up to the first space, ';' or comment */
        for (i = 0; i < v.len && v.p[i] != ' ' && v.p[i] != '\t' && v.p[i] != ';' &&
                    v.p[i] != '(' && v.p[i] != '\r' && v.p[i] != '\n';
             i++)
            ;
        part->cte_name = tm_arena_lowerdup(a, v.p, i);
        if (part->cte_name == NULL) {
            oom(ps);
            return;
        }
        part->cte = cte_of(part->cte_name);
        if (part->cte == TM_CTE_UNKNOWN)
            tm_task_finding(ps->task, TM_F_MIME_BAD_CTE);
        if (tm_mime_header_find(part, "content-transfer-encoding", 1) != NULL)
            tm_task_finding(ps->task, TM_F_MIME_DUP_CTE);
    }
    if (cd != NULL) {
        struct tm_params dp;
        if (tm_params_parse(a, cd->value.p, cd->value.len, ps->lim->mime_max_params, &dp,
                            &flags) != TM_OK) {
            oom(ps);
            return;
        }
        if (dp.token[0] != '\0')
            part->disposition = dp.token;
        if ((prm = tm_params_get(&dp, "filename")) != NULL)
            part->filename = prm->value;
    }
    if (part->filename == NULL && part->ct_params != NULL &&
        (prm = tm_params_get(part->ct_params, "name")) != NULL)
        part->filename = prm->value;
    if (flags & TM_PARAM_LIMIT)
        tm_task_finding(ps->task, TM_F_MIME_LIMIT_PARAMS);
    if (flags & TM_PARAM_2231)
        tm_task_finding(ps->task, TM_F_MIME_BAD_2231);

    if (strncmp(part->content_type, "multipart/", 10) == 0) {
        prm = part->ct_params ? tm_params_get(part->ct_params, "boundary") : NULL;
        if (prm == NULL) {
            tm_task_finding(ps->task, TM_F_MIME_NO_BOUNDARY);
        } else if (prm->value_len == 0 || prm->value_len > ps->lim->mime_max_boundary_len) {
            tm_task_finding(ps->task, TM_F_MIME_BAD_BOUNDARY);
        } else if (part->depth >= ps->lim->mime_max_depth) {
            tm_task_finding(ps->task, TM_F_MIME_LIMIT_DEPTH);
        } else {
            part->boundary = prm->value;
            part->is_multipart = 1;
            if (part->cte == TM_CTE_BASE64 || part->cte == TM_CTE_QP)
                tm_task_finding(ps->task, TM_F_MIME_ENCODED_MULTIPART);
        }
    } else if (strncmp(part->content_type, "message/", 8) == 0 &&
               strcmp(part->content_type, "message/partial") != 0 &&
               strcmp(part->content_type, "message/delivery-status") != 0 &&
               strcmp(part->content_type, "message/global-delivery-status") != 0) {
        /*
         * rfc822, global, news, external-body (RFC 2046 5.2.3: a header
         * block), cpim, disposition-notification ...: all start with a
         * header section, so parse them as messages to expose what they
         * carry. A fragment (partial) and DSN field blocks stay leaves.
         */
        if (part->depth >= ps->lim->mime_max_depth)
            tm_task_finding(ps->task, TM_F_MIME_LIMIT_DEPTH);
        else
            part->is_message = 1;
    } else if (strcmp(part->content_type, "message/partial") == 0) {
        tm_task_finding(ps->task, TM_F_MIME_MSG_PARTIAL);
    }
}

/*
 * match_delim - does the line at q (a "--" at line start) carry the boundary
 * of some open frame? Returns the frame index or -1; *close is set for
 * "--boundary--". Trailing spaces and tabs are allowed (RFC 2046 5.1.1).
 */
static int
match_delim(const struct parser *ps, const unsigned char *q, const unsigned char *end, int *close,
            const unsigned char **after)
{
    size_t k;

    for (k = ps->nframes; k-- > 0;) {
        const struct frame *f = &ps->frames[k];
        const unsigned char *r = q + 2;
        int c = 0;
        if ((size_t)(end - r) < f->blen || memcmp(r, f->b, f->blen) != 0)
            continue;
        r += f->blen;
        if (end - r >= 2 && r[0] == '-' && r[1] == '-') {
            const unsigned char *s = r + 2;
            while (s < end && (*s == ' ' || *s == '\t'))
                s++;
            if (s == end || *s == '\r' || *s == '\n') {
                c = 1;
                r = s;
            }
        }
        if (!c) {
            while (r < end && (*r == ' ' || *r == '\t'))
                r++;
            if (r < end && *r != '\r' && *r != '\n')
                continue;
        }
        *close = c;
        *after = r;
        return (int)k;
    }
    return -1;
}

/* eol_after - offset just past the line end at `after` (or the input end) */
static inline size_t
eol_after(const struct parser *ps, const unsigned char *after)
{
    const unsigned char *end = ps->buf + ps->len;

    if (after < end && *after == '\r' && after + 1 < end && after[1] == '\n')
        return (size_t)(after - ps->buf) + 2;
    if (after < end)
        return (size_t)(after - ps->buf) + 1;
    return ps->len;
}

/*
 * find_delim - the next delimiter line at or after pos (pos is a line start).
 * Returns the frame index and fills the line, or -1 at end of input.
 */
static int
find_delim(struct parser *ps, size_t pos, struct line *ln, int *close)
{
    const unsigned char *b = ps->buf, *end = b + ps->len, *p = b + pos, *q, *after;
    int k;

    if (ps->nframes == 0)
        return -1;
    while (p < end) {
        q = memchr(p, '-', (size_t)(end - p));
        if (q == NULL || end - q < 2)
            return -1;
        if (q[1] == '-' && (q == b + pos || q[-1] == '\n' || q[-1] == '\r') &&
            (k = match_delim(ps, q, end, close, &after)) >= 0) {
            ln->start = (size_t)(q - b);
            ln->cend = (size_t)(after - b);
            ln->end = eol_after(ps, after);
            return k;
        }
        /* Skip to the next line: a delimiter can only start a line. */
        {
            const unsigned char *nl = memchr(q, '\n', (size_t)(end - q));
            const unsigned char *cr = memchr(q, '\r', (size_t)((nl ? nl : end) - q));
            if (cr != NULL)
                p = cr + 1;
            else if (nl != NULL)
                p = nl + 1;
            else
                return -1;
        }
    }
    return -1;
}

/*
 * close_bodies - end the raw body (and an open epilogue) of `from` and of its
 * ancestors below `stop` at the delimiter line starting at `at`.
 */
static void
close_bodies(struct parser *ps, struct tm_mime_part *from, struct tm_mime_part *stop, size_t at)
{
    struct tm_mime_part *p;

    for (p = from; p != NULL && p != stop; p = p->parent) {
        if (p->body.len == (size_t)-1) {
            size_t s = (size_t)(p->body.p - ps->buf);
            p->body.len = strip_eol(ps->buf, s, at) - s;
        }
        if (p->is_multipart) {
            if (p->epilogue.p == NULL) {
                if (p->first_child != NULL)
                    tm_task_finding(ps->task, TM_F_MIME_MISSING_CLOSE);
            } else if (p->epilogue.len == (size_t)-1) {
                size_t s = (size_t)(p->epilogue.p - ps->buf);
                p->epilogue.len = strip_eol(ps->buf, s, at) - s;
            }
        }
    }
}

static void
open_body(struct parser *ps, struct tm_mime_part *p, size_t pos)
{
    p->body.p = ps->buf + pos;
    p->body.len = (size_t)-1; /* open */
}

/* enter - after a part's headers: push multiparts, descend into messages */
static struct tm_mime_part *
enter(struct parser *ps, struct tm_mime_part *part, size_t *pos)
{
    for (;;) {
        setup_part(ps, part);
        if (ps->out_of_memory)
            return part;
        open_body(ps, part, *pos);
        if (part->is_multipart) {
            struct frame *f = &ps->frames[ps->nframes++];
            f->mp = part;
            f->b = (const unsigned char *)part->boundary;
            f->blen = strlen(part->boundary);
            part->preamble = tm_str_make(ps->buf + *pos, 0);
            return part;
        }
        if (part->is_message && (part->cte == TM_CTE_BASE64 || part->cte == TM_CTE_QP)) {
            /* Decoded and parsed after this buffer (see parse_queue). */
            struct pending_msg *q = tm_arena_calloc(ps->task->arena, 1, sizeof(*q));
            tm_task_finding(ps->task, TM_F_MIME_ENCODED_MULTIPART);
            if (q == NULL) {
                oom(ps);
                return part;
            }
            q->part = part;
            if (ps->queue_tail != NULL)
                ps->queue_tail->next = q;
            else
                ps->queue = q;
            ps->queue_tail = q;
            return part;
        }
        if (part->is_message) {
            struct tm_mime_part *inner;
            if (ps->msg->nparts >= ps->lim->mime_max_parts) {
                tm_task_finding(ps->task, TM_F_MIME_LIMIT_PARTS);
                part->is_message = 0;
                return part;
            }
            inner = new_part(ps, part);
            if (inner == NULL)
                return part;
            *pos = parse_headers(ps, inner, *pos, 0);
            part = inner;
            continue;
        }
        return part;
    }
}

/*
 * parse_buffer - build the tree of one buffer under `root` (whose headers
 * start at pos). Frames are reset: boundaries of an enclosing buffer do not
 * apply inside a decoded inner message.
 */
static void
parse_buffer(struct parser *ps, struct tm_mime_part *root, size_t pos, int top)
{
    struct tm_mime_part *cur;
    struct line ln;
    int close, k;

    ps->nframes = 0;
    pos = parse_headers(ps, root, pos, top);
    if (ps->out_of_memory)
        return;
    if (top && root->nhdrs == 0)
        tm_task_finding(ps->task, TM_F_MIME_NO_HEADERS);
    cur = enter(ps, root, &pos);
    while (!ps->out_of_memory) {
        struct frame *f;
        k = find_delim(ps, pos, &ln, &close);
        if (k < 0)
            break;
        f = &ps->frames[k];
        if (!close && ps->msg->nparts >= ps->lim->mime_max_parts) {
            /* No new part: the delimiter stays text of whatever is open. */
            if (ps->task->findings[TM_F_MIME_LIMIT_PARTS] == 0)
                tm_task_finding(ps->task, TM_F_MIME_LIMIT_PARTS);
            pos = ln.end;
            continue;
        }
        /* End what was open below frame k: the current part and its ancestors. */
        close_bodies(ps, cur, f->mp, ln.start);
        if (f->mp->first_child == NULL && f->mp->preamble.len == 0) {
            size_t s0 = (size_t)(f->mp->preamble.p - ps->buf);
            f->mp->preamble.len = strip_eol(ps->buf, s0, ln.start) - s0;
        }
        /* Frames deeper than k are closed without their close delimiter. */
        ps->nframes = (size_t)k + 1;
        if (close) {
            /* The epilogue runs to the next outer delimiter or the end. */
            f->mp->epilogue = tm_str_make(ps->buf + ln.end, 0);
            f->mp->epilogue.len = (size_t)-1;
            ps->nframes = (size_t)k;
            cur = f->mp;
            pos = ln.end;
            continue;
        }
        /* CPython: delimiter lines in a row open one part, not empty ones. */
        while (ln.end + 2 <= ps->len && ps->buf[ln.end] == '-' && ps->buf[ln.end + 1] == '-') {
            int c2;
            const unsigned char *after;
            const unsigned char *q = ps->buf + ln.end;
            if (match_delim(ps, q, ps->buf + ps->len, &c2, &after) != k || c2)
                break;
            ln.cend = (size_t)(after - ps->buf);
            ln.end = eol_after(ps, after);
        }
        cur = new_part(ps, f->mp);
        if (cur == NULL)
            break;
        pos = parse_headers(ps, cur, ln.end, 0);
        cur = enter(ps, cur, &pos);
    }
    /*
     * End of buffer: everything still open ends here. Inside a multipart
     * left open, the last line end goes too, as if the missing close
     * delimiter were there (CPython does the same).
     */
    {
        struct tm_mime_part *p;
        size_t at = ps->len;
        int strip = ps->nframes > 0 && ps->frames[ps->nframes - 1].mp->first_child != NULL;
        for (p = cur; p != NULL; p = p->parent) {
            if (p->body.p != NULL && p->body.len == (size_t)-1) {
                size_t s0 = (size_t)(p->body.p - ps->buf);
                p->body.len = (strip ? strip_eol(ps->buf, s0, at) : at) - s0;
            }
            if (p->is_multipart && p->epilogue.len == (size_t)-1)
                p->epilogue.len = ps->len - (size_t)(p->epilogue.p - ps->buf);
            if (p == root)
                break;
        }
        for (k = (int)ps->nframes; k-- > 0;)
            if (ps->frames[k].mp->first_child != NULL)
                tm_task_finding(ps->task, TM_F_MIME_MISSING_CLOSE);
    }
    ps->nframes = 0;
}

/*
 * decode_body - transfer-decode `body` per `cte` within the message's decoded
 * budget. Returns the decoded bytes (a view when no decoding is needed).
 */
static const unsigned char *
decode_body(struct parser *ps, enum tm_cte cte, struct tm_str body, size_t *outlen)
{
    struct tm_task *t = ps->task;
    size_t room = ps->lim->mime_max_decoded_size - t->decoded_total, in = body.len, n = 0;
    unsigned flags = 0;
    unsigned char *out;

    *outlen = 0;
    if (cte == TM_CTE_BASE64 && TM_B64_MAX_OUT(in) > room) {
        in = room / 3 * 4;
        tm_task_finding(t, TM_F_MIME_LIMIT_DECODED);
    } else if (cte != TM_CTE_BASE64 && in > room) {
        in = room;
        tm_task_finding(t, TM_F_MIME_LIMIT_DECODED);
    }
    if (in > body.len)
        in = body.len;
    switch (cte) {
    case TM_CTE_BASE64:
        if ((out = tm_arena_alloc(t->arena, TM_B64_MAX_OUT(in))) == NULL)
            goto nomem;
        n = tm_b64_decode(body.p, in, out, &flags);
        if (flags & (TM_DEC_JUNK | TM_DEC_TRUNC))
            tm_task_finding(t, TM_F_MIME_BAD_B64);
        break;
    case TM_CTE_QP:
        if ((out = tm_arena_alloc(t->arena, TM_QP_MAX_OUT(in))) == NULL)
            goto nomem;
        n = tm_qp_decode(body.p, in, out, 0, &flags);
        if (flags & TM_DEC_BADESC)
            tm_task_finding(t, TM_F_MIME_BAD_QP);
        break;
    case TM_CTE_UUENCODE: {
        struct tm_uu_block blk;
        if (tm_uu_find(body.p, in, 0, &blk)) {
            if ((out = tm_arena_alloc(t->arena, TM_UU_MAX_OUT(blk.end - blk.begin))) == NULL)
                goto nomem;
            n = tm_uu_decode_block(body.p, &blk, out, &flags);
            if (flags)
                tm_task_finding(t, TM_F_MIME_BAD_UU);
            break;
        }
        tm_task_finding(t, TM_F_MIME_BAD_UU);
        goto as_is;
    }
    default:
    as_is:
        t->decoded_total += in;
        *outlen = in;
        return body.p;
    }
    t->decoded_total += n;
    *outlen = n;
    return out;
nomem:
    oom(ps);
    return NULL;
}

/* find_uu - uuencoded blocks inside a text leaf (old mailers attach files this way) */
static void
find_uu(struct parser *ps, struct tm_mime_part *part)
{
    struct tm_uu_block blk;
    size_t from = 0, cap = 0;
    const unsigned char *d = part->decoded;
    size_t n = part->decoded_len;

    while (n - from >= 10) {
        const unsigned char *b = memchr(d + from, 'b', n - from);
        size_t at;
        if (b == NULL)
            return;
        at = (size_t)(b - d);
        if ((at > 0 && d[at - 1] != '\n' && d[at - 1] != '\r') || n - at < 10 ||
            memcmp(b, "begin ", 6) != 0) {
            from = at + 1;
            continue;
        }
        if (!tm_uu_find(d, n, at, &blk))
            return;
        if (part->nuu >= ps->lim->mime_max_uu_blocks) {
            tm_task_finding(ps->task, TM_F_MIME_LIMIT_UU);
            return;
        }
        if (part->nuu == cap) {
            size_t nc = cap ? cap * 2 : 2;
            struct tm_mime_uu *u = tm_arena_realloc(ps->task->arena, part->uu,
                                                    cap * sizeof(*u), nc * sizeof(*u));
            if (u == NULL) {
                oom(ps);
                return;
            }
            part->uu = u;
            cap = nc;
        }
        {
            struct tm_mime_uu *u = &part->uu[part->nuu];
            unsigned flags = 0;
            unsigned char *out = tm_arena_alloc(ps->task->arena, TM_UU_MAX_OUT(blk.end - blk.begin));
            struct tm_buf nb;
            int bad = 0;
            if (out == NULL) {
                oom(ps);
                return;
            }
            u->len = tm_uu_decode_block(d, &blk, out, &flags);
            u->data = out;
            u->mode = blk.mode;
            tm_buf_init(&nb, ps->task->arena, 1024);
            if (tm_charset_to_utf8(NULL, 0, blk.name, blk.name_len, &nb, &bad) != TM_OK ||
                tm_buf_cstr(&nb) == NULL) {
                oom(ps);
                return;
            }
            u->filename = (const char *)nb.data;
            SHA256(u->data, u->len, u->sha256);
            if (flags)
                tm_task_finding(ps->task, TM_F_MIME_BAD_UU);
            tm_task_finding(ps->task, TM_F_MIME_UUENCODE);
            part->nuu++;
        }
        from = blk.end;
    }
}

/* has_text - any byte other than whitespace */
static int
has_text(struct tm_str s)
{
    size_t i;

    for (i = 0; i < s.len; i++)
        if (s.p[i] != ' ' && s.p[i] != '\t' && s.p[i] != '\r' && s.p[i] != '\n')
            return 1;
    return 0;
}

/* has_8bit - any byte >= 0x80, eight bytes at a time */
static int
has_8bit(const unsigned char *p, size_t n)
{
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w & 0x8080808080808080ull)
            return 1;
    }
    for (; i < n; i++)
        if (p[i] & 0x80)
            return 1;
    return 0;
}

/* finish - leaves: multiparts without children become leaves; decode; hash */
static void
finish(struct parser *ps, struct tm_mime_part *root)
{
    const struct tm_mime_part *c;

    for (c = root; c != NULL && !ps->out_of_memory; c = tm_mime_next(c)) {
        struct tm_mime_part *p = (struct tm_mime_part *)(uintptr_t)c;
        if (p->body.p == NULL)
            p->body = tm_str_make(ps->buf + ps->len, 0);
        if (p->body.len == (size_t)-1)
            p->body.len = 0;
        if (p->epilogue.len == (size_t)-1)
            p->epilogue.len = 0;
        if (p->is_multipart && p->first_child == NULL) {
            /* No part: a leaf of its preamble if it was closed, else its whole body. */
            tm_task_finding(ps->task, TM_F_MIME_BOUNDARY_NOT_FOUND);
            p->is_multipart = 0;
            p->boundary = NULL;
            if (p->epilogue.p != NULL)
                p->body = p->preamble;
        }
        if (p->is_multipart) {
            if (has_text(p->preamble))
                tm_task_finding(ps->task, TM_F_MIME_PREAMBLE_TEXT);
            if (has_text(p->epilogue))
                tm_task_finding(ps->task, TM_F_MIME_EPILOGUE_TEXT);
        }
        if (p->first_child != NULL || (p->is_message && p->cte != TM_CTE_BASE64 &&
                                       p->cte != TM_CTE_QP))
            continue;
        if (p->cte == TM_CTE_7BIT && has_8bit(p->body.p, p->body.len))
            tm_task_finding(ps->task, TM_F_MIME_8BIT_IN_7BIT);
        if (p->is_message) /* encoded inner message: parsed from the queue */
            continue;
        p->decoded = decode_body(ps, p->cte, p->body, &p->decoded_len);
        if (p->decoded == NULL) {
            p->decoded = p->body.p;
            p->decoded_len = 0;
        }
        SHA256(p->decoded, p->decoded_len, p->sha256);
        if (p->cte != TM_CTE_UUENCODE && strncmp(p->content_type, "text/", 5) == 0 &&
            ps->lim->mime_max_uu_blocks > 0)
            find_uu(ps, p);
    }
}

tm_rc
tm_mime_parse(struct tm_task *task, const unsigned char *p, size_t len)
{
    struct parser ps;
    struct tm_mime_msg *msg;

    memset(&ps, 0, sizeof(ps));
    ps.task = task;
    ps.lim = task->limits;
    msg = tm_arena_calloc(task->arena, 1, sizeof(*msg));
    ps.frames = tm_arena_calloc(task->arena, ps.lim->mime_max_depth + 1, sizeof(*ps.frames));
    if (msg == NULL || ps.frames == NULL) {
        tm_task_fail(task, TM_ENOMEM);
        return TM_ENOMEM;
    }
    task->msg = msg;
    if (len > ps.lim->message_max_size) {
        len = ps.lim->message_max_size;
        tm_task_finding(task, TM_F_MESSAGE_TRUNCATED);
    }
    if (len > 0 && memchr(p, '\0', len) != NULL)
        tm_task_finding(task, TM_F_MIME_NUL_BYTE);
    msg->raw = tm_str_make(p, len);
    ps.msg = msg;
    ps.buf = p;
    ps.len = len;
    msg->root = new_part(&ps, NULL);
    if (msg->root == NULL)
        return TM_ENOMEM;
    parse_buffer(&ps, msg->root, 0, 1);
    finish(&ps, msg->root);
    if ((ps.eol_seen & (ps.eol_seen - 1)) != 0)
        tm_task_finding(task, TM_F_MIME_MIXED_EOL);
    if (ps.eol_seen & 4)
        tm_task_finding(task, TM_F_MIME_BARE_CR);

    /* Encoded inner messages: decode, then parse the bytes as a message. */
    while (ps.queue != NULL && !ps.out_of_memory) {
        struct pending_msg *q = ps.queue;
        struct tm_mime_part *inner;
        size_t dlen;
        const unsigned char *d;

        ps.queue = q->next;
        if (ps.queue == NULL)
            ps.queue_tail = NULL;
        if (msg->nparts >= ps.lim->mime_max_parts) {
            tm_task_finding(task, TM_F_MIME_LIMIT_PARTS);
            q->part->is_message = 0;
            continue;
        }
        d = decode_body(&ps, q->part->cte, q->part->body, &dlen);
        if (d == NULL)
            break;
        inner = new_part(&ps, q->part);
        if (inner == NULL)
            break;
        ps.buf = d;
        ps.len = dlen;
        parse_buffer(&ps, inner, 0, 0);
        finish(&ps, inner);
    }
    return ps.out_of_memory ? TM_ENOMEM : TM_OK;
}

const struct tm_mime_part *
tm_mime_next(const struct tm_mime_part *part)
{
    if (part->first_child != NULL)
        return part->first_child;
    while (part != NULL) {
        if (part->next != NULL)
            return part->next;
        part = part->parent;
    }
    return NULL;
}

size_t
tm_mime_part_path(const struct tm_mime_part *part, char *buf, size_t buflen)
{
    unsigned idx[512];
    size_t n = 0, len = 0, i;
    const struct tm_mime_part *p;

    for (p = part; p->parent != NULL && n < 512; p = p->parent) {
        unsigned k = 1;
        const struct tm_mime_part *s;
        for (s = p->parent->first_child; s != NULL && s != p; s = s->next)
            k++;
        idx[n++] = k;
    }
    if (buflen == 0)
        return 0;
    buf[0] = '\0';
    len = (size_t)snprintf(buf, buflen, "1");
    for (i = n; i-- > 0 && len < buflen;)
        len += (size_t)snprintf(buf + len, buflen - len, ".%u", idx[i]);
    return len < buflen ? len : buflen - 1;
}

const char *
tm_mime_root_header(struct tm_task *t, const char *name)
{
    const struct tm_mime_header *h;
    const char *s;
    size_t n;

    if (t->msg == NULL || t->msg->root == NULL)
        return NULL;
    h = tm_mime_header_find(t->msg->root, name, 0);
    if (h == NULL || tm_mime_header_decode(t, h, &s, &n) != TM_OK)
        return NULL;
    return s;
}

tm_rc
tm_mime_header_decode(struct tm_task *task, const struct tm_mime_header *h, const char **out,
                      size_t *outlen)
{
    struct tm_buf b;
    unsigned flags = 0;
    struct tm_str v;
    tm_rc rc;

    tm_buf_init(&b, task->arena, task->limits->header_max_len * 4 + 16);
    rc = tm_rfc2047_decode(h->value.p, h->value.len, task->limits->mime_max_encoded_words, &b,
                           &flags);
    if (rc == TM_ENOMEM) {
        tm_task_fail(task, rc);
        return rc;
    }
    if (flags & TM_2047_BAD)
        tm_task_finding(task, TM_F_MIME_BAD_2047);
    if (flags & TM_2047_CHARSET)
        tm_task_finding(task, TM_F_MIME_BAD_CHARSET);
    if (flags & TM_2047_LIMIT)
        tm_task_finding(task, TM_F_MIME_LIMIT_WORDS);
    if (tm_buf_cstr(&b) == NULL) {
        tm_task_fail(task, TM_ENOMEM);
        return TM_ENOMEM;
    }
    v = tm_str_trim(tm_str_make(b.data, b.len));
    *out = (const char *)v.p;
    *outlen = v.len;
    if (v.p != NULL)
        ((unsigned char *)(uintptr_t)v.p)[v.len] = '\0';
    return TM_OK;
}

/*
 * tm_mime_assert_invariants - for fuzzing: depth and part count within the
 * limits, every view inside the message or the arena, the tree consistent.
 */
void
tm_mime_assert_invariants(const struct tm_task *task)
{
    const struct tm_mime_msg *m = task->msg;
    const struct tm_mime_part *p;
    size_t n = 0;

    if (m == NULL || m->root == NULL)
        return;
    for (p = m->root; p != NULL; p = tm_mime_next(p)) {
        n++;
        TM_ASSERT(p->depth <= task->limits->mime_max_depth);
        TM_ASSERT(p->body.len != (size_t)-1);
        TM_ASSERT(p->parent == NULL || p->depth == p->parent->depth + 1);
        TM_ASSERT(p->content_type != NULL || task->error != TM_OK);
        TM_ASSERT(p->nhdrs <= task->limits->mime_max_headers);
        if (p->first_child == NULL && p->decoded != NULL && p->decoded >= m->raw.p &&
            p->decoded < m->raw.p + m->raw.len)
            TM_ASSERT(p->decoded + p->decoded_len <= m->raw.p + m->raw.len);
    }
    TM_ASSERT(n == m->nparts);
    TM_ASSERT(n <= task->limits->mime_max_parts);
    TM_ASSERT(task->decoded_total <= task->limits->mime_max_decoded_size);
}
