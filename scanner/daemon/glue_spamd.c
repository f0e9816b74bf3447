/*
 * glue_spamd.c - the spamd protocol (scanner/proto/spamd.h) as a tamisd
 * session: one request per connection, as spamd and spamc do it.
 */
#include "daemon/daemon.h"

#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/task.h"
#include "proto/spamd.h"

struct sess {
    struct tm_spamd s;
    size_t max_message;
    int ok; /* tm_spamd_init worked */
};

/* small_reply - an answer that needs no task (PING, errors, tempfail) through a scratch arena */
static tm_rc
small_reply(struct sess *x, struct tm_dbuf *out, int which, const char *why)
{
    struct tm_arena *a = tm_arena_new(1u << 20);
    struct tm_buf b;
    tm_rc rc;

    if (a == NULL)
        return TM_ENOMEM;
    tm_buf_init(&b, a, 64u * 1024);
    if (which == 0)
        rc = tm_spamd_respond(&x->s, NULL, NULL, &b);
    else if (which == 1)
        rc = tm_spamd_error(&x->s, &b);
    else
        rc = tm_spamd_tempfail(&b, why);
    if (rc == TM_OK)
        rc = TM_DBUF_FROM(out, &b);
    tm_arena_free(a);
    return rc;
}

static void *
sp_open(const struct tm_daemon_cfg *cfg)
{
    struct sess *x = tm_xcalloc(1, sizeof(*x));
    struct tm_spamd_cfg c;

    c.max_message = cfg->limits.message_max_size;
    x->max_message = c.max_message;
    x->ok = tm_spamd_init(&x->s, &c) == TM_OK;
    return x;
}

static void
sp_close(void *p)
{
    struct sess *x = p;

    if (x->ok)
        tm_spamd_free(&x->s);
    tm_free(x);
}

/* after - what a finished request (done) asks of the loop */
static enum tm_sess_ev
after(struct sess *x, tm_rc rc, struct tm_dbuf *out)
{
    if (rc != TM_OK) {
        (void)small_reply(x, out, 1, NULL);
        return TM_SESS_ERROR;
    }
    if (tm_spamd_needs_scan(&x->s))
        return TM_SESS_MESSAGE;
    (void)small_reply(x, out, 0, NULL); /* PING, SKIP, TELL */
    return TM_SESS_CLOSE;
}

static enum tm_sess_ev
sp_feed(void *p, const unsigned char *in, size_t n, size_t *used, struct tm_dbuf *out)
{
    struct sess *x = p;
    int done = 0;
    tm_rc rc;

    *used = n;
    if (!x->ok) {
        (void)small_reply(x, out, 2, "out of memory");
        return TM_SESS_ERROR;
    }
    if (n == 0)
        return TM_SESS_MORE;
    rc = tm_spamd_feed(&x->s, in, n, &done);
    return done ? after(x, rc, out) : TM_SESS_MORE;
}

static enum tm_sess_ev
sp_eof(void *p, struct tm_dbuf *out)
{
    struct sess *x = p;
    int done = 0;
    tm_rc rc;

    if (!x->ok || tm_spamd_method(&x->s) == TM_SPAMD_NONE)
        return TM_SESS_CLOSE;
    rc = tm_spamd_eof(&x->s, &done);
    return done ? after(x, rc, out) : TM_SESS_CLOSE;
}

static tm_rc
sp_message(void *p, const unsigned char **msg, size_t *len, struct tm_envelope *env)
{
    struct sess *x = p;

    /* spamd's User (spamc -u) names the user whose preferences apply, by
     * default the Unix account running spamc: not an authenticated
     * submitter, so it never reaches the sender-domain policy or signing */
    memset(env, 0, sizeof(*env));
    *msg = tm_spamd_message(&x->s, len);
    return *msg != NULL ? TM_OK : TM_EINVAL;
}

static tm_rc
sp_respond(void *p, struct tm_task *t, const struct tm_verdict *v, double scan_ms,
           struct tm_dbuf *out, int *close_after)
{
    struct sess *x = p;
    struct tm_buf b;
    size_t len;
    tm_rc rc;

    (void)scan_ms;
    (void)tm_spamd_message(&x->s, &len);
    *close_after = 1;
    tm_buf_init(&b, t->arena, len + (1u << 20));
    if ((rc = tm_spamd_respond(&x->s, t, v, &b)) != TM_OK)
        return rc;
    return TM_DBUF_FROM(out, &b);
}

static tm_rc
sp_tempfail(void *p, struct tm_dbuf *out, int *close_after)
{
    *close_after = 1;
    return small_reply(p, out, 2, "cannot scan now, try again later");
}

const struct tm_sess_ops tm_sess_spamd = {
    "spamd", sp_open, sp_close, sp_feed, sp_message, sp_respond, sp_tempfail, sp_eof,
};
