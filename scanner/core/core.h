/*
 * core.h - status codes, assertions, logging and engine-lifetime allocation.
 *
 * Three tiers of trouble (see docs/style.md): hostile input is a finding and
 * never reaches this file; failures are tm_rc values; bugs go to TM_ASSERT,
 * which stays on in release builds and aborts with file and line.
 */
#ifndef TM_CORE_CORE_H
#define TM_CORE_CORE_H

#include <stddef.h>
#include <stdint.h>

typedef enum tm_rc {
    TM_OK = 0,
    TM_EAGAIN = -1, /* need more input; not an error */
    TM_ELIMIT = -2, /* a configured bound was hit; caller records a finding */
    TM_EPROTO = -3, /* peer broke the wire protocol; drop the connection */
    TM_ENOMEM = -4, /* arena budget or malloc exhausted; task tempfails */
    TM_EIO = -5,    /* OS-level failure; errno is preserved */
    TM_EINVAL = -6, /* bad argument or configuration */
} tm_rc;

enum tm_log_level { TM_LOG_DEBUG, TM_LOG_INFO, TM_LOG_WARN, TM_LOG_ERR };

#define TM_PRINTF(a, b) __attribute__((format(printf, a, b)))

void tm_log(enum tm_log_level level, const char *fmt, ...) TM_PRINTF(2, 3);
void tm_log_set_level(enum tm_log_level level);
void tm_log_set_ident(const char *ident);
/* tm_log_to_syslog - send log lines to syslog (facility mail) instead of stderr */
void tm_log_to_syslog(int on);
_Noreturn void tm_panic(const char *file, int line, const char *fmt, ...) TM_PRINTF(3, 4);
_Noreturn void tm_fatal(const char *fmt, ...) TM_PRINTF(1, 2);
const char *tm_rc_str(tm_rc rc);

#define TM_ASSERT(e)                                                                               \
    do {                                                                                           \
        if (!(e))                                                                                  \
            tm_panic(__FILE__, __LINE__, "assertion failed: %s", #e);                              \
    } while (0)

/* Engine-lifetime allocation: failure is fatal (Postfix mymalloc). */
void *tm_xmalloc(size_t n);
void *tm_xcalloc(size_t n, size_t size);
void *tm_xrealloc(void *p, size_t n);
char *tm_xstrdup(const char *s);
/* tm_xstrdup_n - NUL-terminated copy of n bytes */
char *tm_xstrdup_n(const char *s, size_t n);
/* tm_calloc - fallible zeroed allocation (NULL on failure or at the failpoint) */
void *tm_calloc(size_t n, size_t size);
void tm_free(void *p);

/* tm_now_ms - monotonic clock in milliseconds, for scan timings */
double tm_now_ms(void);

/* tm_failpoint - true when the allocation under test should fail (TM_FAILPOINT=n) */
int tm_failpoint(void);

#define TM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TM_MAX(a, b) ((a) > (b) ? (a) : (b))
#define TM_NELEM(a)  (sizeof(a) / sizeof((a)[0]))

#endif
