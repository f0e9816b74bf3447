/*
 * config.c - tamisd's configuration; see config.h. One table of keys
 * (Postfix's and Redis's way): name, kind, where it lives, bounds, meaning.
 */
#include "daemon/config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

enum kind { K_STR, K_UINT, K_BOOL, K_MODE, K_LIST, K_LISTEN, K_CHOICE, K_ACTION };

struct key {
    const char *name;
    enum kind kind;
    size_t off;      /* of the field (K_LIST: the array; its count follows in cnt_off) */
    size_t size;     /* K_STR: buffer size */
    size_t cnt_off;  /* K_LIST: the count */
    unsigned long lo, hi;
    const char *choices; /* K_CHOICE: "a|b|c" */
    const char *doc;
};

#define F(f) offsetof(struct tm_daemon_cfg, f)
#define S(f) sizeof(((struct tm_daemon_cfg *)0)->f)

static const struct key keys[] = {
    {"listen", K_LISTEN, 0, 0, 0, 0, 0, NULL,
     "a listener, PROTO=unix:PATH or PROTO=inet:HOST:PORT, PROTO milter, spamd or http; "
     "repeatable"},
    {"socket_mode", K_MODE, F(socket_mode), 0, 0, 0, 0777, NULL,
     "permissions of Unix sockets (octal)"},
    {"socket_group", K_STR, F(socket_group), S(socket_group), 0, 0, 0, NULL,
     "group of Unix sockets (the MTA's group, e.g. postfix); empty: the daemon's"},
    {"user", K_STR, F(user), S(user), 0, 0, 0, NULL,
     "user to run as after binding the sockets; empty: do not change"},
    {"pid_file", K_STR, F(pid_file), S(pid_file), 0, 0, 0, NULL, "PID file; empty: none"},
    {"foreground", K_BOOL, F(foreground), 0, 0, 0, 1, NULL, "stay in the foreground"},
    {"log", K_CHOICE, F(log), S(log), 0, 0, 0, "stderr|syslog", "where logs go"},
    {"log_level", K_CHOICE, F(log_level), S(log_level), 0, 0, 0, "error|warn|info|debug",
     "least severe level logged"},
    {"analytics_log", K_STR, F(analytics_log), S(analytics_log), 0, 0, 0, NULL,
     "file of one JSON line per message; '-': stderr; empty: none"},
    {"workers", K_UINT, F(workers), 0, 0, 0, 256, NULL,
     "scan threads, each of which accepts, reads, scans and replies; 0: one per core"},
    {"cpu_affinity", K_BOOL, F(cpu_affinity), 0, 0, 0, 1, NULL,
     "pin scan thread k to the k-th CPU tamisd may use, when there are no more threads "
     "than CPUs (a scan keeps its CPU's caches warm)"},
    {"max_connections", K_UINT, F(max_connections), 0, 0, 1, 1000000, NULL,
     "open client connections at most (idle milter connections cost no thread)"},
    {"max_queue", K_UINT, F(max_queue), 0, 0, 1, 1000000, NULL,
     "messages waiting for a worker; beyond: the undecided action (tempfail)"},
    {"read_timeout_ms", K_UINT, F(read_timeout_ms), 0, 0, 100, 86400000, NULL,
     "an idle connection is closed after this"},
    {"scan_deadline_ms", K_UINT, F(scan_deadline_ms), 0, 0, 10, 3600000, NULL,
     "a message not decided by then gets the undecided action"},
    {"rules", K_LIST, F(rules), 0, F(nrules), 0, 0, NULL,
     "rule file or directory (.cf); repeatable; none given: the default rule set"},
    {"url_blocklist", K_LIST, F(url_blocklists), 0, F(nurl_blocklists), 0, 0, NULL,
     "host/domain list whose URLs are blocked; repeatable"},
    {"url_allowlist", K_LIST, F(url_allowlists), 0, F(nurl_allowlists), 0, 0, NULL,
     "hosts/domains never blocked; repeatable"},
    {"av", K_BOOL, F(av), 0, 0, 0, 1, NULL, "scan attachments with ClamAV"},
    {"av_db", K_STR, F(av_db), S(av_db), 0, 0, 0, NULL,
     "ClamAV database directory or file; empty: /var/lib/clamav (freshclam), else the "
     "shipped test signatures with a warning"},
    {"av_all_parts", K_BOOL, F(av_all_parts), 0, 0, 0, 1, NULL, "scan text parts with ClamAV too"},
    {"av_tmpdir", K_STR, F(av_tmpdir), S(av_tmpdir), 0, 0, 0, NULL,
     "where libclamav writes the files it extracts from archives; empty: a private "
     "directory in /dev/shm when it is a tmpfs, else $TMPDIR or /tmp"},
    {"cache_dir", K_STR, F(cache_dir), S(cache_dir), 0, 0, 0, NULL,
     "compiled rule databases; empty: $XDG_CACHE_HOME/tamis or ~/.cache/tamis"},
    {"dns", K_BOOL, F(dns), 0, 0, 0, 1, NULL,
     "sender authentication (SPF, DKIM, ARC, DMARC) through DNS; its results feed the "
     "tamis_spf/tamis_dkim/tamis_arc/tamis_dmarc rules"},
    {"dns_servers", K_STR, F(dns_servers), S(dns_servers), 0, 0, 0, NULL,
     "resolvers, IP[:port],...; empty: /etc/resolv.conf"},
    {"dns_zone", K_STR, F(dns_zone), S(dns_zone), 0, 0, 0, NULL,
     "answer sender-authentication lookups from this zone file (master-file syntax) "
     "instead of DNS: offline use and tests"},
    {"authserv_id", K_STR, F(authserv_id), S(authserv_id), 0, 0, 0, NULL,
     "authserv-id of the Authentication-Results and ARC fields; empty: the host name"},
    {"auth_results", K_BOOL, F(auth_results), 0, 0, 0, 1, NULL,
     "add an Authentication-Results field when sender authentication ran"},
    {"sender_domains", K_STR, F(sender_domains), S(sender_domains), 0, 0, 0, NULL,
     "file of 'LOGIN DOMAIN...' lines: the verified sender domains of each authenticated "
     "submitter (milter {auth_authen}, HTTP User); other From/MAIL FROM domains are "
     "rejected; empty: no policy"},
    {"dkim_sign", K_LIST, F(dkim_sign), 0, F(ndkim_sign), 0, 0, NULL,
     "'DOMAIN SELECTOR KEYFILE': sign mail whose From domain is DOMAIN (RSA or Ed25519 "
     "PEM key; two keys for a domain sign twice); repeatable"},
    {"dkim_sign_headers", K_STR, F(dkim_sign_headers), S(dkim_sign_headers), 0, 0, 0, NULL,
     "signed header fields, colon-separated; empty: from:to:cc:subject:date:message-id:"
     "reply-to:in-reply-to:references:mime-version:content-type:content-transfer-encoding"},
    {"dkim_sign_canon", K_CHOICE, F(dkim_sign_canon), S(dkim_sign_canon), 0, 0, 0,
     "relaxed/relaxed|relaxed/simple|simple/relaxed|simple/simple",
     "canonicalisation of signatures (header/body)"},
    {"dkim_sign_all", K_BOOL, F(dkim_sign_all), 0, 0, 0, 1, NULL,
     "sign mail from unauthenticated clients too (a relay that only sends); default: "
     "only mail of authenticated submitters"},
    {"arc_seal", K_STR, F(arc_seal), S(arc_seal), 0, 0, 0, NULL,
     "'DOMAIN SELECTOR KEYFILE': add an ARC set (RFC 8617) to mail passed on, with this "
     "relay's results; needs dns or dns_zone; empty: no sealing"},
    {"early_exit", K_BOOL, F(verdict.early_exit), 0, 0, 0, 1, NULL,
     "skip the regex and meta rules once the eval rules (ClamAV, sender authentication, "
     "URL lists) make reject, or the strongest action possible, certain; and run a "
     "__sub-rule's PCRE2 confirmation only when a scored rule depends on it"},
    {"undecided_action", K_ACTION, 0, 0, 0, 0, 0, NULL,
     "what the relay gets when Tamis cannot decide (scan error, AV error, overload, "
     "deadline): soft_reject (tempfail), no_action, ..."},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

void
tm_daemon_cfg_defaults(struct tm_daemon_cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->socket_mode = 0660;
    snprintf(c->log, sizeof(c->log), "stderr");
    snprintf(c->log_level, sizeof(c->log_level), "info");
    c->max_connections = 4096;
    c->max_queue = 256;
    c->cpu_affinity = 1;
    c->read_timeout_ms = 300000;
    c->scan_deadline_ms = 30000;
    c->av = 1;
    c->auth_results = 1;
    snprintf(c->dkim_sign_canon, sizeof(c->dkim_sign_canon), "relaxed/relaxed");
    c->limits = tm_limits_default();
    tm_verdict_cfg_default(&c->verdict);
}

void
tm_daemon_cfg_free(struct tm_daemon_cfg *c)
{
    size_t i;

    for (i = 0; i < c->nrules; i++)
        tm_free(c->rules[i]);
    for (i = 0; i < c->nurl_blocklists; i++)
        tm_free(c->url_blocklists[i]);
    for (i = 0; i < c->nurl_allowlists; i++)
        tm_free(c->url_allowlists[i]);
    for (i = 0; i < c->ndkim_sign; i++)
        tm_free(c->dkim_sign[i]);
    c->nrules = c->nurl_blocklists = c->nurl_allowlists = c->ndkim_sign = 0;
}

/* num - a whole decimal (or, with base 8, octal) number in [lo, hi] */
static int
num(const char *v, int base, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end;
    unsigned long x;

    if (*v == '\0' || *v == '-' || *v == '+')
        return 0;
    errno = 0;
    x = strtoul(v, &end, base);
    if (errno != 0 || *end != '\0' || x < lo || x > hi)
        return 0;
    *out = x;
    return 1;
}

tm_rc
tm_listen_parse(const char *s, struct tm_listen *out, char *err, size_t errlen)
{
    const char *eq = strchr(s, '='), *a, *colon;
    unsigned long port;

    memset(out, 0, sizeof(*out));
    if (eq == NULL)
        goto bad;
    if ((size_t)(eq - s) == 6 && memcmp(s, "milter", 6) == 0)
        out->proto = TM_LISTEN_MILTER;
    else if ((size_t)(eq - s) == 5 && memcmp(s, "spamd", 5) == 0)
        out->proto = TM_LISTEN_SPAMD;
    else if ((size_t)(eq - s) == 4 && memcmp(s, "http", 4) == 0)
        out->proto = TM_LISTEN_HTTP;
    else
        goto bad;
    a = eq + 1;
    if (strncmp(a, "unix:", 5) == 0) {
        if (a[5] != '/' || strlen(a + 5) >= sizeof(out->path)) {
            snprintf(err, errlen, "listen %s: a Unix socket needs an absolute path under %zu bytes",
                     s, sizeof(out->path));
            return TM_EINVAL;
        }
        out->is_unix = 1;
        snprintf(out->path, sizeof(out->path), "%s", a + 5);
        return TM_OK;
    }
    if (strncmp(a, "inet:", 5) == 0 && (colon = strrchr(a + 5, ':')) != NULL &&
        colon > a + 5 && (size_t)(colon - (a + 5)) < sizeof(out->host) &&
        num(colon + 1, 10, 1, 65535, &port)) {
        const char *h = a + 5;
        size_t hl = (size_t)(colon - h);
        if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') { /* inet:[::1]:11333 */
            h++;
            hl -= 2;
        }
        memcpy(out->host, h, hl);
        out->host[hl] = '\0';
        out->port = (unsigned)port;
        return TM_OK;
    }
bad:
    snprintf(err, errlen, "listen \"%.200s\": want milter|spamd|http=unix:/PATH or "
             "=inet:HOST:PORT", s);
    return TM_EINVAL;
}

static const struct key *
find_key(const char *k)
{
    size_t i;

    for (i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, k) == 0)
            return &keys[i];
    return NULL;
}

/* choice_ok - v is one of "a|b|c" */
static int
choice_ok(const char *choices, const char *v)
{
    size_t n = strlen(v);
    const char *p = choices;

    while (*p != '\0') {
        const char *e = strchr(p, '|');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        if (k == n && memcmp(p, v, n) == 0)
            return 1;
        p += k + (e ? 1 : 0);
    }
    return 0;
}

tm_rc
tm_daemon_cfg_set(struct tm_daemon_cfg *c, const char *key, const char *value,
                  unsigned char *seen, char *err, size_t errlen)
{
    const struct key *k = find_key(key);
    char *base = (char *)c;
    unsigned long x;
    size_t idx;

    if (k == NULL) {
        const struct tm_limit_def *d;
        size_t i;
        if (strncmp(key, "action.", 7) == 0) {
            int a = tm_action_parse(key + 7);
            char *end;
            double s = strtod(value, &end);
            if (a <= 0 || end == value || *end != '\0') {
                snprintf(err, errlen, "%s = %s: want an action (add_header, rewrite_subject, "
                         "soft_reject, quarantine, reject) and a number", key, value);
                return TM_EINVAL;
            }
            c->verdict.threshold[a] = s;
            if (a == TM_ACT_ADD_HEADER)
                c->verdict.required_from_rules = 0;
            return TM_OK;
        }
        for (i = 0; i < tm_limit_count; i++) {
            d = &tm_limit_table[i];
            if (strcmp(d->name, key) == 0)
                return tm_limits_set(&c->limits, key, value, err, errlen);
        }
        snprintf(err, errlen, "unknown setting \"%.100s\" (tamisd --print-config lists them)",
                 key);
        return TM_EINVAL;
    }
    idx = (size_t)(k - keys);
    if (seen != NULL && k->kind != K_LIST && k->kind != K_LISTEN) {
        if (seen[idx]) {
            snprintf(err, errlen, "%s is set twice", key);
            return TM_EINVAL;
        }
        seen[idx] = 1;
    }
    switch (k->kind) {
    case K_STR:
    case K_CHOICE:
        if (strlen(value) >= k->size) {
            snprintf(err, errlen, "%s: value longer than %zu bytes", key, k->size - 1);
            return TM_EINVAL;
        }
        if (k->kind == K_CHOICE && !choice_ok(k->choices, value)) {
            snprintf(err, errlen, "%s = %s: want one of %s", key, value, k->choices);
            return TM_EINVAL;
        }
        snprintf(base + k->off, k->size, "%s", value);
        return TM_OK;
    case K_UINT:
    case K_MODE:
        if (!num(value, k->kind == K_MODE ? 8 : 10, k->lo, k->hi, &x)) {
            snprintf(err, errlen, "%s = %s: want a whole %snumber from %lu to %lu", key, value,
                     k->kind == K_MODE ? "octal " : "", k->lo, k->hi);
            return TM_EINVAL;
        }
        *(unsigned *)(void *)(base + k->off) = (unsigned)x;
        return TM_OK;
    case K_BOOL:
        if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
            *(int *)(void *)(base + k->off) = 1;
        else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 ||
                 strcmp(value, "0") == 0)
            *(int *)(void *)(base + k->off) = 0;
        else {
            snprintf(err, errlen, "%s = %s: want yes or no", key, value);
            return TM_EINVAL;
        }
        return TM_OK;
    case K_LIST: {
        char **v = (char **)(void *)(base + k->off);
        size_t *n = (size_t *)(void *)(base + k->cnt_off);
        if (*value == '\0') {
            snprintf(err, errlen, "%s: empty path", key);
            return TM_EINVAL;
        }
        if (*n >= TM_DAEMON_MAX_PATHS) {
            snprintf(err, errlen, "%s: more than %d", key, TM_DAEMON_MAX_PATHS);
            return TM_EINVAL;
        }
        v[(*n)++] = tm_xstrdup(value);
        return TM_OK;
    }
    case K_LISTEN:
        if (c->nlisten >= TM_DAEMON_MAX_LISTEN) {
            snprintf(err, errlen, "listen: more than %d listeners", TM_DAEMON_MAX_LISTEN);
            return TM_EINVAL;
        }
        if (tm_listen_parse(value, &c->listen[c->nlisten], err, errlen) != TM_OK)
            return TM_EINVAL;
        c->nlisten++;
        return TM_OK;
    case K_ACTION: {
        int a = tm_action_parse(value);
        if (a < 0) {
            snprintf(err, errlen, "%s = %s: want no_action, add_header, rewrite_subject, "
                     "soft_reject, quarantine or reject", key, value);
            return TM_EINVAL;
        }
        c->verdict.undecided = (enum tm_action)a;
        return TM_OK;
    }
    }
    return TM_EINVAL;
}

/* trim - drop leading and trailing blanks in place */
static char *
trim(char *s)
{
    size_t n;

    while (*s == ' ' || *s == '\t')
        s++;
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* flush - apply the pending "key = value" (continuations joined with one space) */
static tm_rc
flush(struct tm_daemon_cfg *c, const char *path, unsigned lineno, char *pending,
      unsigned char *seen, char *err, size_t errlen)
{
    char *eq, *k, *v, e[400];

    if (pending[0] == '\0')
        return TM_OK;
    if ((eq = strchr(pending, '=')) == NULL) {
        snprintf(err, errlen, "%s:%u: want \"key = value\"", path, lineno);
        return TM_EINVAL;
    }
    *eq = '\0';
    k = trim(pending);
    v = trim(eq + 1);
    if (tm_daemon_cfg_set(c, k, v, seen, e, sizeof(e)) != TM_OK) {
        snprintf(err, errlen, "%s:%u: %s", path, lineno, e);
        return TM_EINVAL;
    }
    pending[0] = '\0';
    return TM_OK;
}

tm_rc
tm_daemon_cfg_load(struct tm_daemon_cfg *c, const char *path, char *err, size_t errlen)
{
    unsigned char seen[NKEYS];
    char line[8192], pending[16384];
    unsigned lineno = 0, start = 0;
    FILE *f = fopen(path, "r");
    tm_rc rc = TM_OK;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return TM_EIO;
    }
    memset(seen, 0, sizeof(seen));
    pending[0] = '\0';
    while (rc == TM_OK && fgets(line, sizeof(line), f) != NULL) {
        char *t;
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            snprintf(err, errlen, "%s:%u: line longer than %zu bytes", path, lineno,
                     sizeof(line) - 2);
            rc = TM_EINVAL;
            break;
        }
        t = trim(line);
        if (*t == '#' || *t == '\0') {
            if (*t == '\0')
                rc = flush(c, path, start, pending, seen, err, errlen);
            continue;
        }
        if (line[0] == ' ' || line[0] == '\t') { /* continuation, as in main.cf */
            if (pending[0] == '\0') {
                snprintf(err, errlen, "%s:%u: continuation line without a setting", path,
                         lineno);
                rc = TM_EINVAL;
                break;
            }
            if (strlen(pending) + strlen(t) + 2 >= sizeof(pending)) {
                snprintf(err, errlen, "%s:%u: setting longer than %zu bytes", path, lineno,
                         sizeof(pending) - 1);
                rc = TM_EINVAL;
                break;
            }
            strncat(pending, " ", sizeof(pending) - strlen(pending) - 1);
            strncat(pending, t, sizeof(pending) - strlen(pending) - 1);
            continue;
        }
        if ((rc = flush(c, path, start, pending, seen, err, errlen)) != TM_OK)
            break;
        snprintf(pending, sizeof(pending), "%s", t);
        start = lineno;
    }
    if (rc == TM_OK && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = TM_EIO;
    }
    if (rc == TM_OK)
        rc = flush(c, path, start, pending, seen, err, errlen);
    fclose(f);
    return rc;
}

static const char *const proto_names[] = {"milter", "spamd", "http"};

void
tm_daemon_cfg_print(const struct tm_daemon_cfg *c, FILE *f)
{
    const char *base = (const char *)c;
    size_t i, j;

    fprintf(f, "# tamisd configuration (every key; values in force)\n");
    for (i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];
        fprintf(f, "\n# %s\n", k->doc);
        switch (k->kind) {
        case K_STR:
        case K_CHOICE:
            fprintf(f, "%s = %s\n", k->name, base + k->off);
            break;
        case K_UINT:
            fprintf(f, "%s = %u\n", k->name, *(const unsigned *)(const void *)(base + k->off));
            break;
        case K_MODE:
            fprintf(f, "%s = %04o\n", k->name, *(const unsigned *)(const void *)(base + k->off));
            break;
        case K_BOOL:
            fprintf(f, "%s = %s\n", k->name,
                    *(const int *)(const void *)(base + k->off) ? "yes" : "no");
            break;
        case K_LIST: {
            char *const *v = (char *const *)(const void *)(base + k->off);
            size_t n = *(const size_t *)(const void *)(base + k->cnt_off);
            if (n == 0)
                fprintf(f, "#%s =\n", k->name);
            for (j = 0; j < n; j++)
                fprintf(f, "%s = %s\n", k->name, v[j]);
            break;
        }
        case K_LISTEN:
            if (c->nlisten == 0)
                fprintf(f, "#listen = milter=unix:/run/tamis/milter.sock\n");
            for (j = 0; j < c->nlisten; j++) {
                const struct tm_listen *l = &c->listen[j];
                if (l->is_unix)
                    fprintf(f, "listen = %s=unix:%s\n", proto_names[l->proto], l->path);
                else
                    fprintf(f, "listen = %s=inet:%s%s%s:%u\n", proto_names[l->proto],
                            strchr(l->host, ':') ? "[" : "", l->host,
                            strchr(l->host, ':') ? "]" : "", l->port);
            }
            break;
        case K_ACTION: {
            char a[32];
            snprintf(a, sizeof(a), "%s", tm_action_name(c->verdict.undecided));
            for (j = 0; a[j] != '\0'; j++)
                if (a[j] == ' ')
                    a[j] = '_';
            fprintf(f, "%s = %s\n", k->name, a);
            break;
        }
        }
    }
    fprintf(f, "\n# action thresholds (score at which each starts; negative: off)\n");
    for (i = 1; i < TM_ACT__COUNT; i++) {
        char a[32];
        snprintf(a, sizeof(a), "%s", tm_action_name((enum tm_action)i));
        for (j = 0; a[j] != '\0'; j++)
            if (a[j] == ' ')
                a[j] = '_';
        if (i == TM_ACT_ADD_HEADER && c->verdict.required_from_rules)
            fprintf(f, "#action.%s = (the rules' required_score)\n", a);
        else
            fprintf(f, "action.%s = %g\n", a, c->verdict.threshold[i]);
    }
    fprintf(f, "\n# limits on untrusted input (tamis limits)\n");
    for (i = 0; i < tm_limit_count; i++)
        fprintf(f, "%s = %zu\n", tm_limit_table[i].name,
                tm_limits_get(&c->limits, &tm_limit_table[i]));
}
