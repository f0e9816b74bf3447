/*
 * spamd.h - the SPAMC/SPAMD protocol (1.0 to 1.5, as SpamAssassin 4.0.x
 * speaks it), sans I/O: the daemon feeds the bytes it reads and writes the
 * bytes it is given. One request per connection; close after the answer.
 *
 * Usage:
 *
 *   tm_spamd_init(&s, &cfg);
 *   while (!done && (n = read(fd, buf, sizeof(buf))) > 0)
 *       rc = tm_spamd_feed(&s, buf, n, &done);
 *   if (!done)                        (read returned 0: the client half-closed)
 *       rc = tm_spamd_eof(&s, &done);
 *   if (rc != TM_OK)                  (bad request: answer with the error)
 *       tm_spamd_error(&s, &out);
 *   else if (method needs a scan)     (tm_spamd_needs_scan)
 *       scan tm_spamd_message(), then tm_spamd_respond(&s, task, &verdict, &out);
 *   else
 *       tm_spamd_respond(&s, NULL, NULL, &out);   (PING, SKIP, TELL)
 *   write out (possibly nothing: SKIP), shutdown, close; tm_spamd_free(&s).
 *
 * After an error, the daemon should write the answer and shut down its
 * write side before closing, since the client may still be sending.
 */
#ifndef TM_PROTO_SPAMD_H
#define TM_PROTO_SPAMD_H

#include <stddef.h>

#include "core/core.h"

struct tm_arena;
struct tm_buf;
struct tm_task;
struct tm_verdict;

/* Bounds of the request head (fixed: the protocol needs no more). */
#define TM_SPAMD_MAX_LINE    8192 /* bytes of one request or header line, line end excluded */
#define TM_SPAMD_MAX_HEADERS 64   /* header lines after the request line */
#define TM_SPAMD_ERR_MAX     200  /* bytes of the pending error line */

/* sysexits codes that spamd answers with (protocols.md 2.2) */
#define TM_SPAMD_EX_OK          0
#define TM_SPAMD_EX_USAGE       64
#define TM_SPAMD_EX_DATAERR     65
#define TM_SPAMD_EX_UNAVAILABLE 69
#define TM_SPAMD_EX_SOFTWARE    70
#define TM_SPAMD_EX_TEMPFAIL    75
#define TM_SPAMD_EX_PROTOCOL    76

enum tm_spamd_method {
    TM_SPAMD_NONE, /* request line not parsed yet */
    TM_SPAMD_CHECK,
    TM_SPAMD_SYMBOLS,
    TM_SPAMD_REPORT,
    TM_SPAMD_REPORT_IFSPAM,
    TM_SPAMD_PROCESS,
    TM_SPAMD_HEADERS,
    TM_SPAMD_PING,
    TM_SPAMD_SKIP,
    TM_SPAMD_TELL,
};

struct tm_spamd_cfg {
    /*
     * Largest message accepted, in bytes, both as sent (Content-length) and
     * after zlib decompression. Bigger: SPAMD/1.0 65 (spamc then passes the
     * message through unchanged). The request arena is budgeted from it.
     */
    size_t max_message;
};

/* Opaque in spirit: use the functions below, not the fields. */
struct tm_spamd {
    struct tm_spamd_cfg cfg;
    int state;
    enum tm_spamd_method method;
    unsigned minor;  /* SPAMC/1.<minor> */
    int have_clen;   /* a Content-length header was seen */
    int compress;    /* Compress: zlib */
    size_t clen;     /* Content-length (bytes on the wire) */
    size_t nheaders; /* header lines so far */
    size_t extra;    /* bytes fed after the end of the request (ignored) */
    size_t linelen;
    unsigned char line[TM_SPAMD_MAX_LINE + 1];
    struct tm_arena *arena; /* the request's memory: body, message, user */
    unsigned char *body;    /* wire body, clen bytes (or growing to EOF) */
    size_t bodylen;
    size_t bodycap;
    const unsigned char *msg; /* the message (decompressed), valid until tm_spamd_free */
    size_t msglen;
    const char *user; /* User: value, NULL when absent */
    int err_code;     /* pending error, 0 = none */
    tm_rc err_rc;     /* what feed/eof returned with it */
    char err_text[TM_SPAMD_ERR_MAX];
};

/* tm_spamd_init - start a request; TM_ENOMEM when the arena cannot be made */
tm_rc tm_spamd_init(struct tm_spamd *s, const struct tm_spamd_cfg *cfg);

/*
 * tm_spamd_feed - push n request bytes (any split). *done becomes 1 when the
 * request is complete (TM_OK: answer with tm_spamd_respond) or broken (an
 * error rc: answer with tm_spamd_error). Bytes past the end of the request
 * are ignored, as spamd does. Errors: TM_EPROTO (bad line, header, method,
 * version, Compress value), TM_ELIMIT (line, header count or message size),
 * TM_ENOMEM.
 */
tm_rc tm_spamd_feed(struct tm_spamd *s, const unsigned char *p, size_t n, int *done);

/*
 * tm_spamd_eof - the client closed its write side. Completes a request
 * without Content-length (body up to EOF, the SPAMC/1.0 way); otherwise a
 * short body is "Content-Length mismatch" (TM_EPROTO). Sets *done to 1.
 */
tm_rc tm_spamd_eof(struct tm_spamd *s, int *done);

enum tm_spamd_method tm_spamd_method(const struct tm_spamd *s);
/* tm_spamd_method_name - "CHECK" ..., NULL for TM_SPAMD_NONE */
const char *tm_spamd_method_name(enum tm_spamd_method m);
/* tm_spamd_version_minor - x of SPAMC/1.x */
unsigned tm_spamd_version_minor(const struct tm_spamd *s);
/* tm_spamd_user - the User: header (no control characters), or NULL */
const char *tm_spamd_user(const struct tm_spamd *s);
/* tm_spamd_message - the message bytes (decompressed), valid until tm_spamd_free */
const unsigned char *tm_spamd_message(const struct tm_spamd *s, size_t *len);
/* tm_spamd_needs_scan - the method answers with a verdict (CHECK ... HEADERS) */
int tm_spamd_needs_scan(const struct tm_spamd *s);

/*
 * tm_spamd_respond - append the answer to a complete request to out (a
 * tm_buf the caller set up, with room for the message plus a few KiB for
 * PROCESS). t and v are needed by the scanning methods (v: the verdict, t:
 * the task whose arena holds the spam headers) and ignored by PING, SKIP
 * (appends nothing) and TELL (69: learning is not supported).
 * "Spam: True" exactly when tm_proto_is_spam(v); the shown score is nudged
 * by at most 0.1 so that "score >= required" agrees with it (Exim decides
 * by the numbers). Layouts follow the client's protocol version
 * (protocols.md 2.2: Exim's SPAMC/1.2 gets no Content-length for REPORT).
 */
tm_rc tm_spamd_respond(struct tm_spamd *s, struct tm_task *t, const struct tm_verdict *v,
                       struct tm_buf *out);

/* tm_spamd_error - append the pending error line ("SPAMD/1.0 76 Bad header line: ...") */
tm_rc tm_spamd_error(const struct tm_spamd *s, struct tm_buf *out);

/*
 * tm_spamd_tempfail - append "SPAMD/1.0 75 Temporary failure: why" for the
 * daemon's overload or scan-failure path. Exim defers on any non-zero code,
 * so 75 (EX_TEMPFAIL) is for it and for logs. spamc 4.0.1 ignores the code
 * (seen with the Debian binary): an error line is "unknown" to it, so by
 * default it passes the message through unchanged (exit 0; -c prints
 * "0/0"), and with -x it exits 74 (EX_IOERR), whatever the code. A daemon
 * that wants spamc -x -X to tempfail (75) must refuse the connection (69,
 * turned into 75 by -X) rather than answer. why: clipped, control
 * characters replaced.
 */
tm_rc tm_spamd_tempfail(struct tm_buf *out, const char *why);

/* tm_spamd_free - release the request's memory (the message too) */
void tm_spamd_free(struct tm_spamd *s);

#endif
