/*
 * dkimcmd.c - DKIM and ARC from the command line, over scanner/auth and
 * scanner/dns (this was the test driver tests/unit/auth/tool/dkim_tool.c):
 *
 *   tamis dkim sign     the DKIM-Signature field (RFC 6376 5, RFC 8463),
 *                       then the message from stdin unchanged
 *   tamis dkim verify   every signature checked (RFC 6376 6); one line
 *                       (or JSON) per signature
 *   tamis dkim keygen   a new RSA or Ed25519 private key, PEM, mode 0600,
 *                       and its key record (RFC 6376 3.6.1)
 *   tamis dkim record   the key record of an existing key
 *   tamis arc seal      this relay's ARC set (RFC 8617 5.1) before the message
 *   tamis arc verify    the chain validated (RFC 8617 5.2)
 *
 * Keys are looked up through one of three resolvers: a zone file in
 * master-file syntax (--dns-zone, tm_dns_new_zone), real DNS through
 * c-ares (--dns, tm_dns_new_cares), or a key file (--keys) of
 * "name TXT-record" lines, where the record may be "quoted" "strings"
 * (joined) or NXDOMAIN, NODATA, TEMPFAIL, and a name not in the file is
 * NXDOMAIN (the format tests/auth/dnsstub.py serves).
 *
 * Exit status: verify 0 when there are signatures and all pass, 1 when
 * one does not, 3 when there is none (nothing is printed); arc verify 0
 * pass, 1 fail, 3 none; every subcommand 2 on a usage or I/O error, told
 * in one line on stderr ("tamis dkim: ..." or "tamis arc: ...").
 *
 * Bounds: the message read from stdin, DK_MAX_MSG bytes (tamis scan's
 * default message_max_size); every option value, the length given in
 * optdefs[]; numbers, the range given there; a key file, DK_MAX_KEYS lines
 * of DK_MAX_LINE bytes; DNS, the per-message budget of tamis scan
 * (tm_auth_config max_lookups and timeout_ms). An option the subcommand
 * does not take is an error, never ignored.
 */
#include "cli/dkimcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auth/arc.h"
#include "auth/auth.h"
#include "auth/dkim.h"
#include "core/arena.h"
#include "core/core.h"
#include "core/json.h"
#include "dns/dns.h"

#define DK_MAX_MSG    (64u << 20)    /* message bytes read from stdin */
#define DK_ARENA      (512u << 20)   /* arena budget: the message and its canonical forms */
#define DK_MAX_KEYS   256            /* lines of a --keys file */
#define DK_MAX_LINE   16384          /* bytes of one --keys line */
#define DK_MAX_ARG    4096           /* bytes of a path or header list given as an option */
#define DK_MIN_BITS   1024           /* RSA keys: keygen --bits (RFC 8301 3.2) */
#define DK_MAX_BITS   8192           /* ... and the largest a verifier accepts by default */
#define DK_MAX_TIME   253402300799LL /* 9999-12-31T23:59:59Z: --timestamp, --expire, --now */
#define DK_TXT_STRING 255            /* bytes of one TXT character-string (RFC 1035 3.3) */

/* Subcommands, as bits so that each option lists the ones taking it. */
#define C_SIGN   0x01u
#define C_VERIFY 0x02u
#define C_KEYGEN 0x04u
#define C_RECORD 0x08u
#define C_SEAL   0x10u
#define C_ARCV   0x20u
#define C_SIGNS  (C_SIGN | C_SEAL)
#define C_RES    (C_VERIFY | C_SEAL | C_ARCV) /* they look keys up */

struct opts {
    const char *domain, *selector, *key, *algorithm, *headers, *oversign, *canon, *identity;
    const char *keys, *zone, *servers, *authserv_id, *results, *cv, *out;
    long long t, x, now, min_bits, bits;
    int body_length, lf, crlf, no_sha1, dns, json;
};

enum optkind { O_FLAG, O_STR, O_NUM };

struct optdef {
    const char *name;
    unsigned cmds; /* C_* taking it */
    enum optkind kind;
    size_t off;         /* the field of struct opts */
    long long min, max; /* O_NUM: the range; O_STR: the value's length in bytes */
};

#define OFF(f) offsetof(struct opts, f)

static const struct optdef optdefs[] = {
    {"--domain", C_SIGNS | C_KEYGEN | C_RECORD, O_STR, OFF(domain), 1, TM_DKIM_MAX_NAME},
    {"--selector", C_SIGNS | C_KEYGEN | C_RECORD, O_STR, OFF(selector), 1, TM_DKIM_MAX_NAME},
    {"--key", C_SIGNS | C_RECORD, O_STR, OFF(key), 1, DK_MAX_ARG},
    {"--algorithm", C_SIGNS | C_KEYGEN, O_STR, OFF(algorithm), 1, 32},
    {"--headers", C_SIGNS, O_STR, OFF(headers), 1, DK_MAX_ARG},
    {"--oversign", C_SIGNS, O_STR, OFF(oversign), 0, DK_MAX_ARG},
    {"--canon", C_SIGN, O_STR, OFF(canon), 1, 32},
    {"--identity", C_SIGN, O_STR, OFF(identity), 1, DK_MAX_ARG},
    {"--timestamp", C_SIGNS, O_NUM, OFF(t), 0, DK_MAX_TIME},
    {"--expire", C_SIGN, O_NUM, OFF(x), 0, DK_MAX_TIME},
    {"--body-length", C_SIGN, O_FLAG, OFF(body_length), 0, 0},
    {"--lf", C_SIGNS, O_FLAG, OFF(lf), 0, 0},
    {"--crlf", C_SIGNS, O_FLAG, OFF(crlf), 0, 0},
    {"--authserv-id", C_SEAL, O_STR, OFF(authserv_id), 1, TM_DKIM_MAX_NAME},
    {"--results", C_SEAL, O_STR, OFF(results), 0, TM_ARC_MAX_AAR},
    {"--cv", C_SEAL, O_STR, OFF(cv), 1, 8},
    {"--dns-zone", C_RES, O_STR, OFF(zone), 1, DK_MAX_ARG},
    {"--dns", C_RES, O_FLAG, OFF(dns), 0, 0},
    {"--dns-servers", C_RES, O_STR, OFF(servers), 1, DK_MAX_ARG},
    {"--keys", C_RES, O_STR, OFF(keys), 1, DK_MAX_ARG},
    {"--min-rsa-bits", C_RES, O_NUM, OFF(min_bits), 512, DK_MAX_BITS},
    {"--no-sha1", C_RES, O_FLAG, OFF(no_sha1), 0, 0},
    {"--now", C_RES, O_NUM, OFF(now), 0, DK_MAX_TIME},
    {"--json", C_VERIFY | C_ARCV, O_FLAG, OFF(json), 0, 0},
    {"--bits", C_KEYGEN, O_NUM, OFF(bits), DK_MIN_BITS, DK_MAX_BITS},
    {"--out", C_KEYGEN, O_STR, OFF(out), 1, DK_MAX_ARG},
};

/* One line of a --keys file. */
struct keyent {
    char *name;
    enum tm_dns_status st;
    char *txt;
};

/* Where keys come from: dns (--dns-zone, --dns), keys (--keys), or nowhere. */
struct resolver {
    struct tm_dns *dns;
    struct keyent *keys;
    size_t nkeys;
    int given;
};

struct run {
    const struct opts *o;
    struct tm_arena *a;
    struct resolver res;
};

struct subcmd {
    const char *name;
    unsigned id;
    int (*fn)(struct run *r);
    const char *usage;
};

static const char *errpfx = "tamis dkim";

static void dk_err(const char *fmt, ...) TM_PRINTF(1, 2);

/* dk_err - one line on stderr, "tamis dkim: ..." */
static void
dk_err(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", errpfx);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- input ---- */

/*
 * read_msg - stdin into a buffer, at most DK_MAX_MSG bytes; a longer
 * message is an error (signing or checking a prefix would mislead)
 */
static unsigned char *
read_msg(size_t *len)
{
    size_t cap = 1u << 16, n = 0, r;
    unsigned char *p = tm_xmalloc(cap);

    for (;;) {
        if (n == cap) {
            if (cap >= DK_MAX_MSG) {
                if (fgetc(stdin) == EOF)
                    break;
                dk_err("the message is larger than %u bytes", DK_MAX_MSG);
                tm_free(p);
                return NULL;
            }
            cap *= 2;
            p = tm_xrealloc(p, cap);
        }
        r = fread(p + n, 1, cap - n, stdin);
        n += r;
        if (r == 0)
            break;
    }
    if (ferror(stdin)) {
        dk_err("cannot read the message: %s", strerror(errno));
        tm_free(p);
        return NULL;
    }
    *len = n;
    return p;
}

/* keyent_set - the record part of a key-file line; "a" "b" joins to ab, as a zone's strings do */
static void
keyent_set(struct keyent *k, const char *rec)
{
    k->st = TM_DNS_OK;
    k->txt = NULL;
    if (strcmp(rec, "NXDOMAIN") == 0) {
        k->st = TM_DNS_NXDOMAIN;
    } else if (strcmp(rec, "NODATA") == 0) {
        k->st = TM_DNS_NODATA;
    } else if (strcmp(rec, "TEMPFAIL") == 0) {
        k->st = TM_DNS_TEMPFAIL;
    } else if (*rec == '"') {
        char *o = tm_xstrdup(rec), *w = o;
        int in = 0;
        for (; *rec != '\0'; rec++) {
            if (*rec == '"')
                in = !in;
            else if (in)
                *w++ = *rec;
        }
        *w = '\0';
        k->txt = o;
    } else {
        k->txt = tm_xstrdup(rec);
    }
}

/* load_keys - the --keys file into r; a line that does not fit the buffer is an error */
static int
load_keys(const char *path, struct resolver *r)
{
    char *line = tm_xmalloc(DK_MAX_LINE);
    FILE *fp = fopen(path, "r");
    size_t lineno = 0;
    int rc = 0;

    if (fp == NULL) {
        dk_err("%s: %s", path, strerror(errno));
        tm_free(line);
        return -1;
    }
    r->keys = tm_xcalloc(DK_MAX_KEYS, sizeof(*r->keys));
    while (rc == 0 && fgets(line, DK_MAX_LINE, fp) != NULL) {
        char *p = line, *name;
        size_t n = strlen(line);

        lineno++;
        if (n > 0 && line[n - 1] != '\n' && !feof(fp)) {
            dk_err("%s:%zu: line longer than %d bytes", path, lineno, DK_MAX_LINE - 2);
            rc = -1;
            break;
        }
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
        if (r->nkeys == DK_MAX_KEYS) {
            dk_err("%s:%zu: more than %d keys", path, lineno, DK_MAX_KEYS);
            rc = -1;
            break;
        }
        n = strlen(name);
        if (n > 1 && name[n - 1] == '.')
            n--;
        r->keys[r->nkeys].name = tm_xstrdup_n(name, n);
        keyent_set(&r->keys[r->nkeys++], p);
    }
    if (rc == 0 && ferror(fp)) {
        dk_err("%s: read error", path);
        rc = -1;
    }
    fclose(fp);
    tm_free(line);
    return rc;
}

/* ---- options ---- */

static const struct optdef *
find_opt(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(optdefs) / sizeof(optdefs[0]); i++)
        if (strcmp(optdefs[i].name, name) == 0)
            return &optdefs[i];
    return NULL;
}

/* parse_num - a decimal number within [min, max]; no sign, no blanks, no overflow */
static int
parse_num(const char *s, long long min, long long max, long long *out)
{
    char *end;
    long long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (*end != '\0' || errno == ERANGE || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* set_opt - store value v (NULL for a flag) of option d */
static int
set_opt(struct opts *o, const struct optdef *d, const char *v)
{
    char *field = (char *)o + d->off;
    size_t n;

    switch (d->kind) {
    case O_FLAG:
        *(int *)(void *)field = 1;
        return 0;
    case O_STR:
        n = strnlen(v, (size_t)d->max + 1);
        if (n < (size_t)d->min || n > (size_t)d->max) {
            dk_err("%s: the value must be %lld to %lld bytes long", d->name, d->min, d->max);
            return -1;
        }
        *(const char **)(void *)field = v;
        return 0;
    case O_NUM:
        if (parse_num(v, d->min, d->max, (long long *)(void *)field) != 0) {
            dk_err("%s %s: not a number from %lld to %lld", d->name, v, d->min, d->max);
            return -1;
        }
        return 0;
    }
    return -1;
}

/* parse_opts - argv[1..] of subcommand sc; -1 (told) on an error, *help for --help */
static int
parse_opts(const char *group, const struct subcmd *sc, int argc, char **argv, struct opts *o,
           int *help)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->t = o->x = -1;
    *help = 0;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const struct optdef *d;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            *help = 1;
            return 0;
        }
        if ((d = find_opt(a)) == NULL) {
            if (a[0] == '-')
                dk_err("%s: unknown option %.64s (tamis %s %s --help)", sc->name, a, group,
                       sc->name);
            else
                dk_err("%s: unexpected argument %.64s (the message is read from standard "
                       "input)",
                       sc->name, a);
            return -1;
        }
        if ((d->cmds & sc->id) == 0) {
            dk_err("%s does not take %s (tamis %s %s --help)", sc->name, a, group, sc->name);
            return -1;
        }
        if (d->kind != O_FLAG && i + 1 >= argc) {
            dk_err("%s needs a value", a);
            return -1;
        }
        if (set_opt(o, d, d->kind == O_FLAG ? NULL : argv[++i]) != 0)
            return -1;
    }
    return 0;
}

/* name_ok - a selector or domain fit for a zone file line: LDH labels (and _), no empty label */
static int
name_ok(const char *s, int trailing_dot)
{
    size_t i, n = strlen(s), lab = 0;

    if (trailing_dot && n > 1 && s[n - 1] == '.')
        n--;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (lab == 0)
                return 0;
            lab = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_') {
            if (++lab > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return n > 0 && lab > 0;
}

static int
missing(const char *sub, const char *v, const char *name)
{
    if (v != NULL)
        return 0;
    dk_err("%s needs %s", sub, name);
    return 1;
}

static int
is_sign_alg(const char *s)
{
    return strcmp(s, "rsa-sha256") == 0 || strcmp(s, "ed25519-sha256") == 0;
}

/* validate_key_opts - keygen and record: the names, the algorithm, the size */
static int
validate_key_opts(const struct subcmd *sc, const struct opts *o)
{
    const char *al = o->algorithm;

    if ((o->selector == NULL) != (o->domain == NULL)) {
        dk_err("%s: give --selector and --domain together", sc->name);
        return -1;
    }
    if (o->selector != NULL && (!name_ok(o->selector, 0) || !name_ok(o->domain, 1))) {
        dk_err("%s: --selector and --domain must be host names (letters, digits, - _ .)", sc->name);
        return -1;
    }
    if (sc->id == C_RECORD)
        return missing(sc->name, o->key, "--key PEM") ? -1 : 0;
    if (missing(sc->name, al, "--algorithm rsa|ed25519") || missing(sc->name, o->out, "--out PEM"))
        return -1;
    if (strcmp(al, "rsa") != 0 && strcmp(al, "ed25519") != 0 && !is_sign_alg(al)) {
        dk_err("keygen: --algorithm %s: use rsa or ed25519", al);
        return -1;
    }
    if (o->bits != 0 && al[0] == 'e') {
        dk_err("keygen: --bits is for RSA keys; an Ed25519 key is 256 bits");
        return -1;
    }
    return 0;
}

/* validate - what each subcommand needs, checked before any file or stdin is read */
static int
validate(const struct subcmd *sc, const struct opts *o)
{
    if (sc->id & (C_KEYGEN | C_RECORD))
        return validate_key_opts(sc, o);
    if (sc->id & C_SIGNS) {
        if (missing(sc->name, o->domain, "--domain D") ||
            missing(sc->name, o->selector, "--selector S") ||
            missing(sc->name, o->key, "--key PEM"))
            return -1;
        if (sc->id == C_SEAL && missing(sc->name, o->authserv_id, "--authserv-id ID"))
            return -1;
        if (o->algorithm != NULL && !is_sign_alg(o->algorithm)) {
            dk_err("%s: --algorithm %s: use rsa-sha256 or ed25519-sha256", sc->name, o->algorithm);
            return -1;
        }
        if (o->lf && o->crlf) {
            dk_err("%s: --lf and --crlf exclude each other", sc->name);
            return -1;
        }
    }
    if (sc->id == C_SEAL && o->cv != NULL && strcmp(o->cv, "none") != 0 &&
        strcmp(o->cv, "pass") != 0 && strcmp(o->cv, "fail") != 0 && strcmp(o->cv, "auto") != 0) {
        dk_err("arc seal: --cv %s: use none, pass, fail or auto", o->cv);
        return -1;
    }
    return 0;
}

/* ---- resolvers ---- */

/*
 * resolver_open - the one resolver the options name. verify needs one;
 * seal may go without (its --cv auto then works only on a message
 * without ARC sets).
 */
static int
resolver_open(const struct opts *o, int required, const char *sub, struct resolver *r)
{
    int n = (o->zone != NULL) + (o->dns != 0) + (o->keys != NULL);
    char err[512];
    tm_rc rc;

    memset(r, 0, sizeof(*r));
    if (n > 1) {
        dk_err("%s: give one of --dns-zone, --dns and --keys", sub);
        return -1;
    }
    if (n == 0 && required) {
        dk_err("%s needs a resolver: --dns-zone FILE, --dns or --keys FILE", sub);
        return -1;
    }
    if (o->servers != NULL && !o->dns) {
        dk_err("%s: --dns-servers goes with --dns", sub);
        return -1;
    }
    r->given = n;
    if (o->keys != NULL)
        return load_keys(o->keys, r);
    if (o->zone != NULL) {
        rc = tm_dns_new_zone(o->zone, &r->dns, err, sizeof(err));
    } else if (o->dns) {
        struct tm_dns_opts dopt;
        struct tm_auth_config ac;

        tm_auth_config_default(&ac);
        memset(&dopt, 0, sizeof(dopt));
        dopt.servers = o->servers;
        dopt.timeout_ms = ac.timeout_ms;
        rc = tm_dns_new_cares(&dopt, &r->dns, err, sizeof(err));
    } else {
        return 0;
    }
    if (rc != TM_OK) {
        dk_err("%s", err);
        return -1;
    }
    return 0;
}

static void
resolver_close(struct resolver *r)
{
    size_t i;

    tm_dns_free(r->dns);
    for (i = 0; i < r->nkeys; i++) {
        tm_free(r->keys[i].name);
        tm_free(r->keys[i].txt);
    }
    tm_free(r->keys);
    memset(r, 0, sizeof(*r));
}

/* budget - one message's DNS allowance, as tamis scan gives it */
static struct tm_dns_budget
budget(void)
{
    struct tm_auth_config ac;
    struct tm_dns_budget b;

    tm_auth_config_default(&ac);
    memset(&b, 0, sizeof(b));
    b.max_queries = ac.max_lookups;
    b.deadline_ms = tm_now_ms() + ac.timeout_ms;
    return b;
}

static const struct keyent *
find_key(const struct resolver *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->nkeys; i++)
        if (strcasecmp(r->keys[i].name, name) == 0)
            return &r->keys[i];
    return NULL;
}

/* answer_all - phase 2 of a two-phase verifier from the key file */
static void
answer_all(const struct resolver *r, size_t n, const char *(*query)(const void *, size_t),
           tm_rc (*answer)(void *, size_t, enum tm_dns_status, const char *, size_t), void *v)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const struct keyent *k = find_key(r, query(v, i));

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

static void
config(const struct opts *o, struct tm_dkim_config *cfg)
{
    tm_dkim_config_default(cfg);
    if (o->min_bits > 0)
        cfg->min_rsa_bits = (unsigned)o->min_bits;
    if (o->now > 0)
        cfg->now = o->now;
    if (o->no_sha1)
        cfg->allow_sha1 = 0;
}

/* dkim_check - every signature of msg, keys from the resolver */
static tm_rc
dkim_check(struct run *r, const unsigned char *msg, size_t len, struct tm_dkim_results *res)
{
    struct tm_dkim_config cfg;
    struct tm_dkim_verify *v;
    tm_rc rc;

    config(r->o, &cfg);
    if (r->res.dns != NULL) {
        struct tm_dns_budget b = budget();
        return tm_dkim_verify_with_dns(r->a, &cfg, msg, len, r->res.dns, &b, res);
    }
    if ((rc = tm_dkim_verify_begin(r->a, &cfg, msg, len, &v)) != TM_OK)
        return rc;
    answer_all(&r->res, tm_dkim_verify_nqueries(v), dq, da, v);
    return tm_dkim_verify_finish(v, res);
}

/* arc_check - validate the chain; 0, or -1 (told) */
static int
arc_check(struct run *r, const unsigned char *msg, size_t len, struct tm_arc_result *res)
{
    struct tm_dkim_config cfg;
    struct tm_arc_verify *v;
    tm_rc rc;

    config(r->o, &cfg);
    if (r->res.dns != NULL) {
        struct tm_dns_budget b = budget();
        rc = tm_arc_verify_with_dns(r->a, &cfg, msg, len, r->res.dns, &b, res);
    } else if ((rc = tm_arc_verify_begin(r->a, &cfg, msg, len, &v)) == TM_OK) {
        if (!r->res.given && tm_arc_verify_nqueries(v) > 0) {
            dk_err("seal: the message has ARC sets; validating them (--cv auto) needs "
                   "--dns-zone, --dns or --keys, or give --cv");
            return -1;
        }
        answer_all(&r->res, tm_arc_verify_nqueries(v), aq, aa, v);
        rc = tm_arc_verify_finish(v, res);
    }
    if (rc != TM_OK) {
        dk_err("cannot validate the ARC chain: %s", rc == TM_ENOMEM ? "out of memory" : "error");
        return -1;
    }
    return 0;
}

/* ---- output ---- */

static const struct {
    unsigned bit;
    const char *name;
} dkim_flags[] = {
    {TM_DKIM_F_WEAK, "weak"},       {TM_DKIM_F_TESTING, "testing"}, {TM_DKIM_F_LENGTH, "length"},
    {TM_DKIM_F_PARTIAL, "partial"}, {TM_DKIM_F_STRICT, "strict"},
};

#define NFLAGS (sizeof(dkim_flags) / sizeof(dkim_flags[0]))

/* finish_out - flush stdout; a write error (full disk, closed pipe) is exit 2 */
static int
finish_out(int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        dk_err("standard output: %s", strerror(errno));
        return 2;
    }
    return rc;
}

static int
out_message(const char *hdr, size_t hlen, const unsigned char *msg, size_t len)
{
    if (fwrite(hdr, 1, hlen, stdout) != hlen || fwrite(msg, 1, len, stdout) != len)
        return finish_out(2);
    return finish_out(0);
}

static void
json_flush(struct tm_json *j)
{
    tm_json_raw(j, "\n");
    fwrite(j->p, 1, j->len, stdout);
    tm_json_free(j);
}

/* sig_text - one verify line (tests parse it): "pass d= s= a= bits= b= flags= reason=" */
static void
sig_text(const struct tm_dkim_sig *s)
{
    char flags[64];
    size_t i, n = 0;

    flags[0] = '\0';
    for (i = 0; i < NFLAGS; i++)
        if (s->flags & dkim_flags[i].bit)
            n += (size_t)snprintf(flags + n, sizeof(flags) - n, "%s,", dkim_flags[i].name);
    printf("%s d=%s s=%s a=%s bits=%u b=%s flags=%s reason=%s\n", tm_dkim_result_name(s->result),
           s->domain ? s->domain : "-", s->selector ? s->selector : "-",
           s->algorithm ? s->algorithm : "-", s->key_bits, s->header_b ? s->header_b : "-", flags,
           s->reason ? s->reason : "-");
}

static void
json_time(struct tm_json *j, const char *key, int64_t v)
{
    tm_json_key(j, key);
    if (v < 0)
        tm_json_null(j);
    else
        tm_json_uint(j, (unsigned long long)v);
}

static void
sig_json(struct tm_json *j, const struct tm_dkim_sig *s)
{
    size_t i;

    tm_json_obj(j);
    tm_json_key(j, "result");
    tm_json_str(j, tm_dkim_result_name(s->result));
    tm_json_key(j, "reason");
    tm_json_str(j, s->reason);
    tm_json_key(j, "domain");
    tm_json_str(j, s->domain);
    tm_json_key(j, "selector");
    tm_json_str(j, s->selector);
    tm_json_key(j, "algorithm");
    tm_json_str(j, s->algorithm);
    tm_json_key(j, "identity");
    tm_json_str(j, s->identity);
    tm_json_key(j, "key_name");
    tm_json_str(j, s->key_name);
    tm_json_key(j, "key_bits");
    tm_json_uint(j, s->key_bits);
    tm_json_key(j, "header_b");
    tm_json_str(j, s->header_b);
    tm_json_key(j, "flags");
    tm_json_arr(j);
    for (i = 0; i < NFLAGS; i++)
        if (s->flags & dkim_flags[i].bit)
            tm_json_str(j, dkim_flags[i].name);
    tm_json_end_arr(j);
    json_time(j, "t", s->t);
    json_time(j, "x", s->x);
    tm_json_key(j, "l");
    if (s->flags & TM_DKIM_F_LENGTH)
        tm_json_uint(j, s->l);
    else
        tm_json_null(j);
    tm_json_end_obj(j);
}

static void
arc_json(const struct tm_arc_result *r)
{
    struct tm_json j;
    size_t i;

    tm_json_init(&j, 0);
    tm_json_obj(&j);
    tm_json_key(&j, "cv");
    tm_json_str(&j, tm_arc_cv_name(r->cv));
    tm_json_key(&j, "instances");
    tm_json_uint(&j, r->instances);
    tm_json_key(&j, "fail_instance");
    tm_json_uint(&j, r->fail_instance);
    tm_json_key(&j, "reason");
    tm_json_str(&j, r->reason);
    tm_json_key(&j, "temperror");
    tm_json_bool(&j, (r->flags & TM_ARC_F_TEMPERROR) != 0);
    tm_json_key(&j, "weak");
    tm_json_bool(&j, (r->flags & TM_ARC_F_WEAK) != 0);
    tm_json_key(&j, "sets");
    tm_json_arr(&j);
    for (i = 0; i < r->nset; i++) {
        const struct tm_arc_set *s = &r->set[i];
        tm_json_obj(&j);
        tm_json_key(&j, "instance");
        tm_json_uint(&j, s->instance);
        tm_json_key(&j, "cv");
        tm_json_str(&j, s->cv);
        tm_json_key(&j, "ams");
        tm_json_str(&j, tm_dkim_result_name(s->ams));
        tm_json_key(&j, "as");
        tm_json_str(&j, tm_dkim_result_name(s->as));
        tm_json_key(&j, "ams_domain");
        tm_json_str(&j, s->ams_domain);
        tm_json_key(&j, "as_domain");
        tm_json_str(&j, s->as_domain);
        tm_json_key(&j, "aar");
        tm_json_str(&j, s->aar);
        tm_json_end_obj(&j);
    }
    tm_json_end_arr(&j);
    tm_json_end_obj(&j);
    json_flush(&j);
}

/*
 * print_txt - a record in master-file syntax (RFC 1035 5.1): one quoted
 * character-string per DK_TXT_STRING bytes, in parentheses over several
 * lines when there is more than one (an RSA-2048 record is about 400 bytes)
 */
static void
print_txt(const char *selector, const char *domain, const char *rec)
{
    size_t n = strlen(rec), dn = strlen(domain), i;

    if (dn > 1 && domain[dn - 1] == '.')
        dn--;
    printf("%s._domainkey.%.*s. IN TXT %s", selector, (int)dn, domain,
           n > DK_TXT_STRING ? "( " : "");
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)rec[i];
        if (i % DK_TXT_STRING == 0)
            printf("%s\"", i == 0 ? "" : "\"\n\t");
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20 || c > 0x7e)
            printf("\\%03u", c);
        else
            putchar(c);
    }
    printf("%s%s\n", n == 0 ? "\"\"" : "\"", n > DK_TXT_STRING ? " )" : "");
}

/* print_record - the key's record: bare (for --keys files), or a zone line for S._domainkey.D */
static int
print_record(struct run *r, const struct tm_dkim_key *k)
{
    char *rec;

    if (tm_dkim_key_record(r->a, k, &rec) != TM_OK) {
        dk_err("cannot encode the public key");
        return 2;
    }
    if (r->o->selector == NULL)
        printf("%s\n", rec);
    else
        print_txt(r->o->selector, r->o->domain, rec);
    return finish_out(0);
}

/* ---- subcommands ---- */

/* want_lf - the line ends of the new fields: as asked, else as the message's */
static int
want_lf(const struct opts *o, const unsigned char *msg, size_t len)
{
    if (o->lf || o->crlf)
        return o->lf;
    return len == 0 || memchr(msg, '\r', len) == NULL;
}

/*
 * load_key - the signing key, and --algorithm checked against it: a key
 * signs with one algorithm only, so a mismatch is the operator's mistake
 * (an old selector's key, the wrong file) and stops the run
 */
static struct tm_dkim_key *
load_key(const char *path, const char *algorithm)
{
    struct tm_dkim_key *k;
    enum tm_dkim_alg have;
    char err[512];

    if (tm_dkim_key_load(path, &k, err, sizeof(err)) != TM_OK) {
        dk_err("%s", err);
        return NULL;
    }
    have = tm_dkim_key_alg(k);
    if (algorithm != NULL && strcmp(algorithm, tm_dkim_alg_name(have)) != 0) {
        dk_err("--algorithm %s does not fit %s: it is %s key (%s)", algorithm, path,
               have == TM_DKIM_ED25519_SHA256 ? "an Ed25519" : "an RSA", tm_dkim_alg_name(have));
        tm_dkim_key_free(k);
        return NULL;
    }
    return k;
}

static int
cmd_sign(struct run *r)
{
    const struct opts *o = r->o;
    struct tm_dkim_sign_opts so;
    struct tm_dkim_key *k;
    unsigned char *msg;
    char *hdr, err[256];
    size_t hlen, len = 0;
    int rc = 2;

    tm_dkim_sign_opts_default(&so);
    if (o->canon != NULL && tm_dkim_canon_parse(o->canon, &so.hcanon, &so.bcanon) != 0) {
        dk_err("sign: --canon %s: use relaxed|simple[/relaxed|simple]", o->canon);
        return 2;
    }
    if ((k = load_key(o->key, o->algorithm)) == NULL)
        return 2;
    if ((msg = read_msg(&len)) != NULL) {
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
        err[0] = '\0';
        if (tm_dkim_sign(r->a, msg, len, &so, &hdr, &hlen, err, sizeof(err)) != TM_OK)
            dk_err("sign: %s", err[0] ? err : "failed");
        else
            rc = out_message(hdr, hlen, msg, len);
        tm_free(msg);
    }
    tm_dkim_key_free(k);
    return rc;
}

static int
cmd_verify(struct run *r)
{
    struct tm_dkim_results res;
    unsigned char *msg;
    size_t i, len = 0;
    int bad = 0;
    tm_rc rc;

    if ((msg = read_msg(&len)) == NULL)
        return 2;
    rc = dkim_check(r, msg, len, &res);
    tm_free(msg);
    if (rc != TM_OK) {
        dk_err("verify: %s", rc == TM_ENOMEM ? "out of memory" : "cannot verify");
        return 2;
    }
    for (i = 0; i < res.n; i++)
        if (res.sig[i].result != TM_DKIM_PASS)
            bad = 1;
    if (r->o->json) {
        struct tm_json j;
        tm_json_init(&j, 0);
        tm_json_obj(&j);
        tm_json_key(&j, "signatures");
        tm_json_arr(&j);
        for (i = 0; i < res.n; i++)
            sig_json(&j, &res.sig[i]);
        tm_json_end_arr(&j);
        tm_json_key(&j, "ignored");
        tm_json_uint(&j, res.ignored);
        tm_json_end_obj(&j);
        json_flush(&j);
    } else {
        for (i = 0; i < res.n; i++)
            sig_text(&res.sig[i]);
        if (res.ignored > 0)
            printf("ignored %zu more signatures\n", res.ignored);
    }
    return finish_out(res.n == 0 ? 3 : bad);
}

static int
cmd_arc_verify(struct run *r)
{
    struct tm_arc_result res;
    unsigned char *msg;
    size_t i, len = 0;
    int rc;

    if ((msg = read_msg(&len)) == NULL)
        return 2;
    rc = arc_check(r, msg, len, &res);
    tm_free(msg);
    if (rc != 0)
        return 2;
    if (r->o->json) {
        arc_json(&res);
    } else {
        printf("arc=%s i=%u", tm_arc_cv_name(res.cv), res.instances);
        if (res.cv == TM_ARC_FAIL)
            printf(" fail=%u reason=%s", res.fail_instance, res.reason ? res.reason : "-");
        printf("\n");
        for (i = 0; i < res.nset; i++)
            printf("set i=%u cv=%s ams=%s as=%s d=%s aar=%s\n", res.set[i].instance,
                   res.set[i].cv ? res.set[i].cv : "-", tm_dkim_result_name(res.set[i].ams),
                   tm_dkim_result_name(res.set[i].as),
                   res.set[i].as_domain ? res.set[i].as_domain : "-",
                   res.set[i].aar ? res.set[i].aar : "-");
    }
    return finish_out(res.cv == TM_ARC_PASS ? 0 : res.cv == TM_ARC_NONE ? 3 : 1);
}

/* seal_cv - cv= of the new set: as given, or (auto) from validating the incoming chain */
static int
seal_cv(struct run *r, const unsigned char *msg, size_t len, enum tm_arc_cv *cv)
{
    const char *s = r->o->cv;
    struct tm_arc_result res;

    if (s == NULL || strcmp(s, "auto") == 0) {
        if (arc_check(r, msg, len, &res) != 0)
            return -1;
        *cv = res.cv;
    } else {
        *cv = strcmp(s, "pass") == 0   ? TM_ARC_PASS
              : strcmp(s, "fail") == 0 ? TM_ARC_FAIL
                                       : TM_ARC_NONE;
    }
    return 0;
}

static int
cmd_arc_seal(struct run *r)
{
    const struct opts *o = r->o;
    struct tm_arc_seal_opts so;
    struct tm_dkim_key *k;
    unsigned char *msg;
    char *hdr, err[256];
    size_t hlen, len = 0;
    int rc = 2;

    if ((k = load_key(o->key, o->algorithm)) == NULL)
        return 2;
    tm_arc_seal_opts_default(&so);
    if ((msg = read_msg(&len)) != NULL && seal_cv(r, msg, len, &so.cv) == 0) {
        so.domain = o->domain;
        so.selector = o->selector;
        so.key = k;
        so.authserv_id = o->authserv_id;
        so.results = o->results;
        so.headers = o->headers;
        so.oversign = o->oversign;
        so.t = o->t;
        so.lf = want_lf(o, msg, len);
        err[0] = '\0';
        if (tm_arc_seal(r->a, msg, len, &so, &hdr, &hlen, err, sizeof(err)) != TM_OK)
            dk_err("seal: %s", err[0] ? err : "failed");
        else
            rc = out_message(hdr, hlen, msg, len);
    }
    tm_free(msg);
    tm_dkim_key_free(k);
    return rc;
}

static int
cmd_record(struct run *r)
{
    struct tm_dkim_key *k;
    int rc;

    if ((k = load_key(r->o->key, NULL)) == NULL)
        return 2;
    rc = print_record(r, k);
    tm_dkim_key_free(k);
    return rc;
}

/* gen_pkey - a fresh key from OpenSSL's default random source */
static EVP_PKEY *
gen_pkey(int ed25519, unsigned bits)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(ed25519 ? EVP_PKEY_ED25519 : EVP_PKEY_RSA, NULL);
    EVP_PKEY *pk = NULL;

    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
        (!ed25519 && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) != 1) ||
        EVP_PKEY_keygen(ctx, &pk) != 1) {
        EVP_PKEY_free(pk);
        pk = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return pk;
}

/*
 * write_private - the key file, created with mode 0600 (fchmod too, so a
 * umask cannot leave it unreadable to its owner); never over an existing
 * file, since that may be the key a published record belongs to
 */
static int
write_private(const char *path, const char *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int ok, e = 0;

    if (fd < 0) {
        dk_err("keygen: %s: %s%s", path, strerror(errno),
               errno == EEXIST ? " (a key is never overwritten)" : "");
        return -1;
    }
    ok = fchmod(fd, 0600) == 0;
    while (ok && n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            ok = 0;
            break;
        }
        p += w;
        n -= (size_t)w;
    }
    if (ok && fsync(fd) != 0)
        ok = 0;
    if (!ok)
        e = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (!ok) {
        (void)unlink(path);
        dk_err("keygen: %s: %s", path, strerror(e != 0 ? e : EIO));
        return -1;
    }
    return 0;
}

static int
cmd_keygen(struct run *r)
{
    const struct opts *o = r->o;
    int ed = o->algorithm[0] == 'e';
    unsigned bits = o->bits > 0 ? (unsigned)o->bits : 2048;
    EVP_PKEY *pk;
    BIO *bio;
    struct tm_dkim_key *k = NULL;
    char *pem = NULL, err[256];
    long plen = 0;
    int rc = 2;

    if ((pk = gen_pkey(ed, bits)) == NULL) {
        dk_err("keygen: OpenSSL could not generate the key");
        return 2;
    }
    if ((bio = BIO_new(BIO_s_mem())) != NULL &&
        PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) == 1)
        plen = BIO_get_mem_data(bio, &pem);
    ERR_clear_error();
    /* read back as sign will: the record printed is that of the key written */
    if (pem == NULL || plen <= 0) {
        dk_err("keygen: cannot write the key as PEM");
    } else if (tm_dkim_key_parse((const unsigned char *)pem, (size_t)plen, &k, err, sizeof(err)) !=
               TM_OK) {
        dk_err("keygen: %s", err);
    } else if (write_private(o->out, pem, (size_t)plen) == 0) {
        rc = print_record(r, k);
    }
    if (pem != NULL && plen > 0)
        OPENSSL_cleanse(pem, (size_t)plen);
    BIO_free(bio);
    EVP_PKEY_free(pk);
    tm_dkim_key_free(k);
    return rc;
}

/* ---- dispatch ---- */

static const struct subcmd dkim_cmds[] = {
    {"sign", C_SIGN, cmd_sign,
     "usage: tamis dkim sign --domain D --selector S --key PEM\n"
     "                       [--algorithm rsa-sha256|ed25519-sha256] [--headers h1:h2...]\n"
     "                       [--oversign h1:h2...] [--canon H/B] [--identity I]\n"
     "                       [--timestamp T] [--expire X] [--body-length] [--lf|--crlf]\n"
     "                       < message > signed\n"
     "Writes the DKIM-Signature field, then the message unchanged.\n"
     "  --key         private key: PEM RSA or Ed25519, or dkimpy's base64 Ed25519 seed\n"
     "  --algorithm   checked against the key (default: the key's own)\n"
     "  --headers     fields to sign, every instance (default: from:to:cc:subject:date:\n"
     "                message-id:reply-to:in-reply-to:references:mime-version:content-*)\n"
     "  --oversign    fields signed once more than present (default from; \"\" none)\n"
     "  --canon       header/body canonicalization, relaxed or simple (default\n"
     "                relaxed/relaxed)\n"
     "  --timestamp, --expire   t= and x=, seconds since the epoch\n"
     "  --body-length l=, the signed body length (unsigned text may then be appended)\n"
     "  --lf, --crlf  line ends of the new field (default: those of the message)\n"},
    {"verify", C_VERIFY, cmd_verify,
     "usage: tamis dkim verify (--dns-zone FILE | --dns [--dns-servers IP[:PORT],...] |\n"
     "                          --keys FILE) [--min-rsa-bits N] [--now T] [--no-sha1]\n"
     "                         [--json] < message\n"
     "Checks every DKIM-Signature; prints per signature \"RESULT d= s= a= bits= b=\n"
     "flags= reason=\" (or one JSON object). Exit 0 all pass, 1 one does not, 3 no\n"
     "signature (nothing printed), 2 usage or I/O error.\n"
     "  --dns-zone    keys from a zone file (master-file syntax), offline\n"
     "  --dns         keys from real DNS (/etc/resolv.conf, or --dns-servers)\n"
     "  --keys        keys from a file of \"NAME RECORD\" lines; RECORD may be \"quoted\"\n"
     "                \"strings\", NXDOMAIN, NODATA or TEMPFAIL\n"
     "  --min-rsa-bits smaller RSA keys are a permerror (default 1024)\n"
     "  --now         the clock for t= and x= (seconds since the epoch)\n"
     "  --no-sha1     rsa-sha1 is a permerror (default: it passes, flagged weak)\n"},
    {"keygen", C_KEYGEN, cmd_keygen,
     "usage: tamis dkim keygen --algorithm rsa|ed25519 [--bits N] --out PEM\n"
     "                         [--selector S --domain D]\n"
     "Writes a new private key (PKCS#8 PEM, mode 0600; an existing file is never\n"
     "overwritten) and prints its key record: with --selector and --domain as a zone\n"
     "line, S._domainkey.D. IN TXT \"v=DKIM1; k=...; p=...\" (255-byte strings).\n"
     "  --bits        RSA key size, 1024 to 8192 (default 2048)\n"},
    {"record", C_RECORD, cmd_record,
     "usage: tamis dkim record --key PEM [--selector S --domain D]\n"
     "Prints the key record of a private key (\"v=DKIM1; k=...; p=...\"), or with\n"
     "--selector and --domain the zone line to publish, as keygen does.\n"},
};

static const struct subcmd arc_cmds[] = {
    {"seal", C_SEAL, cmd_arc_seal,
     "usage: tamis arc seal --domain D --selector S --key PEM --authserv-id ID\n"
     "                      [--results TEXT] [--cv none|pass|fail|auto]\n"
     "                      [--dns-zone FILE | --dns [--dns-servers ...] | --keys FILE]\n"
     "                      [--headers h1:h2...] [--oversign h1:h2...] [--timestamp T]\n"
     "                      [--now T] [--algorithm A] [--lf|--crlf] < message > sealed\n"
     "Writes this relay's ARC-Seal, ARC-Message-Signature and ARC-Authentication-\n"
     "Results (instance N+1), then the message unchanged.\n"
     "  --results     this relay's results after the authserv-id (default \"none\")\n"
     "  --cv          the incoming chain's state; auto (default) validates it, with\n"
     "                the resolver when the message has ARC sets\n"},
    {"verify", C_ARCV, cmd_arc_verify,
     "usage: tamis arc verify (--dns-zone FILE | --dns [--dns-servers IP[:PORT],...] |\n"
     "                         --keys FILE) [--now T] [--min-rsa-bits N] [--no-sha1]\n"
     "                        [--json] < message\n"
     "Validates the ARC chain; prints \"arc=pass|fail|none i=N [fail=K reason=...]\"\n"
     "and one \"set i= cv= ams= as= d= aar=\" line per set (or one JSON object).\n"
     "Exit 0 pass, 1 fail, 3 none, 2 usage or I/O error. Resolvers as dkim verify.\n"},
};

static void
group_usage(FILE *f, const struct subcmd *tab, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        fprintf(f, "%s%s", i > 0 ? "\n" : "", tab[i].usage);
}

/* group_main - find the subcommand, parse and check its options, set up, run, tear down */
static int
group_main(const char *group, const struct subcmd *tab, size_t ntab, int argc, char **argv)
{
    const struct subcmd *sc = NULL;
    struct opts o;
    struct run r;
    size_t i;
    int help, rc;

    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0 ||
        strcmp(argv[0], "help") == 0) {
        group_usage(argc < 1 ? stderr : stdout, tab, ntab);
        return argc < 1 ? 2 : 0;
    }
    for (i = 0; i < ntab; i++)
        if (strcmp(argv[0], tab[i].name) == 0)
            sc = &tab[i];
    if (sc == NULL) {
        dk_err("unknown subcommand \"%.64s\" (tamis %s --help)", argv[0], group);
        return 2;
    }
    if (parse_opts(group, sc, argc, argv, &o, &help) != 0)
        return 2;
    if (help) {
        fputs(sc->usage, stdout);
        return 0;
    }
    if (validate(sc, &o) != 0)
        return 2;
    memset(&r, 0, sizeof(r));
    r.o = &o;
    if ((sc->id & C_RES) && resolver_open(&o, sc->id != C_SEAL, sc->name, &r.res) != 0) {
        resolver_close(&r.res);
        return 2;
    }
    if ((r.a = tm_arena_new(DK_ARENA)) == NULL) {
        dk_err("out of memory");
        resolver_close(&r.res);
        return 2;
    }
    rc = sc->fn(&r);
    tm_arena_free(r.a);
    resolver_close(&r.res);
    return rc;
}

int
tamis_dkim_main(int argc, char **argv)
{
    errpfx = "tamis dkim";
    return group_main("dkim", dkim_cmds, sizeof(dkim_cmds) / sizeof(dkim_cmds[0]), argc, argv);
}

int
tamis_arc_main(int argc, char **argv)
{
    errpfx = "tamis arc";
    return group_main("arc", arc_cmds, sizeof(arc_cmds) / sizeof(arc_cmds[0]), argc, argv);
}
