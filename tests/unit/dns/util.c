/* util.c - helpers shared by the tests of tests/unit/dns (see suites.h) */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/core.h"
#include "dns/dns_impl.h"
#include "suites.h"

#define FMT_MAX (256u << 10)

struct tm_dns *
dns_zone(const char *text)
{
    struct tm_dns *d = NULL;
    char err[256];

    if (tm_dns_new_zone_mem(text, strlen(text), "t.zone", NULL, &d, err, sizeof(err)) != TM_OK) {
        tm_test_fail(__FILE__, __LINE__, "zone did not load: %s", err);
        return NULL;
    }
    return d;
}

const char *
dns_fmt(struct tm_arena *a, const struct tm_dns_rrset *rs, enum tm_dns_type t)
{
    char *out = tm_arena_alloc(a, FMT_MAX), buf[INET6_ADDRSTRLEN];
    size_t len, i, k;

    if (out == NULL)
        return "(arena)";
    len = (size_t)snprintf(out, FMT_MAX, "%s", tm_dns_status_name(rs->status));
    for (i = 0; i < rs->n && len < FMT_MAX - 600; i++) {
        const struct tm_dns_rr *rr = &rs->rr[i];

        out[len++] = ' ';
        if (t == TM_DNS_A || t == TM_DNS_AAAA) {
            inet_ntop(rr->family == 4 ? AF_INET : AF_INET6, rr->addr, buf, sizeof(buf));
            len += (size_t)snprintf(out + len, FMT_MAX - len, "%s", buf);
            continue;
        }
        if (t == TM_DNS_MX)
            len += (size_t)snprintf(out + len, FMT_MAX - len, "%u:", rr->pref);
        for (k = 0; k < rr->len && len < FMT_MAX - 8; k++) {
            unsigned char c = (unsigned char)rr->text[k];

            if (c < 0x20 || c >= 0x7f)
                len += (size_t)snprintf(out + len, FMT_MAX - len, "\\x%02x", c);
            else
                out[len++] = (char)c;
        }
        if (rr->text[rr->len] != '\0')
            len += (size_t)snprintf(out + len, FMT_MAX - len, "(NOT NUL-TERMINATED)");
    }
    out[len] = '\0';
    return out;
}

const char *
dns_ans(struct tm_dns *d, struct tm_arena *a, const char *name, enum tm_dns_type t)
{
    struct tm_dns_rrset rs;

    if (d == NULL)
        return "(no resolver)";
    if (tm_dns_lookup(d, a, name, t, NULL, &rs) != TM_OK)
        return "(lookup error)";
    return dns_fmt(a, &rs, t);
}
