/*
 * harness.h - the in-house unit test harness (no external framework).
 *
 * A test is a function defined with TM_TEST(name). Each test file exports one
 * table of struct tm_test ending with TM_TEST_END, and the module's main file
 * hands its tables to tm_test_main(). That runs every test, or only those
 * named on the command line, prints "ok NAME" or "FAIL NAME" for each, then
 * "N passed, N failed", and returns non-zero when anything failed.
 *
 * CHECK* macros record a failure with file:line and both values (bytes are
 * hex-escaped) and let the test go on. REQUIRE* also return from the test;
 * use them for pointers that the rest of the test dereferences.
 *
 * Each test runs in a forked child with an alarm, so a crash, an abort from
 * TM_ASSERT or a hang fails that one test and the run goes on. With
 * TM_TEST_NOFORK=1 in the environment the tests run in process (debuggers).
 * The child leaves through exit(), so LeakSanitizer still reports leaks.
 *
 * Exactly one file per binary defines TM_TEST_IMPL and includes this header
 * as its first include (the implementation needs _POSIX_C_SOURCE for fork).
 */
#ifndef TM_TESTS_HARNESS_H
#define TM_TESTS_HARNESS_H

#if defined(TM_TEST_IMPL) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <stddef.h>
#include <string.h>

struct tm_test {
    const char *name;
    void (*fn)(void);
};

/* clang-format off: it splits brace initialisers in macros and breaks #name */
#define TM_TEST(name) static void name(void)
#define TM_TEST_ENTRY(name) \
    {                       \
#name, name         \
    }
#define TM_TEST_END \
    {               \
        NULL, NULL  \
    }
/* clang-format on */

/*
 * Seconds a forked test may run before it is killed and reported: a guard
 * against hangs, not a speed check. The tests over the whole stock rule
 * set and corpus (relax_unit_stock runs PCRE2 on 11,397 pieces) take
 * several times longer under the sanitizers, on a CI machine that runs two
 * test programs at once; there the guard is 120 s.
 */
#if defined(__SANITIZE_ADDRESS__)
#define TM_TEST_TIMEOUT 120
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TM_TEST_TIMEOUT 120
#endif
#endif
#ifndef TM_TEST_TIMEOUT
#define TM_TEST_TIMEOUT 30
#endif

/* Bytes of a value shown in a failure message before "...". */
#define TM_TEST_SHOW_MAX 200

#define TM_TEST_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* tm_test_fail - record a failed check in the running test and print it */
void tm_test_fail(const char *file, int line, const char *fmt, ...) TM_TEST_PRINTF(3, 4);
/* tm_test_mem - compare two byte ranges; on mismatch print both, escaped */
int tm_test_mem(const char *file, int line, const char *aexpr, const void *a, size_t alen,
                const char *bexpr, const void *b, size_t blen);
/* tm_test_str - NUL-terminated variant of tm_test_mem; NULL only equals NULL */
int tm_test_str(const char *file, int line, const char *aexpr, const char *a, const char *bexpr,
                const char *b);
/* tm_test_failed - number of failed checks so far in the running test */
unsigned tm_test_failed(void);
/* tm_test_main - run the tests of NULL-terminated `suites` as selected by argv */
int tm_test_main(int argc, char **argv, const struct tm_test *const *suites);

#define CHECK(cond)                                               \
    do {                                                          \
        if (!(cond))                                              \
            tm_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
    } while (0)

#define REQUIRE(cond)                                                             \
    do {                                                                          \
        if (!(cond)) {                                                            \
            tm_test_fail(__FILE__, __LINE__, "REQUIRE(%s), test stopped", #cond); \
            return;                                                               \
        }                                                                         \
    } while (0)

#define CHECK_EQ_SIZE(a, b)                                                                      \
    do {                                                                                         \
        size_t tm_a_ = (size_t)(a), tm_b_ = (size_t)(b);                                         \
        if (tm_a_ != tm_b_)                                                                      \
            tm_test_fail(__FILE__, __LINE__, "CHECK_EQ_SIZE(%s, %s): %zu != %zu", #a, #b, tm_a_, \
                         tm_b_);                                                                 \
    } while (0)

#define CHECK_LE_SIZE(a, b)                                                                     \
    do {                                                                                        \
        size_t tm_a_ = (size_t)(a), tm_b_ = (size_t)(b);                                        \
        if (!(tm_a_ <= tm_b_))                                                                  \
            tm_test_fail(__FILE__, __LINE__, "CHECK_LE_SIZE(%s, %s): %zu > %zu", #a, #b, tm_a_, \
                         tm_b_);                                                                \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                        \
    do {                                                                                          \
        long long tm_a_ = (long long)(a), tm_b_ = (long long)(b);                                 \
        if (tm_a_ != tm_b_)                                                                       \
            tm_test_fail(__FILE__, __LINE__, "CHECK_EQ_INT(%s, %s): %lld != %lld", #a, #b, tm_a_, \
                         tm_b_);                                                                  \
    } while (0)

/* Flag words: all bits of `mask` set, or none of them set. */
#define CHECK_FLAGS(flags, mask)                                                               \
    do {                                                                                       \
        unsigned long tm_f_ = (unsigned long)(flags), tm_m_ = (unsigned long)(mask);           \
        if ((tm_f_ & tm_m_) != tm_m_)                                                          \
            tm_test_fail(__FILE__, __LINE__, "CHECK_FLAGS(%s, %s): 0x%lx lacks 0x%lx", #flags, \
                         #mask, tm_f_, tm_m_ & ~tm_f_);                                        \
    } while (0)

#define CHECK_NOFLAGS(flags, mask)                                                             \
    do {                                                                                       \
        unsigned long tm_f_ = (unsigned long)(flags), tm_m_ = (unsigned long)(mask);           \
        if ((tm_f_ & tm_m_) != 0)                                                              \
            tm_test_fail(__FILE__, __LINE__, "CHECK_NOFLAGS(%s, %s): 0x%lx has 0x%lx", #flags, \
                         #mask, tm_f_, (tm_f_ & tm_m_));                                       \
    } while (0)

#define CHECK_MEM(a, alen, b, blen) \
    ((void)tm_test_mem(__FILE__, __LINE__, #a, (a), (size_t)(alen), #b, (b), (size_t)(blen)))

#define REQUIRE_MEM(a, alen, b, blen)                                                           \
    do {                                                                                        \
        if (!tm_test_mem(__FILE__, __LINE__, #a, (a), (size_t)(alen), #b, (b), (size_t)(blen))) \
            return;                                                                             \
    } while (0)

#define CHECK_STR(a, b) ((void)tm_test_str(__FILE__, __LINE__, #a, (a), #b, (b)))

/* A string literal as the (const unsigned char *, size_t) pair parsers take. */
#define TM_LIT(s) (const unsigned char *)(s), (sizeof(s) - 1)

#ifdef TM_TEST_IMPL

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <errno.h>

static unsigned tm_test_nfail;
static const char *tm_test_current = "?";

unsigned
tm_test_failed(void)
{
    return tm_test_nfail;
}

void
tm_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    tm_test_nfail++;
    printf("  %s:%d: [%s] ", file, line, tm_test_current);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

/* tm_test_show - print bytes as a C string literal, clipped to TM_TEST_SHOW_MAX */
static void
tm_test_show(const unsigned char *p, size_t len)
{
    size_t i, n = len < TM_TEST_SHOW_MAX ? len : TM_TEST_SHOW_MAX;

    if (p == NULL) {
        printf("NULL");
        return;
    }
    putchar('"');
    for (i = 0; i < n; i++) {
        unsigned char c = p[i];

        if (c == '\\' || c == '"')
            printf("\\%c", c);
        else if (c == '\r')
            printf("\\r");
        else if (c == '\n')
            printf("\\n");
        else if (c == '\t')
            printf("\\t");
        else if (c >= 0x20 && c < 0x7f)
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    putchar('"');
    if (n < len)
        printf("...(%zu more)", len - n);
    printf(" (len %zu)", len);
}

int
tm_test_mem(const char *file, int line, const char *aexpr, const void *a, size_t alen,
            const char *bexpr, const void *b, size_t blen)
{
    const unsigned char *pa = a, *pb = b;
    size_t i, n = alen < blen ? alen : blen;

    if (alen == blen && (alen == 0 || (pa != NULL && pb != NULL && memcmp(pa, pb, alen) == 0)))
        return 1;
    for (i = 0; pa != NULL && pb != NULL && i < n && pa[i] == pb[i]; i++)
        ;
    tm_test_fail(file, line, "CHECK_MEM(%s, %s) differ at offset %zu", aexpr, bexpr, i);
    printf("    %s = ", aexpr);
    tm_test_show(pa, alen);
    printf("\n    %s = ", bexpr);
    tm_test_show(pb, blen);
    printf("\n");
    fflush(stdout);
    return 0;
}

int
tm_test_str(const char *file, int line, const char *aexpr, const char *a, const char *bexpr,
            const char *b)
{
    if (a == NULL || b == NULL) {
        if (a == b)
            return 1;
        tm_test_fail(file, line, "CHECK_STR(%s, %s): one is NULL", aexpr, bexpr);
        printf("    %s = ", aexpr);
        tm_test_show((const unsigned char *)a, a ? strlen(a) : 0);
        printf("\n    %s = ", bexpr);
        tm_test_show((const unsigned char *)b, b ? strlen(b) : 0);
        printf("\n");
        fflush(stdout);
        return 0;
    }
    return tm_test_mem(file, line, aexpr, a, strlen(a), bexpr, b, strlen(b));
}

/* tm_test_run_one - run one test, in a child unless nofork; 1 when it passed */
static int
tm_test_run_one(const struct tm_test *t, int nofork)
{
    pid_t pid, w;
    int st;

    tm_test_current = t->name;
    tm_test_nfail = 0;
    fflush(stdout);
    fflush(stderr);
    pid = nofork ? -1 : fork();
    if (pid < 0) {
        t->fn();
        return tm_test_nfail == 0;
    }
    if (pid == 0) {
        alarm(TM_TEST_TIMEOUT);
        t->fn();
        fflush(stdout);
        exit(tm_test_nfail == 0 ? 0 : 1);
    }
    do
        w = waitpid(pid, &st, 0);
    while (w < 0 && errno == EINTR);
    if (w < 0) {
        printf("  [%s] waitpid failed\n", t->name);
        return 0;
    }
    if (WIFEXITED(st)) {
        if (WEXITSTATUS(st) > 1)
            printf("  [%s] child exited with status %d (sanitizer report above?)\n", t->name,
                   WEXITSTATUS(st));
        return WEXITSTATUS(st) == 0;
    }
    if (WIFSIGNALED(st))
        printf("  [%s] killed by signal %d%s\n", t->name, WTERMSIG(st),
               WTERMSIG(st) == SIGALRM ? " (timeout)" : "");
    return 0;
}

/* tm_test_find - the test called `name` in the suites, or NULL */
static const struct tm_test *
tm_test_find(const struct tm_test *const *suites, const char *name)
{
    const struct tm_test *t;
    size_t s;

    for (s = 0; suites[s] != NULL; s++)
        for (t = suites[s]; t->name != NULL; t++)
            if (strcmp(t->name, name) == 0)
                return t;
    return NULL;
}

int
tm_test_main(int argc, char **argv, const struct tm_test *const *suites)
{
    const struct tm_test *t;
    const char *env = getenv("TM_TEST_NOFORK");
    int nofork = env != NULL && *env != '\0' && *env != '0';
    unsigned passed = 0, failed = 0;
    size_t s;
    int i;

    if (argc > 1 && (strcmp(argv[1], "-l") == 0 || strcmp(argv[1], "--list") == 0)) {
        for (s = 0; suites[s] != NULL; s++)
            for (t = suites[s]; t->name != NULL; t++)
                printf("%s\n", t->name);
        return 0;
    }
    if (argc > 1) {
        for (i = 1; i < argc; i++) {
            if ((t = tm_test_find(suites, argv[i])) == NULL) {
                printf("FAIL %s (no such test; -l lists them)\n", argv[i]);
                failed++;
            } else if (tm_test_run_one(t, nofork)) {
                printf("ok %s\n", t->name);
                passed++;
            } else {
                printf("FAIL %s\n", t->name);
                failed++;
            }
        }
    } else {
        for (s = 0; suites[s] != NULL; s++) {
            for (t = suites[s]; t->name != NULL; t++) {
                if (tm_test_run_one(t, nofork)) {
                    printf("ok %s\n", t->name);
                    passed++;
                } else {
                    printf("FAIL %s\n", t->name);
                    failed++;
                }
            }
        }
    }
    printf("%u passed, %u failed\n", passed, failed);
    fflush(stdout);
    return failed == 0 ? 0 : 1;
}

#endif /* TM_TEST_IMPL */

#endif
