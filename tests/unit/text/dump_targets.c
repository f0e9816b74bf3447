/*
 * dump_targets.c - the `text_dump` helper: print the rule targets Tamis
 * computes for a message file, in the format of sa_targets.pl (hex strings)
 * or, with -t, as readable text. Handy for debugging rule hits and for
 * comparing with SpamAssassin over a corpus (tests/unit/text/compare.py).
 *
 * Usage: text_dump [-t] FILE...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/task.h"
#include "mime/mime.h"
#include "text/text.h"
#include "url/collect.h"
#include "text_specs.h"

static void
put(const char *tag, struct tm_str s, int human)
{
    size_t i;

    printf("%s ", tag);
    if (human) {
        for (i = 0; i < s.len; i++) {
            unsigned char c = s.p[i];
            if (c == '\n')
                fputs("\\n", stdout);
            else if (c == '\\')
                fputs("\\\\", stdout);
            else if (c < 0x20 || c == 0x7f)
                printf("\\x%02x", c);
            else
                putchar(c);
        }
    } else if (s.len == 0) {
        putchar('-');
    } else {
        for (i = 0; i < s.len; i++)
            printf("%02x", s.p[i]);
    }
    putchar('\n');
}

static int
cmp_str(const void *a, const void *b)
{
    const struct tm_str *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->p, y->p, n) : 0;

    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int
dump(struct tm_engine *e, const char *path, int human)
{
    struct tm_task *t;
    const struct tm_textset *ts;
    unsigned char *buf;
    size_t n, i, cap = 1 << 16, len = 0;
    FILE *f = fopen(path, "rb");

    if (f == NULL) {
        perror(path);
        return 1;
    }
    buf = malloc(cap);
    while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            unsigned char *nb = realloc(buf, cap * 2);
            if (nb == NULL)
                break;
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf == NULL || (t = tm_task_new(e)) == NULL)
        return 1;
    (void)tm_mime_parse(t, buf, len);
    printf("file %s\n", path);
    if (tm_text_body(t, &ts) == TM_OK)
        for (i = 0; i < ts->n; i++)
            put("body", ts->v[i], human);
    if (tm_text_rawbody(t, &ts) == TM_OK)
        for (i = 0; i < ts->n; i++)
            put("rawbody", ts->v[i], human);
    if (tm_url_uri_target(t, &ts) == TM_OK) {
        struct tm_str *v = malloc((ts->n + 1) * sizeof(*v));
        if (v != NULL) {
            if (ts->n > 0)
                memcpy(v, ts->v, ts->n * sizeof(*v));
            qsort(v, ts->n, sizeof(*v), cmp_str);
            for (i = 0; i < ts->n; i++)
                put("uri", v[i], human);
            free(v);
        }
    }
    for (i = 0; i < TM_TEXT_NSPECS; i++) {
        const struct tm_text_spec *sp = &tm_text_specs[i];
        struct tm_str out;
        int present = 0;
        char tag[96];
        if (tm_text_header(t, sp->kind, &sp->name, sp->name ? 1 : 0, sp->mods, &out, &present) !=
            TM_OK)
            continue;
        snprintf(tag, sizeof(tag), "hdr %s %d", sp->spec, present);
        if (present)
            put(tag, out, human);
        else
            printf("%s -\n", tag);
    }
    tm_task_free(t);
    free(buf);
    return 0;
}

int
main(int argc, char **argv)
{
    struct tm_limits lim = tm_limits_default();
    struct tm_engine *e = tm_engine_new_bare(&lim);
    int i = 1, human = 0, rc = 0;

    if (argc > 1 && strcmp(argv[1], "-t") == 0) {
        human = 1;
        i++;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: text_dump [-t] FILE...\n");
        return 2;
    }
    for (; i < argc; i++)
        rc |= dump(e, argv[i], human);
    tm_engine_unref(e);
    return rc;
}
