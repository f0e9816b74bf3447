/*
 * tamis.c - the public API (include/tamis/tamis.h) over the internal
 * engine and task. The engine's settings can change only until it is first
 * used; after that it is shared read-only.
 */
#include "tamis/tamis.h"

#include <clamav.h>
#include <hs/hs.h>
#include <libxml/xmlversion.h>
#include <openssl/crypto.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/json.h"
#include "core/task.h"
#include "mime/mime.h"
#include "verdict/report.h"

#ifndef TAMIS_VERSION
#define TAMIS_VERSION "0.1.0"
#endif

struct tamis_engine {
    struct tm_engine *e;
    int used;
};

struct tamis_task {
    struct tm_task *t;
    double scan_ms;
    struct tm_json json;
};

const char *
tamis_version(void)
{
    static char buf[512];
    char pcre[64] = "";

    if (buf[0] == '\0') {
        pcre2_config(PCRE2_CONFIG_VERSION, pcre);
        snprintf(buf, sizeof(buf),
                 "tamis %s (libclamav %s, hyperscan %.40s, pcre2 %s, libxml2 %s, %s)",
                 TAMIS_VERSION, cl_retver(), hs_version(), pcre, LIBXML_DOTTED_VERSION,
                 OpenSSL_version(OPENSSL_VERSION));
    }
    return buf;
}

struct tamis_engine *
tamis_engine_new(void)
{
    struct tamis_engine *te = tm_calloc(1, sizeof(*te));

    if (te == NULL)
        return NULL;
    te->e = tm_engine_new_bare(NULL);
    if (te->e == NULL) {
        tm_free(te);
        return NULL;
    }
    return te;
}

int
tamis_engine_set(struct tamis_engine *te, const char *name, const char *value, char *err,
                 size_t errlen)
{
    if (te->used) {
        snprintf(err, errlen, "engine already in use; settings are frozen");
        return TAMIS_EINVAL;
    }
    return tm_limits_set(&te->e->limits, name, value, err, errlen);
}

void
tamis_engine_free(struct tamis_engine *te)
{
    if (te == NULL)
        return;
    tm_engine_unref(te->e);
    tm_free(te);
}

struct tamis_task *
tamis_task_new(struct tamis_engine *te)
{
    struct tamis_task *tt = tm_calloc(1, sizeof(*tt));

    if (tt == NULL)
        return NULL;
    te->used = 1;
    tt->t = tm_task_new(te->e);
    if (tt->t == NULL) {
        tm_free(tt);
        return NULL;
    }
    tm_json_init(&tt->json, 0);
    return tt;
}

int
tamis_task_scan(struct tamis_task *tt, const unsigned char *msg, size_t len)
{
    double t0 = tm_now_ms();
    tm_rc rc = tm_mime_parse(tt->t, msg, len);

    tt->scan_ms = tm_now_ms() - t0;
    return rc == TM_OK ? TAMIS_OK : (int)rc;
}

const char *
tamis_task_json(struct tamis_task *tt, const char *file, int pretty, size_t *len)
{
    struct tm_report_opts o;

    o.file = file;
    o.scan_ms = tt->scan_ms;
    tm_json_free(&tt->json);
    tm_json_init(&tt->json, pretty);
    tm_report_json(tt->t, &o, &tt->json);
    tm_json_raw(&tt->json, "");
    tt->json.p[tt->json.len] = '\0';
    if (len != NULL)
        *len = tt->json.len;
    return tt->json.p;
}

void
tamis_task_free(struct tamis_task *tt)
{
    if (tt == NULL)
        return;
    tm_json_free(&tt->json);
    tm_task_free(tt->t);
    tm_free(tt);
}
