/* fixture.c - temporary .cf files for the rules tests (see fixture.h). */
#include "fixture.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

const char *
rfx_write(struct rfx *f, const char *name, const char *text)
{
    static char path[512];
    FILE *fp;

    if (f->dir[0] == '\0') {
        memcpy(f->dir, "/tmp/tm_rules_XXXXXX", sizeof("/tmp/tm_rules_XXXXXX"));
        if (mkdtemp(f->dir) == NULL) {
            tm_test_fail(__FILE__, __LINE__, "mkdtemp failed");
            return NULL;
        }
    }
    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    if ((fp = fopen(path, "wb")) == NULL) {
        tm_test_fail(__FILE__, __LINE__, "cannot write %s", path);
        return NULL;
    }
    fputs(text, fp);
    fclose(fp);
    return path;
}

int
rfx_load(struct rfx *f, const char *text)
{
    const char *p = rfx_write(f, "t.cf", text);
    const char *paths[1];

    if (p == NULL)
        return 0;
    snprintf(f->path, sizeof(f->path), "%s", p);
    paths[0] = f->path;
    f->rc = tm_rules_load(&f->rs, paths, 1);
    return 1;
}

static void
rfx_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[512];

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (unlink(path) != 0)
            rfx_rmdir(path);
    }
    closedir(d);
    rmdir(dir);
}

void
rfx_done(struct rfx *f)
{
    if (tm_test_failed() > 0)
        rfx_print(&f->rs);
    tm_rules_free(&f->rs);
    if (f->dir[0] != '\0')
        rfx_rmdir(f->dir);
}

const struct tm_rule_diag *
rfx_diag(const struct rfx *f, const char *sub, size_t n)
{
    size_t i;

    for (i = 0; i < f->rs.ndiags; i++)
        if (strstr(f->rs.diags[i].msg, sub) != NULL && n-- == 0)
            return &f->rs.diags[i];
    return NULL;
}

size_t
rfx_nerrors(const struct tm_ruleset *rs)
{
    size_t i, n = 0;

    for (i = 0; i < rs->ndiags; i++)
        n += rs->diags[i].error != 0;
    return n;
}

void
rfx_print(const struct tm_ruleset *rs)
{
    size_t i;

    for (i = 0; i < rs->ndiags; i++)
        printf("    diag %s:%u:%u: %s: %s\n", rs->diags[i].file, rs->diags[i].line,
               rs->diags[i].col, rs->diags[i].error ? "error" : "warning", rs->diags[i].msg);
}
