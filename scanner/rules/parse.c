/*
 * parse.c - load SpamAssassin .cf rule files into a struct tm_ruleset.
 *
 * Follows SpamAssassin 4.0.1 (Mail/SpamAssassin/Conf/Parser.pm parse() and
 * add_test(), Conf.pm's header/body/... commands, Util.pm compile_regexp):
 *
 *  - a directory means its *.cf files in byte order of their names; `include
 *    FILE` is relative to the including file's directory;
 *  - a line loses its comment (`#` not preceded by `\`), then `\#` becomes `#`
 *    and surrounding white space goes; `lang xx ...` lines are skipped
 *    (counted in rs->nlang); directive names are lower-cased, `-` -> `_`;
 *  - rules: header body rawbody uri full meta (+ eval: forms), mimeheader
 *    (kept, unsupported), attributes score describe tflags priority, and
 *    required_score/required_hits. A score, describe, tflags or priority may
 *    come before its rule (SA keys them by name). Redefining a rule replaces
 *    its test but keeps its attributes, as add_test() does; a diag warns;
 *  - `if`/`ifplugin`/`else`/`endif` (SA semantics, including `else` under a
 *    false outer block). Rules in a false block are not dropped: when no
 *    active line defines the name, the rule is kept unsupported with the
 *    block's reason ("plugin X not loaded"). Other lines there are skipped;
 *  - plugin directives that define rules (askdns, uridnsbl, urirhssub, ...)
 *    define the name unsupported ("network test") unless a rule line does;
 *  - rules named by replace_rules (ReplaceTags) get their <tag>s expanded
 *    at the end of loading (replace_tag/_pre/_post/_inter), as the plugin's
 *    finish_parsing_end does;
 *  - every other directive is ignored with one warning per directive name,
 *    its message giving the number of lines (rs->nignored counts them).
 *
 * At the end: default scores as SA's fix_tests() (1.0, T_ rules 0.01,
 * negative with tflags nice), reasons for unsupported rules (tflags net or a
 * DNS eval: "network test"; tflags learn; other evals unless native), meta
 * dependency checks (warnings; a meta is unsupported when every rule it
 * names is unsupported or undefined), then the name index.
 *
 * Errors (the line defines nothing, loading goes on): bad regex delimiters or
 * modifiers, missing or invalid rule name, bad score/priority value, bad
 * header test, bad meta expression, unparsable `if`, unbalanced if/endif
 * (reported at end of file), a missing include. Bounds: file size
 * TM_RULES_MAX_FILE, include depth TM_RULES_MAX_INCLUDE, if nesting
 * TM_RULES_MAX_IF. Memory is engine-lifetime (tm_x*); tm_rules_free frees it.
 */
#include "rules/rules.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "rules/cond.h"

#define TM_RULES_MAX_FILE    (64u << 20) /* bytes in one .cf file */
#define TM_RULES_MAX_INCLUDE 16          /* include nesting */
#define TM_RULES_MAX_IF      64          /* if/ifplugin nesting per file */
#define TM_RULES_MAX_NAME    100         /* SA add_test(): longer names are errors */
#define TM_RULES_MSG_MAX     512         /* one diag message */

/*
 * Eval functions Tamis implements natively. A rule using any other eval:
 * function is kept unsupported ("eval:f not implemented"). Tamis's own
 * functions all start with "tamis_" (scanner/verdict/evals.c binds them and
 * reports an unknown name or bad arguments); SpamAssassin's are listed by
 * name as they get implemented.
 */
static const char *const tm_rules_native_evals[] = {
    "tamis_",
    NULL,
};

/* Eval functions (prefixes) that need DNS or another network service. */
static const char *const tm_rules_net_evals[] = {
    "check_rbl",       "check_dns",       "check_uridnsbl", "check_hashbl", "check_razor2",
    "check_pyzor",     "check_dcc",       "check_for_spf",  "check_spf",    "check_dkim_valid",
    "check_dkim_adsp", "check_arc_valid", "check_dmarc",    "check_askdns",
};

/* Plugin directives whose first argument names a rule (SA plugins loaded by default). */
static const char *const tm_rules_dns_directives[] = {
    "askdns",     "uridnsbl",    "uridnssub",      "urirhsbl",        "urirhssub",
    "urinsrhsbl", "urinsrhssub", "urifullnsrhsbl", "urifullnsrhssub",
};

/* ---- name index: open addressing, FNV-1a ---------------------------------- */

struct tm_hidx {
    size_t *slot; /* position + 1; 0 = empty */
    size_t cap;   /* power of two */
    size_t n;
};

typedef const char *(*tm_hkey_fn)(const void *base, size_t pos);

static size_t
tm_hash(const char *s)
{
    size_t h = (size_t)2166136261u;

    while (*s != '\0')
        h = (h ^ (unsigned char)*s++) * (size_t)16777619u;
    return h;
}

/* tm_hidx_find - position of `name`, or (size_t)-1 */
static size_t
tm_hidx_find(const struct tm_hidx *h, const char *name, tm_hkey_fn key, const void *base)
{
    size_t i;

    if (h->cap == 0)
        return (size_t)-1;
    for (i = tm_hash(name) & (h->cap - 1); h->slot[i] != 0; i = (i + 1) & (h->cap - 1))
        if (strcmp(key(base, h->slot[i] - 1), name) == 0)
            return h->slot[i] - 1;
    return (size_t)-1;
}

static void
tm_hidx_put(struct tm_hidx *h, size_t pos, tm_hkey_fn key, const void *base)
{
    size_t i, j, ncap;
    size_t *old = h->slot, oldcap = h->cap;

    if ((h->n + 1) * 2 > h->cap) {
        ncap = h->cap ? h->cap * 2 : 64;
        h->slot = tm_xcalloc(ncap, sizeof(*h->slot));
        h->cap = ncap;
        for (j = 0; j < oldcap; j++) {
            if (old[j] == 0)
                continue;
            for (i = tm_hash(key(base, old[j] - 1)) & (ncap - 1); h->slot[i] != 0;
                 i = (i + 1) & (ncap - 1))
                ;
            h->slot[i] = old[j];
        }
        tm_free(old);
    }
    for (i = tm_hash(key(base, pos)) & (h->cap - 1); h->slot[i] != 0; i = (i + 1) & (h->cap - 1))
        ;
    h->slot[i] = pos + 1;
    h->n++;
}

/* What tm_ruleset.index points to. */
struct tm_rules_priv {
    struct tm_hidx idx;
    char **files; /* every path named by a rule or diag */
    size_t nfiles, cap;
};

static const char *
tm_key_rule(const void *base, size_t pos)
{
    return ((const struct tm_rule *)base)[pos].name;
}

/* ---- loader state ----------------------------------------------------------- */

/* ReplaceTags definitions of one kind: name -> value, later lines win */
struct tm_tagtab {
    char **name;
    char **value;
    size_t n, cap;
};

enum { TM_TAG_TAG, TM_TAG_PRE, TM_TAG_POST, TM_TAG_INTER };

enum { TM_ENT_ATTR, TM_ENT_PLACEHOLDER, TM_ENT_DEFINED };

/* A rule name seen while loading: attributes only, a placeholder, or defined. */
struct tm_ent {
    struct tm_rule r;
    int state;
    int reuse;
    int replace;           /* listed in replace_rules (ReplaceTags) */
    const char *attr_file; /* first attribute line, for "never defined" */
    unsigned attr_line, attr_col;
    const char *def_file; /* last definition, for meta diags */
    unsigned def_line, def_col;
};

struct tm_unk {
    char *name;
    size_t diag;
    size_t count;
};

struct tm_ld {
    struct tm_ruleset *rs;
    struct tm_rules_priv *pv;
    struct tm_ent *ents;
    size_t nents, cap;
    struct tm_hidx eidx;
    size_t *order; /* ents in order of first definition */
    size_t norder, ordcap;
    struct tm_unk *unk;
    size_t nunk, unkcap;
    char **plugins; /* from loadplugin lines */
    size_t nplugins, plugcap;
    EVP_MD_CTX *sha;
    unsigned depth;
    int quiet;       /* parsing a line of a false block: no diags */
    const char *why; /* reason the current line is inactive, or NULL */
    size_t nerrors;
    struct tm_tagtab tags[4]; /* ReplaceTags: replace_tag, _pre, _post, _inter */
    char *rstart, *rend;      /* replace_start / replace_end ("<" and ">") */
};

struct tm_frame {
    int saved_skip; /* skipping state when the if was seen */
    int skip;
    int is_plugin;
    char *cond; /* "X" for ifplugin X, the expression for if */
    char *why;  /* reason while skip is set */
    unsigned line, col;
};

struct tm_fst {
    const char *path;
    const char *base_why; /* inherited from the includer, or require_version */
    char *own_why;
    struct tm_frame *fr;
    size_t nfr, frcap;
};

struct tm_line {
    const char *file;
    unsigned no;
    char *buf;
    size_t *bs; /* offsets in buf of '#' that lost their '\' */
    size_t nbs, bscap;
};

static const char *
tm_key_ent(const void *base, size_t pos)
{
    return ((const struct tm_ent *)base)[pos].r.name;
}

static unsigned
tm_col(const struct tm_line *ln, const char *p)
{
    size_t off = (size_t)(p - ln->buf), i, n = 0;

    for (i = 0; i < ln->nbs; i++)
        if (ln->bs[i] <= off)
            n++;
    return (unsigned)(off + n + 1);
}

static void tm_diag(struct tm_ld *L, const char *file, unsigned line, unsigned col, int error,
                    const char *fmt, ...) TM_PRINTF(6, 7);

static void
tm_diag(struct tm_ld *L, const char *file, unsigned line, unsigned col, int error, const char *fmt,
        ...)
{
    struct tm_ruleset *rs = L->rs;
    struct tm_rule_diag *d;
    char msg[TM_RULES_MSG_MAX];
    va_list ap;

    if (L->quiet)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (rs->ndiags == rs->diags_cap) {
        rs->diags_cap = rs->diags_cap ? rs->diags_cap * 2 : 32;
        rs->diags = tm_xrealloc(rs->diags, rs->diags_cap * sizeof(*rs->diags));
    }
    d = &rs->diags[rs->ndiags++];
    d->file = file;
    d->line = line;
    d->col = col;
    d->error = error;
    d->msg = tm_xstrdup(msg);
    if (error)
        L->nerrors++;
}

#define TM_LERR(L, ln, p, ...) tm_diag((L), (ln)->file, (ln)->no, tm_col((ln), (p)), 1, __VA_ARGS__)
#define TM_LWARN(L, ln, p, ...) \
    tm_diag((L), (ln)->file, (ln)->no, tm_col((ln), (p)), 0, __VA_ARGS__)

/* tm_cfree - free what a const pointer of the set owns */
static void
tm_cfree(const void *p)
{
    union {
        const void *c;
        void *v;
    } u;

    u.c = p;
    tm_free(u.v);
}

/* tm_mut - a pointer into the loader's own (writable) line buffer, typed back */
static char *
tm_mut(const char *p)
{
    union {
        const char *c;
        char *v;
    } u;

    u.c = p;
    return u.v;
}

static char *
tm_dupn(const char *p, size_t n)
{
    char *s = tm_xmalloc(n + 1);

    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static const char *
tm_file_keep(struct tm_ld *L, const char *path)
{
    struct tm_rules_priv *pv = L->pv;

    if (pv->nfiles == pv->cap) {
        pv->cap = pv->cap ? pv->cap * 2 : 16;
        pv->files = tm_xrealloc(pv->files, pv->cap * sizeof(*pv->files));
    }
    pv->files[pv->nfiles] = tm_xstrdup(path);
    return pv->files[pv->nfiles++];
}

static int
tm_isspace(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static int
tm_isword(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static const char *
tm_skipws(const char *p)
{
    while (*p != '\0' && tm_isspace(*p))
        p++;
    return p;
}

static const char *
tm_skiptok(const char *p)
{
    while (*p != '\0' && !tm_isspace(*p))
        p++;
    return p;
}

/* tm_is_rulename - SA's IS_RULENAME: [_a-zA-Z][_a-zA-Z0-9]{0,127} */
static int
tm_is_rulename(const char *p, size_t n)
{
    size_t i;

    if (n == 0 || n > 128 || (p[0] >= '0' && p[0] <= '9') || !tm_isword(p[0]))
        return 0;
    for (i = 1; i < n; i++)
        if (!tm_isword(p[i]))
            return 0;
    return 1;
}

/* tm_strict_num - SA's score syntax -?\d+(\.\d+)? */
static int
tm_strict_num(const char *p, size_t n, double *out)
{
    size_t i = 0, d = 0;
    char buf[64];
    char *end;

    if (n == 0 || n >= sizeof(buf))
        return 0;
    if (p[0] == '-')
        i++;
    while (i < n && p[i] >= '0' && p[i] <= '9') {
        i++;
        d++;
    }
    if (d == 0)
        return 0;
    if (i < n && p[i] == '.') {
        i++;
        d = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            i++;
            d++;
        }
        if (d == 0)
            return 0;
    }
    if (i != n)
        return 0;
    memcpy(buf, p, n);
    buf[n] = '\0';
    *out = strtod(buf, &end);
    return 1;
}

/* ---- rule entries --------------------------------------------------------- */

static void
tm_rule_free_def(struct tm_rule *r)
{
    size_t i;

    tm_cfree(r->pattern);
    for (i = 0; i < r->n_hdr_names; i++)
        tm_cfree(r->hdr_names[i]);
    tm_cfree(r->hdr_names);
    tm_cfree(r->if_unset);
    tm_cfree(r->meta);
    tm_cfree(r->eval);
    tm_cfree(r->why);
    r->pattern = NULL;
    r->hdr_names = NULL;
    r->n_hdr_names = 0;
    r->if_unset = NULL;
    r->meta = NULL;
    r->eval = NULL;
    r->why = NULL;
    r->unsupported = 0;
}

static void
tm_rule_free_all(struct tm_rule *r)
{
    tm_rule_free_def(r);
    tm_cfree(r->name);
    tm_cfree(r->describe);
    tm_cfree(r->force_action);
    r->name = NULL;
    r->describe = NULL;
    r->force_action = NULL;
}

/* tm_ent_get - the entry for `name` (n bytes), created as attributes-only */
static struct tm_ent *
tm_ent_get(struct tm_ld *L, const char *name, size_t n)
{
    char *key = tm_dupn(name, n);
    size_t pos = tm_hidx_find(&L->eidx, key, tm_key_ent, L->ents);
    struct tm_ent *e;

    if (pos != (size_t)-1) {
        tm_free(key);
        return &L->ents[pos];
    }
    if (L->nents == L->cap) {
        L->cap = L->cap ? L->cap * 2 : 1024;
        L->ents = tm_xrealloc(L->ents, L->cap * sizeof(*L->ents));
    }
    e = &L->ents[L->nents];
    memset(e, 0, sizeof(*e));
    e->r.name = key;
    e->state = TM_ENT_ATTR;
    tm_hidx_put(&L->eidx, L->nents, tm_key_ent, L->ents);
    L->nents++;
    return e;
}

static void
tm_ent_attr_seen(struct tm_ent *e, const struct tm_line *ln, const char *p)
{
    if (e->attr_file == NULL) {
        e->attr_file = ln->file;
        e->attr_line = ln->no;
        e->attr_col = tm_col(ln, p);
    }
}

/* tm_order_add - note e as defined now: the set keeps the order of first definitions */
static void
tm_order_add(struct tm_ld *L, const struct tm_ent *e)
{
    if (L->norder == L->ordcap) {
        L->ordcap = L->ordcap ? L->ordcap * 2 : 1024;
        L->order = tm_xrealloc(L->order, L->ordcap * sizeof(*L->order));
    }
    L->order[L->norder++] = (size_t)(e - L->ents);
}

/* tm_move_def - move the test fields of nr into r (which was freed first) */
static void
tm_move_def(struct tm_rule *r, struct tm_rule *nr)
{
    r->type = nr->type;
    r->pattern = nr->pattern;
    r->re_flags = nr->re_flags;
    r->negate = nr->negate;
    r->hdr_kind = nr->hdr_kind;
    r->hdr_names = nr->hdr_names;
    r->n_hdr_names = nr->n_hdr_names;
    r->hdr_mods = nr->hdr_mods;
    r->if_unset = nr->if_unset;
    r->meta = nr->meta;
    r->eval = nr->eval;
    r->unsupported = nr->unsupported;
    r->why = nr->why;
    memset(nr, 0, sizeof(*nr));
}

/*
 * tm_define - give `name` the test in nr (ownership moves). An active line
 * replaces a placeholder silently and an earlier definition with a warning
 * (SA add_test() overwrites; attributes stay). A placeholder (`ph_why`: a
 * false block or a plugin directive) only fills a name nothing defined yet.
 */
static void
tm_define(struct tm_ld *L, const struct tm_line *ln, const char *name, size_t nlen,
          const char *namep, struct tm_rule *nr, const char *ph_why, const char *valp)
{
    struct tm_ent *e = tm_ent_get(L, name, nlen);

    if (e->state == TM_ENT_ATTR)
        tm_order_add(L, e);
    if (ph_why != NULL) {
        if (e->state != TM_ENT_ATTR) {
            tm_rule_free_def(nr);
            return;
        }
        tm_cfree(nr->why);
        nr->unsupported = 1;
        nr->why = tm_xstrdup(ph_why);
        e->state = TM_ENT_PLACEHOLDER;
    } else if (e->state == TM_ENT_DEFINED) {
        TM_LWARN(L, ln, namep,
                 "rule %s redefined (first defined at %s:%u); the new %s test replaces it",
                 e->r.name, e->r.file, e->r.line, tm_rule_type_name(nr->type));
    } else {
        e->r.file = NULL; /* the active definition is the one to point at */
        e->state = TM_ENT_DEFINED;
    }
    if (e->r.file == NULL) {
        e->r.file = ln->file;
        e->r.line = ln->no;
    }
    tm_rule_free_def(&e->r);
    tm_move_def(&e->r, nr);
    e->def_file = ln->file;
    e->def_line = ln->no;
    e->def_col = tm_col(ln, valp);
}

/* ---- regexes ------------------------------------------------------------- */

/*
 * tm_re_split - split "/re/flags", "m{re}flags", "m!re!flags", ... as SA's
 * compile_regexp() with strip_delimiters: store the text between the
 * delimiters in *pat and the flags in *flags. 0 after an error diag.
 */
static int
tm_re_split(struct tm_ld *L, const struct tm_line *ln, const char *s, char **pat, unsigned *flags)
{
    const char *body, *end, *m, *q;
    char open, close;
    size_t len = strlen(s), i;
    char prev = '\0';

    *pat = NULL;
    *flags = 0;
    if (s[0] == '/') {
        body = s + 1;
        close = '/';
    } else if (s[0] == 'm' || (s[0] == 'q' && s[1] == 'r')) {
        q = s[0] == 'm' ? s + 1 : s + 2;
        open = *q;
        if (open == '{' || open == '(' || open == '<' || open == '[') {
            close = open == '{' ? '}' : open == '(' ? ')' : open == '<' ? '>' : ']';
        } else if (open != '\0' && !tm_isword(open)) {
            if (open == '\\') {
                TM_LERR(L, ln, q, "backslash regexp delimiter not allowed");
                return 0;
            }
            close = open;
        } else {
            TM_LERR(L, ln, s, "missing regexp delimiters");
            return 0;
        }
        body = q + 1;
    } else {
        TM_LERR(L, ln, s, "missing regexp delimiters");
        return 0;
    }
    /* trailing modifiers: [a-df-z]* (SA leaves out e), then the end delimiter */
    end = s + len;
    while (end > body && end[-1] >= 'a' && end[-1] <= 'z' && end[-1] != 'e')
        end--;
    if (end == body || end[-1] != close) {
        TM_LERR(L, ln, end > body ? end - 1 : s, "invalid end delimiter/modifiers of regexp");
        return 0;
    }
    for (m = end; *m != '\0'; m++) {
        switch (*m) {
        case 'i':
            *flags |= TM_RE_I;
            break;
        case 'm':
            *flags |= TM_RE_M;
            break;
        case 's':
            *flags |= TM_RE_S;
            break;
        case 'x':
            *flags |= TM_RE_X;
            break;
        case 'g':
        case 'o':
            break;
        default:
            TM_LERR(L, ln, m, "unsupported regexp modifier '%c'", *m);
            return 0;
        }
    }
    end--; /* the end delimiter */
    for (q = body; q + 1 < end; q++)
        if (q[0] == '(' && q[1] == '?' &&
            ((q + 2 < end && q[2] == '{') || (q + 3 < end && q[2] == '?' && q[3] == '{'))) {
            TM_LERR(L, ln, q, "code (?{...}) in regexp not allowed");
            return 0;
        }
    if (close != '}' && close != ')' && close != ']') {
        for (i = 0; body + i < end; i++) {
            if (body[i] == '\\' && body + i + 1 < end && body[i + 1] == '\\') {
                i++;
                continue;
            }
            if (body[i] == close && prev != '\\') {
                TM_LERR(L, ln, body + i, "unquoted delimiter '%c' in regexp", close);
                return 0;
            }
            prev = body[i];
        }
    }
    *pat = tm_dupn(body, (size_t)(end - body));
    return 1;
}

/* ---- rule lines ------------------------------------------------------------ */

/* tm_eval_fn - "eval:f(args)": SA wants ^\w+\(.*\)$ */
static int
tm_eval_ok(const char *fn)
{
    const char *p = fn;
    size_t n = strlen(fn);

    while (tm_isword(*p))
        p++;
    return p > fn && *p == '(' && n > 0 && fn[n - 1] == ')';
}

static int
tm_parse_eval(struct tm_ld *L, const struct tm_line *ln, const char *fn, struct tm_rule *nr)
{
    if (!tm_eval_ok(fn)) {
        TM_LERR(L, ln, fn, "invalid eval function call '%s'", fn);
        return 0;
    }
    nr->eval = tm_xstrdup(fn);
    return 1;
}

static int
tm_parse_regex_rule(struct tm_ld *L, const struct tm_line *ln, const char *rest, struct tm_rule *nr)
{
    char *pat;

    if (nr->type != TM_RULE_URI && strncmp(rest, "eval:", 5) == 0)
        return tm_parse_eval(L, ln, rest + 5, nr);
    if (!tm_re_split(L, ln, rest, &pat, &nr->re_flags))
        return 0;
    nr->pattern = pat;
    return 1;
}

struct tm_hdrmod {
    const char *name;
    unsigned bit; /* 0: SA knows it, Tamis does not */
};

static const struct tm_hdrmod tm_hdrmods[] = {
    {"raw", TM_HDRMOD_RAW},     {"addr", TM_HDRMOD_ADDR},     {"name", TM_HDRMOD_NAME},
    {"host", TM_HDRMOD_HOST},   {"domain", TM_HDRMOD_DOMAIN}, {"ip", TM_HDRMOD_IP},
    {"first", TM_HDRMOD_FIRST}, {"last", TM_HDRMOD_LAST},     {"revip", 0},
};

/* tm_parse_hdrmods - ":mod[:mod]" after a header name; unknown ones make the rule unsupported */
static void
tm_parse_hdrmods(struct tm_ld *L, const struct tm_line *ln, const char *p, const char *end,
                 struct tm_rule *nr)
{
    const char *m;
    size_t i, n;
    char why[128];

    while (p < end && *p == ':') {
        m = ++p;
        while (p < end && *p != ':')
            p++;
        n = (size_t)(p - m);
        if (n == 0)
            continue; /* "Subject:" is "Subject" */
        for (i = 0; i < TM_NELEM(tm_hdrmods); i++)
            if (strlen(tm_hdrmods[i].name) == n && memcmp(tm_hdrmods[i].name, m, n) == 0)
                break;
        if (i < TM_NELEM(tm_hdrmods) && tm_hdrmods[i].bit != 0) {
            nr->hdr_mods |= tm_hdrmods[i].bit;
            continue;
        }
        if (i == TM_NELEM(tm_hdrmods))
            TM_LWARN(L, ln, m, "unknown header modifier ':%.*s' (SpamAssassin rejects it)", (int)n,
                     m);
        if (!nr->unsupported) {
            snprintf(why, sizeof(why), "header modifier :%.*s not supported", (int)n, m);
            nr->unsupported = 1;
            nr->why = tm_xstrdup(why);
        }
    }
}

/* tm_take_if_unset - cut "\s+[if-unset:\s+STRING]" off the end of s (SA regex) */
static void
tm_take_if_unset(char *s, struct tm_rule *nr)
{
    char *p, *v;
    size_t n = strlen(s);

    if (n == 0 || s[n - 1] != ']')
        return;
    for (p = s; (p = strstr(p, "[if-unset:")) != NULL; p++) {
        if (p == s || !tm_isspace(p[-1]) || !tm_isspace(p[10]))
            continue;
        v = tm_mut(tm_skipws(p + 10));
        if (v >= s + n - 1)
            continue;
        nr->if_unset = tm_dupn(v, (size_t)(s + n - 1 - v));
        p--;
        while (p > s && tm_isspace(p[-1]))
            p--;
        *p = '\0';
        return;
    }
}

/*
 * tm_check_pseudo_header - SpamAssassin computes some "headers" from the
 * Received chain and the envelope (PerMsgStatus::_get): the relay lists and
 * the ALL-TRUSTED family need its trust-path analysis, EnvelopeFrom the SMTP
 * envelope. Tamis has neither yet, so such rules are unsupported, not run
 * against a header of that name that never exists.
 */
static void
tm_check_pseudo_header(struct tm_rule *nr, const char *p, size_t n)
{
    static const char *const pseudo[] = {
        "X-Spam-Relays-Untrusted", "X-Spam-Relays-Trusted", "X-Spam-Relays-External",
        "X-Spam-Relays-Internal",  "ALL-TRUSTED",           "ALL-UNTRUSTED",
        "ALL-INTERNAL",            "ALL-EXTERNAL",          "EnvelopeFrom",
    };
    char why[160];
    size_t i;

    if (nr->unsupported)
        return;
    for (i = 0; i < TM_NELEM(pseudo); i++)
        if (strlen(pseudo[i]) == n && strncasecmp(pseudo[i], p, n) == 0) {
            snprintf(why, sizeof(why), "SpamAssassin pseudo-header %s (relay/envelope analysis) "
                                       "not implemented", pseudo[i]);
            nr->unsupported = 1;
            nr->why = tm_xstrdup(why);
            return;
        }
}

static void
tm_set_hdr_name(struct tm_rule *nr, const char *p, size_t n)
{
    if (n == 3 && memcmp(p, "ALL", 3) == 0) {
        nr->hdr_kind = TM_HDR_ALL;
        return;
    }
    if (n == 4 && memcmp(p, "ToCc", 4) == 0) {
        nr->hdr_kind = TM_HDR_TOCC;
        return;
    }
    if (n == 9 && memcmp(p, "MESSAGEID", 9) == 0) {
        nr->hdr_kind = TM_HDR_MESSAGEID;
        return;
    }
    nr->hdr_kind = TM_HDR_NAMED;
    nr->hdr_names = tm_xmalloc(sizeof(*nr->hdr_names));
    nr->hdr_names[0] = tm_dupn(p, n);
    nr->n_hdr_names = 1;
    tm_check_pseudo_header(nr, p, n);
}

static int
tm_is_hdrchar(char c)
{
    return tm_isword(c) || c == '.' || c == '-';
}

/*
 * tm_parse_header - what follows "header NAME": eval:/rbleval:, exists:Name,
 * or Name[:mod[:mod]] =~ /re/ [if-unset: X]. `mime` is the mimeheader form
 * (Name[:raw] only).
 */
static int
tm_parse_header(struct tm_ld *L, const struct tm_line *ln, char *rest, struct tm_rule *nr, int mime)
{
    char *h = rest, *he, *op, *pat, *re;

    if (!mime && (strncmp(rest, "eval:", 5) == 0 || strncmp(rest, "rbleval:", 8) == 0))
        return tm_parse_eval(L, ln, rest + (rest[0] == 'e' ? 5 : 8), nr);
    if (!mime && strncmp(rest, "exists:", 7) == 0) {
        h = rest + 7;
        for (he = h; tm_is_hdrchar(*he); he++)
            ;
        if (he == h || (*he != '\0' && !(*he == ':' && he[1] == '\0'))) {
            TM_LERR(L, ln, he == h ? h : he, "invalid header name in exists:");
            return 0;
        }
        nr->hdr_kind = TM_HDR_EXISTS;
        nr->hdr_names = tm_xmalloc(sizeof(*nr->hdr_names));
        nr->hdr_names[0] = tm_dupn(h, (size_t)(he - h));
        nr->n_hdr_names = 1;
        tm_check_pseudo_header(nr, h, (size_t)(he - h));
        return 1;
    }
    for (he = h; mime ? (*he != '\0' && *he != ':' && !tm_isspace(*he)) : tm_is_hdrchar(*he); he++)
        ;
    if (he == h) {
        TM_LERR(L, ln, h, "invalid header name");
        return 0;
    }
    for (op = he; *op == ':';)
        for (op++; *op >= 'a' && *op <= 'z'; op++)
            ;
    if (*op == '|') {
        TM_LERR(L, ln, op,
                "several header names joined with '|' are not supported (SpamAssassin 4.0.1 "
                "rejects them too)");
        return 0;
    }
    tm_set_hdr_name(nr, h, (size_t)(he - h));
    tm_parse_hdrmods(L, ln, he, op, nr);
    if (mime && (nr->hdr_mods & ~TM_HDRMOD_RAW) != 0) {
        TM_LERR(L, ln, he, "mimeheader takes only the :raw modifier");
        return 0;
    }
    op = tm_mut(tm_skipws(op));
    if ((op[0] != '=' && op[0] != '!') || op[1] != '~') {
        TM_LERR(L, ln, op, "expected =~ or !~ after the header name");
        return 0;
    }
    nr->negate = op[0] == '!';
    pat = tm_mut(tm_skipws(op + 2));
    if (*pat == '\0') {
        TM_LERR(L, ln, op, "missing regexp after %c~", op[0]);
        return 0;
    }
    tm_take_if_unset(pat, nr);
    if (!tm_re_split(L, ln, pat, &re, &nr->re_flags))
        return 0;
    nr->pattern = re;
    return 1;
}

/*
 * tm_meta_check - SA is_meta_valid(): no Perl sigils or "::"/"->", no "**",
 * tokens are rule names, numbers or 1-2 character operators, parentheses
 * balance. 0 after an error diag.
 */
static int
tm_meta_check(struct tm_ld *L, const struct tm_line *ln, const char *s)
{
    static const char *const ops2[] = {"||", "&&", ">=", "<=", "==", "!="};
    const char *p = s, *t;
    int depth = 0;
    size_t i;

    for (p = s; *p != '\0'; p++) {
        if (strchr("$@%;{}", *p) != NULL || (p[0] == ':' && p[1] == ':') ||
            (p[0] == '-' && p[1] == '>')) {
            TM_LERR(L, ln, p, "invalid character '%c' in meta expression", *p);
            return 0;
        }
        if (*p == '*' && *tm_skipws(p + 1) == '*') {
            TM_LERR(L, ln, p, "invalid '**' operator in meta expression");
            return 0;
        }
    }
    for (p = tm_skipws(s); *p != '\0'; p = tm_skipws(p)) {
        t = p;
        if ((*p >= '0' && *p <= '9') || *p == '.') {
            while ((*p >= '0' && *p <= '9') || *p == '.')
                p++;
            continue;
        }
        if (tm_isword(*p)) {
            while (tm_isword(*p) || *p == ':')
                p++;
            if (!tm_is_rulename(t, (size_t)(p - t))) {
                TM_LERR(L, ln, t, "invalid meta token '%.*s'", (int)(p - t), t);
                return 0;
            }
            if ((size_t)(p - t) == 14 && memcmp(t, "rules_matching", 14) == 0 && *p == '(') {
                while (*p != '\0' && *p != ')')
                    p++;
                if (*p == ')')
                    p++;
            }
            continue;
        }
        if (*p == '(' || *p == ')') {
            depth += *p == '(' ? 1 : -1;
            if (depth < 0) {
                TM_LERR(L, ln, p, "unbalanced ')' in meta expression");
                return 0;
            }
            p++;
            continue;
        }
        for (i = 0; i < TM_NELEM(ops2); i++)
            if (p[0] == ops2[i][0] && p[1] == ops2[i][1])
                break;
        if (i < TM_NELEM(ops2)) {
            p += 2;
            continue;
        }
        if (strchr("!<>+-*/^?:", *p) != NULL) {
            p++;
            continue;
        }
        TM_LERR(L, ln, p, "invalid character '%c' in meta expression", *p);
        return 0;
    }
    if (depth != 0) {
        TM_LERR(L, ln, s, "unbalanced '(' in meta expression");
        return 0;
    }
    return 1;
}

static const char *
tm_dir_type(const char *key, enum tm_rule_type *t)
{
    static const struct {
        const char *name;
        enum tm_rule_type type;
    } map[] = {{"header", TM_RULE_HEADER},    {"body", TM_RULE_BODY}, {"rawbody", TM_RULE_RAWBODY},
               {"uri", TM_RULE_URI},          {"full", TM_RULE_FULL}, {"meta", TM_RULE_META},
               {"mimeheader", TM_RULE_HEADER}};
    size_t i;

    for (i = 0; i < TM_NELEM(map); i++)
        if (strcmp(key, map[i].name) == 0) {
            *t = map[i].type;
            return map[i].name;
        }
    return NULL;
}

/* tm_rule_line - header/body/rawbody/uri/full/meta/mimeheader NAME ... */
static void
tm_rule_line(struct tm_ld *L, const struct tm_line *ln, const char *key, const char *keyp,
             char *val)
{
    struct tm_rule nr;
    const char *namep = val, *ne;
    char *rest;
    size_t nlen;
    int ok;

    memset(&nr, 0, sizeof(nr));
    (void)tm_dir_type(key, &nr.type);
    if (*val == '\0') {
        TM_LERR(L, ln, keyp, "%s: missing rule name", key);
        return;
    }
    ne = tm_skiptok(val);
    nlen = (size_t)(ne - namep);
    if (!tm_is_rulename(namep, nlen) || nlen > TM_RULES_MAX_NAME) {
        TM_LERR(L, ln, namep, "%s: invalid rule name '%.*s'", key, (int)nlen, namep);
        return;
    }
    rest = tm_mut(tm_skipws(ne));
    if (*rest == '\0') {
        TM_LERR(L, ln, ne, "%s %.*s: missing test", key, (int)nlen, namep);
        return;
    }
    if (nr.type == TM_RULE_META) {
        ok = tm_meta_check(L, ln, rest);
        if (ok)
            nr.meta = tm_xstrdup(rest);
    } else if (nr.type == TM_RULE_HEADER) {
        ok = tm_parse_header(L, ln, rest, &nr, key[0] == 'm');
        if (ok && key[0] == 'm' && !nr.unsupported) {
            nr.unsupported = 1;
            nr.why = tm_xstrdup("mimeheader not supported yet");
        }
    } else {
        ok = tm_parse_regex_rule(L, ln, rest, &nr);
    }
    if (!ok) {
        tm_rule_free_def(&nr);
        if (L->why == NULL)
            return;
        /* a false block: keep the name even when the test does not parse */
    }
    tm_define(L, ln, namep, nlen, namep, &nr, L->why, rest);
}

/* tm_plugin_rule_line - askdns/uridnsbl/... NAME ...: a network rule Tamis does not run */
static void
tm_plugin_rule_line(struct tm_ld *L, const struct tm_line *ln, const char *key, const char *keyp,
                    const char *val)
{
    struct tm_rule nr;
    const char *ne = tm_skiptok(val);
    size_t nlen = (size_t)(ne - val);

    memset(&nr, 0, sizeof(nr));
    if (nlen == 0 || !tm_is_rulename(val, nlen) || nlen > TM_RULES_MAX_NAME) {
        TM_LERR(L, ln, nlen ? val : keyp, "%s: missing or invalid rule name", key);
        return;
    }
    nr.type = key[0] == 'a' ? TM_RULE_HEADER : TM_RULE_URI;
    tm_define(L, ln, val, nlen, val, &nr, L->why != NULL ? L->why : "network test", val);
}

static int
tm_attr_head(struct tm_ld *L, const struct tm_line *ln, const char *key, const char *keyp,
             const char *val, struct tm_ent **e, const char **rest)
{
    const char *ne = tm_skiptok(val);

    if (*val == '\0') {
        TM_LERR(L, ln, keyp, "%s: missing rule name", key);
        return 0;
    }
    *rest = tm_skipws(ne);
    if (**rest == '\0') {
        TM_LERR(L, ln, ne, "%s %.*s: missing value", key, (int)(ne - val), val);
        return 0;
    }
    *e = tm_ent_get(L, val, (size_t)(ne - val));
    tm_ent_attr_seen(*e, ln, val);
    return 1;
}

static void
tm_score_line(struct tm_ld *L, const struct tm_line *ln, const char *keyp, const char *val)
{
    struct tm_ent *e;
    const char *rest, *p, *t[5];
    size_t n = 0, i, len;
    double v[4];
    int rel = 0, paren;

    if (!tm_attr_head(L, ln, "score", keyp, val, &e, &rest))
        return;
    for (p = rest; *p != '\0' && n < 5; p = tm_skipws(p)) {
        t[n++] = p;
        p = tm_skiptok(p);
    }
    if (n != 1 && n != 4) {
        TM_LERR(L, ln, n > 4 ? t[4] : rest, "score %s: needs 1 or 4 values", e->r.name);
        return;
    }
    for (i = 0; i < n; i++) {
        len = (size_t)(tm_skiptok(t[i]) - t[i]);
        paren = len >= 2 && t[i][0] == '(' && t[i][len - 1] == ')';
        if (paren)
            rel = 1;
        if (!tm_strict_num(t[i] + paren, len - 2 * (size_t)paren, &v[i])) {
            TM_LERR(L, ln, t[i], "score %s: bad value '%.*s'", e->r.name, (int)len, t[i]);
            return;
        }
    }
    if (rel && !e->r.has_score) {
        TM_LERR(L, ln, rest, "score %s: relative score without an earlier score", e->r.name);
        return;
    }
    for (i = 0; i < 4; i++) {
        double x = v[n == 1 ? 0 : i];

        e->r.score[i] = rel ? e->r.score[i] + x : x;
    }
    e->r.has_score = 1;
}

struct tm_tflag {
    const char *name;
    unsigned bit; /* 0: known to SA, no meaning for Tamis */
};

static const struct tm_tflag tm_tflags[] = {
    {"multiple", TM_TF_MULTIPLE},
    {"nice", TM_TF_NICE},
    {"net", TM_TF_NET},
    {"learn", TM_TF_LEARN},
    {"userconf", TM_TF_USERCONF},
    {"noautolearn", TM_TF_NOAUTOLEARN},
    {"publish", TM_TF_PUBLISH},
    {"nosubject", TM_TF_NOSUBJECT},
    {"autolearn_test", TM_TF_AUTOLEARNTEST},
    {"autolearn_force", 0},
    {"autolearn_body", 0},
    {"autolearn_header", 0},
    {"noawl", 0},
    {"nolog", 0},
    {"ips_only", 0},
    {"domains_only", 0},
    {"ns", 0},
    {"a", 0},
    {"notrim", 0},
};

static void
tm_tflags_line(struct tm_ld *L, const struct tm_line *ln, const char *keyp, const char *val)
{
    struct tm_ent *e;
    const char *rest, *p, *te;
    size_t i, n;
    unsigned flags = 0, maxhits = 0;
    double mh;

    if (!tm_attr_head(L, ln, "tflags", keyp, val, &e, &rest))
        return;
    for (p = rest; *p != '\0'; p = tm_skipws(te)) {
        te = tm_skiptok(p);
        n = (size_t)(te - p);
        if (n > 8 && memcmp(p, "maxhits=", 8) == 0) {
            if (!tm_strict_num(p + 8, n - 8, &mh) || mh < 1 || mh > 1e9 ||
                memchr(p + 8, '.', n - 8) != NULL) {
                TM_LWARN(L, ln, p, "tflags %s: bad maxhits value '%.*s'", e->r.name, (int)n, p);
                continue;
            }
            maxhits = (unsigned)mh;
            continue;
        }
        for (i = 0; i < TM_NELEM(tm_tflags); i++)
            if (strlen(tm_tflags[i].name) == n && memcmp(tm_tflags[i].name, p, n) == 0)
                break;
        if (i == TM_NELEM(tm_tflags)) {
            TM_LWARN(L, ln, p, "tflags %s: unknown flag '%.*s' ignored", e->r.name, (int)n, p);
            continue;
        }
        flags |= tm_tflags[i].bit;
    }
    /* SA keeps one tflags value per rule: a later line replaces an earlier one */
    e->r.tflags = flags;
    e->r.maxhits = maxhits;
}

static void
tm_describe_line(struct tm_ld *L, const struct tm_line *ln, const char *keyp, const char *val)
{
    struct tm_ent *e;
    const char *rest;

    if (!tm_attr_head(L, ln, "describe", keyp, val, &e, &rest))
        return;
    tm_cfree(e->r.describe);
    e->r.describe = tm_xstrdup(rest);
}

static void
tm_priority_line(struct tm_ld *L, const struct tm_line *ln, const char *keyp, const char *val)
{
    const char *ne = tm_skiptok(val), *rest = tm_skipws(ne), *re = tm_skiptok(rest);
    struct tm_ent *e;
    double v;

    if (*val == '\0' || *rest == '\0') {
        TM_LERR(L, ln, *val ? ne : keyp, "priority: needs a rule name and a value");
        return;
    }
    if (!tm_is_rulename(val, (size_t)(ne - val))) {
        TM_LERR(L, ln, val, "priority: invalid rule name '%.*s'", (int)(ne - val), val);
        return;
    }
    if (*tm_skipws(re) != '\0' || memchr(rest, '.', (size_t)(re - rest)) != NULL ||
        !tm_strict_num(rest, (size_t)(re - rest), &v) || v < -2147483647.0 || v > 2147483647.0) {
        TM_LERR(L, ln, rest, "priority: bad value '%s'", rest);
        return;
    }
    e = tm_ent_get(L, val, (size_t)(ne - val));
    tm_ent_attr_seen(e, ln, val);
    e->r.priority = (int)v;
}

static void
tm_required_line(struct tm_ld *L, const struct tm_line *ln, const char *key, const char *keyp,
                 const char *val)
{
    double v;

    if (!tm_strict_num(val, strlen(val), &v)) {
        TM_LERR(L, ln, *val ? val : keyp, "%s: bad value '%s'", key, val);
        return;
    }
    L->rs->required_score = v;
    L->rs->has_required_score = 1;
}

static void
tm_reuse_line(struct tm_ld *L, const struct tm_line *ln, const char *keyp, const char *val)
{
    const char *ne = tm_skiptok(val);
    struct tm_ent *e;

    if (!tm_is_rulename(val, (size_t)(ne - val))) {
        TM_LERR(L, ln, *val ? val : keyp, "reuse: invalid rule name");
        return;
    }
    e = tm_ent_get(L, val, (size_t)(ne - val));
    e->reuse = 1;
    tm_ent_attr_seen(e, ln, val);
}

/*
 * tm_replace_rules_line - replace_rules A B ...: ReplaceTags rewrites the
 * <tag>s of these rules' regexes with replace_tag values (tm_replace_tags,
 * when loading ends).
 */
static void
tm_replace_rules_line(struct tm_ld *L, const struct tm_line *ln, const char *val)
{
    const char *p, *e;
    struct tm_ent *ent;

    for (p = val; *p != '\0'; p = tm_skipws(e)) {
        e = tm_skiptok(p);
        ent = tm_ent_get(L, p, (size_t)(e - p));
        ent->replace = 1;
        tm_ent_attr_seen(ent, ln, p);
    }
}

/* tm_tag_set - replace_tag / replace_pre / replace_post / replace_inter NAME VALUE */
static void
tm_tag_set(struct tm_ld *L, int kind, const struct tm_line *ln, const char *keyp, const char *val)
{
    struct tm_tagtab *t = &L->tags[kind];
    const char *e = tm_skiptok(val), *v = tm_skipws(e);
    size_t i;

    if (e == val || *v == '\0') {
        TM_LWARN(L, ln, keyp, "replace tag line needs a name and a value");
        return;
    }
    for (i = 0; i < t->n; i++)
        if (strlen(t->name[i]) == (size_t)(e - val) && memcmp(t->name[i], val, (size_t)(e - val)) == 0) {
            tm_free(t->value[i]);
            t->value[i] = tm_xstrdup(v);
            return;
        }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 32;
        t->name = tm_xrealloc(t->name, t->cap * sizeof(*t->name));
        t->value = tm_xrealloc(t->value, t->cap * sizeof(*t->value));
    }
    t->name[t->n] = tm_dupn(val, (size_t)(e - val));
    t->value[t->n] = tm_xstrdup(v);
    t->n++;
}

static const char *
tm_tag_get(const struct tm_tagtab *t, const char *name, size_t n)
{
    size_t i;

    for (i = t->n; i-- > 0;)
        if (strlen(t->name[i]) == n && memcmp(t->name[i], name, n) == 0)
            return t->value[i][0] != '\0' ? t->value[i] : NULL;
    return NULL;
}

/* ---- ReplaceTags ------------------------------------------------------------ */

struct tm_sbuf {
    char *p;
    size_t n, cap;
};

static void
tm_sb_add(struct tm_sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        while (b->n + n + 1 > b->cap)
            b->cap = b->cap ? b->cap * 2 : 256;
        b->p = tm_xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

/* tm_take_mod - remove the first "<kind NAME>" from re; returns NAME (heap) or NULL */
static char *
tm_take_mod(struct tm_ld *L, char *re, const char *kind)
{
    size_t sl = strlen(L->rstart), el = strlen(L->rend), kl = strlen(kind);
    char *p, *q;

    for (p = strstr(re, L->rstart); p != NULL; p = strstr(p + 1, L->rstart)) {
        char *nm = p + sl;
        if (strncmp(nm, kind, kl) != 0 || nm[kl] != ' ' || nm[kl + 1] == '\0')
            continue;
        nm += kl + 1;
        if ((q = strstr(nm + 1, L->rend)) == NULL)
            return NULL;
        {
            char *name = tm_dupn(nm, (size_t)(q - nm));
            memmove(p, q + el, strlen(q + el) + 1);
            return name;
        }
    }
    return NULL;
}

/*
 * tm_replace_tags - SpamAssassin's ReplaceTags (finish_parsing_end): up to
 * six passes; in each, the first <pre X>, <post X>, <inter X> markers are
 * removed, the regex is split around <...> tags, pre/post text is put
 * around tags (pre before the first tag of a piece, post after each), inter
 * text fills the empty pieces between adjacent tags, and every defined tag
 * is replaced by its value. Another pass runs while a value brought in tags.
 * Returns a new string, or NULL when nothing changed.
 */
static char *
tm_replace_tags(struct tm_ld *L, const char *pattern)
{
    char *re = tm_xstrdup(pattern);
    int passes = 0, again;

    do {
        char *pre = tm_take_mod(L, re, "pre"), *post = tm_take_mod(L, re, "post");
        char *inter = tm_take_mod(L, re, "inter");
        const char *prev = pre ? tm_tag_get(&L->tags[TM_TAG_PRE], pre, strlen(pre)) : NULL;
        const char *postv = post ? tm_tag_get(&L->tags[TM_TAG_POST], post, strlen(post)) : NULL;
        const char *interv =
            inter ? tm_tag_get(&L->tags[TM_TAG_INTER], inter, strlen(inter)) : NULL;
        struct tm_sbuf out = {NULL, 0, 0};
        const char *p = re;
        int first = 1;

        again = 0;
        /* Perl's split(/(<[^<>]+>)/): text pieces and tag pieces alternate. */
        while (*p != '\0' || first) {
            const char *lt = strchr(p, '<'), *gt = NULL;
            while (lt != NULL) {
                const char *c = lt + 1;
                while (*c != '\0' && *c != '<' && *c != '>')
                    c++;
                if (*c == '>' && c > lt + 1) {
                    gt = c;
                    break;
                }
                lt = *c == '<' ? c : NULL;
            }
            if (lt == NULL) {
                tm_sb_add(&out, p, strlen(p));
                break;
            }
            /* the text piece before the tag; an empty one gets the inter text */
            if (lt == p && interv != NULL)
                tm_sb_add(&out, interv, strlen(interv));
            else
                tm_sb_add(&out, p, (size_t)(lt - p));
            {
                size_t sl = strlen(L->rstart), el = strlen(L->rend);
                const char *nm = lt + 1;
                size_t nl = (size_t)(gt - nm);
                const char *val = NULL;
                if (sl == 1 && el == 1 && L->rstart[0] == '<' && L->rend[0] == '>')
                    val = tm_tag_get(&L->tags[TM_TAG_TAG], nm, nl);
                if (prev != NULL)
                    tm_sb_add(&out, prev, strlen(prev));
                if (val != NULL) {
                    tm_sb_add(&out, val, strlen(val));
                    if (strchr(val, '<') != NULL && strchr(val, '>') != NULL)
                        again = 1;
                } else {
                    tm_sb_add(&out, lt, (size_t)(gt - lt) + 1);
                }
                if (postv != NULL)
                    tm_sb_add(&out, postv, strlen(postv));
            }
            p = gt + 1;
            first = 0;
        }
        tm_free(pre);
        tm_free(post);
        tm_free(inter);
        tm_free(re);
        re = out.p ? out.p : tm_xstrdup("");
        passes++;
    } while (again && passes <= 5);
    if (strcmp(re, pattern) == 0) {
        tm_free(re);
        return NULL;
    }
    return re;
}

/* ---- plugins -------------------------------------------------------------- */

/* tm_plugin_norm - SA's renames: Dmarc -> DMARC, WhiteListSubject -> WelcomeListSubject */
static void
tm_plugin_norm(const char **name, size_t *len)
{
    static const char *const ren[][2] = {
        {"Mail::SpamAssassin::Plugin::Dmarc", "Mail::SpamAssassin::Plugin::DMARC"},
        {"Mail::SpamAssassin::Plugin::WhiteListSubject",
         "Mail::SpamAssassin::Plugin::WelcomeListSubject"},
    };
    size_t i;

    for (i = 0; i < TM_NELEM(ren); i++)
        if (strlen(ren[i][0]) == *len && memcmp(ren[i][0], *name, *len) == 0) {
            *name = ren[i][1];
            *len = strlen(ren[i][1]);
            return;
        }
}

static int
tm_plugin_loaded(void *arg, const char *name, size_t len)
{
    struct tm_ld *L = arg;
    size_t i;

    tm_plugin_norm(&name, &len);
    if (tm_rules_plugin_default(name, len))
        return 1;
    for (i = 0; i < L->nplugins; i++)
        if (strlen(L->plugins[i]) == len && memcmp(L->plugins[i], name, len) == 0)
            return 1;
    return 0;
}

static void
tm_loadplugin_line(struct tm_ld *L, const char *val)
{
    const char *ne = tm_skiptok(val);
    const char *name = val;
    size_t len = (size_t)(ne - val);

    if (len == 0 || tm_plugin_loaded(L, name, len))
        return;
    tm_plugin_norm(&name, &len);
    if (L->nplugins == L->plugcap) {
        L->plugcap = L->plugcap ? L->plugcap * 2 : 8;
        L->plugins = tm_xrealloc(L->plugins, L->plugcap * sizeof(*L->plugins));
    }
    L->plugins[L->nplugins++] = tm_dupn(name, len);
}

/* tm_compat_line - enable_compat X: can(Mail::SpamAssassin::Conf::compat_X) becomes true */
static void
tm_compat_line(struct tm_ld *L, const struct tm_line *ln, const char *keyp, const char *val)
{
    char buf[200];
    size_t n = strlen(val), i;

    for (i = 0; i < n && tm_isword(val[i]); i++)
        ;
    if (n == 0 || n > 128 || i != n) {
        TM_LERR(L, ln, n ? val : keyp, "enable_compat: invalid name '%s'", val);
        return;
    }
    snprintf(buf, sizeof(buf), "Mail::SpamAssassin::Conf::compat_%s", val);
    tm_loadplugin_line(L, buf);
}

/* ---- conditionals ------------------------------------------------------------ */

static int
tm_skipping(const struct tm_fst *F)
{
    return F->nfr > 0 ? F->fr[F->nfr - 1].skip : F->base_why != NULL;
}

/* tm_inactive_why - why lines here are not parsed: the outermost false block, or NULL */
static const char *
tm_inactive_why(const struct tm_fst *F)
{
    size_t i;

    if (F->base_why != NULL)
        return F->base_why;
    for (i = 0; i < F->nfr; i++)
        if (F->fr[i].skip && !F->fr[i].saved_skip)
            return F->fr[i].why;
    return NULL;
}

static void
tm_frame_why(struct tm_frame *f, int in_else)
{
    char buf[TM_RULES_MSG_MAX];

    tm_free(f->why);
    if (f->is_plugin)
        snprintf(buf, sizeof(buf), in_else ? "else branch of ifplugin %s" : "plugin %s not loaded",
                 f->cond);
    else
        snprintf(buf, sizeof(buf), in_else ? "else branch of if %s" : "if %s is false", f->cond);
    f->why = tm_xstrdup(buf);
}

static void
tm_if_line(struct tm_ld *L, struct tm_fst *F, const struct tm_line *ln, const char *key,
           const char *keyp, const char *val)
{
    struct tm_rules_cond_env env;
    struct tm_frame *f;
    int plugin = key[2] == 'p', truth = 0, saved;
    size_t errpos = 0;
    const char *errmsg = NULL;

    if (*val == '\0') {
        TM_LERR(L, ln, keyp, "%s: missing condition", key);
        return;
    }
    if (F->nfr == TM_RULES_MAX_IF) {
        TM_LERR(L, ln, keyp, "%s: nested deeper than %d", key, TM_RULES_MAX_IF);
        return;
    }
    if (F->nfr == F->frcap) {
        F->frcap = F->frcap ? F->frcap * 2 : 8;
        F->fr = tm_xrealloc(F->fr, F->frcap * sizeof(*F->fr));
    }
    saved = tm_skipping(F);
    f = &F->fr[F->nfr++];
    memset(f, 0, sizeof(*f));
    f->saved_skip = saved;
    f->is_plugin = plugin;
    f->cond = tm_xstrdup(val);
    f->line = ln->no;
    f->col = tm_col(ln, keyp);
    env.plugin = tm_plugin_loaded;
    env.arg = L;
    if (plugin) {
        truth = tm_plugin_loaded(L, val, (size_t)(tm_skiptok(val) - val));
        if (*tm_skipws(tm_skiptok(val)) != '\0') {
            TM_LERR(L, ln, tm_skipws(tm_skiptok(val)), "ifplugin: text after the plugin name");
            truth = 0;
        }
    } else if (tm_rules_cond_eval(val, strlen(val), &env, &truth, &errpos, &errmsg) != TM_OK) {
        TM_LERR(L, ln, val + errpos, "if: %s; the block is treated as false", errmsg);
        truth = 0;
    }
    f->skip = f->saved_skip || !truth;
    if (!truth)
        tm_frame_why(f, 0);
}

static void
tm_else_line(struct tm_ld *L, struct tm_fst *F, const struct tm_line *ln, const char *keyp,
             const char *val)
{
    struct tm_frame *f;
    size_t i;
    int outer = 0;

    if (*val != '\0') {
        TM_LERR(L, ln, val, "else: must stand alone");
        return;
    }
    if (F->nfr == 0) {
        TM_LERR(L, ln, keyp, "else without if");
        return;
    }
    for (i = 0; i < F->nfr; i++)
        outer |= F->fr[i].saved_skip;
    f = &F->fr[F->nfr - 1];
    f->skip = outer ? 1 : !f->skip;
    if (f->skip && !f->saved_skip)
        tm_frame_why(f, 1);
}

static void
tm_frame_pop(struct tm_fst *F)
{
    struct tm_frame *f = &F->fr[--F->nfr];

    tm_free(f->cond);
    tm_free(f->why);
}

static void
tm_endif_line(struct tm_ld *L, struct tm_fst *F, const struct tm_line *ln, const char *keyp,
              const char *val)
{
    if (*val != '\0') {
        TM_LERR(L, ln, val, "endif: must stand alone");
        return;
    }
    if (F->nfr == 0) {
        TM_LERR(L, ln, keyp, "endif without if");
        return;
    }
    tm_frame_pop(F);
}

/* ---- files ------------------------------------------------------------------- */

static tm_rc tm_load_file(struct tm_ld *L, const char *path, const char *inherit_why,
                          const struct tm_line *from, const char *fromp);

/* tm_rel_path - val relative to the directory of the file being read (as include does) */
static char *
tm_rel_path(const struct tm_fst *F, const char *val)
{
    const char *slash = strrchr(F->path, '/');
    size_t dlen;
    char *path;

    if (val[0] == '/' || slash == NULL)
        return tm_xstrdup(val);
    dlen = (size_t)(slash - F->path) + 1;
    path = tm_xmalloc(dlen + strlen(val) + 1);
    memcpy(path, F->path, dlen);
    memcpy(path + dlen, val, strlen(val) + 1);
    return path;
}

static void
tm_include_line(struct tm_ld *L, struct tm_fst *F, const struct tm_line *ln, const char *keyp,
                const char *val)
{
    char *path;

    if (*val == '\0') {
        TM_LERR(L, ln, keyp, "include: missing file name");
        return;
    }
    path = tm_rel_path(F, val);
    (void)tm_load_file(L, path, L->why, ln, val);
    tm_free(path);
}

/* Tamis: force_action RULE ACTION - a hit on RULE forces at least ACTION */
static void
tm_force_action_line(struct tm_ld *L, const struct tm_line *ln, const char *keyp, const char *val)
{
    static const char *const actions[] = {"add_header", "rewrite_subject", "soft_reject",
                                          "quarantine", "reject",          "discard"};
    struct tm_ent *e;
    const char *rest;
    size_t i;

    if (!tm_attr_head(L, ln, "force_action", keyp, val, &e, &rest))
        return;
    for (i = 0; i < TM_NELEM(actions); i++)
        if (strcmp(rest, actions[i]) == 0)
            break;
    if (i == TM_NELEM(actions)) {
        TM_LERR(L, ln, rest, "force_action %s: unknown action '%s' (add_header, rewrite_subject, "
                "soft_reject, quarantine, reject, discard)", e->r.name, rest);
        return;
    }
    tm_cfree(e->r.force_action);
    e->r.force_action = tm_xstrdup(actions[i]);
}

/* Tamis: url_blocklist FILE / url_allowlist FILE - host lists, relative to this file */
static void
tm_url_list_line(struct tm_ld *L, struct tm_fst *F, const struct tm_line *ln, const char *key,
                 const char *keyp, const char *val)
{
    struct tm_ruleset *rs = L->rs;

    if (*val == '\0' || *tm_skipws(tm_skiptok(val)) != '\0') {
        TM_LERR(L, ln, *val ? val : keyp, "%s: needs one file name", key);
        return;
    }
    if (rs->nurl_lists == rs->url_lists_cap) {
        rs->url_lists_cap = rs->url_lists_cap ? rs->url_lists_cap * 2 : 4;
        rs->url_lists = tm_xrealloc(rs->url_lists, rs->url_lists_cap * sizeof(*rs->url_lists));
    }
    rs->url_lists[rs->nurl_lists].path = tm_rel_path(F, val);
    rs->url_lists[rs->nurl_lists].allow = key[4] == 'a';
    rs->nurl_lists++;
}

static void
tm_unknown_line(struct tm_ld *L, const struct tm_line *ln, const char *key, const char *keyp)
{
    size_t i;

    L->rs->nignored++;
    for (i = 0; i < L->nunk; i++)
        if (strcmp(L->unk[i].name, key) == 0) {
            L->unk[i].count++;
            return;
        }
    if (L->nunk == L->unkcap) {
        L->unkcap = L->unkcap ? L->unkcap * 2 : 32;
        L->unk = tm_xrealloc(L->unk, L->unkcap * sizeof(*L->unk));
    }
    L->unk[L->nunk].name = tm_xstrdup(key);
    L->unk[L->nunk].count = 1;
    L->unk[L->nunk].diag = L->rs->ndiags;
    L->nunk++;
    /* the message is rewritten with the line count at the end of loading */
    TM_LWARN(L, ln, keyp, "directive '%s' is not a rule; ignored", key);
}

static int
tm_in_list(const char *key, const char *const *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(key, list[i]) == 0)
            return 1;
    return 0;
}

/*
 * tm_line_prepare - SA's comment and white-space handling on one raw line:
 * cut at the first '#' not preceded by '\', turn "\#" into "#" (remembering
 * where, for columns), return the first non-space character.
 */
static char *
tm_line_prepare(struct tm_line *ln, const char *p, size_t n)
{
    size_t i, o = 0, cut = n;
    char *end;

    for (i = 0; i < n; i++)
        if (p[i] == '#' && (i == 0 || p[i - 1] != '\\')) {
            cut = i;
            break;
        }
    ln->buf = tm_xmalloc(cut + 1);
    ln->nbs = 0;
    for (i = 0; i < cut; i++) {
        if (p[i] == '\\' && i + 1 < cut && p[i + 1] == '#') {
            if (ln->nbs == ln->bscap) {
                ln->bscap = ln->bscap ? ln->bscap * 2 : 8;
                ln->bs = tm_xrealloc(ln->bs, ln->bscap * sizeof(*ln->bs));
            }
            ln->bs[ln->nbs++] = o;
            continue;
        }
        ln->buf[o++] = p[i] == '\0' ? ' ' : p[i];
    }
    ln->buf[o] = '\0';
    end = ln->buf + o;
    while (end > ln->buf && tm_isspace(end[-1]))
        *--end = '\0';
    return tm_mut(tm_skipws(ln->buf));
}

/* tm_do_line - one prepared line: conditionals first, then (when active) directives */
static void
tm_do_line(struct tm_ld *L, struct tm_fst *F, struct tm_line *ln, char *s)
{
    char key[64];
    char *val = s;
    size_t klen = 0, i;
    enum tm_rule_type t;
    const char *keyp = s;

    while (*val != '\0' && !tm_isspace(*val)) {
        if (klen + 1 < sizeof(key))
            key[klen++] = (char)(*val >= 'A' && *val <= 'Z' ? *val + 32 : *val == '-' ? '_' : *val);
        val++;
    }
    key[klen] = '\0';
    val = tm_mut(tm_skipws(val));
    if (strcmp(key, "lang") == 0) {
        L->rs->nlang++;
        return;
    }
    if (strcmp(key, "endif") == 0) {
        tm_endif_line(L, F, ln, keyp, val);
        return;
    }
    if (strcmp(key, "if") == 0 || strcmp(key, "ifplugin") == 0) {
        L->quiet = tm_skipping(F);
        tm_if_line(L, F, ln, key, keyp, val);
        L->quiet = 0;
        return;
    }
    if (strcmp(key, "else") == 0) {
        tm_else_line(L, F, ln, keyp, val);
        return;
    }
    L->why = tm_inactive_why(F);
    L->quiet = L->why != NULL;
    if (strcmp(key, "include") == 0) {
        tm_include_line(L, F, ln, keyp, val);
    } else if (tm_dir_type(key, &t) != NULL) {
        tm_rule_line(L, ln, key, keyp, val);
    } else if (tm_in_list(key, tm_rules_dns_directives, TM_NELEM(tm_rules_dns_directives))) {
        tm_plugin_rule_line(L, ln, key, keyp, val);
    } else if (L->why != NULL) {
        /* a false block: only rule names matter */
    } else if (strcmp(key, "score") == 0) {
        tm_score_line(L, ln, keyp, val);
    } else if (strcmp(key, "describe") == 0) {
        tm_describe_line(L, ln, keyp, val);
    } else if (strcmp(key, "tflags") == 0) {
        tm_tflags_line(L, ln, keyp, val);
    } else if (strcmp(key, "priority") == 0) {
        tm_priority_line(L, ln, keyp, val);
    } else if (strcmp(key, "force_action") == 0) {
        tm_force_action_line(L, ln, keyp, val);
    } else if (strcmp(key, "url_blocklist") == 0 || strcmp(key, "url_allowlist") == 0) {
        tm_url_list_line(L, F, ln, key, keyp, val);
    } else if (strcmp(key, "required_score") == 0 || strcmp(key, "required_hits") == 0) {
        tm_required_line(L, ln, key, keyp, val);
    } else if (strcmp(key, "reuse") == 0) {
        tm_reuse_line(L, ln, keyp, val);
    } else if (strcmp(key, "replace_rules") == 0) {
        tm_replace_rules_line(L, ln, val);
    } else if (strcmp(key, "replace_tag") == 0) {
        tm_tag_set(L, TM_TAG_TAG, ln, keyp, val);
    } else if (strcmp(key, "replace_pre") == 0) {
        tm_tag_set(L, TM_TAG_PRE, ln, keyp, val);
    } else if (strcmp(key, "replace_post") == 0) {
        tm_tag_set(L, TM_TAG_POST, ln, keyp, val);
    } else if (strcmp(key, "replace_inter") == 0) {
        tm_tag_set(L, TM_TAG_INTER, ln, keyp, val);
    } else if (strcmp(key, "replace_start") == 0 || strcmp(key, "replace_end") == 0) {
        char **dst = key[8] == 's' ? &L->rstart : &L->rend;
        if (*val == '\0') { /* SA: a missing value; an empty marker matches everywhere */
            TM_LERR(L, ln, keyp, "%s: missing value", key);
        } else {
            tm_free(*dst);
            *dst = tm_xstrdup(val);
        }
    } else if (strcmp(key, "loadplugin") == 0 || strcmp(key, "tryplugin") == 0) {
        tm_loadplugin_line(L, val);
    } else if (strcmp(key, "enable_compat") == 0) {
        tm_compat_line(L, ln, keyp, val);
    } else if (strcmp(key, "require_version") == 0) {
        if (strcmp(val, "@@VERSION@@") != 0 && strcmp(val, "4.000001") != 0) {
            char buf[TM_RULES_MSG_MAX];

            TM_LWARN(L, ln, val, "require_version %s: this is 4.000001; rest of file skipped", val);
            snprintf(buf, sizeof(buf), "require_version %s", val);
            F->own_why = tm_xstrdup(buf);
            F->base_why = F->own_why;
            for (i = 0; i < F->nfr; i++)
                F->fr[i].saved_skip = F->fr[i].skip = 1;
        }
    } else {
        tm_unknown_line(L, ln, key, keyp);
    }
    L->why = NULL;
    L->quiet = 0;
}

static tm_rc
tm_read_all(const char *path, char **out, size_t *outlen)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;

    *out = NULL;
    *outlen = 0;
    if (fp == NULL)
        return TM_EIO;
    for (;;) {
        if (cap - len < 65536) {
            if (cap >= TM_RULES_MAX_FILE) {
                tm_free(buf);
                fclose(fp);
                return TM_ELIMIT;
            }
            cap = cap ? cap * 2 : 65536;
            buf = tm_xrealloc(buf, cap + 1);
        }
        n = fread(buf + len, 1, cap - len, fp);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(fp)) {
        tm_free(buf);
        fclose(fp);
        return TM_EIO;
    }
    fclose(fp);
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    return TM_OK;
}

/*
 * tm_load_file - read, hash and parse one file. `inherit_why` is the false
 * block an include line sits in (its rules become placeholders). `from` is
 * the include line, for errors about this file; NULL for a top-level path.
 */
static tm_rc
tm_load_file(struct tm_ld *L, const char *path, const char *inherit_why, const struct tm_line *from,
             const char *fromp)
{
    struct tm_fst F;
    struct tm_line ln;
    char *data, *s;
    size_t len, pos = 0, n;
    tm_rc rc;
    int saved_quiet = L->quiet;
    const char *saved_why = L->why;

    if (L->depth >= TM_RULES_MAX_INCLUDE) {
        if (from != NULL)
            TM_LERR(L, from, fromp, "include: nested deeper than %d files", TM_RULES_MAX_INCLUDE);
        return TM_ELIMIT;
    }
    rc = tm_read_all(path, &data, &len);
    if (rc != TM_OK) {
        int err = errno;

        if (from != NULL && inherit_why == NULL)
            TM_LERR(L, from, fromp, "include: cannot read %s: %s", path,
                    rc == TM_ELIMIT ? "file too large" : strerror(err));
        else if (from == NULL)
            tm_diag(L, tm_file_keep(L, path), 0, 0, 1, "cannot read %s: %s", path,
                    rc == TM_ELIMIT ? "file too large" : strerror(err));
        return rc == TM_ELIMIT ? TM_ELIMIT : TM_EIO;
    }
    EVP_DigestUpdate(L->sha, data, len);
    L->rs->nfiles++;
    memset(&F, 0, sizeof(F));
    memset(&ln, 0, sizeof(ln));
    F.path = tm_file_keep(L, path);
    F.base_why = inherit_why;
    ln.file = F.path;
    L->depth++;
    while (pos < len) {
        const char *nl = memchr(data + pos, '\n', len - pos);

        n = nl != NULL ? (size_t)(nl - (data + pos)) : len - pos;
        ln.no++;
        s = tm_line_prepare(&ln, data + pos, n);
        if (*s != '\0')
            tm_do_line(L, &F, &ln, s);
        tm_free(ln.buf);
        ln.buf = NULL;
        pos += n + (nl != NULL);
    }
    L->depth--;
    L->quiet = saved_quiet;
    L->why = saved_why;
    while (F.nfr > 0) {
        struct tm_frame *f = &F.fr[F.nfr - 1];
        int q = L->quiet;

        L->quiet = 0;
        tm_diag(L, F.path, f->line, f->col, 1, "%s %s: no endif before end of file",
                f->is_plugin ? "ifplugin" : "if", f->cond);
        L->quiet = q;
        tm_frame_pop(&F);
    }
    tm_free(F.fr);
    tm_free(F.own_why);
    tm_free(ln.bs);
    tm_free(data);
    return TM_OK;
}

static int
tm_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* tm_load_dir - the *.cf files of a directory in name order, like SA's read_cf */
static tm_rc
tm_load_dir(struct tm_ld *L, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    struct stat st;
    char **names = NULL, *path;
    size_t n = 0, cap = 0, i, len, dlen = strlen(dir);
    tm_rc rc = TM_OK, r;

    if (d == NULL) {
        tm_diag(L, tm_file_keep(L, dir), 0, 0, 1, "cannot read directory %s: %s", dir,
                strerror(errno));
        return TM_EIO;
    }
    while ((de = readdir(d)) != NULL) {
        len = strlen(de->d_name);
        if (len < 4 || de->d_name[0] == '.' || strcmp(de->d_name + len - 3, ".cf") != 0)
            continue;
        path = tm_xmalloc(dlen + len + 2);
        memcpy(path, dir, dlen);
        path[dlen] = '/';
        memcpy(path + dlen + 1, de->d_name, len + 1);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            tm_free(path);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = tm_xrealloc(names, cap * sizeof(*names));
        }
        names[n++] = path;
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof(*names), tm_cmp_str);
    for (i = 0; i < n; i++) {
        r = tm_load_file(L, names[i], NULL, NULL, NULL);
        if (r != TM_OK)
            rc = TM_EIO;
        tm_free(names[i]);
    }
    tm_free(names);
    return rc;
}

/* ---- end of loading ------------------------------------------------------------ */

static int
tm_eval_fn_is(const char *eval, const char *name, int prefix)
{
    size_t n = strlen(name);

    if (strncmp(eval, name, n) != 0)
        return 0;
    return prefix || eval[n] == '(';
}

static void
tm_set_why(struct tm_rule *r, const char *why)
{
    tm_cfree(r->why);
    r->unsupported = 1;
    r->why = tm_xstrdup(why);
}

/* tm_reasons - mark rules Tamis cannot run: network, learning, evals it lacks */
static void
tm_reasons(struct tm_rule *r)
{
    char buf[TM_RULES_MSG_MAX];
    size_t i, n;
    int net = 0;

    if (r->unsupported)
        return;
    if (r->eval != NULL)
        for (i = 0; i < TM_NELEM(tm_rules_net_evals); i++)
            net |= tm_eval_fn_is(r->eval, tm_rules_net_evals[i], 1);
    if ((r->tflags & TM_TF_NET) || net) {
        tm_set_why(r, "network test");
        return;
    }
    if (r->tflags & TM_TF_LEARN) {
        tm_set_why(r, "learning test (Bayes)");
        return;
    }
    if (r->eval == NULL)
        return;
    for (i = 0; tm_rules_native_evals[i] != NULL; i++)
        if (tm_eval_fn_is(r->eval, tm_rules_native_evals[i],
                          tm_rules_native_evals[i][strlen(tm_rules_native_evals[i]) - 1] == '_'))
            return;
    for (n = 0; tm_isword(r->eval[n]); n++)
        ;
    snprintf(buf, sizeof(buf), "eval:%.*s not implemented", (int)n, r->eval);
    tm_set_why(r, buf);
}

/* tm_list_add - append ", name" to a bounded message list */
static void
tm_list_add(char *buf, size_t cap, size_t *len, const char *name, size_t n)
{
    int w;

    if (*len + 8 >= cap)
        return;
    w = snprintf(buf + *len, cap - *len, "%s%.*s", *len ? ", " : "", (int)n, name);
    if (w < 0 || (size_t)w >= cap - *len) {
        buf[*len] = '\0';
        *len = cap - 1;
        return;
    }
    *len += (size_t)w;
}

/*
 * tm_meta_deps - walk the names of one meta: count defined-and-supported
 * dependencies; with `report`, warn about undefined and unsupported ones.
 */
static size_t
tm_meta_deps(struct tm_ld *L, struct tm_ent *e, int report, size_t *ndeps)
{
    const char *p = e->r.meta, *t;
    char name[160], unk[TM_RULES_MSG_MAX - 100], uns[TM_RULES_MSG_MAX - 100];
    size_t ok = 0, n, pos, ul = 0, sl = 0;
    struct tm_ent *d;

    unk[0] = uns[0] = '\0';
    *ndeps = 0;
    while (*p != '\0') {
        if (!tm_isword(*p) || (*p >= '0' && *p <= '9')) {
            if (*p >= '0' && *p <= '9')
                while (tm_isword(*p) || *p == '.')
                    p++;
            else
                p++;
            continue;
        }
        for (t = p; tm_isword(*p); p++)
            ;
        n = (size_t)(p - t);
        if (n == 14 && memcmp(t, "rules_matching", 14) == 0) {
            while (*p != '\0' && *p != ')')
                p++;
            continue;
        }
        if ((n == 16 && memcmp(t, "local_tests_only", 16) == 0) || n >= sizeof(name))
            continue;
        (*ndeps)++;
        memcpy(name, t, n);
        name[n] = '\0';
        pos = tm_hidx_find(&L->eidx, name, tm_key_ent, L->ents);
        d = pos == (size_t)-1 ? NULL : &L->ents[pos];
        if (d == NULL || d->state == TM_ENT_ATTR) {
            if (report)
                tm_list_add(unk, sizeof(unk), &ul, t, n);
        } else if (d->r.unsupported) {
            if (report)
                tm_list_add(uns, sizeof(uns), &sl, t, n);
        } else {
            ok++;
        }
    }
    if (report && ul > 0)
        tm_diag(L, e->def_file, e->def_line, e->def_col, 0,
                "meta %s: undefined rule(s) count as 0: %s", e->r.name, unk);
    if (report && sl > 0)
        tm_diag(L, e->def_file, e->def_line, e->def_col, 0,
                "meta %s: depends on unsupported rule(s): %s", e->r.name, uns);
    return ok;
}

static void
tm_finish_metas(struct tm_ld *L)
{
    size_t i, nd;
    int changed = 1;
    struct tm_ent *e;

    /* a meta all of whose rules are unsupported or undefined is unsupported (fixpoint) */
    while (changed) {
        changed = 0;
        for (i = 0; i < L->nents; i++) {
            e = &L->ents[i];
            if (e->state != TM_ENT_DEFINED || e->r.type != TM_RULE_META || e->r.unsupported)
                continue;
            if (tm_meta_deps(L, e, 0, &nd) == 0 && nd > 0) {
                tm_set_why(&e->r, "every rule of the meta is unsupported or undefined");
                changed = 1;
            }
        }
    }
    for (i = 0; i < L->nents; i++) {
        e = &L->ents[i];
        if (e->state == TM_ENT_DEFINED && e->r.type == TM_RULE_META)
            (void)tm_meta_deps(L, e, 1, &nd);
    }
}

static void
tm_finish(struct tm_ld *L)
{
    struct tm_ruleset *rs = L->rs;
    struct tm_ent *e;
    size_t i, k;
    double def;
    char buf[TM_RULES_MSG_MAX];

    for (i = 0; i < L->nents; i++) {
        e = &L->ents[i];
        if (e->reuse && e->state == TM_ENT_ATTR) {
            /* SA defines reuse-only names as empty tests so their scores work */
            e->r.type = TM_RULE_META;
            e->r.meta = tm_xstrdup("0");
            e->r.unsupported = 1;
            e->r.why = tm_xstrdup("reuse only: no test of its own");
            e->r.file = e->attr_file;
            e->r.line = e->attr_line;
            e->state = TM_ENT_PLACEHOLDER;
            tm_order_add(L, e);
        }
        if (e->state == TM_ENT_ATTR) {
            tm_diag(L, e->attr_file, e->attr_line, e->attr_col, 0,
                    "attributes (score/describe/tflags/priority) for rule %s, which is never "
                    "defined",
                    e->r.name);
            continue;
        }
        if (!e->r.has_score) {
            def = strncmp(e->r.name, "T_", 2) == 0 ? 0.01 : 1.0;
            if (e->r.tflags & TM_TF_NICE)
                def = -def;
            for (k = 0; k < 4; k++)
                e->r.score[k] = def;
        }
        if (e->state == TM_ENT_DEFINED && e->replace && e->r.pattern != NULL) {
            char *re = tm_replace_tags(L, e->r.pattern);
            if (re != NULL) {
                tm_cfree(e->r.pattern);
                e->r.pattern = re;
            }
        }
        if (e->state == TM_ENT_DEFINED)
            tm_reasons(&e->r);
    }
    tm_finish_metas(L);
    for (i = 0; i < L->nunk; i++) {
        struct tm_rule_diag *d = &rs->diags[L->unk[i].diag];

        snprintf(buf, sizeof(buf), "directive '%s' is not a rule; %zu line%s ignored",
                 L->unk[i].name, L->unk[i].count, L->unk[i].count == 1 ? "" : "s");
        tm_cfree(d->msg);
        d->msg = tm_xstrdup(buf);
        tm_free(L->unk[i].name);
    }
    /* the set, in order of first definition, and its index */
    rs->cap = L->nents ? L->nents : 1;
    rs->rules = tm_xcalloc(rs->cap, sizeof(*rs->rules));
    rs->n = 0;
    for (i = 0; i < L->norder; i++) {
        e = &L->ents[L->order[i]];
        rs->rules[rs->n] = e->r;
        memset(&e->r, 0, sizeof(e->r));
        tm_hidx_put(&L->pv->idx, rs->n, tm_key_rule, rs->rules);
        rs->n++;
    }
    for (i = 0; i < L->nents; i++)
        tm_rule_free_all(&L->ents[i].r);
}

tm_rc
tm_rules_load(struct tm_ruleset *rs, const char *const *paths, size_t npaths)
{
    struct tm_ld L;
    struct stat st;
    tm_rc rc = TM_OK;
    size_t i;
    unsigned int mdlen = 0;

    if (rs->rules != NULL || rs->n != 0)
        return TM_EINVAL; /* rs must start zeroed */
    memset(&L, 0, sizeof(L));
    L.rs = rs;
    L.rstart = tm_xstrdup("<");
    L.rend = tm_xstrdup(">");
    if (rs->index == NULL)
        rs->index = tm_xcalloc(1, sizeof(struct tm_rules_priv));
    L.pv = rs->index;
    if (!rs->has_required_score)
        rs->required_score = 5.0;
    if ((L.sha = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(L.sha, EVP_sha256(), NULL) != 1)
        tm_fatal("rules: cannot initialise SHA-256");
    for (i = 0; i < npaths; i++) {
        if (stat(paths[i], &st) != 0) {
            tm_diag(&L, tm_file_keep(&L, paths[i]), 0, 0, 1, "cannot read %s: %s", paths[i],
                    strerror(errno));
            rc = TM_EIO;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (tm_load_dir(&L, paths[i]) != TM_OK)
                rc = TM_EIO;
        } else if (tm_load_file(&L, paths[i], NULL, NULL, NULL) != TM_OK) {
            rc = TM_EIO;
        }
    }
    tm_finish(&L);
    EVP_DigestFinal_ex(L.sha, rs->sha256, &mdlen);
    EVP_MD_CTX_free(L.sha);
    for (i = 0; i < L.nplugins; i++)
        tm_free(L.plugins[i]);
    tm_free(L.plugins);
    tm_free(L.unk);
    tm_free(L.ents);
    tm_free(L.eidx.slot);
    tm_free(L.order);
    for (i = 0; i < TM_NELEM(L.tags); i++) {
        size_t k;
        for (k = 0; k < L.tags[i].n; k++) {
            tm_free(L.tags[i].name[k]);
            tm_free(L.tags[i].value[k]);
        }
        tm_free(L.tags[i].name);
        tm_free(L.tags[i].value);
    }
    tm_free(L.rstart);
    tm_free(L.rend);
    if (rc == TM_OK && L.nerrors > 0)
        rc = TM_EINVAL;
    return rc;
}

const struct tm_rule *
tm_rules_find(const struct tm_ruleset *rs, const char *name)
{
    const struct tm_rules_priv *pv = rs->index;
    size_t pos;

    if (pv == NULL || name == NULL)
        return NULL;
    pos = tm_hidx_find(&pv->idx, name, tm_key_rule, rs->rules);
    return pos == (size_t)-1 ? NULL : &rs->rules[pos];
}

void
tm_rules_free(struct tm_ruleset *rs)
{
    struct tm_rules_priv *pv = rs->index;
    size_t i;

    for (i = 0; i < rs->n; i++)
        tm_rule_free_all(&rs->rules[i]);
    tm_free(rs->rules);
    for (i = 0; i < rs->ndiags; i++)
        tm_cfree(rs->diags[i].msg);
    tm_free(rs->diags);
    for (i = 0; i < rs->nurl_lists; i++)
        tm_free(rs->url_lists[i].path);
    tm_free(rs->url_lists);
    if (pv != NULL) {
        for (i = 0; i < pv->nfiles; i++)
            tm_free(pv->files[i]);
        tm_free(pv->files);
        tm_free(pv->idx.slot);
        tm_free(pv);
    }
    memset(rs, 0, sizeof(*rs));
}

const char *
tm_rule_type_name(enum tm_rule_type t)
{
    static const char *const names[TM_RULE__COUNT] = {"header", "body", "rawbody",
                                                      "uri",    "full", "meta"};

    return (unsigned)t < TM_RULE__COUNT ? names[t] : "?";
}
