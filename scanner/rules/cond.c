/*
 * cond.c - `if` expressions of SpamAssassin .cf files and Tamis's answers.
 *
 * SpamAssassin 4.0.1 (Conf/Parser.pm handle_conditional) lexes the text with
 * ARITH_EXPRESSION_LEXER, maps plugin()/can()/has()/version/perl_version/
 * local_tests_only to Perl and evals the result. Here a small recursive
 * descent parser does the same for the subset that rule files use:
 *
 *   expr  := and ('||' and)*
 *   and   := cmp ('&&' cmp)*
 *   cmp   := sum (('=='|'!='|'<'|'<='|'>'|'>=') sum)?
 *   sum   := prod (('+'|'-') prod)*
 *   prod  := unary (('*'|'/') unary)*
 *   unary := ('!'|'-') unary | prim
 *   prim  := NUMBER | '(' expr ')' | version | perl_version | local_tests_only
 *          | (plugin|can|has) '(' NAME ')'
 *
 * Values are doubles, truth is != 0 (Perl). Depth of nesting (parentheses and
 * unary operators) is bounded by TM_RULES_COND_MAX_DEPTH. Anything else is an
 * error: the caller reports it and treats the block as false.
 *
 * The answers:
 *   version          TM_RULES_SA_VERSION (4.000001)
 *   perl_version     TM_RULES_PERL_VERSION (5.036000)
 *   local_tests_only 1: Tamis runs no network tests
 *   plugin(X)        the plugins that SpamAssassin's default /etc/spamassassin
 *                    *.pre files load (Debian 4.0.1), plus loadplugin lines
 *                    seen in loaded files (asked through env->plugin)
 *   can(C::m)        the table tm_rules_can below: true for features of
 *                    rule syntax Tamis reads; false otherwise
 *   has(C::m)        same table (SA: method exists, without calling it)
 *   can(Mail::SpamAssassin::Conf::compat_X)
 *                    true after `enable_compat X` (init.pre enables
 *                    welcomelist_blocklist), asked through env->plugin
 */
#include "rules/cond.h"

#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"

/*
 * Plugins loaded by the uncommented loadplugin lines of /etc/spamassassin/
 * *.pre in Debian's spamassassin 4.0.1 (init.pre, sa-compile.pre, v310.pre
 * ... v401.pre). With this set, the rule set Tamis reads is the one
 * `spamassassin` itself runs on this system; rules in those plugins that need
 * eval functions Tamis lacks are then marked unsupported by the loader.
 */
static const char *const tm_rules_default_plugins[] = {
    "Mail::SpamAssassin::Plugin::URIDNSBL",
    "Mail::SpamAssassin::Plugin::SPF",
    "Mail::SpamAssassin::Plugin::Rule2XSBody",
    "Mail::SpamAssassin::Plugin::Pyzor",
    "Mail::SpamAssassin::Plugin::Razor2",
    "Mail::SpamAssassin::Plugin::SpamCop",
    "Mail::SpamAssassin::Plugin::AutoLearnThreshold",
    "Mail::SpamAssassin::Plugin::WelcomeListSubject",
    "Mail::SpamAssassin::Plugin::MIMEHeader",
    "Mail::SpamAssassin::Plugin::ReplaceTags",
    "Mail::SpamAssassin::Plugin::DKIM",
    "Mail::SpamAssassin::Plugin::Check",
    "Mail::SpamAssassin::Plugin::HTTPSMismatch",
    "Mail::SpamAssassin::Plugin::URIDetail",
    "Mail::SpamAssassin::Plugin::Bayes",
    "Mail::SpamAssassin::Plugin::BodyEval",
    "Mail::SpamAssassin::Plugin::DNSEval",
    "Mail::SpamAssassin::Plugin::HTMLEval",
    "Mail::SpamAssassin::Plugin::HeaderEval",
    "Mail::SpamAssassin::Plugin::MIMEEval",
    "Mail::SpamAssassin::Plugin::RelayEval",
    "Mail::SpamAssassin::Plugin::URIEval",
    "Mail::SpamAssassin::Plugin::WLBLEval",
    "Mail::SpamAssassin::Plugin::VBounce",
    "Mail::SpamAssassin::Plugin::ImageInfo",
    "Mail::SpamAssassin::Plugin::FreeMail",
    "Mail::SpamAssassin::Plugin::AskDNS",
    "Mail::SpamAssassin::Plugin::HashBL",
    "Mail::SpamAssassin::Plugin::DMARC",
    /* SA 4.0.1 answers plugin(RaciallyCharged) true unconditionally (removed in 4.1) */
    "Mail::SpamAssassin::Plugin::RaciallyCharged",
    /* not a plugin: init.pre's `enable_compat welcomelist_blocklist` defines this can() */
    "Mail::SpamAssassin::Conf::compat_welcomelist_blocklist",
};

/*
 * can()/has() answers. SpamAssassin 4.0.1's Conf.pm defines these feature_*
 * and has_* methods, all returning 1. Tamis answers 1 for those describing
 * rule syntax or rule-set contents it reads the way SA does, 0 for options it
 * does not implement (DNS, Bayes, reporting) and for syntax it lacks:
 *
 *   feature_bug6558_free              1  meta/rule parsing bug fixed (rules guarded by it are plain)
 *   feature_welcomelist_blocklist     1  rule names use WELCOMELIST/BLOCKLIST (what the rules say)
 *   feature_blocklist_welcomelist     1  (the old spelling of the same)
 *   feature_header_first_last         1  :first and :last header modifiers
 *   feature_get_host                  1  :host :domain :ip header modifiers (:revip is unsupported)
 *   feature_local_tests_only          1  `if (local_tests_only)` is understood
 *   has_tflags_nosubject              1  tflags nosubject
 *   has_tflags_nolog                  1  tflags nolog is accepted
 *   perl_min_version_5010000          1  regexes may use Perl 5.10 syntax (PCRE2 has it)
 *   feature_capture_rules             0  named captures feeding %{TAG} templates: not yet
 *   feature_meta_rules_matching       0  rules_matching() in metas: not expanded
 *   feature_header_match_many         0  Tamis uses the first :addr/:name result
 *   feature_header_address_parser     0  (Email::Address::XS behaviour)
 *   feature_compile_regexp            0  a Perl API, not syntax
 *   all other feature_* (dns, bayes, registryboundaries, yesno_takes_args,
 *   originating_ip_headers, subjprefix, geodb, edns, ...) 0: options Tamis ignores
 *
 * Plugin methods (Mail::SpamAssassin::Plugin::X::has_*) are true when SA
 * 4.0.1's plugin X defines them and X is loaded; the rules they guard then
 * use eval functions that the loader marks unsupported if Tamis lacks them.
 */
struct tm_rules_can_ent {
    const char *name;
    int answer;
};

static const struct tm_rules_can_ent tm_rules_can_conf[] = {
    {"feature_bug6558_free", 1},
    {"feature_welcomelist_blocklist", 1},
    {"feature_blocklist_welcomelist", 1},
    {"feature_header_first_last", 1},
    {"feature_get_host", 1},
    {"feature_local_tests_only", 1},
    {"has_tflags_nosubject", 1},
    {"has_tflags_nolog", 1},
    {"perl_min_version_5010000", 1},
};

/* {plugin short name, method} pairs SA 4.0.1 defines (grep 'sub has_' Plugin/ *.pm) */
static const char *const tm_rules_can_plugin[][2] = {
    {"BodyEval", "has_check_body_length"},
    {"BodyEval", "has_plaintext_body_sig_ratio"},
    {"DKIM", "has_arc"},
    {"MIMEEval", "has_check_abundant_unicode_ratio"},
    {"MIMEEval", "has_check_for_ascii_text_illegal"},
    {"URIDNSBL", "has_tflags_domains_only"},
    {"URIDNSBL", "has_subtest_for_ranges"},
    {"URIDNSBL", "has_uridnsbl_for_a"},
    {"URIDNSBL", "has_uridnsbl_a_ns"},
    {"URIDNSBL", "has_tflags_notrim"},
    {"URIDNSBL", "has_uridnsbl_skip_mailto"},
    {"SPF", "has_check_for_spf_errors"},
    {"SPF", "has_check_spf_skipped_noenvfrom"},
    {"AskDNS", "has_tag_header"},
    {"HashBL", "has_hashbl_bodyre"},
    {"HashBL", "has_hashbl_bodyre_num"},
    {"HashBL", "has_hashbl_emails"},
    {"HashBL", "has_hashbl_uris"},
    {"HashBL", "has_hashbl_ignore"},
    {"HashBL", "has_hashbl_email_regex"},
    {"HashBL", "has_hashbl_email_welcomelist"},
    {"HashBL", "has_hashbl_email_whitelist"},
    {"HashBL", "has_hashbl_tag"},
    {"HashBL", "has_hashbl_sha256"},
    {"HashBL", "has_hashbl_attachments"},
    {"HashBL", "has_hashbl_email_domain"},
    {"HashBL", "has_hashbl_email_domain_alias"},
};

#define TM_SA_CONF   "Mail::SpamAssassin::Conf"
#define TM_SA_PLUGIN "Mail::SpamAssassin::Plugin::"

int
tm_rules_plugin_default(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < TM_NELEM(tm_rules_default_plugins); i++)
        if (strlen(tm_rules_default_plugins[i]) == len &&
            memcmp(tm_rules_default_plugins[i], name, len) == 0)
            return 1;
    return 0;
}

static int
tm_mem_is(const char *p, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(p, lit, len) == 0;
}

/* tm_rules_can - Tamis's answer to can(Module::method) / has(Module::method) */
static int
tm_rules_can(const struct tm_rules_cond_env *env, const char *s, size_t len)
{
    size_t i, cut = 0, plen = strlen(TM_SA_PLUGIN);
    const char *meth;
    size_t mlen;

    for (i = 0; i + 1 < len; i++)
        if (s[i] == ':' && s[i + 1] == ':')
            cut = i;
    if (cut == 0)
        return 0;
    meth = s + cut + 2;
    mlen = len - cut - 2;
    if (tm_mem_is(s, cut, TM_SA_CONF)) {
        if (mlen > 7 && memcmp(meth, "compat_", 7) == 0)
            return env->plugin != NULL && env->plugin(env->arg, s, len);
        for (i = 0; i < TM_NELEM(tm_rules_can_conf); i++)
            if (tm_mem_is(meth, mlen, tm_rules_can_conf[i].name))
                return tm_rules_can_conf[i].answer;
        return 0;
    }
    if (cut <= plen || memcmp(s, TM_SA_PLUGIN, plen) != 0)
        return 0;
    for (i = 0; i < TM_NELEM(tm_rules_can_plugin); i++)
        if (tm_mem_is(s + plen, cut - plen, tm_rules_can_plugin[i][0]) &&
            tm_mem_is(meth, mlen, tm_rules_can_plugin[i][1]))
            return env->plugin != NULL && env->plugin(env->arg, s, cut);
    return 0;
}

/* ---- the expression parser ---------------------------------------------- */

struct tm_cp {
    const char *s;
    size_t len, pos;
    const struct tm_rules_cond_env *env;
    unsigned depth;
    size_t errpos;
    const char *errmsg;
};

static int
tm_cp_err(struct tm_cp *c, size_t pos, const char *msg)
{
    if (c->errmsg == NULL) {
        c->errpos = pos;
        c->errmsg = msg;
    }
    return -1;
}

static void
tm_cp_ws(struct tm_cp *c)
{
    while (c->pos < c->len && (c->s[c->pos] == ' ' || c->s[c->pos] == '\t' ||
                               c->s[c->pos] == '\r' || c->s[c->pos] == '\n'))
        c->pos++;
}

/* tm_cp_eat - consume the operator `op` (after spaces) when it comes next */
static int
tm_cp_eat(struct tm_cp *c, const char *op)
{
    size_t n = strlen(op);

    tm_cp_ws(c);
    if (c->len - c->pos < n || memcmp(c->s + c->pos, op, n) != 0)
        return 0;
    /* "!" must not eat the start of "!=", "<"/">" not the start of "<="/">=" */
    if (n == 1 && c->pos + 1 < c->len && c->s[c->pos + 1] == '=' &&
        (op[0] == '!' || op[0] == '<' || op[0] == '>' || op[0] == '='))
        return 0;
    c->pos += n;
    return 1;
}

static int
tm_is_word(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

static int tm_cp_expr(struct tm_cp *c, double *v);

/* tm_cp_call - `(` NAME `)` after plugin/can/has */
static int
tm_cp_call(struct tm_cp *c, const char *fn, double *v)
{
    size_t start;

    if (!tm_cp_eat(c, "("))
        return tm_cp_err(c, c->pos, "expected '(' after plugin/can/has");
    tm_cp_ws(c);
    start = c->pos;
    while (c->pos < c->len && (tm_is_word(c->s[c->pos]) || c->s[c->pos] == ':'))
        c->pos++;
    if (c->pos == start)
        return tm_cp_err(c, start, "expected a module name");
    if (fn[0] == 'p')
        *v = c->env->plugin != NULL && c->env->plugin(c->env->arg, c->s + start, c->pos - start);
    else
        *v = tm_rules_can(c->env, c->s + start, c->pos - start);
    if (!tm_cp_eat(c, ")"))
        return tm_cp_err(c, c->pos, "expected ')'");
    return 0;
}

static int
tm_cp_prim(struct tm_cp *c, double *v)
{
    size_t start;
    char *end;
    char num[64];

    tm_cp_ws(c);
    start = c->pos;
    if (c->pos >= c->len)
        return tm_cp_err(c, c->pos, "unexpected end of condition");
    if (tm_cp_eat(c, "(")) {
        if (++c->depth > TM_RULES_COND_MAX_DEPTH)
            return tm_cp_err(c, start, "condition nested too deeply");
        if (tm_cp_expr(c, v) < 0)
            return -1;
        c->depth--;
        if (!tm_cp_eat(c, ")"))
            return tm_cp_err(c, c->pos, "expected ')'");
        return 0;
    }
    if ((c->s[c->pos] >= '0' && c->s[c->pos] <= '9') || c->s[c->pos] == '.') {
        while (c->pos < c->len &&
               ((c->s[c->pos] >= '0' && c->s[c->pos] <= '9') || c->s[c->pos] == '.'))
            c->pos++;
        if (c->pos - start >= sizeof(num))
            return tm_cp_err(c, start, "number too long");
        memcpy(num, c->s + start, c->pos - start);
        num[c->pos - start] = '\0';
        *v = strtod(num, &end);
        if (*end != '\0')
            return tm_cp_err(c, start, "bad number");
        return 0;
    }
    while (c->pos < c->len && (tm_is_word(c->s[c->pos]) || c->s[c->pos] == ':'))
        c->pos++;
    if (c->pos == start)
        return tm_cp_err(c, start, "unexpected character in condition");
    if (tm_mem_is(c->s + start, c->pos - start, "version"))
        *v = TM_RULES_SA_VERSION;
    else if (tm_mem_is(c->s + start, c->pos - start, "perl_version"))
        *v = TM_RULES_PERL_VERSION;
    else if (tm_mem_is(c->s + start, c->pos - start, "local_tests_only"))
        *v = 1;
    else if (tm_mem_is(c->s + start, c->pos - start, "plugin"))
        return tm_cp_call(c, "plugin", v);
    else if (tm_mem_is(c->s + start, c->pos - start, "can") ||
             tm_mem_is(c->s + start, c->pos - start, "has"))
        return tm_cp_call(c, "can", v);
    else
        return tm_cp_err(c, start, "unknown name in condition");
    return 0;
}

static int
tm_cp_unary(struct tm_cp *c, double *v)
{
    size_t start;
    int r;

    tm_cp_ws(c);
    start = c->pos;
    if (tm_cp_eat(c, "!") || tm_cp_eat(c, "-")) {
        int neg = c->s[start] == '-';

        if (++c->depth > TM_RULES_COND_MAX_DEPTH)
            return tm_cp_err(c, start, "condition nested too deeply");
        r = tm_cp_unary(c, v);
        c->depth--;
        if (r < 0)
            return -1;
        *v = neg ? -*v : (*v != 0 ? 0 : 1);
        return 0;
    }
    return tm_cp_prim(c, v);
}

static int
tm_cp_prod(struct tm_cp *c, double *v)
{
    double w;

    if (tm_cp_unary(c, v) < 0)
        return -1;
    for (;;) {
        if (tm_cp_eat(c, "*")) {
            if (tm_cp_unary(c, &w) < 0)
                return -1;
            *v *= w;
        } else if (tm_cp_eat(c, "/")) {
            size_t at = c->pos;

            if (tm_cp_unary(c, &w) < 0)
                return -1;
            if (w == 0)
                return tm_cp_err(c, at, "division by zero");
            *v /= w;
        } else {
            return 0;
        }
    }
}

static int
tm_cp_sum(struct tm_cp *c, double *v)
{
    double w;

    if (tm_cp_prod(c, v) < 0)
        return -1;
    for (;;) {
        if (tm_cp_eat(c, "+")) {
            if (tm_cp_prod(c, &w) < 0)
                return -1;
            *v += w;
        } else if (tm_cp_eat(c, "-")) {
            if (tm_cp_prod(c, &w) < 0)
                return -1;
            *v -= w;
        } else {
            return 0;
        }
    }
}

static int
tm_cp_cmp(struct tm_cp *c, double *v)
{
    static const char *const ops[] = {"==", "!=", "<=", ">=", "<", ">"};
    double w;
    size_t i;

    if (tm_cp_sum(c, v) < 0)
        return -1;
    for (i = 0; i < TM_NELEM(ops); i++) {
        if (!tm_cp_eat(c, ops[i]))
            continue;
        if (tm_cp_sum(c, &w) < 0)
            return -1;
        switch (i) {
        case 0:
            *v = *v == w;
            break;
        case 1:
            *v = *v != w;
            break;
        case 2:
            *v = *v <= w;
            break;
        case 3:
            *v = *v >= w;
            break;
        case 4:
            *v = *v < w;
            break;
        default:
            *v = *v > w;
            break;
        }
        return 0;
    }
    return 0;
}

static int
tm_cp_and(struct tm_cp *c, double *v)
{
    double w;

    if (tm_cp_cmp(c, v) < 0)
        return -1;
    while (tm_cp_eat(c, "&&")) {
        if (tm_cp_cmp(c, &w) < 0)
            return -1;
        *v = (*v != 0 && w != 0);
    }
    return 0;
}

static int
tm_cp_expr(struct tm_cp *c, double *v)
{
    double w;

    if (tm_cp_and(c, v) < 0)
        return -1;
    while (tm_cp_eat(c, "||")) {
        if (tm_cp_and(c, &w) < 0)
            return -1;
        *v = (*v != 0 || w != 0);
    }
    return 0;
}

tm_rc
tm_rules_cond_eval(const char *s, size_t len, const struct tm_rules_cond_env *env, int *truth,
                   size_t *errpos, const char **errmsg)
{
    struct tm_cp c;
    double v = 0;

    memset(&c, 0, sizeof(c));
    c.s = s;
    c.len = len;
    c.env = env;
    if (tm_cp_expr(&c, &v) == 0) {
        tm_cp_ws(&c);
        if (c.pos < c.len)
            tm_cp_err(&c, c.pos, "unexpected text after condition");
    }
    if (c.errmsg != NULL) {
        *errpos = c.errpos;
        *errmsg = c.errmsg;
        *truth = 0;
        return TM_EINVAL;
    }
    *truth = v != 0;
    return TM_OK;
}
