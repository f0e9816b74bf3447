/*
 * fuzz_json.c - the JSON reader of scanner/cli/jread.c, which reads
 * tamisd's analytics log (tamis insights) and earlier runs (tamis corpus
 * --baseline): untrusted files. A small node budget (from the first byte)
 * keeps the limit path close.
 *
 * Invariants: a document that parses has every node index, child and
 * sibling link inside the node array; walking the tree from the root
 * visits each node exactly once (no cycles); every string and key lies
 * inside the input buffer and is no longer than the input; lookups on the
 * root answer without crashing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/jread.h"
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

static size_t
walk(const struct tm_jparser *jp, size_t i, const char *lo, const char *hi, size_t depth)
{
    size_t c, n = 1;
    const struct tm_jnode *v;

    if (i >= jp->n || depth > TM_JREAD_MAX_DEPTH + 1)
        abort();
    v = &jp->v[i];
    if (v->t == TM_J_STR && (v->s < lo || v->s + v->slen > hi))
        abort();
    if (v->key != NULL && (v->key < lo || v->key + v->klen > hi))
        abort();
    if (v->t != TM_J_ARR && v->t != TM_J_OBJ && v->first != TM_JNONE)
        abort();
    for (c = v->first; c != TM_JNONE; c = jp->v[c].next) {
        if (c >= jp->n)
            abort();
        n += walk(jp, c, lo, hi, depth + 1);
        if (n > jp->n)
            abort();
    }
    return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tm_jparser jp;
    char *buf = tm_xmalloc(size ? size : 1);
    size_t root;

    if (size > 0)
        memcpy(buf, data, size);
    memset(&jp, 0, sizeof(jp));
    jp.max_nodes = size > 0 ? 1 + (size_t)data[0] * 16 : 1;
    root = tm_jparse(&jp, buf, size);
    if (root != TM_JNONE) {
        if (jp.n > jp.max_nodes)
            abort();
        if (walk(&jp, root, buf, buf + size, 1) != jp.n)
            abort();
        (void)tm_jget(&jp, root, "rules");
        (void)tm_jstreq(&jp, tm_jget(&jp, root, "tool"), "tamis corpus");
    }
    tm_free(jp.v);
    tm_free(buf);
    return 0;
}
