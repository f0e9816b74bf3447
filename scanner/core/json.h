/*
 * json.h - a small streaming JSON writer into a heap buffer. Strings are
 * escaped per RFC 8259; bytes that are not valid UTF-8 are written as
 * U+FFFD so the output is always valid JSON in UTF-8. Nesting is tracked
 * so commas are placed automatically.
 */
#ifndef TM_CORE_JSON_H
#define TM_CORE_JSON_H

#include <stddef.h>

#define TM_JSON_MAX_DEPTH 32

struct tm_json {
    char *p;
    size_t len;
    size_t cap;
    int depth;
    int pretty;
    unsigned char count[TM_JSON_MAX_DEPTH]; /* 0: no member yet at this level */
    int after_key;
};

void tm_json_init(struct tm_json *j, int pretty);
void tm_json_free(struct tm_json *j);
void tm_json_obj(struct tm_json *j);
void tm_json_arr(struct tm_json *j);
void tm_json_end_obj(struct tm_json *j);
void tm_json_end_arr(struct tm_json *j);
void tm_json_key(struct tm_json *j, const char *k);
void tm_json_strn(struct tm_json *j, const void *s, size_t n);
void tm_json_str(struct tm_json *j, const char *s); /* NULL writes null */
void tm_json_null(struct tm_json *j);
void tm_json_bool(struct tm_json *j, int v);
void tm_json_uint(struct tm_json *j, unsigned long long v);
void tm_json_double(struct tm_json *j, double v);
/* tm_json_number - v with 10 significant digits (rates, ratios); NaN and inf as null */
void tm_json_number(struct tm_json *j, double v);
/* tm_json_raw - append text without separators (for a trailing newline) */
void tm_json_raw(struct tm_json *j, const char *s);

#endif
