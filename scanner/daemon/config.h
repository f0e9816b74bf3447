/*
 * config.h - tamisd's configuration: built-in defaults, a file in the
 * "key = value" form Postfix's main.cf uses, and the command line on top.
 *
 * File syntax: one setting per line, "key = value"; '#' at the start of a
 * line (after blanks) starts a comment; a line that starts with a blank
 * continues the previous value (as in main.cf); blank lines are ignored.
 * Keys that may repeat (listen, rules, url_blocklist, url_allowlist, dkim_sign) add to
 * the list each time; any other key given twice is an error, never a silent
 * override. Unknown keys and bad values are errors with file:line. Every key
 * of `tamis limits` (message_max_size, mime_max_depth, av_max_files ...) is
 * accepted as well, with the same ranges, and "action.NAME = SCORE" sets an
 * action threshold. `tamisd --print-config` prints every key, its value and
 * what it means (tm_daemon_cfg_print).
 */
#ifndef TM_DAEMON_CONFIG_H
#define TM_DAEMON_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "core/core.h"
#include "core/limits.h"
#include "verdict/verdict.h"

enum tm_listen_proto { TM_LISTEN_MILTER, TM_LISTEN_SPAMD, TM_LISTEN_HTTP };

#define TM_DAEMON_MAX_LISTEN 16
#define TM_DAEMON_MAX_PATHS  64

struct tm_listen {
    enum tm_listen_proto proto;
    int is_unix;      /* unix:PATH, else inet:HOST:PORT */
    char path[108];   /* sun_path */
    char host[256];
    unsigned port;
};

struct tm_daemon_cfg {
    struct tm_listen listen[TM_DAEMON_MAX_LISTEN];
    size_t nlisten;
    unsigned socket_mode;      /* of Unix sockets (octal in the file) */
    char socket_group[64];     /* "" : the daemon's own group */
    char user[64];             /* drop privileges to this user after binding; "" : stay */
    char pid_file[4096];       /* "" : none */
    int foreground;
    char log[16];              /* "stderr" or "syslog" */
    char log_level[16];        /* error, warn, info, debug */
    char analytics_log[4096];  /* one JSON line per message; "" : none, "-" : stderr */
    unsigned workers;          /* scan threads; 0 : one per core */
    int cpu_affinity;          /* pin worker k to the k-th allowed CPU when they fit */
    unsigned max_connections;
    unsigned max_queue;        /* scans waiting for a worker before tempfail */
    unsigned read_timeout_ms;  /* idle connection */
    unsigned scan_deadline_ms; /* a scan not done by then: the undecided action */
    char *rules[TM_DAEMON_MAX_PATHS];
    size_t nrules;
    char *url_blocklists[TM_DAEMON_MAX_PATHS];
    size_t nurl_blocklists;
    char *url_allowlists[TM_DAEMON_MAX_PATHS];
    size_t nurl_allowlists;
    char av_db[4096];          /* "" : freshclam's directory or the shipped test signatures */
    int av;                    /* 0: no attachment scanning */
    int av_all_parts;
    char av_tmpdir[4096];      /* libclamav's extracted files; "" : /dev/shm (tmpfs) or /tmp */
    char cache_dir[4096];      /* compiled rules; "" : the default */
    /* sender authentication (scanner/auth) and outbound signing */
    int dns;                   /* SPF, DKIM, ARC, DMARC through real DNS (c-ares) */
    char dns_servers[1024];    /* "IP[:port],..."; "" : /etc/resolv.conf */
    char dns_zone[4096];       /* answer from this zone file instead (offline, tests) */
    char authserv_id[256];     /* Authentication-Results authserv-id; "" : the host name */
    int auth_results;          /* add Authentication-Results when authentication ran */
    char sender_domains[4096]; /* submitter -> verified domains file; "" : no policy */
    char *dkim_sign[TM_DAEMON_MAX_PATHS]; /* "DOMAIN SELECTOR KEYFILE" */
    size_t ndkim_sign;
    char dkim_sign_headers[1024]; /* "" : the default list */
    char dkim_sign_canon[32];
    int dkim_sign_all;         /* sign mail without an authenticated submitter too */
    char arc_seal[4608];       /* "DOMAIN SELECTOR KEYFILE"; "" : no sealing */
    struct tm_limits limits;
    struct tm_verdict_cfg verdict; /* action thresholds, undecided action */
};

/* tm_daemon_cfg_defaults - the built-in configuration (tamisd runs with no file at all) */
void tm_daemon_cfg_defaults(struct tm_daemon_cfg *c);

/* tm_daemon_cfg_free - what the lists own */
void tm_daemon_cfg_free(struct tm_daemon_cfg *c);

/*
 * tm_daemon_cfg_set - one setting, as from a file line or --set KEY=VALUE;
 * where names the source for messages ("tamisd.conf:12"). TM_EINVAL with
 * err on an unknown key, a bad value, or a second value for a single key
 * when `seen` tracking says so (seen: a bitmap the caller keeps per source,
 * or NULL to allow overriding, as the command line does).
 */
tm_rc tm_daemon_cfg_set(struct tm_daemon_cfg *c, const char *key, const char *value,
                        unsigned char *seen, char *err, size_t errlen);

/*
 * tm_daemon_cfg_load - read a configuration file over c (which holds the
 * defaults). TM_EIO when it cannot be read; TM_EINVAL with "file:line: why"
 * in err on the first bad line.
 */
tm_rc tm_daemon_cfg_load(struct tm_daemon_cfg *c, const char *path, char *err, size_t errlen);

/* tm_listen_parse - "milter=unix:/run/tamis/milter.sock", "http=inet:127.0.0.1:11333" */
tm_rc tm_listen_parse(const char *s, struct tm_listen *out, char *err, size_t errlen);

/* tm_daemon_cfg_print - every key with its value and its meaning, as a valid config file */
void tm_daemon_cfg_print(const struct tm_daemon_cfg *c, FILE *f);

#endif
