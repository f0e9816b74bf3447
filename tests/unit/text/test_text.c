/*
 * test_text.c - scanner/text against SpamAssassin goldens.
 *
 * tests/data/text holds messages (*.eml) and what SpamAssassin 4.0.1 gives
 * for them (*.exp, made by sa_targets.pl; see PROVENANCE.md). text_golden
 * computes every target with Tamis and compares it byte for byte: body and
 * rawbody pieces in order, the uri set (sorted, duplicates dropped), and each
 * header spec of text_specs.h with its present flag. Pairs listed in
 * KNOWN_DIFFS are skipped (and reported if they start to agree). The other
 * tests pin single behaviours and the limits.
 */
#include "harness.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/task.h"
#include "mime/mime.h"
#include "suites.h"
#include "text/text.h"
#include "url/collect.h"
#include "text_specs.h"

#ifndef TM_TEXT_DATA_DIR
#define TM_TEXT_DATA_DIR "tests/data/text"
#endif

/* slurp - a whole file in a heap buffer (NUL-terminated), or NULL */
static unsigned char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (b = malloc((size_t)n + 1)) != NULL) {
        *len = fread(b, 1, (size_t)n, f);
        b[*len] = '\0';
    }
    fclose(f);
    return b;
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* unhex - decode a golden string in place ("-" is the empty string); returns its length */
static size_t
unhex(char *s)
{
    size_t i, n = strlen(s);

    if (strcmp(s, "-") == 0)
        return 0;
    for (i = 0; i + 1 < n; i += 2)
        s[i / 2] = (char)(hexval(s[i]) << 4 | hexval(s[i + 1]));
    return n / 2;
}

struct expect {
    char *buf;    /* the .exp file, split into lines in place */
    char **lines; /* the records */
    size_t n;
};

static int
load_expect(const char *path, struct expect *e)
{
    size_t len, cap = 64, i;
    char *p;

    memset(e, 0, sizeof(*e));
    if ((e->buf = (char *)slurp(path, &len)) == NULL)
        return 0;
    if ((e->lines = malloc(cap * sizeof(*e->lines))) == NULL)
        return 0;
    for (p = e->buf, i = 0; i < len; i++) {
        if (e->buf[i] != '\n')
            continue;
        e->buf[i] = '\0';
        if (e->n == cap) {
            char **nl = realloc(e->lines, cap * 2 * sizeof(*nl));
            if (nl == NULL)
                return 0;
            e->lines = nl;
            cap *= 2;
        }
        e->lines[e->n++] = p;
        p = e->buf + i + 1;
    }
    return 1;
}

/* known - the pair (message, target) is listed in KNOWN_DIFFS */
static int
known(const char *kd, const char *msg, const char *target)
{
    char key[256];
    const char *p;
    size_t k;

    snprintf(key, sizeof(key), "%s %s ", msg, target);
    k = strlen(key);
    for (p = kd; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, key, k) == 0)
            return 1;
    return 0;
}

/* expected_list - the decoded strings of records starting with `tag ` */
static size_t
expected_list(struct expect *e, const char *tag, struct tm_str *out, size_t max)
{
    size_t i, n = 0, k = strlen(tag);

    for (i = 0; i < e->n && n < max; i++) {
        char *l = e->lines[i];
        if (strncmp(l, tag, k) == 0 && l[k] == ' ') {
            size_t len = unhex(l + k + 1);
            out[n++] = tm_str_make(l + k + 1, len);
        }
    }
    return n;
}

static int
cmp_str(const void *a, const void *b)
{
    const struct tm_str *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->p, y->p, n) : 0;

    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* same_list - two piece lists equal, piece by piece */
static int
same_list(const struct tm_str *a, size_t na, const struct tm_str *b, size_t nb)
{
    size_t i;

    if (na != nb)
        return 0;
    for (i = 0; i < na; i++)
        if (a[i].len != b[i].len || (a[i].len && memcmp(a[i].p, b[i].p, a[i].len) != 0))
            return 0;
    return 1;
}

/* subset_list - every view of b (sorted, unique) is in a (sorted, unique) */
static int
subset_list(const struct tm_str *a, size_t na, const struct tm_str *b, size_t nb)
{
    size_t i = 0, j;

    for (j = 0; j < nb; j++) {
        while (i < na && cmp_str(&a[i], &b[j]) < 0)
            i++;
        if (i == na || cmp_str(&a[i], &b[j]) != 0)
            return 0;
    }
    return 1;
}

/* uniq - sort and drop duplicates; returns the new count */
static size_t
uniq(struct tm_str *v, size_t n)
{
    size_t i, k = 0;

    qsort(v, n, sizeof(*v), cmp_str);
    for (i = 0; i < n; i++)
        if (k == 0 || cmp_str(&v[k - 1], &v[i]) != 0)
            v[k++] = v[i];
    return k;
}

struct tally {
    unsigned checked, agreed, known_ok;
};

/* verdict - record one comparison; fails the test unless known */
static void
verdict(struct tally *ty, const char *kd, const char *msg, const char *target, int same)
{
    int k = known(kd, msg, target);

    ty->checked++;
    if (same) {
        ty->agreed++;
        if (k) {
            ty->known_ok++;
            printf("  note: %s %s now agrees; drop it from KNOWN_DIFFS\n", msg, target);
        }
    } else if (!k) {
        tm_test_fail(__FILE__, __LINE__, "%s: %s differs from SpamAssassin (text_dump -t)", msg,
                     target);
    }
}

/* check_message - every target of one golden pair */
static void
check_message(struct tm_engine *eng, const char *dir, const char *base, const char *kd,
              struct tally *ty)
{
    char path[1024], target[128];
    struct expect e;
    struct tm_task *t;
    const struct tm_textset *ts;
    struct tm_str *exp;
    unsigned char *msg;
    size_t len, n, i;

    snprintf(path, sizeof(path), "%s/%s.exp", dir, base);
    if (!load_expect(path, &e)) {
        tm_test_fail(__FILE__, __LINE__, "%s: cannot read", path);
        return;
    }
    snprintf(path, sizeof(path), "%s/%s.eml", dir, base);
    msg = slurp(path, &len);
    exp = malloc((e.n + 1) * sizeof(*exp));
    t = tm_task_new(eng);
    if (msg == NULL || exp == NULL || t == NULL) {
        tm_test_fail(__FILE__, __LINE__, "%s: cannot set up", path);
        goto out;
    }
    (void)tm_mime_parse(t, msg, len);
    n = expected_list(&e, "body", exp, e.n);
    CHECK_EQ_INT(tm_text_body(t, &ts), TM_OK);
    verdict(ty, kd, base, "body", same_list(ts->v, ts->n, exp, n));
    n = expected_list(&e, "rawbody", exp, e.n);
    CHECK_EQ_INT(tm_text_rawbody(t, &ts), TM_OK);
    verdict(ty, kd, base, "rawbody", same_list(ts->v, ts->n, exp, n));
    /* uri (scanner/url): every URL SpamAssassin lists is among the pieces
       Tamis's uri rules see, which add each URL's normal form */
    n = uniq(exp, expected_list(&e, "uri", exp, e.n));
    CHECK_EQ_INT(tm_url_uri_target(t, &ts), TM_OK);
    {
        struct tm_str *got = malloc((ts->n + 1) * sizeof(*got));
        if (got != NULL) {
            if (ts->n > 0)
                memcpy(got, ts->v, ts->n * sizeof(*got));
            verdict(ty, kd, base, "uri", subset_list(got, uniq(got, ts->n), exp, n));
            free(got);
        }
    }
    for (i = 0; i < TM_TEXT_NSPECS; i++) {
        const struct tm_text_spec *sp = &tm_text_specs[i];
        struct tm_str out, want = TM_STR_NULL;
        int present = 0, wpresent = 0;
        char tag[96];
        size_t j, k;
        snprintf(tag, sizeof(tag), "hdr %s ", sp->spec);
        k = strlen(tag);
        for (j = 0; j < e.n; j++) {
            if (strncmp(e.lines[j], tag, k) == 0) {
                wpresent = e.lines[j][k] == '1';
                want = tm_str_make(e.lines[j] + k + 2, unhex(e.lines[j] + k + 2));
            }
        }
        CHECK_EQ_INT(
            tm_text_header(t, sp->kind, &sp->name, sp->name ? 1 : 0, sp->mods, &out, &present),
            TM_OK);
        snprintf(target, sizeof(target), "hdr:%s", sp->spec);
        verdict(ty, kd, base, target,
                present == wpresent && (!present || same_list(&out, 1, &want, 1)));
    }
out:
    if (t != NULL)
        tm_task_free(t);
    free(msg);
    free(exp);
    free(e.lines);
    free(e.buf);
}

TM_TEST(text_golden)
{
    struct tm_limits lim = tm_limits_default();
    struct tm_engine *eng = tm_engine_new_bare(&lim);
    struct tally ty = {0, 0, 0};
    char path[1024];
    unsigned char *kd;
    struct dirent *de;
    DIR *d;
    size_t len = 0;
    unsigned nmsg = 0;

    snprintf(path, sizeof(path), "%s/KNOWN_DIFFS", TM_TEXT_DATA_DIR);
    kd = slurp(path, &len);
    REQUIRE(eng != NULL);
    REQUIRE((d = opendir(TM_TEXT_DATA_DIR)) != NULL);
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        char base[512];
        if (n < 5 || n >= sizeof(base) || strcmp(de->d_name + n - 4, ".eml") != 0)
            continue;
        memcpy(base, de->d_name, n - 4);
        base[n - 4] = '\0';
        check_message(eng, TM_TEXT_DATA_DIR, base, kd ? (const char *)kd : "", &ty);
        nmsg++;
    }
    closedir(d);
    printf("  %u messages, %u of %u target comparisons agree with SpamAssassin\n", nmsg, ty.agreed,
           ty.checked);
    CHECK(nmsg >= 50);
    free(kd);
    tm_engine_unref(eng);
}

/* one_body - the body target of a literal message */
static const struct tm_textset *
one_body(struct tm_task *t, const char *m)
{
    const struct tm_textset *ts = NULL;

    (void)tm_mime_parse(t, (const unsigned char *)m, strlen(m));
    if (tm_text_body(t, &ts) != TM_OK)
        return NULL;
    return ts;
}

TM_TEST(text_body_subject_and_paragraphs)
{
    struct tm_limits lim = tm_limits_default();
    struct tm_engine *eng = tm_engine_new_bare(&lim);
    struct tm_task *t = tm_task_new(eng);
    const struct tm_textset *ts;

    REQUIRE(t != NULL);
    ts = one_body(t, "Subject: Hi  there\n\na\tb \n c\n\n \n d\n");
    REQUIRE(ts != NULL);
    REQUIRE(ts->n == 3);
    CHECK_MEM(ts->v[0].p, ts->v[0].len, "Hi  there\n", 10); /* the Subject is not folded */
    CHECK_MEM(ts->v[1].p, ts->v[1].len, "a b c\n", 6);
    CHECK_MEM(ts->v[2].p, ts->v[2].len, " d ", 3);
    tm_task_free(t);
    tm_engine_unref(eng);
}

TM_TEST(text_body_no_subject_html)
{
    struct tm_limits lim = tm_limits_default();
    struct tm_engine *eng = tm_engine_new_bare(&lim);
    struct tm_task *t = tm_task_new(eng);
    const struct tm_textset *ts;

    REQUIRE(t != NULL);
    ts = one_body(t, "Content-Type: text/html\n\n<p>x &amp; y<script>no</script><br>z</p>\n");
    REQUIRE(ts != NULL);
    REQUIRE(ts->n == 3);
    CHECK_MEM(ts->v[0].p, ts->v[0].len, "\n", 1);
    CHECK_MEM(ts->v[1].p, ts->v[1].len, "\n", 1);
    CHECK_MEM(ts->v[2].p, ts->v[2].len, "x & y z\n", 8);
    tm_task_free(t);
    tm_engine_unref(eng);
}

/*
 * An HTML part without a charset parameter is read in the charset its
 * <meta> declares: windows-1251 bytes E0 E1 E2 are U+0430 U+0431 U+0432
 * (Cyrillic a, be, ve), D0 B0 D0 B1 D0 B2 in UTF-8 (hand-checked against the
 * code page table).
 */
TM_TEST(text_body_html_meta_charset)
{
    struct tm_limits lim = tm_limits_default();
    struct tm_engine *eng = tm_engine_new_bare(&lim);
    struct tm_task *t = tm_task_new(eng);
    const struct tm_textset *ts;
    size_t i;
    int found = 0;

    REQUIRE(t != NULL);
    ts = one_body(t, "Content-Type: text/html\nContent-Transfer-Encoding: 8bit\n\n"
                     "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
                     "charset=windows-1251\"></head><body><p>x \xE0\xE1\xE2 y</p></body></html>\n");
    REQUIRE(ts != NULL);
    for (i = 0; i < ts->n; i++)
        if (ts->v[i].len >= 10 &&
            memcmp(ts->v[i].p, "x \xD0\xB0\xD0\xB1\xD0\xB2 y", 10) == 0)
            found = 1;
    CHECK(found);
    tm_task_free(t);
    tm_engine_unref(eng);
}

TM_TEST(text_limits_clip)
{
    struct tm_limits lim = tm_limits_default();
    struct tm_engine *eng;
    struct tm_task *t;
    const struct tm_textset *ts;
    char m[6000];
    size_t i;

    lim.text_max_pieces = 16;
    lim.text_max_uris = 2;
    eng = tm_engine_new_bare(&lim);
    REQUIRE(eng != NULL && (t = tm_task_new(eng)) != NULL);
    memcpy(m, "Subject: s\n\n", 12);
    for (i = 12; i + 30 < sizeof(m); i += 29) {
        memcpy(m + i, "http://e.example/ x\n\n\n\n\n\n\n\n\n\n", 29);
        m[i + 7] = (char)('a' + i % 26); /* distinct hosts: ?.example */
    }
    m[i] = '\0';
    ts = one_body(t, m);
    REQUIRE(ts != NULL);
    CHECK_LE_SIZE(ts->n, 16);
    CHECK_EQ_INT(tm_url_uri_target(t, &ts), TM_OK);
    CHECK_LE_SIZE(ts->n, 2 * 2); /* two URLs, each as written and normalised */
    CHECK(t->findings[TM_F_URL_LIMIT_COUNT] > 0);
    tm_task_free(t);
    tm_engine_unref(eng);
}

const struct tm_test tests_text[] = {
    TM_TEST_ENTRY(text_golden), TM_TEST_ENTRY(text_body_subject_and_paragraphs),
    TM_TEST_ENTRY(text_body_no_subject_html), TM_TEST_ENTRY(text_body_html_meta_charset),
    TM_TEST_ENTRY(text_limits_clip), TM_TEST_END};
