/*
 * fuzz_url.c - the url stage alone: tm_url_normalize (as given and as a
 * schemeless name), the redirector unwrapping, the brand lookalike check and
 * tm_url_extract_text over the whole input, each candidate normalised too.
 *
 * Invariants: the normal form, host and domain are NUL-terminated; the
 * normal form is at most TM_URL_MAX_LEN bytes and the host at most
 * TM_URL_MAX_HOST (plus "[]"); the host has no upper-case letter; an IP
 * host parses back with inet_pton; normalising the normal form again gives
 * the same string and host (unless BAD or CUT); extraction candidates are
 * non-empty and at most TM_URL_MAX_LEN bytes.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/core.h"
#include "url/url.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ARENA (64u << 20)

static void
check_str(struct tm_str s)
{
    TM_ASSERT(s.p != NULL);
    TM_ASSERT(s.p[s.len] == '\0');
}

static void
check_url(struct tm_arena *a, const struct tm_url *u)
{
    struct tm_url v;
    struct tm_str inner;
    size_t i;

    check_str(u->normalized);
    check_str(u->host);
    check_str(u->domain);
    TM_ASSERT(u->normalized.len <= TM_URL_MAX_LEN);
    TM_ASSERT(u->host.len <= TM_URL_MAX_HOST + 2);
    TM_ASSERT(u->domain.len <= u->host.len);
    for (i = 0; i < u->host.len; i++)
        TM_ASSERT(!(u->host.p[i] >= 'A' && u->host.p[i] <= 'Z') && u->host.p[i] < 0x80);
    if (u->flags & TM_URLF_BAD) {
        TM_ASSERT(u->host.len == 0);
        return;
    }
    TM_ASSERT(u->host.len > 0);
    if (u->flags & TM_URLF_IPV6) {
        char buf[64];
        unsigned char bin[16];
        TM_ASSERT(u->host.len >= 4 && u->host.len < sizeof(buf) + 2 && u->host.p[0] == '[');
        memcpy(buf, u->host.p + 1, u->host.len - 2);
        buf[u->host.len - 2] = '\0';
        TM_ASSERT(inet_pton(AF_INET6, buf, bin) == 1);
    } else if (u->flags & TM_URLF_IP) {
        unsigned char bin[4];
        TM_ASSERT(inet_pton(AF_INET, (const char *)u->host.p, bin) == 1);
    }
    if (!(u->flags & TM_URLF_CUT)) {
        if (tm_url_normalize(a, u->normalized.p, u->normalized.len, 0, &v) != TM_OK)
            return;
        TM_ASSERT(!(v.flags & TM_URLF_BAD));
        TM_ASSERT(v.normalized.len == u->normalized.len &&
                  memcmp(v.normalized.p, u->normalized.p, v.normalized.len) == 0);
        TM_ASSERT(v.host.len == u->host.len && memcmp(v.host.p, u->host.p, v.host.len) == 0);
    }
    (void)tm_url_brand_lookalike(a, u);
    if (tm_url_redirect_target(a, u, &inner) == 1) {
        TM_ASSERT(inner.len > 0);
        if (tm_url_normalize(a, inner.p, inner.len, 0, &v) == TM_OK)
            check_str(v.normalized);
    }
}

static tm_rc
found(void *ud, const unsigned char *p, size_t n, unsigned flags)
{
    struct tm_arena *a = ud;
    struct tm_url u;

    TM_ASSERT(n > 0 && n <= TM_URL_MAX_LEN);
    if (tm_url_normalize(a, p, n, flags, &u) == TM_OK)
        check_url(a, &u);
    return TM_OK;
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
    struct tm_arena *a = tm_arena_new(FUZZ_ARENA);
    struct tm_url u;

    if (a == NULL)
        abort();
    if (tm_url_normalize(a, data, size, 0, &u) == TM_OK)
        check_url(a, &u);
    if (tm_url_normalize(a, data, size, TM_URLF_SCHEMELESS, &u) == TM_OK)
        check_url(a, &u);
    (void)tm_url_extract_text(a, data, size, found, a);
    (void)tm_url_is_known_suffix(data, size);
    tm_arena_free(a);
    return 0;
}
