/*
 * fuzz_mime.c - the MIME stage alone: parse, decode every header, check the
 * tree's invariants, free. Small limits so every "limit reached" branch is a
 * few mutations away (Postfix's test driver idea). Seeds: fuzz/mime/seeds/.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/limits.h"
#include "core/task.h"
#include "mime/addr.h"
#include "mime/mime.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tm_engine *engine;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct tm_limits lim = tm_limits_default();

    (void)argc;
    (void)argv;
    lim.mime_max_depth = 4;
    lim.mime_max_parts = 32;
    lim.mime_max_headers = 64;
    lim.header_max_len = 2000;
    lim.mime_max_params = 8;
    lim.mime_max_uu_blocks = 2;
    lim.mime_max_encoded_words = 16;
    lim.mime_max_decoded_size = 1u << 20;
    lim.task_arena_budget = 8u << 20;
    if ((engine = tm_engine_new_bare(&lim)) == NULL)
        abort();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tm_task *task = tm_task_new(engine);
    const struct tm_mime_part *p;

    if (task == NULL)
        abort();
    (void)tm_mime_parse(task, data, size); /* any status is acceptable; a crash is not */
    tm_mime_assert_invariants(task);
    for (p = task->msg ? task->msg->root : NULL; p != NULL; p = tm_mime_next(p)) {
        size_t i;
        for (i = 0; i < p->nhdrs; i++) {
            const char *s, **v;
            size_t n, na;
            int trunc;
            if (tm_mime_header_decode(task, &p->hdrs[i], &s, &n) != TM_OK)
                break;
            if (i < 4)
                (void)tm_addr_list(task->arena, (const unsigned char *)s, n, 16, &v, &na, &trunc);
        }
    }
    tm_task_free(task); /* frees the arena: leaks show up here */
    return 0;
}
