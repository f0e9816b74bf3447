/*
 * test_html.c - the html stage (scanner/html): rendered text in HTML.pm's
 * shape, entities, script/style/comments, links with <base href>
 * resolution and anchor text, meta refresh and charset, every kind of
 * hidden text (and text that must not count as hidden), counters, and the
 * node, depth, link and URL-length limits with their findings. Expected
 * values are worked out by hand from SpamAssassin's display_text rules.
 */
#include "harness.h"
#include "suites.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/arena.h"
#include "core/findings.h"
#include "core/limits.h"
#include "core/task.h"
#include "html/html.h"

struct fixture {
    struct tm_engine *e;
    struct tm_task *t;
    struct tm_html_doc d;
    tm_rc rc;
};

/* parse - run tm_html_parse on a C string with limits `lim` (NULL: defaults) */
static int
parse_lim(struct fixture *f, const char *html, size_t n, int chars, const struct tm_limits *lim)
{
    struct tm_limits def = tm_limits_default();

    f->e = tm_engine_new_bare(lim != NULL ? lim : &def);
    if (f->e == NULL)
        return 0;
    f->t = tm_task_new(f->e);
    if (f->t == NULL)
        return 0;
    f->rc = tm_html_parse(f->t, (const unsigned char *)html, n, chars, &f->d);
    return 1;
}

static int
parse(struct fixture *f, const char *html)
{
    return parse_lim(f, html, strlen(html), 1, NULL);
}

static void
done(struct fixture *f)
{
    if (f->t != NULL)
        tm_task_free(f->t);
    if (f->e != NULL)
        tm_engine_unref(f->e);
    memset(f, 0, sizeof(*f));
}

#define CHECK_TEXT(f, lit) CHECK_MEM((f)->d.text.p, (f)->d.text.len, lit, sizeof(lit) - 1)
#define CHECK_VIEW(v, lit) CHECK_MEM((v).p, (v).len, lit, sizeof(lit) - 1)

/* ---- text ---------------------------------------------------------------- */

/* p gives "\n\n" at start and end tag; inline tags only split text */
TM_TEST(html_text_paragraph)
{
    struct fixture f = {0};

    REQUIRE(parse(&f, "<p>Hello <b>world</b></p>"));
    CHECK_EQ_INT(f.rc, TM_OK);
    CHECK_TEXT(&f, "\n\nHello world\n\n");
    CHECK_EQ_SIZE(f.d.visible_chars, 10);
    CHECK_EQ_SIZE(f.d.hidden_chars, 0);
    CHECK_EQ_INT(f.d.hidden, 0);
    done(&f);
}

/* Unclosed divs: only the written tags give whitespace, none at the end. */
TM_TEST(html_text_unclosed)
{
    struct fixture f = {0};

    REQUIRE(parse(&f, "<div>a<div>b"));
    CHECK_TEXT(&f, "\na\nb");
    done(&f);
    /* libxml2 implies html/body/p around bare text and closes the first p
       at the second: neither shows in the text */
    REQUIRE(parse(&f, "x<p>a<p>b"));
    CHECK_TEXT(&f, "x\n\na\n\nb");
    done(&f);
}

/* td gives a space at start and end; nested tables as written */
TM_TEST(html_text_nested_tables)
{
    struct fixture f = {0};

    REQUIRE(parse(&f, "<table><tr><td>a<table><tr><td>b</td></tr></table></td><td>c</td></tr>"
                      "</table>d"));
    CHECK_TEXT(&f, " a b   c d");
    CHECK_EQ_SIZE(f.d.nodes, 9);
    done(&f);
}

/* Entities as HTML::Parser decodes them; broken ones stay literal. */
TM_TEST(html_text_entities)
{
    struct fixture f = {0};

    REQUIRE(parse(&f, "x &amp y &#x110000; &bogus; &lt;b&gt; &eacute;&nbsp;&#65;&#xD800;"));
    CHECK_TEXT(&f, "x & y &#x110000; &bogus; <b> \xc3\xa9 A&#xD800;");
    done(&f);
    /* octet mode: a decoded code point below 256 is one byte */
    REQUIRE(parse_lim(&f, "&eacute;&#8364;", 15, 0, NULL));
    CHECK_TEXT(&f, "\xe9\xe2\x82\xac");
    done(&f);
    /* octet mode: raw bytes come back unchanged, even invalid UTF-8 */
    REQUIRE(parse_lim(&f, "a\xff\xc3(b", 5, 0, NULL));
    CHECK_TEXT(&f, "a\xff\xc3(b");
    done(&f);
    /* character mode: malformed UTF-8 comes back as it was, and does not
       make libxml2 read the rest as Latin-1 */
    REQUIRE(parse_lim(&f, "a\xff\xc3(b \xc3\xa9<b>\xe2\x82\xac</b>", 15, 1, NULL));
    CHECK_TEXT(&f, "a\xff\xc3(b \xc3\xa9\xe2\x82\xac");
    CHECK_EQ_SIZE(f.d.visible_chars, 7);
    done(&f);
}

/* Curly double quotes in the text become '"' (HTML.pm) */
TM_TEST(html_text_quotes)
{
    struct fixture f = {0};

    REQUIRE(parse(&f, "\xe2\x80\x9chi\xe2\x80\x9d"));
    CHECK_TEXT(&f, "\"hi\"");
    done(&f);
}

TM_TEST(html_text_script_style_comment)
{
    struct fixture f = {0};

    REQUIRE(parse(&f, "a<script>var x=\"<p>\";</script>b<style>p{}</style>c<!-- d <p> -->e"
                      "<![if !vml]>f<![endif]>"));
    CHECK_TEXT(&f, "abcef");
    CHECK_EQ_SIZE(f.d.visible_chars, 5);
    done(&f);
}

/* Text after </html> is still rendered, as HTML::Parser does. */
TM_TEST(html_text_after_html_end)
{
    struct fixture f = {0};

    REQUIRE(parse(&f, "<html><body>x</body></html><hr>more &amp; <a href=u>u</a></p>"));
    CHECK_TEXT(&f, "x\n\nmore & u\n\n");
    CHECK_EQ_SIZE(f.d.nlinks, 1);
    done(&f);
}

/* iframe/xmp/textarea content is text to HTML::Parser */
TM_TEST(html_text_literal_elements)
{
    struct fixture f = {0};

    REQUIRE(parse(&f, "a<iframe src=x><b>t</b></iframe>c"));
    CHECK_TEXT(&f, "a<b>t</b>c");
    done(&f);
}

TM_TEST(html_empty_and_junk)
{
    static const unsigned char junk[] = {0x00, 0xff, '<', 0x01, '&', '#', 0xfe, '<', '/',
                                         '>',  0x80, '<', '!',  '-', '-', 0x00, 0xc3};
    struct fixture f = {0};

    REQUIRE(parse_lim(&f, "", 0, 1, NULL));
    CHECK_EQ_INT(f.rc, TM_OK);
    CHECK_EQ_SIZE(f.d.text.len, 0);
    CHECK_EQ_SIZE(f.d.nlinks, 0);
    done(&f);
    REQUIRE(parse_lim(&f, (const char *)junk, sizeof(junk), 1, NULL));
    CHECK_EQ_INT(f.rc, TM_OK);
    CHECK_LE_SIZE(f.d.hidden_chars + f.d.visible_chars, sizeof(junk));
    done(&f);
    REQUIRE(parse_lim(&f, (const char *)junk, sizeof(junk), 0, NULL));
    CHECK_EQ_INT(f.rc, TM_OK);
    done(&f);
}

/* ---- links --------------------------------------------------------------- */

TM_TEST(html_links_base_resolution)
{
    struct fixture f = {0};

    REQUIRE(parse(&f, "<base href=\"http://h.com/a/b/c?q#f\">"
                      "<a href=\"//o.net/p\">1</a><a href=\"/abs\">2</a><a href=\"../up\">3</a>"
                      "<a href=\"?qq\">4</a><a href=\"#ff\">5</a><a href=\"mailto:x@y\">6</a>"
                      "<a href=\"./d/./e/../g\">7</a><a href=\"rel/x.html?a=1&amp;b=2\">8</a>"
                      "<a href=\"../../../../z\">9</a>"));
    CHECK_VIEW(f.d.base, "http://h.com/a/b/c?q#f");
    REQUIRE(f.d.nlinks == 9);
    CHECK_VIEW(f.d.links[0].url, "http://o.net/p");
    CHECK_VIEW(f.d.links[0].raw, "//o.net/p");
    CHECK_VIEW(f.d.links[1].url, "http://h.com/abs");
    CHECK_VIEW(f.d.links[2].url, "http://h.com/a/up");
    CHECK_VIEW(f.d.links[3].url, "http://h.com/a/b/c?qq");
    CHECK_VIEW(f.d.links[4].url, "http://h.com/a/b/c?q#ff");
    CHECK_VIEW(f.d.links[5].url, "mailto:x@y");
    CHECK_VIEW(f.d.links[6].url, "http://h.com/a/b/d/g");
    CHECK_VIEW(f.d.links[7].url, "http://h.com/a/b/rel/x.html?a=1&b=2");
    CHECK_VIEW(f.d.links[8].url, "http://h.com/z");
    CHECK_VIEW(f.d.links[2].anchor, "3");
    done(&f);
    /* no base: relative references stay as written */
    REQUIRE(parse(&f, "<a href=' /x '>y</a>"));
    REQUIRE(f.d.nlinks == 1);
    CHECK_VIEW(f.d.links[0].url, "/x");
    done(&f);
    /* a base that is not absolute is not used */
    REQUIRE(parse(&f, "<base href=\"/dir/\"><a href=\"x\">y</a>"));
    REQUIRE(f.d.nlinks == 1);
    CHECK_VIEW(f.d.links[0].url, "x");
    done(&f);
    /* authority without path: merge starts at "/" */
    REQUIRE(parse(&f, "<base href=\"https://h.org\"><a href=\"x\">y</a>"));
    REQUIRE(f.d.nlinks == 1);
    CHECK_VIEW(f.d.links[0].url, "https://h.org/x");
    done(&f);
}

TM_TEST(html_links_kinds_and_anchor)
{
    struct fixture f = {0};

    REQUIRE(parse(&f, "<a href=\"/x\">  Click\n   <b>here</b>  now </a>"
                      "<img src=a.gif width=10 height=20><img src=b width=3>"
                      "<form action=/f></form><area href=h alt=\" Alt \n text \">"
                      "<iframe src=if></iframe><link href=css><script src=js></script>"
                      "<table background=bg.png><tr><td>t</td></tr></table>"));
    CHECK_TEXT(&f, " Click here now t ");
    REQUIRE(f.d.nlinks == 9);
    CHECK_EQ_INT(f.d.links[0].kind, TM_HTML_LINK_A);
    CHECK_VIEW(f.d.links[0].anchor, "Click here now");
    CHECK_EQ_INT(f.d.links[1].kind, TM_HTML_LINK_IMG);
    CHECK_VIEW(f.d.links[1].url, "a.gif");
    CHECK_EQ_INT(f.d.links[3].kind, TM_HTML_LINK_FORM);
    CHECK_EQ_INT(f.d.links[4].kind, TM_HTML_LINK_AREA);
    CHECK_VIEW(f.d.links[4].anchor, "Alt text");
    CHECK_EQ_INT(f.d.links[5].kind, TM_HTML_LINK_IFRAME);
    CHECK_EQ_INT(f.d.links[6].kind, TM_HTML_LINK_OTHER);
    CHECK_EQ_INT(f.d.links[7].kind, TM_HTML_LINK_OTHER);
    CHECK_VIEW(f.d.links[8].url, "bg.png");
    CHECK_EQ_SIZE(f.d.images, 2);
    CHECK_EQ_SIZE(f.d.image_area, 200);
    CHECK_EQ_SIZE(f.d.forms, 1);
    CHECK_STR(tm_html_link_kind_name(TM_HTML_LINK_META), "meta");
    done(&f);
}

/* Anchor text is folded and capped at 256 bytes, on a character boundary. */
TM_TEST(html_links_anchor_cap)
{
    struct fixture f = {0};
    char html[2048];
    size_t n = 0, i;

    n += (size_t)snprintf(html, sizeof(html), "<a href=x>");
    for (i = 0; i < 300; i++)
        html[n++] = (char)('a' + i % 26);
    n += (size_t)snprintf(html + n, sizeof(html) - n, "</a>");
    REQUIRE(parse_lim(&f, html, n, 1, NULL));
    REQUIRE(f.d.nlinks == 1);
    CHECK_EQ_SIZE(f.d.links[0].anchor.len, 256);
    CHECK_EQ_SIZE(f.d.text.len, 300);
    done(&f);
}

TM_TEST(html_meta_refresh_and_charset)
{
    struct fixture f = {0};

    REQUIRE(parse(&f, "<meta http-equiv=\"Refresh\" content=\"0; URL='http://r.com/x'\">"
                      "<meta charset=\"koi8-r\"><meta charset=utf-8>"));
    REQUIRE(f.d.nlinks == 1);
    CHECK_EQ_INT(f.d.links[0].kind, TM_HTML_LINK_META);
    CHECK_VIEW(f.d.links[0].url, "http://r.com/x");
    CHECK_VIEW(f.d.meta_charset, "koi8-r");
    done(&f);
    REQUIRE(parse(&f, "<meta http-equiv=content-type content=\"text/html; charset=Windows-1251\">"
                      "<meta http-equiv=refresh content=\"5\">"));
    CHECK_VIEW(f.d.meta_charset, "Windows-1251");
    CHECK_EQ_SIZE(f.d.nlinks, 0);
    done(&f);
}

TM_TEST(html_sniff_charset)
{
    static const char a[] = "<!-- <meta charset=no> --><html><head>"
                            "<meta name=x content=y><meta charset='ISO-8859-2'>";
    static const char b[] = "<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; "
                            "charset=\\\"big5\\\"\">";
    static const char c[] = "<meta content=\"text/html; charset=euc-jp\" "
                            "http-equiv=\"content-type\">";
    static const char d[] = "<meta content=\"text/html; charset=euc-jp\">";
    struct tm_str s;
    char late[1200];

    s = tm_html_sniff_charset((const unsigned char *)a, sizeof(a) - 1);
    CHECK_VIEW(s, "ISO-8859-2");
    s = tm_html_sniff_charset((const unsigned char *)b, sizeof(b) - 1);
    CHECK_VIEW(s, "\\");
    s = tm_html_sniff_charset((const unsigned char *)c, sizeof(c) - 1);
    CHECK_VIEW(s, "euc-jp");
    s = tm_html_sniff_charset((const unsigned char *)d, sizeof(d) - 1);
    CHECK_EQ_SIZE(s.len, 0);
    /* past the first 1024 bytes nothing counts */
    memset(late, ' ', sizeof(late));
    memcpy(late + 1100, "<meta charset=x>", 16);
    s = tm_html_sniff_charset((const unsigned char *)late, sizeof(late));
    CHECK_EQ_SIZE(s.len, 0);
    s = tm_html_sniff_charset(NULL, 0);
    CHECK_EQ_SIZE(s.len, 0);
}

/* A 1 MB href is cut at text_max_uri_len, with the finding. */
TM_TEST(html_links_huge_href)
{
    struct fixture f = {0};
    struct tm_limits lim = tm_limits_default();
    size_t n = 1u << 20, i;
    char *html = malloc(n + 32); /* checksrc: allow (test scratch) */

    REQUIRE(html != NULL);
    memcpy(html, "<a href=\"http://", 16);
    for (i = 16; i < n; i++)
        html[i] = 'x';
    memcpy(html + n, "\">y</a>", 7);
    lim.text_max_uri_len = 1000;
    if (parse_lim(&f, html, n + 7, 1, &lim)) {
        CHECK_EQ_INT(f.rc, TM_OK);
        CHECK(f.d.nlinks == 1);
        if (f.d.nlinks == 1) {
            CHECK_EQ_SIZE(f.d.links[0].raw.len, 1000);
            CHECK_EQ_SIZE(f.d.links[0].url.len, 1000);
            CHECK_VIEW(f.d.links[0].anchor, "y");
        }
        CHECK(f.t->findings[TM_F_URL_LIMIT_LEN] > 0);
        CHECK_TEXT(&f, "y");
    }
    done(&f);
    free(html); /* checksrc: allow */
}

TM_TEST(html_links_count_limit)
{
    struct fixture f = {0};
    struct tm_limits lim = tm_limits_default();

    lim.text_max_uris = 2;
    REQUIRE(parse_lim(&f, "<a href=1>a</a><a href=2>b</a><a href=3>c</a><img src=4>", 56, 1,
                      &lim));
    CHECK_EQ_SIZE(f.d.nlinks, 2);
    CHECK(f.d.clipped);
    CHECK(f.t->findings[TM_F_URL_LIMIT_COUNT] == 1);
    CHECK_TEXT(&f, "abc");
    CHECK_EQ_SIZE(f.d.images, 1);
    done(&f);
}

/* ---- hidden text --------------------------------------------------------- */

struct hid_case {
    const char *html;
    unsigned flags;       /* expected doc->hidden */
    size_t hidden, shown; /* expected hidden_chars, visible_chars */
};

TM_TEST(html_hidden_kinds)
{
    static const struct hid_case cases[] = {
        {"<div style=\"display:none\">ab</div>cd", TM_HTML_HID_DISPLAY, 2, 2},
        {"<span style=\"visibility: hidden\">ab</span>", TM_HTML_HID_DISPLAY, 2, 0},
        {"<p hidden>ab</p>", TM_HTML_HID_DISPLAY, 2, 0},
        {"<div style='DISPLAY: NONE !important'><b>x</b> y</div>z", TM_HTML_HID_DISPLAY, 2, 1},
        {"<span style=\"font-size:0px\">ab</span>", TM_HTML_HID_ZERO_SIZE, 2, 0},
        {"<span style=\"font-size:0\">ab</span>", TM_HTML_HID_ZERO_SIZE, 2, 0},
        {"<div style=\"width:0;overflow:hidden\">ab</div>", TM_HTML_HID_ZERO_SIZE, 2, 0},
        {"<div style=\"max-height:0px; overflow: hidden\">ab</div>", TM_HTML_HID_ZERO_SIZE, 2,
         0},
        {"<span style=\"font-size:2px\">ab</span><span style=\"font-size:2pt\">cd</span>"
         "<span style=\"font-size:12px\">ef</span>",
         TM_HTML_HID_TINY_FONT, 4, 2},
        {"<body bgcolor=white><font color=\"#FFFFFF\">ab</font><font color=red>cd</font>",
         TM_HTML_HID_COLOUR, 2, 2},
        {"<table bgcolor=\"#000\"><tr><td><span style=\"color:rgb(1,2,3)\">ab</span>",
         TM_HTML_HID_COLOUR, 2, 0},
        /* a background image: the colours under it are not compared */
        {"<div style=\"background:#ff0000 url(x.png);color:#fe0101\">ab</div>", 0, 0, 2},
        {"<body bgcolor=white background=\"bg.gif\"><font color=white>ab</font>", 0, 0, 2},
        {"<div style=\"background-color:#fff\"><p style=\"background-image:url(a.png)\">"
         "<font color=\"#ffffff\">ab</font></p><font color=\"#fff\">cd</font></div>",
         TM_HTML_HID_COLOUR, 2, 2},
        {"<div style=\"color:#fff\">ab</div>", TM_HTML_HID_COLOUR, 2, 0},
        {"<body text=white bgcolor=black>ab<font color=black>c</font>", TM_HTML_HID_COLOUR, 1,
         2},
        /* not hidden */
        {"<font size=1>ab</font>", 0, 0, 2},
        {"<span style=\"font-size:10px;width:0\">ab</span>", 0, 0, 2},
        {"<div style=\"overflow:hidden\">ab</div>", 0, 0, 2},
        {"<font color=red>ab</font><div style=\"color:#eee;background:black\">c</div>", 0, 0,
         3},
        {"<div style=\"display:block;visibility:visible\">a b</div>", 0, 0, 2},
        {"<div style=\"display:none\"></div>ab", 0, 0, 2},
        {"<span style=\"font-size:\">ab</span><span style=\";;:;color\">c</span>", 0, 0, 3},
    };
    size_t i;

    for (i = 0; i < TM_NELEM(cases); i++) {
        struct fixture f = {0};
        REQUIRE(parse(&f, cases[i].html));
        if (f.d.hidden != cases[i].flags || f.d.hidden_chars != cases[i].hidden ||
            f.d.visible_chars != cases[i].shown)
            tm_test_fail(__FILE__, __LINE__, "case %zu %s: hidden 0x%x/%zu/%zu", i, cases[i].html,
                         f.d.hidden, f.d.hidden_chars, f.d.visible_chars);
        done(&f);
    }
}

/* Simple rules of <style> sheets: .class, tag.class, tag; @media skipped */
TM_TEST(html_hidden_style_sheet)
{
    struct fixture f = {0};

    REQUIRE(parse(&f, "<style><!-- .hid {display:none} /* c */ p.t, .small{font-size:1px} "
                      "@media print { .x {color:red} } body{background:#000; color : #111} -->"
                      "</style><div class=\"a hid\">ab</div><p class=t>cd</p>"
                      "<span class=small>ef</span><span class=x>g</span><p class=x>h</p>"));
    CHECK_EQ_INT(f.d.hidden, TM_HTML_HID_DISPLAY | TM_HTML_HID_TINY_FONT);
    CHECK_EQ_SIZE(f.d.hidden_chars, 6);
    CHECK_EQ_SIZE(f.d.visible_chars, 2);
    done(&f);
    /* a rule only applies to elements after the sheet; the style text is not text */
    REQUIRE(parse(&f, "<b class=w>ab</b><style>.w{color:#fff}</style><b class=w>cd</b>"));
    CHECK_TEXT(&f, "abcd");
    CHECK_EQ_INT(f.d.hidden, TM_HTML_HID_COLOUR);
    CHECK_EQ_SIZE(f.d.hidden_chars, 2);
    CHECK_EQ_SIZE(f.d.visible_chars, 2);
    done(&f);
}

/* Hidden text stays in the text (SpamAssassin's body rules see it). */
TM_TEST(html_hidden_text_kept_and_links)
{
    struct fixture f = {0};

    REQUIRE(parse(&f, "<font size=1>ab</font> <a href=x style=\"display:none\">y</a>"
                      "<a href=z>w</a>"));
    CHECK_TEXT(&f, "ab yw");
    REQUIRE(f.d.nlinks == 2);
    CHECK_EQ_INT(f.d.links[0].hidden, TM_HTML_HID_DISPLAY);
    CHECK_EQ_INT(f.d.links[1].hidden, 0);
    done(&f);
}

/* ---- limits -------------------------------------------------------------- */

TM_TEST(html_limit_nodes)
{
    struct fixture f = {0};
    struct tm_limits lim = tm_limits_default();
    char html[4096];
    size_t n = 0, i;

    lim.html_max_nodes = 16;
    for (i = 0; i < 100; i++)
        n += (size_t)snprintf(html + n, sizeof(html) - n, "<b>%zu</b>", i % 10);
    REQUIRE(parse_lim(&f, html, n, 1, &lim));
    CHECK_EQ_INT(f.rc, TM_OK);
    CHECK(f.d.clipped);
    CHECK_EQ_SIZE(f.d.nodes, 16);
    CHECK(f.t->findings[TM_F_HTML_LIMIT_NODES] == 1);
    CHECK_LE_SIZE(f.d.text.len, 16);
    done(&f);
}

TM_TEST(html_limit_depth)
{
    struct fixture f = {0};
    struct tm_limits lim = tm_limits_default();
    char html[4096];
    size_t n = 0, i;

    lim.html_max_depth = 8;
    n += (size_t)snprintf(html, sizeof(html), "<div style=\"display:none\">");
    for (i = 0; i < 40; i++)
        n += (size_t)snprintf(html + n, sizeof(html) - n, "<span>");
    n += (size_t)snprintf(html + n, sizeof(html) - n, "deep");
    for (i = 0; i < 40; i++)
        n += (size_t)snprintf(html + n, sizeof(html) - n, "</span>");
    n += (size_t)snprintf(html + n, sizeof(html) - n, "</div>shown");
    REQUIRE(parse_lim(&f, html, n, 1, &lim));
    CHECK_EQ_INT(f.rc, TM_OK);
    CHECK(f.d.clipped);
    CHECK(f.t->findings[TM_F_HTML_LIMIT_DEPTH] == 1);
    /* the flattened text keeps the deepest state; the stack unwinds right */
    CHECK_EQ_SIZE(f.d.hidden_chars, 4);
    CHECK_EQ_SIZE(f.d.visible_chars, 5);
    CHECK_TEXT(&f, "\ndeep\nshown");
    done(&f);
}

/* text_max_body caps the rendered text without failing */
TM_TEST(html_limit_text)
{
    struct fixture f = {0};
    struct tm_limits lim = tm_limits_default();
    char html[3000];

    memset(html, 'a', sizeof(html));
    lim.text_max_body = 1024;
    REQUIRE(parse_lim(&f, html, sizeof(html), 1, &lim));
    CHECK_EQ_INT(f.rc, TM_OK);
    CHECK_LE_SIZE(f.d.text.len, 1024);
    CHECK(f.d.clipped);
    done(&f);
}

const struct tm_test tests_html[] = {
    TM_TEST_ENTRY(html_text_paragraph),
    TM_TEST_ENTRY(html_text_unclosed),
    TM_TEST_ENTRY(html_text_nested_tables),
    TM_TEST_ENTRY(html_text_entities),
    TM_TEST_ENTRY(html_text_quotes),
    TM_TEST_ENTRY(html_text_script_style_comment),
    TM_TEST_ENTRY(html_text_after_html_end),
    TM_TEST_ENTRY(html_text_literal_elements),
    TM_TEST_ENTRY(html_empty_and_junk),
    TM_TEST_ENTRY(html_links_base_resolution),
    TM_TEST_ENTRY(html_links_kinds_and_anchor),
    TM_TEST_ENTRY(html_links_anchor_cap),
    TM_TEST_ENTRY(html_meta_refresh_and_charset),
    TM_TEST_ENTRY(html_sniff_charset),
    TM_TEST_ENTRY(html_links_huge_href),
    TM_TEST_ENTRY(html_links_count_limit),
    TM_TEST_ENTRY(html_hidden_kinds),
    TM_TEST_ENTRY(html_hidden_style_sheet),
    TM_TEST_ENTRY(html_hidden_text_kept_and_links),
    TM_TEST_ENTRY(html_limit_nodes),
    TM_TEST_ENTRY(html_limit_depth),
    TM_TEST_ENTRY(html_limit_text),
    TM_TEST_END,
};
