/*
 * fuzz_dkim.c - scanner/auth's DKIM and ARC parsers on hostile bytes: the
 * tag-list parser and base64 on the whole input, then the input as a
 * message through both verifiers (phase 1, answers, phase 2), with small
 * limits so the limit branches are near. The key records answered are, by
 * a byte of the input, a real RSA or Ed25519 key (so the crypto runs), a
 * record taken from the input after a "\n--KEY--\n" line, or a DNS status.
 *
 * Invariants: tags lie inside the input, names start with a letter, no
 * name twice, eq <= vend; base64 output is at most 3/4 of the input and a
 * re-encoding decodes to the same bytes; every signature's result is one
 * of the enum, a pass has no reason and a non-pass has one; header.b is a
 * prefix of at least min(8, |b|) characters; the counts respect the
 * limits; an ARC fail names a reason, a pass or none none, and the sets
 * reported are the instances found; the Authentication-Results texts
 * are one line of printable ASCII.
 *
 * Links tm_auth.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/arc.h"
#include "auth/dkim.h"
#include "auth/dkim_int.h"
#include "core/arena.h"
#include "core/core.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ARENA (64u << 20)
#define FUZZ_TAGS  16

/* public test keys: dkimpy's test.txt (RSA 1024) and RFC 8463's brisbane key */
static const char rsa_key[] =
    "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6"
    "wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5Qjv"
    "HO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB";
static const char ed_key[] = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

/* check_ar - an Authentication-Results fragment is one line of printable ASCII */
static void
check_ar(const char *ar)
{
    size_t i;

    TM_ASSERT(ar != NULL);
    for (i = 0; ar[i] != '\0'; i++)
        TM_ASSERT(ar[i] >= ' ' && ar[i] < 0x7f);
}

static void
check_tags(const uint8_t *data, size_t size)
{
    struct dkim_tag t[FUZZ_TAGS];
    const char *why;
    size_t n, i, j;

    if (dkim_tags_parse(data, size, t, FUZZ_TAGS, &n, &why) != 0) {
        TM_ASSERT(why != NULL);
        return;
    }
    TM_ASSERT(n <= FUZZ_TAGS);
    for (i = 0; i < n; i++) {
        unsigned char c = t[i].name[0];

        TM_ASSERT(t[i].namelen > 0 && t[i].name >= data && t[i].name + t[i].namelen <= data + size);
        TM_ASSERT((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
        TM_ASSERT(t[i].eq <= t[i].vend && t[i].vend <= size);
        TM_ASSERT(t[i].val >= data + t[i].eq && t[i].val + t[i].vallen == data + t[i].vend);
        for (j = 0; j < i; j++)
            TM_ASSERT(t[j].namelen != t[i].namelen ||
                      memcmp(t[j].name, t[i].name, t[i].namelen) != 0);
    }
}

static void
check_b64(const uint8_t *data, size_t size)
{
    size_t n, m, cap = size / 4 * 3 + 3;
    unsigned char *out = malloc(cap + 1), *back;
    char *enc;

    if (out == NULL)
        abort();
    n = dkim_b64_decode(data, size, out, cap);
    if (n != (size_t)-1) {
        TM_ASSERT(n <= size / 4 * 3 + 2);
        enc = malloc(DKIM_B64_LEN(n));
        back = malloc(n + 1);
        if (enc == NULL || back == NULL)
            abort();
        dkim_b64_encode(out, n, enc);
        m = dkim_b64_decode((const unsigned char *)enc, strlen(enc), back, n + 1);
        TM_ASSERT(m == n && memcmp(back, out, n) == 0);
        free(enc);
        free(back);
    }
    free(out);
}

/* key_for - what the fake DNS answers for query i */
static enum tm_dns_status
key_for(const uint8_t *data, size_t size, size_t i, const char **txt, size_t *len, const char *own,
        size_t ownlen)
{
    unsigned sel = size > 0 ? (data[(i * 7) % size] + (unsigned)i) % 8 : 0;

    *txt = NULL;
    *len = 0;
    switch (sel) {
    case 0:
    case 1:
        *txt = rsa_key;
        *len = sizeof(rsa_key) - 1;
        return TM_DNS_OK;
    case 2:
    case 3:
        *txt = ed_key;
        *len = sizeof(ed_key) - 1;
        return TM_DNS_OK;
    case 4:
        if (own != NULL) {
            *txt = own;
            *len = ownlen;
            return TM_DNS_OK;
        }
        return TM_DNS_NODATA;
    case 5:
        return TM_DNS_NXDOMAIN;
    case 6:
        return TM_DNS_TEMPFAIL;
    default:
        return TM_DNS_LIMIT;
    }
}

static void
fuzz_config(struct tm_dkim_config *cfg)
{
    tm_dkim_config_default(cfg);
    cfg->max_signatures = 4;
    cfg->max_reported = 6;
    cfg->max_header_fields = 64;
    cfg->max_field_len = 4096;
    cfg->now = 1600000000;
}

static void
check_dkim(struct tm_arena *a, const uint8_t *data, size_t size, const char *own, size_t ownlen)
{
    struct tm_dkim_config cfg;
    struct tm_dkim_verify *v;
    struct tm_dkim_results r;
    size_t i, nq;
    char *ar;

    fuzz_config(&cfg);
    if (tm_dkim_verify_begin(a, &cfg, data, size, &v) != TM_OK)
        return;
    nq = tm_dkim_verify_nqueries(v);
    TM_ASSERT(nq <= cfg.max_signatures);
    for (i = 0; i < nq; i++) {
        const char *txt, *name = tm_dkim_verify_query(v, i);
        size_t len;
        enum tm_dns_status st = key_for(data, size, i, &txt, &len, own, ownlen);

        TM_ASSERT(name != NULL && strlen(name) <= TM_DKIM_MAX_NAME);
        TM_ASSERT(strstr(name, "._domainkey.") != NULL);
        if (tm_dkim_verify_answer(v, i, st, txt, len) != TM_OK)
            return;
    }
    if (tm_dkim_verify_finish(v, &r) != TM_OK)
        return;
    TM_ASSERT(r.n <= cfg.max_reported);
    for (i = 0; i < r.n; i++) {
        const struct tm_dkim_sig *s = &r.sig[i];

        TM_ASSERT(s->result >= TM_DKIM_PASS && s->result <= TM_DKIM_PERMERROR);
        TM_ASSERT((s->result == TM_DKIM_PASS) == (s->reason == NULL));
        TM_ASSERT((s->result == TM_DKIM_PASS) == (s->why == TM_DKIM_OK));
        if (s->result == TM_DKIM_PASS)
            TM_ASSERT(s->key_bits > 0 && s->domain != NULL && s->key_name != NULL);
        if (s->header_b != NULL)
            TM_ASSERT(strlen(s->header_b) >= 1);
        if (tm_dkim_ar(a, s, &ar) == TM_OK)
            check_ar(ar);
    }
}

static void
check_arc(struct tm_arena *a, const uint8_t *data, size_t size, const char *own, size_t ownlen)
{
    struct tm_dkim_config cfg;
    struct tm_arc_verify *v;
    struct tm_arc_result r;
    size_t i, nq;
    char *ar;

    fuzz_config(&cfg);
    if (tm_arc_verify_begin(a, &cfg, data, size, &v) != TM_OK)
        return;
    nq = tm_arc_verify_nqueries(v);
    TM_ASSERT(nq <= TM_ARC_MAX_INSTANCES + 1);
    for (i = 0; i < nq; i++) {
        const char *txt;
        size_t len;
        enum tm_dns_status st = key_for(data, size, i + 3, &txt, &len, own, ownlen);

        if (tm_arc_verify_answer(v, i, st, txt, len) != TM_OK)
            return;
    }
    if (tm_arc_verify_finish(v, &r) != TM_OK)
        return;
    TM_ASSERT(r.instances <= TM_ARC_MAX_INSTANCES);
    TM_ASSERT((r.cv == TM_ARC_FAIL) == (r.reason != NULL));
    TM_ASSERT(r.cv != TM_ARC_NONE || r.instances == 0);
    TM_ASSERT(r.nset == 0 || r.nset == r.instances);
    TM_ASSERT(r.cv != TM_ARC_PASS || r.nset == r.instances);
    for (i = 0; i < r.nset; i++)
        TM_ASSERT(r.set[i].instance == i + 1 && r.set[i].aar != NULL);
    if (tm_arc_ar(a, &r, &ar) == TM_OK)
        check_ar(ar);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char mark[] = "\n--KEY--\n";
    struct tm_arena *a = tm_arena_new(FUZZ_ARENA);
    const char *own = NULL;
    size_t msglen = size, ownlen = 0, i;

    if (a == NULL)
        abort();
    for (i = 0; i + sizeof(mark) - 1 <= size; i++) {
        if (memcmp(data + i, mark, sizeof(mark) - 1) == 0) {
            own = (const char *)data + i + sizeof(mark) - 1;
            ownlen = size - i - (sizeof(mark) - 1);
            msglen = i;
            break;
        }
    }
    check_tags(data, size);
    check_b64(data, size);
    check_dkim(a, data, msglen, own, ownlen);
    check_arc(a, data, msglen, own, ownlen);
    tm_arena_free(a);
    return 0;
}
