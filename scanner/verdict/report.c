/*
 * report.c - the verdict JSON (docs/design.md "The verdict, as JSON") and
 * the text tree printed by `tamis scan`. Header values are decoded here
 * (RFC 2047, charset to UTF-8); addresses are reduced to addr-specs.
 */
#include "verdict/report.h"

#include <stdio.h>
#include <string.h>

#include "auth/auth.h"
#include "av/av.h"
#include "core/json.h"
#include "core/task.h"
#include "mime/addr.h"
#include "match/match.h"
#include "mime/mime.h"
#include "text/text.h"
#include "url/collect.h"
#include "verdict/verdict.h"

#define REPORT_MAX_ADDRS 1000

static void
hex(const unsigned char *d, size_t n, char *out)
{
    static const char h[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = h[d[i] >> 4];
        out[2 * i + 1] = h[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* addrs - the addr-specs of every `name` header of the root */
static void
addrs(struct tm_task *t, const char *name, struct tm_json *j, int first_only)
{
    const struct tm_mime_header *h;
    size_t idx, i, n;
    const char **v;
    int trunc;

    if (!first_only)
        tm_json_arr(j);
    for (idx = 0; t->msg && t->msg->root && (h = tm_mime_header_find(t->msg->root, name, idx));
         idx++) {
        const char *dec;
        size_t dl;
        if (tm_mime_header_decode(t, h, &dec, &dl) != TM_OK)
            break;
        if (tm_addr_list(t->arena, (const unsigned char *)dec, dl, REPORT_MAX_ADDRS, &v, &n,
                         &trunc) != TM_OK)
            break;
        for (i = 0; i < n; i++) {
            tm_json_str(j, v[i]);
            if (first_only)
                return;
        }
    }
    if (first_only)
        tm_json_null(j);
    else
        tm_json_end_arr(j);
}

static const char *
cte_str(const struct tm_mime_part *p)
{
    return p->cte_name;
}

/* verdict_json - action, score and symbols (docs/design.md field names) */
static void
verdict_json(const struct tm_report_opts *o, struct tm_json *j)
{
    const struct tm_verdict *v = o->verdict;
    size_t i;

    tm_json_key(j, "action");
    tm_json_str(j, tm_action_name(v->action));
    if (v->early_exit != NULL) {
        tm_json_key(j, "early_exit");
        tm_json_str(j, v->early_exit);
    }
    if (v->forced_by != NULL) {
        tm_json_key(j, "forced_by");
        tm_json_str(j, v->forced_by);
    }
    if (v->smtp_reply != NULL) {
        tm_json_key(j, "smtp_reply");
        tm_json_str(j, v->smtp_reply);
    }
    if (v->nprepend > 0) { /* fields the relay inserts at the top, top-most first */
        tm_json_key(j, "prepend_headers");
        tm_json_arr(j);
        for (i = 0; i < v->nprepend; i++) {
            tm_json_obj(j);
            tm_json_key(j, "name");
            tm_json_str(j, v->prepend[i].name);
            tm_json_key(j, "value");
            tm_json_str(j, v->prepend[i].value);
            tm_json_end_obj(j);
        }
        tm_json_end_arr(j);
    }
    if (v->nremove_ar > 0) { /* the message's Authentication-Results claiming our authserv-id */
        tm_json_key(j, "remove_authentication_results");
        tm_json_arr(j);
        for (i = 0; i < v->nremove_ar; i++)
            tm_json_uint(j, v->remove_ar[i]);
        tm_json_end_arr(j);
    }
    tm_json_key(j, "score");
    tm_json_double(j, v->score);
    tm_json_key(j, "required_score");
    tm_json_double(j, v->required);
    tm_json_key(j, "symbols");
    tm_json_arr(j);
    for (i = 0; i < v->n; i++) {
        const struct tm_symbol *y = &v->syms[i];
        tm_json_obj(j);
        tm_json_key(j, "name");
        tm_json_str(j, y->name);
        tm_json_key(j, "score");
        tm_json_double(j, y->score);
        tm_json_key(j, "description");
        tm_json_str(j, y->description);
        tm_json_key(j, "options");
        tm_json_arr(j);
        if (y->noptions > 0) {
            size_t k;
            for (k = 0; k < y->noptions; k++)
                tm_json_str(j, y->options[k]);
        } else if (y->where != NULL && y->where->len > 0) {
            tm_json_strn(j, y->where->text, y->where->len);
        }
        tm_json_end_arr(j);
        if (y->count > 1) {
            tm_json_key(j, "count");
            tm_json_uint(j, y->count);
        }
        if (o->explain && y->where != NULL) {
            tm_json_key(j, "target");
            tm_json_str(j, y->where->target);
            tm_json_key(j, "piece");
            tm_json_uint(j, y->where->piece);
            tm_json_key(j, "offset");
            tm_json_uint(j, y->where->offset);
        }
        tm_json_end_obj(j);
    }
    tm_json_end_arr(j);
    if (o->all_hits) {
        tm_json_key(j, "rule_hits");
        tm_json_arr(j);
        for (i = 0; i < v->nall; i++)
            tm_json_str(j, v->all_hits[i]);
        tm_json_end_arr(j);
    }
    tm_json_key(j, "rules_version");
    tm_json_str(j, o->rules_version);
}

static const char *const url_flag_names[] = {
    "schemeless", "defanged", "ip", "ip_obfuscated", "ipv6", "userinfo", "idn", "host_encoded",
    "bad", "cut", "mixed_script", "mailto", "port",
};

/* urls_json - "urls": every URL of the message (scanner/url), as found and normalised */
static void
urls_json(struct tm_task *t, struct tm_json *j)
{
    const struct tm_urlset *set;
    size_t i, k;

    tm_json_key(j, "urls");
    tm_json_arr(j);
    if (t->msg != NULL && tm_url_collect(t, &set) == TM_OK)
        for (i = 0; i < set->n; i++) {
            const struct tm_url_item *it = &set->v[i];
            tm_json_obj(j);
            tm_json_key(j, "url");
            tm_json_strn(j, it->u.raw.p, it->u.raw.len);
            tm_json_key(j, "normalized");
            tm_json_strn(j, it->u.normalized.p, it->u.normalized.len);
            tm_json_key(j, "host");
            tm_json_strn(j, it->u.host.p, it->u.host.len);
            if (it->u.host_utf8.len > 0 && (it->u.host_utf8.len != it->u.host.len ||
                                            memcmp(it->u.host_utf8.p, it->u.host.p,
                                                   it->u.host.len) != 0)) {
                tm_json_key(j, "host_unicode");
                tm_json_strn(j, it->u.host_utf8.p, it->u.host_utf8.len);
            }
            tm_json_key(j, "domain");
            tm_json_strn(j, it->u.domain.p, it->u.domain.len);
            tm_json_key(j, "source");
            tm_json_str(j, tm_url_source_name(it->source));
            if (it->anchor.len > 0) {
                tm_json_key(j, "anchor");
                tm_json_strn(j, it->anchor.p, it->anchor.len);
            }
            if (it->parent >= 0) {
                tm_json_key(j, "inside");
                tm_json_uint(j, (unsigned long long)it->parent);
            }
            tm_json_key(j, "flags");
            tm_json_arr(j);
            for (k = 0; k < TM_NELEM(url_flag_names); k++)
                if (it->u.flags & (1u << k))
                    tm_json_str(j, url_flag_names[k]);
            if (it->hidden)
                tm_json_str(j, "hidden");
            tm_json_end_arr(j);
            tm_json_end_obj(j);
        }
    tm_json_end_arr(j);
}

/* html_json - "html": per text/html part, what was hidden and how much text, links, images */
static void
html_json(struct tm_task *t, struct tm_json *j)
{
    const struct tm_text_html_part *hp;
    char path[256];
    size_t n, i, k;

    tm_json_key(j, "html");
    tm_json_arr(j);
    if (t->msg != NULL && tm_text_html_docs(t, &hp, &n) == TM_OK)
        for (i = 0; i < n; i++) {
            const struct tm_html_doc *d = &hp[i].doc;
            tm_json_obj(j);
            tm_mime_part_path(hp[i].part, path, sizeof(path));
            tm_json_key(j, "path");
            tm_json_str(j, path);
            tm_json_key(j, "hidden");
            tm_json_arr(j);
            for (k = 0; k < TM_HTML_HID_KINDS; k++)
                if (d->hidden & (1u << k))
                    tm_json_str(j, tm_html_hidden_name((unsigned)k));
            tm_json_end_arr(j);
            tm_json_key(j, "hidden_chars");
            tm_json_uint(j, d->hidden_chars);
            tm_json_key(j, "visible_chars");
            tm_json_uint(j, d->visible_chars);
            tm_json_key(j, "links");
            tm_json_uint(j, d->nlinks);
            tm_json_key(j, "images");
            tm_json_uint(j, d->images);
            tm_json_key(j, "forms");
            tm_json_uint(j, d->forms);
            tm_json_key(j, "meta_charset");
            if (d->meta_charset.len > 0)
                tm_json_strn(j, d->meta_charset.p, d->meta_charset.len);
            else
                tm_json_null(j);
            tm_json_end_obj(j);
        }
    tm_json_end_arr(j);
}

/* av_json - "av": ClamAV's result for each attachment scanned (absent when AV is off) */
static void
av_json(struct tm_task *t, struct tm_json *j)
{
    const struct tm_av_report *rep = tm_av_task_report(t);
    char path[256];
    size_t i;

    if (rep == NULL)
        return;
    tm_json_key(j, "av");
    tm_json_arr(j);
    for (i = 0; i < rep->n; i++) {
        const struct tm_av_hit *h = &rep->v[i];
        tm_json_obj(j);
        tm_mime_part_path(h->part, path, sizeof(path));
        tm_json_key(j, "path");
        tm_json_str(j, path);
        if (h->uu >= 0) {
            tm_json_key(j, "uuencoded");
            tm_json_uint(j, (unsigned long long)h->uu);
        }
        tm_json_key(j, "filename");
        tm_json_str(j, h->filename);
        tm_json_key(j, "result");
        tm_json_str(j, tm_av_result_name(h->result));
        tm_json_key(j, "signature");
        tm_json_str(j, h->result == TM_AV_CLEAN ? NULL : h->signature);
        tm_json_end_obj(j);
    }
    tm_json_end_arr(j);
}

/* auth_json - "auth": SPF, DKIM, ARC and DMARC results (absent when authentication did not run) */
static void
auth_json(const struct tm_task *t, struct tm_json *j)
{
    const struct tm_auth_report *a = t->auth;
    size_t i;

    if (a == NULL || !a->ran)
        return;
    tm_json_key(j, "auth");
    tm_json_obj(j);
    tm_json_key(j, "from_domain");
    tm_json_str(j, a->from_domain);
    tm_json_key(j, "spf");
    tm_json_obj(j);
    tm_json_key(j, "result");
    tm_json_str(j, a->spf);
    tm_json_key(j, "domain");
    tm_json_str(j, a->spf_domain);
    tm_json_key(j, "reason");
    tm_json_str(j, a->spf_reason);
    tm_json_end_obj(j);
    tm_json_key(j, "dkim");
    tm_json_arr(j);
    for (i = 0; i < a->ndkim; i++) {
        const struct tm_auth_dkim *d = &a->dkim[i];
        tm_json_obj(j);
        tm_json_key(j, "result");
        tm_json_str(j, d->result);
        tm_json_key(j, "reason");
        tm_json_str(j, d->reason);
        tm_json_key(j, "domain");
        tm_json_str(j, d->domain);
        tm_json_key(j, "selector");
        tm_json_str(j, d->selector);
        tm_json_key(j, "algorithm");
        tm_json_str(j, d->algorithm);
        tm_json_key(j, "identity");
        tm_json_str(j, d->identity);
        tm_json_key(j, "key_bits");
        tm_json_uint(j, d->key_bits);
        tm_json_key(j, "weak");
        tm_json_bool(j, d->weak);
        tm_json_key(j, "testing");
        tm_json_bool(j, d->testing);
        tm_json_key(j, "body_length");
        tm_json_bool(j, d->body_length);
        tm_json_key(j, "aligned");
        tm_json_bool(j, d->aligned);
        tm_json_end_obj(j);
    }
    tm_json_end_arr(j);
    tm_json_key(j, "arc");
    tm_json_obj(j);
    tm_json_key(j, "result");
    tm_json_str(j, a->arc);
    tm_json_key(j, "instances");
    tm_json_uint(j, a->arc_instances);
    tm_json_key(j, "reason");
    tm_json_str(j, a->arc_reason);
    tm_json_end_obj(j);
    tm_json_key(j, "dmarc");
    tm_json_obj(j);
    tm_json_key(j, "result");
    tm_json_str(j, a->dmarc);
    tm_json_key(j, "policy");
    tm_json_str(j, a->dmarc_policy);
    tm_json_key(j, "disposition");
    tm_json_str(j, a->dmarc_disposition);
    tm_json_key(j, "record_domain");
    tm_json_str(j, a->dmarc_domain);
    tm_json_end_obj(j);
    tm_json_key(j, "authentication_results");
    tm_json_str(j, a->ar);
    tm_json_key(j, "dns_lookups");
    tm_json_uint(j, a->lookups);
    tm_json_end_obj(j);
}

tm_rc
tm_report_json(struct tm_task *t, const struct tm_report_opts *o, struct tm_json *j)
{
    const struct tm_mime_part *p;
    char path[256], sha[65];
    size_t i;

    tm_json_obj(j);
    tm_json_key(j, "file");
    tm_json_str(j, o->file);
    tm_json_key(j, "size");
    tm_json_uint(j, t->msg ? t->msg->raw.len : 0);
    tm_json_key(j, "message_id");
    tm_json_str(j, tm_mime_root_header(t, "message-id"));
    tm_json_key(j, "subject");
    tm_json_str(j, tm_mime_root_header(t, "subject"));
    tm_json_key(j, "from");
    addrs(t, "from", j, 1);
    tm_json_key(j, "to");
    addrs(t, "to", j, 0);
    if (o->verdict != NULL)
        verdict_json(o, j);
    tm_json_key(j, "parts");
    tm_json_arr(j);
    for (p = t->msg ? t->msg->root : NULL; p != NULL; p = tm_mime_next(p)) {
        int leaf = p->first_child == NULL && !p->is_multipart && !(p->is_message && p->nchildren);
        tm_mime_part_path(p, path, sizeof(path));
        tm_json_obj(j);
        tm_json_key(j, "path");
        tm_json_str(j, path);
        tm_json_key(j, "content_type");
        tm_json_str(j, p->content_type);
        tm_json_key(j, "charset");
        tm_json_str(j, p->charset);
        tm_json_key(j, "filename");
        tm_json_str(j, p->filename);
        tm_json_key(j, "disposition");
        tm_json_str(j, p->disposition);
        tm_json_key(j, "transfer_encoding");
        tm_json_str(j, cte_str(p));
        tm_json_key(j, "decoded_size");
        if (leaf)
            tm_json_uint(j, p->decoded_len);
        else
            tm_json_null(j);
        tm_json_key(j, "sha256");
        if (leaf) {
            hex(p->sha256, 32, sha);
            tm_json_str(j, sha);
        } else {
            tm_json_null(j);
        }
        if (p->nuu > 0) {
            tm_json_key(j, "uuencoded");
            tm_json_arr(j);
            for (i = 0; i < p->nuu; i++) {
                tm_json_obj(j);
                tm_json_key(j, "filename");
                tm_json_str(j, p->uu[i].filename);
                tm_json_key(j, "decoded_size");
                tm_json_uint(j, p->uu[i].len);
                tm_json_key(j, "sha256");
                hex(p->uu[i].sha256, 32, sha);
                tm_json_str(j, sha);
                tm_json_end_obj(j);
            }
            tm_json_end_arr(j);
        }
        tm_json_end_obj(j);
    }
    tm_json_end_arr(j);
    urls_json(t, j);
    html_json(t, j);
    av_json(t, j);
    auth_json(t, j);
    tm_json_key(j, "findings");
    tm_json_arr(j);
    for (i = 0; i < TM_F__COUNT; i++)
        if (t->findings[i])
            tm_json_str(j, tm_finding_name((enum tm_finding)i));
    tm_json_end_arr(j);
    if (t->error != TM_OK) {
        tm_json_key(j, "error");
        tm_json_str(j, tm_rc_str(t->error));
    }
    tm_json_key(j, "scan_ms");
    tm_json_double(j, o->scan_ms);
    tm_json_end_obj(j);
    return TM_OK;
}

/* line - append prefix, untrusted text clipped to `max` bytes, and suffix */
static void
line(struct tm_json *j, const char *prefix, const char *text, size_t max, const char *suffix)
{
    char buf[1024];
    size_t i;

    /* Untrusted text goes to a terminal: no control characters. */
    snprintf(buf, sizeof(buf), "%s%.*s%s", prefix, (int)(max < 900 ? max : 900), text, suffix);
    for (i = 0; buf[i] != '\0'; i++)
        if ((unsigned char)buf[i] < 0x20 && buf[i] != '\n')
            buf[i] = '?';
    tm_json_raw(j, buf);
}

tm_rc
tm_report_text(struct tm_task *t, const struct tm_report_opts *o, struct tm_json *j)
{
    const struct tm_mime_part *p;
    const char *subj = tm_mime_root_header(t, "subject");
    char path[256], sha[65], buf[512];
    size_t i;

    snprintf(buf, sizeof(buf), "%s: %zu bytes, %zu parts\n", o->file ? o->file : "-",
             t->msg ? t->msg->raw.len : 0, t->msg ? t->msg->nparts : 0);
    tm_json_raw(j, buf);
    if (subj != NULL)
        line(j, "  subject: ", subj, 200, "\n");
    for (p = t->msg ? t->msg->root : NULL; p != NULL; p = tm_mime_next(p)) {
        unsigned d;
        tm_mime_part_path(p, path, sizeof(path));
        tm_json_raw(j, "  ");
        for (d = 0; d < p->depth && d < 40; d++)
            tm_json_raw(j, "  ");
        line(j, path, "", 0, " ");
        line(j, "", p->content_type ? p->content_type : "?", 100, "");
        if (p->charset)
            line(j, " charset=", p->charset, 60, "");
        if (p->cte_name)
            line(j, " ", p->cte_name, 40, "");
        if (p->filename)
            line(j, " filename=\"", p->filename, 200, "\"");
        if (p->first_child == NULL && !p->is_multipart) {
            hex(p->sha256, 32, sha);
            snprintf(buf, sizeof(buf), " %zu bytes sha256:%.16s", p->decoded_len, sha);
            tm_json_raw(j, buf);
        }
        tm_json_raw(j, "\n");
        for (i = 0; i < p->nuu; i++) {
            snprintf(buf, sizeof(buf), "      uuencoded \"%.200s\" %zu bytes\n", p->uu[i].filename,
                     p->uu[i].len);
            tm_json_raw(j, buf);
        }
    }
    for (i = 0; i < TM_F__COUNT; i++)
        if (t->findings[i])
            line(j, "  finding: ", tm_finding_name((enum tm_finding)i), 100, "\n");
    {
        const struct tm_av_report *rep = tm_av_task_report(t);
        for (i = 0; rep != NULL && i < rep->n; i++) {
            const struct tm_av_hit *h = &rep->v[i];
            tm_mime_part_path(h->part, path, sizeof(path));
            snprintf(buf, sizeof(buf), "  av: part %s%s %s%s%.200s\n", path,
                     h->uu >= 0 ? " (uuencoded)" : "", tm_av_result_name(h->result),
                     h->result != TM_AV_CLEAN && h->signature ? " " : "",
                     h->result != TM_AV_CLEAN && h->signature ? h->signature : "");
            line(j, "", buf, 400, "");
        }
    }
    if (o->verdict != NULL) {
        const struct tm_verdict *v = o->verdict;
        snprintf(buf, sizeof(buf), "  score %.2f / %.2f: %s%s%.100s%s\n", v->score, v->required,
                 tm_action_name(v->action), v->forced_by ? " (forced by " : "",
                 v->forced_by ? v->forced_by : "", v->forced_by ? ")" : "");
        tm_json_raw(j, buf);
        for (i = 0; i < v->n; i++) {
            const struct tm_symbol *y = &v->syms[i];
            snprintf(buf, sizeof(buf), "  %6.2f ", y->score);
            tm_json_raw(j, buf);
            line(j, "", y->name, 100, "");
            if (y->description != NULL)
                line(j, "  ", y->description, 120, "");
            tm_json_raw(j, "\n");
            {
                size_t k;
                for (k = 0; k < y->noptions; k++)
                    line(j, "           ", y->options[k], 300, "\n");
            }
            if (o->explain && y->where != NULL) {
                snprintf(buf, sizeof(buf), "           %s, piece %zu, offset %zu: ",
                         y->where->target, y->where->piece, y->where->offset);
                tm_json_raw(j, buf);
                line(j, "\"", (const char *)y->where->text, y->where->len, "\"\n");
            }
        }
        if (o->all_hits) {
            tm_json_raw(j, "  rule hits:");
            for (i = 0; i < v->nall; i++)
                line(j, " ", v->all_hits[i], 100, "");
            tm_json_raw(j, "\n");
        }
    }
    return TM_OK;
}
