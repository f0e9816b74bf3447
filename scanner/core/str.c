/* str.c - byte-string view helpers; none relies on NUL termination of views. */
#include "core/str.h"

#include <string.h>

int
tm_mem_ieq(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    size_t i;

    for (i = 0; i < n; i++)
        if (tm_lower(x[i]) != tm_lower(y[i]))
            return 0;
    return 1;
}

int
tm_str_ieq(struct tm_str s, const char *lit)
{
    size_t n = strlen(lit);

    return s.len == n && tm_mem_ieq(s.p, lit, n);
}

struct tm_str
tm_str_trim(struct tm_str s)
{
    while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t' || s.p[0] == '\r' || s.p[0] == '\n')) {
        s.p++;
        s.len--;
    }
    while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t' ||
                         s.p[s.len - 1] == '\r' || s.p[s.len - 1] == '\n'))
        s.len--;
    return s;
}
