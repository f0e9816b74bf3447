/*
 * buf.h - growable byte buffer inside a task arena, with a mandatory cap
 * (curl's dynbuf). Append fails with TM_ELIMIT past the cap and TM_ENOMEM
 * when the arena is out of budget; neither has side effects.
 */
#ifndef TM_CORE_BUF_H
#define TM_CORE_BUF_H

#include <stddef.h>

#include "core/core.h"

struct tm_arena;

struct tm_buf {
    struct tm_arena *arena;
    unsigned char *data;
    size_t len;
    size_t cap;
    size_t max;
};

void tm_buf_init(struct tm_buf *b, struct tm_arena *a, size_t max);
tm_rc tm_buf_append(struct tm_buf *b, const void *src, size_t n);
/* tm_buf_reserve - make room for n more bytes; returns a pointer to them */
unsigned char *tm_buf_reserve(struct tm_buf *b, size_t n, tm_rc *rc);
/* tm_buf_cstr - NUL-terminate (the NUL is not counted in len) */
const char *tm_buf_cstr(struct tm_buf *b);

/*
 * tm_buf_putc - append one byte. Inline: text rendering and header
 * decoding call it per byte, and as a call it was 2.9 % of tamisd's
 * samples with the default rules (perf, issue 10).
 */
static inline tm_rc
tm_buf_putc(struct tm_buf *b, unsigned char c)
{
    if (b->len < b->cap) {
        b->data[b->len++] = c;
        return TM_OK;
    }
    return tm_buf_append(b, &c, 1);
}

#endif
