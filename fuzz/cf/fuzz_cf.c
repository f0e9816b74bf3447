/*
 * fuzz_cf.c - the rule-file loader (rule authors' input) and the meta
 * expression compiler. The input is written to a scratch file and loaded as
 * a .cf file; inputs with `include` are skipped so the harness never reads
 * other files. Hyperscan compilation is not run here (it is bounded by the
 * compiler child's time limit in the engine, not by the parser).
 * Invariants: every diag names the file and a line inside it; every rule
 * has a name and a type; metas keep their expression.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "rules/rules.h"
#include "verdict/verdict.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void
cleanup(void)
{
    unlink(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int fd;

    (void)argc;
    (void)argv;
    snprintf(path, sizeof(path), "/tmp/fuzz_cf.XXXXXX");
    if ((fd = mkstemp(path)) < 0)
        abort();
    close(fd);
    atexit(cleanup);
    return 0;
}

static int
has_include(const uint8_t *d, size_t n)
{
    size_t i;

    for (i = 0; i + 7 <= n; i++)
        if (memcmp(d + i, "include", 7) == 0)
            return 1;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tm_ruleset rs;
    struct tm_scorer *sc = NULL;
    const char *paths[1];
    size_t i, lines = 1;
    FILE *f;

    if (has_include(data, size))
        return 0;
    if ((f = fopen(path, "wb")) == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    for (i = 0; i < size; i++)
        lines += data[i] == '\n';
    memset(&rs, 0, sizeof(rs));
    paths[0] = path;
    (void)tm_rules_load(&rs, paths, 1);
    for (i = 0; i < rs.ndiags; i++)
        TM_ASSERT(rs.diags[i].msg != NULL && rs.diags[i].line <= lines + 1);
    for (i = 0; i < rs.n; i++) {
        TM_ASSERT(rs.rules[i].name != NULL && rs.rules[i].type < TM_RULE__COUNT);
        TM_ASSERT(tm_rules_find(&rs, rs.rules[i].name) != NULL);
    }
    if (tm_scorer_build(&rs, NULL, &sc) == TM_OK)
        tm_scorer_free(sc);
    tm_rules_free(&rs);
    return 0;
}
