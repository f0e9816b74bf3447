/*
 * test_mime.c - whole messages through tm_mime_parse (mime/mime.h): the part
 * tree, body boundaries, defaults, findings, and every MIME limit driven with
 * deliberately small values so the limit paths run.
 *
 * Conventions checked here (mime.h, tests/diff/README.md): the root's path is
 * "1" and the i-th child of P is "P.i"; a message/rfc822 part's inner message
 * is its only child. Body boundaries follow RFC 2046 5.1.1: the line break
 * before a delimiter line belongs to the delimiter, so "a\r\n--b" gives the
 * body "a"; a non-multipart body runs from after the blank line to EOF.
 *
 * After every parse the tree is checked twice: by our own walk (parents,
 * depths, child counts, nparts) and by tm_mime_assert_invariants().
 */
#include "harness.h"
#include "suites.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/arena.h"
#include "core/findings.h"
#include "core/limits.h"
#include "core/str.h"
#include "core/task.h"
#include "mime/mime.h"
#include "mime/params.h"

struct fx {
    struct tm_engine *eng;
    struct tm_task *task;
    struct tm_mime_msg *msg;
    tm_rc rc;
};

/* fx_parse - engine, task and parse; 0 when there is no tree to look at */
static int
fx_parse(struct fx *f, const struct tm_limits *lim, const void *p, size_t len)
{
    memset(f, 0, sizeof(*f));
    if ((f->eng = tm_engine_new_bare(lim)) == NULL) {
        printf("    tm_engine_new_bare failed\n");
        return 0;
    }
    if ((f->task = tm_task_new(f->eng)) == NULL) {
        printf("    tm_task_new failed\n");
        return 0;
    }
    f->rc = tm_mime_parse(f->task, (const unsigned char *)p, len);
    f->msg = f->task->msg;
    if (f->msg == NULL || f->msg->root == NULL) {
        printf("    no message tree (rc %d)\n", (int)f->rc);
        return 0;
    }
    tm_mime_assert_invariants(f->task);
    return 1;
}

static void
fx_done(struct fx *f)
{
    if (f->task != NULL)
        tm_task_free(f->task);
    if (f->eng != NULL)
        tm_engine_unref(f->eng);
    memset(f, 0, sizeof(*f));
}

/* tree_ok - our own walk: links, depths, counts; prints the first problem */
static int
tree_ok(const struct tm_mime_msg *m)
{
    const struct tm_mime_part *p, *c;
    unsigned n, maxd = 0;
    size_t count = 0;

    if (m->root->parent != NULL || m->root->depth != 0) {
        printf("    root has a parent or depth %u\n", m->root->depth);
        return 0;
    }
    for (p = m->root; p != NULL; p = tm_mime_next(p)) {
        if (++count > m->nparts + 1000) {
            printf("    tm_mime_next does not end\n");
            return 0;
        }
        if (p->depth > maxd)
            maxd = p->depth;
        n = 0;
        for (c = p->first_child; c != NULL; c = c->next) {
            if (c->parent != p || c->depth != p->depth + 1) {
                printf("    child of depth %u has a bad parent or depth %u\n", p->depth, c->depth);
                return 0;
            }
            if (c->next == NULL && c != p->last_child) {
                printf("    last_child is not the last child\n");
                return 0;
            }
            n++;
        }
        if (n != p->nchildren) {
            printf("    nchildren %u but %u children linked\n", p->nchildren, n);
            return 0;
        }
    }
    if (count != m->nparts) {
        printf("    nparts %zu but the walk saw %zu\n", m->nparts, count);
        return 0;
    }
    if (maxd > m->max_depth_seen) {
        printf("    max_depth_seen %u but a part has depth %u\n", m->max_depth_seen, maxd);
        return 0;
    }
    return 1;
}

/* Parse into f with limits lim; stop the test when there is no tree. */
#define PARSE_LIM(f, lim, p, len)                    \
    do {                                             \
        REQUIRE(fx_parse(&(f), &(lim), (p), (len))); \
        CHECK_EQ_INT((f).rc, TM_OK);                 \
        CHECK(tree_ok((f).msg));                     \
    } while (0)

#define PARSE(f, lit)                                 \
    do {                                              \
        struct tm_limits tm_l_ = tm_limits_default(); \
        PARSE_LIM(f, tm_l_, (lit), sizeof(lit) - 1);  \
    } while (0)

/* tree_str - "1:type 1.1:type ..." in pre-order */
static const char *
tree_str(const struct tm_mime_msg *m)
{
    static char s[4096];
    char path[256];
    const struct tm_mime_part *p;
    size_t n = 0;

    s[0] = '\0';
    for (p = m->root; p != NULL && n < sizeof(s) - 1; p = tm_mime_next(p)) {
        int w;

        tm_mime_part_path(p, path, sizeof(path));
        w = snprintf(s + n, sizeof(s) - n, "%s%s:%s", n ? " " : "", path,
                     p->content_type ? p->content_type : "(null)");
        if (w < 0)
            break;
        n += (size_t)w;
    }
    return s;
}

/* part_at - the part whose path is `want`, or NULL */
static const struct tm_mime_part *
part_at(const struct tm_mime_msg *m, const char *want)
{
    const struct tm_mime_part *p;
    char path[256];

    for (p = m->root; p != NULL; p = tm_mime_next(p)) {
        tm_mime_part_path(p, path, sizeof(path));
        if (strcmp(path, want) == 0)
            return p;
    }
    return NULL;
}

/* no_findings - 1 when nothing was recorded; else prints the names */
static int
no_findings(const struct tm_task *t)
{
    int ok = 1;
    size_t i;

    for (i = 0; i < TM_F__COUNT; i++) {
        if (t->findings[i] != 0) {
            printf("    finding %s x%u\n", tm_finding_name((enum tm_finding)i),
                   (unsigned)t->findings[i]);
            ok = 0;
        }
    }
    return ok;
}

/* hdr_value - trimmed raw value of the first header `name`, as a view */
static struct tm_str
hdr_value(const struct tm_mime_part *p, const char *name)
{
    const struct tm_mime_header *h = tm_mime_header_find(p, name, 0);

    return h ? tm_str_trim(h->value) : TM_STR_NULL;
}

#define CHECK_FINDING(f, name)    CHECK((f).task->findings[TM_F_##name] > 0)
#define CHECK_NO_FINDING(f, name) CHECK_EQ_INT((f).task->findings[TM_F_##name], 0)

/* check_part_mem - CHECK_MEM on a part's body (decoded = 0) or decoded bytes */
static void
check_part_mem(const char *file, int line, const struct tm_mime_part *p, int decoded,
               const char *exp, size_t explen)
{
    if (p == NULL) {
        tm_test_fail(file, line, "part is NULL");
        return;
    }
    if (decoded)
        (void)tm_test_mem(file, line, "decoded", p->decoded, p->decoded_len, "expected", exp,
                          explen);
    else
        (void)tm_test_mem(file, line, "body", p->body.p, p->body.len, "expected", exp, explen);
}

#define CHECK_BODY(part, lit) check_part_mem(__FILE__, __LINE__, (part), 0, (lit), sizeof(lit) - 1)
#define CHECK_DECODED(part, lit) \
    check_part_mem(__FILE__, __LINE__, (part), 1, (lit), sizeof(lit) - 1)
#define CHECK_HDR(part, name, lit)                             \
    do {                                                       \
        struct tm_str tm_v_ = hdr_value((part), (name));       \
        CHECK_MEM(tm_v_.p, tm_v_.len, (lit), sizeof(lit) - 1); \
    } while (0)

/* A growable message builder for generated inputs (freed by the test). */
struct gen {
    char *p;
    size_t len, cap;
};

static void
put(struct gen *g, const char *s)
{
    size_t n = strlen(s);

    if (g->len + n + 1 > g->cap) {
        size_t cap = g->cap ? g->cap : 4096;
        char *np;

        while (cap < g->len + n + 1)
            cap *= 2;
        if ((np = realloc(g->p, cap)) == NULL) {
            printf("    out of memory building a test message\n");
            exit(2);
        }
        g->p = np;
        g->cap = cap;
    }
    memcpy(g->p + g->len, s, n + 1);
    g->len += n;
}

/* eol_convert - copy s, turning each LF into `eol` */
static void
eol_convert(struct gen *g, const char *s, const char *eol)
{
    char one[2] = {0, 0};

    for (; *s; s++) {
        if (*s == '\n') {
            put(g, eol);
        } else {
            one[0] = *s;
            put(g, one);
        }
    }
}

/* ---- single part ----------------------------------------------------- */

/*
 * RFC 2045 5.2 and 6.1: no Content-Type means text/plain (us-ascii), no
 * Content-Transfer-Encoding means 7bit. The body is everything after the
 * blank line up to EOF, its final CRLF included.
 */
TM_TEST(mime_single_part)
{
    static const char m[] = "From: a@example.com\r\n"
                            "To: b@example.com\r\n"
                            "Subject: hello\r\n"
                            "\r\n"
                            "Hello\r\n"
                            "World\r\n";
    const struct tm_mime_part *r;
    char path[16];
    struct fx f;

    PARSE(f, m);
    r = f.msg->root;
    CHECK_EQ_SIZE(f.msg->nparts, 1);
    CHECK_EQ_SIZE(f.msg->raw.len, sizeof(m) - 1);
    CHECK_EQ_SIZE(f.msg->envelope_from.len, 0);
    CHECK(!r->is_multipart && !r->is_message);
    CHECK(r->first_child == NULL);
    CHECK_STR(r->content_type, "text/plain");
    CHECK(r->ct_defaulted);
    CHECK_EQ_INT(r->cte, TM_CTE_7BIT);
    tm_mime_part_path(r, path, sizeof(path));
    CHECK_STR(path, "1");
    REQUIRE(r->nhdrs == 3);
    CHECK_MEM(r->hdrs[0].name.p, r->hdrs[0].name.len, "From", 4);
    CHECK_MEM(r->hdrs[2].name.p, r->hdrs[2].name.len, "Subject", 7);
    /* mime.h: raw value after the colon, final EOL dropped */
    CHECK(r->hdrs[2].value.len > 0 && r->hdrs[2].value.p[r->hdrs[2].value.len - 1] == 'o');
    CHECK_HDR(r, "subject", "hello");
    CHECK(tm_mime_header_find(r, "SUBJECT", 0) == &r->hdrs[2]);
    CHECK(tm_mime_header_find(r, "subject", 1) == NULL);
    CHECK(tm_mime_header_find(r, "x-missing", 0) == NULL);
    CHECK(r->header_block.p == (const unsigned char *)m);
    CHECK(r->header_block.len >=
          sizeof("From: a@example.com\r\nTo: b@example.com\r\nSubject: hello") - 1);
    CHECK(r->header_block.len <=
          sizeof("From: a@example.com\r\nTo: b@example.com\r\nSubject: hello\r\n\r\n") - 1);
    CHECK_BODY(r, "Hello\r\nWorld\r\n");
    CHECK_DECODED(r, "Hello\r\nWorld\r\n");
    CHECK(no_findings(f.task));
    fx_done(&f);
}

TM_TEST(mime_single_part_body_edges)
{
    struct fx f;

    PARSE(f, "Subject: x\r\n\r\nline1\r\nline2");
    CHECK_BODY(f.msg->root, "line1\r\nline2");
    fx_done(&f);
    PARSE(f, "Subject: x\r\n\r\n");
    CHECK_EQ_SIZE(f.msg->root->body.len, 0);
    fx_done(&f);
    PARSE(f, "Subject: x\r\n");
    CHECK_EQ_SIZE(f.msg->root->body.len, 0);
    CHECK_HDR(f.msg->root, "subject", "x");
    fx_done(&f);
    PARSE(f, "Subject: x"); /* header without EOL at EOF */
    CHECK_HDR(f.msg->root, "subject", "x");
    fx_done(&f);
}

/* FIPS 180-2 appendix B.1: SHA-256("abc") of the decoded leaf. */
TM_TEST(mime_leaf_sha256)
{
    static const unsigned char exp[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
        0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
        0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
    };
    struct fx f;

    PARSE(f, "Subject: x\r\n\r\nabc");
    CHECK_DECODED(f.msg->root, "abc");
    CHECK_MEM(f.msg->root->sha256, 32, exp, 32);
    fx_done(&f);
    /* the same bytes base64-encoded ("YWJj", RFC 4648 alphabet) hash the same */
    PARSE(f, "Subject: x\r\nContent-Transfer-Encoding: base64\r\n\r\nYWJj\r\n");
    CHECK_DECODED(f.msg->root, "abc");
    CHECK_MEM(f.msg->root->sha256, 32, exp, 32);
    fx_done(&f);
}

/* ---- multipart ------------------------------------------------------- */

/*
 * RFC 2046 5.1.1, its example message. By the grammar there,
 *   multipart-body := [preamble CRLF] dash-boundary ... close-delimiter
 *                     transport-padding [CRLF epilogue]
 * the preamble ends before the CRLF that precedes "--simple boundary", and
 * the epilogue starts after the CRLF that ends the close delimiter line.
 * Part 1 has no header fields: text/plain by default. Part 1 "does NOT end
 * with a linebreak", part 2 "DOES".
 */
TM_TEST(mime_rfc2046_example)
{
    static const char m[] = "From: Nathaniel Borenstein <nsb@bellcore.com>\r\n"
                            "To: Ned Freed <ned@innosoft.com>\r\n"
                            "Date: Sun, 21 Mar 1993 23:56:48 -0800 (PST)\r\n"
                            "Subject: Sample message\r\n"
                            "MIME-Version: 1.0\r\n"
                            "Content-type: multipart/mixed; boundary=\"simple boundary\"\r\n"
                            "\r\n"
                            "This is the preamble.  It is to be ignored, though it\r\n"
                            "is a handy place for composition agents to include an\r\n"
                            "explanatory note to non-MIME conformant readers.\r\n"
                            "\r\n"
                            "--simple boundary\r\n"
                            "\r\n"
                            "This is implicitly typed plain US-ASCII text.\r\n"
                            "It does NOT end with a linebreak.\r\n"
                            "--simple boundary\r\n"
                            "Content-type: text/plain; charset=us-ascii\r\n"
                            "\r\n"
                            "This is explicitly typed plain US-ASCII text.\r\n"
                            "It DOES end with a linebreak.\r\n"
                            "\r\n"
                            "--simple boundary--\r\n"
                            "\r\n"
                            "This is the epilogue.  It is also to be ignored.\r\n";
    const struct tm_mime_part *r, *p1, *p2;
    struct fx f;

    PARSE(f, m);
    r = f.msg->root;
    CHECK_STR(tree_str(f.msg), "1:multipart/mixed 1.1:text/plain 1.2:text/plain");
    CHECK(r->is_multipart);
    CHECK_STR(r->boundary, "simple boundary");
    CHECK_EQ_INT(r->nchildren, 2);
    CHECK_EQ_SIZE(f.msg->nparts, 3);
    CHECK_MEM(r->preamble.p, r->preamble.len,
              "This is the preamble.  It is to be ignored, though it\r\n"
              "is a handy place for composition agents to include an\r\n"
              "explanatory note to non-MIME conformant readers.\r\n",
              sizeof("This is the preamble.  It is to be ignored, though it\r\n"
                     "is a handy place for composition agents to include an\r\n"
                     "explanatory note to non-MIME conformant readers.\r\n") -
                  1);
    CHECK_MEM(r->epilogue.p, r->epilogue.len,
              "\r\nThis is the epilogue.  It is also to be ignored.\r\n",
              sizeof("\r\nThis is the epilogue.  It is also to be ignored.\r\n") - 1);
    REQUIRE((p1 = part_at(f.msg, "1.1")) != NULL);
    REQUIRE((p2 = part_at(f.msg, "1.2")) != NULL);
    CHECK_EQ_SIZE(p1->nhdrs, 0);
    CHECK(p1->ct_defaulted);
    CHECK_BODY(p1, "This is implicitly typed plain US-ASCII text.\r\n"
                   "It does NOT end with a linebreak.");
    CHECK_DECODED(p1, "This is implicitly typed plain US-ASCII text.\r\n"
                      "It does NOT end with a linebreak.");
    CHECK_STR(p2->charset, "us-ascii");
    CHECK(!p2->ct_defaulted);
    CHECK_BODY(p2, "This is explicitly typed plain US-ASCII text.\r\n"
                   "It DOES end with a linebreak.\r\n");
    CHECK_NO_FINDING(f, MIME_MISSING_CLOSE);
    CHECK_NO_FINDING(f, MIME_BOUNDARY_NOT_FOUND);
    fx_done(&f);
}

/*
 * findings.h: MIME_PREAMBLE_TEXT is "visible text before the first
 * boundary", MIME_EPILOGUE_TEXT "text after the closing boundary". Blank
 * lines are not visible text.
 */
TM_TEST(mime_preamble_epilogue_findings)
{
    struct fx f;

    PARSE(f, "Content-Type: multipart/mixed; boundary=b\r\n"
             "\r\n"
             "This is the preamble.\r\n"
             "--b\r\n"
             "\r\n"
             "x\r\n"
             "--b--\r\n"
             "This is the epilogue.\r\n");
    CHECK_BODY(part_at(f.msg, "1.1"), "x");
    CHECK_MEM(f.msg->root->preamble.p, f.msg->root->preamble.len, "This is the preamble.", 21);
    CHECK_MEM(f.msg->root->epilogue.p, f.msg->root->epilogue.len, "This is the epilogue.\r\n", 23);
    CHECK_FINDING(f, MIME_PREAMBLE_TEXT);
    CHECK_FINDING(f, MIME_EPILOGUE_TEXT);
    fx_done(&f);
    PARSE(f, "Content-Type: multipart/mixed; boundary=b\r\n"
             "\r\n"
             "\r\n"
             "--b\r\n"
             "\r\n"
             "x\r\n"
             "--b--\r\n"
             "\r\n");
    CHECK_NO_FINDING(f, MIME_PREAMBLE_TEXT);
    CHECK_NO_FINDING(f, MIME_EPILOGUE_TEXT);
    fx_done(&f);
}

/* RFC 2046 5.1.1: "a\r\n--b" - the CRLF before the delimiter is not body. */
TM_TEST(mime_eol_before_boundary)
{
    struct fx f;

    PARSE(f, "Content-Type: multipart/mixed; boundary=b\r\n"
             "\r\n"
             "--b\r\n"
             "\r\n"
             "a\r\n"
             "--b\r\n"
             "\r\n"
             "\r\n"
             "--b--\r\n");
    CHECK_STR(tree_str(f.msg), "1:multipart/mixed 1.1:text/plain 1.2:text/plain");
    CHECK_BODY(part_at(f.msg, "1.1"), "a");
    CHECK_BODY(part_at(f.msg, "1.2"), ""); /* blank body: its one CRLF is the delimiter's */
    fx_done(&f);
}

/* Three levels of multipart; PNG magic "iVBORw0K" = 89 50 4e 47 0d 0a (RFC 4648 alphabet). */
TM_TEST(mime_nested_three_levels)
{
    static const char m[] = "Subject: nested\r\n"
                            "MIME-Version: 1.0\r\n"
                            "Content-Type: multipart/mixed; boundary=A\r\n"
                            "\r\n"
                            "--A\r\n"
                            "Content-Type: multipart/alternative; boundary=B\r\n"
                            "\r\n"
                            "--B\r\n"
                            "Content-Type: multipart/related; boundary=C\r\n"
                            "\r\n"
                            "--C\r\n"
                            "Content-Type: text/html\r\n"
                            "\r\n"
                            "<p>x</p>\r\n"
                            "--C\r\n"
                            "Content-Type: image/png\r\n"
                            "Content-Transfer-Encoding: base64\r\n"
                            "\r\n"
                            "iVBORw0K\r\n"
                            "--C--\r\n"
                            "--B\r\n"
                            "Content-Type: text/plain\r\n"
                            "\r\n"
                            "plain\r\n"
                            "--B--\r\n"
                            "--A\r\n"
                            "Content-Type: application/octet-stream; name=\"f.bin\"\r\n"
                            "\r\n"
                            "data\r\n"
                            "--A--\r\n";
    const struct tm_mime_part *p;
    struct fx f;

    PARSE(f, m);
    CHECK_STR(tree_str(f.msg), "1:multipart/mixed 1.1:multipart/alternative "
                               "1.1.1:multipart/related 1.1.1.1:text/html 1.1.1.2:image/png "
                               "1.1.2:text/plain 1.2:application/octet-stream");
    CHECK_EQ_SIZE(f.msg->nparts, 7);
    CHECK_EQ_INT(f.msg->max_depth_seen, 3);
    if ((p = part_at(f.msg, "1.1.1.1")) != NULL) {
        CHECK_EQ_INT(p->depth, 3);
        CHECK_DECODED(p, "<p>x</p>");
    }
    if ((p = part_at(f.msg, "1.1.1.2")) != NULL) {
        CHECK_EQ_INT(p->cte, TM_CTE_BASE64);
        CHECK_DECODED(p, "\x89PNG\r\n");
    }
    if ((p = part_at(f.msg, "1.1.2")) != NULL)
        CHECK_DECODED(p, "plain");
    if ((p = part_at(f.msg, "1.2")) != NULL) {
        CHECK_STR(p->filename, "f.bin");
        CHECK_DECODED(p, "data");
    }
    CHECK(no_findings(f.task));
    fx_done(&f);
}

/* No "--X--": the last part runs to EOF, MIME_MISSING_CLOSE. */
TM_TEST(mime_missing_close)
{
    struct fx f;

    PARSE(f, "Content-Type: multipart/mixed; boundary=X\r\n"
             "\r\n"
             "--X\r\n"
             "\r\n"
             "one\r\n"
             "--X\r\n"
             "\r\n"
             "two");
    CHECK_STR(tree_str(f.msg), "1:multipart/mixed 1.1:text/plain 1.2:text/plain");
    if (f.msg->nparts == 3) {
        CHECK_BODY(part_at(f.msg, "1.1"), "one");
        CHECK_BODY(part_at(f.msg, "1.2"), "two");
    }
    CHECK_FINDING(f, MIME_MISSING_CLOSE);
    fx_done(&f);
}

/* RFC 2046 5.1.1: transport-padding (LWSP) may follow a delimiter line. */
TM_TEST(mime_boundary_trailing_whitespace)
{
    struct fx f;

    PARSE(f, "Content-Type: multipart/mixed; boundary=X\r\n"
             "\r\n"
             "--X \t\r\n"
             "\r\n"
             "one\r\n"
             "--X  \r\n"
             "\r\n"
             "two\r\n"
             "--X-- \r\n");
    CHECK_STR(tree_str(f.msg), "1:multipart/mixed 1.1:text/plain 1.2:text/plain");
    if (f.msg->nparts == 3) {
        CHECK_BODY(part_at(f.msg, "1.1"), "one");
        CHECK_BODY(part_at(f.msg, "1.2"), "two");
    }
    CHECK_NO_FINDING(f, MIME_MISSING_CLOSE);
    CHECK_NO_FINDING(f, MIME_BOUNDARY_NOT_FOUND);
    fx_done(&f);
}

/* RFC 2046 5.2.1: message/rfc822 is a message; its root is child "1.2.1". */
TM_TEST(mime_message_rfc822)
{
    static const char m[] = "From: outer@example.com\r\n"
                            "Content-Type: multipart/mixed; boundary=O\r\n"
                            "\r\n"
                            "--O\r\n"
                            "Content-Type: text/plain\r\n"
                            "\r\n"
                            "outer text\r\n"
                            "--O\r\n"
                            "Content-Type: message/rfc822\r\n"
                            "\r\n"
                            "From: inner@example.com\r\n"
                            "Subject: inner\r\n"
                            "Content-Type: multipart/alternative; boundary=I\r\n"
                            "\r\n"
                            "--I\r\n"
                            "Content-Type: text/plain\r\n"
                            "\r\n"
                            "inner plain\r\n"
                            "--I\r\n"
                            "Content-Type: text/html\r\n"
                            "\r\n"
                            "<b>inner</b>\r\n"
                            "--I--\r\n"
                            "--O--\r\n";
    const struct tm_mime_part *mp, *in;
    struct fx f;

    PARSE(f, m);
    CHECK_STR(tree_str(f.msg), "1:multipart/mixed 1.1:text/plain 1.2:message/rfc822 "
                               "1.2.1:multipart/alternative 1.2.1.1:text/plain 1.2.1.2:text/html");
    REQUIRE((mp = part_at(f.msg, "1.2")) != NULL);
    CHECK(mp->is_message);
    CHECK_EQ_INT(mp->nchildren, 1);
    REQUIRE((in = part_at(f.msg, "1.2.1")) != NULL);
    CHECK(in == mp->first_child);
    CHECK(in->parent == mp);
    CHECK_EQ_INT(in->depth, 2);
    CHECK_HDR(in, "subject", "inner");
    CHECK_HDR(in, "from", "inner@example.com");
    CHECK_HDR(f.msg->root, "from", "outer@example.com");
    CHECK_STR(in->boundary, "I");
    if (part_at(f.msg, "1.2.1.2") != NULL) {
        CHECK_DECODED(part_at(f.msg, "1.2.1.1"), "inner plain");
        CHECK_DECODED(part_at(f.msg, "1.2.1.2"), "<b>inner</b>");
    }
    CHECK(no_findings(f.task));
    fx_done(&f);
}

/*
 * mime.h: a base64 message/rfc822 is decoded, then parsed. The base64 is
 * "Subject: in\r\n\r\nhi" (RFC 4648 alphabet; "U3Vi" = 010100 110111 010101
 * 100010 = 53 75 62 = "Sub").
 */
TM_TEST(mime_message_rfc822_encoded)
{
    struct fx f;
    const struct tm_mime_part *in;

    PARSE(f, "Content-Type: message/rfc822\r\n"
             "Content-Transfer-Encoding: base64\r\n"
             "\r\n"
             "U3ViamVjdDogaW4NCg0KaGk=\r\n");
    CHECK_STR(tree_str(f.msg), "1:message/rfc822 1.1:text/plain");
    CHECK_FINDING(f, MIME_ENCODED_MULTIPART);
    if ((in = part_at(f.msg, "1.1")) != NULL) {
        CHECK_HDR(in, "subject", "in");
        CHECK_DECODED(in, "hi");
    }
    fx_done(&f);
}

/* RFC 2046 5.1.5: in multipart/digest the default type is message/rfc822. */
TM_TEST(mime_digest_default)
{
    struct fx f;
    const struct tm_mime_part *p;

    PARSE(f, "Content-Type: multipart/digest; boundary=D\r\n"
             "\r\n"
             "--D\r\n"
             "\r\n"
             "From: a@example.com\r\n"
             "Subject: one\r\n"
             "\r\n"
             "body one\r\n"
             "--D\r\n"
             "Content-Type: text/plain\r\n"
             "\r\n"
             "explicit\r\n"
             "--D--\r\n");
    CHECK_STR(tree_str(f.msg),
              "1:multipart/digest 1.1:message/rfc822 1.1.1:text/plain 1.2:text/plain");
    if ((p = part_at(f.msg, "1.1")) != NULL)
        CHECK(p->is_message);
    if ((p = part_at(f.msg, "1.1.1")) != NULL) {
        CHECK_HDR(p, "subject", "one");
        CHECK_DECODED(p, "body one");
    }
    if ((p = part_at(f.msg, "1.2")) != NULL)
        CHECK_DECODED(p, "explicit");
    fx_done(&f);
}

/*
 * The same message with CRLF, bare LF and bare CR line ends has the same
 * tree and the same decoded bytes (bodies chosen without inner line ends:
 * a QP soft break and a two-line base64 body).
 */
TM_TEST(mime_line_endings_equivalent)
{
    static const char lf[] = "Subject: eol\n"
                             "Content-Type: multipart/mixed; boundary=E\n"
                             "\n"
                             "--E\n"
                             "Content-Type: text/plain\n"
                             "Content-Transfer-Encoding: quoted-printable\n"
                             "\n"
                             "soft=\n"
                             "break=3D\n"
                             "--E\n"
                             "Content-Type: application/octet-stream\n"
                             "Content-Transfer-Encoding: base64\n"
                             "\n"
                             "Zm9v\n"
                             "YmFy\n"
                             "--E--\n";
    static const char *const eols[] = {"\r\n", "\n", "\r"};
    struct gen g[3];
    struct fx f;
    size_t i;

    memset(g, 0, sizeof(g));
    for (i = 0; i < 3; i++) {
        struct tm_limits lim = tm_limits_default();

        eol_convert(&g[i], lf, eols[i]);
        REQUIRE(fx_parse(&f, &lim, g[i].p, g[i].len));
        CHECK(tree_ok(f.msg));
        CHECK_STR(tree_str(f.msg), "1:multipart/mixed 1.1:text/plain 1.2:application/octet-stream");
        CHECK_HDR(f.msg->root, "subject", "eol");
        CHECK_STR(f.msg->root->boundary, "E");
        if (f.msg->nparts == 3) {
            CHECK_DECODED(part_at(f.msg, "1.1"), "softbreak=");
            CHECK_DECODED(part_at(f.msg, "1.2"), "foobar");
        }
        CHECK_NO_FINDING(f, MIME_MIXED_EOL);
        if (i == 2)
            CHECK_FINDING(f, MIME_BARE_CR);
        else
            CHECK_NO_FINDING(f, MIME_BARE_CR);
        fx_done(&f);
    }
    for (i = 0; i < 3; i++)
        free(g[i].p);
}

/* An mbox "From " envelope line is not a header (mime.h: envelope_from). */
TM_TEST(mime_mbox_from_line)
{
    static const char env[] = "sender@example.com Mon Jan  1 00:00:00 2024";
    struct fx f;
    struct tm_str e;

    PARSE(f, "From sender@example.com Mon Jan  1 00:00:00 2024\r\n"
             "Subject: mbox\r\n"
             "\r\n"
             "body\r\n");
    e = f.msg->envelope_from;
    /* with or without the "From " keyword, never with the EOL */
    if (e.len >= 5 && memcmp(e.p, "From ", 5) == 0) {
        e.p += 5;
        e.len -= 5;
    }
    CHECK_MEM(e.p, e.len, env, sizeof(env) - 1);
    CHECK_EQ_SIZE(f.msg->root->nhdrs, 1);
    CHECK_HDR(f.msg->root, "subject", "mbox");
    CHECK_BODY(f.msg->root, "body\r\n");
    CHECK_NO_FINDING(f, MIME_HDR_NO_COLON);
    CHECK_NO_FINDING(f, MIME_NO_HEADERS);
    fx_done(&f);
}

/* findings.h: "a non-header line ended the header section". */
TM_TEST(mime_header_without_colon)
{
    struct fx f;
    const struct tm_mime_part *r;

    PARSE(f, "Subject: a\r\n"
             "This is not a header\r\n"
             "X-Later: b\r\n"
             "\r\n"
             "body\r\n");
    r = f.msg->root;
    CHECK_FINDING(f, MIME_HDR_NO_COLON);
    CHECK_EQ_SIZE(r->nhdrs, 1);
    CHECK(tm_mime_header_find(r, "x-later", 0) == NULL);
    CHECK(r->body.len >= 20 && memcmp(r->body.p, "This is not a header", 20) == 0);
    fx_done(&f);
}

/*
 * RFC 5322 2.2.3 unfolding plus RFC 2047 (section 8: "Keld J=F8rn
 * Simonsen", 0xF8 -> c3 b8) through tm_mime_header_decode; the raw value
 * keeps its folding.
 */
TM_TEST(mime_folded_header_decode)
{
    struct fx f;
    const struct tm_mime_header *h;
    const char *out = NULL;
    size_t outlen = 0;

    PARSE(f, "Subject: =?ISO-8859-1?Q?Keld_J=F8rn?=\r\n"
             " =?ISO-8859-1?Q?_Simonsen?=\r\n"
             "X-Plain:  hello\r\n"
             "\tworld  \r\n"
             "\r\n"
             "body\r\n");
    REQUIRE((h = tm_mime_header_find(f.msg->root, "subject", 0)) != NULL);
    CHECK(h->value.len > 2 && memchr(h->value.p, '\n', h->value.len) != NULL);
    CHECK_EQ_INT(tm_mime_header_decode(f.task, h, &out, &outlen), TM_OK);
    CHECK_MEM(out, outlen, "Keld J\xc3\xb8rn Simonsen", 19);
    CHECK(out == NULL || out[outlen] == '\0');
    REQUIRE((h = tm_mime_header_find(f.msg->root, "x-plain", 0)) != NULL);
    CHECK_EQ_INT(tm_mime_header_decode(f.task, h, &out, &outlen), TM_OK);
    CHECK_MEM(out, outlen, "hello\tworld", 11);
    CHECK_NO_FINDING(f, MIME_BAD_2047);
    CHECK_NO_FINDING(f, MIME_BAD_CHARSET);
    CHECK_BODY(f.msg->root, "body\r\n");
    fx_done(&f);
}

/* Content-Type parameters reach the part; filename prefers the disposition. */
TM_TEST(mime_part_fields)
{
    struct fx f;
    const struct tm_mime_part *r;

    PARSE(f, "Content-Type: Text/Plain; charset=\"ISO-8859-1\"; name=\"ct-name.txt\"\r\n"
             "Content-Disposition: ATTACHMENT; filename=\"cd-name.txt\"\r\n"
             "Content-Transfer-Encoding: Quoted-Printable\r\n"
             "\r\n"
             "caf=E9\r\n");
    r = f.msg->root;
    CHECK_STR(r->content_type, "text/plain");
    CHECK(!r->ct_defaulted);
    CHECK_STR(r->charset, "iso-8859-1");
    CHECK_STR(r->disposition, "attachment");
    CHECK_STR(r->filename, "cd-name.txt");
    CHECK_STR(r->cte_name, "quoted-printable");
    CHECK_EQ_INT(r->cte, TM_CTE_QP);
    REQUIRE(r->ct_params != NULL);
    REQUIRE(tm_params_get(r->ct_params, "name") != NULL);
    CHECK_STR(tm_params_get(r->ct_params, "name")->value, "ct-name.txt");
    CHECK_DECODED(r, "caf\xe9\r\n");
    fx_done(&f);
}

/* Transfer encodings: known ones decode, unknown is taken as is (RFC 2049 2(6)). */
TM_TEST(mime_transfer_encodings)
{
    struct fx f;

    PARSE(f, "Content-Transfer-Encoding: BASE64\r\n\r\nZm9v\r\nYmFy\r\n");
    CHECK_EQ_INT(f.msg->root->cte, TM_CTE_BASE64);
    CHECK_DECODED(f.msg->root, "foobar");
    CHECK_NO_FINDING(f, MIME_BAD_B64);
    fx_done(&f);
    PARSE(f, "Content-Transfer-Encoding: base64\r\n\r\nZm9v*YmFy\r\n");
    CHECK_DECODED(f.msg->root, "foobar");
    CHECK_FINDING(f, MIME_BAD_B64);
    fx_done(&f);
    PARSE(f, "Content-Transfer-Encoding: quoted-printable\r\n\r\na=G1b\r\n");
    CHECK_DECODED(f.msg->root, "a=G1b\r\n");
    CHECK_FINDING(f, MIME_BAD_QP);
    fx_done(&f);
    PARSE(f, "Content-Transfer-Encoding: x-bogus\r\n\r\nZm9v\r\n");
    CHECK_EQ_INT(f.msg->root->cte, TM_CTE_UNKNOWN);
    CHECK_DECODED(f.msg->root, "Zm9v\r\n");
    CHECK_FINDING(f, MIME_BAD_CTE);
    fx_done(&f);
    PARSE(f, "Content-Transfer-Encoding: 8bit\r\n\r\ncaf\xc3\xa9\r\n");
    CHECK_EQ_INT(f.msg->root->cte, TM_CTE_8BIT);
    CHECK_DECODED(f.msg->root, "caf\xc3\xa9\r\n");
    fx_done(&f);
}

/* A uuencoded block inside a text leaf (decode test: "#0V%T" is "Cat"). */
TM_TEST(mime_uuencode_in_text)
{
    struct fx f;
    const struct tm_mime_part *r;

    PARSE(f, "Subject: uu\r\n"
             "\r\n"
             "see attached\r\n"
             "begin 644 cat.txt\r\n"
             "#0V%T\r\n"
             "`\r\n"
             "end\r\n");
    r = f.msg->root;
    CHECK_FINDING(f, MIME_UUENCODE);
    REQUIRE(r->nuu == 1 && r->uu != NULL);
    CHECK_STR(r->uu[0].filename, "cat.txt");
    CHECK_EQ_INT(r->uu[0].mode, 0644);
    CHECK_MEM(r->uu[0].data, r->uu[0].len, "Cat", 3);
    fx_done(&f);
}

TM_TEST(mime_boundary_problems)
{
    struct fx f;

    PARSE(f, "Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\na\r\n--x--\r\n");
    CHECK_FINDING(f, MIME_NO_BOUNDARY);
    fx_done(&f);
    PARSE(f, "Content-Type: multipart/mixed; boundary=zzz\r\n\r\nno delimiter here\r\n");
    CHECK_FINDING(f, MIME_BOUNDARY_NOT_FOUND);
    fx_done(&f);
    PARSE(f, "Content-Type: multipart/mixed; boundary=a\r\n"
             "Content-Type: text/plain\r\n"
             "\r\n"
             "x\r\n");
    CHECK_FINDING(f, MIME_DUP_CONTENT_TYPE);
    fx_done(&f);
    PARSE(f, "Content-Type: multipart/mixed; boundary=x\r\n"
             "Content-Transfer-Encoding: base64\r\n"
             "\r\n"
             "--x\r\n\r\na\r\n--x--\r\n");
    CHECK_FINDING(f, MIME_ENCODED_MULTIPART);
    fx_done(&f);
}

/* A body that starts with the blank line: no header section. */
TM_TEST(mime_no_headers)
{
    struct fx f;

    PARSE(f, "\r\nbody only\r\n");
    CHECK_FINDING(f, MIME_NO_HEADERS);
    CHECK_EQ_SIZE(f.msg->root->nhdrs, 0);
    CHECK_BODY(f.msg->root, "body only\r\n");
    fx_done(&f);
}

/* ---- limits ---------------------------------------------------------- */

/* gen_nested_multipart - `levels` multiparts inside each other, then text */
static void
gen_nested_multipart(struct gen *g, int levels)
{
    char line[128];
    int i;

    for (i = 0; i < levels; i++) {
        snprintf(line, sizeof(line), "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n",
                 i, i);
        put(g, line);
    }
    put(g, "Content-Type: text/plain\r\n\r\ndeep\r\n");
    for (i = levels - 1; i >= 0; i--) {
        snprintf(line, sizeof(line), "--b%d--\r\n", i);
        put(g, line);
    }
}

/* check_depth - every part at most `max` deep */
static int
check_depth(const struct tm_mime_msg *m, unsigned max)
{
    const struct tm_mime_part *p;

    for (p = m->root; p != NULL; p = tm_mime_next(p))
        if (p->depth > max)
            return 0;
    return m->max_depth_seen <= max;
}

TM_TEST(mime_limit_depth_multipart)
{
    struct tm_limits lim = tm_limits_default();
    struct gen g = {NULL, 0, 0};
    struct fx f;

    lim.mime_max_depth = 3;
    gen_nested_multipart(&g, 10);
    PARSE_LIM(f, lim, g.p, g.len);
    CHECK_FINDING(f, MIME_LIMIT_DEPTH);
    CHECK(check_depth(f.msg, 3));
    fx_done(&f);
    free(g.p);
}

/* style.md: no recursion on nested message/rfc822 either. */
TM_TEST(mime_limit_depth_rfc822)
{
    struct tm_limits lim = tm_limits_default();
    struct gen g = {NULL, 0, 0};
    struct fx f;
    int i;

    lim.mime_max_depth = 3;
    for (i = 0; i < 10; i++)
        put(&g, "Content-Type: message/rfc822\r\n\r\n");
    put(&g, "Subject: deep\r\n\r\nbody\r\n");
    PARSE_LIM(f, lim, g.p, g.len);
    CHECK_FINDING(f, MIME_LIMIT_DEPTH);
    CHECK(check_depth(f.msg, 3));
    fx_done(&f);
    free(g.p);
}

/* Very deep input with default limits: a finding, no stack overflow. */
TM_TEST(mime_limit_depth_huge)
{
    struct tm_limits lim = tm_limits_default();
    struct gen g = {NULL, 0, 0};
    struct fx f;
    int i;

    gen_nested_multipart(&g, 5000);
    PARSE_LIM(f, lim, g.p, g.len);
    CHECK_FINDING(f, MIME_LIMIT_DEPTH);
    CHECK(check_depth(f.msg, (unsigned)lim.mime_max_depth));
    fx_done(&f);
    free(g.p);
    g.p = NULL;
    g.len = g.cap = 0;
    for (i = 0; i < 5000; i++)
        put(&g, "Content-Type: message/rfc822\r\n\r\n");
    PARSE_LIM(f, lim, g.p, g.len);
    CHECK_FINDING(f, MIME_LIMIT_DEPTH);
    CHECK(check_depth(f.msg, (unsigned)lim.mime_max_depth));
    fx_done(&f);
    free(g.p);
}

TM_TEST(mime_limit_parts)
{
    struct tm_limits lim = tm_limits_default();
    struct gen g = {NULL, 0, 0};
    char line[64];
    struct fx f;
    int i;

    lim.mime_max_parts = 5;
    put(&g, "Content-Type: multipart/mixed; boundary=P\r\n\r\n");
    for (i = 0; i < 20; i++) {
        snprintf(line, sizeof(line), "--P\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", i);
        put(&g, line);
    }
    put(&g, "--P--\r\n");
    PARSE_LIM(f, lim, g.p, g.len);
    CHECK_FINDING(f, MIME_LIMIT_PARTS);
    CHECK_LE_SIZE(f.msg->nparts, 5);
    fx_done(&f);
    free(g.p);
}

/*
 * Two base64 parts of 900 bytes each against mime_max_decoded_size 1024.
 * "QUFB" is "AAA" (010000 010100 000101 000001 = 41 41 41).
 */
TM_TEST(mime_limit_decoded)
{
    struct tm_limits lim = tm_limits_default();
    struct gen g = {NULL, 0, 0};
    const struct tm_mime_part *p;
    size_t total = 0;
    struct fx f;
    int part, i;

    lim.mime_max_decoded_size = 1024;
    put(&g, "Content-Type: multipart/mixed; boundary=Q\r\n\r\n");
    for (part = 0; part < 2; part++) {
        put(&g, "--Q\r\nContent-Type: application/octet-stream\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n");
        for (i = 0; i < 300; i++) {
            put(&g, "QUFB");
            if (i % 19 == 18)
                put(&g, "\r\n");
        }
        put(&g, "\r\n");
    }
    put(&g, "--Q--\r\n");
    PARSE_LIM(f, lim, g.p, g.len);
    CHECK_FINDING(f, MIME_LIMIT_DECODED);
    CHECK_LE_SIZE(f.task->decoded_total, 1024);
    for (p = f.msg->root; p != NULL; p = tm_mime_next(p))
        if (p->first_child == NULL)
            total += p->decoded_len;
    CHECK_LE_SIZE(total, 1024);
    if ((p = part_at(f.msg, "1.1")) != NULL)
        CHECK(p->decoded_len > 0 && p->decoded[0] == 'A');
    fx_done(&f);
    free(g.p);
}

/* Header fields past mime_max_headers are dropped; the body is still found. */
TM_TEST(mime_limit_headers)
{
    struct tm_limits lim = tm_limits_default();
    struct gen g = {NULL, 0, 0};
    char line[64];
    struct fx f;
    int i;

    lim.mime_max_headers = 5;
    for (i = 0; i < 20; i++) {
        snprintf(line, sizeof(line), "X-H%d: %d\r\n", i, i);
        put(&g, line);
    }
    put(&g, "\r\nbody\r\n");
    PARSE_LIM(f, lim, g.p, g.len);
    CHECK_FINDING(f, MIME_LIMIT_HEADERS);
    CHECK_LE_SIZE(f.msg->root->nhdrs, 5);
    CHECK_HDR(f.msg->root, "x-h0", "0");
    CHECK_BODY(f.msg->root, "body\r\n");
    fx_done(&f);
    free(g.p);
}

TM_TEST(mime_limit_header_len)
{
    struct tm_limits lim = tm_limits_default();
    struct gen g = {NULL, 0, 0};
    struct fx f;
    size_t i;
    int k;

    lim.header_max_len = 100;
    put(&g, "Subject: ");
    for (k = 0; k < 100; k++)
        put(&g, "0123456789");
    put(&g, "\r\nX-After: yes\r\n\r\nbody\r\n");
    PARSE_LIM(f, lim, g.p, g.len);
    CHECK_FINDING(f, MIME_LIMIT_HEADER_LEN);
    for (i = 0; i < f.msg->root->nhdrs; i++)
        CHECK_LE_SIZE(f.msg->root->hdrs[i].name.len + f.msg->root->hdrs[i].value.len, 100);
    CHECK_HDR(f.msg->root, "x-after", "yes");
    CHECK_BODY(f.msg->root, "body\r\n");
    fx_done(&f);
    free(g.p);
}

/* Odd and broken inputs: any tree is fine, a crash or a broken tree is not. */
TM_TEST(mime_garbage_never_crashes)
{
    static const char *const v[] = {
        "",
        "\r\n",
        "\r\n\r\n",
        "\n",
        "\r",
        "no colon line at all",
        ":",
        ": value without name\r\n\r\n",
        "--",
        " leading continuation\r\nSubject: x\r\n\r\nb",
        "Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n\r\n--\r\n--\r\n",
        "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x--\r\n",
        "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n",
        "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x",
        ("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: multipart/mixed; "
         "boundary=x\r\n\r\n--x\r\n\r\n--x--\r\n"),
        "Content-Type: message/rfc822\r\n\r\n",
        "Content-Type: message/rfc822\r\n",
        "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!",
        "Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\n--d--",
        "Content-Type: \r\n\r\n",
        "Content-Type: ;;;=;\r\nContent-Transfer-Encoding: \r\n\r\nx",
        "Subject: =?utf-8?B?====?= =?\r\n\r\n",
        "From \r\n",
        "From x\r\n\r\n",
        "Content-Transfer-Encoding: uuencode\r\n\r\nbegin 644 x\r\nM\r\n",
        "Subject: x\r\n\r\nbegin 644 a\r\nbegin 644 b\r\nend\r\nend\r\n",
    };
    struct tm_limits lim = tm_limits_default();
    struct gen g = {NULL, 0, 0};
    struct fx f;
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        if (!fx_parse(&f, &lim, v[i], strlen(v[i])) || f.rc != TM_OK || !tree_ok(f.msg))
            tm_test_fail(__FILE__, __LINE__, "input %zu: \"%s\"", i, v[i]);
        fx_done(&f);
    }
    /* NUL bytes are bytes */
    {
        static const char nul[] = "Subject: a\0b\r\n\r\nbo\0dy\r\n";

        if (fx_parse(&f, &lim, nul, sizeof(nul) - 1)) {
            CHECK(tree_ok(f.msg));
            CHECK_FINDING(f, MIME_NUL_BYTE);
            CHECK_BODY(f.msg->root, "bo\0dy\r\n");
        } else {
            tm_test_fail(__FILE__, __LINE__, "no tree for a message with NUL bytes");
        }
        fx_done(&f);
    }
    /* a 2000-byte boundary is over mime_max_boundary_len (RFC 2046: 70) */
    put(&g, "Content-Type: multipart/mixed; boundary=");
    for (i = 0; i < 200; i++)
        put(&g, "bbbbbbbbbb");
    put(&g, "\r\n\r\n--");
    for (i = 0; i < 200; i++)
        put(&g, "bbbbbbbbbb");
    put(&g, "\r\n\r\nx\r\n");
    if (fx_parse(&f, &lim, g.p, g.len)) {
        CHECK(tree_ok(f.msg));
        CHECK_FINDING(f, MIME_BAD_BOUNDARY);
    } else {
        tm_test_fail(__FILE__, __LINE__, "no tree for a message with a long boundary");
    }
    fx_done(&f);
    free(g.p);
}

/*
 * RFC 2046 5.1.1: a delimiter line is "--" boundary, then only LWSP. An
 * inner boundary that starts with the outer one ("X" and "X2") is not the
 * outer delimiter; prefix matching would cut the inner multipart short.
 */
TM_TEST(mime_boundary_prefix_of_another)
{
    struct fx f;

    PARSE(f, "Content-Type: multipart/mixed; boundary=X\r\n"
             "\r\n"
             "--X\r\n"
             "Content-Type: multipart/alternative; boundary=X2\r\n"
             "\r\n"
             "--X2\r\n"
             "\r\n"
             "alt one\r\n"
             "--X2\r\n"
             "\r\n"
             "alt two\r\n"
             "--X2--\r\n"
             "--X\r\n"
             "\r\n"
             "last\r\n"
             "--X--\r\n");
    CHECK_STR(tree_str(f.msg), "1:multipart/mixed 1.1:multipart/alternative 1.1.1:text/plain "
                               "1.1.2:text/plain 1.2:text/plain");
    CHECK_BODY(part_at(f.msg, "1.1.1"), "alt one");
    CHECK_BODY(part_at(f.msg, "1.1.2"), "alt two");
    CHECK_BODY(part_at(f.msg, "1.2"), "last");
    CHECK_NO_FINDING(f, MIME_MISSING_CLOSE);
    fx_done(&f);
}

/*
 * RFC 2046 5.1.2: an outer delimiter ends an inner multipart left open;
 * the inner one is missing its close (MIME_MISSING_CLOSE).
 */
TM_TEST(mime_outer_boundary_closes_inner)
{
    struct fx f;

    PARSE(f, "Content-Type: multipart/mixed; boundary=out\r\n"
             "\r\n"
             "--out\r\n"
             "Content-Type: multipart/alternative; boundary=in\r\n"
             "\r\n"
             "--in\r\n"
             "\r\n"
             "inner\r\n"
             "--out\r\n"
             "\r\n"
             "second\r\n"
             "--out--\r\n");
    CHECK_STR(tree_str(f.msg),
              "1:multipart/mixed 1.1:multipart/alternative 1.1.1:text/plain 1.2:text/plain");
    CHECK_BODY(part_at(f.msg, "1.1.1"), "inner");
    CHECK_BODY(part_at(f.msg, "1.2"), "second");
    CHECK_FINDING(f, MIME_MISSING_CLOSE);
    fx_done(&f);
}

/* Findings on header and line-end oddities (findings.h descriptions). */
TM_TEST(mime_header_and_eol_findings)
{
    struct fx f;

    PARSE(f, " leading continuation\r\nSubject: x\r\n\r\nbody\r\n");
    CHECK_FINDING(f, MIME_HDR_LEADING_WS);
    fx_done(&f);
    PARSE(f, "Subject: caf\xc3\xa9\r\n\r\nbody\r\n");
    CHECK_FINDING(f, MIME_HDR_8BIT);
    fx_done(&f);
    PARSE(f, "Subject: x\r\nTo: y\n\r\nline\nline\r\n");
    CHECK_FINDING(f, MIME_MIXED_EOL);
    CHECK_HDR(f.msg->root, "to", "y");
    fx_done(&f);
    PARSE(f, "Content-Transfer-Encoding: 7bit\r\n\r\ncaf\xe9\r\n");
    CHECK_FINDING(f, MIME_8BIT_IN_7BIT);
    CHECK_DECODED(f.msg->root, "caf\xe9\r\n");
    fx_done(&f);
    PARSE(f, "Content-Transfer-Encoding: 7bit\r\nContent-Transfer-Encoding: base64\r\n\r\nx\r\n");
    CHECK_FINDING(f, MIME_DUP_CTE);
    fx_done(&f);
    PARSE(f,
          "Content-Type: message/partial; id=\"abc@example.com\"; number=1; total=2\r\n\r\nx\r\n");
    CHECK_FINDING(f, MIME_MSG_PARTIAL);
    fx_done(&f);
}

/* message_max_size: the rest is ignored, MESSAGE_TRUNCATED. */
TM_TEST(mime_limit_message_size)
{
    struct tm_limits lim = tm_limits_default();
    struct gen g = {NULL, 0, 0};
    struct fx f;
    int i;

    lim.message_max_size = 1000;
    put(&g, "Subject: big\r\n\r\n");
    for (i = 0; i < 100; i++)
        put(&g, "0123456789012345678\r\n");
    PARSE_LIM(f, lim, g.p, g.len);
    CHECK_FINDING(f, MESSAGE_TRUNCATED);
    CHECK_LE_SIZE(f.msg->raw.len, 1000);
    CHECK_LE_SIZE(f.msg->root->body.len, 1000);
    CHECK_HDR(f.msg->root, "subject", "big");
    fx_done(&f);
    free(g.p);
}

/* mime_max_params through Content-Type, MIME_LIMIT_PARAMS. */
TM_TEST(mime_limit_params)
{
    struct tm_limits lim = tm_limits_default();
    struct gen g = {NULL, 0, 0};
    char line[32];
    struct fx f;
    int i;

    lim.mime_max_params = 4;
    put(&g, "Content-Type: text/plain; charset=utf-8");
    for (i = 0; i < 20; i++) {
        snprintf(line, sizeof(line), "; p%d=%d", i, i);
        put(&g, line);
    }
    put(&g, "\r\n\r\nbody\r\n");
    PARSE_LIM(f, lim, g.p, g.len);
    CHECK_FINDING(f, MIME_LIMIT_PARAMS);
    CHECK_STR(f.msg->root->content_type, "text/plain");
    CHECK_STR(f.msg->root->charset, "utf-8");
    if (f.msg->root->ct_params != NULL)
        CHECK_LE_SIZE(f.msg->root->ct_params->n, 4);
    fx_done(&f);
    free(g.p);
}

/* mime_max_encoded_words through tm_mime_header_decode, MIME_LIMIT_WORDS. */
TM_TEST(mime_limit_words)
{
    struct tm_limits lim = tm_limits_default();
    struct gen g = {NULL, 0, 0};
    const struct tm_mime_header *h;
    const char *out = NULL;
    size_t outlen = 0;
    struct fx f;
    int i;

    lim.mime_max_encoded_words = 3;
    put(&g, "Subject:");
    for (i = 0; i < 10; i++)
        put(&g, " =?UTF-8?Q?w?=");
    put(&g, "\r\n\r\nbody\r\n");
    PARSE_LIM(f, lim, g.p, g.len);
    REQUIRE((h = tm_mime_header_find(f.msg->root, "subject", 0)) != NULL);
    CHECK_EQ_INT(tm_mime_header_decode(f.task, h, &out, &outlen), TM_OK);
    CHECK_FINDING(f, MIME_LIMIT_WORDS);
    CHECK(out != NULL && outlen >= 3 && memcmp(out, "www", 3) == 0);
    fx_done(&f);
    free(g.p);
}

/* mime_max_uu_blocks, MIME_LIMIT_UU. */
TM_TEST(mime_limit_uu)
{
    struct tm_limits lim = tm_limits_default();
    struct gen g = {NULL, 0, 0};
    struct fx f;
    int i;

    lim.mime_max_uu_blocks = 2;
    put(&g, "Subject: uu\r\n\r\n");
    for (i = 0; i < 6; i++)
        put(&g, "begin 644 cat.txt\r\n#0V%T\r\n`\r\nend\r\n");
    PARSE_LIM(f, lim, g.p, g.len);
    CHECK_FINDING(f, MIME_LIMIT_UU);
    CHECK_LE_SIZE(f.msg->root->nuu, 2);
    fx_done(&f);
    free(g.p);
}

/*
 * task_arena_budget: mime.h says TM_ENOMEM when the arena ran out, and the
 * tree built so far stays usable. A 64 KiB arena and a 512 KiB base64 part.
 */
TM_TEST(mime_limit_arena)
{
    struct tm_limits lim = tm_limits_default();
    struct gen g = {NULL, 0, 0};
    struct tm_engine *e;
    struct tm_task *t;
    tm_rc rc;
    int i;

    lim.task_arena_budget = 64u * 1024;
    lim.mime_max_decoded_size = 64u << 20;
    put(&g, "Content-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n");
    for (i = 0; i < 9000; i++)
        put(&g, "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n");
    put(&g, "--z--\r\n");
    REQUIRE((e = tm_engine_new_bare(&lim)) != NULL);
    t = tm_task_new(e);
    if (t != NULL) {
        rc = tm_mime_parse(t, (const unsigned char *)g.p, g.len);
        CHECK(rc == TM_ENOMEM || t->findings[TM_F_MIME_LIMIT_ARENA] > 0);
        if (t->msg != NULL && t->msg->root != NULL) {
            CHECK(tree_ok(t->msg));
            tm_mime_assert_invariants(t);
        }
        tm_task_free(t);
    }
    tm_engine_unref(e);
    free(g.p);
}

/* tm_mime_part_path never writes past buflen. */
TM_TEST(mime_part_path_small_buffer)
{
    char buf[16];
    const struct tm_mime_part *p;
    struct fx f;
    size_t i;

    PARSE(f, "Content-Type: multipart/mixed; boundary=A\r\n\r\n"
             "--A\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
             "--B\r\nContent-Type: multipart/mixed; boundary=C\r\n\r\n"
             "--C\r\n\r\nleaf\r\n--C--\r\n--B--\r\n--A--\r\n");
    REQUIRE((p = part_at(f.msg, "1.1.1.1")) != NULL);
    memset(buf, 'Z', sizeof(buf));
    (void)tm_mime_part_path(p, buf, 4);
    for (i = 4; i < sizeof(buf); i++)
        CHECK(buf[i] == 'Z');
    CHECK(memchr(buf, '\0', 4) != NULL);
    fx_done(&f);
}

const struct tm_test tests_mime[] = {
    TM_TEST_ENTRY(mime_single_part),
    TM_TEST_ENTRY(mime_single_part_body_edges),
    TM_TEST_ENTRY(mime_leaf_sha256),
    TM_TEST_ENTRY(mime_rfc2046_example),
    TM_TEST_ENTRY(mime_preamble_epilogue_findings),
    TM_TEST_ENTRY(mime_eol_before_boundary),
    TM_TEST_ENTRY(mime_nested_three_levels),
    TM_TEST_ENTRY(mime_missing_close),
    TM_TEST_ENTRY(mime_boundary_trailing_whitespace),
    TM_TEST_ENTRY(mime_message_rfc822),
    TM_TEST_ENTRY(mime_message_rfc822_encoded),
    TM_TEST_ENTRY(mime_digest_default),
    TM_TEST_ENTRY(mime_line_endings_equivalent),
    TM_TEST_ENTRY(mime_mbox_from_line),
    TM_TEST_ENTRY(mime_header_without_colon),
    TM_TEST_ENTRY(mime_folded_header_decode),
    TM_TEST_ENTRY(mime_part_fields),
    TM_TEST_ENTRY(mime_transfer_encodings),
    TM_TEST_ENTRY(mime_uuencode_in_text),
    TM_TEST_ENTRY(mime_boundary_problems),
    TM_TEST_ENTRY(mime_no_headers),
    TM_TEST_ENTRY(mime_limit_depth_multipart),
    TM_TEST_ENTRY(mime_limit_depth_rfc822),
    TM_TEST_ENTRY(mime_limit_depth_huge),
    TM_TEST_ENTRY(mime_limit_parts),
    TM_TEST_ENTRY(mime_limit_decoded),
    TM_TEST_ENTRY(mime_limit_headers),
    TM_TEST_ENTRY(mime_limit_header_len),
    TM_TEST_ENTRY(mime_garbage_never_crashes),
    TM_TEST_ENTRY(mime_boundary_prefix_of_another),
    TM_TEST_ENTRY(mime_outer_boundary_closes_inner),
    TM_TEST_ENTRY(mime_header_and_eol_findings),
    TM_TEST_ENTRY(mime_limit_message_size),
    TM_TEST_ENTRY(mime_limit_params),
    TM_TEST_ENTRY(mime_limit_words),
    TM_TEST_ENTRY(mime_limit_uu),
    TM_TEST_ENTRY(mime_limit_arena),
    TM_TEST_ENTRY(mime_part_path_small_buffer),
    TM_TEST_END,
};
