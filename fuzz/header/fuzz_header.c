/*
 * fuzz_header.c - structured header values: RFC 2047 decoding (the output
 * must be valid UTF-8), Content-Type/-Disposition parameters with RFC 2231
 * (names lower-case ASCII, values valid UTF-8, at most max_params), and
 * address lists (every address inside the arena). One input, all three.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/core.h"
#include "mime/addr.h"
#include "mime/charset.h"
#include "mime/params.h"
#include "mime/rfc2047.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    struct tm_arena *a = tm_arena_new(16u << 20);
    struct tm_buf b;
    struct tm_params p;
    unsigned flags = 0;
    const char **addrs;
    size_t n, i;
    int trunc;

    if (a == NULL)
        return 0;
    tm_buf_init(&b, a, size * 4 + 64);
    if (tm_rfc2047_decode(data, size, 16, &b, &flags) == TM_OK)
        TM_ASSERT(tm_utf8_valid(b.data, b.len));
    flags = 0;
    if (tm_params_parse(a, data, size, 8, &p, &flags) == TM_OK) {
        TM_ASSERT(p.n <= 8);
        for (i = 0; i < p.n; i++) {
            const char *c;
            for (c = p.v[i].name; *c; c++)
                TM_ASSERT(!(*c >= 'A' && *c <= 'Z'));
            TM_ASSERT(strlen(p.v[i].value) == p.v[i].value_len ||
                      memchr(p.v[i].value, '\0', p.v[i].value_len) != NULL);
        }
    }
    if (tm_addr_list(a, data, size, 16, &addrs, &n, &trunc) == TM_OK) {
        TM_ASSERT(n <= 16);
        for (i = 0; i < n; i++)
            TM_ASSERT(strlen(addrs[i]) <= size);
    }
    tm_arena_free(a);
    return 0;
}
