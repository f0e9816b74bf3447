/*
 * milter.h - a sans-I/O milter v6 server session (docs: protocols.md
 * section 1). The daemon reads bytes from the MTA's socket and pushes them
 * with tm_milter_feed; the session parses packets, keeps the envelope, the
 * macros and the message being assembled, and queues its replies in an
 * output buffer that the daemon drains with tm_milter_output and
 * tm_milter_output_consume. No sockets, no clocks.
 *
 * Lifetime of one connection:
 *
 *   tm_milter_init(&m, &cfg);
 *   for each read():
 *       rc = tm_milter_feed(&m, buf, n, &ev);  -- TM_EPROTO: close the socket
 *       write out tm_milter_output(); tm_milter_output_consume(n written)
 *       if (ev & TM_MILTER_EV_EOM):
 *           tm_milter_message(&m, &msg, &len);  -- RFC 5322 bytes, scan them
 *           tm_milter_verdict(&m, &verdict, task)  (or tm_milter_tempfail)
 *           tm_milter_feed(&m, NULL, 0, &ev);   -- resume bytes held meanwhile
 *       if (ev & TM_MILTER_EV_QUIT): flush the output, close
 *   tm_milter_free(&m);
 *
 * While a message waits for its verdict the session parses nothing: bytes
 * that arrive meanwhile are held (at most max_packet + 5 of them) and parsed
 * on the next feed. Every count and size is bounded by struct tm_milter_cfg;
 * what does not fit is dropped and counted in tm_milter.clipped (a finding,
 * not an error), except a packet over the packet limits, which is
 * TM_EPROTO. Memory is engine-lifetime style (tm_x*, fatal on OOM), always
 * within those bounds, and tm_milter_free releases all of it.
 */
#ifndef TM_PROTO_MILTER_H
#define TM_PROTO_MILTER_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

struct tm_task;
struct tm_verdict;

/* Commands, MTA -> filter */
#define TM_SMFIC_ABORT   'A'
#define TM_SMFIC_BODY    'B'
#define TM_SMFIC_CONNECT 'C'
#define TM_SMFIC_MACRO   'D'
#define TM_SMFIC_BODYEOB 'E'
#define TM_SMFIC_HELO    'H'
#define TM_SMFIC_QUIT_NC 'K'
#define TM_SMFIC_HEADER  'L'
#define TM_SMFIC_MAIL    'M'
#define TM_SMFIC_EOH     'N'
#define TM_SMFIC_OPTNEG  'O'
#define TM_SMFIC_QUIT    'Q'
#define TM_SMFIC_RCPT    'R'
#define TM_SMFIC_DATA    'T'
#define TM_SMFIC_UNKNOWN 'U'

/* Replies, filter -> MTA */
#define TM_SMFIR_OPTNEG     'O'
#define TM_SMFIR_ADDHEADER  'h'
#define TM_SMFIR_CHGHEADER  'm'
#define TM_SMFIR_INSHEADER  'i'
#define TM_SMFIR_QUARANTINE 'q'
#define TM_SMFIR_ACCEPT     'a'
#define TM_SMFIR_CONTINUE   'c'
#define TM_SMFIR_REJECT     'r'
#define TM_SMFIR_TEMPFAIL   't'
#define TM_SMFIR_REPLYCODE  'y'
#define TM_SMFIR_DISCARD    'd'

/* Action bits */
#define TM_SMFIF_ADDHDRS     0x001u
#define TM_SMFIF_CHGBODY     0x002u
#define TM_SMFIF_ADDRCPT     0x004u
#define TM_SMFIF_DELRCPT     0x008u
#define TM_SMFIF_CHGHDRS     0x010u
#define TM_SMFIF_QUARANTINE  0x020u
#define TM_SMFIF_CHGFROM     0x040u
#define TM_SMFIF_ADDRCPT_PAR 0x080u
#define TM_SMFIF_SETSYMLIST  0x100u

/* Protocol bits */
#define TM_SMFIP_NOCONNECT   0x000001u
#define TM_SMFIP_NOHELO      0x000002u
#define TM_SMFIP_NOMAIL      0x000004u
#define TM_SMFIP_NORCPT      0x000008u
#define TM_SMFIP_NOBODY      0x000010u
#define TM_SMFIP_NOHDRS      0x000020u
#define TM_SMFIP_NOEOH       0x000040u
#define TM_SMFIP_NR_HDR      0x000080u
#define TM_SMFIP_NOUNKNOWN   0x000100u
#define TM_SMFIP_NODATA      0x000200u
#define TM_SMFIP_SKIP        0x000400u
#define TM_SMFIP_RCPT_REJ    0x000800u
#define TM_SMFIP_NR_CONN     0x001000u
#define TM_SMFIP_NR_HELO     0x002000u
#define TM_SMFIP_NR_MAIL     0x004000u
#define TM_SMFIP_NR_RCPT     0x008000u
#define TM_SMFIP_NR_DATA     0x010000u
#define TM_SMFIP_NR_UNKN     0x020000u
#define TM_SMFIP_NR_EOH      0x040000u
#define TM_SMFIP_NR_BODY     0x080000u
#define TM_SMFIP_HDR_LEADSPC 0x100000u
/* every NR_* bit: with all of them only BODYEOB is answered (0xFF080) */
#define TM_SMFIP_NR_ALL                                                                            \
    (TM_SMFIP_NR_HDR | TM_SMFIP_NR_CONN | TM_SMFIP_NR_HELO | TM_SMFIP_NR_MAIL | TM_SMFIP_NR_RCPT | \
     TM_SMFIP_NR_DATA | TM_SMFIP_NR_UNKN | TM_SMFIP_NR_EOH | TM_SMFIP_NR_BODY)

/* Macro-list stages in the OPTNEG reply */
#define TM_SMFIM_CONNECT 0u
#define TM_SMFIM_HELO    1u
#define TM_SMFIM_ENVFROM 2u
#define TM_SMFIM_ENVRCPT 3u
#define TM_SMFIM_DATA    4u
#define TM_SMFIM_EOM     5u
#define TM_SMFIM_EOH     6u

/* Events tm_milter_feed reports (bits of *events) */
#define TM_MILTER_EV_EOM   0x1u /* a message is complete: scan it, then tm_milter_verdict */
#define TM_MILTER_EV_QUIT  0x2u /* QUIT: flush the output and close the connection */
#define TM_MILTER_EV_ABORT 0x4u /* ABORT dropped an open message */

/* Macro stages kept, in the order the MTA sends them: "CHMRTLNBE" then 'U' */
#define TM_MILTER_NSTAGES 10

struct tm_milter_cfg {
    size_t max_packet;     /* payload bytes of a BODY/BODYEOB packet; default 1 MiB */
    size_t max_cmd;        /* payload bytes of any other packet; default 64 KiB */
    size_t max_message;    /* bytes of the reconstructed message; default 32 MiB */
    size_t max_macros;     /* name/value pairs kept per stage; default 64 */
    size_t max_macro_len;  /* bytes of one macro name or value; default 1024 */
    size_t max_rcpts;      /* recipients kept per message; default 1000 */
    size_t max_esmtp_args; /* MAIL FROM parameters kept; default 16 */
    size_t max_string;     /* bytes of a host name, address, HELO, sender, recipient,
                              Subject kept; longer ones are clipped; default 1024 */
    size_t max_output;     /* reply bytes queued and not yet consumed; default 1 MiB */
    uint32_t actions;      /* SMFIF_* wanted; default ADDHDRS|CHGHDRS|QUARANTINE */
    int no_reply;          /* ask for every offered NR_* bit (answer only BODYEOB); default 1 */
    int request_macros;    /* send SMFIM_* macro lists when SETSYMLIST is offered; default 1 */
};

struct tm_milter_macro {
    char *name; /* as sent: "i", "{client_addr}" */
    char *value;
};

/*
 * The envelope as the MTA gave it. Strings are NUL-terminated copies,
 * clipped at max_string; NULL when the command has not arrived.
 */
struct tm_milter_env {
    char *client_name;    /* CONNECT host name; "[192.0.2.1]" when unresolved */
    char *client_addr;    /* text address, "IPv6:" stripped; NULL for family 'U' */
    unsigned client_port; /* 0 for 'L' and 'U' */
    char family;          /* '4', '6', 'L' or 'U'; 0 before CONNECT */
    char *helo;           /* the last HELO/EHLO argument */
    char *mail_from;      /* "<a@example.com>" as sent, "<>" for the null sender */
    char **esmtp;         /* MAIL FROM parameters ("SIZE=321"), nesmtp of them */
    size_t nesmtp;
    char **rcpts; /* "<b@example.net>" as sent, one per RCPT, nrcpt of them */
    size_t nrcpt;
};

/*
 * One session. Read-only for callers: env, version, actions, protocol,
 * clipped and truncated; everything else is private.
 */
struct tm_milter {
    struct tm_milter_cfg cfg;
    uint32_t version;  /* negotiated (0 before OPTNEG) */
    uint32_t actions;  /* SMFIF_* granted: what we asked for & what the MTA offered */
    uint32_t protocol; /* SMFIP_* we asked for */
    struct tm_milter_env env;
    size_t clipped; /* items dropped or clipped by a bound (macros, rcpts, strings) */
    int truncated;  /* the current message went over max_message */

    /* private */
    int negotiated, dead, quit, eom_pending, in_message, eoh_seen;
    unsigned char *in; /* packet being read and bytes held while eom_pending */
    size_t inoff, inlen, incap;
    unsigned char *out; /* replies not yet consumed */
    size_t outlen, outcap;
    unsigned char *msg; /* headers, blank line, body */
    size_t msglen, msgcap;
    size_t nheaders;
    char *subject; /* value of the first Subject header, as received */
    struct tm_milter_macro *macros[TM_MILTER_NSTAGES];
    size_t nmacros[TM_MILTER_NSTAGES];
};

/* tm_milter_cfg_default - the defaults listed in struct tm_milter_cfg */
void tm_milter_cfg_default(struct tm_milter_cfg *c);

/*
 * tm_milter_init - start a session (before OPTNEG). cfg NULL = defaults.
 * TM_EINVAL when a limit is out of range (max_packet < 65535, max_cmd <
 * 1024 or > max_packet, max_output < 64 KiB, a zero count or size).
 */
tm_rc tm_milter_init(struct tm_milter *m, const struct tm_milter_cfg *cfg);

/* tm_milter_free - release everything the session holds */
void tm_milter_free(struct tm_milter *m);

/*
 * tm_milter_feed - push n bytes read from the MTA (p may be NULL when n is
 * 0: parse what was held during a verdict; any later feed parses them
 * too, before its own bytes). Always takes all n bytes.
 * *events gets TM_MILTER_EV_* bits for what happened in this call. Parsing
 * stops after a BODYEOB (EV_EOM) until tm_milter_verdict or
 * tm_milter_tempfail answers it. TM_EPROTO: the MTA broke the protocol (a
 * length of 0 or over the limits, an unknown command, a malformed payload,
 * anything but OPTNEG first, too much data while a verdict is pending, the
 * output not drained); the session is dead, close the connection.
 */
tm_rc tm_milter_feed(struct tm_milter *m, const unsigned char *p, size_t n, unsigned *events);

/* tm_milter_output - the reply bytes to write to the MTA; *len of them */
const unsigned char *tm_milter_output(const struct tm_milter *m, size_t *len);
/* tm_milter_output_consume - drop the first n written bytes of the output */
void tm_milter_output_consume(struct tm_milter *m, size_t n);

/*
 * tm_milter_message - the message assembled for the EV_EOM: each header as
 * "Name: value\r\n" in the order received (the bare LFs of folded values
 * become CRLF), "\r\n", then the body bytes as sent. Valid until the
 * verdict. Clipped at max_message (then m->truncated is set).
 */
void tm_milter_message(const struct tm_milter *m, const unsigned char **p, size_t *len);

/*
 * tm_milter_macro - the value of macro `name` ("i", "{i}", "auth_authen"
 * and "{auth_authen}" all match both spellings), latest stage first; NULL
 * when the MTA did not send it.
 */
const char *tm_milter_macro(const struct tm_milter *m, const char *name);
/* tm_milter_queue_id - macro "i", or NULL */
const char *tm_milter_queue_id(const struct tm_milter *m);
/* tm_milter_auth_user - macro "{auth_authen}" (SASL login), or NULL */
const char *tm_milter_auth_user(const struct tm_milter *m);

/*
 * tm_milter_verdict - answer the pending BODYEOB from verdict v, then reset
 * the message (envelope sender, recipients, message macros). t is the task
 * whose arena holds the spam headers (tm_proto_spam_headers, LF folding);
 * with t NULL no spam header is sent (the rest is the same).
 *   NONE, ADD_HEADER, REWRITE_SUBJECT: CHGHEADER to delete each of
 *     v->remove_ar (if CHGHDRS was granted), INSHEADER at the top for each of
 *     v->prepend (signatures, ARC set, Authentication-Results; bare-LF
 *     folding), ADDHEADER per spam header (both if ADDHDRS was granted); for REWRITE_SUBJECT a CHGHEADER Subject #1 to
 *     "[SPAM] " + the old value (if CHGHDRS; ADDHEADER when there was no
 *     Subject); then ACCEPT.
 *   SOFT_REJECT: REPLYCODE v->smtp_reply when it is a valid one-line 4xx
 *     reply, else "451 4.7.1 Try again later" ('%' doubled).
 *   REJECT: REPLYCODE v->smtp_reply when it is a valid one-line 5xx reply,
 *     else "550 5.7.1 Message rejected by content policy".
 *   DISCARD: DISCARD (accepted and dropped; the sender is not told).
 *   QUARANTINE: QUARANTINE with a reason (if granted; else the message is
 *     only marked by its headers), the spam headers, ACCEPT.
 * TM_EINVAL when no BODYEOB is pending, TM_ENOMEM when the task arena is
 * exhausted (nothing was queued: answer with tm_milter_tempfail),
 * TM_EPROTO when the output is not being drained.
 */
tm_rc tm_milter_verdict(struct tm_milter *m, const struct tm_verdict *v, struct tm_task *t);

/*
 * tm_milter_tempfail - answer the pending BODYEOB with TEMPFAIL (the
 * daemon cannot scan: overload, timeout, error) and reset the message.
 * TM_EINVAL when no BODYEOB is pending.
 */
tm_rc tm_milter_tempfail(struct tm_milter *m);

#endif
