/*
 * test_rules.c - .cf snippets through tm_rules_load (rules/rules.h): every
 * rule form, attributes, conditionals, include and directories, and the
 * diags with their exact file:line:col. Expectations are hand-checked
 * against SpamAssassin 4.0.1 (Conf.pm, Conf/Parser.pm, Util.pm).
 */
#include "harness.h"
#include "suites.h"

#include <stdio.h>
#include <string.h>

#include <sys/stat.h>

#include <openssl/evp.h>

#include "fixture.h"

#define REQUIRE_RULE(r, rs, name)                                          \
    do {                                                                   \
        (r) = tm_rules_find((rs), (name));                                 \
        if ((r) == NULL) {                                                 \
            tm_test_fail(__FILE__, __LINE__, "rule %s not found", (name)); \
            return;                                                        \
        }                                                                  \
    } while (0)

#define CHECK_DIAG(f, sub, line_, col_, err_) CHECK_DIAG_N(f, sub, 0, line_, col_, err_)
#define CHECK_DIAG_N(f, sub, n_, line_, col_, err_)                               \
    do {                                                                          \
        const struct tm_rule_diag *d_ = rfx_diag((f), (sub), (n_));               \
        if (d_ == NULL) {                                                         \
            tm_test_fail(__FILE__, __LINE__, "no diag containing \"%s\"", (sub)); \
        } else {                                                                  \
            CHECK_EQ_INT(d_->line, (line_));                                      \
            CHECK_EQ_INT(d_->col, (col_));                                        \
            CHECK_EQ_INT(d_->error, (err_));                                      \
        }                                                                         \
    } while (0)

static int
near(double a, double b)
{
    return a - b < 1e-9 && b - a < 1e-9;
}

TM_TEST(rules_basic_forms)
{
    struct rfx f = {0};
    const struct tm_rule *r;

    rfx_load(&f, "# a comment line\n"
                 "   \n"
                 "header   H1  Subject =~ /^hello/i   # trailing comment\n"
                 "body     B1  /cheap \\#1 pills/\n"
                 "rawbody  R1  /<b>/\n"
                 "uri      U1  /\\.example\\.com$/\n"
                 "full     F1  /^X-Spam: yes$/m\n"
                 "meta     M1  (H1 && B1) || !R1\n"
                 "describe H1  Subject says hello\n"
                 "score    H1  2.5\n"
                 "tflags   B1  multiple maxhits=3 nosubject\n"
                 "priority B1  -200\n"
                 "required_score 6.5\n"
                 "Score    U1  0 1.5 -2 3.25\n");
    CHECK_EQ_INT(f.rc, TM_OK);
    CHECK_EQ_SIZE(f.rs.n, 6);
    CHECK_EQ_SIZE(rfx_nerrors(&f.rs), 0);
    CHECK_EQ_SIZE(f.rs.nfiles, 1);
    CHECK(f.rs.has_required_score && near(f.rs.required_score, 6.5));
    REQUIRE_RULE(r, &f.rs, "H1");
    CHECK_EQ_INT(r->type, TM_RULE_HEADER);
    CHECK_EQ_INT(r->hdr_kind, TM_HDR_NAMED);
    REQUIRE(r->n_hdr_names == 1);
    CHECK_STR(r->hdr_names[0], "Subject");
    CHECK_STR(r->pattern, "^hello");
    CHECK_EQ_INT(r->re_flags, TM_RE_I);
    CHECK_EQ_INT(r->negate, 0);
    CHECK_STR(r->describe, "Subject says hello");
    CHECK(r->has_score && near(r->score[0], 2.5) && near(r->score[3], 2.5));
    CHECK_EQ_INT(r->line, 3);
    CHECK_STR(r->file, f.path);
    CHECK_EQ_INT(r->unsupported, 0);
    REQUIRE_RULE(r, &f.rs, "B1");
    CHECK_EQ_INT(r->type, TM_RULE_BODY);
    CHECK_STR(r->pattern, "cheap #1 pills"); /* \# is a literal '#' (SA) */
    CHECK_EQ_INT(r->tflags, TM_TF_MULTIPLE | TM_TF_NOSUBJECT);
    CHECK_EQ_INT(r->maxhits, 3);
    CHECK_EQ_INT(r->priority, -200);
    CHECK(!r->has_score && near(r->score[0], 1.0)); /* SA's default score */
    REQUIRE_RULE(r, &f.rs, "R1");
    CHECK_EQ_INT(r->type, TM_RULE_RAWBODY);
    CHECK_STR(r->pattern, "<b>");
    REQUIRE_RULE(r, &f.rs, "U1");
    CHECK_EQ_INT(r->type, TM_RULE_URI);
    CHECK_STR(r->pattern, "\\.example\\.com$");
    CHECK(near(r->score[0], 0) && near(r->score[1], 1.5) && near(r->score[2], -2) &&
          near(r->score[3], 3.25));
    REQUIRE_RULE(r, &f.rs, "F1");
    CHECK_EQ_INT(r->type, TM_RULE_FULL);
    CHECK_EQ_INT(r->re_flags, TM_RE_M);
    REQUIRE_RULE(r, &f.rs, "M1");
    CHECK_EQ_INT(r->type, TM_RULE_META);
    CHECK_STR(r->meta, "(H1 && B1) || !R1");
    CHECK_EQ_INT(r->unsupported, 0);
    /* definition order */
    CHECK_STR(f.rs.rules[0].name, "H1");
    CHECK_STR(f.rs.rules[5].name, "M1");
    CHECK(tm_rules_find(&f.rs, "NOPE") == NULL);
    CHECK(tm_rules_find(&f.rs, "h1") == NULL); /* names are case-sensitive */
    CHECK_STR(tm_rule_type_name(TM_RULE_RAWBODY), "rawbody");
    CHECK_STR(tm_rule_type_name(TM_RULE_META), "meta");
    rfx_done(&f);
}

TM_TEST(rules_regex_delimiters)
{
    struct rfx f = {0};
    const struct tm_rule *r;

    rfx_load(&f, "body A m{a/b}i\n"
                 "body B m!x/y!s\n"
                 "body C m(p(q)r)x\n"
                 "body D m<tag>\n"
                 "body E m[z]ism\n"
                 "body F qr/qr form/\n"
                 "body G /global/go\n"
                 "body H m#hash#\n"
                 "body I /a\\/b\\\\/\n"
                 "body J m|x|\n");
    REQUIRE_RULE(r, &f.rs, "A");
    CHECK_STR(r->pattern, "a/b");
    CHECK_EQ_INT(r->re_flags, TM_RE_I);
    REQUIRE_RULE(r, &f.rs, "B");
    CHECK_STR(r->pattern, "x/y");
    CHECK_EQ_INT(r->re_flags, TM_RE_S);
    REQUIRE_RULE(r, &f.rs, "C");
    CHECK_STR(r->pattern, "p(q)r");
    CHECK_EQ_INT(r->re_flags, TM_RE_X);
    REQUIRE_RULE(r, &f.rs, "D");
    CHECK_STR(r->pattern, "tag");
    REQUIRE_RULE(r, &f.rs, "E");
    CHECK_STR(r->pattern, "z");
    CHECK_EQ_INT(r->re_flags, TM_RE_I | TM_RE_S | TM_RE_M);
    REQUIRE_RULE(r, &f.rs, "F");
    CHECK_STR(r->pattern, "qr form");
    REQUIRE_RULE(r, &f.rs, "G");
    CHECK_STR(r->pattern, "global");
    CHECK_EQ_INT(r->re_flags, 0);
    /* "m#hash#": the first # starts a comment, so the value is just "m" */
    CHECK(tm_rules_find(&f.rs, "H") == NULL);
    CHECK_DIAG(&f, "missing regexp delimiters", 8, 8, 1);
    REQUIRE_RULE(r, &f.rs, "I");
    CHECK_STR(r->pattern, "a\\/b\\\\");
    REQUIRE_RULE(r, &f.rs, "J");
    CHECK_STR(r->pattern, "x");
    CHECK_EQ_SIZE(rfx_nerrors(&f.rs), 1);
    rfx_done(&f);
}

TM_TEST(rules_regex_errors)
{
    struct rfx f = {0};

    rfx_load(&f, "body OK1 /fine/\n"
                 "body BADMOD /abc/iq\n"
                 "body NODELIM abc\n"
                 "body UNQUOTED /a/b/\n"
                 "body BSLASH m\\abc\\\n"
                 "body NOEND /abc\n"
                 "body EMOD /abc/e\n"
                 "body CODE /(?{ 1 })/\n"
                 "  uri     BADMOD2   m{x}z\n");
    CHECK_EQ_INT(f.rc, TM_EINVAL);
    CHECK_EQ_SIZE(f.rs.n, 1);
    CHECK_EQ_SIZE(rfx_nerrors(&f.rs), 8);
    CHECK_DIAG(&f, "unsupported regexp modifier 'q'", 2, 19, 1);
    CHECK_DIAG(&f, "missing regexp delimiters", 3, 14, 1);
    CHECK_DIAG(&f, "unquoted delimiter '/'", 4, 17, 1);
    CHECK_DIAG(&f, "backslash regexp delimiter", 5, 14, 1);
    CHECK_DIAG(&f, "invalid end delimiter", 6, 12, 1);
    CHECK_DIAG_N(&f, "invalid end delimiter", 1, 7, 16, 1); /* SA never allows e */
    CHECK_DIAG(&f, "code (?{...})", 8, 12, 1);
    CHECK_DIAG(&f, "unsupported regexp modifier 'z'", 9, 25, 1);
    CHECK(tm_rules_find(&f.rs, "BADMOD") == NULL);
    CHECK(tm_rules_find(&f.rs, "OK1") != NULL);
    rfx_done(&f);
}

TM_TEST(rules_header_forms)
{
    struct rfx f = {0};
    const struct tm_rule *r;

    rfx_load(&f, "header X1 exists:X-Mailer\n"
                 "header X2 From:addr =~ /\\@example\\.com$/i\n"
                 "header X3 ALL =~ /^Foo: /m\n"
                 "header X4 ALL:raw =~ /=\\?utf-8\\?/\n"
                 "header X5 ToCc =~ /undisclosed/\n"
                 "header X6 MESSAGEID =~ /^<[^@]+>$/\n"
                 "header X7 EnvelopeFrom !~ /\\@/ [if-unset: nobody@x]\n"
                 "header X8 Received:first:raw =~ /helo/\n"
                 "header X9 From:name:last =~ /Bob/\n"
                 "header X10 Reply-To:host=~/^mx\\./\n"
                 "header X11 From:revip =~ /1/\n"
                 "header X12 From:bogus =~ /1/\n"
                 "header X13 From|Sender =~ /x/\n"
                 "header X14 Subject\n"
                 "header X15 exists:Bad|Name\n"
                 "header X16 From:ip =~ /^10\\./\n"
                 "header X17 From:domain =~ /x/\n");
    REQUIRE_RULE(r, &f.rs, "X1");
    CHECK_EQ_INT(r->hdr_kind, TM_HDR_EXISTS);
    REQUIRE(r->n_hdr_names == 1);
    CHECK_STR(r->hdr_names[0], "X-Mailer");
    CHECK(r->pattern == NULL);
    REQUIRE_RULE(r, &f.rs, "X2");
    CHECK_STR(r->hdr_names[0], "From");
    CHECK_EQ_INT(r->hdr_mods, TM_HDRMOD_ADDR);
    CHECK_STR(r->pattern, "\\@example\\.com$");
    REQUIRE_RULE(r, &f.rs, "X3");
    CHECK_EQ_INT(r->hdr_kind, TM_HDR_ALL);
    CHECK_EQ_SIZE(r->n_hdr_names, 0);
    REQUIRE_RULE(r, &f.rs, "X4");
    CHECK_EQ_INT(r->hdr_kind, TM_HDR_ALL);
    CHECK_EQ_INT(r->hdr_mods, TM_HDRMOD_RAW);
    REQUIRE_RULE(r, &f.rs, "X5");
    CHECK_EQ_INT(r->hdr_kind, TM_HDR_TOCC);
    REQUIRE_RULE(r, &f.rs, "X6");
    CHECK_EQ_INT(r->hdr_kind, TM_HDR_MESSAGEID);
    REQUIRE_RULE(r, &f.rs, "X7");
    CHECK_EQ_INT(r->hdr_kind, TM_HDR_NAMED);
    CHECK_STR(r->hdr_names[0], "EnvelopeFrom");
    CHECK_EQ_INT(r->negate, 1);
    CHECK_STR(r->pattern, "\\@");
    CHECK_STR(r->if_unset, "nobody@x");
    REQUIRE_RULE(r, &f.rs, "X8");
    CHECK_EQ_INT(r->hdr_mods, TM_HDRMOD_FIRST | TM_HDRMOD_RAW);
    REQUIRE_RULE(r, &f.rs, "X9");
    CHECK_EQ_INT(r->hdr_mods, TM_HDRMOD_NAME | TM_HDRMOD_LAST);
    REQUIRE_RULE(r, &f.rs, "X10");
    CHECK_STR(r->hdr_names[0], "Reply-To");
    CHECK_EQ_INT(r->hdr_mods, TM_HDRMOD_HOST);
    CHECK_STR(r->pattern, "^mx\\.");
    REQUIRE_RULE(r, &f.rs, "X11"); /* SA knows :revip, Tamis does not */
    CHECK_EQ_INT(r->unsupported, 1);
    CHECK_STR(r->why, "header modifier :revip not supported");
    REQUIRE_RULE(r, &f.rs, "X12"); /* unknown to SA as well: warned, unsupported */
    CHECK_EQ_INT(r->unsupported, 1);
    CHECK_DIAG(&f, "unknown header modifier ':bogus'", 12, 17, 0);
    CHECK(tm_rules_find(&f.rs, "X13") == NULL);
    CHECK_DIAG(&f, "joined with '|'", 13, 16, 1);
    CHECK(tm_rules_find(&f.rs, "X14") == NULL);
    CHECK_DIAG(&f, "expected =~ or !~", 14, 19, 1); /* end of line */
    CHECK(tm_rules_find(&f.rs, "X15") == NULL);
    CHECK_DIAG(&f, "invalid header name in exists:", 15, 22, 1);
    REQUIRE_RULE(r, &f.rs, "X16");
    CHECK_EQ_INT(r->hdr_mods, TM_HDRMOD_IP);
    CHECK_EQ_INT(r->unsupported, 0);
    REQUIRE_RULE(r, &f.rs, "X17");
    CHECK_EQ_INT(r->hdr_mods, TM_HDRMOD_DOMAIN);
    CHECK_EQ_SIZE(rfx_nerrors(&f.rs), 3);
    rfx_done(&f);
}

TM_TEST(rules_eval_and_network)
{
    struct rfx f = {0};
    const struct tm_rule *r;

    rfx_load(&f, "header E1 eval:check_for_missing_to_header()\n"
                 "body   E2 eval:check_stock_info('8')\n"
                 "rawbody E3 eval:check_iframe_src()\n"
                 "full   E4 eval:check_razor2()\n"
                 "header E5 eval:check_rbl('zen', 'zen.spamhaus.org.')\n"
                 "header E6 rbleval:check_rbl_sub('zen', '127.0.0.2')\n"
                 "header E7 From =~ /x/\n"
                 "tflags E7 net\n"
                 "body   E8 eval:bad syntax\n"
                 "uri    E9 eval:check_uri()\n"
                 "body   E10 eval:check_bayes('0.00', '0.01')\n"
                 "tflags E10 learn\n");
    REQUIRE_RULE(r, &f.rs, "E1");
    CHECK_EQ_INT(r->type, TM_RULE_HEADER);
    CHECK_STR(r->eval, "check_for_missing_to_header()");
    CHECK(r->pattern == NULL);
    CHECK_STR(r->why, "eval:check_for_missing_to_header not implemented");
    REQUIRE_RULE(r, &f.rs, "E2");
    CHECK_EQ_INT(r->type, TM_RULE_BODY);
    CHECK_STR(r->eval, "check_stock_info('8')");
    CHECK_STR(r->why, "eval:check_stock_info not implemented");
    REQUIRE_RULE(r, &f.rs, "E3");
    CHECK_EQ_INT(r->type, TM_RULE_RAWBODY);
    CHECK_EQ_INT(r->unsupported, 1);
    REQUIRE_RULE(r, &f.rs, "E4");
    CHECK_EQ_INT(r->type, TM_RULE_FULL);
    CHECK_STR(r->why, "network test");
    REQUIRE_RULE(r, &f.rs, "E5");
    CHECK_STR(r->why, "network test");
    REQUIRE_RULE(r, &f.rs, "E6");
    CHECK_STR(r->eval, "check_rbl_sub('zen', '127.0.0.2')");
    CHECK_STR(r->why, "network test");
    REQUIRE_RULE(r, &f.rs, "E7");
    CHECK_EQ_INT(r->tflags, TM_TF_NET);
    CHECK_STR(r->why, "network test");
    CHECK(tm_rules_find(&f.rs, "E8") == NULL);
    CHECK_DIAG(&f, "invalid eval function call", 9, 16, 1);
    CHECK(tm_rules_find(&f.rs, "E9") == NULL); /* SA has no uri eval: "eval:" is no regex */
    CHECK_DIAG(&f, "missing regexp delimiters", 10, 11, 1);
    REQUIRE_RULE(r, &f.rs, "E10");
    CHECK_STR(r->why, "learning test (Bayes)");
    rfx_done(&f);
}

TM_TEST(rules_meta_dependencies)
{
    struct rfx f = {0};
    const struct tm_rule *r;

    rfx_load(&f, "body __A /a/\n"
                 "body __B eval:check_something()\n"
                 "meta M_OK __A && __B\n"
                 "meta M_UNK __A || __NOPE\n"
                 "meta M_DEAD __B && !__NOPE\n"
                 "meta M_DEAD2 M_DEAD + 1 > 1\n"
                 "meta M_ARITH (__A + __B) >= 2 && local_tests_only\n"
                 "meta M_BAD __A ** 2\n"
                 "meta M_SIGIL $x\n"
                 "meta M_PAREN (__A\n");
    REQUIRE_RULE(r, &f.rs, "M_OK");
    CHECK_EQ_INT(r->unsupported, 0);
    CHECK_DIAG(&f, "meta M_OK: depends on unsupported rule(s): __B", 3, 11, 0);
    REQUIRE_RULE(r, &f.rs, "M_UNK");
    CHECK_EQ_INT(r->unsupported, 0);
    CHECK_DIAG(&f, "meta M_UNK: undefined rule(s) count as 0: __NOPE", 4, 12, 0);
    REQUIRE_RULE(r, &f.rs, "M_DEAD");
    CHECK_EQ_INT(r->unsupported, 1);
    CHECK_STR(r->why, "every rule of the meta is unsupported or undefined");
    REQUIRE_RULE(r, &f.rs, "M_DEAD2"); /* depends only on an unsupported meta */
    CHECK_EQ_INT(r->unsupported, 1);
    REQUIRE_RULE(r, &f.rs, "M_ARITH");
    CHECK_EQ_INT(r->unsupported, 0);
    CHECK(tm_rules_find(&f.rs, "M_BAD") == NULL);
    CHECK_DIAG(&f, "'**'", 8, 16, 1);
    CHECK(tm_rules_find(&f.rs, "M_SIGIL") == NULL);
    CHECK_DIAG(&f, "invalid character '$'", 9, 14, 1);
    CHECK(tm_rules_find(&f.rs, "M_PAREN") == NULL);
    CHECK_DIAG(&f, "unbalanced '('", 10, 14, 1);
    rfx_done(&f);
}

TM_TEST(rules_scores)
{
    struct rfx f = {0};
    const struct tm_rule *r;

    rfx_load(&f, "score EARLY 3.0\n"
                 "describe EARLY defined later\n"
                 "tflags EARLY nice\n"
                 "body EARLY /early/\n"
                 "body T_TESTING /t/\n"
                 "body NICE_DEFAULT /n/\n"
                 "tflags NICE_DEFAULT nice\n"
                 "body REL /r/\n"
                 "score REL 1\n"
                 "score REL (0.5)\n"
                 "score REL 1 2 3\n"
                 "score REL 1.5x\n"
                 "score REL\n"
                 "score NEVER 1\n"
                 "score REL2 (1)\n"
                 "body REL2 /r2/\n"
                 "score REL 4 +1 2 3\n");
    REQUIRE_RULE(r, &f.rs, "EARLY");
    CHECK(r->has_score && near(r->score[2], 3.0));
    CHECK_STR(r->describe, "defined later");
    CHECK_EQ_INT(r->tflags, TM_TF_NICE);
    CHECK_EQ_INT(r->line, 4);
    REQUIRE_RULE(r, &f.rs, "T_TESTING");
    CHECK(!r->has_score && near(r->score[0], 0.01));
    REQUIRE_RULE(r, &f.rs, "NICE_DEFAULT");
    CHECK(near(r->score[1], -1.0));
    REQUIRE_RULE(r, &f.rs, "REL");
    CHECK(near(r->score[0], 1.5) && near(r->score[3], 1.5));
    CHECK_DIAG(&f, "score REL: needs 1 or 4 values", 11, 11, 1);
    CHECK_DIAG(&f, "score REL: bad value '1.5x'", 12, 11, 1);
    CHECK_DIAG(&f, "score REL: missing value", 13, 10, 1);
    CHECK_DIAG(&f, "score REL2: relative score without", 15, 12, 1);
    CHECK_DIAG(&f, "score REL: bad value '+1'", 17, 13, 1);
    CHECK_DIAG(&f, "rule NEVER, which is never defined", 14, 7, 0);
    CHECK(tm_rules_find(&f.rs, "NEVER") == NULL);
    REQUIRE_RULE(r, &f.rs, "REL2");
    CHECK(!r->has_score);
    CHECK_EQ_SIZE(rfx_nerrors(&f.rs), 5);
    rfx_done(&f);
}

TM_TEST(rules_attributes)
{
    struct rfx f = {0};
    const struct tm_rule *r;

    rfx_load(&f, "body A /a/\n"
                 "tflags A multiple publish\n"
                 "tflags A userconf noautolearn learn autolearn_test bogus maxhits=x\n"
                 "priority A 10\n"
                 "priority A 1.5\n"
                 "priority 9A 1\n"
                 "describe A first\n"
                 "describe A second\n"
                 "required_hits 7\n"
                 "required_score lots\n"
                 "body\n"
                 "body 1BAD /x/\n"
                 "body NOTEST\n");
    REQUIRE_RULE(r, &f.rs, "A");
    /* SA keeps one tflags value per rule: the last line wins */
    CHECK_EQ_INT(r->tflags, TM_TF_USERCONF | TM_TF_NOAUTOLEARN | TM_TF_LEARN | TM_TF_AUTOLEARNTEST);
    CHECK_EQ_INT(r->maxhits, 0);
    CHECK_DIAG(&f, "unknown flag 'bogus'", 3, 52, 0);
    CHECK_DIAG(&f, "bad maxhits value 'maxhits=x'", 3, 58, 0);
    CHECK_EQ_INT(r->priority, 10);
    CHECK_DIAG(&f, "priority: bad value '1.5'", 5, 12, 1);
    CHECK_DIAG(&f, "priority: invalid rule name '9A'", 6, 10, 1);
    CHECK_STR(r->describe, "second");
    CHECK(f.rs.has_required_score && near(f.rs.required_score, 7));
    CHECK_DIAG(&f, "required_score: bad value 'lots'", 10, 16, 1);
    CHECK_DIAG(&f, "body: missing rule name", 11, 1, 1);
    CHECK_DIAG(&f, "body: invalid rule name '1BAD'", 12, 6, 1);
    CHECK_DIAG(&f, "body NOTEST: missing test", 13, 12, 1);
    rfx_done(&f);
}

TM_TEST(rules_redefinition)
{
    struct rfx f = {0};
    const struct tm_rule *r;

    rfx_load(&f, "body R /first/i\n"
                 "score R 2\n"
                 "describe R kept\n"
                 "header R Subject =~ /second/\n"
                 "body R /bad/q\n");
    REQUIRE_RULE(r, &f.rs, "R");
    CHECK_EQ_INT(r->type, TM_RULE_HEADER); /* SA add_test() overwrites the test */
    CHECK_STR(r->pattern, "second");
    CHECK_EQ_INT(r->re_flags, 0);
    CHECK(r->has_score && near(r->score[0], 2)); /* and keeps score, describe */
    CHECK_STR(r->describe, "kept");
    CHECK_EQ_INT(r->line, 1);
    CHECK_EQ_SIZE(f.rs.n, 1);
    CHECK_DIAG(&f, "rule R redefined", 4, 8, 0);
    CHECK_DIAG(&f, "modifier 'q'", 5, 13, 1); /* a failed redefinition changes nothing */
    rfx_done(&f);
}

TM_TEST(rules_unknown_directives)
{
    struct rfx f = {0};

    rfx_load(&f, "report line one\n"
                 "report line two\n"
                 "add_header all Foo bar\n"
                 "util-rb-tld com\n"
                 "  Report line three\n"
                 "lang de describe X Etwas\n"
                 "lang fr report Ligne\n"
                 "loadplugin Mail::SpamAssassin::Plugin::Foo\n"
                 "require_version @@VERSION@@\n");
    CHECK_EQ_INT(f.rc, TM_OK);
    CHECK_EQ_SIZE(f.rs.ndiags, 3);
    CHECK_DIAG(&f, "directive 'report' is not a rule; 3 lines ignored", 1, 1, 0);
    CHECK_DIAG(&f, "directive 'add_header' is not a rule; 1 line ignored", 3, 1, 0);
    CHECK_DIAG(&f, "directive 'util_rb_tld'", 4, 1, 0);
    CHECK_EQ_SIZE(f.rs.nignored, 5);
    CHECK_EQ_SIZE(f.rs.nlang, 2);
    rfx_done(&f);
}

TM_TEST(rules_plugin_directives)
{
    struct rfx f = {0};
    const struct tm_rule *r;

    rfx_load(&f, "urirhssub URIBL_BLACK multi.uribl.com. A 2\n"
                 "body URIBL_BLACK eval:check_uridnsbl('URIBL_BLACK')\n"
                 "tflags URIBL_BLACK net domains_only\n"
                 "uridnsbl URIBL_SBL sbl.spamhaus.org. TXT\n"
                 "askdns __DKIM_DNS _DKIMDOMAIN_.dwl.example. A 127.0.2.1\n"
                 "mimeheader MH1 Content-Type =~ /pdf/i\n"
                 "mimeheader MH2 Content-Type:raw =~ /pdf/\n"
                 "reuse RCVD_IN_X\n"
                 "reuse __MH_REUSED\n"
                 "body __MH_REUSED /real/\n"
                 "body RT /<A>lot/\n"
                 "replace_rules RT\n"
                 "replace_tag A (?:a|4)\n");
    REQUIRE_RULE(r, &f.rs, "URIBL_BLACK");
    CHECK_EQ_INT(r->type, TM_RULE_BODY); /* the rule line replaces the placeholder quietly */
    CHECK_STR(r->eval, "check_uridnsbl('URIBL_BLACK')");
    CHECK_STR(r->why, "network test");
    CHECK_EQ_INT(r->line, 2);
    CHECK(rfx_diag(&f, "redefined", 0) == NULL);
    REQUIRE_RULE(r, &f.rs, "URIBL_SBL");
    CHECK_EQ_INT(r->type, TM_RULE_URI);
    CHECK_STR(r->why, "network test");
    REQUIRE_RULE(r, &f.rs, "__DKIM_DNS");
    CHECK_EQ_INT(r->type, TM_RULE_HEADER);
    CHECK_STR(r->why, "network test");
    REQUIRE_RULE(r, &f.rs, "MH1");
    CHECK_EQ_INT(r->type, TM_RULE_HEADER);
    CHECK_STR(r->hdr_names[0], "Content-Type");
    CHECK_STR(r->pattern, "pdf");
    CHECK_STR(r->why, "mimeheader not supported yet");
    REQUIRE_RULE(r, &f.rs, "MH2");
    CHECK_EQ_INT(r->hdr_mods, TM_HDRMOD_RAW);
    REQUIRE_RULE(r, &f.rs, "RCVD_IN_X");
    CHECK_EQ_INT(r->unsupported, 1);
    CHECK_STR(r->why, "reuse only: no test of its own");
    REQUIRE_RULE(r, &f.rs, "__MH_REUSED");
    CHECK_EQ_INT(r->unsupported, 0);
    REQUIRE_RULE(r, &f.rs, "RT");
    CHECK_STR(r->pattern, "(?:a|4)lot"); /* ReplaceTags expanded */
    CHECK_EQ_INT(r->unsupported, 0);
    CHECK_EQ_SIZE(rfx_nerrors(&f.rs), 0);
    rfx_done(&f);
}

/*
 * ReplaceTags, expected values worked out by hand from the plugin's
 * finish_parsing_end: split around <tags>, inter text in the empty pieces
 * (including the leading one when the regex starts with a tag), pre/post
 * around every tag, repeated while a value brings tags (at most 6 passes).
 */
TM_TEST(rules_replace_tags)
{
    struct rfx f = {0};
    const struct tm_rule *r;

    rfx_load(&f, "replace_tag A (?:a|4)\n"
                 "replace_tag B b\n"
                 "replace_tag NEST <A><B>\n"
                 "replace_pre P x\n"
                 "replace_post Q y\n"
                 "replace_inter I \\s?\n"
                 "body R1 /<A>lot/\n"
                 "body R2 /<NEST>/\n"
                 "body R3 /<inter I><A><B>c/\n"
                 "body R4 /<pre P><post Q>z<A>/\n"
                 "body R5 /<UNKNOWN>x/\n"
                 "body R6 /<A>not listed/\n"
                 "replace_rules R1 R2 R3\n"
                 "replace_rules R4 R5\n");
    CHECK_EQ_SIZE(rfx_nerrors(&f.rs), 0);
    REQUIRE_RULE(r, &f.rs, "R1");
    CHECK_STR(r->pattern, "(?:a|4)lot");
    REQUIRE_RULE(r, &f.rs, "R2");
    CHECK_STR(r->pattern, "(?:a|4)b");
    REQUIRE_RULE(r, &f.rs, "R3");
    CHECK_STR(r->pattern, "\\s?(?:a|4)\\s?bc");
    REQUIRE_RULE(r, &f.rs, "R4");
    CHECK_STR(r->pattern, "zx(?:a|4)y");
    REQUIRE_RULE(r, &f.rs, "R5");
    CHECK_STR(r->pattern, "<UNKNOWN>x");
    REQUIRE_RULE(r, &f.rs, "R6");
    CHECK_STR(r->pattern, "<A>not listed"); /* only replace_rules rules are rewritten */
    rfx_done(&f);

    /*
     * An empty marker (here the value is all comment) is SA's "missing
     * value": an error, and the markers stay "<" and ">". Found by fuzz_cf:
     * an empty replace_start made the tag search run past the pattern.
     */
    memset(&f, 0, sizeof(f));
    rfx_load(&f, "replace_start #\n"
                 "replace_end\n"
                 "replace_tag A a\n"
                 "body R1 /<A>b/\n"
                 "replace_rules R1\n");
    CHECK_EQ_SIZE(rfx_nerrors(&f.rs), 2);
    CHECK_DIAG(&f, "replace_start: missing value", 1, 1, 1);
    CHECK_DIAG(&f, "replace_end: missing value", 2, 1, 1);
    REQUIRE_RULE(r, &f.rs, "R1");
    CHECK_STR(r->pattern, "ab");
    rfx_done(&f);
}

TM_TEST(rules_conditionals)
{
    struct rfx f = {0};
    const struct tm_rule *r;

    rfx_load(
        &f,
        "ifplugin Mail::SpamAssassin::Plugin::HeaderEval\n"
        "  header C1 Subject =~ /loaded/\n"
        "endif\n"
        "ifplugin Mail::SpamAssassin::Plugin::PDFInfo\n"
        "  body C2 eval:pdf_count(1)\n"
        "  score C2 9\n"
        "  bogus_directive whatever\n"
        "  body C2X /bad/q\n"
        "else\n"
        "  body C3 /no pdfinfo/\n"
        "endif\n"
        "if (version >= 3.004000)\n"
        "  body C4 /new/\n"
        "else\n"
        "  body C4 /old/\n"
        "  body C5 /only old/\n"
        "endif\n"
        "if !plugin(Mail::SpamAssassin::Plugin::ReplaceTags)\n"
        "  body C6 /no replacetags/\n"
        "endif\n"
        "if can(Mail::SpamAssassin::Conf::feature_bug6558_free) && perl_version >= 5.010\n"
        "  if can(Mail::SpamAssassin::Conf::feature_capture_rules)\n"
        "    body C7 /(?<CAP>x)/\n"
        "  else\n"
        "    body C8 /no capture/\n"
        "  endif\n"
        "endif\n"
        "if version < 4 || !(can(Mail::SpamAssassin::Plugin::BodyEval::has_check_body_length))\n"
        "  body C9 /x/\n"
        "  if 1\n"
        "  else\n"
        "    body C10 /x/\n"
        "  endif\n"
        "endif\n"
        "if plugin(Foo) &&& 1\n"
        "  body C11 /x/\n"
        "endif\n"
        "if (local_tests_only)\n"
        "  body C12 /x/\n"
        "endif\n");
    CHECK_EQ_INT(f.rc, TM_EINVAL); /* the bad `if` */
    REQUIRE_RULE(r, &f.rs, "C1");
    CHECK_EQ_INT(r->unsupported, 0);
    REQUIRE_RULE(r, &f.rs, "C2"); /* kept, never dropped */
    CHECK_EQ_INT(r->unsupported, 1);
    CHECK_STR(r->why, "plugin Mail::SpamAssassin::Plugin::PDFInfo not loaded");
    CHECK_STR(r->eval, "pdf_count(1)");
    CHECK(!r->has_score);          /* attribute lines in a false block are skipped, as SA does */
    REQUIRE_RULE(r, &f.rs, "C2X"); /* kept by name although its regex is bad; no diag */
    CHECK_EQ_INT(r->unsupported, 1);
    REQUIRE_RULE(r, &f.rs, "C3");
    CHECK_EQ_INT(r->unsupported, 0);
    REQUIRE_RULE(r, &f.rs, "C4");
    CHECK_STR(r->pattern, "new");
    CHECK_EQ_INT(r->unsupported, 0);
    CHECK(rfx_diag(&f, "redefined", 0) == NULL);
    REQUIRE_RULE(r, &f.rs, "C5");
    CHECK_STR(r->why, "else branch of if (version >= 3.004000)");
    REQUIRE_RULE(r, &f.rs, "C6");
    CHECK_STR(r->why, "if !plugin(Mail::SpamAssassin::Plugin::ReplaceTags) is false");
    REQUIRE_RULE(r, &f.rs, "C7");
    CHECK_STR(r->why, "if can(Mail::SpamAssassin::Conf::feature_capture_rules) is false");
    REQUIRE_RULE(r, &f.rs, "C8");
    CHECK_EQ_INT(r->unsupported, 0);
    REQUIRE_RULE(r, &f.rs, "C9");
    CHECK_EQ_INT(r->unsupported, 1);
    REQUIRE_RULE(r, &f.rs, "C10"); /* else under a false outer block stays false (SA bug 7848) */
    CHECK_EQ_INT(r->unsupported, 1);
    CHECK_STR(r->why, "if version < 4 || "
                      "!(can(Mail::SpamAssassin::Plugin::BodyEval::has_check_body_length)) "
                      "is false");
    REQUIRE_RULE(r, &f.rs, "C11");
    CHECK_EQ_INT(r->unsupported, 1);
    CHECK_DIAG(&f, "if: unexpected character in condition", 35, 18, 1);
    REQUIRE_RULE(r, &f.rs, "C12");
    CHECK_EQ_INT(r->unsupported, 0);
    CHECK_EQ_SIZE(rfx_nerrors(&f.rs), 1);
    CHECK(rfx_diag(&f, "bogus_directive", 0) == NULL);
    rfx_done(&f);
}

TM_TEST(rules_unbalanced_if)
{
    struct rfx f = {0};

    rfx_load(&f, "endif\n"
                 "else\n"
                 "ifplugin Mail::SpamAssassin::Plugin::Bayes\n"
                 "  body A /a/\n"
                 "  if (version > 3)\n"
                 "    body B /b/\n"
                 "  endif extra\n"
                 "if\n");
    CHECK_EQ_INT(f.rc, TM_EINVAL);
    CHECK_DIAG(&f, "endif without if", 1, 1, 1);
    CHECK_DIAG(&f, "else without if", 2, 1, 1);
    CHECK_DIAG(&f, "endif: must stand alone", 7, 9, 1);
    CHECK_DIAG(&f, "if: missing condition", 8, 1, 1);
    /* reported at end of file, at the line of the if left open */
    CHECK_DIAG(&f, "if (version > 3): no endif before end of file", 5, 3, 1);
    CHECK_DIAG(&f, "ifplugin Mail::SpamAssassin::Plugin::Bayes: no endif", 3, 1, 1);
    CHECK_EQ_SIZE(rfx_nerrors(&f.rs), 6);
    CHECK(tm_rules_find(&f.rs, "B") != NULL);
    rfx_done(&f);
}

TM_TEST(rules_include_and_dirs)
{
    struct rfx f = {0};
    const struct tm_rule *r;
    const char *paths[1];
    char dir[128], incpath[300];
    unsigned char want[32];
    unsigned int wl = 0;
    EVP_MD_CTX *ctx;
    static const char a[] = "body A1 /a/\ninclude sub/inc.inc\ninclude missing.cf\n";
    static const char inc[] = "body INC /inc/\n";
    static const char b[] = "ifplugin Mail::SpamAssassin::Plugin::Nope\ninclude nothere.cf\n"
                            "endif\nbody B1 /b/\n";

    REQUIRE(rfx_write(&f, "20_b.cf", b) != NULL);
    REQUIRE(rfx_write(&f, "10_a.cf", a) != NULL);
    REQUIRE(rfx_write(&f, "30_c.txt", "body TXT /not loaded/\n") != NULL);
    snprintf(dir, sizeof(dir), "%s/sub", f.dir);
    REQUIRE(mkdir(dir, 0700) == 0);
    REQUIRE(rfx_write(&f, "sub/inc.inc", inc) != NULL);
    paths[0] = f.dir;
    f.rc = tm_rules_load(&f.rs, paths, 1);
    CHECK_EQ_INT(f.rc, TM_EINVAL);
    CHECK_EQ_SIZE(f.rs.nfiles, 3);
    CHECK_EQ_SIZE(f.rs.n, 3);
    CHECK_STR(f.rs.rules[0].name, "A1");
    CHECK_STR(f.rs.rules[1].name, "INC");
    CHECK_STR(f.rs.rules[2].name, "B1");
    REQUIRE_RULE(r, &f.rs, "INC");
    snprintf(incpath, sizeof(incpath), "%s/sub/inc.inc", f.dir);
    CHECK_STR(r->file, incpath);
    CHECK_EQ_INT(r->line, 1);
    CHECK(tm_rules_find(&f.rs, "TXT") == NULL);
    CHECK_DIAG(&f, "include: cannot read", 3, 9, 1);
    CHECK(rfx_diag(&f, "nothere", 0) == NULL); /* in a false block: no error */
    CHECK_EQ_SIZE(rfx_nerrors(&f.rs), 1);
    /* the hash covers every file's bytes in load order */
    ctx = EVP_MD_CTX_new();
    REQUIRE(ctx != NULL);
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, a, sizeof(a) - 1);
    EVP_DigestUpdate(ctx, inc, sizeof(inc) - 1);
    EVP_DigestUpdate(ctx, b, sizeof(b) - 1);
    EVP_DigestFinal_ex(ctx, want, &wl);
    EVP_MD_CTX_free(ctx);
    CHECK_MEM(f.rs.sha256, 32, want, 32);
    rfx_done(&f);
}

TM_TEST(rules_missing_path)
{
    struct tm_ruleset rs;
    const char *paths[1] = {"/nonexistent/tamis/rules.cf"};

    memset(&rs, 0, sizeof(rs));
    CHECK_EQ_INT(tm_rules_load(&rs, paths, 1), TM_EIO);
    REQUIRE(rs.ndiags == 1);
    CHECK_EQ_INT(rs.diags[0].error, 1);
    CHECK_STR(rs.diags[0].file, paths[0]);
    CHECK_EQ_SIZE(rs.n, 0);
    CHECK(tm_rules_find(&rs, "X") == NULL);
    tm_rules_free(&rs);
}

TM_TEST(rules_columns_after_escapes)
{
    struct rfx f = {0};

    /* "\#" counts as two columns of the file although the rule sees one '#' */
    rfx_load(&f, "body E /\\#\\#/q\n"
                 "\tbody\tTAB\t/x/z\n");
    CHECK_DIAG(&f, "modifier 'q'", 1, 14, 1);
    CHECK_DIAG(&f, "modifier 'z'", 2, 14, 1);
    rfx_done(&f);
}

TM_TEST(rules_many_rules_index)
{
    struct rfx f = {0};
    static char text[200000];
    size_t off = 0, i;
    char name[32];

    for (i = 0; i < 3000; i++)
        off += (size_t)snprintf(text + off, sizeof(text) - off, "body R%zu /r%zu/\n", i, i);
    rfx_load(&f, text);
    CHECK_EQ_SIZE(f.rs.n, 3000);
    for (i = 0; i < 3000; i += 7) {
        const struct tm_rule *r;

        snprintf(name, sizeof(name), "R%zu", i);
        r = tm_rules_find(&f.rs, name);
        REQUIRE(r != NULL);
        CHECK_STR(r->name, name);
        CHECK(r == &f.rs.rules[i]);
    }
    rfx_done(&f);
}

const struct tm_test tests_rules[] = {
    TM_TEST_ENTRY(rules_replace_tags),
    TM_TEST_ENTRY(rules_basic_forms),
    TM_TEST_ENTRY(rules_regex_delimiters),
    TM_TEST_ENTRY(rules_regex_errors),
    TM_TEST_ENTRY(rules_header_forms),
    TM_TEST_ENTRY(rules_eval_and_network),
    TM_TEST_ENTRY(rules_meta_dependencies),
    TM_TEST_ENTRY(rules_scores),
    TM_TEST_ENTRY(rules_attributes),
    TM_TEST_ENTRY(rules_redefinition),
    TM_TEST_ENTRY(rules_unknown_directives),
    TM_TEST_ENTRY(rules_plugin_directives),
    TM_TEST_ENTRY(rules_conditionals),
    TM_TEST_ENTRY(rules_unbalanced_if),
    TM_TEST_ENTRY(rules_include_and_dirs),
    TM_TEST_ENTRY(rules_missing_path),
    TM_TEST_ENTRY(rules_columns_after_escapes),
    TM_TEST_ENTRY(rules_many_rules_index),
    TM_TEST_END,
};
