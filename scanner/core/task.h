/*
 * task.h - the engine (immutable, shared by threads) and the per-message task
 * (one arena, the parsed message and everything later stages attach to it).
 * Everything a task points to lives in its arena and dies with it.
 */
#ifndef TM_CORE_TASK_H
#define TM_CORE_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "core/findings.h"
#include "core/limits.h"

struct tm_arena;
struct tm_mime_msg;
struct tm_text_cache;
struct tm_url_cache;
struct tm_av_report;
struct tm_auth_report;

struct tm_engine {
    struct tm_limits limits;
    _Atomic unsigned refs;
};

struct tm_task {
    struct tm_engine *engine;
    const struct tm_limits *limits;
    struct tm_arena *arena;
    struct tm_mime_msg *msg;
    struct tm_text_cache *text;     /* scanner/text's per-task cache of rule targets */
    struct tm_url_cache *url;       /* scanner/url's per-task URL set */
    struct tm_av_report *av;        /* scanner/av's results, NULL when AV did not run */
    struct tm_auth_report *auth;    /* scanner/auth's results, NULL when it did not run */
    uint32_t findings[TM_F__COUNT]; /* how often each finding was recorded */
    size_t decoded_total;           /* decoded bytes so far, for mime_max_decoded_size */
    tm_rc error;                    /* first tier-2 failure, TM_OK if none */
};

struct tm_engine *tm_engine_new_bare(const struct tm_limits *lim);
void tm_engine_ref(struct tm_engine *e);
void tm_engine_unref(struct tm_engine *e);

struct tm_task *tm_task_new(struct tm_engine *e);
void tm_task_free(struct tm_task *t);
void tm_task_finding(struct tm_task *t, enum tm_finding f);
/* tm_task_fail - remember the first tier-2 failure of the task */
void tm_task_fail(struct tm_task *t, tm_rc rc);

#endif
