/*
 * tamisd.c - the daemon relays query before delivery: milter, the spamd
 * protocol and rspamd's HTTP protocol over Unix sockets or TCP.
 *
 *   tamisd [--config FILE] [--foreground] [--listen PROTO=unix:PATH|inet:HOST:PORT]...
 *          [--rules PATH]... [--av-db DIR | --no-av] [--url-blocklist FILE]...
 *          [--url-allowlist FILE]... [--set KEY=VALUE]... [--pid-file FILE]
 *          [--user NAME] [--print-config] [--check]
 *
 * Settings: built-in defaults, then the file (--config, else
 * /etc/tamis/tamisd.conf when it exists), then the command line. Without any
 * listener, tamisd listens on milter, spamd and http sockets in /run/tamis
 * (root) or /tmp/tamis-UID.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/daemon.h"

#define DEFAULT_CONFIG "/etc/tamis/tamisd.conf"

static void
usage(FILE *f)
{
    fputs("usage: tamisd [--config FILE] [--foreground] [--listen PROTO=unix:PATH]...\n"
          "              [--listen PROTO=inet:HOST:PORT]... [--rules PATH]...\n"
          "              [--av-db DIR | --no-av] [--url-blocklist FILE]... [--url-allowlist FILE]...\n"
          "              [--set KEY=VALUE]... [--pid-file FILE] [--user NAME]\n"
          "              [--print-config] [--check]\n"
          "PROTO is milter, spamd or http. Settings come from the built-in defaults, then\n"
          "the file (--config, else " DEFAULT_CONFIG " if present), then these options;\n"
          "--print-config lists every key with its value and meaning. --check loads the\n"
          "configuration, rules and databases and exits. SIGHUP reloads them; SIGTERM\n"
          "drains (scans in flight finish) and exits.\n",
          f);
}

/* default_listeners - milter, spamd and http sockets in a run directory */
static int
default_listeners(struct tm_daemon_cfg *c, char *err, size_t errlen)
{
    static const char *const names[] = {"milter", "spamd", "http"};
    char dir[64], spec[160];
    size_t i;

    if (geteuid() == 0)
        snprintf(dir, sizeof(dir), "/run/tamis");
    else
        snprintf(dir, sizeof(dir), "/tmp/tamis-%ld", (long)geteuid());
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    for (i = 0; i < 3; i++) {
        snprintf(spec, sizeof(spec), "%s=unix:%s/%s.sock", names[i], dir, names[i]);
        if (tm_daemon_cfg_set(c, "listen", spec, NULL, err, errlen) != TM_OK)
            return -1;
    }
    return 0;
}

static int
write_pid(const char *path)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return -1;
    fprintf(f, "%ld\n", (long)getpid());
    return fclose(f);
}

static int
daemonize(void)
{
    pid_t p = fork();
    int fd;

    if (p < 0)
        return -1;
    if (p > 0)
        _exit(0);
    if (setsid() < 0)
        return -1;
    if ((p = fork()) < 0)
        return -1;
    if (p > 0)
        _exit(0);
    if (chdir("/") < 0)
        return -1;
    if ((fd = open("/dev/null", O_RDWR)) >= 0) {
        (void)dup2(fd, 0);
        (void)dup2(fd, 1);
        (void)dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct tm_daemon_cfg cfg, cli;
    const char *config = NULL;
    char err[1024];
    int i, print = 0, check = 0, rc;
    struct stat st;

    tm_log_set_ident("tamisd");
    tm_log_set_level(TM_LOG_INFO);
    {
        /* each connection is a descriptor: use all the process may have */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
    }
    tm_daemon_cfg_defaults(&cfg);
    /* the command line is read twice: --config first, the rest over the file */
    for (i = 1; i < argc; i++)
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[++i];
    if (config == NULL && stat(DEFAULT_CONFIG, &st) == 0)
        config = DEFAULT_CONFIG;
    if (config != NULL && tm_daemon_cfg_load(&cfg, config, err, sizeof(err)) != TM_OK) {
        fprintf(stderr, "tamisd: %s\n", err);
        return 2;
    }
    memset(&cli, 0, sizeof(cli));
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        tm_rc r = TM_OK;
        if (strcmp(a, "--config") == 0) {
            i++;
        } else if (strcmp(a, "--foreground") == 0 || strcmp(a, "-f") == 0) {
            cfg.foreground = 1;
        } else if (strcmp(a, "--print-config") == 0) {
            print = 1;
        } else if (strcmp(a, "--check") == 0) {
            check = 1;
        } else if (strcmp(a, "--no-av") == 0) {
            cfg.av = 0;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (v != NULL && (strcmp(a, "--listen") == 0 || strcmp(a, "--rules") == 0 ||
                                 strcmp(a, "--av-db") == 0 || strcmp(a, "--pid-file") == 0 ||
                                 strcmp(a, "--user") == 0 || strcmp(a, "--url-blocklist") == 0 ||
                                 strcmp(a, "--url-allowlist") == 0)) {
            const char *key = a + 2;
            i++;
            /* --listen and --rules on the command line replace the file's */
            if (strcmp(key, "listen") == 0 && !cli.nlisten++)
                cfg.nlisten = 0;
            if (strcmp(key, "rules") == 0 && !cli.nrules++) {
                size_t k;
                for (k = 0; k < cfg.nrules; k++)
                    tm_free(cfg.rules[k]);
                cfg.nrules = 0;
            }
            if (strcmp(key, "av-db") == 0)
                key = "av_db";
            else if (strcmp(key, "pid-file") == 0)
                key = "pid_file";
            else if (strcmp(key, "url-blocklist") == 0)
                key = "url_blocklist";
            else if (strcmp(key, "url-allowlist") == 0)
                key = "url_allowlist";
            r = tm_daemon_cfg_set(&cfg, key, v, NULL, err, sizeof(err));
        } else if (strcmp(a, "--set") == 0 && v != NULL) {
            char kv[8192], *eq;
            i++;
            snprintf(kv, sizeof(kv), "%s", v);
            if ((eq = strchr(kv, '=')) == NULL) {
                fprintf(stderr, "tamisd: --set %s: want KEY=VALUE\n", v);
                return 2;
            }
            *eq = '\0';
            r = tm_daemon_cfg_set(&cfg, kv, eq + 1, NULL, err, sizeof(err));
        } else {
            fprintf(stderr, "tamisd: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (r != TM_OK) {
            fprintf(stderr, "tamisd: %s\n", err);
            return 2;
        }
    }
    if (cfg.nlisten == 0 && default_listeners(&cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "tamisd: %s\n", err);
        return 2;
    }
    if (print) {
        tm_daemon_cfg_print(&cfg, stdout);
        tm_daemon_cfg_free(&cfg);
        return 0;
    }
    if (strcmp(cfg.log_level, "debug") == 0)
        tm_log_set_level(TM_LOG_DEBUG);
    else if (strcmp(cfg.log_level, "warn") == 0)
        tm_log_set_level(TM_LOG_WARN);
    else if (strcmp(cfg.log_level, "error") == 0)
        tm_log_set_level(TM_LOG_ERR);
    if (check) {
        /* load everything as a start would, without listening */
        cfg.nlisten = 0;
        rc = tm_daemon_check(&cfg);
        tm_daemon_cfg_free(&cfg);
        return rc;
    }
    if (!cfg.foreground && cfg.pid_file[0] == '\0' && geteuid() == 0) {
        /* a detached root daemon gets the PID file `tamis reload` looks for */
        if (mkdir("/run/tamis", 0755) == 0 || errno == EEXIST)
            snprintf(cfg.pid_file, sizeof(cfg.pid_file), "/run/tamis/tamisd.pid");
    }
    if (!cfg.foreground) {
        if (daemonize() < 0) {
            fprintf(stderr, "tamisd: cannot detach: %s\n", strerror(errno));
            return 1;
        }
        if (strcmp(cfg.log, "stderr") == 0)
            snprintf(cfg.log, sizeof(cfg.log), "syslog"); /* stderr is /dev/null now */
    }
    if (strcmp(cfg.log, "syslog") == 0)
        tm_log_to_syslog(1);
    if (cfg.pid_file[0] != '\0' && write_pid(cfg.pid_file) < 0) {
        tm_log(TM_LOG_ERR, "pid_file %s: %s", cfg.pid_file, strerror(errno));
        return 1;
    }
    rc = tm_daemon_run(&cfg, config);
    if (cfg.pid_file[0] != '\0')
        (void)unlink(cfg.pid_file);
    tm_daemon_cfg_free(&cfg);
    return rc;
}
