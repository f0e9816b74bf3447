/*
 * test_av.c - the av stage (av/av.h) against libclamav with signature
 * databases written by the tests themselves into a temporary directory:
 * an .hdb (MD5 of clam.exe and of the EICAR string), an .ndb (the
 * "[CLAMAV]" marker of clam.exe, the EICAR bytes), an .ldb (two subsigs of
 * clam.exe), a broken .ndb and an empty directory. The harmless test files
 * come from the clamav-testfiles package (TM_AV_TESTFILES).
 *
 * The EICAR string is put together at run time from pieces so that neither
 * this file nor the binary holds it in one piece.
 *
 * What libclamav 1.4.6 does with limits, as checked here:
 * - an attachment larger than max_filesize: not scanned, CL_VIRUS with the
 *   name only in the virus-found callback (Heuristics.Limits.Exceeded.
 *   MaxFileSize); av.c reports TM_AV_LIMITS;
 * - a file inside an archive larger than max_filesize: cut to max_filesize
 *   and the cut bytes scanned, no alert (clam.zip with max_filesize 500:
 *   clean); that case cannot be seen from outside;
 * - max_scansize smaller than what unpacking needs: Heuristics.Limits.
 *   Exceeded.MaxScanSize;
 * - more files than max_files, deeper than max_recursion, longer than
 *   max_scantime: Heuristics.Limits.Exceeded.MaxFiles / MaxRecursion /
 *   MaxScanTime (CL_VIRUS; CL_ETIMEOUT and friends are not returned);
 * - an encrypted zip: Heuristics.Encrypted.Zip.
 */
#include "harness.h"
#include "suites.h"

#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/core.h"
#include "core/limits.h"
#include "core/task.h"
#include "av/av.h"
#include "mime/mime.h"

#define TESTFILES TM_AV_TESTFILES

#define NAME_CLAM_HDB  "Tamis.Test.ClamExe.MD5.UNOFFICIAL"
#define NAME_EICAR_HDB "Tamis.Test.EICAR.MD5.UNOFFICIAL"
#define NAME_CLAM_NDB  "Tamis.Test.ClamExe.NDB.UNOFFICIAL"
#define NAME_EICAR_NDB "Tamis.Test.EICAR.NDB.UNOFFICIAL"
#define NAME_LDB       "Tamis.Test.LDB.UNOFFICIAL"

/* ---- small helpers ------------------------------------------------------- */

/* eicar - the 68-byte EICAR test string, assembled from pieces */
static size_t
eicar(char out[69])
{
    static const char *const piece[] = {"X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-",
                                        "ANTIVIRUS-", "TEST-FILE!", "$H+H*"};
    size_t i, k = 0;

    for (i = 0; i < TM_NELEM(piece); i++) {
        size_t n = strlen(piece[i]);
        memcpy(out + k, piece[i], n);
        k += n;
    }
    out[k] = '\0';
    return k;
}

static unsigned char *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    p = malloc((size_t)n + 1);
    if (p != NULL && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

static unsigned char *
testfile(const char *name, size_t *len)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", TESTFILES, name);
    return read_file(path, len);
}

static void
hex(const unsigned char *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int
md5hex(const void *p, size_t n, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;

    if (EVP_Digest(p, n, md, &mdlen, EVP_md5(), NULL) != 1 || mdlen != 16)
        return 0;
    hex(md, 16, out);
    return 1;
}

static int
write_text(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *f;
    int ok;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((f = fopen(path, "w")) == NULL)
        return 0;
    ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

/* A growable string for building messages and databases. */
struct sb {
    char *p;
    size_t len, cap;
};

static void sb_add(struct sb *b, const char *fmt, ...) TM_PRINTF(2, 3);

static void
sb_add(struct sb *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        if ((b->p = realloc(b->p, b->cap)) == NULL)
            abort();
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void
sb_b64(struct sb *b, const unsigned char *p, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, col = 0;

    for (i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        char q[5];

        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        q[0] = t[(v >> 18) & 63];
        q[1] = t[(v >> 12) & 63];
        q[2] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? t[v & 63] : '=';
        q[4] = '\0';
        sb_add(b, "%s", q);
        if ((col += 4) >= 76) {
            sb_add(b, "\r\n");
            col = 0;
        }
    }
    if (col > 0)
        sb_add(b, "\r\n");
}

/* sb_uu - uuencode n bytes as a "begin 644 name" block */
static void
sb_uu(struct sb *b, const char *name, const unsigned char *p, size_t n)
{
    size_t i, j;

    sb_add(b, "begin 644 %s\r\n", name);
    for (i = 0; i < n; i += 45) {
        size_t m = TM_MIN((size_t)45, n - i);
        unsigned char g[3];

        sb_add(b, "%c", (char)(32 + m));
        for (j = 0; j < m; j += 3) {
            char q[5];
            size_t k;

            for (k = 0; k < 3; k++)
                g[k] = j + k < m ? p[i + j + k] : 0;
            q[0] = (char)(32 + (g[0] >> 2));
            q[1] = (char)(32 + (((g[0] & 3) << 4) | (g[1] >> 4)));
            q[2] = (char)(32 + (((g[1] & 15) << 2) | (g[2] >> 6)));
            q[3] = (char)(32 + (g[2] & 63));
            for (k = 0; k < 4; k++)
                if (q[k] == ' ')
                    q[k] = '`';
            q[4] = '\0';
            sb_add(b, "%s", q);
        }
        sb_add(b, "\r\n");
    }
    sb_add(b, "`\r\nend\r\n");
}

/* A message made by a test (malloc'd bytes). */
struct msg {
    char *p;
    size_t len;
};

/* One part of a test message. */
struct part {
    const char *ctype;
    const char *filename; /* NULL: none */
    const char *disposition;
    const void *data;
    size_t len;
    int base64;
};

/* build_msg - a multipart/mixed message of the given parts */
static struct msg
build_msg(const struct part *v, size_t n)
{
    struct msg m;
    struct sb b = {NULL, 0, 0};
    size_t i;

    sb_add(&b, "From: a@example.org\r\nTo: b@example.org\r\nSubject: av test\r\n"
               "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"BND\"\r\n\r\n");
    for (i = 0; i < n; i++) {
        sb_add(&b, "--BND\r\nContent-Type: %s", v[i].ctype);
        if (v[i].filename != NULL)
            sb_add(&b, "; name=\"%s\"", v[i].filename);
        sb_add(&b, "\r\n");
        if (v[i].disposition != NULL) {
            sb_add(&b, "Content-Disposition: %s", v[i].disposition);
            if (v[i].filename != NULL)
                sb_add(&b, "; filename=\"%s\"", v[i].filename);
            sb_add(&b, "\r\n");
        }
        if (v[i].base64) {
            sb_add(&b, "Content-Transfer-Encoding: base64\r\n\r\n");
            sb_b64(&b, v[i].data, v[i].len);
        } else {
            sb_add(&b, "\r\n%.*s\r\n", (int)v[i].len, (const char *)v[i].data);
        }
    }
    sb_add(&b, "--BND--\r\n");
    m.p = b.p;
    m.len = b.len;
    return m;
}

/* ---- signature databases in a temporary directory ------------------------- */

struct dbs {
    char base[64];
    char hdb[96], ndb[96], ldb[96], bad[96], empty[96];
};

static const char *const db_files[] = {"hdb/test.hdb", "ndb/test.ndb", "ldb/test.ldb",
                                       "bad/bad.ndb"};
static const char *const db_dirs[] = {"hdb", "ndb", "ldb", "bad", "empty"};

static void
dbs_remove(struct dbs *d)
{
    char path[160];
    size_t i;

    for (i = 0; i < TM_NELEM(db_files); i++) {
        snprintf(path, sizeof(path), "%s/%s", d->base, db_files[i]);
        (void)unlink(path);
    }
    for (i = 0; i < TM_NELEM(db_dirs); i++) {
        snprintf(path, sizeof(path), "%s/%s", d->base, db_dirs[i]);
        (void)rmdir(path);
    }
    (void)rmdir(d->base);
}

/* dbs_make - write the test databases; 0 on failure (printed) */
static int
dbs_make(struct dbs *d)
{
    char e[69], md5[33], ehex[2 * 68 + 1], mhex[2 * 14 + 1];
    unsigned char *clam;
    size_t clamlen, elen = eicar(e), i;
    struct sb b = {NULL, 0, 0};
    int ok = 1;

    snprintf(d->base, sizeof(d->base), "/tmp/tm_av_test_XXXXXX");
    if (mkdtemp(d->base) == NULL) {
        printf("    mkdtemp failed\n");
        return 0;
    }
    snprintf(d->hdb, sizeof(d->hdb), "%s/hdb", d->base);
    snprintf(d->ndb, sizeof(d->ndb), "%s/ndb", d->base);
    snprintf(d->ldb, sizeof(d->ldb), "%s/ldb", d->base);
    snprintf(d->bad, sizeof(d->bad), "%s/bad", d->base);
    snprintf(d->empty, sizeof(d->empty), "%s/empty", d->base);
    for (i = 0; i < TM_NELEM(db_dirs); i++) {
        char path[160];

        snprintf(path, sizeof(path), "%s/%s", d->base, db_dirs[i]);
        if (mkdir(path, 0700) != 0)
            ok = 0;
    }
    if ((clam = testfile("clam.exe", &clamlen)) == NULL) {
        printf("    cannot read %s/clam.exe\n", TESTFILES);
        return 0;
    }
    if (!md5hex(clam, clamlen, md5))
        ok = 0;
    sb_add(&b, "%s:%zu:Tamis.Test.ClamExe.MD5\n", md5, clamlen);
    if (!md5hex(e, elen, md5))
        ok = 0;
    sb_add(&b, "%s:%zu:Tamis.Test.EICAR.MD5\n", md5, elen);
    ok = ok && write_text(d->hdb, "test.hdb", b.p);
    b.len = 0;
    hex((const unsigned char *)e, elen, ehex);
    sb_add(&b, "Tamis.Test.ClamExe.NDB:1:*:5b434c414d41565d\nTamis.Test.EICAR.NDB:0:0:%s\n", ehex);
    ok = ok && write_text(d->ndb, "test.ndb", b.p);
    b.len = 0;
    hex((const unsigned char *)"CLAMessageBoxA", 14, mhex);
    sb_add(&b, "Tamis.Test.LDB;Engine:51-255,Target:1;0&1;5b434c414d41565d;%s\n", mhex);
    ok = ok && write_text(d->ldb, "test.ldb", b.p);
    ok = ok && write_text(d->bad, "bad.ndb", "Tamis.Test.Broken:1:*:zz-not-hex\n");
    free(b.p);
    free(clam);
    if (!ok) {
        printf("    writing the test databases failed\n");
        dbs_remove(d);
    }
    return ok;
}

/* ---- scanning fixture ------------------------------------------------------ */

struct fx {
    struct tm_engine *eng;
    struct tm_task *task;
    char *msg;
    const struct tm_av_report *r;
};

/* fx_scan - parse the message (ownership of msg passes to fx) and scan it */
static tm_rc
fx_scan(struct fx *f, const struct tm_av *av, struct msg msg)
{
    struct tm_limits lim = tm_limits_default();
    tm_rc rc;

    memset(f, 0, sizeof(*f));
    f->msg = msg.p;
    if (msg.p == NULL)
        return TM_EINVAL;
    if ((f->eng = tm_engine_new_bare(&lim)) == NULL || (f->task = tm_task_new(f->eng)) == NULL)
        return TM_ENOMEM;
    if ((rc = tm_mime_parse(f->task, (const unsigned char *)msg.p, msg.len)) != TM_OK)
        return rc;
    return tm_av_scan_task(av, f->task, &f->r);
}

static void
fx_done(struct fx *f)
{
    if (f->task != NULL)
        tm_task_free(f->task);
    if (f->eng != NULL)
        tm_engine_unref(f->eng);
    free(f->msg);
    memset(f, 0, sizeof(*f));
}

/* new_av - tm_av_new on a path with the given opts; NULL (and the reason printed) on failure */
static struct tm_av *
new_av(const char *db, struct tm_av_opts *o)
{
    struct tm_av_opts def;
    struct tm_av *av = NULL;
    char err[512];
    unsigned sigs = 0;
    tm_rc rc;

    if (o == NULL) {
        memset(&def, 0, sizeof(def));
        o = &def;
    }
    o->db = db;
    if ((rc = tm_av_new(o, &av, &sigs, err, sizeof(err))) != TM_OK) {
        printf("    tm_av_new(%s): %s: %s\n", db, tm_rc_str(rc), err);
        return NULL;
    }
    return av;
}

/* attach_file - a message with a short text part and the test file `name` attached */
static struct msg
attach_file(const char *name, const char *ctype, const char *fname)
{
    struct part v[2] = {{"text/plain", NULL, NULL, "see attachment", 14, 0},
                        {ctype, fname, "attachment", NULL, 0, 1}};
    struct msg m = {NULL, 0};
    unsigned char *p;
    size_t n;

    if ((p = testfile(name, &n)) == NULL)
        return m;
    v[1].data = p;
    v[1].len = n;
    m = build_msg(v, 2);
    free(p);
    return m;
}

/* eicar_msg - a message with the EICAR string attached as eicar.com */
static struct msg
eicar_msg(void)
{
    char e[69];
    struct part v[2] = {{"text/plain", NULL, NULL, "hello", 5, 0},
                        {"application/octet-stream", "eicar.com", "attachment", e, 0, 1}};

    v[1].len = eicar(e);
    return build_msg(v, 2);
}

/* ---- tests -------------------------------------------------------------- */

TM_TEST(av_load_ok)
{
    struct dbs d;
    struct tm_av_opts o;
    struct tm_av *av = NULL;
    char err[512], path[160];
    unsigned sigs = 0;

    REQUIRE(dbs_make(&d));
    memset(&o, 0, sizeof(o));
    o.db = d.hdb;
    CHECK_EQ_INT(tm_av_new(&o, &av, &sigs, err, sizeof(err)), TM_OK);
    CHECK_EQ_INT(sigs, 2);
    tm_av_unref(av);
    snprintf(path, sizeof(path), "%s/test.ndb", d.ndb);
    o.db = path; /* a single file works too */
    CHECK_EQ_INT(tm_av_new(&o, &av, &sigs, err, sizeof(err)), TM_OK);
    CHECK_EQ_INT(sigs, 2);
    tm_av_ref(av);
    tm_av_unref(av);
    tm_av_unref(av);
    CHECK(tm_av_version() != NULL && tm_av_version()[0] != '\0');
    CHECK_STR(tm_av_result_name(TM_AV_INFECTED), "infected");
    CHECK_STR(tm_av_result_name(TM_AV_LIMITS), "limits");
    dbs_remove(&d);
}

TM_TEST(av_load_errors)
{
    struct dbs d;
    struct tm_av_opts o;
    struct tm_av *av = (struct tm_av *)&o;
    char err[512], path[160];
    unsigned sigs = 0;

    REQUIRE(dbs_make(&d));
    memset(&o, 0, sizeof(o));
    o.db = d.bad;
    CHECK(tm_av_new(&o, &av, &sigs, err, sizeof(err)) != TM_OK);
    CHECK(av == NULL);
    CHECK(strstr(err, d.bad) != NULL);
    CHECK(strstr(err, "Malformed database") != NULL);
    printf("    bad db: %s\n", err);

    o.db = d.empty;
    CHECK(tm_av_new(&o, &av, &sigs, err, sizeof(err)) != TM_OK);
    CHECK(strstr(err, d.empty) != NULL);
    CHECK(strstr(err, "No supported database files") != NULL);
    printf("    empty dir: %s\n", err);

    snprintf(path, sizeof(path), "%s/nonexistent", d.base);
    o.db = path;
    CHECK_EQ_INT(tm_av_new(&o, &av, &sigs, err, sizeof(err)), TM_EIO);
    CHECK(strstr(err, path) != NULL);
    printf("    missing: %s\n", err);
    dbs_remove(&d);
}

TM_TEST(av_infected_hdb)
{
    struct dbs d;
    struct tm_av *av;
    struct fx f;
    struct msg m;

    REQUIRE(dbs_make(&d));
    REQUIRE((av = new_av(d.hdb, NULL)) != NULL);
    m = attach_file("clam.exe", "application/octet-stream", "clam.exe");
    REQUIRE(m.p != NULL);
    CHECK_EQ_INT(fx_scan(&f, av, m), TM_OK);
    if (f.r != NULL) {
        CHECK_EQ_SIZE(f.r->n, 1);
        CHECK_EQ_SIZE(f.r->scanned, 1);
        CHECK_EQ_SIZE(f.r->bytes, 544);
        if (f.r->n == 1) {
            CHECK_EQ_INT(f.r->v[0].result, TM_AV_INFECTED);
            CHECK_STR(f.r->v[0].signature, NAME_CLAM_HDB);
            CHECK_STR(f.r->v[0].filename, "clam.exe");
            CHECK_EQ_INT(f.r->v[0].uu, -1);
            CHECK(f.r->v[0].part != NULL);
        }
        CHECK(tm_av_task_report(f.task) == f.r);
    } else {
        CHECK(f.r != NULL);
    }
    fx_done(&f);
    tm_av_unref(av);
    dbs_remove(&d);
}

/* one_result - scan a message with one object; its result and signature */
static int
one_result(const struct tm_av *av, struct msg m, enum tm_av_result want, const char *wantsig)
{
    struct fx f;
    int ok = 0;

    if (m.p == NULL)
        return 0;
    if (fx_scan(&f, av, m) == TM_OK && f.r != NULL && f.r->n == 1) {
        ok = 1;
        if (f.r->v[0].result != want) {
            printf("    result %s (%s), want %s\n", tm_av_result_name(f.r->v[0].result),
                   f.r->v[0].signature ? f.r->v[0].signature : "-", tm_av_result_name(want));
            ok = 0;
        }
        if (wantsig != NULL &&
            (f.r->v[0].signature == NULL || strcmp(f.r->v[0].signature, wantsig) != 0)) {
            printf("    signature %s, want %s\n",
                   f.r->v[0].signature ? f.r->v[0].signature : "NULL", wantsig);
            ok = 0;
        }
    } else {
        printf("    scan failed or not exactly one object (n=%zu)\n", f.r ? f.r->n : 0);
    }
    fx_done(&f);
    return ok;
}

TM_TEST(av_ndb_ldb_archives)
{
    struct dbs d;
    struct tm_av *ndb, *ldb;

    REQUIRE(dbs_make(&d));
    REQUIRE((ndb = new_av(d.ndb, NULL)) != NULL);
    REQUIRE((ldb = new_av(d.ldb, NULL)) != NULL);
    CHECK(one_result(ndb, attach_file("clam.exe", "application/x-msdownload", "a.exe"),
                     TM_AV_INFECTED, NAME_CLAM_NDB));
    CHECK(one_result(ldb, attach_file("clam.exe", "application/x-msdownload", "a.exe"),
                     TM_AV_INFECTED, NAME_LDB));
    /* libclamav unpacks: the same signatures inside a zip, a 7z, a doc, a pdf */
    CHECK(one_result(ndb, attach_file("clam.zip", "application/zip", "clam.zip"), TM_AV_INFECTED,
                     NAME_CLAM_NDB));
    CHECK(one_result(ldb, attach_file("clam.7z", "application/x-7z-compressed", "c.7z"),
                     TM_AV_INFECTED, NAME_LDB));
    CHECK(one_result(ndb, attach_file("clam.ole.doc", "application/msword", NULL), TM_AV_INFECTED,
                     NAME_CLAM_NDB));
    CHECK(one_result(ndb, attach_file("clam.pdf", "application/pdf", "x.pdf"), TM_AV_INFECTED,
                     NAME_CLAM_NDB));
    tm_av_unref(ndb);
    tm_av_unref(ldb);
    dbs_remove(&d);
}

TM_TEST(av_text_only_and_clean)
{
    static const char text[] = "From: a@example.org\r\nSubject: hi\r\n\r\nJust text.\r\n";
    static const char pdf[] = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 "
                              "0 R >>\n%%EOF\n";
    struct part v[3] = {{"text/plain", NULL, NULL, "hello", 5, 0},
                        {"application/zip", "report.zip", "attachment", "not really a zip", 16, 1},
                        {"application/pdf", "doc.pdf", "attachment", pdf, sizeof(pdf) - 1, 1}};
    struct dbs d;
    struct tm_av *av;
    struct fx f;
    struct msg m;

    REQUIRE(dbs_make(&d));
    REQUIRE((av = new_av(d.ndb, NULL)) != NULL);
    m.p = malloc(sizeof(text));
    REQUIRE(m.p != NULL);
    memcpy(m.p, text, sizeof(text));
    m.len = sizeof(text) - 1;
    CHECK_EQ_INT(fx_scan(&f, av, m), TM_OK);
    CHECK(f.r != NULL && f.r->n == 0 && f.r->scanned == 0 && f.r->bytes == 0);
    CHECK(tm_av_task_report(f.task) == f.r);
    fx_done(&f);

    m = build_msg(v, 3);
    CHECK_EQ_INT(fx_scan(&f, av, m), TM_OK);
    REQUIRE(f.r != NULL);
    CHECK_EQ_SIZE(f.r->n, 2);
    if (f.r->n == 2) {
        CHECK_EQ_INT(f.r->v[0].result, TM_AV_CLEAN);
        CHECK_STR(f.r->v[0].filename, "report.zip");
        CHECK(f.r->v[0].signature == NULL);
        CHECK_EQ_INT(f.r->v[1].result, TM_AV_CLEAN);
        CHECK_STR(f.r->v[1].filename, "doc.pdf");
    }
    fx_done(&f);
    tm_av_unref(av);
    dbs_remove(&d);
}

TM_TEST(av_uuencoded_in_text)
{
    struct dbs d;
    struct tm_av *av;
    struct sb b = {NULL, 0, 0};
    unsigned char *clam;
    size_t clamlen;
    struct fx f;

    REQUIRE(dbs_make(&d));
    REQUIRE((av = new_av(d.hdb, NULL)) != NULL);
    REQUIRE((clam = testfile("clam.exe", &clamlen)) != NULL);
    sb_add(&b, "From: a@example.org\r\nSubject: uu\r\nContent-Type: text/plain\r\n\r\n"
               "Here is the program:\r\n\r\n");
    sb_uu(&b, "clam.exe", clam, clamlen);
    sb_add(&b, "\r\nbye\r\n");
    free(clam);
    {
        struct msg m = {b.p, b.len};
        CHECK_EQ_INT(fx_scan(&f, av, m), TM_OK);
    }
    REQUIRE(f.r != NULL);
    CHECK_EQ_SIZE(f.r->n, 1);
    if (f.r->n == 1) {
        CHECK_EQ_INT(f.r->v[0].result, TM_AV_INFECTED);
        CHECK_STR(f.r->v[0].signature, NAME_CLAM_HDB);
        CHECK_EQ_INT(f.r->v[0].uu, 0);
        CHECK_STR(f.r->v[0].filename, "clam.exe");
        CHECK_EQ_SIZE(f.r->bytes, 544);
    }
    fx_done(&f);
    tm_av_unref(av);
    dbs_remove(&d);
}

TM_TEST(av_all_leaves)
{
    struct dbs d;
    struct tm_av_opts o;
    struct tm_av *av, *all;
    struct part v[1] = {{"text/plain", NULL, NULL, NULL, 0, 0}};
    char e[69];

    v[0].data = e;
    v[0].len = eicar(e);
    REQUIRE(dbs_make(&d));
    memset(&o, 0, sizeof(o));
    REQUIRE((av = new_av(d.ndb, &o)) != NULL);
    o.all_leaves = 1;
    REQUIRE((all = new_av(d.ndb, &o)) != NULL);
    {
        struct fx f;
        CHECK_EQ_INT(fx_scan(&f, av, build_msg(v, 1)), TM_OK);
        CHECK(f.r != NULL && f.r->n == 0);
        fx_done(&f);
    }
    CHECK(one_result(all, build_msg(v, 1), TM_AV_INFECTED, NAME_EICAR_NDB));
    tm_av_unref(av);
    tm_av_unref(all);
    dbs_remove(&d);
}

TM_TEST(av_limits)
{
    struct dbs d;
    struct tm_av_opts o;
    struct tm_av *av;

    REQUIRE(dbs_make(&d));
    /* clam.zip is 404 bytes: bigger than max_filesize, libclamav does not look inside */
    memset(&o, 0, sizeof(o));
    o.max_filesize = 300;
    REQUIRE((av = new_av(d.hdb, &o)) != NULL);
    CHECK(one_result(av, attach_file("clam.zip", "application/zip", "clam.zip"), TM_AV_LIMITS,
                     "Heuristics.Limits.Exceeded.MaxFileSize"));
    tm_av_unref(av);
    /* 1024 > 404 and > 544 (clam.exe inside): nothing is cut, the signature wins */
    o.max_filesize = 1024;
    REQUIRE((av = new_av(d.hdb, &o)) != NULL);
    CHECK(one_result(av, attach_file("clam.zip", "application/zip", "clam.zip"), TM_AV_INFECTED,
                     NAME_CLAM_HDB));
    tm_av_unref(av);
    /* the zip plus its unpacked member need more than 600 bytes of scan budget */
    memset(&o, 0, sizeof(o));
    o.max_scansize = 600;
    REQUIRE((av = new_av(d.hdb, &o)) != NULL);
    CHECK(one_result(av, attach_file("clam.zip", "application/zip", "clam.zip"), TM_AV_LIMITS,
                     "Heuristics.Limits.Exceeded.MaxScanSize"));
    tm_av_unref(av);
    /* gzip -> tar -> exe: the second file is over max_files */
    memset(&o, 0, sizeof(o));
    o.max_files = 1;
    REQUIRE((av = new_av(d.hdb, &o)) != NULL);
    CHECK(one_result(av, attach_file("clam.tar.gz", "application/gzip", "clam.tar.gz"),
                     TM_AV_LIMITS, "Heuristics.Limits.Exceeded.MaxFiles"));
    tm_av_unref(av);
    /* the member of the zip is one level too deep */
    memset(&o, 0, sizeof(o));
    o.max_recursion = 1;
    REQUIRE((av = new_av(d.hdb, &o)) != NULL);
    CHECK(one_result(av, attach_file("clam.zip", "application/zip", "clam.zip"), TM_AV_LIMITS,
                     "Heuristics.Limits.Exceeded.MaxRecursion"));
    tm_av_unref(av);
    /* 1 ms is far too little for unpacking a 1.7 MB InstallShield cabinet */
    memset(&o, 0, sizeof(o));
    o.max_scantime_ms = 1;
    REQUIRE((av = new_av(d.hdb, &o)) != NULL);
    CHECK(one_result(av, attach_file("clam_IScab_ext.exe", "application/octet-stream", "setup.exe"),
                     TM_AV_LIMITS, "Heuristics.Limits.Exceeded.MaxScanTime"));
    tm_av_unref(av);
    dbs_remove(&d);
}

/* A 139-byte zip with one stored, ZipCrypto-encrypted member "a.txt" ("hi\n", password "x"). */
static const unsigned char enc_zip[] = {
    0x50, 0x4b, 0x03, 0x04, 0x0a, 0x00, 0x09, 0x00, 0x00, 0x00, 0x0e, 0x72, 0x7a, 0x5d, 0x7a, 0x7a,
    0x6f, 0xed, 0x0f, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x61, 0x2e,
    0x74, 0x78, 0x74, 0x89, 0x2c, 0xfc, 0x64, 0x27, 0x4c, 0x5e, 0xef, 0x8c, 0xa5, 0xcf, 0x26, 0x23,
    0x8e, 0xc3, 0x50, 0x4b, 0x07, 0x08, 0x7a, 0x7a, 0x6f, 0xed, 0x0f, 0x00, 0x00, 0x00, 0x03, 0x00,
    0x00, 0x00, 0x50, 0x4b, 0x01, 0x02, 0x1e, 0x03, 0x0a, 0x00, 0x09, 0x00, 0x00, 0x00, 0x0e, 0x72,
    0x7a, 0x5d, 0x7a, 0x7a, 0x6f, 0xed, 0x0f, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa4, 0x81, 0x00, 0x00, 0x00, 0x00,
    0x61, 0x2e, 0x74, 0x78, 0x74, 0x50, 0x4b, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
    0x00, 0x33, 0x00, 0x00, 0x00, 0x42, 0x00, 0x00, 0x00, 0x00, 0x00,
};

TM_TEST(av_encrypted_and_mixed)
{
    struct dbs d;
    struct tm_av *av;
    struct fx f;
    unsigned char *zip;
    size_t ziplen;
    char e[69];
    struct part v[4] = {
        {"text/plain", NULL, NULL, "hello", 5, 0},
        {"application/zip", "secret.zip", "attachment", enc_zip, sizeof(enc_zip), 1},
        {"application/zip", "clam.zip", "attachment", NULL, 0, 1},
        {"application/octet-stream", "e.com", "attachment", e, 0, 1},
    };

    REQUIRE(dbs_make(&d));
    REQUIRE((av = new_av(d.ndb, NULL)) != NULL);
    REQUIRE((zip = testfile("clam.zip", &ziplen)) != NULL);
    v[2].data = zip;
    v[2].len = ziplen;
    v[3].len = eicar(e);
    CHECK_EQ_INT(fx_scan(&f, av, build_msg(v, 4)), TM_OK);
    free(zip);
    REQUIRE(f.r != NULL);
    CHECK_EQ_SIZE(f.r->n, 3);
    CHECK_EQ_SIZE(f.r->bytes, sizeof(enc_zip) + ziplen + 68);
    if (f.r->n == 3) {
        CHECK_EQ_INT(f.r->v[0].result, TM_AV_ENCRYPTED);
        CHECK_STR(f.r->v[0].signature, "Heuristics.Encrypted.Zip");
        CHECK_EQ_INT(f.r->v[1].result, TM_AV_INFECTED);
        CHECK_STR(f.r->v[1].signature, NAME_CLAM_NDB);
        CHECK_EQ_INT(f.r->v[2].result, TM_AV_INFECTED);
        CHECK_STR(f.r->v[2].signature, NAME_EICAR_NDB);
        CHECK_STR(f.r->v[2].filename, "e.com");
    }
    fx_done(&f);
    tm_av_unref(av);
    dbs_remove(&d);
}

/* Reload under load: scanning threads must never see anything but INFECTED. */
struct scanner_arg {
    struct tm_av_slot *slot;
    atomic_int *stop;
    unsigned scans, bad;
};

static void *
scanner_thread(void *p)
{
    struct scanner_arg *a = p;

    while (!atomic_load(a->stop)) {
        struct tm_av *av = tm_av_slot_get(a->slot);
        struct fx f;
        struct msg m = eicar_msg();

        if (fx_scan(&f, av, m) != TM_OK || f.r == NULL || f.r->n != 1 ||
            f.r->v[0].result != TM_AV_INFECTED)
            a->bad++;
        fx_done(&f);
        tm_av_unref(av);
        a->scans++;
    }
    return NULL;
}

TM_TEST(av_reload_under_load)
{
    struct dbs d;
    struct tm_av_opts o;
    struct tm_av_reload_stats st;
    struct tm_av_slot *slot;
    struct tm_av *av, *held;
    struct scanner_arg arg[2];
    pthread_t th[2];
    atomic_int stop;
    char err[512];
    struct timespec pause = {0, 5000000};
    int i, fails = 0;

    REQUIRE(dbs_make(&d));
    REQUIRE((av = new_av(d.hdb, NULL)) != NULL);
    slot = tm_av_slot_new(av);
    held = tm_av_slot_get(slot); /* an old engine kept across the reloads */
    atomic_init(&stop, 0);
    for (i = 0; i < 2; i++) {
        arg[i].slot = slot;
        arg[i].stop = &stop;
        arg[i].scans = arg[i].bad = 0;
        REQUIRE(pthread_create(&th[i], NULL, scanner_thread, &arg[i]) == 0);
    }
    memset(&o, 0, sizeof(o));
    for (i = 0; i < 20; i++) {
        memset(&st, 0, sizeof(st));
        o.db = i == 10 ? d.bad : (i % 2 ? d.hdb : d.ndb);
        if (tm_av_slot_reload(slot, &o, &st, err, sizeof(err)) != TM_OK) {
            fails++;
            CHECK(i == 10);
            CHECK(strstr(err, "Malformed") != NULL);
        } else {
            CHECK_EQ_INT(st.sigs, 2);
            CHECK(st.rss_before > 0 && st.rss_peak > 0 && st.rss_after > 0);
            CHECK(st.load_ms >= 0.0);
        }
        nanosleep(&pause, NULL);
    }
    atomic_store(&stop, 1);
    for (i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    CHECK_EQ_INT(fails, 1);
    for (i = 0; i < 2; i++) {
        CHECK(arg[i].scans > 0);
        CHECK_EQ_INT(arg[i].bad, 0);
    }
    printf("    scans %u + %u; last reload %.1f ms, rss %zu -> %zu -> %zu KiB\n", arg[0].scans,
           arg[1].scans, st.load_ms, st.rss_before >> 10, st.rss_peak >> 10, st.rss_after >> 10);
    /* the engine taken before the reloads still works, and is freed by this unref */
    CHECK(one_result(held, eicar_msg(), TM_AV_INFECTED, NAME_EICAR_HDB));
    tm_av_unref(held);
    tm_av_slot_free(slot);
    dbs_remove(&d);
}

const struct tm_test tests_av[] = {
    TM_TEST_ENTRY(av_load_ok),
    TM_TEST_ENTRY(av_load_errors),
    TM_TEST_ENTRY(av_infected_hdb),
    TM_TEST_ENTRY(av_ndb_ldb_archives),
    TM_TEST_ENTRY(av_text_only_and_clean),
    TM_TEST_ENTRY(av_uuencoded_in_text),
    TM_TEST_ENTRY(av_all_leaves),
    TM_TEST_ENTRY(av_limits),
    TM_TEST_ENTRY(av_encrypted_and_mixed),
    TM_TEST_ENTRY(av_reload_under_load),
    TM_TEST_END,
};
