/*
 * fuzz_text.c - the rule targets (scanner/text): parse the message, then
 * build body (HTML rendering included), rawbody, the URI list and the
 * header texts every header rule kind asks for. Small limits, as in
 * fuzz_mime, so the limit branches are reachable. Seeds: fuzz/text/seeds/.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/limits.h"
#include "core/task.h"
#include "mime/mime.h"
#include "text/text.h"
#include "url/collect.h"

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
    lim.header_max_len = 2000;
    lim.mime_max_decoded_size = 1u << 20;
    lim.text_max_uris = 64;
    lim.text_max_pieces = 256;
    lim.task_arena_budget = 16u << 20;
    if ((engine = tm_engine_new_bare(&lim)) == NULL)
        abort();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"From", "To", "Subject", "Received", "Content-Type"};
    static const unsigned mods[] = {0, 0x1u, 0x2u, 0x4u, 0x8u, 0x20u, 0x40u, 0x1u | 0x4u};
    struct tm_task *task = tm_task_new(engine);
    const struct tm_textset *set;
    struct tm_str v;
    size_t i, k;
    int present;

    if (task == NULL)
        abort();
    if (tm_mime_parse(task, data, size) == TM_OK) {
        (void)tm_text_body(task, &set);
        (void)tm_text_rawbody(task, &set);
        (void)tm_url_uri_target(task, &set);
        (void)tm_text_full(task);
        for (k = 0; k < sizeof(mods) / sizeof(mods[0]); k++) {
            for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                (void)tm_text_header(task, TM_TEXT_HDR_NAMED, &names[i], 1, mods[k], &v, &present);
            (void)tm_text_header(task, TM_TEXT_HDR_ALL, NULL, 0, mods[k], &v, &present);
            (void)tm_text_header(task, TM_TEXT_HDR_TOCC, NULL, 0, mods[k], &v, &present);
            (void)tm_text_header(task, TM_TEXT_HDR_MESSAGEID, NULL, 0, mods[k], &v, &present);
        }
    }
    tm_task_free(task);
    return 0;
}
