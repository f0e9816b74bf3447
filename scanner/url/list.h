/*
 * list.h - host/domain lists for URL blocking and allowing.
 *
 * File format: one entry per line; '#' starts a comment (whole line or
 * after whitespace); blank lines ignored; an entry is a host name or domain
 * (IDN accepted and converted to punycode, trailing dot dropped, case
 * folded), an IPv4/IPv6 address, or a URL whose host is taken
 * ("https://evil.example/path" lists evil.example), optionally prefixed
 * "*." or "." (same meaning: the domain and its subdomains — which is what
 * every entry means anyway). Hosts-file lines ("0.0.0.0 evil.example",
 * "127.0.0.1 evil.example", the form many published lists use) give their
 * name; a hosts file's "localhost" lines give nothing. Lines that are not a
 * valid host are counted in
 * `bad` with the first few reported, never fatal.
 *
 * The set is an open-addressing hash table of 64-bit hashes with the names
 * in one string pool; immutable after loading and shared by threads.
 * Lookup of a host tries the host, then each parent domain (at every
 * label boundary, the registrable domain among them), so "a.b.evil.example"
 * is found by an entry "evil.example".
 */
#ifndef TM_URL_LIST_H
#define TM_URL_LIST_H

#include <stddef.h>

#include "core/core.h"

struct tm_hostset;

struct tm_hostset_stats {
    size_t entries;    /* distinct entries */
    size_t lines;      /* lines read */
    size_t bad;        /* lines rejected */
    size_t bytes;      /* memory held */
    double load_ms;
};

struct tm_hostset *tm_hostset_new(void);
void tm_hostset_free(struct tm_hostset *s);

/*
 * tm_hostset_load - add the entries of one file. err gets the first
 * problem ("file:line: why") when lines were rejected or the file cannot be
 * read. TM_EIO when the file cannot be read; TM_OK otherwise.
 */
tm_rc tm_hostset_load(struct tm_hostset *s, const char *path, char *err, size_t errlen);

/* tm_hostset_add - add one entry (same rules as a file line); TM_EINVAL when not a host */
tm_rc tm_hostset_add(struct tm_hostset *s, const char *entry, size_t n);

/*
 * tm_hostset_match - the entry that covers host (ASCII lower-case, as
 * tm_url_normalize gives it): the host itself or a parent domain. Returns
 * the matching entry (owned by the set) or NULL.
 */
const char *tm_hostset_match(const struct tm_hostset *s, const char *host, size_t n);

void tm_hostset_stats(const struct tm_hostset *s, struct tm_hostset_stats *st);

#endif
