/*
 * headers.c - the header changes of a verdict; see headers.h.
 */
#include "proto/headers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/task.h"
#include "verdict/verdict.h"

int
tm_proto_is_spam(const struct tm_verdict *v)
{
    return v->action >= TM_ACT_ADD_HEADER;
}

static int
cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t
tm_proto_spam_headers(struct tm_task *t, const struct tm_verdict *v, int crlf,
                      struct tm_proto_header *out)
{
    const char *fold = crlf ? "\r\n\t" : "\n\t";
    const char **names;
    struct tm_buf b;
    char num[64];
    size_t i, col;
    int spam = tm_proto_is_spam(v);

    tm_buf_init(&b, t->arena, 64u * 1024);
    if ((names = tm_arena_calloc(t->arena, v->n + 1, sizeof(*names))) == NULL)
        return 0;
    for (i = 0; i < v->n; i++)
        names[i] = v->syms[i].name;
    qsort(names, v->n, sizeof(*names), cmp_name);
    snprintf(num, sizeof(num), "%s, score=%.1f required=%.1f tests=", spam ? "Yes" : "No",
             v->score, v->required);
    if (tm_buf_append(&b, num, strlen(num)) != TM_OK)
        return 0;
    col = strlen("X-Spam-Status: ") + strlen(num);
    for (i = 0; i < v->n; i++) {
        size_t n = strlen(names[i]) + (i + 1 < v->n ? 1 : 0);
        if (col + n > 78 && i > 0) {
            if (tm_buf_append(&b, fold, strlen(fold)) != TM_OK)
                return 0;
            col = 1;
        }
        if (tm_buf_append(&b, names[i], strlen(names[i])) != TM_OK ||
            (i + 1 < v->n && tm_buf_putc(&b, ',') != TM_OK))
            return 0;
        col += n;
    }
    if (v->n == 0 && tm_buf_append(&b, "none", 4) != TM_OK)
        return 0;
    out[0].name = "X-Spam-Status";
    out[0].value = tm_buf_cstr(&b);
    snprintf(num, sizeof(num), "%.1f", v->score);
    out[1].name = "X-Spam-Score";
    out[1].value = tm_arena_strdup(t->arena, num);
    out[2].name = "X-Spam-Action";
    out[2].value = tm_action_name(v->action);
    if (out[1].value == NULL)
        return 0;
    if (!spam)
        return 3;
    out[3].name = "X-Spam-Flag";
    out[3].value = "YES";
    return 4;
}

size_t
tm_proto_lf_folding(char *dst, const char *value)
{
    size_t k = 0, i;

    for (i = 0; value[i] != '\0'; i++)
        if (!(value[i] == '\r' && value[i + 1] == '\n'))
            dst[k++] = value[i];
    dst[k] = '\0';
    return k;
}
