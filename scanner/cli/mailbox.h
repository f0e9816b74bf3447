/*
 * mailbox.h - messages out of a corpus source, one at a time, with memory
 * bounded by the largest message kept (never by the source's size).
 *
 * A source is a path, optionally prefixed with its kind:
 *   dir:PATH      every regular file under PATH (recursively, in name order,
 *                 dot files skipped) is one message; a Maildir met on the way
 *                 is read as one (cur/ and new/, never tmp/);
 *   maildir:PATH  a Maildir (cur/ and new/ in name order);
 *   mbox:PATH     an mbox (see below);
 *   file:PATH     one message.
 * Without a prefix: a directory with cur/ and new/ is a Maildir, another
 * directory is dir:, a regular file that starts with "From " is an mbox and
 * any other file is one message.
 *
 * mbox: a message starts at a "From " line at the start of the file or after
 * an empty line, or at any "From " line shaped like an envelope line ("From
 * ADDR DATE" with a hh:mm time), so an unquoted "From " in a body does not
 * split it. The "From " line itself is not part of the message. Lines
 * quoted the mboxrd way (">From ", ">>From " ...) lose one '>'. The empty
 * line a writer puts before the next "From " line is dropped. Messages
 * longer than the caller's cap are kept to cap + 1 bytes (so the scanner
 * sees that they are too long) and the rest is skipped.
 */
#ifndef TM_CLI_MAILBOX_H
#define TM_CLI_MAILBOX_H

#include <stddef.h>
#include <stdint.h>

struct tm_mailbox;

struct tm_mailbox_msg {
    unsigned char *data; /* the message, tm_free()d by the caller */
    size_t len;
    char *name;          /* file path, or "MBOX#N" (N from 1); tm_free()d by the caller */
    uint64_t offset;     /* byte offset of the "From " line in an mbox, else 0 */
};

/*
 * tm_mailbox_open - open a source. 0, or -1 with err set (no such path, a
 * Maildir without cur/ and new/ ...).
 */
int tm_mailbox_open(const char *spec, struct tm_mailbox **out, char *err, size_t errlen);

/* tm_mailbox_kind - "dir", "maildir", "mbox" or "file" */
const char *tm_mailbox_kind(const struct tm_mailbox *mb);
/* tm_mailbox_path - the path without its kind prefix */
const char *tm_mailbox_path(const struct tm_mailbox *mb);

/*
 * tm_mailbox_next - the next message, at most cap + 1 bytes of it. 1 with
 * *m filled; 0 at the end; -1 when one message could not be read (err says
 * which and why; *m is empty and the next call goes on with the next one).
 */
int tm_mailbox_next(struct tm_mailbox *mb, size_t cap, struct tm_mailbox_msg *m, char *err,
                    size_t errlen);

/* tm_mailbox_bytes - bytes consumed so far (for progress) */
uint64_t tm_mailbox_bytes(const struct tm_mailbox *mb);

/*
 * tm_mailbox_size - the bytes a source holds (the sum of its files' sizes),
 * without reading them: the denominator of the progress bar.
 */
uint64_t tm_mailbox_size(const char *spec);

void tm_mailbox_close(struct tm_mailbox *mb);

#endif
