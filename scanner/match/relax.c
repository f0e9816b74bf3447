/*
 * relax.c - a wider form of a regex, for use as a Hyperscan prefilter gate
 * (see relax.h).
 *
 * Every rewrite only removes a constraint, so the language of the output
 * contains the language of the input:
 *   - lookarounds (?=..) (?!..) (?<=..) (?<!..) are dropped, with any
 *     quantifier on them;
 *   - ^ other than at the very start, and $ other than at the very end,
 *     are dropped (Hyperscan rejects embedded anchors);
 *   - back-references (\1, \g{..}, \k<..>, (?P=..)) become [\s\S]*;
 *   - a counted repeat {n,m} with m > TM_RELAX_MAX_REPEAT (or {n,} with
 *     n > 1) becomes * (n = 0) or + (n >= 1);
 *   - possessive quantifiers lose their +, atomic groups (?>..) become
 *     (?:..), named groups become plain groups;
 *   - /x whitespace and comments are removed (the output is not /x).
 * Where an item is dropped between two tokens, "(?:)" stands in its place
 * (see emit), so that the tokens keep the meaning they had apart.
 * Constructs it does not know how to widen safely (\Q..\E, conditionals,
 * recursion, backtracking verbs, inline changes of /x) make it give up.
 */
#include "match/relax.h"

#include <string.h>

#include "core/core.h"

#define TM_RELAX_MAX_REPEAT 1

struct rx {
    const char *p; /* the pattern */
    size_t n, i;   /* its length, the read position */
    int ext;       /* /x: whitespace and # comments are not part of the pattern */
    struct {
        char *p;
        size_t len;
    } out; /* room for every input byte to grow to ANYTHING */
    int sep;   /* something was dropped since the last token written */
    int fail;
};

static const char ANYTHING[] = "(?:[\\s\\S]*)";

static void
rx_init(struct rx *x, const char *pat, int extended)
{
    memset(x, 0, sizeof(*x));
    x->p = pat;
    x->n = strlen(pat);
    x->ext = extended;
}

/*
 * emit - write a token. After a dropped item (an anchor, a lookaround, a
 * comment, /x space) an empty group "(?:)" goes first, so that the text on
 * either side cannot join into something else: in "[a[[=\c\]=^]]" the
 * class is "[a[[=\c\]", but with the '^' gone PCRE2 reads "[=\c\]=]" as
 * a POSIX collating element (fuzz_relax). Not before a quantifier, which
 * must stay on the item before the dropped text, nor where nothing can
 * join: before ')' '|' '$', after '(' '|' "(?:".
 */
static void
emit(struct rx *x, const char *s, size_t n)
{
    if (x->sep && x->out.len > 0 && n > 0 && strchr("*+?{)|$", s[0]) == NULL &&
        strchr("(|", x->out.p[x->out.len - 1]) == NULL &&
        !(x->out.len >= 3 && memcmp(x->out.p + x->out.len - 3, "(?:", 3) == 0)) {
        memcpy(x->out.p + x->out.len, "(?:)", 4);
        x->out.len += 4;
    }
    x->sep = 0;
    memcpy(x->out.p + x->out.len, s, n);
    x->out.len += n;
}

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/*
 * emit_code - an octal (\0, \0N, \0NN) or short hex (\x, \xH, \xHH)
 * escape, written as \x{HH}: a digit that followed a dropped item (or /x
 * space) must not join it ("\0 5" is NUL then '5', "\05" is ^E; found by
 * fuzz_relax).
 */
static void
emit_code(struct rx *x, const char *p, size_t l)
{
    static const char hex[] = "0123456789abcdef";
    unsigned v = 0;
    size_t k;
    char out[8];

    for (k = 2; k < l; k++)
        v = p[1] == '0' ? v * 8 + (unsigned)(p[k] - '0')
                        : v * 16 + (unsigned)(is_digit(p[k]) ? p[k] - '0' : (p[k] | 0x20) - 'a' + 10);
    out[0] = '\\';
    out[1] = 'x';
    out[2] = '{';
    out[3] = hex[(v >> 4) & 15];
    out[4] = hex[v & 15];
    out[5] = '}';
    emit(x, out, 6);
}

/* quant_len - the length of a quantifier at s (0 when none); n/m its bounds */
static size_t
quant_len(const char *s, size_t left, unsigned long *n, unsigned long *m, int *unbounded)
{
    size_t j;

    *n = *m = 0;
    *unbounded = 0;
    if (left == 0)
        return 0;
    if (s[0] == '*' || s[0] == '+' || s[0] == '?') {
        *n = s[0] == '+';
        *m = s[0] == '?';
        *unbounded = s[0] != '?';
        return 1;
    }
    if (s[0] != '{')
        return 0;
    for (j = 1; j < left && is_digit(s[j]) && *n < 100000000ul; j++)
        *n = *n * 10 + (unsigned long)(s[j] - '0');
    if (j == 1 || j >= left)
        return 0;
    if (s[j] == '}') {
        *m = *n;
        return j + 1;
    }
    if (s[j] != ',')
        return 0;
    j++;
    if (j < left && s[j] == '}') {
        *unbounded = 1;
        return j + 1;
    }
    if (j >= left || !is_digit(s[j]))
        return 0;
    for (; j < left && is_digit(s[j]) && *m < 100000000ul; j++)
        *m = *m * 10 + (unsigned long)(s[j] - '0');
    if (j >= left || s[j] != '}')
        return 0;
    return j + 1;
}

/* skip_space - /x whitespace and comments */
static void
skip_space(struct rx *x)
{
    while (x->ext && x->i < x->n) {
        char c = x->p[x->i];
        /* PCRE2's /x space in 8-bit non-UTF mode includes NEL, 0x85 (found by fuzz_relax) */
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
            (unsigned char)c == 0x85) {
            x->i++;
            x->sep = 1;
        } else if (c == '#') {
            while (x->i < x->n && x->p[x->i] != '\n')
                x->i++;
            x->sep = 1;
        } else {
            break;
        }
    }
}

/*
 * posix_end - the index just past a POSIX item "[:name:]" ("[.x.]", "[=x=]")
 * at j inside a class, or 0 when it is not one: as PCRE2 decides it, a ']'
 * (or another '[' with the same terminator) before the terminator means a
 * plain '[' (fuzz_relax: "[[=]#:]]" is the class "[[=]" and, under /x, a
 * comment).
 */
static size_t
posix_end(const char *p, size_t n, size_t j)
{
    char t = p[j + 1];
    size_t k;

    for (k = j + 2; k < n; k++) {
        if (p[k] == '\\' && k + 1 < n && (p[k + 1] == ']' || p[k + 1] == '\\'))
            k++;
        else if ((p[k] == '[' && k + 1 < n && p[k + 1] == t) || p[k] == ']')
            return 0;
        else if (p[k] == t && k + 1 < n && p[k + 1] == ']')
            return k + 2;
    }
    return 0;
}

static size_t escape_len(const char *p, size_t n, size_t i);

/* class_end - the index just past the character class that starts at i */
static size_t
class_end(const char *p, size_t n, size_t i)
{
    size_t j = i + 1;

    if (j < n && p[j] == '^')
        j++;
    if (j < n && p[j] == ']')
        j++;
    while (j < n && p[j] != ']') {
        if (p[j] == '\\' && j + 1 < n) {
            /* \c] is one escape (fuzz_relax); \Q..\E quoting in a class is refused */
            size_t l = escape_len(p, n, j);
            if (l == 0 || p[j + 1] == 'Q' || p[j + 1] == 'E')
                return 0;
            j += l;
        } else if (p[j] == '[' && j + 1 < n && (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
            size_t e = posix_end(p, n, j);
            j = e != 0 ? e : j + 1;
        } else {
            j++;
        }
    }
    return j < n ? j + 1 : 0; /* 0: unterminated */
}

/* escape_len - the length of the escape sequence at i (p[i] == '\\') */
static size_t
escape_len(const char *p, size_t n, size_t i)
{
    size_t j;

    if (i + 1 >= n)
        return 0;
    switch (p[i + 1]) {
    case 'x':
    case 'o':
    case 'p':
    case 'P':
    case 'N':
        if (i + 2 < n && p[i + 2] == '{') {
            for (j = i + 3; j < n && p[j] != '}'; j++)
                ;
            return j < n ? j + 1 - i : 0;
        }
        if (p[i + 1] == 'x') {
            for (j = i + 2; j < n && j < i + 4 && strchr("0123456789abcdefABCDEF", p[j]); j++)
                ;
            return j - i;
        }
        return (p[i + 1] == 'p' || p[i + 1] == 'P') && i + 2 < n ? 3 : 2;
    case 'c':
        return i + 2 < n ? 3 : 0;
    case '0':
        for (j = i + 2; j < n && j < i + 4 && p[j] >= '0' && p[j] <= '7'; j++)
            ;
        return j - i;
    default:
        return 2;
    }
}

/* backref_len - the length of a back-reference escape at i, or 0 */
static size_t
backref_len(const char *p, size_t n, size_t i)
{
    size_t j;
    char c = i + 1 < n ? p[i + 1] : '\0';

    if (c >= '1' && c <= '9') {
        for (j = i + 2; j < n && is_digit(p[j]); j++)
            ;
        return j - i;
    }
    if ((c == 'g' || c == 'k') && i + 2 < n) {
        char open = p[i + 2], close;
        if (c == 'g' && (is_digit(open) || open == '-')) {
            for (j = i + 3; j < n && is_digit(p[j]); j++)
                ;
            return j - i;
        }
        close = open == '{' ? '}' : open == '<' ? '>' : open == '\'' ? '\'' : '\0';
        if (close == '\0')
            return 0;
        for (j = i + 3; j < n && p[j] != close; j++)
            ;
        return j < n ? j + 1 - i : 0;
    }
    return 0;
}

/* group_end - the index just past the group that opens at i */
static size_t
group_end(const struct rx *x, size_t i)
{
    size_t j = i + 1, depth = 1;

    while (j < x->n) {
        char c = x->p[j];
        if (c == '\\') {
            size_t l = escape_len(x->p, x->n, j);
            if (l == 0)
                return 0;
            j += l;
        } else if (c == '[') {
            size_t e = class_end(x->p, x->n, j);
            if (e == 0)
                return 0;
            j = e;
        } else if (x->ext && c == '#') {
            while (j < x->n && x->p[j] != '\n')
                j++;
        } else {
            if (c == '(')
                depth++;
            else if (c == ')' && --depth == 0)
                return j + 1;
            j++;
        }
    }
    return 0;
}

/* skip_ignorable - /x space and (?#...) comments: what PCRE2 lets stand
 * between an item, its quantifier and the quantifier's lazy '?' or
 * possessive '+' (fuzz_relax: "(?=)? ?" under /x) */
static void
skip_ignorable(struct rx *x)
{
    for (;;) {
        const char *c;
        skip_space(x);
        if (x->n - x->i < 3 || memcmp(x->p + x->i, "(?#", 3) != 0)
            break;
        if ((c = memchr(x->p + x->i, ')', x->n - x->i)) == NULL)
            break;
        x->i = (size_t)(c - x->p) + 1;
        x->sep = 1;
    }
}

/*
 * skip_quant - past the quantifier after an item, with the ignorable text
 * around it and its lazy or possessive mark; its lower bound in *min (0
 * when there is none); 0 when no quantifier follows
 */
static size_t
skip_quant(struct rx *x, unsigned long *min)
{
    unsigned long m;
    int unb;
    size_t l;

    skip_ignorable(x);
    l = quant_len(x->p + x->i, x->n - x->i, min, &m, &unb);
    x->i += l;
    if (l == 0)
        return 0;
    skip_ignorable(x);
    if (x->i < x->n && (x->p[x->i] == '?' || x->p[x->i] == '+'))
        x->i++;
    return l;
}

/* drop_quant - after a dropped zero-width item: its quantifier goes too */
static void
drop_quant(struct rx *x)
{
    unsigned long n;

    (void)skip_quant(x, &n);
    x->sep = 1;
}

/* at_end - nothing but /x space (and closing groups are not skipped) is left */
static int
at_end(struct rx *x)
{
    size_t save = x->i;
    int end, sep = x->sep;

    skip_space(x);
    end = x->i >= x->n;
    x->i = save;
    x->sep = sep;
    return end;
}

/*
 * assertion - the group at p ("(?...") is a lookaround: (?= (?! (?<= (?<!,
 * or PCRE2 10.42's non-atomic (?* and (?<* (fuzz_relax: "(?<*!-)" was read
 * as a group named "*!-)..." up to the next '>')
 */
static int
assertion(const char *p, size_t left)
{
    if (left < 3 || p[1] != '?')
        return 0;
    if (p[2] == '=' || p[2] == '!' || p[2] == '*')
        return 1;
    return left >= 4 && p[2] == '<' && (p[3] == '=' || p[3] == '!' || p[3] == '*');
}

/* group_open - a '(' at x->i */
static void
group_open(struct rx *x)
{
    const char *p = x->p + x->i;
    size_t left = x->n - x->i, e;

    if (left >= 2 && p[1] == '*') {
        x->fail = 1; /* (*VERB) */
        return;
    }
    if (left < 2 || p[1] != '?') {
        emit(x, "(", 1);
        x->i++;
        return;
    }
    if (left >= 3 && p[2] == '#') {
        const char *c = memchr(p, ')', left);
        if (c == NULL) {
            x->fail = 1;
            return;
        }
        x->i += (size_t)(c - p) + 1;
        x->sep = 1;
        return;
    }
    if (assertion(p, left)) {
        if ((e = group_end(x, x->i)) == 0) {
            x->fail = 1;
            return;
        }
        x->i = e;
        drop_quant(x);
        return;
    }
    if (left >= 3 && (p[2] == '>' || p[2] == '|')) {
        emit(x, "(?:", 3);
        x->i += 3;
        return;
    }
    if (left >= 3 && p[2] == ':') {
        emit(x, "(?:", 3);
        x->i += 3;
        return;
    }
    if (left >= 4 && p[2] == 'P' && p[3] == '=') { /* (?P=name) */
        if ((e = group_end(x, x->i)) == 0) {
            x->fail = 1;
            return;
        }
        emit(x, ANYTHING, sizeof(ANYTHING) - 1);
        x->i = e;
        return;
    }
    if ((left >= 4 && p[2] == 'P' && p[3] == '<') || (left >= 3 && p[2] == '\'') ||
        (left >= 4 && p[2] == '<' && p[3] != '=' && p[3] != '!')) {
        char close = p[2] == '\'' ? '\'' : '>';
        const char *c = memchr(p + 3, close, left - 3);
        if (c == NULL) {
            x->fail = 1;
            return;
        }
        emit(x, "(", 1);
        x->i += (size_t)(c - p) + 1;
        return;
    }
    /* Inline options: (?imsx-imsx) or (?imsx-imsx: ... ); x changes are refused. */
    {
        size_t j;
        for (j = 2; j < left && (strchr("imsnU-^", p[j]) != NULL || p[j] == 'x'); j++)
            if (p[j] == 'x' || p[j] == 'n' || p[j] == 'U' || p[j] == '^') {
                x->fail = 1;
                return;
            }
        if (j < left && (p[j] == ')' || p[j] == ':') && j > 2) {
            emit(x, p, j + 1);
            x->i += j + 1;
            return;
        }
    }
    x->fail = 1; /* conditionals, recursion, callouts ... */
}

char *
tm_re_relax(const char *pat, int extended)
{
    struct rx x;

    rx_init(&x, pat, extended);
    x.out.p = tm_xmalloc(x.n * sizeof(ANYTHING) + 1);
    skip_space(&x);
    while (x.i < x.n && !x.fail) {
        const char *p = x.p + x.i;
        size_t left = x.n - x.i, l;
        unsigned long qn, qm;
        int unb;

        switch (p[0]) {
        case '\\':
            if (left >= 2 && (p[1] == 'Q' || p[1] == 'E')) {
                x.fail = 1;
            } else if ((l = backref_len(x.p, x.n, x.i)) > 0) {
                emit(&x, ANYTHING, sizeof(ANYTHING) - 1);
                x.i += l;
            } else if (left >= 2 && p[1] == 'G') {
                x.i += 2;
                drop_quant(&x);
            } else if ((l = escape_len(x.p, x.n, x.i)) == 0) {
                x.fail = 1;
            } else if (p[1] == '0' || (p[1] == 'x' && (l < 3 || p[2] != '{'))) {
                emit_code(&x, p, l);
                x.i += l;
            } else {
                emit(&x, p, l);
                x.i += l;
            }
            break;
        case '[':
            if ((l = class_end(x.p, x.n, x.i)) == 0) {
                x.fail = 1;
                break;
            }
            emit(&x, p, l - x.i);
            x.i = l;
            break;
        case '(':
            group_open(&x);
            break;
        case '^':
            x.i++;
            if (x.out.len == 0) {
                emit(&x, "^", 1);
            } else {
                drop_quant(&x);
            }
            break;
        case '$':
            x.i++;
            if (at_end(&x)) {
                emit(&x, "$", 1);
            } else {
                drop_quant(&x);
            }
            break;
        case '*':
        case '+':
        case '?':
        case '{':
            l = quant_len(p, left, &qn, &qm, &unb);
            if (l == 0) { /* a literal '{' */
                emit(&x, "\\{", 2);
                x.i++;
                break;
            }
            x.i += l;
            if (p[0] == '{' && ((unb && qn > 1) || (!unb && qm > TM_RELAX_MAX_REPEAT))) {
                emit(&x, qn == 0 ? "*" : "+", 1);
            } else {
                emit(&x, p, l);
            }
            skip_ignorable(&x);
            if (x.i < x.n && x.p[x.i] == '?') {
                emit(&x, "?", 1);
                x.i++;
            } else if (x.i < x.n && x.p[x.i] == '+') { /* possessive */
                x.i++;
            }
            break;
        default:
            emit(&x, p, 1);
            x.i++;
        }
        skip_space(&x);
    }
    if (x.fail || x.out.len == 0) {
        tm_free(x.out.p);
        return NULL;
    }
    x.out.p[x.out.len] = '\0';
    return x.out.p;
}

/* relax_slice - the relaxed form of pat[from, to) */
static char *
relax_slice(const char *pat, size_t from, size_t to, int extended)
{
    char *part = tm_xmalloc(to - from + 1), *wide;

    memcpy(part, pat + from, to - from);
    part[to - from] = '\0';
    wide = tm_re_relax(part, extended);
    tm_free(part);
    return wide;
}

/* plain_group - the group at p ("(...") only groups: it asserts nothing and sets no option */
static int
plain_group(const char *p, size_t left)
{
    if (left < 2 || p[1] != '?')
        return left >= 2 && p[1] != '*';
    if (left < 3)
        return 0;
    if (p[2] == ':' || p[2] == '>' || p[2] == '\'')
        return 1;
    if (p[2] == '<')
        return left >= 4 && !assertion(p, left);
    return left >= 4 && p[2] == 'P' && p[3] == '<';
}

char *
tm_re_relax_unit(const char *pat, int extended, unsigned long *min)
{
    struct rx x;
    size_t start, end;
    unsigned long qn = 0;
    char *wide;

    rx_init(&x, pat, extended);
    *min = 0;
    skip_space(&x);
    start = x.i;
    /* a plain, capturing, atomic or named group; not a lookaround, comment,
     * option setting or anything else */
    if (start >= x.n || pat[start] != '(' || !plain_group(pat + start, x.n - start))
        return NULL;
    if ((end = group_end(&x, start)) == 0)
        return NULL;
    x.i = end;
    /* a lower bound of 2 or more is only written {n}, {n,} or {n,m} */
    if (skip_quant(&x, &qn) == 0 || qn < 2)
        return NULL;
    skip_ignorable(&x);
    if (x.i < x.n)
        return NULL; /* more follows the repeat */
    if ((wide = relax_slice(pat, start, end, extended)) != NULL)
        *min = qn;
    return wide;
}

/*
 * item_end - the end of the top-level item at x->i (an atom and its
 * quantifier, with any lazy or possessive mark), or 0 when the item is
 * '|', an option setting, a backtracking verb or malformed
 */
static size_t
item_end(struct rx *x)
{
    const char *p = x->p + x->i;
    size_t left = x->n - x->i, e, l;
    unsigned long qn;

    switch (p[0]) {
    case '|':
    case ')':
        return 0;
    case '\\':
        e = x->i + ((l = backref_len(x->p, x->n, x->i)) > 0 ? l : escape_len(x->p, x->n, x->i));
        if (e == x->i || (left >= 2 && (p[1] == 'Q' || p[1] == 'E')))
            return 0;
        break;
    case '[':
        if ((e = class_end(x->p, x->n, x->i)) == 0)
            return 0;
        break;
    case '(':
        /* (?i) and (?i-s) change what follows; (?#..) is skipped as space */
        if (left >= 2 && (p[1] == '*' || (p[1] == '?' && !plain_group(p, left) && !assertion(p, left))))
            return 0;
        if ((e = group_end(x, x->i)) == 0)
            return 0;
        break;
    default:
        e = x->i + 1;
    }
    x->i = e;
    (void)skip_quant(x, &qn);
    return x->i;
}

char *
tm_re_relax_part(const char *pat, int extended, size_t k, size_t *count)
{
    struct rx x;
    size_t n = 0, from = 0, to = 0;

    rx_init(&x, pat, extended);
    *count = 0;
    skip_ignorable(&x);
    while (x.i < x.n) {
        size_t start = x.i, end = item_end(&x);
        if (end == 0)
            return NULL;
        if (n == k) {
            from = start;
            to = end;
        }
        n++;
        skip_ignorable(&x);
    }
    *count = n;
    if (k >= n)
        return NULL;
    return relax_slice(pat, from, to, extended);
}
