/*
 * brand.c - host labels that imitate a well-known brand (homograph and
 * typo-squat lookalikes).
 *
 * Each label of the host's Unicode form is mapped to a Latin "skeleton":
 * Cyrillic and Greek letters that look like Latin ones (in the spirit of
 * UTS#39 confusables, cut down to lower-case letters seen in phishing),
 * Latin letters with diacritics to their base letter, the digits 0 and 1
 * to o and l, then "rn" to m and "vv" to w. A label whose skeleton is a
 * brand of the built-in list while the label itself is not that brand is a
 * lookalike. Only exact skeleton matches count: "paypal-secure" is left to
 * other heuristics. Labels are bounded by TM_URL_BRAND_MAX code points.
 */
#include "url/url.h"

#include <string.h>

#include "url/url_int.h"

#define TM_URL_BRAND_MAX 64u /* code points of a label looked at */

#define B(s) TM_STR_LIT(s)
static const struct tm_str brands[] = {
    B("paypal"), B("apple"), B("icloud"), B("microsoft"), B("office365"), B("outlook"),
    B("live"), B("hotmail"), B("google"), B("gmail"), B("amazon"), B("netflix"), B("facebook"),
    B("instagram"), B("whatsapp"), B("linkedin"), B("dropbox"), B("docusign"), B("adobe"),
    B("dhl"), B("fedex"), B("ups"), B("usps"), B("chase"), B("wellsfargo"), B("bankofamerica"),
    B("citibank"), B("hsbc"), B("barclays"), B("santander"), B("americanexpress"), B("amex"),
    B("visa"), B("mastercard"), B("ebay"), B("steam"), B("steampowered"), B("coinbase"),
    B("binance"), B("blockchain"), B("yahoo"), B("twitter"), B("spotify"), B("onedrive"),
    B("sharepoint"), B("wetransfer"), B("metamask"), B("roblox"), B("irs"), B("royalmail"),
};
#undef B

/* Confusable code points and the Latin letter they pass for. */
static const struct {
    uint32_t cp;
    char to;
} confusables[] = {
    /* Cyrillic */
    {0x0430, 'a'},
    {0x0432, 'b'},
    {0x0433, 'r'},
    {0x0435, 'e'},
    {0x0451, 'e'},
    {0x043a, 'k'},
    {0x043c, 'm'},
    {0x043e, 'o'},
    {0x043f, 'n'},
    {0x0440, 'p'},
    {0x0441, 'c'},
    {0x0442, 't'},
    {0x0443, 'y'},
    {0x0445, 'x'},
    {0x044c, 'b'},
    {0x0455, 's'},
    {0x0456, 'i'},
    {0x0457, 'i'},
    {0x0458, 'j'},
    {0x04bb, 'h'},
    {0x04cf, 'l'},
    {0x04af, 'y'},
    {0x0501, 'd'},
    {0x051b, 'q'},
    {0x051d, 'w'},
    {0x0461, 'w'},
    /* Greek */
    {0x03b1, 'a'},
    {0x03b2, 'b'},
    {0x03b3, 'y'},
    {0x03b5, 'e'},
    {0x03b7, 'n'},
    {0x03b9, 'i'},
    {0x03ba, 'k'},
    {0x03bc, 'u'},
    {0x03bd, 'v'},
    {0x03bf, 'o'},
    {0x03c1, 'p'},
    {0x03c2, 'c'},
    {0x03c4, 't'},
    {0x03c5, 'u'},
    {0x03c7, 'x'},
    {0x03c9, 'w'},
    {0x03f2, 'c'},
    {0x03f3, 'j'},
    /* Latin lookalikes and letters with diacritics */
    {0x00e7, 'c'},
    {0x00f1, 'n'},
    {0x00f8, 'o'},
    {0x00fd, 'y'},
    {0x00ff, 'y'},
    {0x0131, 'i'},
    {0x0251, 'a'},
    {0x0261, 'g'},
    {0x0269, 'i'},
    {0x1d0f, 'o'},
    {0x0142, 'l'},
    {0x0111, 'd'},
};

static char
skel_char(uint32_t cp)
{
    size_t i;

    if (cp >= 'a' && cp <= 'z')
        return (char)cp;
    if (cp >= 'A' && cp <= 'Z')
        return (char)(cp + 32);
    if (cp == '0')
        return 'o';
    if (cp == '1')
        return 'l';
    if ((cp >= '2' && cp <= '9') || cp == '-' || cp == '_')
        return (char)cp;
    if (cp >= 0xe0 && cp <= 0xe5)
        return 'a';
    if (cp >= 0xe8 && cp <= 0xeb)
        return 'e';
    if (cp >= 0xec && cp <= 0xef)
        return 'i';
    if ((cp >= 0xf2 && cp <= 0xf6))
        return 'o';
    if (cp >= 0xf9 && cp <= 0xfc)
        return 'u';
    for (i = 0; i < TM_NELEM(confusables); i++)
        if (confusables[i].cp == cp)
            return confusables[i].to;
    return '?';
}

/* skeleton - the Latin skeleton of one UTF-8 label into out (NUL-terminated); 0 if too long */
static size_t
skeleton(const unsigned char *s, size_t n, char *out, size_t outsz)
{
    size_t i = 0, k = 0, r, w;

    while (i < n) {
        if (k + 1 >= outsz)
            return 0;
        out[k++] = skel_char(tm_url_utf8_next(s, n, &i));
    }
    for (r = 0, w = 0; r < k; r++) {
        if (r + 1 < k && out[r] == 'r' && out[r + 1] == 'n') {
            out[w++] = 'm';
            r++;
        } else if (r + 1 < k && out[r] == 'v' && out[r + 1] == 'v') {
            out[w++] = 'w';
            r++;
        } else {
            out[w++] = out[r];
        }
    }
    out[w] = '\0';
    return w;
}

const char *
tm_url_brand_lookalike(struct tm_arena *a, const struct tm_url *u)
{
    const unsigned char *as = u->host.p, *us = u->host_utf8.p;
    size_t an = u->host.len, un = u->host_utf8.len, ai = 0, ui = 0, ae, ue, b, skl;
    char sk[TM_URL_BRAND_MAX * 2];

    (void)a;
    if (as == NULL || us == NULL || an == 0 || (u->flags & (TM_URLF_IP | TM_URLF_BAD)))
        return NULL;
    while (ai < an && ui < un) {
        for (ae = ai; ae < an && as[ae] != '.'; ae++)
            ;
        for (ue = ui; ue < un && us[ue] != '.'; ue++)
            ;
        if ((skl = skeleton(us + ui, ue - ui, sk, sizeof(sk))) > 0) {
            for (b = 0; b < TM_NELEM(brands); b++) {
                size_t bl = brands[b].len;
                if (skl == bl && memcmp(sk, brands[b].p, bl) == 0 &&
                    !(ae - ai == bl && memcmp(as + ai, brands[b].p, bl) == 0))
                    return (const char *)brands[b].p;
            }
        }
        ai = ae + 1;
        ui = ue + 1;
    }
    return NULL;
}
