/*
 * dns_query.c - look names up through scanner/dns, for tests/dns/run-dns-tests
 * and for people: one resolver (c-ares against --server, or a --zone file),
 * the NAME TYPE pairs of the command line as one tm_dns_lookup_many batch,
 * one line per record:
 *
 *   NAME TYPE STATUS [TTL] VALUE      (TTL with --ttl)
 *   NAME TYPE STATUS                  (no records: nodata, nxdomain, ...)
 *
 * VALUE: an address; "PREF HOST" for MX; the name for PTR; a TXT record as
 * one quoted string, bytes outside printable ASCII (and " and \) as \DDD.
 * With --stdin, each further input line is another batch on the same
 * resolver (and so the same cache), answered and followed by a "." line.
 * Each batch gets a fresh budget: --max-queries (default 1000) and
 * --deadline MS from the batch's start (default none).
 * Exit: 0, or 2 on a usage error or when the resolver cannot be made.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/core.h"
#include "dns/dns.h"

#define QUERY_ARENA   (64u << 20)
#define MAX_BATCH     1024
#define LINE_MAX_LEN  65536
#define DEF_MAX_QUERY 1000

struct cfg {
    unsigned max_queries;
    double deadline_ms;
    int show_ttl;
};

static const struct {
    const char *name;
    enum tm_dns_type type;
} types[] = {{"A", TM_DNS_A},
             {"AAAA", TM_DNS_AAAA},
             {"MX", TM_DNS_MX},
             {"TXT", TM_DNS_TXT},
             {"PTR", TM_DNS_PTR}};

static int
parse_type(const char *s, enum tm_dns_type *t)
{
    size_t i;

    for (i = 0; i < TM_NELEM(types); i++)
        if (strcasecmp(s, types[i].name) == 0) {
            *t = types[i].type;
            return 1;
        }
    return 0;
}

static const char *
type_name(enum tm_dns_type t)
{
    size_t i;

    for (i = 0; i < TM_NELEM(types); i++)
        if (types[i].type == t)
            return types[i].name;
    return "?";
}

static void
print_txt(const char *p, size_t n)
{
    size_t i;

    putchar('"');
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];

        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            printf("\\%03u", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void
print_rrset(const struct tm_dns_query *q, const struct cfg *cfg)
{
    char buf[INET6_ADDRSTRLEN];
    size_t i;

    if (q->res.n == 0) {
        printf("%s %s %s\n", q->name, type_name(q->type), tm_dns_status_name(q->res.status));
        return;
    }
    for (i = 0; i < q->res.n; i++) {
        const struct tm_dns_rr *rr = &q->res.rr[i];

        printf("%s %s %s ", q->name, type_name(q->type), tm_dns_status_name(q->res.status));
        if (cfg->show_ttl)
            printf("%u ", (unsigned)rr->ttl);
        if (q->type == TM_DNS_A || q->type == TM_DNS_AAAA)
            printf("%s",
                   inet_ntop(rr->family == 4 ? AF_INET : AF_INET6, rr->addr, buf, sizeof(buf)));
        else if (q->type == TM_DNS_MX)
            printf("%u %s", rr->pref, rr->text);
        else if (q->type == TM_DNS_TXT)
            print_txt(rr->text, rr->len);
        else
            printf("%s", rr->text);
        putchar('\n');
    }
}

/* batch - look up argv-style NAME TYPE pairs together; 0, or -1 on a bad type */
static int
batch(struct tm_dns *d, char **words, size_t nwords, const struct cfg *cfg)
{
    struct tm_dns_query q[MAX_BATCH];
    struct tm_dns_budget b;
    struct tm_arena *a;
    size_t i, n = nwords / 2;
    tm_rc rc;

    if (nwords % 2 != 0 || n > MAX_BATCH) {
        fprintf(stderr, "dns_query: NAME TYPE pairs expected (at most %d)\n", MAX_BATCH);
        return -1;
    }
    for (i = 0; i < n; i++) {
        q[i].name = words[2 * i];
        if (!parse_type(words[2 * i + 1], &q[i].type)) {
            fprintf(stderr, "dns_query: unknown type %s\n", words[2 * i + 1]);
            return -1;
        }
    }
    if ((a = tm_arena_new(QUERY_ARENA)) == NULL)
        return -1;
    b.max_queries = cfg->max_queries;
    b.used = 0;
    b.deadline_ms = cfg->deadline_ms > 0 ? tm_now_ms() + cfg->deadline_ms : 0;
    rc = tm_dns_lookup_many(d, a, q, n, &b);
    if (rc != TM_OK)
        printf("error %s\n", tm_rc_str(rc));
    for (i = 0; i < n; i++)
        print_rrset(&q[i], cfg);
    fflush(stdout);
    tm_arena_free(a);
    return 0;
}

/* from_stdin - one batch per input line, each followed by "." */
static int
from_stdin(struct tm_dns *d, const struct cfg *cfg)
{
    static char line[LINE_MAX_LEN];
    char *words[2 * MAX_BATCH + 1], *p;
    size_t n;

    while (fgets(line, sizeof(line), stdin) != NULL) {
        for (n = 0, p = line; n < TM_NELEM(words);) {
            while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
                *p++ = '\0';
            if (*p == '\0')
                break;
            words[n++] = p;
            while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
                p++;
        }
        if (n == 0)
            break;
        if (batch(d, words, n, cfg) < 0)
            return -1;
        printf(".\n");
        fflush(stdout);
    }
    return 0;
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: dns_query (--server IP[:PORT],... | --resolv-conf | --zone FILE)\n"
            "                 [--timeout MS] [--tries N] [--cache N] [--max-ttl S]\n"
            "                 [--max-queries N] [--deadline MS] [--ttl] [--stdin] [NAME TYPE]...\n"
            "TYPE: A AAAA MX TXT PTR\n");
}

static unsigned long
num(const char *s)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);

    if (*s == '\0' || *end != '\0') {
        usage();
        exit(2);
    }
    return v;
}

int
main(int argc, char **argv)
{
    struct tm_dns_opts o = {NULL, 0, 0, 10000, 0};
    struct cfg cfg = {DEF_MAX_QUERY, 0, 0};
    const char *zone = NULL;
    struct tm_dns *d;
    char err[512];
    int i, use_stdin = 0, resolv = 0, ret = 0;
    tm_rc rc;

    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *opt = argv[i];

        if (strcmp(opt, "--ttl") == 0) {
            cfg.show_ttl = 1;
            continue;
        }
        if (strcmp(opt, "--stdin") == 0) {
            use_stdin = 1;
            continue;
        }
        if (strcmp(opt, "--resolv-conf") == 0) {
            resolv = 1;
            continue;
        }
        if (i + 1 >= argc) {
            usage();
            return 2;
        }
        if (strcmp(opt, "--server") == 0)
            o.servers = argv[++i];
        else if (strcmp(opt, "--zone") == 0)
            zone = argv[++i];
        else if (strcmp(opt, "--timeout") == 0)
            o.timeout_ms = (unsigned)num(argv[++i]);
        else if (strcmp(opt, "--tries") == 0)
            o.tries = (unsigned)num(argv[++i]);
        else if (strcmp(opt, "--cache") == 0)
            o.cache_entries = num(argv[++i]);
        else if (strcmp(opt, "--max-ttl") == 0)
            o.max_ttl = (uint32_t)num(argv[++i]);
        else if (strcmp(opt, "--max-queries") == 0)
            cfg.max_queries = (unsigned)num(argv[++i]);
        else if (strcmp(opt, "--deadline") == 0)
            cfg.deadline_ms = (double)num(argv[++i]);
        else {
            usage();
            return 2;
        }
    }
    if ((zone != NULL) + (o.servers != NULL) + resolv != 1) {
        usage();
        return 2;
    }
    rc = zone != NULL ? tm_dns_new_zone(zone, &d, err, sizeof(err))
                      : tm_dns_new_cares(&o, &d, err, sizeof(err));
    if (rc != TM_OK) {
        fprintf(stderr, "dns_query: %s\n", err);
        return 2;
    }
    if (i < argc && batch(d, argv + i, (size_t)(argc - i), &cfg) < 0)
        ret = 2;
    if (ret == 0 && use_stdin && from_stdin(d, &cfg) < 0)
        ret = 2;
    tm_dns_free(d);
    return ret;
}
