/*
 * arena.h - one arena per task (rspamd's task pool). Allocations are bumped
 * out of chunks and freed all at once; the arena has a byte budget set from
 * the limits, and exhausting it returns NULL (the task then records TM_ENOMEM),
 * never exits. With TM_ARENA_DEBUG every allocation is its own malloc so that
 * AddressSanitizer sees overflows between objects.
 */
#ifndef TM_CORE_ARENA_H
#define TM_CORE_ARENA_H

#include <stddef.h>

struct tm_arena;

typedef void (*tm_arena_free_fn)(void *obj);

struct tm_arena *tm_arena_new(size_t budget);
void tm_arena_free(struct tm_arena *a);
void *tm_arena_alloc(struct tm_arena *a, size_t n);
void *tm_arena_calloc(struct tm_arena *a, size_t n, size_t size);
/* tm_arena_realloc - grow the last or any block; copies, the old block stays until reset */
void *tm_arena_realloc(struct tm_arena *a, void *old, size_t oldn, size_t n);
char *tm_arena_strndup(struct tm_arena *a, const void *s, size_t n);
char *tm_arena_strdup(struct tm_arena *a, const char *s);
/* tm_arena_lowerdup - NUL-terminated ASCII lower-case copy */
char *tm_arena_lowerdup(struct tm_arena *a, const void *s, size_t n);
int tm_arena_on_free(struct tm_arena *a, tm_arena_free_fn fn, void *obj);
size_t tm_arena_used(const struct tm_arena *a);
size_t tm_arena_budget(const struct tm_arena *a);

#endif
