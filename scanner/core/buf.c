/* buf.c - capped growable buffer in a task arena (see buf.h). */
#include "core/buf.h"

#include <string.h>

#include "core/arena.h"

/*
 * tm_buf_init - an empty buffer. It gets one byte of storage at once, so
 * b->data is never NULL while the arena has budget: callers may compute
 * b->data + b->len on an empty buffer (NULL + 0 is undefined in C).
 */
void
tm_buf_init(struct tm_buf *b, struct tm_arena *a, size_t max)
{
    b->arena = a;
    b->data = a != NULL ? tm_arena_alloc(a, 1) : NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

/* grow - make cap >= need (need <= max is checked by the caller) */
static tm_rc
grow(struct tm_buf *b, size_t need)
{
    size_t cap;
    unsigned char *p;

    if (need <= b->cap)
        return TM_OK;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > b->max / 2 ? b->max : cap * 2;
    if (cap > b->max)
        cap = b->max;
    /* One spare byte so tm_buf_cstr never needs to grow past max. */
    p = tm_arena_realloc(b->arena, b->data, b->len, cap + 1);
    if (p == NULL)
        return TM_ENOMEM;
    b->data = p;
    b->cap = cap;
    return TM_OK;
}

tm_rc
tm_buf_append(struct tm_buf *b, const void *src, size_t n)
{
    tm_rc rc;

    if (n > b->max - b->len) /* len <= max is an invariant, so no wrap */
        return TM_ELIMIT;
    if ((rc = grow(b, b->len + n)) != TM_OK)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, src, n);
    b->len += n;
    return TM_OK;
}

unsigned char *
tm_buf_reserve(struct tm_buf *b, size_t n, tm_rc *rc)
{
    if (n > b->max - b->len) {
        *rc = TM_ELIMIT;
        return NULL;
    }
    /* At least one byte, so an empty buffer still has storage to point into. */
    if ((*rc = grow(b, b->len + (n ? n : 1) > b->max ? b->max : b->len + (n ? n : 1))) != TM_OK)
        return NULL;
    if (b->data == NULL && (b->data = tm_arena_alloc(b->arena, 1)) == NULL) {
        *rc = TM_ENOMEM;
        return NULL;
    }
    return b->data + b->len;
}

const char *
tm_buf_cstr(struct tm_buf *b)
{
    if (b->data == NULL) {
        b->data = tm_arena_alloc(b->arena, 1);
        if (b->data == NULL)
            return NULL;
        b->cap = 0;
    }
    b->data[b->len] = '\0';
    return (const char *)b->data;
}
