/*
 * tamis.c - the `tamis` command for rule authors and operators.
 *
 *   tamis scan [--json] [--pretty] [-o name=value]... FILE|DIR|-...
 *   tamis dkim sign|verify|keygen|record, tamis arc seal|verify   (dkimcmd.c)
 *   tamis limits            the settings for untrusted-input bounds
 *   tamis version
 *
 * Exit status: 0 when every message was scanned, 2 on usage or I/O errors
 * (each reported on stderr; the other messages are still scanned). A
 * malformed message is never an error: it is scanned and its findings shown.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cliargs.h"
#include "cli/corpus.h"
#include "cli/dkimcmd.h"
#include "cli/insights.h"
#include "core/arena.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/task.h"
#include "mime/mime.h"
#include "tamis/tamis.h"
#include "verdict/report.h"
#include "verdict/scanner.h"

#define CLI_MAX_FILES 10000000u
#define CLI_MAX_DEPTH 64

struct filelist {
    char **v;
    size_t n, cap;
};

static void
usage(FILE *f)
{
    fputs("usage: tamis scan [--json] [--pretty] [-o name=value]... [--rules PATH]... [--no-rules]\n"
          "                  [--explain]"
          " [--all-hits] [--action NAME=SCORE]... [--cache DIR | --no-cache]\n"
          "                  [--url-blocklist FILE]... [--url-allowlist FILE]...\n"
          "                  [--av-db PATH | --no-av] [--av-all-parts] [--no-early-exit]\n"
          "                  [--dns-zone FILE | --dns [--dns-servers IP[:PORT],...]]\n"
          "                  [--ip IP] [--helo NAME] [--mail-from ADDR] [--rcpt ADDR]...\n"
          "                  [--user NAME] [--authserv-id NAME] [--sender-domains FILE]\n"
          "                  [--dkim-sign 'DOMAIN SELECTOR KEYFILE']... [--arc-seal ...]\n"
          "                  FILE|DIR|-...\n"
          "       tamis rules check [--json] [--cache DIR | --no-cache] PATH...\n"
          "       tamis av check [--av-db PATH]\n"
          "       tamis reload [--pid-file FILE]\n"
          "       tamis corpus --ham PATH... --spam PATH... [--json OUT] [--html OUT] [--fit]\n"
          "                    [--baseline OLD.json] ...   (tamis corpus --help)\n"
          "       tamis insights [--html OUT.html] [--top N] LOG...\n"
          "       tamis dkim sign|verify|keygen|record [options]   (tamis dkim --help)\n"
          "       tamis arc seal|verify [options]                  (tamis arc --help)\n"
          "       tamis limits\n"
          "       tamis version\n"
          "\n"
          "scan     parse each message and print its MIME part tree; with --json one verdict\n"
          "         object per message (a JSON array for several). Directories are read\n"
          "         recursively in name order; '-' reads one message from standard input.\n"
          "-o       set a limit for this run (see `tamis limits`), e.g. -o mime_max_depth=8\n"
          "--rules  load a rule file or directory (*.cf, SpamAssassin syntax); repeatable.\n"
          "         Adds symbols, score, required_score, action and rules_version. Without\n"
          "         it the default rule set (" TAMIS_RULES_DIR ") is used; --no-rules\n"
          "         scans without rules (MIME structure only).\n"
          "--explain   show for each hit the target, piece, offset and matched text\n"
          "--all-hits  also list every rule that hit, sub-rules included (rule_hits)\n"
          "--action    score threshold of an action: add_header, rewrite_subject,\n"
          "            soft_reject, quarantine, reject (a negative score disables it)\n"
          "--cache     directory for compiled rule databases (default ~/.cache/tamis)\n"
          "--url-blocklist  a file of hosts/domains (one per line, # comments); a URL whose\n"
          "            host or a parent domain is listed hits TAMIS_URL_BLOCKLISTED (default\n"
          "            action: reject); repeatable\n"
          "--url-allowlist  hosts/domains never blocked (beats the blocklist); repeatable\n"
          "--av-db     ClamAV database directory or file for attachments (default:\n"
          "            /var/lib/clamav from freshclam, else the test signatures in the\n"
          "            rules' av/ directory); --no-av scans no attachments;\n"
          "            --av-all-parts scans text parts too\n"
          "--no-early-exit  run every rule even when ClamAV, sender authentication or a\n"
          "            URL list already made reject certain (by default the regex and\n"
          "            meta rules are then skipped: \"early_exit\" in the JSON says why),\n"
          "            and every __sub-rule even when no score depends on it (by default\n"
          "            its PCRE2 confirmation waits until one does); --explain, --all-hits\n"
          "            and tamis corpus never skip\n",
          f);
    fputs("--dns-zone  check sender authentication (SPF, DKIM, ARC, DMARC) answering DNS from\n"
          "            a zone file (offline); --dns asks real DNS (resolv.conf or\n"
          "            --dns-servers). Results in \"auth\" and the auth symbols; the envelope\n"
          "            comes from --ip, --helo, --mail-from, --rcpt and --user\n"
          "--sender-domains FILE  the relay's sender-domain policy: 'LOGIN DOMAIN...' lines;\n"
          "            with --user, a From or --mail-from domain not verified for that login\n"
          "            is refused (TAMIS_SENDER_UNVERIFIED, reject, 550 5.7.1)\n"
          "--dkim-sign 'DOMAIN SELECTOR KEYFILE'  sign as the daemon would (with --user, or\n"
          "            --dkim-sign-all); repeatable; --dkim-sign-headers h1:h2,\n"
          "            --dkim-sign-canon relaxed/relaxed; --arc-seal 'DOMAIN SELECTOR KEYFILE'\n"
          "            seals (needs --dns-zone or --dns). The fields go to prepend_headers\n"
          "dkim        sign a message (DKIM-Signature), verify its signatures, generate a\n"
          "            key (keygen) or print a key's DNS record (record); keys from a zone\n"
          "            file (--dns-zone), real DNS (--dns) or a key file (--keys)\n"
          "arc         seal a message as a relay (ARC set i=N+1) or validate its ARC chain\n"
          "reload      make a running tamisd reload its configuration, rules, lists and\n"
          "            ClamAV database (SIGHUP; default PID file /run/tamis/tamisd.pid)\n"
          "av check    load a ClamAV database (and reload it beside itself): signatures,\n"
          "            load time, resident memory\n"
          "rules check load and compile a rule set; print counts per type and engine and\n"
          "            every unsupported rule with the reason (--json: one entry per rule)\n",
          f);
}

static void
filelist_free(struct filelist *fl)
{
    size_t k;

    for (k = 0; k < fl->n; k++)
        tm_free(fl->v[k]);
    tm_free(fl->v);
}

static void
add_file(struct filelist *fl, const char *path)
{
    if (fl->n == fl->cap) {
        fl->cap = fl->cap ? fl->cap * 2 : 64;
        fl->v = tm_xrealloc(fl->v, fl->cap * sizeof(*fl->v));
    }
    fl->v[fl->n++] = tm_xstrdup(path);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* collect - a path, or the regular files under a directory in name order */
static int
collect(struct filelist *fl, const char *path, int depth)
{
    struct stat st;
    DIR *d;
    struct dirent *de;
    struct filelist sub = {NULL, 0, 0};
    size_t i;
    int rc = 0;

    if (strcmp(path, "-") == 0) {
        add_file(fl, path);
        return 0;
    }
    if (stat(path, &st) != 0) {
        fprintf(stderr, "tamis: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        add_file(fl, path);
        return 0;
    }
    if (depth >= CLI_MAX_DEPTH) {
        fprintf(stderr, "tamis: %s: directories nested too deep\n", path);
        return -1;
    }
    if ((d = opendir(path)) == NULL) {
        fprintf(stderr, "tamis: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        char *p;
        size_t n;
        if (de->d_name[0] == '.')
            continue;
        n = strlen(path) + strlen(de->d_name) + 2;
        p = tm_xmalloc(n);
        snprintf(p, n, "%s/%s", path, de->d_name);
        add_file(&sub, p);
        tm_free(p);
    }
    closedir(d);
    qsort(sub.v, sub.n, sizeof(*sub.v), cmp_str);
    for (i = 0; i < sub.n; i++) {
        if (stat(sub.v[i], &st) == 0 && (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)))
            if (collect(fl, sub.v[i], depth + 1) != 0)
                rc = -1;
        tm_free(sub.v[i]);
    }
    tm_free(sub.v);
    return rc;
}

/* read_all - the whole file (or stdin), capped at max+1 bytes so truncation is seen */
static unsigned char *
read_all(const char *path, size_t max, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0, r;

    if (f == NULL)
        return NULL;
    for (;;) {
        if (n == cap) {
            if (cap > max)
                break;
            cap = cap ? cap * 2 : 65536;
            buf = tm_xrealloc(buf, cap);
        }
        r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    if (ferror(f)) {
        int e = errno;
        if (f != stdin)
            fclose(f);
        tm_free(buf);
        errno = e ? e : EIO;
        return NULL;
    }
    if (f != stdin)
        fclose(f);
    if (buf == NULL)
        buf = tm_xmalloc(1);
    *len = n;
    return buf;
}

static int
cmd_scan(int argc, char **argv)
{
    struct tm_cli_args sa;
    struct filelist fl = {NULL, 0, 0};
    struct tm_scanner *sc;
    struct tm_match_scratch *ms = NULL;
    struct tm_json out;
    int rc = 0, i, nargs = 0, r;
    size_t k;
    tm_rc brc;

    tm_cli_args_init(&sa);
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if ((r = tm_cli_args_option(&sa, argc, argv, &i)) < 0) {
            filelist_free(&fl);
            tm_cli_args_free(&sa);
            return 2;
        }
        if (r > 0)
            continue;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            filelist_free(&fl);
            tm_cli_args_free(&sa);
            return 0;
        }
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++, nargs++)
                if (collect(&fl, argv[i], 0) != 0)
                    rc = 2;
            break;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "tamis: scan: unknown option %s\n", a);
            usage(stderr);
            filelist_free(&fl);
            tm_cli_args_free(&sa);
            return 2;
        } else {
            nargs++;
            if (collect(&fl, a, 0) != 0)
                rc = 2;
        }
    }
    if (nargs == 0) {
        usage(stderr);
        filelist_free(&fl);
        tm_cli_args_free(&sa);
        return 2;
    }
    sc = tm_cli_build_scanner(&sa, 1, &brc);
    if (sc == NULL || brc != TM_OK) {
        if (brc == TM_EINVAL)
            fprintf(stderr, "tamis: the rules have errors (see above); fix them or run "
                            "`tamis rules check`\n");
        tm_scanner_free(sc);
        filelist_free(&fl);
        tm_cli_args_free(&sa);
        return 2;
    }
    if (sc->matcher != NULL && (ms = tm_match_scratch_new(sc->matcher)) == NULL)
        tm_fatal("cannot allocate scan scratch");
    tm_json_init(&out, sa.pretty);
    if (sa.json && fl.n != 1)
        tm_json_arr(&out);
    for (k = 0; k < fl.n; k++) {
        size_t len = 0;
        unsigned char *msg = read_all(fl.v[k], sa.so.limits.message_max_size, &len);
        struct tm_task *t;
        struct tm_report_opts o;
        struct tm_verdict v;
        double t0;
        if (msg == NULL) {
            fprintf(stderr, "tamis: %s: %s\n", fl.v[k], strerror(errno));
            rc = 2;
            continue;
        }
        if ((t = tm_task_new(sc->engine)) == NULL)
            tm_fatal("cannot create task");
        t0 = tm_now_ms();
        (void)tm_scanner_scan_env(sc, ms, t, msg, len, sa.explain || sc->has_rules, &sa.env, &v);
        memset(&o, 0, sizeof(o));
        o.file = strcmp(fl.v[k], "-") == 0 ? NULL : fl.v[k];
        o.scan_ms = tm_now_ms() - t0;
        o.verdict = sc->has_rules || sc->outbound != NULL ? &v : NULL;
        o.rules_version = sc->has_rules ? sc->rules_version : NULL;
        o.all_hits = sa.all_hits;
        o.explain = sa.explain;
        if (sa.json)
            tm_report_json(t, &o, &out);
        else
            tm_report_text(t, &o, &out);
        tm_task_free(t);
        tm_free(msg);
        /* Stream the output so memory stays flat over big corpora. */
        if (out.len > (1u << 20) || k + 1 == fl.n) {
            fwrite(out.p, 1, out.len, stdout);
            out.len = 0;
        }
    }
    if (sa.json && fl.n != 1)
        tm_json_end_arr(&out);
    if (sa.json)
        tm_json_raw(&out, "\n");
    fwrite(out.p, 1, out.len, stdout);
    tm_json_free(&out);
    filelist_free(&fl);
    tm_match_scratch_free(ms);
    tm_scanner_free(sc);
    tm_cli_args_free(&sa);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "tamis: stdout: %s\n", strerror(errno));
        rc = 2;
    }
    return rc;
}

/*
 * cmd_rules_check - load and compile, then report: counts per rule type and
 * per engine, unsupported rules with reasons; --json gives one entry per rule.
 * Exit 0 when the set loads without errors, 1 when it has errors, 2 on usage.
 */
static int
cmd_rules_check(int argc, char **argv)
{
    struct tm_cli_args sa;
    struct tm_scanner *sc;
    size_t i, by_type[TM_RULE__COUNT] = {0}, unsupported = 0, errors = 0, warnings = 0, nat;
    int r, j;
    tm_rc brc;

    tm_cli_args_init(&sa);
    for (j = 0; j < argc; j++) {
        if ((r = tm_cli_args_option(&sa, argc, argv, &j)) < 0)
            return 2;
        if (r > 0)
            continue;
        if (argv[j][0] == '-') {
            fprintf(stderr, "tamis: rules check: unknown option %s\n", argv[j]);
            return 2;
        }
        sa.rules = tm_xrealloc(sa.rules, (sa.nrules + 1) * sizeof(*sa.rules));
        sa.rules[sa.nrules++] = argv[j];
    }
    if (sa.nrules == 0) {
        usage(stderr);
        return 2;
    }
    sa.no_av = 1; /* rules check: the rules only */
    sc = tm_cli_build_scanner(&sa, sa.json, &brc);
    if (sc == NULL || sc->matcher == NULL || sc->scorer == NULL) {
        tm_scanner_free(sc);
        tm_cli_args_free(&sa);
        return 1;
    }
    for (i = 0; i < sc->rules.ndiags; i++) {
        if (sc->rules.diags[i].error)
            errors++;
        else
            warnings++;
    }
    if (sa.json) {
        struct tm_json j2;
        tm_json_init(&j2, sa.pretty);
        tm_json_arr(&j2);
        for (i = 0; i < sc->rules.n; i++) {
            const struct tm_rule *ru = &sc->rules.rules[i];
            const char *why = NULL;
            const char *eng = tm_scanner_rule_status(sc, i, &why);
            tm_json_obj(&j2);
            tm_json_key(&j2, "name");
            tm_json_str(&j2, ru->name);
            tm_json_key(&j2, "type");
            tm_json_str(&j2, tm_rule_type_name(ru->type));
            tm_json_key(&j2, "engine");
            tm_json_str(&j2, eng);
            tm_json_key(&j2, "reason");
            tm_json_str(&j2, why);
            tm_json_key(&j2, "score");
            tm_json_double(&j2, tm_scorer_rule_score(sc->scorer, i));
            tm_json_key(&j2, "file");
            tm_json_str(&j2, ru->file);
            tm_json_key(&j2, "line");
            tm_json_uint(&j2, ru->line);
            tm_json_end_obj(&j2);
        }
        tm_json_end_arr(&j2);
        tm_json_raw(&j2, "\n");
        fwrite(j2.p, 1, j2.len, stdout);
        tm_json_free(&j2);
    } else {
        for (i = 0; i < sc->rules.n; i++) {
            const struct tm_rule *ru = &sc->rules.rules[i];
            const char *why = NULL;
            const char *eng = tm_scanner_rule_status(sc, i, &why);
            by_type[ru->type]++;
            if (strcmp(eng, "unsupported") == 0) {
                unsupported++;
                printf("unsupported %s (%s:%u): %s\n", ru->name, ru->file ? ru->file : "?",
                       ru->line, why ? why : "?");
            }
        }
        printf("\nrules: %zu in %zu files (version %.16s)\n", sc->rules.n, sc->rules.nfiles,
               sc->rules_version);
        for (i = 0; i < TM_RULE__COUNT; i++)
            printf("  %-8s %6zu\n", tm_rule_type_name((enum tm_rule_type)i), by_type[i]);
        printf("regex rules by engine:\n");
        printf("  hyperscan         %6zu\n", sc->stats.by_engine[TM_ENG_HS]);
        printf("  prefilter+pcre2   %6zu\n", sc->stats.by_engine[TM_ENG_PREFILTER]);
        printf("  pcre2 only        %6zu\n", sc->stats.by_engine[TM_ENG_PCRE2]);
        printf("  unsupported       %6zu\n", sc->stats.by_engine[TM_ENG_NONE]);
        for (i = 0, nat = 0; i < sc->rules.n; i++)
            nat += (size_t)tm_evals_bound(sc->evals, i);
        printf("native eval: rules  %6zu\n", nat);
        printf("unsupported rules (all types): %zu\n", unsupported);
        printf("hyperscan databases: %zu, %zu bytes, %s in %.1f ms\n", sc->stats.databases,
               sc->stats.db_bytes, sc->stats.from_cache ? "loaded from cache" : "compiled",
               sc->stats.compile_ms);
        printf("diagnostics: %zu errors, %zu warnings\n", errors, warnings);
    }
    tm_scanner_free(sc);
    tm_cli_args_free(&sa);
    return errors ? 1 : 0;
}

static int
cmd_limits(void)
{
    size_t i;

    for (i = 0; i < tm_limit_count; i++) {
        const struct tm_limit_def *d = &tm_limit_table[i];
        printf("%-24s %12zu  [%zu .. %zu]  %s\n", d->name, d->def, d->min, d->max, d->doc);
    }
    return 0;
}

/*
 * cmd_reload - ask a running tamisd to reload its configuration, rules,
 * URL lists and AV database (SIGHUP to the PID in its PID file)
 */
static int
cmd_reload(int argc, char **argv)
{
    const char *pidf = "/run/tamis/tamisd.pid";
    char buf[64], comm[64], path[64];
    FILE *f;
    long pid;
    char *end;

    if (argc == 2 && strcmp(argv[0], "--pid-file") == 0) {
        pidf = argv[1];
    } else if (argc != 0) {
        fprintf(stderr, "usage: tamis reload [--pid-file FILE]\n");
        return 2;
    }
    if ((f = fopen(pidf, "r")) == NULL) {
        fprintf(stderr, "tamis: %s: %s (is tamisd running, with pid_file set?)\n", pidf,
                strerror(errno));
        return 1;
    }
    if (fgets(buf, sizeof(buf), f) == NULL)
        buf[0] = '\0';
    fclose(f);
    pid = strtol(buf, &end, 10);
    if (pid <= 1 || (*end != '\n' && *end != '\0')) {
        fprintf(stderr, "tamis: %s: no PID in it\n", pidf);
        return 1;
    }
    /* only a tamisd gets the signal: a stale PID file may name another process */
    snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
    if ((f = fopen(path, "r")) == NULL || fgets(comm, sizeof(comm), f) == NULL ||
        strncmp(comm, "tamisd", 6) != 0) {
        if (f != NULL)
            fclose(f);
        fprintf(stderr, "tamis: process %ld (from %s) is not a running tamisd\n", pid, pidf);
        return 1;
    }
    fclose(f);
    if (kill((pid_t)pid, SIGHUP) < 0) {
        fprintf(stderr, "tamis: cannot signal %ld: %s\n", pid, strerror(errno));
        return 1;
    }
    printf("reload requested (tamisd %ld); it logs the outcome\n", pid);
    return 0;
}

/*
 * cmd_av_check - load a ClamAV database as the scanner would (twice: the
 * second time as a reload beside the first), and report signatures, load
 * time and resident memory: what an operator checks before pointing the
 * daemon at a new database.
 */
static int
cmd_av_check(int argc, char **argv)
{
    struct tm_limits lim = tm_limits_default();
    struct tm_av_opts o;
    struct tm_av *av = NULL;
    struct tm_av_slot *slot;
    struct tm_av_reload_stats st;
    char err[512], buf[4096];
    const char *db = NULL;
    unsigned sigs = 0;
    double t0;
    int i, fallback = 0;

    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--av-db") == 0 && i + 1 < argc) {
            db = argv[++i];
        } else {
            fprintf(stderr, "usage: tamis av check [--av-db PATH]\n");
            return 2;
        }
    }
    if (db == NULL && (db = tm_scanner_default_av_db(TAMIS_RULES_DIR, buf, sizeof(buf),
                                                     &fallback)) == NULL) {
        fprintf(stderr, "tamis: no ClamAV database (none in /var/lib/clamav, no %s/av)\n",
                TAMIS_RULES_DIR);
        return 1;
    }
    memset(&o, 0, sizeof(o));
    o.db = db;
    o.max_filesize = lim.av_max_filesize;
    o.max_scansize = lim.av_max_scansize;
    o.max_recursion = (unsigned)lim.av_max_recursion;
    o.max_files = (unsigned)lim.av_max_files;
    o.max_scantime_ms = (unsigned)lim.av_max_scantime;
    t0 = tm_now_ms();
    if (tm_av_new(&o, &av, &sigs, err, sizeof(err)) != TM_OK) {
        fprintf(stderr, "tamis: %s\n", err);
        return 1;
    }
    printf("database:   %s%s\n", db, fallback ? " (Tamis test signatures: run freshclam)" : "");
    printf("libclamav:  %s\n", tm_av_version());
    printf("signatures: %u, loaded and compiled in %.0f ms\n", sigs, tm_now_ms() - t0);
    if ((slot = tm_av_slot_new(av)) == NULL) {
        tm_av_unref(av);
        return 1;
    }
    if (tm_av_slot_reload(slot, &o, &st, err, sizeof(err)) != TM_OK) {
        fprintf(stderr, "tamis: reload: %s\n", err);
        tm_av_slot_free(slot);
        return 1;
    }
    printf("reload:     %.0f ms; resident memory %.1f MB before, %.1f MB with both engines, "
           "%.1f MB after\n",
           st.load_ms, (double)st.rss_before / 1e6, (double)st.rss_peak / 1e6,
           (double)st.rss_after / 1e6);
    tm_av_slot_free(slot);
    return 0;
}

int
main(int argc, char **argv)
{
    tm_log_set_ident("tamis");
    if (getenv("TAMIS_DEBUG") != NULL)
        tm_log_set_level(TM_LOG_DEBUG);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "scan") == 0)
        return cmd_scan(argc - 2, argv + 2);
    if (strcmp(argv[1], "limits") == 0)
        return cmd_limits();
    if (strcmp(argv[1], "corpus") == 0)
        return tamis_corpus_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "insights") == 0)
        return tamis_insights_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "rules") == 0 && argc >= 3 && strcmp(argv[2], "check") == 0)
        return cmd_rules_check(argc - 3, argv + 3);
    if (strcmp(argv[1], "av") == 0 && argc >= 3 && strcmp(argv[2], "check") == 0)
        return cmd_av_check(argc - 3, argv + 3);
    if (strcmp(argv[1], "dkim") == 0)
        return tamis_dkim_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "arc") == 0)
        return tamis_arc_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "reload") == 0)
        return cmd_reload(argc - 2, argv + 2);
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        puts(tamis_version());
        return 0;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "tamis: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
