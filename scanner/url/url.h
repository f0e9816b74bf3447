/*
 * url.h - URLs: extraction from text, normalisation, registrable domains
 * (the `url` stage).
 *
 * Normal form (tm_url_normalize): scheme and host lower-case; the host
 * percent-decoded, IDNA-converted to its ASCII (punycode) form with libidn2
 * (UTS#46 non-transitional), trailing dots dropped; IPv4 hosts written in
 * any form inet_aton accepts (decimal 3232235777, hex 0xC0A80101, octal
 * 0300.0250.01.01, short 192.168.257) become dotted quads; IPv6 literals are
 * kept in [] in RFC 5952 form; userinfo is dropped from the normal form
 * (and flagged); default ports (80 for http, 443 for https, 21 for ftp) are
 * dropped; an empty path becomes "/". Path, query and fragment are kept as
 * written except that bytes outside printable ASCII are percent-encoded.
 *
 * Registrable domain: libpsl with the Public Suffix List (the installed
 * list, Debian's publicsuffix package, else the one built into libpsl);
 * an IP host is its own domain; a host that is itself a public suffix
 * gives the host; a host under an unknown top-level label (.example, .test,
 * .local, intranet names) gets the list's default rule "*": its last two
 * labels.
 *
 * Every length is bounded by the caller's arena and by TM_URL_MAX_LEN.
 */
#ifndef TM_URL_URL_H
#define TM_URL_URL_H

#include <stddef.h>

#include "core/core.h"
#include "core/str.h"

struct tm_arena;

#define TM_URL_MAX_LEN  8192u /* bytes of one URL looked at; longer ones are cut (flagged) */
#define TM_URL_MAX_HOST 253u  /* bytes of a host name (ASCII form) */

/* Where a URL was found; names in tm_url_source_name ("text", "href", ...). */
enum tm_url_source {
    TM_URL_SRC_TEXT,   /* plain text (text/plain, or the visible text of HTML) */
    TM_URL_SRC_HREF,   /* a/area href, meta refresh, link href */
    TM_URL_SRC_SRC,    /* img/iframe/frame/embed/script src, background */
    TM_URL_SRC_FORM,   /* form action */
    TM_URL_SRC_HEADER, /* List-Unsubscribe and similar headers */
    TM_URL_SRC_REDIRECT, /* unwrapped from a redirector parameter of another URL */
};

/* URL flags */
#define TM_URLF_SCHEMELESS    0x0001u /* "www.x.com", "x.com/y": http:// assumed */
#define TM_URLF_DEFANGED      0x0002u /* hxxp://, [.], (.), [dot], (dot) undone */
#define TM_URLF_IP            0x0004u /* the host is an IP address */
#define TM_URLF_IP_OBFUSCATED 0x0008u /* IPv4 written in decimal, hex, octal or short form */
#define TM_URLF_IPV6          0x0010u /* IPv6 literal */
#define TM_URLF_USERINFO      0x0020u /* user[:password]@ before the host */
#define TM_URLF_IDN           0x0040u /* the host has non-ASCII or xn-- labels */
#define TM_URLF_HOST_PCT      0x0080u /* %XX escapes in the host */
#define TM_URLF_BAD           0x0100u /* no usable host, bad IDNA, bad port: normalized is raw */
#define TM_URLF_CUT           0x0200u /* longer than TM_URL_MAX_LEN, cut */
#define TM_URLF_MIXED_SCRIPT  0x0400u /* a host label mixes Latin with Cyrillic or Greek */
#define TM_URLF_MAILTO        0x0800u /* mailto: (host = the address's domain) */
#define TM_URLF_PORT          0x1000u /* a non-default port */

struct tm_url {
    struct tm_str raw;        /* as found */
    struct tm_str normalized; /* see above; NUL-terminated in the arena */
    struct tm_str scheme;     /* lower-case, no ':' ("http"); "http" when schemeless */
    struct tm_str host;       /* ASCII lower-case (punycode, dotted quad, [v6]); NUL-terminated */
    struct tm_str host_utf8;  /* the Unicode form of an IDN host, else the same as host */
    struct tm_str domain;     /* registrable domain (ASCII); NUL-terminated */
    struct tm_str userinfo;   /* as written, or empty */
    unsigned port;            /* explicit non-default port, else 0 */
    unsigned flags;           /* TM_URLF_* */
};

/*
 * tm_url_normalize - parse p[0..n) as one URL (schemes http, https, ftp,
 * mailto and any other RFC 3986 scheme; "www.x" and bare "host/path" when
 * in_flags has TM_URLF_SCHEMELESS; in_flags are or-ed into out->flags).
 * Never fails on bad input: such a URL gets TM_URLF_BAD and normalized =
 * raw. Returns TM_ENOMEM only.
 */
tm_rc tm_url_normalize(struct tm_arena *a, const unsigned char *p, size_t n, unsigned in_flags,
                       struct tm_url *out);

/*
 * tm_url_redirect_target - the URL a redirector carries one level down: the
 * value of a query parameter (url, u, q, r, target, dest, destination,
 * redirect, redirect_uri, return, returnto, next, link, goto, out, to) or a
 * path that embeds "http(s)://" or "http(s)%3A%2F%2F", percent-decoded. 1 and
 * *inner (arena) when there is one, else 0.
 */
int tm_url_redirect_target(struct tm_arena *a, const struct tm_url *u, struct tm_str *inner);

/* A URL candidate found in text. */
typedef tm_rc (*tm_url_found_fn)(void *ud, const unsigned char *p, size_t n, unsigned flags);

/*
 * tm_url_extract_text - every URL in plain text: with a scheme (http, https,
 * ftp, and the defanged hxxp/hxxps/h**p/fxp), "www." names, bare host names
 * whose last label is a known public suffix ("example.com/path",
 * "paypal.com.evil.ru"), with defanged dots ("evil[.]com", "evil(dot)com"),
 * and mail addresses (flag TM_URLF_MAILTO, passed as "mailto:addr"). URL
 * ends follow the mail readers (whitespace, <>"'`{}|\^ and trailing
 * punctuation; ')' only when unbalanced). fn gets each candidate's bytes
 * (possibly pointing into p, or into a scratch copy for defanged ones: copy
 * them) and flags (SCHEMELESS, DEFANGED, MAILTO). Stops at fn's first non-OK.
 */
tm_rc tm_url_extract_text(struct tm_arena *a, const unsigned char *p, size_t n, tm_url_found_fn fn,
                          void *ud);

/* tm_url_registrable - the registrable domain of an ASCII lower-case host (arena copy) */
struct tm_str tm_url_registrable(struct tm_arena *a, struct tm_str host);

/* tm_url_is_known_suffix - the last label of host is a public suffix (com, uk, xn--p1ai...) */
int tm_url_is_known_suffix(const unsigned char *host, size_t n);

/*
 * tm_url_brand_lookalike - the host (ASCII form) imitates a brand: one of
 * its labels, after mapping confusable characters (Cyrillic/Greek
 * homoglyphs, digits 0/1 for o/l, "rn" for "m") to their Latin skeleton,
 * equals a brand name from the built-in list (paypal, apple, microsoft ...)
 * while the label itself differs from it. Returns the brand or NULL.
 */
const char *tm_url_brand_lookalike(struct tm_arena *a, const struct tm_url *u);

const char *tm_url_source_name(enum tm_url_source s);

#endif
