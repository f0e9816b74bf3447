/*
 * http.h - the server side of rspamd's HTTP protocol (docs/protocols.md 3),
 * sans I/O: the daemon feeds the bytes it read, writes what the builders
 * return, and owns sockets, timeouts and counters.
 *
 * Request side (RFC 9112): request line, header fields, a body framed by
 * Content-Length or chunked transfer coding, "Expect: 100-continue", keep
 * alive and pipelining (bytes after a complete request are left unconsumed
 * for the next one). Every length and count is bounded by struct
 * tm_http_cfg; a request that breaks a rule or a bound ends in an error
 * state with the status to answer (tm_http_error), after which the
 * connection is closed.
 *
 * Typical loop:
 *
 *     tm_http_init(&r, &cfg);
 *     for (;;) {
 *         read into buf; off = 0;
 *         while (off < len) {
 *             tm_http_feed(&r, buf + off, len - off, &used, &st); off += used;
 *             if (st == TM_HTTP_CONTINUE) write tm_http_continue();
 *             else if (st == TM_HTTP_COMPLETE) { answer; tm_http_reset(&r); }
 *             else if (st == TM_HTTP_ERROR) { tm_http_error(); close; }
 *         }
 *     }
 *     tm_http_free(&r);
 *
 * Choices (documented in the report and protocols.md terms):
 *  - chunked request bodies are decoded (curl -T - and rspamd's own proxy
 *    may chunk), bounded by max_body; "Transfer-Encoding" other than exactly
 *    "chunked" is 501, both Transfer-Encoding and Content-Length is 400, a
 *    POST with neither is 411.
 *  - PUT /checkv2 is taken like POST: "curl -T - URL" sends PUT, chunked,
 *    with Expect: 100-continue.
 *  - Host is not required, even in HTTP/1.1 (rspamc and rspamd's proxy are
 *    the clients; none of them needs virtual hosts).
 *  - a Tamis "quarantine" verdict is sent as rspamd action "reject" with
 *    milter.reject = "quarantine": that is how rspamd's own proxy is told to
 *    quarantine instead of rejecting, and a client that does not know the
 *    convention rejects (fails closed) instead of delivering.
 */
#ifndef TM_PROTO_HTTP_H
#define TM_PROTO_HTTP_H

#include <stddef.h>

#include "core/core.h"
#include "core/str.h"

struct tm_buf;
struct tm_task;
struct tm_verdict;

/* Hard ceiling of tm_http_cfg.max_headers (the header table is inline). */
#define TM_HTTP_MAX_HEADERS 100

struct tm_http_cfg {
    size_t max_line;         /* request line, one header line, one chunk-size line (8 KiB) */
    size_t max_headers;      /* header fields incl. chunked trailers, 1..TM_HTTP_MAX_HEADERS */
    size_t max_header_bytes; /* all header lines of a request together (64 KiB) */
    size_t max_body;         /* message bytes (Content-Length or decoded chunks) */
    size_t max_value;        /* one envelope value (From, Rcpt, IP, Helo ...), 1 KiB */
    int tamis_object;        /* add Tamis's own verdict object under "tamis" in /checkv2 */
};

/* tm_http_cfg_default - 8 KiB lines, 100 headers, 64 KiB of headers, 32 MiB body */
void tm_http_cfg_default(struct tm_http_cfg *c);

enum tm_http_state {
    TM_HTTP_NEED_MORE, /* feed more bytes */
    TM_HTTP_CONTINUE,  /* headers done, client expects "100 Continue": write tm_http_continue */
    TM_HTTP_COMPLETE,  /* a whole request; answer it, then tm_http_reset */
    TM_HTTP_ERROR,     /* answer tm_http_status() with tm_http_error, then close */
};

enum tm_http_method {
    TM_HTTP_M_OTHER,
    TM_HTTP_M_GET,
    TM_HTTP_M_HEAD,
    TM_HTTP_M_POST,
    TM_HTTP_M_PUT, /* what curl -T sends; /checkv2 takes it like POST */
};

/* What the request asks for; routing happens when the headers are complete. */
enum tm_http_endpoint {
    TM_HTTP_EP_NONE,
    TM_HTTP_EP_CHECKV2, /* POST (or PUT) /checkv2 */
    TM_HTTP_EP_PING,    /* GET /ping */
    TM_HTTP_EP_METRICS, /* GET /metrics */
    TM_HTTP_EP_STAT,    /* GET /stat */
};

/*
 * The rspamd request headers that describe the SMTP transaction. Views into
 * the request (valid until tm_http_reset/tm_http_free); an absent header is
 * {NULL, 0}. Values are trimmed; From and Rcpt lose one enclosing "<>", so
 * "From: <>" (the null sender) gives a present, empty `from`.
 */
struct tm_http_env {
    struct tm_str from; /* From: MAIL FROM */
    struct tm_str rcpt[TM_HTTP_MAX_HEADERS];
    size_t nrcpt;           /* Rcpt: one per header, in order */
    struct tm_str ip;       /* IP: (rspamc sends "Ip"), not validated here */
    struct tm_str helo;     /* Helo: */
    struct tm_str hostname; /* Hostname: */
    struct tm_str user;     /* User: SASL user */
    struct tm_str queue_id; /* Queue-Id: */
    struct tm_str deliver_to;
    struct tm_str settings; /* Settings: inline JSON, parsed later if ever */
    struct tm_str settings_id;
    struct tm_str flags; /* Flags: comma list, kept as written */
    struct tm_str pass;  /* Pass: "all" */
};

struct tm_http_hdr {
    size_t name, name_len; /* offsets into the header buffer */
    size_t value, value_len;
};

struct tm_http_req {
    struct tm_http_cfg cfg;
    int pstate;      /* parser state, private */
    int status;      /* error status, 0 while none */
    const char *why; /* error detail for the reply, static text */
    /* header bytes: every line of the head, copied; capped */
    unsigned char *hbuf;
    size_t hlen, hcap;
    size_t line_start;   /* offset of the line being read in hbuf */
    size_t nlines_blank; /* empty lines skipped before the request line */
    struct tm_http_hdr hdr[TM_HTTP_MAX_HEADERS];
    size_t nhdr;
    size_t ntrailers;
    /* request line */
    size_t method_off, method_len, target_off, target_len;
    enum tm_http_method method;
    int minor; /* HTTP/1.<minor> */
    enum tm_http_endpoint endpoint;
    int keep_alive;
    int expect_continue;
    int chunked;
    /* body */
    unsigned char *body;
    size_t body_len, body_cap;
    size_t content_length; /* Content-Length, or bytes left in the current chunk */
    struct tm_http_env env;
};

/* tm_http_init - a parser for the first request on a connection; TM_EINVAL on a bad cfg */
tm_rc tm_http_init(struct tm_http_req *r, const struct tm_http_cfg *cfg);

/*
 * tm_http_feed - parse n more bytes. *consumed says how many were used
 * (always <= n); the rest belong to a later call: after TM_HTTP_CONTINUE to
 * the same request, after TM_HTTP_COMPLETE to the next one (pipelining).
 * Returns TM_EAGAIN (need more), TM_OK (continue or complete), TM_EPROTO
 * (error: *state is TM_HTTP_ERROR and tm_http_status says what to answer)
 * or TM_ENOMEM (buffer allocation failed: status 503). Once complete or
 * failed, further calls consume nothing until tm_http_reset.
 */
tm_rc tm_http_feed(struct tm_http_req *r, const unsigned char *p, size_t n, size_t *consumed,
                   enum tm_http_state *state);

/* tm_http_reset - forget the request, keep the cfg: the next one on the connection */
void tm_http_reset(struct tm_http_req *r);
/* tm_http_free - release the buffers (r may be re-initialised) */
void tm_http_free(struct tm_http_req *r);

/* Accessors; valid once the headers are complete (state CONTINUE or COMPLETE). */
int tm_http_status(const struct tm_http_req *r);
enum tm_http_method tm_http_method(const struct tm_http_req *r);
enum tm_http_endpoint tm_http_endpoint(const struct tm_http_req *r);
/* tm_http_path - the target without query string ("/checkv2") */
struct tm_str tm_http_path(const struct tm_http_req *r);
/* tm_http_header - the idx-th field named `name` (case-insensitive), {NULL,0} if none */
struct tm_str tm_http_header(const struct tm_http_req *r, const char *name, size_t idx);
struct tm_str tm_http_body(const struct tm_http_req *r);
const struct tm_http_env *tm_http_envelope(const struct tm_http_req *r);
/* tm_http_keep_alive - the connection may carry another request after this one */
int tm_http_keep_alive(const struct tm_http_req *r);
/* tm_http_flag - Flags: holds `flag` (e.g. "pass_all", "body_block") */
int tm_http_flag(const struct tm_http_req *r, const char *flag);

/* tm_http_reason - "Not Found" for 404; "Unknown" for codes we never send */
const char *tm_http_reason(int status);

/* tm_http_continue - the interim response for Expect: 100-continue */
tm_rc tm_http_continue(struct tm_buf *out);

/*
 * tm_http_response - a whole response: status line, Content-Type (when not
 * NULL), Content-Length, Connection, blank line, body. For /metrics, /stat,
 * /ping, whose bodies the daemon writes.
 */
tm_rc tm_http_response(struct tm_buf *out, int status, const char *content_type, const void *body,
                       size_t len, int keep_alive);

/*
 * tm_http_error - {"error": "..."} with `status`, Connection: close; r (may
 * be NULL) adds "Allow:" to a 405 and the parser's detail to the text.
 */
tm_rc tm_http_error(struct tm_buf *out, const struct tm_http_req *r, int status);

/* tm_http_ping - 200 "pong\r\n" (text/plain) */
tm_rc tm_http_ping(struct tm_buf *out, const struct tm_http_req *r);

/* tm_http_action_name - rspamd's name for a Tamis action ("reject" for quarantine) */
const char *tm_http_action_name(int action);

/*
 * tm_http_checkv2 - the /checkv2 reply for verdict v (NULL: nothing ran, "no
 * action"): HTTP 200, application/json, the rspamd fields of protocols.md
 * 3.4 (is_skipped, score, required_score, action, symbols, messages,
 * message-id, time_real, milter.add_headers, urls, emails) and, when
 * cfg.tamis_object, Tamis's verdict object under "tamis". r may be NULL
 * (then Connection: close). TM_ELIMIT when out's cap is too small.
 */
tm_rc tm_http_checkv2(struct tm_task *t, const struct tm_verdict *v, const struct tm_http_req *r,
                      double scan_ms, struct tm_buf *out);

#endif
