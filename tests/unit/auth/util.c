/*
 * util.c - helpers of the auth tests: files from the data directories, a
 * test-local key table standing in for DNS, and byte edits for tampering.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/arc.h"
#include "auth/dkim.h"
#include "suites.h"

unsigned char *
tu_read(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    unsigned char *p;
    long n;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((fp = fopen(path, "rb")) == NULL) {
        tm_test_fail(__FILE__, __LINE__, "cannot open %s", path);
        return NULL;
    }
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    p = malloc((size_t)n + 1);
    if (p == NULL || fread(p, 1, (size_t)n, fp) != (size_t)n) {
        fclose(fp);
        free(p);
        return NULL;
    }
    fclose(fp);
    p[n] = '\0';
    *len = (size_t)n;
    return p;
}

char *
tu_read_record(const char *dir, const char *name)
{
    size_t n;
    char *p = (char *)tu_read(dir, name, &n);

    while (p != NULL && n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
        p[--n] = '\0';
    return p;
}

unsigned char *
tu_replace(const unsigned char *msg, size_t len, const char *from, const char *to, size_t *outlen)
{
    size_t fl = strlen(from), tl = strlen(to), i;
    unsigned char *o;

    for (i = 0; i + fl <= len; i++) {
        if (memcmp(msg + i, from, fl) != 0)
            continue;
        if ((o = malloc(len - fl + tl + 1)) == NULL)
            return NULL;
        memcpy(o, msg, i);
        memcpy(o + i, to, tl);
        memcpy(o + i + tl, msg + i + fl, len - i - fl);
        *outlen = len - fl + tl;
        o[*outlen] = '\0';
        return o;
    }
    tm_test_fail(__FILE__, __LINE__, "tu_replace: \"%s\" not found", from);
    return NULL;
}

unsigned char *
tu_crlf(const unsigned char *msg, size_t len, size_t *outlen)
{
    unsigned char *o = malloc(2 * len + 1);
    size_t i, k = 0;

    if (o == NULL)
        return NULL;
    for (i = 0; i < len; i++) {
        if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
            o[k++] = '\r';
        o[k++] = msg[i];
    }
    o[k] = '\0';
    *outlen = k;
    return o;
}

static const struct tu_key *
find(const struct tu_key *keys, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

static void
answer(const struct tu_key *keys, size_t nkeys, const char *name,
       tm_rc (*fn)(void *, size_t, enum tm_dns_status, const char *, size_t), void *v, size_t i)
{
    const struct tu_key *k = find(keys, nkeys, name);

    if (k == NULL)
        (void)fn(v, i, TM_DNS_NXDOMAIN, NULL, 0);
    else
        (void)fn(v, i, k->st, k->txt, k->txt != NULL ? strlen(k->txt) : 0);
}

static tm_rc
dkim_answer(void *v, size_t i, enum tm_dns_status st, const char *t, size_t n)
{
    return tm_dkim_verify_answer(v, i, st, t, n);
}

static tm_rc
arc_answer(void *v, size_t i, enum tm_dns_status st, const char *t, size_t n)
{
    return tm_arc_verify_answer(v, i, st, t, n);
}

tm_rc
tu_verify(struct tm_arena *a, const struct tm_dkim_config *cfg, const unsigned char *msg,
          size_t len, const struct tu_key *keys, size_t nkeys, struct tm_dkim_results *res)
{
    struct tm_dkim_verify *v;
    size_t i;
    tm_rc rc;

    if ((rc = tm_dkim_verify_begin(a, cfg, msg, len, &v)) != TM_OK)
        return rc;
    for (i = 0; i < tm_dkim_verify_nqueries(v); i++)
        answer(keys, nkeys, tm_dkim_verify_query(v, i), dkim_answer, v, i);
    return tm_dkim_verify_finish(v, res);
}

tm_rc
tu_arc_verify(struct tm_arena *a, const struct tm_dkim_config *cfg, const unsigned char *msg,
              size_t len, const struct tu_key *keys, size_t nkeys, struct tm_arc_result *res)
{
    struct tm_arc_verify *v;
    size_t i;
    tm_rc rc;

    if ((rc = tm_arc_verify_begin(a, cfg, msg, len, &v)) != TM_OK)
        return rc;
    for (i = 0; i < tm_arc_verify_nqueries(v); i++)
        answer(keys, nkeys, tm_arc_verify_query(v, i), arc_answer, v, i);
    return tm_arc_verify_finish(v, res);
}
