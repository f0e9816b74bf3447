/*
 * test_spf_suite.c - the openspf RFC 7208 test suite (release 2014.04,
 * data/rfc7208-tests.yml, see data/PROVENANCE.md) run through
 * tm_spf_check: each scenario's zone goes into the fake resolver and every
 * case's result must be one of those the suite accepts. Explanations are
 * compared when the case gives one ("DEFAULT" = no exp= text, which our
 * API reports as NULL), ignoring case, since the suite mixes the case of
 * hex digits that 7.3 leaves open.
 *
 * The YAML is converted once into data/rfc7208-tests.cases by
 * data/yaml2cases.py (checked in CTest when PyYAML is installed).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/spf.h"
#include "core/arena.h"
#include "core/str.h"
#include "dns/dns.h"
#include "fake_dns.h"
#include "suites.h"

#ifndef TM_SPF_DATA_DIR
#define TM_SPF_DATA_DIR "tests/unit/spf/data"
#endif

/* Fields of one line of the cases file */
#define SUITE_MAX_FIELDS 8

/*
 * Cases where we knowingly give another answer than the suite, with why.
 * Empty: every case of the suite passes.
 */
static const char *const suite_known[][2] = {
    {NULL, NULL},
};

struct suite_run {
    unsigned total, passed, known;
};

/* unescape - \xHH back to bytes, in place; returns the length */
static size_t
unescape(char *s)
{
    size_t i = 0, o = 0;

    while (s[i] != '\0') {
        if (s[i] == '\\' && s[i + 1] == 'x' && tm_hexval((unsigned char)s[i + 2]) >= 0 &&
            tm_hexval((unsigned char)s[i + 3]) >= 0) {
            s[o++] = (char)(tm_hexval((unsigned char)s[i + 2]) * 16 +
                            tm_hexval((unsigned char)s[i + 3]));
            i += 4;
        } else {
            s[o++] = s[i++];
        }
    }
    s[o] = '\0';
    return o;
}

/* split - the TAB-separated fields of line, unescaped; their count */
static size_t
split(char *line, char **f, size_t *len, size_t max)
{
    size_t n = 0;
    char *p = line, *t;

    line[strcspn(line, "\n")] = '\0';
    while (n < max) {
        f[n] = p;
        t = strchr(p, '\t');
        if (t != NULL)
            *t = '\0';
        len[n] = unescape(f[n]);
        n++;
        if (t == NULL)
            break;
        p = t + 1;
    }
    return n;
}

static const char *
known_reason(const char *name)
{
    size_t i;

    for (i = 0; suite_known[i][0] != NULL; i++)
        if (strcmp(suite_known[i][0], name) == 0)
            return suite_known[i][1];
    return NULL;
}

/* result_ok - is name one of the comma-separated results in list */
static int
result_ok(const char *list, const char *name)
{
    size_t n = strlen(name);
    const char *p = list;

    while (*p != '\0') {
        size_t k = strcspn(p, ",");

        if (k == n && strncmp(p, name, n) == 0)
            return 1;
        p += k;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* run_case - one "test" line: check it and report a failure */
static void
run_case(struct tm_dns *dns, char **f, struct suite_run *run)
{
    struct tm_arena *a = tm_arena_new(4u << 20);
    struct tm_dns_budget b = {1000, 0, 0};
    struct tm_spf_request q;
    struct tm_spf_result r;
    const char *why = NULL, *known;
    tm_rc rc;

    TM_ASSERT(a != NULL);
    memset(&q, 0, sizeof(q));
    q.ip = f[2];
    q.helo = f[3];
    q.mail_from = f[4];
    q.receiver = "receiver.example.org";
    q.now = 1400000000;
    rc = tm_spf_check(dns, a, &b, &q, &r);
    run->total++;
    if (rc != TM_OK)
        why = "error return";
    else if (!result_ok(f[5], tm_spf_result_name(r.result)))
        why = "result";
    else if (f[6][0] == '=' && strcmp(f[6] + 1, "DEFAULT") == 0 && r.explanation != NULL)
        why = "explanation (want the default)";
    else if (f[6][0] == '=' && strcmp(f[6] + 1, "DEFAULT") != 0 &&
             (r.explanation == NULL || strcasecmp(r.explanation, f[6] + 1) != 0))
        why = "explanation";
    if (why == NULL) {
        run->passed++;
    } else if ((known = known_reason(f[1])) != NULL) {
        run->known++;
        printf("  known deviation %s: %s\n", f[1], known);
    } else {
        tm_test_fail(__FILE__, __LINE__,
                     "rfc7208 %s: %s: got %s (%s) explanation \"%s\", want %s %s", f[1], why,
                     tm_spf_result_name(r.result), r.reason != NULL ? r.reason : "-",
                     r.explanation != NULL ? r.explanation : "", f[5], f[6]);
    }
    tm_arena_free(a);
}

TM_TEST(spf_rfc7208_suite)
{
    FILE *fp = fopen(TM_SPF_DATA_DIR "/rfc7208-tests.cases", "r");
    struct tm_dns *dns = NULL;
    struct suite_run run = {0, 0, 0};
    char *line = NULL, *f[SUITE_MAX_FIELDS];
    size_t cap = 0, len[SUITE_MAX_FIELDS], n;

    REQUIRE(fp != NULL);
    while (getline(&line, &cap, fp) > 0) {
        n = split(line, f, len, SUITE_MAX_FIELDS);
        if (strcmp(f[0], "suite") == 0) {
            tm_dns_free(dns);
            dns = fake_dns_new();
        } else if (strcmp(f[0], "zone") == 0 && n == 4 && dns != NULL) {
            if (!fake_dns_add(dns, f[1], f[2], f[3], len[3]))
                tm_test_fail(__FILE__, __LINE__, "bad zone line for %s %s", f[1], f[2]);
        } else if (strcmp(f[0], "test") == 0 && n == 7 && dns != NULL) {
            run_case(dns, f, &run);
        } else {
            tm_test_fail(__FILE__, __LINE__, "bad line \"%s\"", f[0]);
        }
    }
    free(line);
    fclose(fp);
    tm_dns_free(dns);
    printf("  rfc7208-tests.yml: %u of %u cases pass, %u known deviations\n", run.passed, run.total,
           run.known);
    CHECK_EQ_INT(run.total, 203);
}

const struct tm_test tests_spf_suite[] = {
    TM_TEST_ENTRY(spf_rfc7208_suite),
    TM_TEST_END,
};
