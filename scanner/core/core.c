/*
 * core.c - logging, panics, engine-lifetime allocation and failpoints.
 *
 * Log lines are one line each: "<ident>[pid]: <level>: msg". Untrusted text
 * must be clipped and escaped by the caller (tm_log_escape is not needed yet:
 * no message content is logged at info or above).
 */
#include "core/core.h"

#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static enum tm_log_level log_level = TM_LOG_WARN;
static const char *log_ident = "tamis";
static int log_syslog;

void
tm_log_set_level(enum tm_log_level level)
{
    log_level = level;
}

void
tm_log_set_ident(const char *ident)
{
    log_ident = ident;
}

void
tm_log_to_syslog(int on)
{
    if (on && !log_syslog)
        openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
    log_syslog = on;
}

static void vlog(enum tm_log_level lv, const char *level, const char *fmt, va_list ap)
    TM_PRINTF(3, 0);

static void
vlog(enum tm_log_level lv, const char *level, const char *fmt, va_list ap)
{
    static const int prio[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR};
    char line[1024];
    int n;

    n = vsnprintf(line, sizeof(line), fmt, ap);
    if (n < 0)
        return;
    if (log_syslog)
        syslog(prio[lv], "%s: %s", level, line);
    else
        fprintf(stderr, "%s[%ld]: %s: %s\n", log_ident, (long)getpid(), level, line);
}

void
tm_log(enum tm_log_level level, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warning", "error"};
    va_list ap;

    if (level < log_level)
        return;
    va_start(ap, fmt);
    vlog(level, names[level], fmt, ap);
    va_end(ap);
}

void
tm_panic(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s[%ld]: panic: %s:%d: ", log_ident, (long)getpid(), file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

void
tm_fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(TM_LOG_ERR, "fatal", fmt, ap);
    va_end(ap);
    exit(2);
}

const char *
tm_rc_str(tm_rc rc)
{
    switch (rc) {
    case TM_OK:
        return "ok";
    case TM_EAGAIN:
        return "need more input";
    case TM_ELIMIT:
        return "limit reached";
    case TM_EPROTO:
        return "protocol error";
    case TM_ENOMEM:
        return "out of memory";
    case TM_EIO:
        return "I/O error";
    case TM_EINVAL:
        return "invalid argument";
    }
    return "unknown error";
}

double
tm_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * tm_failpoint - allocation torture (curl's "torture" tests). With
 * TM_FAILPOINT=n in the environment, the n-th fallible allocation of the
 * process fails; every other allocation succeeds.
 */
static long failpoint_target; /* 0: off; set once by failpoint_init */
static _Atomic long failpoint_count;
static pthread_once_t failpoint_once = PTHREAD_ONCE_INIT;

static void
failpoint_init(void)
{
    const char *s = getenv("TM_FAILPOINT");
    char *end;
    long v;

    if (s == NULL || *s == '\0')
        return;
    v = strtol(s, &end, 10);
    if (*end == '\0' && v > 0)
        failpoint_target = v;
}

int
tm_failpoint(void)
{
    (void)pthread_once(&failpoint_once, failpoint_init);
    if (failpoint_target == 0)
        return 0;
    return atomic_fetch_add(&failpoint_count, 1) + 1 == failpoint_target;
}

void *
tm_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        tm_fatal("out of memory allocating %zu bytes", n);
    return p;
}

void *
tm_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (p == NULL)
        tm_fatal("out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *
tm_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        tm_fatal("out of memory reallocating %zu bytes", n);
    return q;
}

char *
tm_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = tm_xmalloc(n);

    memcpy(p, s, n);
    return p;
}

char *
tm_xstrdup_n(const char *s, size_t n)
{
    char *p = tm_xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void *
tm_calloc(size_t n, size_t size)
{
    if (tm_failpoint())
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void
tm_free(void *p)
{
    free(p);
}
