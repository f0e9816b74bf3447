/*
 * test_url.c - the url stage: normal forms from the hand-made tables of
 * tests/data/url (obfuscated.tsv, and heldout.tsv as the final check),
 * idempotence of the normal form, redirector unwrapping, extraction from
 * plain text (positives, the usual false positives, punctuation), brand
 * lookalikes, public suffixes and the length limit.
 */
#include "harness.h"
#include "suites.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpsl.h>

#include "core/arena.h"
#include "core/core.h"
#include "core/str.h"
#include "url/url.h"

#define ARENA_BUDGET (16u << 20)

/* ---- table-driven normal forms ----------------------------------------- */

static const struct {
    const char *name;
    unsigned bit;
} flag_names[] = {
    {"SCHEMELESS", TM_URLF_SCHEMELESS},
    {"DEFANGED", TM_URLF_DEFANGED},
    {"IP", TM_URLF_IP},
    {"IP_OBFUSCATED", TM_URLF_IP_OBFUSCATED},
    {"IPV6", TM_URLF_IPV6},
    {"USERINFO", TM_URLF_USERINFO},
    {"IDN", TM_URLF_IDN},
    {"HOST_PCT", TM_URLF_HOST_PCT},
    {"BAD", TM_URLF_BAD},
    {"CUT", TM_URLF_CUT},
    {"MIXED_SCRIPT", TM_URLF_MIXED_SCRIPT},
    {"MAILTO", TM_URLF_MAILTO},
    {"PORT", TM_URLF_PORT},
};

static unsigned
parse_flags(const char *s)
{
    unsigned f = 0;
    size_t i;

    while (*s != '\0' && *s != '-') {
        size_t n = strcspn(s, ",");
        for (i = 0; i < TM_NELEM(flag_names); i++)
            if (strlen(flag_names[i].name) == n && memcmp(flag_names[i].name, s, n) == 0)
                f |= flag_names[i].bit;
        s += n;
        if (*s == ',')
            s++;
    }
    return f;
}

static void
show_flags(unsigned f, char *out, size_t outsz)
{
    size_t i, k = 0;

    out[0] = '\0';
    for (i = 0; i < TM_NELEM(flag_names); i++)
        if ((f & flag_names[i].bit) && k + strlen(flag_names[i].name) + 2 < outsz)
            k += (size_t)snprintf(out + k, outsz - k, "%s%s", k ? "," : "", flag_names[i].name);
    if (k == 0)
        snprintf(out, outsz, "-");
}

static int
hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* unescape - \t \n \r \xHH in place; any other backslash stays literal */
static size_t
unescape(char *s)
{
    size_t i = 0, o = 0;

    while (s[i] != '\0') {
        if (s[i] == '\\' && s[i + 1] == 't') {
            s[o++] = '\t';
            i += 2;
        } else if (s[i] == '\\' && s[i + 1] == 'n') {
            s[o++] = '\n';
            i += 2;
        } else if (s[i] == '\\' && s[i + 1] == 'r') {
            s[o++] = '\r';
            i += 2;
        } else if (s[i] == '\\' && s[i + 1] == 'x' && hexv(s[i + 2]) >= 0 && hexv(s[i + 3]) >= 0) {
            s[o++] = (char)(hexv(s[i + 2]) * 16 + hexv(s[i + 3]));
            i += 4;
        } else {
            s[o++] = s[i++];
        }
    }
    s[o] = '\0';
    return o;
}

static int
str_is(struct tm_str s, const char *lit)
{
    return s.len == strlen(lit) && (s.len == 0 || memcmp(s.p, lit, s.len) == 0);
}

/*
 * run_table - check every row of a TSV table; returns rows and failures.
 * Each mismatch is printed with the row; the normal form is also checked
 * for idempotence.
 */
static void
run_table(const char *file, size_t *rows, size_t *fails)
{
    char path[1024], line[4096];
    FILE *f;
    size_t lineno = 0;

    *rows = *fails = 0;
    snprintf(path, sizeof(path), "%s/%s", TM_URL_DATA_DIR, file);
    if ((f = fopen(path, "r")) == NULL) {
        tm_test_fail(__FILE__, __LINE__, "cannot open %s", path);
        *fails = 1;
        return;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char *col[5], *s = line, fl[256], efl[256];
        struct tm_arena *a;
        struct tm_url u, v;
        unsigned want;
        size_t nc = 0, inlen;
        int ok;

        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        while (nc < 5) {
            col[nc++] = s;
            s = strchr(s, '\t');
            if (s == NULL)
                break;
            *s++ = '\0';
        }
        if (nc != 5) {
            tm_test_fail(__FILE__, __LINE__, "%s:%zu: %zu columns", file, lineno, nc);
            (*fails)++;
            continue;
        }
        (*rows)++;
        inlen = unescape(col[0]);
        want = parse_flags(col[4]);
        a = tm_arena_new(ARENA_BUDGET);
        REQUIRE(a != NULL);
        REQUIRE(tm_url_normalize(a, (const unsigned char *)col[0], inlen, want & TM_URLF_SCHEMELESS,
                                 &u) == TM_OK);
        ok = str_is(u.normalized, col[1]) && str_is(u.host, col[2]) && str_is(u.domain, col[3]) &&
             u.flags == want;
        if (ok && !(u.flags & TM_URLF_BAD)) {
            REQUIRE(tm_url_normalize(a, u.normalized.p, u.normalized.len, 0, &v) == TM_OK);
            if (!str_is(v.normalized, col[1]) || !str_is(v.host, col[2])) {
                tm_test_fail(__FILE__, __LINE__, "%s:%zu: not idempotent: %.*s", file, lineno,
                             (int)v.normalized.len, (const char *)v.normalized.p);
                ok = 0;
            }
        }
        if (!ok) {
            show_flags(u.flags, fl, sizeof(fl));
            show_flags(want, efl, sizeof(efl));
            tm_test_fail(__FILE__, __LINE__,
                         "%s:%zu: got [%.*s] [%.*s] [%.*s] %s, want [%s] [%s] [%s] %s", file,
                         lineno, (int)u.normalized.len, (const char *)u.normalized.p,
                         (int)u.host.len, (const char *)u.host.p, (int)u.domain.len,
                         (const char *)u.domain.p, fl, col[1], col[2], col[3], efl);
            (*fails)++;
        }
        tm_arena_free(a);
    }
    fclose(f);
}

TM_TEST(url_table_obfuscated)
{
    size_t rows, fails;

    run_table("obfuscated.tsv", &rows, &fails);
    printf("  obfuscated.tsv: %zu/%zu rows pass\n", rows - fails, rows);
    CHECK(rows >= 60);
    CHECK_EQ_SIZE(fails, 0);
}

TM_TEST(url_table_heldout)
{
    size_t rows, fails;

    run_table("heldout.tsv", &rows, &fails);
    printf("  heldout.tsv: %zu/%zu rows pass\n", rows - fails, rows);
    CHECK(rows >= 25);
    CHECK_EQ_SIZE(fails, 0);
}

/* ---- single normal forms -------------------------------------------------- */

TM_TEST(url_fields)
{
    struct tm_arena *a = tm_arena_new(ARENA_BUDGET);
    struct tm_url u;

    REQUIRE(a != NULL);
    REQUIRE(tm_url_normalize(a, TM_LIT("HTTPS://Bob:pw@Bücher.DE:8443/x"), 0, &u) == TM_OK);
    CHECK(str_is(u.scheme, "https"));
    CHECK(str_is(u.userinfo, "Bob:pw"));
    CHECK(str_is(u.host, "xn--bcher-kva.de"));
    CHECK(str_is(u.host_utf8, "bücher.de"));
    CHECK_EQ_INT(u.port, 8443);
    CHECK_FLAGS(u.flags, TM_URLF_USERINFO | TM_URLF_IDN | TM_URLF_PORT);
    CHECK_EQ_INT(u.normalized.p[u.normalized.len], '\0');
    CHECK_EQ_INT(u.host.p[u.host.len], '\0');
    CHECK_EQ_INT(u.domain.p[u.domain.len], '\0');
    CHECK(u.raw.len == sizeof("HTTPS://Bob:pw@Bücher.DE:8443/x") - 1);
    tm_arena_free(a);
}

TM_TEST(url_long_is_cut)
{
    struct tm_arena *a = tm_arena_new(ARENA_BUDGET);
    unsigned char *big;
    struct tm_url u;
    size_t n = TM_URL_MAX_LEN + 500, i;

    REQUIRE(a != NULL);
    big = tm_arena_alloc(a, n);
    REQUIRE(big != NULL);
    memcpy(big, "http://example.com/", 19);
    for (i = 19; i < n; i++)
        big[i] = (i % 7 == 0) ? 0xff : 'a';
    REQUIRE(tm_url_normalize(a, big, n, 0, &u) == TM_OK);
    CHECK_FLAGS(u.flags, TM_URLF_CUT);
    CHECK_NOFLAGS(u.flags, TM_URLF_BAD);
    CHECK_LE_SIZE(u.normalized.len, TM_URL_MAX_LEN);
    CHECK(u.normalized.p[u.normalized.len - 1] != '%');
    CHECK(str_is(u.host, "example.com"));
    tm_arena_free(a);
}

TM_TEST(url_long_host_bad)
{
    struct tm_arena *a = tm_arena_new(ARENA_BUDGET);
    char buf[600];
    struct tm_url u;
    size_t i, k;

    REQUIRE(a != NULL);
    k = (size_t)snprintf(buf, sizeof(buf), "http://");
    for (i = 0; i < 60; i++)
        k += (size_t)snprintf(buf + k, sizeof(buf) - k, "abcd.");
    k += (size_t)snprintf(buf + k, sizeof(buf) - k, "com/");
    REQUIRE(tm_url_normalize(a, (const unsigned char *)buf, k, 0, &u) == TM_OK);
    CHECK_FLAGS(u.flags, TM_URLF_BAD);
    CHECK_MEM(u.normalized.p, u.normalized.len, buf, k);
    tm_arena_free(a);
}

/* A host whose ASCII (UTS#46) form is a number is an IPv4 address, as in browsers. */
TM_TEST(url_idna_then_ipv4)
{
    struct tm_arena *a = tm_arena_new(ARENA_BUDGET);
    struct tm_url u, v;

    REQUIRE(a != NULL);
    /* fullwidth digits and a zero-width non-joiner */
    REQUIRE(tm_url_normalize(a, TM_LIT("http://\xef\xbc\x97\xe2\x80\x8c.1/"), 0, &u) == TM_OK);
    CHECK(str_is(u.normalized, "http://7.0.0.1/"));
    CHECK_FLAGS(u.flags, TM_URLF_IP | TM_URLF_IP_OBFUSCATED);
    CHECK_NOFLAGS(u.flags, TM_URLF_IDN | TM_URLF_BAD);
    REQUIRE(tm_url_normalize(a, TM_LIT("7\xe2\x80\x8c"), TM_URLF_SCHEMELESS, &u) == TM_OK);
    REQUIRE(tm_url_normalize(a, u.normalized.p, u.normalized.len, 0, &v) == TM_OK);
    CHECK_MEM(u.normalized.p, u.normalized.len, v.normalized.p, v.normalized.len);
    tm_arena_free(a);
}

/* ---- redirectors ----------------------------------------------------------- */

static void
check_redirect(const char *in, const char *want)
{
    struct tm_arena *a = tm_arena_new(ARENA_BUDGET);
    struct tm_url u;
    struct tm_str inner = TM_STR_NULL;
    int r;

    REQUIRE(a != NULL);
    REQUIRE(tm_url_normalize(a, (const unsigned char *)in, strlen(in), 0, &u) == TM_OK);
    r = tm_url_redirect_target(a, &u, &inner);
    if (want == NULL) {
        if (r != 0)
            tm_test_fail(__FILE__, __LINE__, "%s: unexpected target %.*s", in, (int)inner.len,
                         (const char *)inner.p);
    } else if (r != 1 || !str_is(inner, want)) {
        tm_test_fail(__FILE__, __LINE__, "%s: target [%.*s] want [%s]", in, r ? (int)inner.len : 0,
                     r ? (const char *)inner.p : "", want);
    }
    tm_arena_free(a);
}

TM_TEST(url_redirect)
{
    check_redirect("https://www.google.com/url?sa=t&q=http%3A%2F%2Fevil.example%2Fx%3Fa%3D1&usg=z",
                   "http://evil.example/x?a=1");
    check_redirect("https://t.co/r/https://evil.example/p?x=1", "https://evil.example/p?x=1");
    check_redirect("https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fphish.ru%2F"
                   "login&data=04%7C01",
                   "https://phish.ru/login");
    check_redirect("https://l.facebook.com/l.php?u=http%3A%2F%2Fbad.example%2F&h=AT0",
                   "http://bad.example/");
    check_redirect("http://example.com/redirect?URL=www.evil.com/x", "http://www.evil.com/x");
    check_redirect("http://example.com/go?next=%2F%2Fevil.com%2F", "http://evil.com/");
    check_redirect("http://example.com/out/http%3A%2F%2Fevil.com%2Fa", "http://evil.com/a");
    check_redirect("http://example.com/x?dest=http%253A%252F%252Fdouble.example%252F",
                   "http://double.example/");
    check_redirect("http://example.com/search?q=cats", NULL);
    check_redirect("http://example.com/?page=http://x.com/", NULL);
    check_redirect("http://example.com/a/b?x=1", NULL);
    check_redirect("mailto:a@example.com?to=http://x.com/", NULL);
}

/* ---- extraction ------------------------------------------------------------ */

struct collect {
    char out[4096];
    size_t len;
};

static tm_rc
collect_fn(void *ud, const unsigned char *p, size_t n, unsigned flags)
{
    struct collect *c = ud;
    char pre[8];
    size_t k = 0;

    if (flags & TM_URLF_SCHEMELESS)
        pre[k++] = 'S';
    if (flags & TM_URLF_DEFANGED)
        pre[k++] = 'D';
    if (flags & TM_URLF_MAILTO)
        pre[k++] = 'M';
    if (flags & TM_URLF_CUT)
        pre[k++] = 'C';
    if (k > 0)
        pre[k++] = ':';
    pre[k] = '\0';
    c->len += (size_t)snprintf(c->out + c->len, sizeof(c->out) - c->len, "%s%s%.*s",
                               c->len ? " | " : "", pre, (int)n, (const char *)p);
    if (c->len >= sizeof(c->out))
        c->len = sizeof(c->out) - 1;
    return TM_OK;
}

static void
check_extract(int line, const char *text, const char *want)
{
    struct tm_arena *a = tm_arena_new(ARENA_BUDGET);
    struct collect c;

    REQUIRE(a != NULL);
    memset(&c, 0, sizeof(c));
    REQUIRE(tm_url_extract_text(a, (const unsigned char *)text, strlen(text), collect_fn, &c) ==
            TM_OK);
    if (strcmp(c.out, want) != 0)
        tm_test_fail(__FILE__, line, "extract(\"%s\"):\n    got  [%s]\n    want [%s]", text, c.out,
                     want);
    tm_arena_free(a);
}

#define EX(text, want) check_extract(__LINE__, text, want)

TM_TEST(url_extract_positive)
{
    EX("see http://example.com/a?b=1 now", "http://example.com/a?b=1");
    EX("HTTPS://Example.COM/X.", "HTTPS://Example.COM/X");
    EX("go to www.example.org today", "S:www.example.org");
    EX("visit example.com.", "S:example.com");
    EX("at example.co.uk/path?x=1, then", "S:example.co.uk/path?x=1");
    EX("host paypal.com.evil.ru here", "S:paypal.com.evil.ru");
    EX("(http://example.com/x)", "http://example.com/x");
    EX("http://en.wikipedia.org/wiki/Foo_(bar)", "http://en.wikipedia.org/wiki/Foo_(bar)");
    EX("[http://example.com/]", "http://example.com/");
    EX("<http://example.com/a>", "http://example.com/a");
    EX("\"http://example.com\"", "http://example.com");
    EX("url:http://example.com/;", "http://example.com/");
    EX("two: http://a.example.com, https://b.example.net!",
       "http://a.example.com | https://b.example.net");
    EX("mail john.doe@example.com please", "M:mailto:john.doe@example.com");
    EX("<jane+tag@mail.example.co.uk>", "M:mailto:jane+tag@mail.example.co.uk");
    EX("mailto:x@example.org.", "M:mailto:x@example.org");
    EX("From: John@Example.Com", "M:mailto:John@Example.Com");
    EX("hxxp://evil.example/x", "D:hxxp://evil.example/x");
    EX("hxxps[:]//evil[.]com/a", "D:hxxps[:]//evil[.]com/a");
    EX("bad at example[.]com now", "SD:example[.]com");
    EX("evil(dot)com/x", "SD:evil(dot)com/x");
    EX("evil{.}net", "SD:evil{.}net");
    EX("h**p://x.example.com", "D:h**p://x.example.com");
    EX("example.com:8080/admin", "S:example.com:8080/admin");
    EX("localhost:8080 example.net:443", "S:example.net"); /* host and a number */
    EX("www.example.net:443 x", "S:www.example.net:443");
    EX("ftp://files.example.org/pub/", "ftp://files.example.org/pub/");
    EX("münchen.de ist schön", "S:münchen.de");
    EX("\xe2\x80\x9c"
       "example.com"
       "\xe2\x80\x9d",
       "S:example.com");
    EX("text\xc2\xa0http://example.com/\xc2\xa0more", "http://example.com/");
    EX("EXAMPLE.COM", "S:EXAMPLE.COM");
    EX("download archive.zip/file or www.files.zip", "S:archive.zip/file | S:www.files.zip");
}

TM_TEST(url_extract_negative)
{
    EX("version 1.2.3 released", "");
    EX("e.g. this, i.e. that", "");
    EX("open file.txt and index.html", "");
    EX("run script.py or install.sh, see README.md", "");
    EX("archive.zip attached", "");
    EX("it ended.The next one", "");
    EX("xhttp://example.com", "");
    EX("foo@bar", "");
    EX("a@b.c", "");
    EX("http://", "");
    EX("user.name", "");
    EX("3.14159 and 10.5", "");
    EX("/usr/share/doc.com", "");
    EX("name@localhost", "");
    EX("foo.bar@baz", "");
    EX("Price 5.99 USD. Mr.Smith said hi.He left", "");
    EX("node.js and vue.js", "");
}

/* Work stays linear on hostile shapes (the harness alarm catches a blowup). */
TM_TEST(url_extract_linear)
{
    struct tm_arena *a = tm_arena_new(64u << 20);
    size_t n = 2u << 20, i;
    unsigned char *p;
    struct collect c;
    static const char *const pat[] = {"a.", "a=", "(", "a@", "[.]", "x.co"};
    size_t k;

    REQUIRE(a != NULL);
    p = tm_arena_alloc(a, n);
    REQUIRE(p != NULL);
    for (k = 0; k < TM_NELEM(pat); k++) {
        size_t pl = strlen(pat[k]);
        for (i = 0; i < n; i++)
            p[i] = (unsigned char)pat[k][i % pl];
        memset(&c, 0, sizeof(c));
        CHECK(tm_url_extract_text(a, p, n, collect_fn, &c) == TM_OK);
    }
    tm_arena_free(a);
}

static tm_rc
stop_fn(void *ud, const unsigned char *p, size_t n, unsigned flags)
{
    (void)p;
    (void)n;
    (void)flags;
    ++*(int *)ud;
    return TM_ELIMIT;
}

TM_TEST(url_extract_stops)
{
    struct tm_arena *a = tm_arena_new(ARENA_BUDGET);
    int calls = 0;

    REQUIRE(a != NULL);
    CHECK(tm_url_extract_text(a, TM_LIT("http://a.com http://b.com"), stop_fn, &calls) ==
          TM_ELIMIT);
    CHECK_EQ_INT(calls, 1);
    tm_arena_free(a);
}

TM_TEST(url_extract_long_cut)
{
    struct tm_arena *a = tm_arena_new(ARENA_BUDGET);
    size_t n = TM_URL_MAX_LEN * 2, i;
    unsigned char *p;
    struct collect c;

    REQUIRE(a != NULL);
    p = tm_arena_alloc(a, n);
    REQUIRE(p != NULL);
    memcpy(p, "http://example.com/", 19);
    for (i = 19; i < n; i++)
        p[i] = 'a';
    memset(&c, 0, sizeof(c));
    CHECK(tm_url_extract_text(a, p, n, collect_fn, &c) == TM_OK);
    CHECK(strncmp(c.out, "C:http://example.com/aaa", 24) == 0);
    tm_arena_free(a);
}

/* Extraction and normalisation agree on defanged forms. */
TM_TEST(url_extract_then_normalize)
{
    static const struct {
        const char *text, *norm;
    } v[] = {
        {"hxxps[:]//evil[.]com/a", "https://evil.com/a"},
        {"evil(dot)co(dot)uk/x", "http://evil.co.uk/x"},
        {"www.example.com/p", "http://www.example.com/p"},
        {"x@example[.]org", "mailto:x@example.org"},
    };
    size_t i;

    for (i = 0; i < TM_NELEM(v); i++) {
        struct tm_arena *a = tm_arena_new(ARENA_BUDGET);
        struct collect c;
        struct tm_url u;
        const char *s;
        unsigned fl;

        REQUIRE(a != NULL);
        memset(&c, 0, sizeof(c));
        REQUIRE(tm_url_extract_text(a, (const unsigned char *)v[i].text, strlen(v[i].text),
                                    collect_fn, &c) == TM_OK);
        s = strchr(c.out, ':');
        REQUIRE(s != NULL);
        fl = (strchr(c.out, 'S') != NULL && strchr(c.out, 'S') < s) ? TM_URLF_SCHEMELESS : 0;
        s++;
        REQUIRE(tm_url_normalize(a, (const unsigned char *)s, strlen(s), fl, &u) == TM_OK);
        if (!str_is(u.normalized, v[i].norm))
            tm_test_fail(__FILE__, __LINE__, "%s -> %s -> %.*s", v[i].text, s,
                         (int)u.normalized.len, (const char *)u.normalized.p);
        CHECK_FLAGS(u.flags, TM_URLF_DEFANGED * (i != 2));
        tm_arena_free(a);
    }
}

/* ---- brands, suffixes, names ----------------------------------------------- */

static const char *
brand_of(struct tm_arena *a, const char *url)
{
    struct tm_url u;

    if (tm_url_normalize(a, (const unsigned char *)url, strlen(url), 0, &u) != TM_OK)
        return "ENOMEM";
    return tm_url_brand_lookalike(a, &u);
}

TM_TEST(url_brand_lookalike)
{
    struct tm_arena *a = tm_arena_new(ARENA_BUDGET);

    REQUIRE(a != NULL);
    CHECK_STR(brand_of(a, "http://\xd0\xb0pple.com/"), "apple"); /* Cyrillic a */
    CHECK_STR(brand_of(a, "http://xn--pple-43d.com/"), "apple");
    CHECK_STR(brand_of(a, "http://paypa1.com/"), "paypal");
    CHECK_STR(brand_of(a, "http://login.rnicrosoft.com/"), "microsoft");
    CHECK_STR(brand_of(a, "http://g00gle.com/"), "google");
    CHECK_STR(brand_of(a, "http://www.\xce\xbf"
                          "utlook.com/"),
              "outlook"); /* Greek omicron */
    CHECK_STR(brand_of(a, "http://\xd1\x80\xd0\xb0y\xd1\x80\xd0\xb0l.com/"), "paypal");
    CHECK_STR(brand_of(a, "http://netf1ix.example/"), "netflix");
    CHECK_STR(brand_of(a, "http://amaz0n.co.uk/"), "amazon");
    CHECK_STR(brand_of(a, "http://paypal.com/"), NULL);
    CHECK_STR(brand_of(a, "http://www.apple.com/"), NULL);
    CHECK_STR(brand_of(a, "http://paypal-secure-login.com/"), NULL);
    CHECK_STR(brand_of(a, "http://paypal.com.evil.ru/"), NULL);
    CHECK_STR(brand_of(a, "http://example.com/"), NULL);
    CHECK_STR(brand_of(a, "http://192.168.1.1/"), NULL);
    CHECK_STR(brand_of(a, "http://modern.example/"), NULL);
    tm_arena_free(a);
}

TM_TEST(url_suffixes)
{
    struct tm_arena *a = tm_arena_new(ARENA_BUDGET);
    struct tm_str d;

    REQUIRE(a != NULL);
    CHECK(tm_url_is_known_suffix(TM_LIT("example.com")));
    CHECK(tm_url_is_known_suffix(TM_LIT("example.CO.UK")));
    CHECK(tm_url_is_known_suffix(TM_LIT("xn--e1afmkfd.xn--p1ai")));
    CHECK(tm_url_is_known_suffix(TM_LIT("a.zip")));
    CHECK(!tm_url_is_known_suffix(TM_LIT("file.txt")));
    CHECK(!tm_url_is_known_suffix(TM_LIT("e.g")));
    CHECK(!tm_url_is_known_suffix(TM_LIT("index.html")));
    CHECK(!tm_url_is_known_suffix(TM_LIT("")));
    CHECK(tm_url_is_known_suffix(TM_LIT("example.com.")));
    CHECK(!tm_url_is_known_suffix(TM_LIT("x.notatld.")));
    d = tm_url_registrable(a, tm_str_make("a.b.example.co.uk", 17));
    CHECK(str_is(d, "example.co.uk"));
    d = tm_url_registrable(a, tm_str_make("co.uk", 5));
    CHECK(str_is(d, "co.uk"));
    d = tm_url_registrable(a, tm_str_make("foo.bar.unknowntld", 18));
    CHECK(str_is(d, "bar.unknowntld")); /* the PSL default rule "*" */
    d = tm_url_registrable(a, tm_str_make("10.0.0.1", 8));
    CHECK(str_is(d, "10.0.0.1"));
    tm_arena_free(a);
}

/*
 * The per-thread memo of PSL answers (host.c) gives what libpsl itself
 * gives, asked again and again: 700 hosts (more than the memo's 256
 * slots, so entries collide and are replaced; some keys too long to be
 * kept), in two passes and in mixed case, against psl_registrable_domain
 * and psl_is_public_suffix2 on the same list file.
 */
TM_TEST(url_psl_memo)
{
    static const char *const tails[] = {"example.co.uk", "github.io", "com", "net",
                                        "xn--p1ai", "s3.amazonaws.com", "zip", "org.uk"};
    psl_ctx_t *own = psl_latest("/usr/share/publicsuffix/public_suffix_list.dafsa");
    const psl_ctx_t *ctx = own != NULL ? own : psl_builtin();
    struct tm_arena *a = tm_arena_new(ARENA_BUDGET);
    int pass, i, bad = 0;

    REQUIRE(a != NULL && ctx != NULL);
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < 700; i++) {
            char host[160], low[160];
            const char *want;
            struct tm_str got;
            size_t k, n;
            const char *tail = tails[i % 8];
            if (i % 5 == 4) /* longer than a memo key */
                snprintf(host, sizeof(host), "Very-Long-Label-%d.another-long-label.%s", i, tail);
            else
                snprintf(host, sizeof(host), "%s%d.%s", (i + pass) % 2 ? "WWW.h" : "a.h", i, tail);
            n = strlen(host);
            for (k = 0; k <= n; k++)
                low[k] = (char)tm_lower((unsigned char)host[k]);
            want = psl_registrable_domain(ctx, low);
            if (want == NULL)
                want = low;
            got = tm_url_registrable(a, tm_str_make(host, n));
            if (!str_is(got, want)) {
                bad++;
                if (bad < 5)
                    fprintf(stderr, "url_psl_memo: %s: got %.*s, libpsl %s\n", host,
                            (int)got.len, got.p != NULL ? (const char *)got.p : "", want);
            }
            {
                const char *last = strrchr(low, '.') + 1;
                int suf = psl_is_public_suffix2(ctx, last, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
                if (tm_url_is_known_suffix((const unsigned char *)host, n) != suf)
                    bad++;
            }
        }
    }
    CHECK(bad == 0);
    CHECK(tm_url_is_known_suffix(TM_LIT("FILE.TXT")) == 0);
    CHECK(tm_url_is_known_suffix(TM_LIT("file.txt")) == 0);
    CHECK(tm_url_is_known_suffix(TM_LIT("a.COM")) == 1);
    tm_arena_free(a);
    psl_free(own);
}

static void *
psl_thread(void *arg)
{
    struct tm_arena *a = tm_arena_new(ARENA_BUDGET);
    struct tm_str d;
    int i, *ok = arg;

    if (a == NULL)
        return NULL;
    for (i = 0; i < 200; i++) {
        d = tm_url_registrable(a, tm_str_make("www.example.co.uk", 17));
        if (!str_is(d, "example.co.uk"))
            *ok = 0;
    }
    tm_arena_free(a);
    return NULL;
}

/* The PSL is loaded once, whichever thread asks first. */
TM_TEST(url_psl_threads)
{
    pthread_t t[4];
    int ok[4] = {1, 1, 1, 1};
    size_t i;

    for (i = 0; i < 4; i++)
        REQUIRE(pthread_create(&t[i], NULL, psl_thread, &ok[i]) == 0);
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(ok[i]);
    }
}

TM_TEST(url_source_names)
{
    CHECK_STR(tm_url_source_name(TM_URL_SRC_TEXT), "text");
    CHECK_STR(tm_url_source_name(TM_URL_SRC_HREF), "href");
    CHECK_STR(tm_url_source_name(TM_URL_SRC_SRC), "src");
    CHECK_STR(tm_url_source_name(TM_URL_SRC_FORM), "form");
    CHECK_STR(tm_url_source_name(TM_URL_SRC_HEADER), "header");
    CHECK_STR(tm_url_source_name(TM_URL_SRC_REDIRECT), "redirect");
}

/* A tiny arena budget gives TM_ENOMEM, never a crash. */
TM_TEST(url_enomem)
{
    struct tm_arena *a = tm_arena_new(64);
    struct tm_url u;
    tm_rc rc;

    REQUIRE(a != NULL);
    rc = tm_url_normalize(a, TM_LIT("http://m\xc3\xbcnchen.de/some/long/path/here"), 0, &u);
    CHECK(rc == TM_OK || rc == TM_ENOMEM);
    tm_arena_free(a);
}

const struct tm_test tests_url[] = {
    TM_TEST_ENTRY(url_table_obfuscated),
    TM_TEST_ENTRY(url_table_heldout),
    TM_TEST_ENTRY(url_fields),
    TM_TEST_ENTRY(url_long_is_cut),
    TM_TEST_ENTRY(url_long_host_bad),
    TM_TEST_ENTRY(url_idna_then_ipv4),
    TM_TEST_ENTRY(url_redirect),
    TM_TEST_ENTRY(url_extract_positive),
    TM_TEST_ENTRY(url_extract_negative),
    TM_TEST_ENTRY(url_extract_linear),
    TM_TEST_ENTRY(url_extract_stops),
    TM_TEST_ENTRY(url_extract_long_cut),
    TM_TEST_ENTRY(url_extract_then_normalize),
    TM_TEST_ENTRY(url_brand_lookalike),
    TM_TEST_ENTRY(url_suffixes),
    TM_TEST_ENTRY(url_psl_threads),
    TM_TEST_ENTRY(url_psl_memo),
    TM_TEST_ENTRY(url_source_names),
    TM_TEST_ENTRY(url_enomem),
    TM_TEST_END,
};
