/*
 * lex.h - RFC 5322 lexical helpers shared by the structured-header parsers
 * (params.c, addr.c): comments (3.2.2, nested, with quoted-pairs) and quoted
 * strings (3.2.4). Unterminated ones run to the end of the input.
 */
#ifndef TM_MIME_LEX_H
#define TM_MIME_LEX_H

#include <stddef.h>

/*
 * tm_lex_skip_comment - p at '('; the position after the matching ')', or
 * end when the comment is not closed (then *unclosed is set, if given).
 */
static inline const unsigned char *
tm_lex_skip_comment(const unsigned char *p, const unsigned char *end, int *unclosed)
{
    unsigned depth = 0;

    while (p < end) {
        if (*p == '\\' && p + 1 < end) {
            p += 2;
            continue;
        }
        if (*p == '(')
            depth++;
        else if (*p == ')' && --depth == 0)
            return p + 1;
        p++;
    }
    if (unclosed != NULL)
        *unclosed = 1;
    return end;
}

/* tm_lex_skip_quoted - p at '"'; the position after the closing quote, or end */
static inline const unsigned char *
tm_lex_skip_quoted(const unsigned char *p, const unsigned char *end)
{
    p++;
    while (p < end && *p != '"')
        p += (*p == '\\' && p + 1 < end) ? 2 : 1;
    return p < end ? p + 1 : end;
}

#endif
