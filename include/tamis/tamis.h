/*
 * tamis.h - the embedder API of libtamis.
 *
 * An engine is built once (limits now; rules, lists and the AV database as
 * later stages land) and is immutable afterwards: any number of threads may
 * scan with it at once. A task holds one message; everything it produces
 * lives until tamis_task_free(). All structs are opaque.
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
#define TAMIS_OK      0
#define TAMIS_ENOMEM  (-4)
#define TAMIS_EINVAL  (-6)

/* tamis_version - "tamis X.Y.Z" and the versions of the linked libraries */
const char *tamis_version(void);

/* tamis_engine_new - an engine with built-in defaults; NULL on allocation failure */
struct tamis_engine *tamis_engine_new(void);

/*
 * tamis_engine_set - change a setting (e.g. "mime_max_depth", "64") before
 * the first task is created. Writes a message to err on failure.
 */
int tamis_engine_set(struct tamis_engine *e, const char *name, const char *value, char *err,
                     size_t errlen);

void tamis_engine_free(struct tamis_engine *e);

struct tamis_task *tamis_task_new(struct tamis_engine *e);

/*
 * tamis_task_scan - scan one message. The bytes must stay valid until the
 * task is freed. A malformed message is not an error: it is scanned and its
 * findings reported. Fails only on resource exhaustion.
 */
int tamis_task_scan(struct tamis_task *t, const unsigned char *msg, size_t len);

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
