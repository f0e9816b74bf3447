/*
 * test_relax.c - scanner/match/relax.c: the relaxed form of a regex that
 * gates PCRE2 behind a Hyperscan prefilter.
 *
 * The expected strings below are hand-derived from the rewrite rules in
 * relax.h. The property that makes the gate sound — every subject the
 * original matches, the relaxed form matches too — is checked with PCRE2
 * itself: on hand-picked subjects, and (relax_superset_stock) for every
 * regex of SpamAssassin's stock rules over the paragraphs and header lines
 * of the 2002 corpus (TM_TEST_CORPUS, fetched by corpus/fetch).
 *
 * tm_re_relax_unit, the repeated group of "(G){n}" for a counted gate: its
 * strings are hand-derived too, and relax_unit_stock checks the gate as
 * the matcher compiles it (Hyperscan, no HS_FLAG_SINGLEMATCH) on every
 * corpus piece the original regex matches: n or more distinct match ends.
 */
#include "harness.h"

#include <dirent.h>
#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/core.h"
#include "match/relax.h"
#include "rules/rules.h"

static void
check_relax(const char *file, int line, const char *pat, int ext, const char *want)
{
    char *got = tm_re_relax(pat, ext);

    tm_test_str(file, line, pat, got, want, want);
    tm_free(got);
}
#define RELAX(pat, want)   check_relax(__FILE__, __LINE__, pat, 0, want)
#define RELAX_X(pat, want) check_relax(__FILE__, __LINE__, pat, 1, want)

TM_TEST(relax_anchors)
{
    RELAX("^Message-Id:.*?^Received:", "^Message-Id:.*?(?:)Received:");
    RELAX("(?:^|\\s)foo", "(?:|\\s)foo");
    RELAX("a$b$", "a(?:)b$");
    RELAX("(a$)", "(a)");
    RELAX("^a^*b", "^a(?:)b");
    RELAX("x\\Gy", "x(?:)y");
}

TM_TEST(relax_lookarounds)
{
    RELAX("a(?=b)c", "a(?:)c");
    RELAX("a(?!b(?:c|d))c", "a(?:)c");
    RELAX("(?<=x)a(?<!y)+b", "a(?:)b");
    RELAX("a(?=[)(])b", "a(?:)b");
    RELAX("a(?=\\))b", "a(?:)b");
    RELAX("a(?!e)(?#c){25,}b", "a(?:)b"); /* fuzz_relax: the quantifier after a comment */
    /* PCRE2 10.42's non-atomic assertions (fuzz_relax: "(?<*" was read as a named group) */
    RELAX("a(?<*!-)b", "a(?:)b");
    RELAX("a(?*b)c", "a(?:)c");
}

TM_TEST(relax_backrefs)
{
    RELAX("(\\w+)\\s\\1", "(\\w+)\\s(?:[\\s\\S]*)");
    RELAX("(a)\\g{1}\\g1\\g{-1}", "(a)(?:[\\s\\S]*)(?:[\\s\\S]*)(?:[\\s\\S]*)");
    RELAX("(?<n>a)\\k<n>(?P=n)", "(a)(?:[\\s\\S]*)(?:[\\s\\S]*)");
    RELAX("(?P<n>a)\\k{n}", "(a)(?:[\\s\\S]*)");
    /* octal and short hex escapes are not back-references; they are written \x{HH} so
     * that a digit after a dropped item cannot join them */
    RELAX("\\0101\\x41\\x\\x{263a}", "\\x{08}1\\x{41}\\x{00}\\x{263a}");
    RELAX("\\0(?=x)5", "\\x{00}(?:)5");
}

TM_TEST(relax_repeats)
{
    RELAX("x{2,5}", "x+");
    RELAX("x{0,9}y{0,1}z{1}", "x*y{0,1}z{1}");
    RELAX("(?:ab){3}", "(?:ab)+");
    RELAX("x{3,}y{1,}", "x+y{1,}");
    RELAX("x{2,5}?", "x+?");
    RELAX("x{2,5}+y*+z?+", "x+y*z?");
    RELAX("a{,3}b{x}", "a\\{,3}b\\{x}");
}

TM_TEST(relax_groups_and_classes)
{
    RELAX("(?>ab)(?|c|d)", "(?:ab)(?:c|d)");
    RELAX("(?i)a(?-i:b)(?s:.)", "(?i)a(?-i:b)(?s:.)");
    RELAX("a(?#note)b", "a(?:)b");
    RELAX("[^]^$(]x$", "[^]^$(]x$");
    RELAX("[[:alpha:]^]{2,}$", "[[:alpha:]^]+$");
    RELAX("[\\]$]$", "[\\]$]$");
    RELAX("[[:alpha:]]{2,}", "[[:alpha:]]+");
    RELAX("[[=]a:]]{2,}", "[[=]a:]]+"); /* the class is "[[=]", then "a:]]" literals */
    /* fuzz_relax: PCRE2 looks for the end of "[=" past the class's ']', so without the
     * empty group the dropped '^' would make "[=\\c\\]=]" a collating element */
    RELAX("[a[[=\\c\\]=^]]", "[a[[=\\c\\]=(?:)]]");
}

TM_TEST(relax_extended)
{
    RELAX_X("a b # c\n d", "a(?:)b(?:)d");
    RELAX_X("a\\ b [ #]{5} $", "a\\ b(?:)[ #]+$");
    RELAX_X("(?: x ) {2,3} ", "(?:x)+");
    RELAX_X("\\0\n5", "\\x{00}(?:)5");   /* fuzz_relax: "\\05" would be ^E */
    RELAX_X("a\x85" "b", "a(?:)b"); /* fuzz_relax: NEL is /x space in PCRE2 (8-bit) */
    RELAX_X("[[=]#:]]", "[[=]");    /* fuzz_relax: not a POSIX item, so '#' starts a comment */
    RELAX_X("a(?=)? ?b", "a(?:)b");    /* fuzz_relax: the lazy '?' after space goes with its quantifier */
    RELAX_X("a{2,5} +b", "a+(?:)b"); /* possessive after space: dropped, not "a++" */
}

TM_TEST(relax_refuses)
{
    RELAX("\\Qa.b\\E", NULL);
    RELAX("(?(1)a|b)", NULL);
    RELAX("(a(?R))", NULL);
    RELAX("(*UTF)a", NULL);
    RELAX("(?x)a b", NULL);
    RELAX("a(?=b", NULL);
    RELAX("a[b", NULL);
    RELAX("", NULL);
}

/* --- the superset property, checked with PCRE2 ------------------------------ */

struct re2 {
    pcre2_code *orig, *wide;
};

static void
check_unit(const char *file, int line, const char *pat, int ext, const char *want,
           unsigned long want_n)
{
    unsigned long n = 99;
    char *got = tm_re_relax_unit(pat, ext, &n);

    tm_test_str(file, line, pat, got, want, want);
    if (got != NULL && n != want_n)
        tm_test_fail(file, line, "%s: repeat count %lu, want %lu", pat, n, want_n);
    if (got == NULL && n != 0)
        tm_test_fail(file, line, "%s: no unit, yet count %lu", pat, n);
    tm_free(got);
}
#define UNIT(pat, want, n)   check_unit(__FILE__, __LINE__, pat, 0, want, n)
#define UNIT_X(pat, want, n) check_unit(__FILE__, __LINE__, pat, 1, want, n)

TM_TEST(relax_unit)
{
    UNIT("(?:ab){3}", "(?:ab)", 3);
    UNIT("(a|b){2,}", "(a|b)", 2);
    UNIT("(?:a(?=b)c){2,5}", "(?:a(?:)c)", 2);
    UNIT("(?>a{2,9}){4}+", "(?:a+)", 4);
    UNIT("(?:x){2}?", "(?:x)", 2);
    UNIT("(?<n>x\\d){3}", "(x\\d)", 3);
    UNIT("(?P<n>x){2}", "(x)", 2);
    UNIT("(?'n'x){2}", "(x)", 2);
    UNIT("(?<=x){2}", NULL, 0);
    UNIT("(?<*x){2}", NULL, 0);
    UNIT("(?|a|b){2}", NULL, 0);   /* branch reset */
    UNIT("(*ACCEPT){2}", NULL, 0);
    UNIT("(?:ab){1,3}", NULL, 0);  /* one occurrence suffices: no count */
    UNIT("(?:ab)+", NULL, 0);
    UNIT("(?:ab){3}c", NULL, 0);   /* more follows the repeat */
    UNIT("x(?:ab){3}", NULL, 0);
    UNIT("(?:a)(?:b){3}", NULL, 0);
    UNIT("(?=a){3}", NULL, 0);     /* a lookaround, not a group */
    UNIT("(?i:ab){2}", NULL, 0);   /* an option group is left alone */
    UNIT("(?:a\\Q){2}", NULL, 0); /* the group cannot be relaxed */
    UNIT("(?:ab{2}", NULL, 0);     /* unbalanced */
    UNIT_X(" (?: a b ) {2} # end", "(?:a(?:)b)", 2);
    UNIT_X("(?:a) (?#x) {2} ? ", "(?:a)", 2);
}

static void
check_part(const char *file, int line, const char *pat, int ext, size_t k, const char *want,
           size_t want_count)
{
    size_t count = 99;
    char *got = tm_re_relax_part(pat, ext, k, &count);

    tm_test_str(file, line, pat, got, want, want);
    if (count != want_count)
        tm_test_fail(file, line, "%s: %zu items, want %zu", pat, count, want_count);
    tm_free(got);
}
#define PART(pat, k, want, n)   check_part(__FILE__, __LINE__, pat, 0, k, want, n)
#define PART_X(pat, k, want, n) check_part(__FILE__, __LINE__, pat, 1, k, want, n)

TM_TEST(relax_part)
{
    /* (?:^|\s) y o u r \s (?:pass|pswd): 7 items */
    PART("(?:^|\\s)your\\s(?:pass|pswd)", 0, "(?:|\\s)", 7);
    PART("(?:^|\\s)your\\s(?:pass|pswd)", 1, "y", 7);
    PART("(?:^|\\s)your\\s(?:pass|pswd)", 5, "\\s", 7);
    PART("(?:^|\\s)your\\s(?:pass|pswd)", 6, "(?:pass|pswd)", 7);
    PART("(?:^|\\s)your\\s(?:pass|pswd)", 7, NULL, 7);
    PART("a{2,}?[bc]+\\d{1,3}x*", 0, "a+?", 4);
    PART("a{2,}?[bc]+\\d{1,3}x*", 2, "\\d+", 4);
    PART("(\\w+) \\1", 2, "(?:[\\s\\S]*)", 3);
    PART("a(?=b)c", 1, NULL, 3); /* the lookahead relaxes to nothing */
    PART("a(?=b)c", 2, "c", 3);
    PART("^a$", 0, "^", 3);
    PART("^a$", 2, "$", 3);
    PART("\\x41\\0", 1, "\\x{00}", 2);
    PART("ab|cd", 0, NULL, 0);     /* a top-level alternation */
    PART("a(?i)b", 0, NULL, 0);    /* an option setting changes what follows */
    PART("a(?i:b)", 1, NULL, 0);   /* option groups are refused too */
    PART("a(*SKIP)b", 0, NULL, 0);
    PART("a\\Qb\\E", 0, NULL, 0);
    PART("a(b", 0, NULL, 0);
    PART("[\\c]]x", 1, "x", 2);  /* \c] is one escape: the class is [\c]] (fuzz_relax) */
    PART("[\\E]]x", 0, NULL, 0); /* \Q..\E in a class is refused (fuzz_relax) */
    PART_X("a # comment\n (?#c) b {2} + c", 1, "b+", 3); /* {2} widened, possessive + dropped */
}

/* re2_build - both forms; 0 when there is no relaxed form (or, with
 * changed_only, when it is the pattern itself: trivially a superset) */
static int
re2_build(struct re2 *r, const char *pat, uint32_t opts, int changed_only)
{
    int ec;
    PCRE2_SIZE eo;
    char *wide = tm_re_relax(pat, (opts & PCRE2_EXTENDED) != 0);

    r->orig = r->wide = NULL;
    if (wide == NULL || (changed_only && strcmp(wide, pat) == 0)) {
        tm_free(wide);
        return 0;
    }
    r->orig = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
    if (r->orig != NULL)
        r->wide = pcre2_compile((PCRE2_SPTR)wide, PCRE2_ZERO_TERMINATED, opts & ~PCRE2_EXTENDED,
                                &ec, &eo, NULL);
    /* PCRE2 cannot hold some relaxed forms (the /x-less text of a huge rule is
     * "too large"); Hyperscan is what compiles them, and they go unchecked here */
    if (r->orig != NULL && r->wide == NULL && ec != PCRE2_ERROR_PATTERN_TOO_LARGE) {
        PCRE2_UCHAR msg[120];
        size_t from = eo > 60 ? eo - 60 : 0;
        pcre2_get_error_message(ec, msg, sizeof(msg));
        tm_test_fail(__FILE__, __LINE__,
                     "relaxed form of /%.80s/ does not compile: %s at %zu: ...%.120s", pat,
                     (const char *)msg, (size_t)eo, wide + from);
    }
    tm_free(wide);
    if (r->orig == NULL || r->wide == NULL) {
        pcre2_code_free(r->orig);
        pcre2_code_free(r->wide);
        return 0;
    }
    (void)pcre2_jit_compile(r->orig, PCRE2_JIT_COMPLETE);
    (void)pcre2_jit_compile(r->wide, PCRE2_JIT_COMPLETE);
    return 1;
}

static void
re2_free(struct re2 *r)
{
    pcre2_code_free(r->orig);
    pcre2_code_free(r->wide);
}

/* re2_check - 1 when orig does not match or wide matches too */
static int
re2_check(const struct re2 *r, pcre2_match_data *md, pcre2_match_context *mc, const char *s,
          size_t n)
{
    int a = pcre2_match(r->orig, (PCRE2_SPTR)s, n, 0, 0, md, mc);

    if (a < 0)
        return 1; /* no match, or a limit: nothing to check */
    return pcre2_match(r->wide, (PCRE2_SPTR)s, n, 0, 0, md, mc) >= 0;
}

TM_TEST(relax_superset_handpicked)
{
    static const struct {
        const char *pat, *subject;
        uint32_t opts;
    } cases[] = {
        {"^Message-Id:.*?^Received:", "Message-Id: <a@b>\nX: y\nReceived: from x",
         PCRE2_MULTILINE | PCRE2_DOTALL | PCRE2_CASELESS},
        {"^To:\\s+<?[^\\@]+\\@([^\\.]+)\\.(?:[^\\n]+\\n+)*^Subject: \"?\\1\\b",
         "To: <joe@acme.com>\nX: 1\nSubject: acme news\n", PCRE2_MULTILINE | PCRE2_CASELESS},
        {"(\\w+) \\1", "hello hello", 0},
        {"a(?=b)", "ab", 0},
        {"a(?!b)", "ac", 0},
        {"(?<!x)y{2,4}z", "ayyyz", 0},
        {"(?:ab){3}c", "abababc", 0},
        {"x{2,5}+x", "xxxxxx", 0},
        {"(?>a+)b", "aaab", 0},
        {"a$\\n^b", "a\nb", PCRE2_MULTILINE},
        {"foo # comment\n bar", "foobar", PCRE2_EXTENDED},
    };
    pcre2_match_data *md = pcre2_match_data_create(16, NULL);
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct re2 r;
        size_t n = strlen(cases[i].subject);
        REQUIRE(re2_build(&r, cases[i].pat, cases[i].opts, 0));
        /* the subject is chosen so that the original matches */
        CHECK(pcre2_match(r.orig, (PCRE2_SPTR)cases[i].subject, n, 0, 0, md, NULL) >= 0);
        if (!re2_check(&r, md, NULL, cases[i].subject, n))
            tm_test_fail(__FILE__, __LINE__, "/%s/ matches \"%s\", its relaxed form does not",
                         cases[i].pat, cases[i].subject);
        re2_free(&r);
    }
    pcre2_match_data_free(md);
}

/* --- every stock rule over the corpus ------------------------------------- */

#define MAX_FILES_PER_DIR 300
#define MAX_PIECE         8192

struct pieces {
    char **v;
    size_t *len;
    size_t n, cap;
};

static void
pieces_add(struct pieces *ps, const char *s, size_t n)
{
    if (n == 0)
        return;
    if (n > MAX_PIECE)
        n = MAX_PIECE;
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 1024;
        ps->v = realloc(ps->v, ps->cap * sizeof(*ps->v));     /* checksrc: allow */
        ps->len = realloc(ps->len, ps->cap * sizeof(*ps->len)); /* checksrc: allow */
        if (ps->v == NULL || ps->len == NULL)
            abort();
    }
    ps->v[ps->n] = tm_xmalloc(n);
    memcpy(ps->v[ps->n], s, n);
    ps->len[ps->n++] = n;
}

/* split_file - the header section, and each blank-line separated paragraph */
static void
split_file(struct pieces *ps, const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n, i, start = 0;

    if (f == NULL)
        return;
    buf = tm_xmalloc(1 << 20);
    n = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    for (i = 0; i + 1 < n; i++) {
        if (buf[i] == '\n' && buf[i + 1] == '\n') {
            pieces_add(ps, buf + start, i + 1 - start);
            start = i + 2;
        }
    }
    if (start < n)
        pieces_add(ps, buf + start, n - start);
    tm_free(buf);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
read_dir(struct pieces *ps, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char *names[4096];
    size_t n = 0, i;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL && n < 4096)
        if (e->d_name[0] != '.' && strcmp(e->d_name, "cmds") != 0)
            names[n++] = tm_xstrdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_str);
    for (i = 0; i < n; i++) {
        char path[8192];
        if (i < MAX_FILES_PER_DIR &&
            (size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < sizeof(path))
            split_file(ps, path);
        tm_free(names[i]);
    }
}

/*
 * stock_open - the paragraphs of the corpus (TM_TEST_CORPUS) and
 * SpamAssassin's stock rules, PCRE2 limits on mc; 0 when either is missing
 */
static int
stock_open(struct pieces *ps, struct tm_ruleset *rs, pcre2_match_context *mc)
{
    const char *corpus = getenv("TM_TEST_CORPUS");
    const char *paths[1] = {"/usr/share/spamassassin"};
    static const char *const subdirs[] = {"easy_ham", "hard_ham", "spam"};
    size_t i;

    memset(rs, 0, sizeof(*rs));
    for (i = 0; corpus != NULL && i < 3; i++) {
        char dir[4096];
        if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", corpus, subdirs[i]) < sizeof(dir))
            read_dir(ps, dir);
    }
    (void)tm_rules_load(rs, paths, 1);
    pcre2_set_match_limit(mc, 100000);
    pcre2_set_depth_limit(mc, 5000);
    if (ps->n <= 1000 || rs->n <= 1000)
        fprintf(stderr, "# corpus pieces %zu (TM_TEST_CORPUS %s), stock rules %zu: too few\n",
                ps->n, corpus ? corpus : "unset", rs->n);
    return ps->n > 1000 && rs->n > 1000;
}

static void
stock_close(struct pieces *ps, struct tm_ruleset *rs, pcre2_match_data *md,
            pcre2_match_context *mc)
{
    size_t k;

    for (k = 0; k < ps->n; k++)
        tm_free(ps->v[k]);
    free(ps->v);   /* checksrc: allow */
    free(ps->len); /* checksrc: allow */
    tm_rules_free(rs);
    pcre2_match_data_free(md);
    pcre2_match_context_free(mc);
}

/* pcre_opts - PCRE2 options of a rule's regex flags */
static uint32_t
pcre_opts(const struct tm_rule *r)
{
    return ((r->re_flags & TM_RE_I) ? PCRE2_CASELESS : 0) |
           ((r->re_flags & TM_RE_M) ? PCRE2_MULTILINE : 0) |
           ((r->re_flags & TM_RE_S) ? PCRE2_DOTALL : 0) |
           ((r->re_flags & TM_RE_X) ? PCRE2_EXTENDED : 0);
}

TM_TEST(relax_superset_stock)
{
    struct tm_ruleset rs;
    struct pieces ps = {0};
    pcre2_match_data *md = pcre2_match_data_create(16, NULL);
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    size_t i, k, relaxed = 0, hits = 0;

    REQUIRE(stock_open(&ps, &rs, mc));
    for (i = 0; i < rs.n; i++) {
        const struct tm_rule *r = &rs.rules[i];
        uint32_t opts = 0;
        struct re2 re;
        if (r->pattern == NULL || r->unsupported || r->type == TM_RULE_META)
            continue;
        opts = pcre_opts(r);
        if (!re2_build(&re, r->pattern, opts, 1))
            continue;
        relaxed++;
        for (k = 0; k < ps.n; k++) {
            int a = pcre2_match(re.orig, (PCRE2_SPTR)ps.v[k], ps.len[k], 0, 0, md, mc);
            if (a < 0)
                continue;
            hits++;
            if (pcre2_match(re.wide, (PCRE2_SPTR)ps.v[k], ps.len[k], 0, 0, md, mc) < 0)
                tm_test_fail(__FILE__, __LINE__,
                             "%s: the regex matches piece %zu, its relaxed form does not",
                             r->name, k);
        }
        re2_free(&re);
    }
    printf("# %zu regexes with a different relaxed form, %zu pieces, %zu matches of the originals checked\n", relaxed,
           ps.n, hits);
    CHECK(relaxed > 100);
    CHECK(hits > 100);
    stock_close(&ps, &rs, md, mc);
}

/* --- one-item gates of the large stock rules over the corpus -------------------- */

TM_TEST(relax_part_stock)
{
    struct tm_ruleset rs;
    struct pieces ps = {0};
    pcre2_match_data *md = pcre2_match_data_create(16, NULL);
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    size_t i, k, j, parts = 0, hits = 0;

    REQUIRE(stock_open(&ps, &rs, mc));
    for (i = 0; i < rs.n; i++) {
        const struct tm_rule *r = &rs.rules[i];
        uint32_t opts = 0;
        size_t count = 0;
        pcre2_code *orig, **wide;
        int ec;
        PCRE2_SIZE eo;
        /* the regexes large enough for match.c to look for a one-item gate */
        if (r->pattern == NULL || r->unsupported || r->type == TM_RULE_META ||
            strlen(r->pattern) < 2000)
            continue;
        tm_free(tm_re_relax_part(r->pattern, (r->re_flags & TM_RE_X) != 0, SIZE_MAX, &count));
        if (count == 0)
            continue;
        opts = pcre_opts(r);
        orig = pcre2_compile((PCRE2_SPTR)r->pattern, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
        opts &= ~(uint32_t)PCRE2_EXTENDED; /* the relaxed items are not /x */
        if (orig == NULL)
            continue;
        (void)pcre2_jit_compile(orig, PCRE2_JIT_COMPLETE);
        wide = tm_xcalloc(count, sizeof(*wide));
        for (j = 0; j < count; j++) {
            char *g = tm_re_relax_part(r->pattern, (r->re_flags & TM_RE_X) != 0, j, &count);
            if (g != NULL)
                wide[j] = pcre2_compile((PCRE2_SPTR)g, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
            if (wide[j] != NULL) {
                (void)pcre2_jit_compile(wide[j], PCRE2_JIT_COMPLETE);
                parts++;
            }
            tm_free(g);
        }
        for (k = 0; k < ps.n; k++) {
            if (pcre2_match(orig, (PCRE2_SPTR)ps.v[k], ps.len[k], 0, 0, md, mc) < 0)
                continue;
            hits++;
            for (j = 0; j < count; j++)
                if (wide[j] != NULL &&
                    pcre2_match(wide[j], (PCRE2_SPTR)ps.v[k], ps.len[k], 0, 0, md, mc) < 0)
                    tm_test_fail(__FILE__, __LINE__,
                                 "%s: the regex matches piece %zu, its item %zu does not", r->name,
                                 k, j);
        }
        for (j = 0; j < count; j++)
            pcre2_code_free(wide[j]);
        tm_free(wide);
        pcre2_code_free(orig);
    }
    printf("# %zu items of regexes of 2000+ bytes; %zu matches of the originals checked\n", parts,
           hits);
    CHECK(parts > 50);
    CHECK(hits > 10);
    stock_close(&ps, &rs, md, mc);
}

/* --- counted gates of the stock rules over the corpus ------------------------ */

struct ends {
    unsigned long long last;
    unsigned long n;
};

static int
on_end(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
       void *ctx)
{
    struct ends *e = ctx;

    (void)id;
    (void)from;
    (void)flags;
    if (e->n == 0 || to != e->last)
        e->n++;
    e->last = to;
    return 0;
}

TM_TEST(relax_unit_stock)
{
    struct tm_ruleset rs;
    struct pieces ps = {0};
    pcre2_match_data *md = pcre2_match_data_create(16, NULL);
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    size_t i, k, units = 0, hits = 0, gated = 0;

    REQUIRE(stock_open(&ps, &rs, mc));
    for (i = 0; i < rs.n; i++) {
        const struct tm_rule *r = &rs.rules[i];
        unsigned long need = 0;
        unsigned hf = HS_FLAG_ALLOWEMPTY;
        uint32_t opts = 0;
        char *gate;
        hs_database_t *db = NULL;
        hs_scratch_t *hs = NULL;
        hs_compile_error_t *cerr = NULL;
        pcre2_code *orig;
        int ec;
        PCRE2_SIZE eo;
        if (r->pattern == NULL || r->unsupported || r->type == TM_RULE_META)
            continue;
        gate = tm_re_relax_unit(r->pattern, (r->re_flags & TM_RE_X) != 0, &need);
        if (gate == NULL)
            continue;
        opts = pcre_opts(r);
        hf |= (r->re_flags & TM_RE_I) ? HS_FLAG_CASELESS : 0;
        hf |= (r->re_flags & TM_RE_M) ? HS_FLAG_MULTILINE : 0;
        hf |= (r->re_flags & TM_RE_S) ? HS_FLAG_DOTALL : 0;
        /* as match.c compiles it: exactly when Hyperscan can, else as a prefilter */
        if (hs_compile(gate, hf, HS_MODE_BLOCK, NULL, &db, &cerr) != HS_SUCCESS) {
            hs_free_compile_error(cerr);
            cerr = NULL;
            if (hs_compile(gate, hf | HS_FLAG_PREFILTER, HS_MODE_BLOCK, NULL, &db, &cerr) !=
                HS_SUCCESS) {
                hs_free_compile_error(cerr);
                tm_free(gate);
                continue;
            }
        }
        orig = pcre2_compile((PCRE2_SPTR)r->pattern, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
        REQUIRE(hs_alloc_scratch(db, &hs) == HS_SUCCESS);
        units++;
        if (orig != NULL)
            (void)pcre2_jit_compile(orig, PCRE2_JIT_COMPLETE);
        for (k = 0; orig != NULL && k < ps.n; k++) {
            struct ends e = {0, 0};
            CHECK(hs_scan(db, ps.v[k], (unsigned)ps.len[k], 0, hs, on_end, &e) == HS_SUCCESS);
            if (e.n < need)
                gated++;
            if (pcre2_match(orig, (PCRE2_SPTR)ps.v[k], ps.len[k], 0, 0, md, mc) < 0)
                continue;
            hits++;
            if (e.n < need)
                tm_test_fail(__FILE__, __LINE__,
                             "%s: the regex matches piece %zu, its counted gate saw %lu of %lu ends",
                             r->name, k, e.n, need);
        }
        pcre2_code_free(orig);
        hs_free_scratch(hs);
        hs_free_database(db);
        tm_free(gate);
    }
    printf("# %zu counted gates; %zu matches of the originals checked, %zu pieces gated out\n", units,
           hits, gated);
    CHECK(units >= 2); /* __FILL_THIS_FORM_SHORT1 and SHORT2 */
    CHECK(hits > 0);
    CHECK(gated > 1000);
    stock_close(&ps, &rs, md, mc);
}

const struct tm_test tests_relax[] = {
    TM_TEST_ENTRY(relax_anchors),
    TM_TEST_ENTRY(relax_lookarounds),
    TM_TEST_ENTRY(relax_backrefs),
    TM_TEST_ENTRY(relax_repeats),
    TM_TEST_ENTRY(relax_groups_and_classes),
    TM_TEST_ENTRY(relax_extended),
    TM_TEST_ENTRY(relax_refuses),
    TM_TEST_ENTRY(relax_superset_handpicked),
    TM_TEST_ENTRY(relax_superset_stock),
    TM_TEST_ENTRY(relax_unit),
    TM_TEST_ENTRY(relax_unit_stock),
    TM_TEST_ENTRY(relax_part),
    TM_TEST_ENTRY(relax_part_stock),
    TM_TEST_END,
};
