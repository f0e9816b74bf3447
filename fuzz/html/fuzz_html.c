/*
 * fuzz_html.c - the html stage alone (scanner/html): the first input byte
 * picks octet or character mode, the rest is the HTML. Small limits, as in
 * the other harnesses, so the node, depth, link and URL-length limits are
 * a few mutations away. Seeds: fuzz/html/seeds/, dictionary: html.dict.
 *
 * Invariants checked (abort() on violation): nlinks within text_max_uris,
 * every link's url within text_max_uri_len and its anchor within 256
 * bytes, counted characters not above the input size, nodes within
 * html_max_nodes, text within text_max_body and valid UTF-8 in character
 * mode when the input is valid UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/limits.h"
#include "core/task.h"
#include "html/html.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tm_engine *engine;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct tm_limits lim = tm_limits_default();

    (void)argc;
    (void)argv;
    lim.text_max_uris = 16;
    lim.text_max_uri_len = 256;
    lim.text_max_body = 1u << 16;
    lim.html_max_nodes = 512;
    lim.html_max_depth = 16;
    lim.task_arena_budget = 32u << 20;
    if ((engine = tm_engine_new_bare(&lim)) == NULL)
        abort();
    return 0;
}

/* utf8_ok - p[0..n) is well-formed UTF-8 (RFC 3629) */
static int
utf8_ok(const unsigned char *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = p[i];
        size_t k, j;
        unsigned long cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            k = 2;
        else if (c >= 0xE0 && c <= 0xEF)
            k = 3;
        else if (c >= 0xF0 && c <= 0xF4)
            k = 4;
        else
            return 0;
        if (n - i < k)
            return 0;
        cp = c & (0x7Fu >> k);
        for (j = 1; j < k; j++) {
            if ((p[i + j] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + j] & 0x3Fu);
        }
        if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k;
    }
    return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tm_task *task;
    struct tm_html_doc doc;
    const struct tm_limits *lim;
    int chars;
    size_t i;

    if (size == 0)
        return 0;
    chars = data[0] & 1;
    data++;
    size--;
    if ((task = tm_task_new(engine)) == NULL)
        abort();
    lim = task->limits;
    if (tm_html_parse(task, data, size, chars, &doc) == TM_OK) {
        if (doc.nlinks > lim->text_max_uris || doc.nodes > lim->html_max_nodes)
            abort();
        if (doc.text.len > lim->text_max_body || (doc.text.len > 0 && doc.text.p == NULL))
            abort();
        if (doc.hidden_chars + doc.visible_chars > size)
            abort();
        if ((doc.hidden_chars > 0) != (doc.hidden != 0))
            abort();
        for (i = 0; i < doc.nlinks; i++)
            if (doc.links[i].url.len > lim->text_max_uri_len || doc.links[i].anchor.len > 256 ||
                doc.links[i].raw.len > lim->text_max_uri_len || doc.links[i].url.p == NULL)
                abort();
        /* control characters are carried through as themselves, so only
           text without them and from valid UTF-8 must come out valid */
        if (chars && utf8_ok(data, size) && !utf8_ok(doc.text.p, doc.text.len))
            abort();
    }
    (void)tm_html_sniff_charset(data, size);
    tm_task_free(task);
    return 0;
}
