/*
 * outbound.h - what a relay does for the mail it sends on behalf of its
 * users, after the scan: the sender-domain policy (each authenticated
 * submitter may only use its verified domains), DKIM signing with the key
 * of the From domain, an ARC seal as a relay that passes mail on, and the
 * Authentication-Results field of this hop. The same for `tamis scan` and
 * tamisd; the fields land in tm_verdict.prepend and every protocol inserts
 * them at the top of the message. With Authentication-Results on, the
 * message's own Authentication-Results fields that claim this relay's
 * authserv-id are marked for deletion (tm_verdict.remove_ar; RFC 8601
 * section 5): nobody else may speak for this relay.
 *
 * Sender-domain file (sender_domains), one submitter per line:
 *
 *     # SASL login   verified domains (From and envelope sender)
 *     alice          example.com example.net
 *     shop@clients   shop.example *.shop.example
 *
 * A domain matches itself only; "*.d" matches the subdomains of d (list d
 * as well to allow d itself). Logins compare case-insensitively, domains
 * too. A submitter not in the file has no verified domain. Mail from an
 * authenticated submitter whose From domain (each one, when From has
 * several addresses) or envelope-sender domain is not verified is refused
 * (TAMIS_SENDER_UNVERIFIED, action reject, "550 5.7.1 Sender domain D is
 * not verified for this account"). Mail without a submitter (inbound,
 * unauthenticated) is not subject to the policy.
 *
 * Signing keys (dkim_sign): "DOMAIN SELECTOR KEYFILE", RSA or Ed25519 (the
 * algorithm follows the key). A domain may have an RSA and an Ed25519 key:
 * both sign (RFC 8463 dual signing). Mail is signed when its From domain
 * has a key, the action lets it through (not reject, soft reject or
 * discard), and it comes from an authenticated submitter (or from anyone
 * with dkim_sign_all).
 */
#ifndef TM_VERDICT_OUTBOUND_H
#define TM_VERDICT_OUTBOUND_H

#include <stddef.h>

#include "core/core.h"

struct tm_task;
struct tm_verdict;
struct tm_auth_env;

#define TM_OUTBOUND_MAX_KEYS        1024   /* dkim_sign entries */
#define TM_OUTBOUND_MAX_KEYS_DOMAIN 2      /* signatures per message (RSA + Ed25519) */
#define TM_OUTBOUND_MAX_MAP_BYTES   (16u << 20)
#define TM_OUTBOUND_MAX_LINE        65536
#define TM_OUTBOUND_MAX_DOMAINS     4096   /* per submitter */

#define TM_SYM_SENDER_UNVERIFIED "TAMIS_SENDER_UNVERIFIED"

struct tm_outbound_opts {
    const char *sender_domains;     /* the sender-domain file, or NULL: no policy */
    const char *const *dkim_keys;   /* "DOMAIN SELECTOR KEYFILE" */
    size_t ndkim_keys;
    const char *dkim_headers;       /* signed header names, colon-separated; NULL: default */
    const char *dkim_canon;         /* "relaxed/relaxed" (default), "simple/simple", ... */
    int dkim_sign_all;              /* sign mail without an authenticated submitter too */
    const char *arc_seal;           /* "DOMAIN SELECTOR KEYFILE", or NULL: no sealing */
    int auth_results;               /* add Authentication-Results when authentication ran */
    const char *authserv_id;        /* for the ARC-Authentication-Results; NULL: "tamis" */
};

struct tm_outbound;

/*
 * tm_outbound_new - load the sender-domain file and the keys; TM_EINVAL or
 * TM_EIO with "file:line: why" in err. *out is NULL when nothing is
 * configured (no file, no key, no seal, no results header).
 */
tm_rc tm_outbound_new(const struct tm_outbound_opts *o, struct tm_outbound **out, char *err,
                      size_t errlen);
void tm_outbound_free(struct tm_outbound *ob);

/* tm_outbound_has_policy - a sender-domain file is in force */
int tm_outbound_has_policy(const struct tm_outbound *ob);

/*
 * tm_outbound_apply - after the verdict: the sender-domain policy (a
 * refusal raises v to reject with its reply), then, when the action lets
 * the message through, the fields to prepend (v->prepend): the ARC set,
 * the DKIM signatures, Authentication-Results. msg,len is the message as
 * scanned; t holds its MIME parse and (when it ran) t->auth. TM_ENOMEM
 * when the arena is spent; a key that fails to sign is logged through the
 * symbol-free path (no header) and is not an error for the message.
 */
tm_rc tm_outbound_apply(const struct tm_outbound *ob, struct tm_task *t,
                        const struct tm_auth_env *env, const unsigned char *msg, size_t len,
                        struct tm_verdict *v);

/*
 * tm_outbound_sender_ok - is `domain` verified for submitter `user`
 * (for tests and `tamis`): 1 yes, 0 no.
 */
int tm_outbound_sender_ok(const struct tm_outbound *ob, const char *user, const char *domain);

#endif
