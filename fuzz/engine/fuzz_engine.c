/*
 * fuzz_engine.c - message in, verdict out: MIME parsing, every rule target,
 * Hyperscan and PCRE2 matching with Tamis's default rule set (rules/),
 * sender authentication (SPF, DKIM, ARC, DMARC answered from a small zone
 * file), metas, scores, the outbound stage (sender-domain policy for the
 * login "fuzz", DKIM signing and ARC sealing for fuzz.example with an
 * Ed25519 key made at start) and the verdict JSON. The engine is built
 * once (rule compilation goes through the cache in a scratch directory,
 * removed at exit with the key and zone files). Invariants: the score is
 * finite, every symbol names a rule of the set (or is a rule-less policy
 * symbol), the JSON renders, every prepended field is a well-formed field
 * (a name of field characters, CRLF only before a folding blank), and a
 * DKIM signature the relay adds verifies on the message it would send
 * (round trip). Every input is also signed directly with d=fuzz.example and
 * verified back, whatever its From domain.
 */
#define _GNU_SOURCE /* nftw FTW_DEPTH|FTW_PHYS */
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auth/dkim.h"
#include "core/arena.h"
#include "core/json.h"
#include "core/task.h"
#include "verdict/report.h"
#include "verdict/scanner.h"

#ifndef TAMIS_RULES_DIR
#define TAMIS_RULES_DIR "rules"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tm_scanner *sc;
static struct tm_match_scratch *ms;
static struct tm_dkim_key *key;
static char key_record[256];
static char scratch[] = "/tmp/fuzz_engine.XXXXXX";

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void
cleanup(void)
{
    (void)nftw(scratch, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
        abort();
}

/* make_key - an Ed25519 key in keyfile, loaded into `key`, its record in key_record */
static void
make_key(const char *keyfile)
{
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    FILE *f = fopen(keyfile, "w");
    struct tm_arena *a = tm_arena_new(1u << 20);
    char err[256], *rec = NULL;

    if (pk == NULL || f == NULL || a == NULL || !PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL))
        abort();
    fclose(f);
    EVP_PKEY_free(pk);
    if (tm_dkim_key_load(keyfile, &key, err, sizeof(err)) != TM_OK ||
        tm_dkim_key_record(a, key, &rec) != TM_OK ||
        snprintf(key_record, sizeof(key_record), "%s", rec) >= (int)sizeof(key_record))
        abort();
    tm_arena_free(a);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct tm_scanner_opts o;
    static const char *rules[1] = {TAMIS_RULES_DIR};
    static char cache[4096], keyfile[4096], zone[4096], senders[4096], sign[4200], seal[4200];
    static const char *signs[1] = {sign};
    char err[256], text[1024];

    (void)argc;
    (void)argv;
    memset(&o, 0, sizeof(o));
    o.limits = tm_limits_default();
    o.limits.mime_max_depth = 8;
    o.limits.mime_max_parts = 64;
    o.limits.task_arena_budget = 32u << 20;
    tm_verdict_cfg_default(&o.cfg);
    o.rule_paths = rules;
    o.nrule_paths = 1;
    if (mkdtemp(scratch) == NULL)
        abort();
    atexit(cleanup);
    snprintf(cache, sizeof(cache), "%s/cache", scratch);
    snprintf(keyfile, sizeof(keyfile), "%s/ed.pem", scratch);
    snprintf(zone, sizeof(zone), "%s/zone", scratch);
    snprintf(senders, sizeof(senders), "%s/senders", scratch);
    make_key(keyfile);
    snprintf(text, sizeof(text),
             "$TTL 300\n"
             "fuzz.example. IN TXT \"v=spf1 ip4:192.0.2.0/24 include:_spf.fuzz.example -all\"\n"
             "_spf.fuzz.example. IN TXT \"v=spf1 a mx ~all\"\n"
             "fuzz.example. IN A 192.0.2.1\n"
             "_dmarc.fuzz.example. IN TXT \"v=DMARC1; p=reject; pct=50\"\n"
             "ed._domainkey.fuzz.example. IN TXT \"%s\"\n", key_record);
    write_file(zone, text);
    write_file(senders, "fuzz fuzz.example *.fuzz.example\n");
    snprintf(sign, sizeof(sign), "fuzz.example ed %s", keyfile);
    snprintf(seal, sizeof(seal), "fuzz.example ed %s", keyfile);
    o.cache_dir = cache;
    o.dns_zone = zone;
    o.outbound.sender_domains = senders;
    o.outbound.dkim_keys = signs;
    o.outbound.ndkim_keys = 1;
    o.outbound.arc_seal = seal;
    o.outbound.auth_results = 1;
    if (tm_scanner_new(&o, &sc, err, sizeof(err)) != TM_OK || sc->matcher == NULL) {
        fprintf(stderr, "fuzz_engine: %s\n", err);
        abort();
    }
    if ((ms = tm_match_scratch_new(sc->matcher)) == NULL)
        abort();
    return 0;
}

/* field_ok - a field the relay inserts: a name of field characters, CRLF only before a blank */
static void
field_ok(const struct tm_verdict_header *h)
{
    const char *p;

    TM_ASSERT(h->name != NULL && h->name[0] != '\0' && h->value != NULL);
    for (p = h->name; *p; p++)
        TM_ASSERT(*p > 32 && *p < 127 && *p != ':');
    for (p = h->value; *p; p++) {
        if (*p == '\r')
            TM_ASSERT(p[1] == '\n' && (p[2] == ' ' || p[2] == '\t'));
        if (*p == '\n')
            TM_ASSERT(p > h->value && p[-1] == '\r');
    }
}

/* verify_first - the message with `sig` (a whole field, or NULL: already in msg) on
 * top verifies: its first DKIM-Signature passes against key_record */
static void
verify_first(struct tm_arena *a, const char *sig, size_t siglen, const unsigned char *msg,
             size_t len)
{
    unsigned char *m = tm_arena_alloc(a, siglen + len + 1);
    struct tm_dkim_verify *vf;
    struct tm_dkim_results res;
    size_t i, nq;

    TM_ASSERT(m != NULL);
    memcpy(m, sig, siglen);
    if (len > 0)
        memcpy(m + siglen, msg, len);
    TM_ASSERT(tm_dkim_verify_begin(a, NULL, m, siglen + len, &vf) == TM_OK);
    nq = tm_dkim_verify_nqueries(vf);
    for (i = 0; i < nq; i++) {
        if (strcmp(tm_dkim_verify_query(vf, i), "ed._domainkey.fuzz.example") == 0)
            TM_ASSERT(tm_dkim_verify_answer(vf, i, TM_DNS_OK, key_record, strlen(key_record)) ==
                      TM_OK);
        else
            TM_ASSERT(tm_dkim_verify_answer(vf, i, TM_DNS_NXDOMAIN, NULL, 0) == TM_OK);
    }
    TM_ASSERT(tm_dkim_verify_finish(vf, &res) == TM_OK);
    if (res.n == 0 || res.sig[0].result != TM_DKIM_PASS) {
        fprintf(stderr, "fuzz_engine: our signature does not verify: %s\n",
                res.n ? (res.sig[0].reason ? res.sig[0].reason : "?") : "no signature found");
        abort();
    }
}

/* round_trip - sign with d=fuzz.example, whatever the From domain, and verify */
static void
round_trip(const uint8_t *data, size_t size)
{
    struct tm_arena *a = tm_arena_new(64u << 20);
    struct tm_dkim_sign_opts so;
    char *sig = NULL, err[256];
    size_t siglen = 0;
    tm_rc rc;

    TM_ASSERT(a != NULL);
    tm_dkim_sign_opts_default(&so);
    so.domain = "fuzz.example";
    so.selector = "ed";
    so.key = key;
    rc = tm_dkim_sign(a, data, size, &so, &sig, &siglen, err, sizeof(err));
    if (rc == TM_OK)
        verify_first(a, sig, siglen, data, size);
    tm_arena_free(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tm_task *t = tm_task_new(sc->engine);
    struct tm_verdict v;
    struct tm_report_opts o;
    struct tm_json j;
    struct tm_auth_env env;
    size_t i;

    if (t == NULL)
        abort();
    memset(&env, 0, sizeof(env));
    env.ip = "192.0.2.7";
    env.helo = "mx.fuzz.example";
    env.mail_from = "<bounce@fuzz.example>";
    env.user = size % 2 ? "fuzz" : NULL; /* half the inputs from a login */
    if (tm_scanner_scan_env(sc, ms, t, data, size, 1, &env, &v) == TM_OK) {
        TM_ASSERT(isfinite(v.score));
        for (i = 0; i < v.n; i++)
            TM_ASSERT(v.syms[i].rule < sc->rules.n || v.syms[i].rule == TM_SYM_NO_RULE);
        TM_ASSERT(v.nprepend <= TM_VERDICT_MAX_PREPEND);
        for (i = 0; i < v.nprepend; i++) {
            field_ok(&v.prepend[i]);
            if (strcmp(v.prepend[i].name, "DKIM-Signature") == 0) {
                struct tm_arena *a = tm_arena_new(64u << 20);
                char *f;
                TM_ASSERT(a != NULL);
                f = tm_arena_alloc(a, strlen(v.prepend[i].value) + 20);
                TM_ASSERT(f != NULL);
                snprintf(f, strlen(v.prepend[i].value) + 20, "DKIM-Signature: %s\r\n",
                         v.prepend[i].value);
                verify_first(a, f, strlen(f), data, size);
                tm_arena_free(a);
            }
        }
        memset(&o, 0, sizeof(o));
        o.verdict = &v;
        o.rules_version = sc->rules_version;
        o.all_hits = 1;
        o.explain = 1;
        tm_json_init(&j, 0);
        tm_report_json(t, &o, &j);
        TM_ASSERT(j.len > 0 && j.p[0] == '{');
        tm_json_free(&j);
    }
    tm_task_free(t);
    round_trip(data, size);
    return 0;
}
