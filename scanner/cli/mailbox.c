/*
 * mailbox.c - corpus sources (mailbox.h): directory trees, Maildirs and
 * mboxes read one message at a time.
 *
 * Bounds: directory nesting MB_MAX_DEPTH (deeper directories are reported
 * once and skipped); one directory's names are held at a time per level;
 * an mbox is read through a fixed MB_BUF buffer, lines longer than it are
 * handled in pieces, and a message keeps at most cap + 1 bytes.
 */
#include "cli/mailbox.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/core.h"

#define MB_MAX_DEPTH 64
#define MB_BUF       65536u

enum mb_kind { MB_DIR, MB_MAILDIR, MB_MBOX, MB_FILE };

static const char *const mb_kind_names[] = {"dir", "maildir", "mbox", "file"};

struct mb_frame {
    char *dir;
    char **names;
    size_t n, i;
};

struct tm_mailbox {
    enum mb_kind kind;
    char *path;
    uint64_t bytes;
    /* dir, maildir: a stack of directory listings */
    struct mb_frame st[MB_MAX_DEPTH];
    int depth;
    int file_done; /* file: the one message was returned */
    /* mbox */
    FILE *f;
    unsigned char *buf;
    size_t pos, len;
    uint64_t buf_off;   /* file offset of buf[0] */
    int eof;
    int bol;            /* the next piece starts a line */
    int prev_blank;     /* the last complete line was empty */
    int pending;        /* a "From " line was consumed: the next message has begun */
    uint64_t pending_off;
    uint64_t nmsg;
};

static int
cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = tm_xmalloc(n);

    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int
is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* is_maildir - a directory with cur/ and new/ */
static int
is_maildir(const char *path)
{
    char *c = join(path, "cur"), *n = join(path, "new");
    int r = is_dir(c) && is_dir(n);

    tm_free(c);
    tm_free(n);
    return r;
}

/*
 * push_dir - list a directory (sorted, dot names skipped) onto the stack. A
 * Maildir lists only cur and new, so tmp/ (deliveries in progress) and
 * Maildir++ folders (dot names) are not read.
 */
static int
push_dir(struct tm_mailbox *mb, const char *dir, char *err, size_t errlen)
{
    struct mb_frame *fr;
    DIR *d;
    struct dirent *de;
    size_t cap = 0;

    if (mb->depth >= MB_MAX_DEPTH) {
        snprintf(err, errlen, "%s: directories nested deeper than %d; skipped", dir, MB_MAX_DEPTH);
        return -1;
    }
    fr = &mb->st[mb->depth];
    memset(fr, 0, sizeof(*fr));
    if (is_maildir(dir)) {
        fr->names = tm_xcalloc(2, sizeof(*fr->names));
        fr->names[0] = tm_xstrdup("cur");
        fr->names[1] = tm_xstrdup("new");
        fr->n = 2;
    } else {
        if ((d = opendir(dir)) == NULL) {
            snprintf(err, errlen, "%s: %s", dir, strerror(errno));
            return -1;
        }
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.')
                continue;
            if (fr->n == cap) {
                cap = cap ? cap * 2 : 64;
                fr->names = tm_xrealloc(fr->names, cap * sizeof(*fr->names));
            }
            fr->names[fr->n++] = tm_xstrdup(de->d_name);
        }
        closedir(d);
        if (fr->n > 1)
            qsort(fr->names, fr->n, sizeof(*fr->names), cmp_name);
    }
    fr->dir = tm_xstrdup(dir);
    mb->depth++;
    return 0;
}

static void
pop_dir(struct tm_mailbox *mb)
{
    struct mb_frame *fr = &mb->st[--mb->depth];
    size_t i;

    for (i = 0; i < fr->n; i++)
        tm_free(fr->names[i]);
    tm_free(fr->names);
    tm_free(fr->dir);
}

/*
 * walk_next - the next regular file of the tree, or NULL at the end. A
 * directory that cannot be listed is reported (-1 through *bad) and
 * skipped, so one unreadable folder does not end the run.
 */
static char *
walk_next(struct tm_mailbox *mb, int *bad, char *err, size_t errlen)
{
    *bad = 0;
    while (mb->depth > 0) {
        struct mb_frame *fr = &mb->st[mb->depth - 1];
        struct stat st;
        char *p;
        if (fr->i == fr->n) {
            pop_dir(mb);
            continue;
        }
        p = join(fr->dir, fr->names[fr->i++]);
        if (stat(p, &st) != 0) {
            snprintf(err, errlen, "%s: %s", p, strerror(errno));
            tm_free(p);
            *bad = 1;
            return NULL;
        }
        if (S_ISDIR(st.st_mode)) {
            int r = push_dir(mb, p, err, errlen);
            tm_free(p);
            if (r != 0) {
                *bad = 1;
                return NULL;
            }
            continue;
        }
        if (S_ISREG(st.st_mode))
            return p;
        tm_free(p);
    }
    return NULL;
}

/* read_file - at most cap + 1 bytes of a file */
static int
read_file(struct tm_mailbox *mb, const char *path, size_t cap, struct tm_mailbox_msg *m,
          char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    size_t want, n = 0, r, room = 0;
    struct stat st;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    want = cap < SIZE_MAX ? cap + 1 : cap;
    if (fstat(fileno(f), &st) == 0 && st.st_size >= 0) {
        mb->bytes += (uint64_t)st.st_size;
        room = (uint64_t)st.st_size < want ? (size_t)st.st_size + 1 : want;
    }
    if (room == 0)
        room = 1;
    m->data = tm_xmalloc(room);
    for (;;) {
        if (n == room) {
            if (room >= want)
                break;
            room = room * 2 > want || room * 2 < room ? want : room * 2;
            m->data = tm_xrealloc(m->data, room);
        }
        r = fread(m->data + n, 1, room - n, f);
        n += r;
        if (r == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
        fclose(f);
        tm_free(m->data);
        m->data = NULL;
        return -1;
    }
    fclose(f);
    m->len = n;
    m->name = tm_xstrdup(path);
    return 1;
}

/* ---- mbox ---- */

/*
 * mb_piece - the next piece of a line: up to and including its '\n', or as
 * much of a longer line as the buffer holds. *eol says the piece ends the
 * line. 0 at the end of the file, -1 on a read error.
 */
static int
mb_piece(struct tm_mailbox *mb, const unsigned char **p, size_t *n, int *eol)
{
    for (;;) {
        const unsigned char *nl = NULL;
        if (mb->pos < mb->len)
            nl = memchr(mb->buf + mb->pos, '\n', mb->len - mb->pos);
        if (nl != NULL || (mb->eof && mb->pos < mb->len) ||
            (mb->pos == 0 && mb->len == MB_BUF)) {
            size_t take = nl != NULL ? (size_t)(nl - (mb->buf + mb->pos)) + 1 : mb->len - mb->pos;
            *p = mb->buf + mb->pos;
            *n = take;
            *eol = nl != NULL;
            mb->pos += take;
            return 1;
        }
        if (mb->eof)
            return 0;
        if (mb->pos > 0) {
            memmove(mb->buf, mb->buf + mb->pos, mb->len - mb->pos);
            mb->len -= mb->pos;
            mb->buf_off += mb->pos;
            mb->pos = 0;
        }
        {
            size_t r = fread(mb->buf + mb->len, 1, MB_BUF - mb->len, mb->f);
            mb->len += r;
            mb->bytes += r;
            if (r == 0) {
                if (ferror(mb->f))
                    return -1;
                mb->eof = 1;
            }
        }
    }
}

/*
 * envelope_like - "From ADDR ... hh:mm ...": the shape of an mbox envelope
 * line, which a body line that merely starts with "From " rarely has.
 */
static int
envelope_like(const unsigned char *p, size_t n)
{
    size_t i = 5;

    if (i >= n || p[i] == ' ' || p[i] == '\n')
        return 0;
    while (i < n && p[i] != ' ' && p[i] != '\n')
        i++;
    for (; i + 4 < n; i++)
        if (p[i] >= '0' && p[i] <= '9' && p[i + 1] >= '0' && p[i + 1] <= '9' && p[i + 2] == ':' &&
            p[i + 3] >= '0' && p[i + 3] <= '9' && p[i + 4] >= '0' && p[i + 4] <= '9')
            return 1;
    return 0;
}

struct mb_out {
    unsigned char *d;
    size_t len, room, want;
};

static void
out_add(struct mb_out *o, const unsigned char *p, size_t n)
{
    if (o->len >= o->want)
        return;
    if (n > o->want - o->len)
        n = o->want - o->len;
    if (o->len + n > o->room) {
        size_t r = o->room ? o->room : 4096;
        while (r < o->len + n)
            r = r * 2 > o->want ? o->want : r * 2;
        o->d = tm_xrealloc(o->d, r);
        o->room = r;
    }
    memcpy(o->d + o->len, p, n);
    o->len += n;
}

/* skip_line - consume the rest of a line whose first piece did not end it */
static int
skip_line(struct tm_mailbox *mb)
{
    const unsigned char *p;
    size_t n;
    int eol = 0, r;

    while (!eol)
        if ((r = mb_piece(mb, &p, &n, &eol)) <= 0)
            return r;
    return 1;
}

static int
mbox_next(struct tm_mailbox *mb, size_t cap, struct tm_mailbox_msg *m, char *err, size_t errlen)
{
    struct mb_out o = {NULL, 0, 0, cap < SIZE_MAX ? cap + 1 : cap};
    int started = mb->pending, r, eol;
    uint64_t off = mb->pending_off;
    const unsigned char *p;
    size_t n;
    char name[64];

    mb->pending = 0;
    for (;;) {
        int bol = mb->bol;
        if ((r = mb_piece(mb, &p, &n, &eol)) < 0) {
            snprintf(err, errlen, "%s: %s", mb->path, strerror(errno ? errno : EIO));
            tm_free(o.d);
            return -1;
        }
        if (r == 0)
            break;
        mb->bol = eol;
        if (bol && n >= 5 && memcmp(p, "From ", 5) == 0 && (mb->prev_blank || envelope_like(p, n))) {
            uint64_t at = mb->buf_off + (uint64_t)(p - mb->buf);
            mb->prev_blank = 0;
            if (!eol) {
                if (skip_line(mb) < 0) {
                    tm_free(o.d);
                    return -1;
                }
                mb->bol = 1;
            }
            if (started) {
                mb->pending = 1;
                mb->pending_off = at;
                break;
            }
            started = 1;
            off = at;
            continue;
        }
        if (bol)
            mb->prev_blank = eol && (n == 1 || (n == 2 && p[0] == '\r'));
        if (!started) {
            if (bol && mb->prev_blank)
                continue; /* empty lines before the first message */
            started = 1;
            off = mb->buf_off + (uint64_t)(p - mb->buf);
        }
        if (bol && n > 5 && p[0] == '>') {
            size_t k = 0;
            while (k < n && p[k] == '>')
                k++;
            if (n - k >= 5 && memcmp(p + k, "From ", 5) == 0) {
                p++;
                n--;
            }
        }
        out_add(&o, p, n);
    }
    if (!started) {
        tm_free(o.d);
        return 0;
    }
    /* the empty line the writer put after the message belongs to the mbox */
    if (o.len >= 2 && o.len < o.want && o.d[o.len - 1] == '\n') {
        if (o.d[o.len - 2] == '\n')
            o.len--;
        else if (o.len >= 4 && o.d[o.len - 2] == '\r' && o.d[o.len - 3] == '\n' &&
                 o.d[o.len - 4] == '\r')
            o.len -= 2;
    }
    mb->nmsg++;
    snprintf(name, sizeof(name), "#%llu", (unsigned long long)mb->nmsg);
    m->name = tm_xmalloc(strlen(mb->path) + strlen(name) + 1);
    memcpy(m->name, mb->path, strlen(mb->path));
    memcpy(m->name + strlen(mb->path), name, strlen(name) + 1);
    m->data = o.d != NULL ? o.d : tm_xmalloc(1);
    m->len = o.len;
    m->offset = off;
    return 1;
}

/* ---- sources ---- */

/* split_spec - the kind prefix, if any; -1 when none */
static int
split_spec(const char *spec, const char **path)
{
    size_t i;

    for (i = 0; i < 4; i++) {
        size_t n = strlen(mb_kind_names[i]);
        if (strncmp(spec, mb_kind_names[i], n) == 0 && spec[n] == ':') {
            *path = spec + n + 1;
            return (int)i;
        }
    }
    *path = spec;
    return -1;
}

static int
starts_with_from(const char *path)
{
    FILE *f = fopen(path, "rb");
    char b[5];
    int r;

    if (f == NULL)
        return 0;
    r = fread(b, 1, 5, f) == 5 && memcmp(b, "From ", 5) == 0;
    fclose(f);
    return r;
}

int
tm_mailbox_open(const char *spec, struct tm_mailbox **out, char *err, size_t errlen)
{
    struct tm_mailbox *mb;
    const char *path;
    struct stat st;
    int kind = split_spec(spec, &path);

    *out = NULL;
    if (path[0] == '\0' || stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, path[0] ? strerror(errno) : "empty path");
        return -1;
    }
    if (kind < 0) {
        if (S_ISDIR(st.st_mode))
            kind = is_maildir(path) ? MB_MAILDIR : MB_DIR;
        else
            kind = starts_with_from(path) ? MB_MBOX : MB_FILE;
    }
    if ((kind == MB_DIR || kind == MB_MAILDIR) && !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a directory", path);
        return -1;
    }
    if (kind == MB_MAILDIR && !is_maildir(path)) {
        snprintf(err, errlen, "%s: not a Maildir (no cur/ and new/)", path);
        return -1;
    }
    if ((kind == MB_MBOX || kind == MB_FILE) && !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        return -1;
    }
    mb = tm_xcalloc(1, sizeof(*mb));
    mb->kind = (enum mb_kind)kind;
    mb->path = tm_xstrdup(path);
    if (kind == MB_DIR || kind == MB_MAILDIR) {
        if (push_dir(mb, path, err, errlen) != 0) {
            tm_mailbox_close(mb);
            return -1;
        }
    } else if (kind == MB_MBOX) {
        if ((mb->f = fopen(path, "rb")) == NULL) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            tm_mailbox_close(mb);
            return -1;
        }
        mb->buf = tm_xmalloc(MB_BUF);
        mb->bol = 1;
        mb->prev_blank = 1;
    }
    *out = mb;
    return 0;
}

int
tm_mailbox_next(struct tm_mailbox *mb, size_t cap, struct tm_mailbox_msg *m, char *err,
                size_t errlen)
{
    char *p;
    int bad, r;

    memset(m, 0, sizeof(*m));
    switch (mb->kind) {
    case MB_MBOX:
        return mbox_next(mb, cap, m, err, errlen);
    case MB_FILE:
        if (mb->file_done)
            return 0;
        mb->file_done = 1;
        return read_file(mb, mb->path, cap, m, err, errlen);
    default:
        if ((p = walk_next(mb, &bad, err, errlen)) == NULL)
            return bad ? -1 : 0;
        r = read_file(mb, p, cap, m, err, errlen);
        tm_free(p);
        return r;
    }
}

const char *
tm_mailbox_kind(const struct tm_mailbox *mb)
{
    return mb_kind_names[mb->kind];
}

const char *
tm_mailbox_path(const struct tm_mailbox *mb)
{
    return mb->path;
}

uint64_t
tm_mailbox_bytes(const struct tm_mailbox *mb)
{
    return mb->bytes;
}

uint64_t
tm_mailbox_size(const char *spec)
{
    struct tm_mailbox *mb;
    char err[256];
    uint64_t total = 0;
    struct stat st;
    char *p;
    int bad;

    if (tm_mailbox_open(spec, &mb, err, sizeof(err)) != 0)
        return 0;
    if (mb->kind == MB_MBOX || mb->kind == MB_FILE) {
        if (stat(mb->path, &st) == 0)
            total = (uint64_t)st.st_size;
    } else {
        for (;;) {
            p = walk_next(mb, &bad, err, sizeof(err));
            if (p == NULL) {
                if (bad)
                    continue;
                break;
            }
            if (stat(p, &st) == 0)
                total += (uint64_t)st.st_size;
            tm_free(p);
        }
    }
    tm_mailbox_close(mb);
    return total;
}

void
tm_mailbox_close(struct tm_mailbox *mb)
{
    if (mb == NULL)
        return;
    while (mb->depth > 0)
        pop_dir(mb);
    if (mb->f != NULL)
        fclose(mb->f);
    tm_free(mb->buf);
    tm_free(mb->path);
    tm_free(mb);
}
