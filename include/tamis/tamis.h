/*
 * tamis.h - the embedder API of libtamis.
 *
 * An engine is configured (limits, rule files, cache directory, action
 * thresholds), then built once, and is immutable afterwards: any number of
 * threads may scan with it at once, each with its own task. A task holds one
 * message; everything it produces lives until tamis_task_free(). All structs
 * are opaque.
 *
 *     struct tamis_engine *e = tamis_engine_new();
 *     tamis_engine_add_rules(e, "/usr/share/tamis/rules");
 *     if (tamis_engine_build(e, err, sizeof(err)) != TAMIS_OK) ...
 *     struct tamis_task *t = tamis_task_new(e);
 *     tamis_task_scan(t, msg, len);
 *     puts(tamis_task_json(t, "msg.eml", 0, NULL));
 *     tamis_task_free(t);
 *     tamis_engine_free(e);
 */
#ifndef TAMIS_TAMIS_H
#define TAMIS_TAMIS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tamis_engine;
struct tamis_task;

/* Return codes: 0 is success, negative values are failures. */
#define TAMIS_OK     0
#define TAMIS_ELIMIT (-2)
#define TAMIS_ENOMEM (-4)
#define TAMIS_EIO    (-5)
#define TAMIS_EINVAL (-6)

/* tamis_version - "tamis X.Y.Z" and the versions of the linked libraries */
const char *tamis_version(void);

/* tamis_engine_new - an engine with built-in defaults and no rules; NULL on allocation failure */
struct tamis_engine *tamis_engine_new(void);

/*
 * tamis_engine_set - before tamis_engine_build: a limit ("mime_max_depth",
 * see `tamis limits`), "cache_dir" (compiled rules; "" for none), "av_db"
 * (a ClamAV database directory or file: attachments are scanned with
 * libclamav; "" for none, the default) or an action threshold
 * ("action.reject", "action.add_header", "action.rewrite_subject",
 * "action.soft_reject", "action.quarantine"; a negative value disables the
 * action). Writes a message to err on failure.
 */
int tamis_engine_set(struct tamis_engine *e, const char *name, const char *value, char *err,
                     size_t errlen);

/* tamis_engine_add_rules - before tamis_engine_build: a .cf file or a directory of them */
int tamis_engine_add_rules(struct tamis_engine *e, const char *path);

/*
 * tamis_engine_build - load and compile the rules; required before the
 * first task when rules were added. Fails (with a message) when a rule file
 * has errors or cannot be read; then the engine is unusable.
 */
int tamis_engine_build(struct tamis_engine *e, char *err, size_t errlen);

void tamis_engine_free(struct tamis_engine *e);

/* tamis_task_new - a task on a built engine (builds a rule-less engine on first use) */
struct tamis_task *tamis_task_new(struct tamis_engine *e);

/*
 * tamis_task_scan - scan one message. The bytes must stay valid until the
 * task is freed. A malformed message is not an error: it is scanned and its
 * findings reported. Fails only on resource exhaustion.
 */
int tamis_task_scan(struct tamis_task *t, const unsigned char *msg, size_t len);

/* tamis_task_score - the total score and the action ("no action", "reject", ...) */
double tamis_task_score(const struct tamis_task *t, const char **action);

/*
 * tamis_task_json - the verdict as a JSON object (docs/design.md). `file`
 * may be NULL. The string is owned by the task.
 */
const char *tamis_task_json(struct tamis_task *t, const char *file, int pretty, size_t *len);

void tamis_task_free(struct tamis_task *t);

#ifdef __cplusplus
}
#endif

#endif
