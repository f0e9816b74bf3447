/*
 * dkim_tool.c - a command-line driver of scanner/auth's DKIM and ARC code
 * for the interoperability tests (tests/auth/run-dkim-interop) and for
 * people. DNS is a key file: one "name TXT-record" per line, where the
 * record may also be NXDOMAIN, NODATA or TEMPFAIL; names not in the file
 * are NXDOMAIN.
 *
 *   dkim_tool sign --domain D --selector S --key PEM [--algorithm A]
 *             [--headers h1:h2] [--oversign h] [--canon H/B] [--identity I]
 *             [--timestamp T] [--expire X] [--body-length] [--lf | --crlf]
 *             < msg > signed
 *   dkim_tool verify --keys FILE [--min-rsa-bits N] [--now T] [--no-sha1] < msg
 *   dkim_tool arc-seal --domain D --selector S --key PEM --authserv-id ID
 *             [--results TEXT] [--cv none|pass|fail|auto] [--keys FILE]
 *             [--headers h1:h2] [--timestamp T] [--now T] [--lf | --crlf]
 *             < msg > sealed
 *   dkim_tool arc-verify --keys FILE [--now T] < msg
 *   dkim_tool pubkey --key PEM
 *
 * verify prints one line per signature ("pass d=... s=... a=... bits=...
 * b=... flags=... reason=...") and exits 0 when there are signatures and
 * all pass, 1 when one does not, 3 when there is none. arc-verify prints
 * "arc=pass|fail|none i=N [fail=K reason=...]" and exits 0, 1 or 3.
 * Usage and I/O errors exit 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/arc.h"
#include "auth/dkim.h"
#include "core/arena.h"
#include "core/core.h"

#define TOOL_MAX_MSG  (64u << 20)
#define TOOL_ARENA    (512u << 20)
#define TOOL_MAX_KEYS 256
#define TOOL_MAX_LINE 16384

struct keyent {
    char *name;
    enum tm_dns_status st;
    char *txt;
};

struct opts {
    const char *domain, *selector, *key, *algorithm, *headers, *oversign, *canon, *identity;
    const char *keys, *authserv_id, *results, *cv;
    long long t, x, now;
    unsigned min_bits;
    int body_length, lf, crlf, no_sha1;
};

static struct keyent keytab[TOOL_MAX_KEYS];
static size_t nkeys;

static int
usage(void)
{
    fprintf(stderr, "usage: dkim_tool sign|verify|arc-seal|arc-verify|pubkey [options] (see the "
                    "source's header)\n");
    return 2;
}

/* read_all - stdin into a buffer, at most TOOL_MAX_MSG bytes */
static unsigned char *
read_all(size_t *len)
{
    size_t cap = 1 << 16, n = 0, r;
    unsigned char *p = malloc(cap);

    while (p != NULL) {
        if (n == cap) {
            unsigned char *q;
            if (cap >= TOOL_MAX_MSG) {
                fprintf(stderr, "dkim_tool: message larger than %u bytes\n", TOOL_MAX_MSG);
                free(p);
                return NULL;
            }
            cap *= 2;
            if ((q = realloc(p, cap)) == NULL) {
                free(p);
                return NULL;
            }
            p = q;
        }
        r = fread(p + n, 1, cap - n, stdin);
        n += r;
        if (r == 0)
            break;
    }
    if (p == NULL || ferror(stdin)) {
        fprintf(stderr, "dkim_tool: cannot read the message\n");
        free(p);
        return NULL;
    }
    *len = n;
    return p;
}

static char *
dupstr(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d == NULL) {
        fprintf(stderr, "dkim_tool: out of memory\n");
        exit(2);
    }
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* load_keys - the key file; a record may be written in several "quoted" "strings" */
static int
load_keys(const char *path)
{
    char line[TOOL_MAX_LINE];
    FILE *fp = fopen(path, "r");

    if (fp == NULL) {
        perror(path);
        return -1;
    }
    while (fgets(line, sizeof(line), fp) != NULL) {
        char *p = line, *name, *rec;
        size_t n = strlen(line);
        struct keyent *k;

        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        name = p;
        while (*p != '\0' && *p != ' ' && *p != '\t')
            p++;
        if (*p != '\0')
            *p++ = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        rec = p;
        if (nkeys == TOOL_MAX_KEYS) {
            fprintf(stderr, "%s: more than %d keys\n", path, TOOL_MAX_KEYS);
            fclose(fp);
            return -1;
        }
        k = &keytab[nkeys++];
        n = strlen(name);
        if (n > 0 && name[n - 1] == '.')
            name[--n] = '\0';
        k->name = dupstr(name, n);
        k->st = TM_DNS_OK;
        if (strcmp(rec, "NXDOMAIN") == 0) {
            k->st = TM_DNS_NXDOMAIN;
        } else if (strcmp(rec, "NODATA") == 0) {
            k->st = TM_DNS_NODATA;
        } else if (strcmp(rec, "TEMPFAIL") == 0) {
            k->st = TM_DNS_TEMPFAIL;
        } else if (*rec == '"') {
            /* "a" "b" -> ab, as a zone file's strings join */
            char *o = dupstr(rec, strlen(rec)), *w = o;
            int in = 0;
            for (p = rec; *p != '\0'; p++) {
                if (*p == '"')
                    in = !in;
                else if (in)
                    *w++ = *p;
            }
            *w = '\0';
            k->txt = o;
        } else {
            k->txt = dupstr(rec, strlen(rec));
        }
    }
    fclose(fp);
    return 0;
}

static const struct keyent *
find_key(const char *name)
{
    size_t i;

    for (i = 0; i < nkeys; i++)
        if (strcasecmp(keytab[i].name, name) == 0)
            return &keytab[i];
    return NULL;
}

static long long
num(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);

    if (*s == '\0' || *end != '\0') {
        fprintf(stderr, "dkim_tool: not a number: %s\n", s);
        exit(2);
    }
    return v;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->t = o->x = -1;
    for (i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **sp = NULL;

        if (strcmp(a, "--body-length") == 0) {
            o->body_length = 1;
            continue;
        }
        if (strcmp(a, "--lf") == 0) {
            o->lf = 1;
            continue;
        }
        if (strcmp(a, "--crlf") == 0) {
            o->crlf = 1;
            continue;
        }
        if (strcmp(a, "--no-sha1") == 0) {
            o->no_sha1 = 1;
            continue;
        }
        if (v == NULL)
            return -1;
        i++;
        if (strcmp(a, "--domain") == 0)
            sp = &o->domain;
        else if (strcmp(a, "--selector") == 0)
            sp = &o->selector;
        else if (strcmp(a, "--key") == 0)
            sp = &o->key;
        else if (strcmp(a, "--algorithm") == 0)
            sp = &o->algorithm;
        else if (strcmp(a, "--headers") == 0)
            sp = &o->headers;
        else if (strcmp(a, "--oversign") == 0)
            sp = &o->oversign;
        else if (strcmp(a, "--canon") == 0)
            sp = &o->canon;
        else if (strcmp(a, "--identity") == 0)
            sp = &o->identity;
        else if (strcmp(a, "--keys") == 0)
            sp = &o->keys;
        else if (strcmp(a, "--authserv-id") == 0)
            sp = &o->authserv_id;
        else if (strcmp(a, "--results") == 0)
            sp = &o->results;
        else if (strcmp(a, "--cv") == 0)
            sp = &o->cv;
        else if (strcmp(a, "--timestamp") == 0)
            o->t = num(v);
        else if (strcmp(a, "--expire") == 0)
            o->x = num(v);
        else if (strcmp(a, "--now") == 0)
            o->now = num(v);
        else if (strcmp(a, "--min-rsa-bits") == 0)
            o->min_bits = (unsigned)num(v);
        else
            return -1;
        if (sp != NULL)
            *sp = v;
    }
    return 0;
}

static int
parse_canon(const char *s, enum tm_dkim_canon *h, enum tm_dkim_canon *b)
{
    char hs[16], bs[16];
    const char *slash = strchr(s, '/');
    size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);

    if (n >= sizeof(hs) || (slash != NULL && strlen(slash + 1) >= sizeof(bs)))
        return -1;
    memcpy(hs, s, n);
    hs[n] = '\0';
    snprintf(bs, sizeof(bs), "%s", slash != NULL ? slash + 1 : "simple");
    if (strcmp(hs, "relaxed") != 0 && strcmp(hs, "simple") != 0)
        return -1;
    if (strcmp(bs, "relaxed") != 0 && strcmp(bs, "simple") != 0)
        return -1;
    *h = strcmp(hs, "relaxed") == 0 ? TM_DKIM_RELAXED : TM_DKIM_SIMPLE;
    *b = strcmp(bs, "relaxed") == 0 ? TM_DKIM_RELAXED : TM_DKIM_SIMPLE;
    return 0;
}

static int
want_lf(const struct opts *o, const unsigned char *msg, size_t len)
{
    if (o->lf || o->crlf)
        return o->lf;
    return len == 0 || memchr(msg, '\r', len) == NULL;
}

static struct tm_dkim_key *
load_key(const char *path, const char *algorithm)
{
    struct tm_dkim_key *k;
    char err[256];

    if (tm_dkim_key_load(path, &k, err, sizeof(err)) != TM_OK) {
        fprintf(stderr, "dkim_tool: %s\n", err);
        return NULL;
    }
    if (algorithm != NULL && strcmp(algorithm, tm_dkim_alg_name(tm_dkim_key_alg(k))) != 0) {
        fprintf(stderr, "dkim_tool: the key is for %s, not %s\n",
                tm_dkim_alg_name(tm_dkim_key_alg(k)), algorithm);
        tm_dkim_key_free(k);
        return NULL;
    }
    return k;
}

static int
out_message(const char *hdr, size_t hlen, const unsigned char *msg, size_t len)
{
    if (fwrite(hdr, 1, hlen, stdout) != hlen || fwrite(msg, 1, len, stdout) != len ||
        fflush(stdout) != 0) {
        fprintf(stderr, "dkim_tool: write error\n");
        return 2;
    }
    return 0;
}

static int
cmd_sign(const struct opts *o, struct tm_arena *a, const unsigned char *msg, size_t len)
{
    struct tm_dkim_sign_opts so;
    struct tm_dkim_key *k;
    char *hdr, err[256];
    size_t hlen;
    int rc;

    if (o->domain == NULL || o->selector == NULL || o->key == NULL)
        return usage();
    if ((k = load_key(o->key, o->algorithm)) == NULL)
        return 2;
    tm_dkim_sign_opts_default(&so);
    so.domain = o->domain;
    so.selector = o->selector;
    so.key = k;
    so.headers = o->headers;
    so.oversign = o->oversign;
    so.identity = o->identity;
    so.t = o->t;
    so.x = o->x;
    so.body_length = o->body_length;
    so.lf = want_lf(o, msg, len);
    if (o->canon != NULL && parse_canon(o->canon, &so.hcanon, &so.bcanon) != 0) {
        tm_dkim_key_free(k);
        return usage();
    }
    if (tm_dkim_sign(a, msg, len, &so, &hdr, &hlen, err, sizeof(err)) != TM_OK) {
        fprintf(stderr, "dkim_tool: sign: %s\n", err[0] ? err : "failed");
        tm_dkim_key_free(k);
        return 2;
    }
    rc = out_message(hdr, hlen, msg, len);
    tm_dkim_key_free(k);
    return rc;
}

static void
config(const struct opts *o, struct tm_dkim_config *cfg)
{
    tm_dkim_config_default(cfg);
    if (o->min_bits > 0)
        cfg->min_rsa_bits = o->min_bits;
    if (o->now > 0)
        cfg->now = o->now;
    if (o->no_sha1)
        cfg->allow_sha1 = 0;
}

static void
answer_all(size_t n, const char *(*query)(const void *, size_t),
           tm_rc (*answer)(void *, size_t, enum tm_dns_status, const char *, size_t), void *v)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const struct keyent *k = find_key(query(v, i));

        if (k == NULL)
            (void)answer(v, i, TM_DNS_NXDOMAIN, NULL, 0);
        else
            (void)answer(v, i, k->st, k->txt, k->txt != NULL ? strlen(k->txt) : 0);
    }
}

static const char *
dq(const void *v, size_t i)
{
    return tm_dkim_verify_query(v, i);
}

static tm_rc
da(void *v, size_t i, enum tm_dns_status st, const char *t, size_t n)
{
    return tm_dkim_verify_answer(v, i, st, t, n);
}

static const char *
aq(const void *v, size_t i)
{
    return tm_arc_verify_query(v, i);
}

static tm_rc
aa(void *v, size_t i, enum tm_dns_status st, const char *t, size_t n)
{
    return tm_arc_verify_answer(v, i, st, t, n);
}

static int
cmd_verify(const struct opts *o, struct tm_arena *a, const unsigned char *msg, size_t len)
{
    struct tm_dkim_config cfg;
    struct tm_dkim_verify *v;
    struct tm_dkim_results r;
    size_t i;
    int bad = 0;

    config(o, &cfg);
    if (tm_dkim_verify_begin(a, &cfg, msg, len, &v) != TM_OK)
        return 2;
    answer_all(tm_dkim_verify_nqueries(v), dq, da, v);
    if (tm_dkim_verify_finish(v, &r) != TM_OK)
        return 2;
    for (i = 0; i < r.n; i++) {
        const struct tm_dkim_sig *s = &r.sig[i];
        unsigned f = s->flags;

        printf("%s d=%s s=%s a=%s bits=%u b=%s flags=%s%s%s%s%s reason=%s\n",
               tm_dkim_result_name(s->result), s->domain ? s->domain : "-",
               s->selector ? s->selector : "-", s->algorithm ? s->algorithm : "-", s->key_bits,
               s->header_b ? s->header_b : "-", f & TM_DKIM_F_WEAK ? "weak," : "",
               f & TM_DKIM_F_TESTING ? "testing," : "", f & TM_DKIM_F_LENGTH ? "length," : "",
               f & TM_DKIM_F_PARTIAL ? "partial," : "", f & TM_DKIM_F_STRICT ? "strict," : "",
               s->reason ? s->reason : "-");
        if (s->result != TM_DKIM_PASS)
            bad = 1;
    }
    if (r.ignored > 0)
        printf("ignored %zu more signatures\n", r.ignored);
    return r.n == 0 ? 3 : bad;
}

/* arc_check - validate the chain with the key file; 0 or 2 */
static int
arc_check(const struct opts *o, struct tm_arena *a, const unsigned char *msg, size_t len,
          struct tm_arc_result *r)
{
    struct tm_dkim_config cfg;
    struct tm_arc_verify *v;

    config(o, &cfg);
    if (tm_arc_verify_begin(a, &cfg, msg, len, &v) != TM_OK)
        return 2;
    answer_all(tm_arc_verify_nqueries(v), aq, aa, v);
    return tm_arc_verify_finish(v, r) == TM_OK ? 0 : 2;
}

static int
cmd_arc_verify(const struct opts *o, struct tm_arena *a, const unsigned char *msg, size_t len)
{
    struct tm_arc_result r;
    size_t i;

    if (arc_check(o, a, msg, len, &r) != 0)
        return 2;
    printf("arc=%s i=%u", tm_arc_cv_name(r.cv), r.instances);
    if (r.cv == TM_ARC_FAIL)
        printf(" fail=%u reason=%s", r.fail_instance, r.reason ? r.reason : "-");
    printf("\n");
    for (i = 0; i < r.nset; i++)
        printf("set i=%u cv=%s ams=%s as=%s d=%s aar=%s\n", r.set[i].instance,
               r.set[i].cv ? r.set[i].cv : "-", tm_dkim_result_name(r.set[i].ams),
               tm_dkim_result_name(r.set[i].as), r.set[i].as_domain ? r.set[i].as_domain : "-",
               r.set[i].aar ? r.set[i].aar : "-");
    return r.cv == TM_ARC_PASS ? 0 : r.cv == TM_ARC_NONE ? 3 : 1;
}

static int
cmd_arc_seal(const struct opts *o, struct tm_arena *a, const unsigned char *msg, size_t len)
{
    struct tm_arc_seal_opts so;
    struct tm_dkim_key *k;
    char *hdr, err[256];
    size_t hlen;
    int rc;

    if (o->domain == NULL || o->selector == NULL || o->key == NULL || o->authserv_id == NULL)
        return usage();
    tm_arc_seal_opts_default(&so);
    if (o->cv == NULL || strcmp(o->cv, "auto") == 0) {
        struct tm_arc_result r;
        if (arc_check(o, a, msg, len, &r) != 0)
            return 2;
        so.cv = r.cv;
    } else if (strcmp(o->cv, "none") == 0) {
        so.cv = TM_ARC_NONE;
    } else if (strcmp(o->cv, "pass") == 0) {
        so.cv = TM_ARC_PASS;
    } else if (strcmp(o->cv, "fail") == 0) {
        so.cv = TM_ARC_FAIL;
    } else {
        return usage();
    }
    if ((k = load_key(o->key, o->algorithm)) == NULL)
        return 2;
    so.domain = o->domain;
    so.selector = o->selector;
    so.key = k;
    so.authserv_id = o->authserv_id;
    so.results = o->results;
    so.headers = o->headers;
    so.oversign = o->oversign;
    so.t = o->t;
    so.lf = want_lf(o, msg, len);
    if (tm_arc_seal(a, msg, len, &so, &hdr, &hlen, err, sizeof(err)) != TM_OK) {
        fprintf(stderr, "dkim_tool: arc-seal: %s\n", err[0] ? err : "failed");
        tm_dkim_key_free(k);
        return 2;
    }
    rc = out_message(hdr, hlen, msg, len);
    tm_dkim_key_free(k);
    return rc;
}

static int
cmd_pubkey(const struct opts *o, struct tm_arena *a)
{
    struct tm_dkim_key *k;
    char *rec;

    if (o->key == NULL)
        return usage();
    if ((k = load_key(o->key, NULL)) == NULL)
        return 2;
    if (tm_dkim_key_record(a, k, &rec) != TM_OK) {
        tm_dkim_key_free(k);
        return 2;
    }
    printf("%s\n", rec);
    tm_dkim_key_free(k);
    return 0;
}

int
main(int argc, char **argv)
{
    struct opts o;
    struct tm_arena *a;
    unsigned char *msg = NULL;
    size_t len = 0;
    const char *cmd;
    int rc;

    if (argc < 2 || parse_opts(argc, argv, &o) != 0)
        return usage();
    cmd = argv[1];
    if (o.keys != NULL && load_keys(o.keys) != 0)
        return 2;
    if ((a = tm_arena_new(TOOL_ARENA)) == NULL)
        return 2;
    if (strcmp(cmd, "pubkey") == 0) {
        rc = cmd_pubkey(&o, a);
        tm_arena_free(a);
        return rc;
    }
    if ((msg = read_all(&len)) == NULL) {
        tm_arena_free(a);
        return 2;
    }
    if (strcmp(cmd, "sign") == 0)
        rc = cmd_sign(&o, a, msg, len);
    else if (strcmp(cmd, "verify") == 0)
        rc = o.keys != NULL ? cmd_verify(&o, a, msg, len) : usage();
    else if (strcmp(cmd, "arc-seal") == 0)
        rc = cmd_arc_seal(&o, a, msg, len);
    else if (strcmp(cmd, "arc-verify") == 0)
        rc = o.keys != NULL ? cmd_arc_verify(&o, a, msg, len) : usage();
    else
        rc = usage();
    free(msg);
    tm_arena_free(a);
    for (len = 0; len < nkeys; len++) {
        free(keytab[len].name);
        free(keytab[len].txt);
    }
    return rc;
}
