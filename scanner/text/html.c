/*
 * html.c - the `body` rendering of a text/html part, over the html stage
 * (scanner/html, libxml2): the stage's text is appended to the body text,
 * and the whole per-part result (links, hidden text ...) is kept in the
 * task's text cache for later stages (tm_text_html_docs; scanner/url takes
 * the links from there).
 */
#include "text/text.h"

#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/task.h"
#include "html/html.h"
#include "mime/mime.h"
#include "text/text_int.h"

/* keep - remember one part's parse in the cache's growing array */
static tm_rc
keep(struct tm_task *t, struct tm_text_cache *c, const struct tm_html_doc *doc)
{
    struct tm_text_html_part *hp;

    if (c->nhtml == c->html_cap) {
        size_t nc = c->html_cap ? c->html_cap * 2 : 4;
        void *p = tm_arena_realloc(t->arena, c->html, c->html_cap * sizeof(*hp), nc * sizeof(*hp));
        if (p == NULL)
            return TM_ENOMEM;
        c->html = p;
        c->html_cap = nc;
    }
    hp = &c->html[c->nhtml++];
    hp->part = c->html_part;
    hp->doc = *doc;
    hp->mime_charset = TM_STR_NULL;
    if (c->html_part != NULL && c->html_part->charset != NULL)
        hp->mime_charset = tm_str_make(c->html_part->charset, strlen(c->html_part->charset));
    return TM_OK;
}

tm_rc
tm_text_html_render(struct tm_task *t, const unsigned char *in, size_t inlen, int chars,
                    struct tm_buf *out)
{
    struct tm_text_cache *c = tm_text_cache_get(t);
    struct tm_html_doc doc;
    tm_rc rc;

    if (c == NULL)
        return TM_ENOMEM;
    if ((rc = tm_html_parse(t, in, inlen, chars, &doc)) != TM_OK)
        return rc;
    if ((rc = keep(t, c, &doc)) != TM_OK)
        return rc;
    c->html_part = NULL;
    rc = tm_buf_append(out, doc.text.p, doc.text.len);
    if (rc == TM_ELIMIT) { /* text_max_body: what fits, at a character boundary */
        size_t k = out->max - out->len;
        while (k > 0 && k < doc.text.len && (doc.text.p[k] & 0xC0) == 0x80)
            k--;
        rc = tm_buf_append(out, doc.text.p, k);
    }
    return rc;
}

tm_rc
tm_text_html_docs(struct tm_task *t, const struct tm_text_html_part **out, size_t *n)
{
    const struct tm_textset *body;
    struct tm_text_cache *c;
    tm_rc rc;

    *out = NULL;
    *n = 0;
    if ((rc = tm_text_body(t, &body)) == TM_ENOMEM)
        return rc;
    if ((c = tm_text_cache_get(t)) == NULL)
        return TM_ENOMEM;
    *out = c->html;
    *n = c->nhtml;
    return TM_OK;
}
