/*
 * jread.h - a small JSON reader (RFC 8259) for the command's inputs: the
 * analytics log of tamisd (tamis insights) and earlier runs' JSON (tamis
 * corpus --baseline). The text is decoded in place into a flat node array.
 *
 * Inputs are untrusted: recursion is bounded by TM_JREAD_MAX_DEPTH nesting
 * levels and the node count by max_nodes; deeper or larger documents fail
 * to parse, never crash. Strings are decoded in place (an escape never
 * decodes longer than its source), \u escapes and surrogate pairs to
 * UTF-8, a lone surrogate to U+FFFD.
 */
#ifndef TM_CLI_JREAD_H
#define TM_CLI_JREAD_H

#include <stddef.h>
#include <stdint.h>

#define TM_JREAD_MAX_DEPTH 64         /* nesting */
#define TM_JREAD_MAX_NODES (1u << 20) /* values per document unless max_nodes says */
#define TM_JNONE           SIZE_MAX

enum tm_jtype { TM_J_NULL, TM_J_FALSE, TM_J_TRUE, TM_J_NUM, TM_J_STR, TM_J_ARR, TM_J_OBJ };

struct tm_jnode {
    enum tm_jtype t;
    const char *key; /* member name when the parent is an object */
    size_t klen;
    const char *s; /* decoded string (not NUL-terminated) */
    size_t slen;
    double num;
    size_t first, last, next; /* children and siblings, by index */
};

struct tm_jparser {
    char *p, *end;
    struct tm_jnode *v;
    size_t n, cap;
    size_t max_nodes; /* values per document; 0 = TM_JREAD_MAX_NODES */
};

/* tm_jparse - parse a whole document (modified in place); the root index or TM_JNONE */
size_t tm_jparse(struct tm_jparser *jp, char *p, size_t len);
/* tm_jget - member `key` of object `obj`, or TM_JNONE */
size_t tm_jget(const struct tm_jparser *jp, size_t obj, const char *key);
/* tm_jis - node i exists and has type t */
int tm_jis(const struct tm_jparser *jp, size_t i, enum tm_jtype t);
/* tm_jstreq - node i is the string s */
int tm_jstreq(const struct tm_jparser *jp, size_t i, const char *s);

#endif
