/*
 * test_config.c - tamisd's configuration: defaults, the main.cf-style file
 * (comments, continuation lines, repeatable keys, errors with file:line),
 * listeners, limits and action keys, and that --print-config output is
 * itself a configuration that loads back to the same values.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config.h"
#include "suites.h"

static char *
write_tmp(const char *text)
{
    static char path[64];
    FILE *f;
    int fd;

    snprintf(path, sizeof(path), "/tmp/tamisd-conf-XXXXXX");
    if ((fd = mkstemp(path)) < 0 || (f = fdopen(fd, "w")) == NULL)
        return NULL;
    fputs(text, f);
    fclose(f);
    return path;
}

TM_TEST(config_defaults)
{
    struct tm_daemon_cfg c;

    tm_daemon_cfg_defaults(&c);
    CHECK_EQ_INT(c.nlisten, 0);
    CHECK_EQ_INT(c.socket_mode, 0660);
    CHECK_STR(c.log, "stderr");
    CHECK_EQ_INT(c.av, 1);
    CHECK_EQ_INT(c.verdict.undecided, TM_ACT_SOFT_REJECT); /* never a silent accept */
    CHECK_EQ_SIZE(c.limits.mime_max_depth, tm_limits_default().mime_max_depth);
    tm_daemon_cfg_free(&c);
}

TM_TEST(config_file)
{
    struct tm_daemon_cfg c;
    char err[512];
    const char *p = write_tmp("# tamisd.conf\n"
                              "listen = milter=unix:/run/tamis/milter.sock\n"
                              "listen = spamd=inet:127.0.0.1:7830\n"
                              "  # a comment inside\n"
                              "listen = http=inet:[::1]:11333\n"
                              "socket_mode = 0660\n"
                              "socket_group = postfix\n"
                              "workers = 2\n"
                              "rules = /etc/tamis/rules\n"
                              "rules = /etc/tamis/local.cf\n"
                              "url_blocklist = /etc/tamis/phish.txt\n"
                              "av = no\n"
                              "undecided_action = no_action\n"
                              "action.reject = 12.5\n"
                              "mime_max_depth = 8\n"
                              "analytics_log = /var/log/tamis/verdicts.json\n"
                              "log_level =\n"
                              "  debug\n");

    REQUIRE(p != NULL);
    tm_daemon_cfg_defaults(&c);
    CHECK_EQ_INT(tm_daemon_cfg_load(&c, p, err, sizeof(err)), TM_OK);
    CHECK_EQ_INT(c.nlisten, 3);
    CHECK_EQ_INT(c.listen[0].proto, TM_LISTEN_MILTER);
    CHECK(c.listen[0].is_unix);
    CHECK_STR(c.listen[0].path, "/run/tamis/milter.sock");
    CHECK_EQ_INT(c.listen[1].proto, TM_LISTEN_SPAMD);
    CHECK_STR(c.listen[1].host, "127.0.0.1");
    CHECK_EQ_INT(c.listen[1].port, 7830);
    CHECK_STR(c.listen[2].host, "::1");
    CHECK_EQ_INT(c.listen[2].port, 11333);
    CHECK_STR(c.socket_group, "postfix");
    CHECK_EQ_INT(c.workers, 2);
    CHECK_EQ_SIZE(c.nrules, 2);
    CHECK_STR(c.rules[1], "/etc/tamis/local.cf");
    CHECK_EQ_SIZE(c.nurl_blocklists, 1);
    CHECK_EQ_INT(c.av, 0);
    CHECK_EQ_INT(c.verdict.undecided, TM_ACT_NONE);
    CHECK(c.verdict.threshold[TM_ACT_REJECT] == 12.5);
    CHECK_EQ_SIZE(c.limits.mime_max_depth, 8);
    CHECK_STR(c.log_level, "debug"); /* continuation line */
    unlink(p);
    tm_daemon_cfg_free(&c);
}

/* each bad line fails with its line number and says why */
TM_TEST(config_errors)
{
    static const struct {
        const char *text;
        const char *want; /* in the message */
    } cases[] = {
        {"workers = 2\nbogus_key = 1\n", ":2: unknown setting \"bogus_key\""},
        {"workers = 2\nworkers = 3\n", ":2: workers is set twice"},
        {"workers = -1\n", "want a whole number"},
        {"workers = 1000\n", "from 0 to 256"},
        {"socket_mode = 0999\n", "octal"},
        {"av = maybe\n", "want yes or no"},
        {"log = file\n", "want one of stderr|syslog"},
        {"listen = smtp=unix:/x\n", "want milter|spamd|http"},
        {"listen = milter=unix:relative\n", "absolute path"},
        {"listen = spamd=inet:127.0.0.1:70000\n", "inet:HOST:PORT"},
        {"mime_max_depth = 0\n", "mime_max_depth"},
        {"action.bogus = 3\n", "want an action"},
        {"undecided_action = retry\n", "undecided_action = retry"},
        {"  continued = 1\n", ":1: continuation line without a setting"},
        {"just words\n", ":1: want \"key = value\""},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tm_daemon_cfg c;
        char err[512] = "";
        const char *p = write_tmp(cases[i].text);
        REQUIRE(p != NULL);
        tm_daemon_cfg_defaults(&c);
        CHECK_EQ_INT(tm_daemon_cfg_load(&c, p, err, sizeof(err)), TM_EINVAL);
        if (strstr(err, cases[i].want) == NULL)
            tm_test_fail(__FILE__, __LINE__, "case %zu: \"%s\" lacks \"%s\"", i, err,
                         cases[i].want);
        unlink(p);
        tm_daemon_cfg_free(&c);
    }
}

TM_TEST(config_missing_file)
{
    struct tm_daemon_cfg c;
    char err[512];

    tm_daemon_cfg_defaults(&c);
    CHECK_EQ_INT(tm_daemon_cfg_load(&c, "/nonexistent/tamisd.conf", err, sizeof(err)), TM_EIO);
    CHECK(strstr(err, "/nonexistent/tamisd.conf") != NULL);
}

/* --print-config writes a file that loads back to the same settings */
TM_TEST(config_print_round_trip)
{
    struct tm_daemon_cfg a, b;
    char err[512], path[64], *text = NULL;
    size_t len = 0;
    FILE *f;
    int fd;

    tm_daemon_cfg_defaults(&a);
    CHECK_EQ_INT(tm_daemon_cfg_set(&a, "listen", "milter=unix:/run/m.sock", NULL, err,
                                   sizeof(err)), TM_OK);
    CHECK_EQ_INT(tm_daemon_cfg_set(&a, "listen", "http=inet:[::1]:8080", NULL, err,
                                   sizeof(err)), TM_OK);
    CHECK_EQ_INT(tm_daemon_cfg_set(&a, "rules", "/r", NULL, err, sizeof(err)), TM_OK);
    CHECK_EQ_INT(tm_daemon_cfg_set(&a, "action.reject", "11", NULL, err, sizeof(err)), TM_OK);
    CHECK_EQ_INT(tm_daemon_cfg_set(&a, "av_max_files", "77", NULL, err, sizeof(err)), TM_OK);
    f = open_memstream(&text, &len);
    REQUIRE(f != NULL);
    tm_daemon_cfg_print(&a, f);
    fclose(f);
    snprintf(path, sizeof(path), "/tmp/tamisd-print-XXXXXX");
    REQUIRE((fd = mkstemp(path)) >= 0);
    REQUIRE(write(fd, text, len) == (ssize_t)len);
    close(fd);
    tm_daemon_cfg_defaults(&b);
    CHECK_EQ_INT(tm_daemon_cfg_load(&b, path, err, sizeof(err)), TM_OK);
    CHECK_EQ_INT(b.nlisten, 2);
    CHECK_STR(b.listen[1].host, "::1");
    CHECK_EQ_INT(b.listen[1].port, 8080);
    CHECK_EQ_SIZE(b.nrules, 1);
    CHECK(b.verdict.threshold[TM_ACT_REJECT] == 11);
    CHECK_EQ_SIZE(b.limits.av_max_files, 77);
    CHECK_EQ_INT(b.verdict.undecided, a.verdict.undecided);
    CHECK_EQ_INT(b.socket_mode, a.socket_mode);
    unlink(path);
    free(text);
    tm_daemon_cfg_free(&a);
    tm_daemon_cfg_free(&b);
}

const struct tm_test tests_daemon_config[] = {
    TM_TEST_ENTRY(config_defaults),     TM_TEST_ENTRY(config_file),
    TM_TEST_ENTRY(config_errors),       TM_TEST_ENTRY(config_missing_file),
    TM_TEST_ENTRY(config_print_round_trip), TM_TEST_END};
