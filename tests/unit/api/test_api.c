/*
 * test_api.c - include/tamis/tamis.h as an embedder uses it: settings,
 * rules, build, scan, score and JSON; errors reported, not crashed on.
 * The rule file is written by each test; expected values are hand-checked
 * (a Subject rule that must hit "Hello world", score 3.5 >= 3 -> reject).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"
#include "tamis/tamis.h"

static const char msg[] = "From: a@example.org\r\nTo: b@example.org\r\nSubject: Hello world\r\n"
                          "\r\nbody text\r\n";

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    REQUIRE(f != NULL);
    fputs(text, f);
    fclose(f);
}

TM_TEST(api_version_names_libraries)
{
    const char *v = tamis_version();

    CHECK(strstr(v, "tamis ") == v);
    CHECK(strstr(v, "libclamav") != NULL && strstr(v, "hyperscan") != NULL);
    CHECK(strstr(v, "pcre2") != NULL && strstr(v, "libxml2") != NULL && strstr(v, "OpenSSL"));
}

TM_TEST(api_scan_without_rules)
{
    struct tamis_engine *e = tamis_engine_new();
    struct tamis_task *t;
    const char *json;

    REQUIRE(e != NULL);
    t = tamis_task_new(e);
    REQUIRE(t != NULL);
    CHECK(tamis_task_scan(t, (const unsigned char *)msg, sizeof(msg) - 1) == TAMIS_OK);
    json = tamis_task_json(t, "m.eml", 0, NULL);
    CHECK(strstr(json, "\"subject\":\"Hello world\"") != NULL);
    CHECK(strstr(json, "\"symbols\"") == NULL); /* no rules, no verdict fields */
    /* one message per task */
    CHECK(tamis_task_scan(t, (const unsigned char *)msg, sizeof(msg) - 1) == TAMIS_EINVAL);
    tamis_task_free(t);
    tamis_engine_free(e);
}

TM_TEST(api_rules_score_and_action)
{
    char dir[] = "/tmp/tamis_api_XXXXXX", path[128], err[256];
    struct tamis_engine *e = tamis_engine_new();
    struct tamis_task *t;
    const char *action = NULL, *json;
    double score;

    REQUIRE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/t.cf", dir);
    write_file(path, "header API_HELLO Subject =~ /^hello/i\nscore API_HELLO 3.5\n"
                     "describe API_HELLO Subject starts with hello\n"
                     "body API_NEVER /never matches this/\n");
    CHECK(tamis_engine_set(e, "cache_dir", "", err, sizeof(err)) == TAMIS_OK);
    CHECK(tamis_engine_set(e, "action.reject", "3", err, sizeof(err)) == TAMIS_OK);
    CHECK(tamis_engine_set(e, "action.bogus", "3", err, sizeof(err)) != TAMIS_OK);
    CHECK(tamis_engine_set(e, "no_such_limit", "3", err, sizeof(err)) != TAMIS_OK);
    CHECK(tamis_engine_add_rules(e, path) == TAMIS_OK);
    CHECK(tamis_task_new(e) == NULL); /* rules added: build first */
    REQUIRE(tamis_engine_build(e, err, sizeof(err)) == TAMIS_OK);
    CHECK(tamis_engine_set(e, "mime_max_depth", "5", err, sizeof(err)) != TAMIS_OK); /* frozen */
    t = tamis_task_new(e);
    REQUIRE(t != NULL);
    REQUIRE(tamis_task_scan(t, (const unsigned char *)msg, sizeof(msg) - 1) == TAMIS_OK);
    score = tamis_task_score(t, &action);
    CHECK(score == 3.5);
    CHECK_STR(action, "reject");
    json = tamis_task_json(t, NULL, 0, NULL);
    CHECK(strstr(json, "\"name\":\"API_HELLO\"") != NULL);
    CHECK(strstr(json, "API_NEVER") == NULL);
    CHECK(strstr(json, "\"options\":[\"Hello\"]") != NULL);
    tamis_task_free(t);
    tamis_engine_free(e);
    unlink(path);
    rmdir(dir);
}

TM_TEST(api_bad_rules_fail_build_with_location)
{
    char dir[] = "/tmp/tamis_api_XXXXXX", path[128], err[256];
    struct tamis_engine *e = tamis_engine_new();

    REQUIRE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/bad.cf", dir);
    write_file(path, "body OK_RULE /fine/\nbody BAD_RULE /unterminated\n");
    CHECK(tamis_engine_add_rules(e, path) == TAMIS_OK);
    CHECK(tamis_engine_build(e, err, sizeof(err)) != TAMIS_OK);
    CHECK(strstr(err, "bad.cf:2:") != NULL);
    CHECK(tamis_task_new(e) == NULL);
    tamis_engine_free(e);
    unlink(path);
    rmdir(dir);
}

const struct tm_test tests_api[] = {
    TM_TEST_ENTRY(api_version_names_libraries),
    TM_TEST_ENTRY(api_scan_without_rules),
    TM_TEST_ENTRY(api_rules_score_and_action),
    TM_TEST_ENTRY(api_bad_rules_fail_build_with_location),
    TM_TEST_END,
};
