/*
 * arena.c - bump allocator for one task.
 *
 * Invariants: used <= budget, counting every byte handed out (and, in debug
 * mode, each allocation separately). Chunks grow geometrically from 4 KiB to
 * 1 MiB; an allocation larger than a chunk gets a chunk of its own. All
 * memory is returned by tm_arena_free(), which first runs the on_free
 * callbacks in reverse order of registration.
 *
 * TM_ARENA_DEBUG: every allocation is a separate malloc so ASan can see an
 * overflow from one object into the next.
 */
#include "core/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/str.h"

#define ARENA_ALIGN     16u
#define ARENA_CHUNK_MIN 4096u
#define ARENA_CHUNK_MAX (1u << 20)

struct chunk {
    struct chunk *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    /* data follows, aligned */
};

struct cleanup {
    struct cleanup *next;
    tm_arena_free_fn fn;
    void *obj;
};

struct tm_arena {
    struct chunk *chunks;
    struct cleanup *cleanups;
    size_t budget;
    size_t used;
    size_t next_chunk;
    void *last;      /* last allocation, for in-place realloc */
    size_t last_len; /* its length */
};

#define CHUNK_HDR ((sizeof(struct chunk) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

static inline unsigned char *
chunk_data(struct chunk *c)
{
    return (unsigned char *)c + CHUNK_HDR;
}

struct tm_arena *
tm_arena_new(size_t budget)
{
    struct tm_arena *a;

    if (tm_failpoint())
        return NULL;
    a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->budget = budget;
    a->next_chunk = ARENA_CHUNK_MIN;
    return a;
}

void
tm_arena_free(struct tm_arena *a)
{
    struct cleanup *c, *cn;
    struct chunk *k, *kn;

    if (a == NULL)
        return;
    for (c = a->cleanups; c != NULL; c = cn) {
        cn = c->next;
        c->fn(c->obj);
    }
    for (k = a->chunks; k != NULL; k = kn) {
        kn = k->next;
        free(k);
    }
    free(a);
}

static inline size_t
align_up(size_t n)
{
    return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

void *
tm_arena_alloc(struct tm_arena *a, size_t n)
{
    struct chunk *c;
    size_t need;
    void *p;

    if (n == 0)
        n = 1;
    if (n > SIZE_MAX / 2)
        return NULL;
    need = align_up(n);
    if (need > a->budget - a->used)
        return NULL;
    if (tm_failpoint())
        return NULL;
#ifdef TM_ARENA_DEBUG
    c = malloc(CHUNK_HDR + n);
    if (c == NULL)
        return NULL;
    c->size = n;
    c->used = n;
    c->next = a->chunks;
    a->chunks = c;
    a->used += need;
    p = chunk_data(c);
#else
    c = a->chunks;
    if (c == NULL || c->size - c->used < need) {
        size_t size = a->next_chunk;
        if (size < need)
            size = need;
        else if (a->next_chunk < ARENA_CHUNK_MAX)
            a->next_chunk *= 2;
        c = malloc(CHUNK_HDR + size);
        if (c == NULL)
            return NULL;
        c->size = size;
        c->used = 0;
        /* A dedicated big chunk goes behind the current one so the current keeps serving. */
        if (a->chunks != NULL && size == need && size > a->next_chunk) {
            c->next = a->chunks->next;
            a->chunks->next = c;
        } else {
            c->next = a->chunks;
            a->chunks = c;
        }
    }
    p = chunk_data(c) + c->used;
    c->used += need;
    a->used += need;
#endif
    a->last = p;
    a->last_len = need;
    return p;
}

void *
tm_arena_calloc(struct tm_arena *a, size_t n, size_t size)
{
    void *p;

    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    p = tm_arena_alloc(a, n * size);
    if (p != NULL)
        memset(p, 0, n * size);
    return p;
}

void *
tm_arena_realloc(struct tm_arena *a, void *old, size_t oldn, size_t n)
{
    void *p;

#ifndef TM_ARENA_DEBUG
    /* Grow in place when `old` is the most recent allocation of the head chunk. */
    if (old != NULL && old == a->last && a->chunks != NULL &&
        (unsigned char *)old + a->last_len == chunk_data(a->chunks) + a->chunks->used) {
        size_t need = align_up(n ? n : 1);
        struct chunk *c = a->chunks;
        if (need <= a->last_len)
            return old;
        if (need - a->last_len <= c->size - c->used && need - a->last_len <= a->budget - a->used) {
            c->used += need - a->last_len;
            a->used += need - a->last_len;
            a->last_len = need;
            return old;
        }
    }
#endif
    p = tm_arena_alloc(a, n);
    if (p != NULL && old != NULL)
        memcpy(p, old, oldn < n ? oldn : n);
    return p;
}

char *
tm_arena_strndup(struct tm_arena *a, const void *s, size_t n)
{
    char *p;

    if (n == SIZE_MAX)
        return NULL;
    p = tm_arena_alloc(a, n + 1);
    if (p == NULL)
        return NULL;
    if (n > 0)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
tm_arena_strdup(struct tm_arena *a, const char *s)
{
    return tm_arena_strndup(a, s, strlen(s));
}

char *
tm_arena_lowerdup(struct tm_arena *a, const void *s, size_t n)
{
    char *p = tm_arena_strndup(a, s, n);
    size_t i;

    if (p != NULL)
        for (i = 0; i < n; i++)
            p[i] = (char)tm_lower((unsigned char)p[i]);
    return p;
}

int
tm_arena_on_free(struct tm_arena *a, tm_arena_free_fn fn, void *obj)
{
    struct cleanup *c = tm_arena_alloc(a, sizeof(*c));

    if (c == NULL)
        return -1;
    c->fn = fn;
    c->obj = obj;
    c->next = a->cleanups;
    a->cleanups = c;
    return 0;
}

size_t
tm_arena_used(const struct tm_arena *a)
{
    return a->used;
}

size_t
tm_arena_budget(const struct tm_arena *a)
{
    return a->budget;
}
