/*
 * glue_milter.c - the milter protocol (scanner/proto/milter.h) as a tamisd
 * session: many messages per connection, replies drained after every call.
 */
#include "daemon/daemon.h"

#include <stdio.h>
#include <string.h>

#include "core/task.h"
#include "proto/milter.h"

struct sess {
    struct tm_milter m;
    int ok;
};

static void *
mi_open(const struct tm_daemon_cfg *cfg)
{
    struct sess *x = tm_xcalloc(1, sizeof(*x));
    struct tm_milter_cfg c;

    tm_milter_cfg_default(&c);
    c.max_message = cfg->limits.message_max_size;
    x->ok = tm_milter_init(&x->m, &c) == TM_OK;
    return x;
}

static void
mi_close(void *p)
{
    struct sess *x = p;

    if (x->ok)
        tm_milter_free(&x->m);
    tm_free(x);
}

/* drain - the session's queued replies into the connection's buffer */
static tm_rc
drain(struct sess *x, struct tm_dbuf *out)
{
    size_t n;
    const unsigned char *o = tm_milter_output(&x->m, &n);
    tm_rc rc = tm_dbuf_append(out, o, n);

    if (rc == TM_OK)
        tm_milter_output_consume(&x->m, n);
    return rc;
}

static enum tm_sess_ev
mi_feed(void *p, const unsigned char *in, size_t n, size_t *used, struct tm_dbuf *out)
{
    struct sess *x = p;
    unsigned ev = 0;
    tm_rc rc;

    *used = n;
    if (!x->ok)
        return TM_SESS_ERROR;
    rc = tm_milter_feed(&x->m, n ? in : NULL, n, &ev);
    if (drain(x, out) != TM_OK || rc != TM_OK)
        return TM_SESS_ERROR;
    if (ev & TM_MILTER_EV_EOM)
        return TM_SESS_MESSAGE;
    if (ev & TM_MILTER_EV_QUIT)
        return TM_SESS_CLOSE;
    return TM_SESS_MORE;
}

static tm_rc
mi_message(void *p, const unsigned char **msg, size_t *len, struct tm_envelope *env)
{
    struct sess *x = p;
    const struct tm_milter_env *e = &x->m.env;
    const char *q = tm_milter_queue_id(&x->m), *u = tm_milter_auth_user(&x->m);
    size_t i;

    memset(env, 0, sizeof(*env));
    if (e->client_addr != NULL)
        snprintf(env->client_ip, sizeof(env->client_ip), "%s", e->client_addr);
    if (e->helo != NULL)
        snprintf(env->helo, sizeof(env->helo), "%s", e->helo);
    if (e->mail_from != NULL)
        snprintf(env->mail_from, sizeof(env->mail_from), "%s", e->mail_from);
    if (q != NULL)
        snprintf(env->queue_id, sizeof(env->queue_id), "%s", q);
    if (u != NULL)
        snprintf(env->user, sizeof(env->user), "%s", u);
    for (i = 0; i < e->nrcpt && i < 8; i++)
        snprintf(env->rcpt[i], sizeof(env->rcpt[i]), "%s", e->rcpts[i]);
    env->nrcpt = e->nrcpt;
    tm_milter_message(&x->m, msg, len);
    return TM_OK;
}

static tm_rc
mi_respond(void *p, struct tm_task *t, const struct tm_verdict *v, double scan_ms,
           struct tm_dbuf *out, int *close_after)
{
    struct sess *x = p;
    tm_rc rc;

    (void)scan_ms;
    *close_after = 0;
    if ((rc = tm_milter_verdict(&x->m, v, t)) != TM_OK)
        return rc;
    return drain(x, out);
}

static tm_rc
mi_tempfail(void *p, struct tm_dbuf *out, int *close_after)
{
    struct sess *x = p;

    *close_after = 0;
    if (tm_milter_tempfail(&x->m) != TM_OK)
        *close_after = 1;
    return drain(x, out);
}

static enum tm_sess_ev
mi_eof(void *p, struct tm_dbuf *out)
{
    (void)p;
    (void)out;
    return TM_SESS_CLOSE;
}

const struct tm_sess_ops tm_sess_milter = {
    "milter", mi_open, mi_close, mi_feed, mi_message, mi_respond, mi_tempfail, mi_eof,
};
