/*
 * fake_dns.h - an in-memory resolver behind scanner/dns/dns.h for the SPF
 * and DMARC unit tests: the test links this instead of tm_dns. Records are
 * added by name and type; names compare case-insensitively and without a
 * trailing dot; CNAMEs are followed (a loop answers TEMPFAIL); a name
 * marked TEMPFAIL answers TEMPFAIL for every type it has no record of (the
 * openspf suite's TIMEOUT). A name with records of other types only
 * answers NODATA, an unknown name NXDOMAIN. Every lookup
 * is counted, and the budget is honoured as tm_dns does.
 */
#ifndef TM_TEST_SPF_FAKE_DNS_H
#define TM_TEST_SPF_FAKE_DNS_H

#include <stddef.h>

#include "dns/dns.h"

/* Record types besides enum tm_dns_type */
#define FAKE_CNAME    5
#define FAKE_TEMPFAIL 1000

struct tm_dns *fake_dns_new(void);

/*
 * fake_dns_add - one record: type "A", "AAAA" (data: an address), "TXT"
 * (data: the joined strings, len bytes), "MX" (data: "PREF HOST"), "PTR",
 * "CNAME" (data: a name) or "TEMPFAIL" (data unused). 0 on a bad type or
 * address.
 */
int fake_dns_add(struct tm_dns *d, const char *name, const char *type, const char *data,
                 size_t len);

/* fake_dns_txt / fake_dns_rr - fake_dns_add for C strings */
int fake_dns_txt(struct tm_dns *d, const char *name, const char *text);
int fake_dns_rr(struct tm_dns *d, const char *name, const char *type, const char *data);

/* fake_dns_load - records from a text block, one "NAME TYPE DATA" per line (DATA to the end) */
int fake_dns_load(struct tm_dns *d, const char *text);

/* fake_dns_queries - lookups answered so far (budget refusals not included) */
unsigned fake_dns_queries(const struct tm_dns *d);

/* fake_dns_asked - how many times name was asked for with type */
unsigned fake_dns_asked(const struct tm_dns *d, const char *name, enum tm_dns_type type);

#endif
