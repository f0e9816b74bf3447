/*
 * fuzz_mailbox.c - the mbox splitter of scanner/cli/mailbox.c (what `tamis
 * corpus` reads rule authors' mailboxes with). The input is written to a
 * file and read back as an mbox with a message cap taken from its first
 * byte, so truncation and long-line paths are a mutation away.
 *
 * Invariants: every message is at most cap + 1 bytes; together they are
 * never longer than the input; offsets are inside the input, strictly
 * increasing and point at a "From " line; names are PATH#1, PATH#2 ... in
 * order; the number of messages is at most the number of lines + 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/mailbox.h"
#include "core/core.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static char path[64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tm_mailbox *mb;
    struct tm_mailbox_msg m;
    char err[512], spec[80], want[96];
    size_t cap, total = 0, lines = 1, i, n = 0;
    uint64_t last_off = 0;
    FILE *f;
    int r, first = 1;

    if (path[0] == '\0')
        snprintf(path, sizeof(path), "/tmp/fuzz_mailbox.%ld", (long)getpid());
    if ((f = fopen(path, "wb")) == NULL)
        abort();
    if (size > 0 && fwrite(data, 1, size, f) != size)
        abort();
    if (fclose(f) != 0)
        abort();
    cap = size > 0 ? 16 + (size_t)data[0] * 64 : 16;
    for (i = 0; i < size; i++)
        lines += data[i] == '\n';
    snprintf(spec, sizeof(spec), "mbox:%s", path);
    if (tm_mailbox_open(spec, &mb, err, sizeof(err)) != 0)
        abort(); /* a regular file always opens as an mbox */
    while ((r = tm_mailbox_next(mb, cap, &m, err, sizeof(err))) != 0) {
        if (r < 0)
            abort(); /* a readable file has no per-message read errors */
        n++;
        if (m.len > cap + 1)
            abort();
        total += m.len;
        if (total > size)
            abort();
        if (m.offset > size || (!first && m.offset <= last_off))
            abort();
        if (m.offset + 5 <= size && memcmp(data + m.offset, "From ", 5) == 0) {
            /* a message that starts at a From_ line: fine */
        } else if (!(first && m.offset == 0) && !(first && n == 1)) {
            abort();
        }
        snprintf(want, sizeof(want), "%s#%zu", path, n);
        if (strcmp(m.name, want) != 0)
            abort();
        first = 0;
        last_off = m.offset;
        tm_free(m.data);
        tm_free(m.name);
    }
    if (n > lines)
        abort();
    tm_mailbox_close(mb);
    return 0;
}
