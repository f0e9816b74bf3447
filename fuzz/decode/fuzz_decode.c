/*
 * fuzz_decode.c - the transfer decoders alone: base64, quoted-printable
 * (body and RFC 2047 "Q" mode), one uuencode line, and uuencode block
 * search + decoding. Invariants: output never exceeds the *_MAX_OUT bound
 * the callers size their buffers with (ASan sees any overflow beyond it),
 * and a block found by tm_uu_find lies inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "mime/decode.h"

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
    unsigned char *out = malloc(TM_B64_MAX_OUT(size) + TM_UU_MAX_OUT(size) + 64);
    unsigned flags = 0;
    size_t n, from = 0;
    struct tm_uu_block blk;

    if (out == NULL)
        return 0;
    n = tm_b64_decode(data, size, out, &flags);
    TM_ASSERT(n <= TM_B64_MAX_OUT(size));
    n = tm_qp_decode(data, size, out, 0, &flags);
    TM_ASSERT(n <= TM_QP_MAX_OUT(size));
    n = tm_qp_decode(data, size, out, 1, &flags);
    TM_ASSERT(n <= TM_QP_MAX_OUT(size));
    n = tm_uu_decode_line(data, size, out, &flags);
    TM_ASSERT(n <= 64);
    while (from < size && tm_uu_find(data, size, from, &blk)) {
        TM_ASSERT(blk.begin >= from && blk.begin < blk.end && blk.end <= size);
        TM_ASSERT(blk.name >= data && blk.name + blk.name_len <= data + size);
        n = tm_uu_decode_block(data, &blk, out, &flags);
        TM_ASSERT(n <= TM_UU_MAX_OUT(blk.end - blk.begin));
        from = blk.end;
    }
    free(out);
    return 0;
}
