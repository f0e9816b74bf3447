/*
 * test_stock.c - the stock SpamAssassin rules of this machine through the
 * loader, and a cross-check against SpamAssassin itself.
 *
 * Needs the Debian `spamassassin` package (rules in /usr/share/spamassassin,
 * site config and .pre files in /etc/spamassassin, Perl modules for
 * sa_rule_list.pl). Missing, the tests FAIL rather than skip: CI installs it.
 */
#include "harness.h"
#include "suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define TM_SA_RULES "/usr/share/spamassassin"
#define TM_SA_SITE  "/etc/spamassassin"

#ifndef TM_RULES_SA_SCRIPT
#define TM_RULES_SA_SCRIPT "tests/unit/rules/sa_rule_list.pl"
#endif

static void
stock_load(struct tm_ruleset *rs, int with_site, tm_rc *rc)
{
    const char *paths[2] = {TM_SA_RULES, TM_SA_SITE};

    memset(rs, 0, sizeof(*rs));
    *rc = tm_rules_load(rs, paths, with_site ? 2 : 1);
}

/* stock_reasons - print how many rules are unsupported, by reason (top ones) */
static void
stock_reasons(const struct tm_ruleset *rs)
{
    const char *why[64];
    size_t cnt[64], nw = 0, i, j, other = 0;

    for (i = 0; i < rs->n; i++) {
        const char *w = rs->rules[i].why;

        if (!rs->rules[i].unsupported)
            continue;
        if (strncmp(w, "eval:", 5) == 0)
            w = "eval:* not implemented";
        else if (strncmp(w, "plugin ", 7) == 0)
            w = "plugin * not loaded";
        else if (strncmp(w, "if ", 3) == 0 || strncmp(w, "else ", 5) == 0)
            w = "if/else block false";
        for (j = 0; j < nw && strcmp(why[j], w) != 0; j++)
            ;
        if (j == nw) {
            if (nw == 64) {
                other++;
                continue;
            }
            why[nw] = w;
            cnt[nw++] = 0;
        }
        cnt[j]++;
    }
    for (j = 0; j < nw; j++)
        printf("    unsupported: %5zu  %s\n", cnt[j], why[j]);
    if (other)
        printf("    unsupported: %5zu  (other reasons)\n", other);
}

TM_TEST(rules_stock_load)
{
    struct tm_ruleset rs;
    size_t bytype[TM_RULE__COUNT] = {0}, i, unsup = 0, nerr = 0;
    tm_rc rc;

    stock_load(&rs, 0, &rc);
    for (i = 0; i < rs.ndiags; i++)
        if (rs.diags[i].error) {
            nerr++;
            printf("    %s:%u:%u: error: %s\n", rs.diags[i].file, rs.diags[i].line, rs.diags[i].col,
                   rs.diags[i].msg);
        }
    CHECK_EQ_INT(rc, TM_OK);
    CHECK_EQ_SIZE(nerr, 0);
    CHECK(rs.n > 1000);
    CHECK(rs.nfiles > 40);
    for (i = 0; i < rs.n; i++) {
        const struct tm_rule *r = &rs.rules[i];

        bytype[r->type]++;
        unsup += r->unsupported != 0;
        if (r->type == TM_RULE_META) {
            if (r->meta == NULL || r->meta[0] == '\0')
                tm_test_fail(__FILE__, __LINE__, "meta %s has no expression", r->name);
        } else if (r->eval == NULL && !r->unsupported && r->hdr_kind != TM_HDR_EXISTS &&
                   (r->pattern == NULL || r->pattern[0] == '\0')) {
            tm_test_fail(__FILE__, __LINE__, "%s %s has no pattern", tm_rule_type_name(r->type),
                         r->name);
        }
        if (r->unsupported && (r->why == NULL || r->why[0] == '\0'))
            tm_test_fail(__FILE__, __LINE__, "%s unsupported without a reason", r->name);
        if (tm_rules_find(&rs, r->name) != r)
            tm_test_fail(__FILE__, __LINE__, "index does not find %s", r->name);
    }
    printf("    %zu rules from %zu files, %zu diags, %zu lang lines, %zu ignored lines\n", rs.n,
           rs.nfiles, rs.ndiags, rs.nlang, rs.nignored);
    for (i = 0; i < TM_RULE__COUNT; i++)
        printf("    %-8s %5zu\n", tm_rule_type_name((enum tm_rule_type)i), bytype[i]);
    printf("    unsupported %zu, supported %zu\n", unsup, rs.n - unsup);
    stock_reasons(&rs);
    tm_rules_free(&rs);
}

/*
 * rules_stock_vs_spamassassin - sa_rule_list.pl prints what SpamAssassin
 * 4.0.1 loads from the same two directories (name, type, four scores).
 * Every SA rule must be here with the same scores; types must agree except
 * where Tamis documents a different mapping: mimeheader (SA: a body eval;
 * Tamis: a header rule, unsupported) and SA's "empty" tests (reuse, askdns;
 * Tamis: unsupported meta "0" / header). Extra Tamis rules must be
 * unsupported placeholders from false if/ifplugin blocks.
 */
TM_TEST(rules_stock_vs_spamassassin)
{
    struct tm_ruleset rs;
    FILE *fp;
    char line[1024], *name, *type, *sc, *end;
    size_t nsa = 0, same_name = 0, same_type = 0, mapped_type = 0, same_score = 0, i, k;
    size_t extra = 0;
    tm_rc rc;
    int st;
    const struct tm_rule *r;
    unsigned char *seen;

    stock_load(&rs, 1, &rc);
    CHECK_EQ_INT(rc, TM_OK);
    seen = calloc(rs.n ? rs.n : 1, 1);
    REQUIRE(seen != NULL);
    fp = popen("perl '" TM_RULES_SA_SCRIPT "' '" TM_SA_RULES "' '" TM_SA_SITE "'", "r");
    REQUIRE(fp != NULL);
    while (fgets(line, sizeof(line), fp) != NULL) {
        double s[4];

        line[strcspn(line, "\n")] = '\0';
        name = line;
        if ((type = strchr(name, '\t')) == NULL || (sc = strchr(type + 1, '\t')) == NULL)
            continue;
        *type++ = '\0';
        *sc++ = '\0';
        for (k = 0; k < 4; k++) {
            s[k] = strtod(sc, &end);
            sc = end;
        }
        nsa++;
        if ((r = tm_rules_find(&rs, name)) == NULL) {
            tm_test_fail(__FILE__, __LINE__, "SA rule %s (%s) missing", name, type);
            continue;
        }
        seen[r - rs.rules] = 1;
        same_name++;
        if (strcmp(type, tm_rule_type_name(r->type)) == 0)
            same_type++;
        else if (r->unsupported && ((strcmp(type, "body") == 0 &&
                                     strcmp(r->why, "mimeheader not supported yet") == 0) ||
                                    strcmp(type, "empty") == 0))
            mapped_type++;
        else
            tm_test_fail(__FILE__, __LINE__, "%s: SA type %s, Tamis %s", name, type,
                         tm_rule_type_name(r->type));
        for (k = 0; k < 4; k++)
            if (r->score[k] - s[k] > 1e-6 || s[k] - r->score[k] > 1e-6)
                break;
        if (k == 4)
            same_score++;
        else
            tm_test_fail(__FILE__, __LINE__, "%s: SA score %g, Tamis %g", name, s[0], r->score[0]);
    }
    st = pclose(fp);
    CHECK_EQ_INT(st, 0); /* perl could not load Mail::SpamAssassin: fail, not skip */
    CHECK(nsa > 1000);
    for (i = 0; i < rs.n; i++) {
        if (seen[i])
            continue;
        extra++;
        if (!rs.rules[i].unsupported)
            tm_test_fail(__FILE__, __LINE__, "%s: loaded by Tamis only, and supported",
                         rs.rules[i].name);
    }
    printf("    SpamAssassin %zu rules; Tamis %zu: same names %zu, same type %zu (+%zu "
           "documented mappings), same scores %zu; Tamis-only %zu (all unsupported)\n",
           nsa, rs.n, same_name, same_type, mapped_type, same_score, extra);
    free(seen);
    tm_rules_free(&rs);
}

const struct tm_test tests_rules_stock[] = {
    TM_TEST_ENTRY(rules_stock_load),
    TM_TEST_ENTRY(rules_stock_vs_spamassassin),
    TM_TEST_END,
};
