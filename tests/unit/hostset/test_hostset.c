/*
 * test_hostset.c - host/domain lists (scanner/url/list.c): the line syntax
 * (comments, blanks, "*." and ".", URLs, case, trailing dot, IDN, IPv4,
 * IPv6), bad lines counted and reported as file:line, parent-domain
 * matching and its negatives, file edge cases (empty, missing, no final
 * newline, CRLF, duplicates) and a large random set.
 *
 * The data files are hand-written (tests/data/hostset/PROVENANCE.md); the
 * expected counts below were worked out by reading them line by line.
 */
#include "harness.h"
#include "suites.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "url/list.h"

#ifndef TM_HOSTSET_DATA_DIR
#define TM_HOSTSET_DATA_DIR "tests/data/hostset"
#endif

/* A char literal as the (const char *, size_t) pair tm_hostset_add takes. */
#define TM_HS_LIT(s) (s), (sizeof(s) - 1)

/* Entries and lines of the random-set tests. */
#define BIG_N 200000

static const char *
data_path(const char *name)
{
    static char buf[4096];

    snprintf(buf, sizeof(buf), "%s/%s", TM_HOSTSET_DATA_DIR, name);
    return buf;
}

static const char *
match(const struct tm_hostset *s, const char *host)
{
    return tm_hostset_match(s, host, strlen(host));
}

/* load a data file that must load; the err text comes back in err */
static struct tm_hostset *
load(const char *name, char *err, size_t errlen, struct tm_hostset_stats *st)
{
    struct tm_hostset *s = tm_hostset_new();
    tm_rc rc = tm_hostset_load(s, data_path(name), err, errlen);

    CHECK_EQ_INT(rc, TM_OK);
    tm_hostset_stats(s, st);
    return s;
}

/* basic.txt: 17 lines, 12 distinct entries, lines 14 and 16 bad */
TM_TEST(hostset_basic_counts)
{
    char err[512], want[4200];
    struct tm_hostset_stats st;
    struct tm_hostset *s = load("basic.txt", err, sizeof(err), &st);

    CHECK_EQ_SIZE(st.lines, 17);
    CHECK_EQ_SIZE(st.entries, 12);
    CHECK_EQ_SIZE(st.bad, 2);
    CHECK(st.bytes > 0);
    CHECK(st.load_ms >= 0.0);
    snprintf(want, sizeof(want), "%s:14: blank or control byte inside the entry",
             data_path("basic.txt"));
    CHECK_STR(err, want);
    tm_hostset_free(s);
}

TM_TEST(hostset_basic_entries)
{
    char err[512];
    struct tm_hostset_stats st;
    struct tm_hostset *s = load("basic.txt", err, sizeof(err), &st);

    CHECK_STR(match(s, "evil.example"), "evil.example");
    CHECK_STR(match(s, "wild.example"), "wild.example"); /* "*.x" covers x */
    CHECK_STR(match(s, "a.wild.example"), "wild.example");
    CHECK_STR(match(s, "dot.example"), "dot.example"); /* ".x", comment cut */
    CHECK_STR(match(s, "www.dot.example"), "dot.example");
    CHECK_STR(match(s, "url.example"), "url.example"); /* URL: host only */
    CHECK_STR(match(s, "upper.case.example"), "upper.case.example");
    CHECK_STR(match(s, "trailing.example"), "trailing.example");
    CHECK_STR(match(s, "xn--bcher-kva.example"), "xn--bcher-kva.example");
    CHECK_STR(match(s, "shop.xn--bcher-kva.example"), "xn--bcher-kva.example");
    CHECK_STR(match(s, "indented.example"), "indented.example");
    CHECK_STR(match(s, "under_score.example"), "under_score.example");
    CHECK(match(s, "bad.example") == NULL);  /* "-bad.example" was rejected */
    CHECK(match(s, "case.example") == NULL); /* a child entry does not cover its parent */
    CHECK(match(s, "bcher.example") == NULL);
    CHECK(match(s, "example") == NULL);
    CHECK(match(s, "not") == NULL);
    tm_hostset_free(s);
}

TM_TEST(hostset_parent_domains)
{
    struct tm_hostset *s = tm_hostset_new();

    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("evil.example")), TM_OK);
    CHECK_STR(match(s, "evil.example"), "evil.example");
    CHECK_STR(match(s, "a.evil.example"), "evil.example");
    CHECK_STR(match(s, "a.b.evil.example"), "evil.example");
    CHECK_STR(match(s, "a.b.evil.example."), "evil.example"); /* trailing dot */
    CHECK_STR(match(s, "A.B.EVIL.Example"), "evil.example");  /* folded anyway */
    CHECK(match(s, "notevil.example") == NULL);
    CHECK(match(s, "a.notevil.example") == NULL);
    CHECK(match(s, "evil.example.com") == NULL);
    CHECK(match(s, "vil.example") == NULL);
    CHECK(match(s, "example") == NULL);
    CHECK(match(s, "") == NULL);
    CHECK(match(s, ".") == NULL);
    CHECK(match(s, "evil..example") == NULL);
    CHECK(tm_hostset_match(s, "evil.example", 4) == NULL); /* n, not strlen */
    /* a second, more specific entry: the longest (the host itself) is found first */
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("b.evil.example")), TM_OK);
    CHECK_STR(match(s, "a.b.evil.example"), "b.evil.example");
    CHECK_STR(match(s, "c.evil.example"), "evil.example");
    tm_hostset_free(s);
}

/* Hosts-file lines, as many published blocklists come (eth-phishing-detect's hosts.txt). */
TM_TEST(hostset_hosts_file_lines)
{
    struct tm_hostset *s = tm_hostset_new();
    struct tm_hostset_stats st;

    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("0.0.0.0 evil.example")), TM_OK);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("127.0.0.1\tphish.test")), TM_OK);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("::1 bad.example.org  # comment")), TM_OK);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("127.0.0.1 localhost")), TM_EINVAL); /* no entry */
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("0.0.0.0 a.example b.example")), TM_EINVAL);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("192.0.2.1 evil.example")), TM_EINVAL);
    CHECK_STR(match(s, "www.evil.example"), "evil.example");
    CHECK_STR(match(s, "phish.test"), "phish.test");
    CHECK_STR(match(s, "bad.example.org"), "bad.example.org");
    CHECK(match(s, "localhost") == NULL);
    CHECK(match(s, "0.0.0.0") == NULL);
    tm_hostset_stats(s, &st);
    CHECK_EQ_SIZE(st.entries, 3);
    tm_hostset_free(s);
}

/* A host longer than any name: only its last 253 bytes can match. */
TM_TEST(hostset_long_host)
{
    struct tm_hostset *s = tm_hostset_new();
    char host[1200];

    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("evil.example")), TM_OK);
    memset(host, 'a', sizeof(host));
    memcpy(host + 1000, ".evil.example", 14); /* 1013 bytes and NUL */
    CHECK_STR(match(s, host), "evil.example");
    memset(host, 'a', sizeof(host));
    memcpy(host + 247, ".evil.example", 14); /* 260: clipped inside the first label */
    CHECK_STR(match(s, host), "evil.example");
    memset(host, 'a', sizeof(host));
    memcpy(host + 1000, "evil.example", 13); /* "aaa...aevil.example" */
    CHECK(match(s, host) == NULL);
    memcpy(host + 248, "evil.example", 13); /* 260 bytes, no label boundary */
    CHECK(match(s, host) == NULL);
    tm_hostset_free(s);
}

TM_TEST(hostset_ip)
{
    char err[512];
    struct tm_hostset_stats st;
    struct tm_hostset *s = load("basic.txt", err, sizeof(err), &st);

    CHECK_STR(match(s, "198.51.100.7"), "198.51.100.7");
    CHECK(match(s, "198.51.100.70") == NULL);
    CHECK(match(s, "1.198.51.100.7") == NULL); /* no suffix match for addresses */
    CHECK(match(s, "51.100.7") == NULL);
    CHECK_STR(match(s, "2001:db8::1"), "2001:db8::1"); /* from http://[2001:DB8::1]:8080/x */
    CHECK_STR(match(s, "[2001:db8::1]"), "2001:db8::1");
    CHECK_STR(match(s, "2001:DB8:0::1"), "2001:db8::1"); /* canonicalised */
    CHECK_STR(match(s, "2001:db8::2"), "2001:db8::2");   /* from the long form */
    CHECK(match(s, "2001:db8::3") == NULL);
    CHECK(match(s, "::1") == NULL);
    tm_hostset_free(s);

    s = tm_hostset_new();
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("[::ffff:192.0.2.1]")), TM_OK);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("192.0.2.255")), TM_OK);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("http://192.0.2.9:25/")), TM_OK);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("192.0.2.256")), TM_EINVAL);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("192.0.2")), TM_EINVAL);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("1:2:3")), TM_EINVAL);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("[192.0.2.1]")), TM_OK); /* inet_pton v4 in [] */
    CHECK_STR(match(s, "::ffff:192.0.2.1"), "::ffff:192.0.2.1");
    CHECK_STR(match(s, "192.0.2.255"), "192.0.2.255");
    CHECK_STR(match(s, "192.0.2.9"), "192.0.2.9");
    CHECK_STR(match(s, "192.0.2.1"), "192.0.2.1");
    tm_hostset_free(s);
}

TM_TEST(hostset_add_syntax)
{
    struct tm_hostset *s = tm_hostset_new();
    struct tm_hostset_stats st;

    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("")), TM_EINVAL);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("   ")), TM_EINVAL);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("# only a comment")), TM_EINVAL);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("two words")), TM_EINVAL);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("a..b")), TM_EINVAL);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("-a.example")), TM_EINVAL);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("a-.example")), TM_EINVAL);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("a!.example")), TM_EINVAL);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("*.")), TM_EINVAL);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT(".")), TM_EINVAL);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("http://")), TM_EINVAL);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("http://x.example:80a/")), TM_EINVAL);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("a\0b.example")), TM_EINVAL);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("\xff\xfe.example")), TM_EINVAL); /* not UTF-8 */
    tm_hostset_stats(s, &st);
    CHECK_EQ_SIZE(st.entries, 0);

    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("a-b.example")), TM_OK);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("xn--bcher-kva.example")), TM_OK);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("B\xc3\x9c"
                                             "CHER.example")),
                 TM_OK); /* BÜCHER */
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("ftp://u@host.example")), TM_OK);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("port.example:8080")), TM_OK);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("path.example/x/y")), TM_OK);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("  spaced.example  # why")), TM_OK);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("localhost")), TM_OK);
    CHECK_EQ_INT(tm_hostset_add(s, TM_HS_LIT("stra\xc3\x9f"
                                             "e.example")),
                 TM_OK); /* straße */
    tm_hostset_stats(s, &st);
    CHECK_EQ_SIZE(st.entries, 8); /* xn--bcher-kva twice */
    CHECK_STR(match(s, "xn--bcher-kva.example"), "xn--bcher-kva.example");
    CHECK_STR(match(s, "host.example"), "host.example");
    CHECK_STR(match(s, "port.example"), "port.example");
    CHECK_STR(match(s, "path.example"), "path.example");
    CHECK_STR(match(s, "spaced.example"), "spaced.example");
    CHECK_STR(match(s, "localhost"), "localhost");
    /* non-transitional: "ß" is kept, not mapped to "ss" */
    CHECK_STR(match(s, "xn--strae-oqa.example"), "xn--strae-oqa.example");
    CHECK(match(s, "strasse.example") == NULL);
    tm_hostset_free(s);
}

TM_TEST(hostset_bad_lines)
{
    char err[512], want[4200];
    struct tm_hostset_stats st;
    struct tm_hostset *s = load("bad.txt", err, sizeof(err), &st);

    CHECK_EQ_SIZE(st.lines, 11);
    CHECK_EQ_SIZE(st.entries, 2);
    CHECK_EQ_SIZE(st.bad, 8);
    snprintf(want, sizeof(want), "%s:3: empty label", data_path("bad.txt"));
    CHECK_STR(err, want);
    CHECK_STR(match(s, "ok.example"), "ok.example");
    CHECK_STR(match(s, "good.example"), "good.example");
    CHECK(match(s, "example") == NULL);
    CHECK(match(s, "a.example") == NULL);
    tm_hostset_free(s);

    /* a short err buffer is truncated, a NULL one is ignored */
    s = tm_hostset_new();
    CHECK_EQ_INT(tm_hostset_load(s, data_path("bad.txt"), err, 6), TM_OK);
    CHECK_EQ_SIZE(strlen(err), 5);
    CHECK_EQ_INT(tm_hostset_load(s, data_path("bad.txt"), NULL, 0), TM_OK);
    tm_hostset_stats(s, &st);
    CHECK_EQ_SIZE(st.bad, 16);
    CHECK_EQ_SIZE(st.lines, 22);
    CHECK_EQ_SIZE(st.entries, 2);
    tm_hostset_free(s);
}

TM_TEST(hostset_empty_file)
{
    char err[512] = "junk";
    struct tm_hostset_stats st;
    struct tm_hostset *s = load("empty.txt", err, sizeof(err), &st);

    CHECK_STR(err, "");
    CHECK_EQ_SIZE(st.lines, 0);
    CHECK_EQ_SIZE(st.entries, 0);
    CHECK_EQ_SIZE(st.bad, 0);
    CHECK(match(s, "example") == NULL);
    tm_hostset_free(s);
}

TM_TEST(hostset_missing_file)
{
    char err[512], want[4200];
    struct tm_hostset *s = tm_hostset_new();
    struct tm_hostset_stats st;

    CHECK_EQ_INT(tm_hostset_load(s, data_path("no-such-file.txt"), err, sizeof(err)), TM_EIO);
    snprintf(want, sizeof(want), "%s: ", data_path("no-such-file.txt"));
    CHECK(strncmp(err, want, strlen(want)) == 0);
    CHECK(strstr(err, "No such file") != NULL);
    CHECK_EQ_INT(tm_hostset_load(s, TM_HOSTSET_DATA_DIR, err, sizeof(err)), TM_EIO); /* a dir */
    tm_hostset_stats(s, &st);
    CHECK_EQ_SIZE(st.entries, 0);
    tm_hostset_free(s);
}

/* A file over 1 GiB is refused before it is read (a sparse file: no disk used). */
TM_TEST(hostset_too_big)
{
    char path[] = "/tmp/test_hostset_XXXXXX", err[512];
    struct tm_hostset *s;
    int fd, trunc;

    REQUIRE((fd = mkstemp(path)) >= 0);
    trunc = ftruncate(fd, ((off_t)1 << 30) + 1);
    close(fd);
    if (trunc != 0) {
        unlink(path);
        REQUIRE(trunc == 0);
    }
    s = tm_hostset_new();
    CHECK_EQ_INT(tm_hostset_load(s, path, err, sizeof(err)), TM_EIO);
    unlink(path);
    CHECK(strstr(err, "larger than") != NULL);
    tm_hostset_free(s);
}

TM_TEST(hostset_no_final_newline)
{
    char err[512];
    struct tm_hostset_stats st;
    struct tm_hostset *s = load("nonl.txt", err, sizeof(err), &st);

    CHECK_EQ_SIZE(st.lines, 2);
    CHECK_EQ_SIZE(st.entries, 2);
    CHECK_EQ_SIZE(st.bad, 0);
    CHECK_STR(match(s, "first.example"), "first.example");
    CHECK_STR(match(s, "last.example"), "last.example");
    tm_hostset_free(s);
}

TM_TEST(hostset_crlf)
{
    char err[512];
    struct tm_hostset_stats st;
    struct tm_hostset *s = load("crlf.txt", err, sizeof(err), &st);

    CHECK_STR(err, "");
    CHECK_EQ_SIZE(st.lines, 5);
    CHECK_EQ_SIZE(st.entries, 3);
    CHECK_EQ_SIZE(st.bad, 0);
    CHECK_STR(match(s, "one.example"), "one.example");
    CHECK_STR(match(s, "two.example"), "two.example");
    CHECK_STR(match(s, "x.three.example"), "three.example");
    tm_hostset_free(s);
}

TM_TEST(hostset_duplicates)
{
    char err[512];
    struct tm_hostset_stats st, st2;
    struct tm_hostset *s = load("dups.txt", err, sizeof(err), &st);

    CHECK_EQ_SIZE(st.lines, 6);
    CHECK_EQ_SIZE(st.entries, 2);
    CHECK_EQ_SIZE(st.bad, 0);
    /* loading the same file again adds nothing but lines */
    CHECK_EQ_INT(tm_hostset_load(s, data_path("dups.txt"), err, sizeof(err)), TM_OK);
    tm_hostset_stats(s, &st2);
    CHECK_EQ_SIZE(st2.entries, 2);
    CHECK_EQ_SIZE(st2.lines, 12);
    CHECK_STR(match(s, "dup.example"), "dup.example");
    CHECK_STR(match(s, "other.example"), "other.example");
    tm_hostset_free(s);
}

/* ---- large random sets ---------------------------------------------------- */

static uint64_t rng_state;

static uint64_t
rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* random name number i: 1-3 labels of 3-14 letters/digits/'-' under `tld` */
static size_t
rand_name(char *out, size_t i, const char *tld)
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    size_t n = 0, labels = 1 + (size_t)(rng() % 3), l, k, len;

    for (l = 0; l < labels; l++) {
        len = 3 + (size_t)(rng() % 12);
        for (k = 0; k < len; k++)
            out[n++] = al[rng() % (sizeof(al) - 1)];
        out[n++] = '.';
    }
    /* the number makes every name distinct */
    n += (size_t)snprintf(out + n, 64, "n%zu.%s", i, tld);
    return n;
}

/* 200k random names added, each found (also as a parent); 200k others not */
TM_TEST(hostset_big_random)
{
    struct tm_hostset *s = tm_hostset_new();
    struct tm_hostset_stats st;
    char name[256], sub[300];
    size_t i, n, bad = 0, miss = 0, hit = 0;

    rng_state = 42;
    for (i = 0; i < BIG_N; i++) {
        n = rand_name(name, i, "example");
        if (tm_hostset_add(s, name, n) != TM_OK)
            bad++;
    }
    CHECK_EQ_SIZE(bad, 0);
    tm_hostset_stats(s, &st);
    CHECK_EQ_SIZE(st.entries, BIG_N);
    CHECK(st.bytes >= (size_t)BIG_N * 2 * 8); /* load <= 1/2, 8-byte slots */
    CHECK(st.bytes < (size_t)BIG_N * 64);
    rng_state = 42;
    for (i = 0; i < BIG_N; i++) {
        const char *r;

        n = rand_name(name, i, "example");
        r = tm_hostset_match(s, name, n);
        if (r == NULL || strcmp(r, name) != 0)
            miss++;
        snprintf(sub, sizeof(sub), "www.%s", name);
        r = match(s, sub);
        if (r == NULL || strcmp(r, name) != 0)
            miss++;
    }
    CHECK_EQ_SIZE(miss, 0);
    rng_state = 4242;
    for (i = 0; i < BIG_N; i++) {
        n = rand_name(name, i, "invalid"); /* another TLD: nothing covers them */
        if (tm_hostset_match(s, name, n) != NULL)
            hit++;
        n = rand_name(name, i + BIG_N, "example"); /* the same TLD, numbers not used */
        if (tm_hostset_match(s, name, n) != NULL)
            hit++;
    }
    CHECK_EQ_SIZE(hit, 0);
    tm_hostset_free(s);
}

/* The same through a generated file: one reserve, no rehash, every line found. */
TM_TEST(hostset_big_file)
{
    char path[] = "/tmp/test_hostset_XXXXXX", name[256], err[512];
    struct tm_hostset *s;
    struct tm_hostset_stats st;
    size_t i, n, miss = 0;
    FILE *f;
    int fd;

    REQUIRE((fd = mkstemp(path)) >= 0);
    REQUIRE((f = fdopen(fd, "w")) != NULL);
    rng_state = 7;
    for (i = 0; i < BIG_N; i++) {
        n = rand_name(name, i, "example");
        fwrite(name, 1, n, f);
        fputc('\n', f);
    }
    fclose(f);
    s = tm_hostset_new();
    CHECK_EQ_INT(tm_hostset_load(s, path, err, sizeof(err)), TM_OK);
    unlink(path);
    tm_hostset_stats(s, &st);
    CHECK_EQ_SIZE(st.entries, BIG_N);
    CHECK_EQ_SIZE(st.lines, BIG_N);
    CHECK_EQ_SIZE(st.bad, 0);
    rng_state = 7;
    for (i = 0; i < BIG_N; i++) {
        const char *r;

        n = rand_name(name, i, "example");
        r = tm_hostset_match(s, name, n);
        if (r == NULL || strcmp(r, name) != 0)
            miss++;
    }
    CHECK_EQ_SIZE(miss, 0);
    tm_hostset_free(s);
}

/*
 * Length and label limits, through a file (the one-pass scanner) and
 * through tm_hostset_add (the full parser): both must agree.
 */
TM_TEST(hostset_limits)
{
    char path[] = "/tmp/test_hostset_XXXXXX", l63[64], n253[254], n254[255];
    static const int good[] = {1, 0, 1, 0, 0, 1, 0, 1, 1, 0};
    const char *lines[10];
    struct tm_hostset *s, *t;
    struct tm_hostset_stats st;
    char err[512];
    size_t i;
    FILE *f;
    int fd;

    memset(l63, 'x', 63);
    l63[63] = '\0';
    snprintf(n253, sizeof(n253), "%s.%s.%s.%.61s", l63, l63, l63, l63); /* 253 bytes */
    snprintf(n254, sizeof(n254), "%s.%s.%s.%.62s", l63, l63, l63, l63); /* 254 bytes */
    CHECK_EQ_SIZE(strlen(n253), 253);
    CHECK_EQ_SIZE(strlen(n254), 254);
    lines[0] = n253;
    lines[1] = n254;
    lines[2] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.example";  /* 63 */
    lines[3] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.example"; /* 64 */
    lines[4] = "a-.example";
    lines[5] = "9.example";
    lines[6] = "example.9";
    lines[7] = "EXAMPLE.Org.";
    lines[8] = "x.y-z.example";
    lines[9] = "x.example..";
    REQUIRE((fd = mkstemp(path)) >= 0);
    REQUIRE((f = fdopen(fd, "w")) != NULL);
    for (i = 0; i < 10; i++)
        fprintf(f, "%s\n", lines[i]);
    fclose(f);
    s = tm_hostset_new();
    t = tm_hostset_new();
    CHECK_EQ_INT(tm_hostset_load(s, path, err, sizeof(err)), TM_OK);
    unlink(path);
    tm_hostset_stats(s, &st);
    CHECK_EQ_SIZE(st.entries, 5);
    CHECK_EQ_SIZE(st.bad, 5);
    for (i = 0; i < 10; i++) {
        tm_rc rc = tm_hostset_add(t, lines[i], strlen(lines[i]));

        CHECK_EQ_INT(rc, good[i] ? TM_OK : TM_EINVAL);
        CHECK_EQ_INT(match(s, lines[i]) != NULL, good[i]);
    }
    CHECK_STR(match(s, n253), n253);
    CHECK_STR(match(s, "www.example.org"), "example.org");
    CHECK(match(s, "example") == NULL);
    tm_hostset_free(s);
    tm_hostset_free(t);
}

/* NULL set, empty set */
TM_TEST(hostset_empty_set)
{
    struct tm_hostset *s = tm_hostset_new();
    struct tm_hostset_stats st;

    CHECK(match(s, "example") == NULL);
    CHECK(tm_hostset_match(NULL, "example", 7) == NULL);
    tm_hostset_stats(s, &st);
    CHECK_EQ_SIZE(st.entries, 0);
    CHECK_EQ_SIZE(st.lines, 0);
    tm_hostset_free(s);
    tm_hostset_free(NULL);
}

const struct tm_test tests_hostset[] = {
    TM_TEST_ENTRY(hostset_basic_counts),
    TM_TEST_ENTRY(hostset_basic_entries),
    TM_TEST_ENTRY(hostset_parent_domains),
    TM_TEST_ENTRY(hostset_hosts_file_lines),
    TM_TEST_ENTRY(hostset_long_host),
    TM_TEST_ENTRY(hostset_ip),
    TM_TEST_ENTRY(hostset_add_syntax),
    TM_TEST_ENTRY(hostset_bad_lines),
    TM_TEST_ENTRY(hostset_empty_file),
    TM_TEST_ENTRY(hostset_missing_file),
    TM_TEST_ENTRY(hostset_too_big),
    TM_TEST_ENTRY(hostset_no_final_newline),
    TM_TEST_ENTRY(hostset_crlf),
    TM_TEST_ENTRY(hostset_duplicates),
    TM_TEST_ENTRY(hostset_big_random),
    TM_TEST_ENTRY(hostset_big_file),
    TM_TEST_ENTRY(hostset_limits),
    TM_TEST_ENTRY(hostset_empty_set),
    TM_TEST_END,
};
