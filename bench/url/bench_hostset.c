/*
 * bench_hostset.c - load and lookup speed of the URL host lists
 * (scanner/url/list.c). See bench/url/README.md.
 *
 * Usage: bench_hostset [-n N] [-l LIST] [-p PHISHLIST]
 *   -n N          entries of the generated list (default 1000000)
 *   -l LIST       use this list file instead of generating one
 *   -p PHISHLIST  also load this list (e.g. the eth-phishing-detect
 *                 blacklist.txt) and report its entries and load time
 *
 * Without -l, N random names (1-3 random labels, a unique number label and
 * one of a few TLDs) are written to a temporary file that is removed at the
 * end. tm_hostset_load is timed best of 3, each into a fresh set. Then 1M
 * lookups are timed on the last set: half hosts of the list with a random
 * "www." or deeper prefix (hits through a parent domain), half random names
 * that are not listed (misses after one probe per label). Output is one
 * JSON line per list.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "url/list.h"

#define BENCH_LOOKUPS 1000000
#define BENCH_RUNS    3
#define BENCH_NAME    320

static uint64_t rng_state = 1;

static uint64_t
rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* rand_name - a random host with a unique label "n<i>"; its length */
static size_t
rand_name(char *out, size_t i)
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
    static const char *const tld[] = {"com", "net", "org", "xyz", "top", "example", "co.uk"};
    size_t n = 0, labels = 1 + (size_t)(rng() % 3), l, k, len;

    for (l = 0; l < labels; l++) {
        len = 3 + (size_t)(rng() % 12);
        for (k = 0; k < len; k++) {
            /* no '-' first or last */
            size_t m = k == 0 || k + 1 == len ? sizeof(al) - 2 : sizeof(al) - 1;

            out[n++] = al[rng() % m];
        }
        out[n++] = '.';
    }
    n += (size_t)snprintf(out + n, 64, "n%zu.%s", i, tld[rng() % TM_NELEM(tld)]);
    return n;
}

/* gen_list - write n random names to a new temporary file; 0 or -1 */
static int
gen_list(char *path, size_t n)
{
    char name[BENCH_NAME];
    size_t i, len;
    FILE *f;
    int fd;

    if ((fd = mkstemp(path)) < 0)
        return -1;
    if ((f = fdopen(fd, "w")) == NULL) {
        close(fd);
        return -1;
    }
    rng_state = 1;
    for (i = 0; i < n; i++) {
        len = rand_name(name, i);
        name[len++] = '\n';
        if (fwrite(name, 1, len, f) != len) {
            fclose(f);
            return -1;
        }
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* load_best - best of BENCH_RUNS loads; the last set is returned */
static struct tm_hostset *
load_best(const char *path, double *best)
{
    struct tm_hostset *s = NULL;
    struct tm_hostset_stats st;
    char err[512];
    int r;

    *best = -1.0;
    for (r = 0; r < BENCH_RUNS; r++) {
        tm_hostset_free(s);
        s = tm_hostset_new();
        if (tm_hostset_load(s, path, err, sizeof(err)) != TM_OK) {
            fprintf(stderr, "bench_hostset: %s\n", err);
            tm_hostset_free(s);
            return NULL;
        }
        tm_hostset_stats(s, &st);
        if (*best < 0 || st.load_ms < *best)
            *best = st.load_ms;
    }
    return s;
}

/*
 * lookups - build BENCH_LOOKUPS hosts (from the list's lines when given,
 * else fresh random names) packed into one buffer, then time the matches
 * alone. ns per lookup.
 */
static double
lookups(const struct tm_hostset *s, const char *path, size_t *hits)
{
    char *hosts = tm_xmalloc((size_t)BENCH_LOOKUPS * BENCH_NAME), name[BENCH_NAME];
    size_t *offs = tm_xcalloc(BENCH_LOOKUPS + 1, sizeof(size_t));
    size_t i, n, nlines = 0, cap = 1024, used = 0;
    char **lines = tm_xcalloc(cap, sizeof(char *));
    double t0, t1;
    FILE *f;

    /* listed names, kept when they are plain names (they mostly are) */
    if ((f = fopen(path, "r")) != NULL) {
        while (fgets(name, sizeof(name), f) != NULL && nlines < BENCH_LOOKUPS) {
            n = strcspn(name, "\r\n# \t");
            if (n == 0 || n > 200)
                continue;
            if (nlines == cap) {
                cap *= 2;
                lines = tm_xrealloc(lines, cap * sizeof(char *));
            }
            lines[nlines++] = tm_xstrdup_n(name, n);
        }
        fclose(f);
    }
    rng_state = 99;
    for (i = 0; i < BENCH_LOOKUPS; i++) {
        char *h = hosts + used;

        offs[i] = used;
        if (i % 2 == 0 && nlines > 0) {
            const char *e = lines[rng() % nlines];

            n = (size_t)snprintf(h, BENCH_NAME, "%s%s", (rng() & 1) ? "www." : "a.b.c.", e);
        } else {
            n = rand_name(h, (size_t)1 << 40 | i);
        }
        used += n;
    }
    offs[BENCH_LOOKUPS] = used;
    *hits = 0;
    t0 = tm_now_ms();
    for (i = 0; i < BENCH_LOOKUPS; i++)
        if (tm_hostset_match(s, hosts + offs[i], offs[i + 1] - offs[i]) != NULL)
            (*hits)++;
    t1 = tm_now_ms();
    for (i = 0; i < nlines; i++)
        tm_free(lines[i]);
    tm_free(lines);
    tm_free(offs);
    tm_free(hosts);
    return (t1 - t0) * 1e6 / BENCH_LOOKUPS;
}

/* run - load (best of 3) and look up one list; print its JSON line */
static int
run(const char *label, const char *path)
{
    struct tm_hostset_stats st;
    struct tm_hostset *s;
    double best, ns;
    size_t hits;

    if ((s = load_best(path, &best)) == NULL)
        return 1;
    tm_hostset_stats(s, &st);
    ns = lookups(s, path, &hits);
    printf("{\"list\":\"%s\",\"entries\":%zu,\"lines\":%zu,\"bad\":%zu,\"load_ms\":%.1f,"
           "\"lookup_ns\":%.1f,\"lookups\":%d,\"hits\":%zu,\"bytes\":%zu}\n",
           label, st.entries, st.lines, st.bad, best, ns, BENCH_LOOKUPS, hits, st.bytes);
    fflush(stdout);
    tm_hostset_free(s);
    return 0;
}

int
main(int argc, char **argv)
{
    char tmp[] = "/tmp/bench_hostset_XXXXXX";
    const char *list = NULL, *phish = NULL;
    size_t n = 1000000;
    int c, rc = 0;

    while ((c = getopt(argc, argv, "n:l:p:")) != -1) {
        switch (c) {
        case 'n': {
            char *end;
            unsigned long long v = strtoull(optarg, &end, 10);

            if (*end != '\0' || v == 0 || v > 100000000ULL) {
                fprintf(stderr, "bench_hostset: bad -n\n");
                return 2;
            }
            n = (size_t)v;
            break;
        }
        case 'l':
            list = optarg;
            break;
        case 'p':
            phish = optarg;
            break;
        default:
            fprintf(stderr, "usage: bench_hostset [-n N] [-l LIST] [-p PHISHLIST]\n");
            return 2;
        }
    }
    tm_log_set_level(TM_LOG_ERR);
    if (list == NULL) {
        if (gen_list(tmp, n) < 0) {
            perror("bench_hostset: generating the list");
            return 1;
        }
        rc |= run("generated", tmp);
        unlink(tmp);
    } else {
        rc |= run(list, list);
    }
    if (phish != NULL && access(phish, R_OK) == 0)
        rc |= run(phish, phish);
    return rc;
}
