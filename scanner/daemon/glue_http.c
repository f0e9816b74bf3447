/*
 * glue_http.c - rspamd's HTTP protocol (scanner/proto/http.h) as a tamisd
 * session: keep-alive and pipelining; /checkv2 scans, /ping, /metrics and
 * /stat answer from the loop.
 */
#include "daemon/daemon.h"

#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/task.h"
#include "proto/http.h"

struct sess {
    struct tm_http_req r;
    int ok;
};

/* scratch - run f over a tm_buf in a scratch arena and copy the result to out */
static tm_rc
answer(struct sess *x, struct tm_dbuf *out, int status, const char *ctype, const void *body,
       size_t len)
{
    struct tm_arena *a = tm_arena_new(len + (1u << 20));
    struct tm_buf b;
    tm_rc rc;

    if (a == NULL)
        return TM_ENOMEM;
    tm_buf_init(&b, a, len + 64u * 1024);
    if (status == 100)
        rc = tm_http_continue(&b);
    else if (status >= 400)
        rc = tm_http_error(&b, x->ok ? &x->r : NULL, status);
    else
        rc = tm_http_response(&b, status, ctype, body, len, x->ok && tm_http_keep_alive(&x->r));
    if (rc == TM_OK)
        rc = TM_DBUF_FROM(out, &b);
    tm_arena_free(a);
    return rc;
}

static void *
ht_open(const struct tm_daemon_cfg *cfg)
{
    struct sess *x = tm_xcalloc(1, sizeof(*x));
    struct tm_http_cfg c;

    tm_http_cfg_default(&c);
    c.max_body = cfg->limits.message_max_size;
    c.tamis_object = 1;
    x->ok = tm_http_init(&x->r, &c) == TM_OK;
    return x;
}

static void
ht_close(void *p)
{
    struct sess *x = p;

    if (x->ok)
        tm_http_free(&x->r);
    tm_free(x);
}

/* local - answer a request that needs no scan; the next request may follow */
static enum tm_sess_ev
local(struct sess *x, struct tm_dbuf *out)
{
    enum tm_http_endpoint ep = tm_http_endpoint(&x->r);
    int keep = tm_http_keep_alive(&x->r);
    struct tm_dbuf m;
    tm_rc rc;

    memset(&m, 0, sizeof(m));
    if (ep == TM_HTTP_EP_PING) {
        rc = answer(x, out, 200, "text/plain", "pong\r\n", 6);
    } else if (ep == TM_HTTP_EP_METRICS || ep == TM_HTTP_EP_STAT) {
        rc = tm_daemon_metrics(&m);
        if (rc == TM_OK)
            rc = answer(x, out, 200, "text/plain; version=0.0.4", m.p, m.len);
        tm_dbuf_free(&m);
    } else {
        rc = answer(x, out, 404, NULL, NULL, 0);
        keep = 0;
    }
    tm_http_reset(&x->r);
    return rc != TM_OK || !keep ? TM_SESS_CLOSE : TM_SESS_MORE;
}

static enum tm_sess_ev
ht_feed(void *p, const unsigned char *in, size_t n, size_t *used, struct tm_dbuf *out)
{
    struct sess *x = p;
    enum tm_http_state st = TM_HTTP_NEED_MORE;
    tm_rc rc;

    *used = 0;
    if (!x->ok) {
        (void)answer(x, out, 503, NULL, NULL, 0);
        return TM_SESS_ERROR;
    }
    if (n == 0)
        return TM_SESS_MORE;
    rc = tm_http_feed(&x->r, in, n, used, &st);
    if (st == TM_HTTP_ERROR || rc == TM_ENOMEM) {
        (void)answer(x, out, tm_http_status(&x->r) ? tm_http_status(&x->r) : 503, NULL, NULL, 0);
        return TM_SESS_ERROR;
    }
    if (st == TM_HTTP_CONTINUE) {
        (void)answer(x, out, 100, NULL, NULL, 0);
        return TM_SESS_MORE;
    }
    if (st != TM_HTTP_COMPLETE)
        return TM_SESS_MORE;
    if (tm_http_endpoint(&x->r) == TM_HTTP_EP_CHECKV2)
        return TM_SESS_MESSAGE;
    return local(x, out);
}

static void
copy_str(char *dst, size_t cap, struct tm_str s)
{
    snprintf(dst, cap, "%.*s", (int)(s.len < cap ? s.len : cap - 1), s.p ? (const char *)s.p : "");
}

static tm_rc
ht_message(void *p, const unsigned char **msg, size_t *len, struct tm_envelope *env)
{
    struct sess *x = p;
    const struct tm_http_env *e = tm_http_envelope(&x->r);
    struct tm_str b = tm_http_body(&x->r);
    size_t i;

    memset(env, 0, sizeof(*env));
    copy_str(env->client_ip, sizeof(env->client_ip), e->ip);
    copy_str(env->helo, sizeof(env->helo), e->helo);
    copy_str(env->mail_from, sizeof(env->mail_from), e->from);
    copy_str(env->queue_id, sizeof(env->queue_id), e->queue_id);
    copy_str(env->user, sizeof(env->user), e->user);
    for (i = 0; i < e->nrcpt && i < 8; i++)
        copy_str(env->rcpt[i], sizeof(env->rcpt[i]), e->rcpt[i]);
    env->nrcpt = e->nrcpt;
    *msg = b.p;
    *len = b.len;
    return TM_OK;
}

static tm_rc
ht_respond(void *p, struct tm_task *t, const struct tm_verdict *v, double scan_ms,
           struct tm_dbuf *out, int *close_after)
{
    struct sess *x = p;
    struct tm_buf b;
    tm_rc rc;

    *close_after = !tm_http_keep_alive(&x->r);
    tm_buf_init(&b, t->arena, 64u << 20);
    rc = tm_http_checkv2(t, v, &x->r, scan_ms, &b);
    if (rc == TM_OK)
        rc = TM_DBUF_FROM(out, &b);
    tm_http_reset(&x->r);
    return rc;
}

static tm_rc
ht_tempfail(void *p, struct tm_dbuf *out, int *close_after)
{
    struct sess *x = p;

    *close_after = 1;
    if (x->ok)
        tm_http_reset(&x->r);
    return answer(x, out, 503, NULL, NULL, 0);
}

static enum tm_sess_ev
ht_eof(void *p, struct tm_dbuf *out)
{
    (void)p;
    (void)out;
    return TM_SESS_CLOSE;
}

const struct tm_sess_ops tm_sess_http = {
    "http", ht_open, ht_close, ht_feed, ht_message, ht_respond, ht_tempfail, ht_eof,
};
