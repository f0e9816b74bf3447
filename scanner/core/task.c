/*
 * task.c - engine and task lifetime. The engine is immutable after creation
 * and reference-counted so a reload can swap it while scans finish on the old
 * one; a task owns one arena whose budget comes from the limits.
 */
#include "core/task.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"

static const char *const finding_names[] = {
#define TM_FINDING_NAME(n) #n,
    TM_FINDINGS(TM_FINDING_NAME)
#undef TM_FINDING_NAME
};

const char *
tm_finding_name(enum tm_finding f)
{
    if ((unsigned)f >= TM_F__COUNT)
        return "UNKNOWN";
    return finding_names[f];
}

struct tm_engine *
tm_engine_new_bare(const struct tm_limits *lim)
{
    struct tm_engine *e;

    if (tm_failpoint())
        return NULL;
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->limits = lim ? *lim : tm_limits_default();
    e->refs = 1;
    return e;
}

void
tm_engine_ref(struct tm_engine *e)
{
    atomic_fetch_add_explicit(&e->refs, 1u, memory_order_relaxed);
}

void
tm_engine_unref(struct tm_engine *e)
{
    if (e == NULL)
        return;
    if (atomic_fetch_sub_explicit(&e->refs, 1u, memory_order_acq_rel) == 1)
        free(e);
}

struct tm_task *
tm_task_new(struct tm_engine *e)
{
    struct tm_task *t;

    if (tm_failpoint())
        return NULL;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->arena = tm_arena_new(e->limits.task_arena_budget);
    if (t->arena == NULL) {
        free(t);
        return NULL;
    }
    tm_engine_ref(e);
    t->engine = e;
    t->limits = &e->limits;
    return t;
}

void
tm_task_free(struct tm_task *t)
{
    if (t == NULL)
        return;
    tm_arena_free(t->arena);
    tm_engine_unref(t->engine);
    free(t);
}

void
tm_task_finding(struct tm_task *t, enum tm_finding f)
{
    if ((unsigned)f < TM_F__COUNT && t->findings[f] < UINT32_MAX)
        t->findings[f]++;
}

void
tm_task_fail(struct tm_task *t, tm_rc rc)
{
    if (t->error == TM_OK)
        t->error = rc;
    if (rc == TM_ENOMEM)
        tm_task_finding(t, TM_F_MIME_LIMIT_ARENA);
}
