/*
 * report.h - render a scanned task as the verdict JSON object of
 * docs/design.md. Field names are fixed there; fields are added by later
 * stages (symbols, urls, av, auth) as they land.
 */
#ifndef TM_VERDICT_REPORT_H
#define TM_VERDICT_REPORT_H

#include <stddef.h>

#include "core/core.h"

struct tm_task;
struct tm_json;
struct tm_verdict;

struct tm_report_opts {
    const char *file; /* path shown in "file", or NULL */
    double scan_ms;
    const struct tm_verdict *verdict; /* NULL: no rules were run */
    const char *rules_version;        /* hex hash of the rule set, or NULL */
    int all_hits;                     /* list every rule that hit in "rule_hits" */
    int explain;                      /* show where each symbol matched */
};

/* tm_report_json - append the task's verdict object to j */
tm_rc tm_report_json(struct tm_task *task, const struct tm_report_opts *o, struct tm_json *j);

/* tm_report_text - append a human-readable part tree to j's buffer (no JSON) */
tm_rc tm_report_text(struct tm_task *task, const struct tm_report_opts *o, struct tm_json *j);

#endif
