/*
 * milter.c - the milter v6 server session of milter.h, sans I/O.
 *
 * Implements protocols.md 1.1-1.6 and the server subset of 1.12: framing
 * (u32 big-endian length = 1 + payload, then the command byte), OPTNEG
 * (version min(6, offered), actions and protocol bits as subsets of what the
 * MTA offers, macro lists when SETSYMLIST is offered), the commands C H M R
 * T L N B E U with a CONTINUE for each unless its NR_* bit was negotiated,
 * D (macros, libmilter scoping), A, Q, K, and the end-of-message replies.
 *
 * Invariants: inoff <= inlen <= incap <= max_packet + 5; msglen <=
 * max_message; outlen <= max_output; nmacros[s] <= max_macros; nrcpt <=
 * max_rcpts; nesmtp <= max_esmtp_args; every stored string is at most
 * max_string (macros: max_macro_len) bytes plus its NUL. Packets longer
 * than max_cmd (max_packet for BODY and BODYEOB) or of length 0 are
 * TM_EPROTO before any payload is buffered.
 */
#include "proto/milter.h"

#include <stdio.h>
#include <string.h>

#include "core/str.h"
#include "proto/headers.h"
#include "verdict/verdict.h"

#define MILTER_VERSION 6u
#define HOLD_EXTRA     5u /* the packet header beside max_packet */
#define REPLY_MAX      512u
#define QREASON_MAX    100u
#define SPAM_PREFIX    "[SPAM] "
#define DEFAULT_SOFT   "451 4.7.1 Try again later"
#define DEFAULT_REJECT "550 5.7.1 Message rejected by content policy"

/* Macro stages in MTA order; a repeat of stage s forgets stages s+1..E ('U' stands alone). */
static const char stage_codes[TM_MILTER_NSTAGES] = {'C', 'H', 'M', 'R', 'T',
                                                    'L', 'N', 'B', 'E', 'U'};
#define STAGE_MAIL 2
#define STAGE_EOM  8
#define STAGE_UNKN 9

struct piece {
    const void *p;
    size_t n;
};

void
tm_milter_cfg_default(struct tm_milter_cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->max_packet = 1u << 20;
    c->max_cmd = 64u << 10;
    c->max_message = 32u << 20;
    c->max_macros = 64;
    c->max_macro_len = 1024;
    c->max_rcpts = 1000;
    c->max_esmtp_args = 16;
    c->max_string = 1024;
    c->max_output = 1u << 20;
    c->actions = TM_SMFIF_ADDHDRS | TM_SMFIF_CHGHDRS | TM_SMFIF_QUARANTINE;
    c->no_reply = 1;
    c->request_macros = 1;
}

tm_rc
tm_milter_init(struct tm_milter *m, const struct tm_milter_cfg *cfg)
{
    memset(m, 0, sizeof(*m));
    if (cfg == NULL)
        tm_milter_cfg_default(&m->cfg);
    else
        m->cfg = *cfg;
    cfg = &m->cfg;
    if (cfg->max_packet < 65535 || cfg->max_packet > (1u << 30) || cfg->max_cmd < 1024 ||
        cfg->max_cmd > cfg->max_packet || cfg->max_output < (64u << 10) || cfg->max_message == 0 ||
        cfg->max_macros == 0 || cfg->max_macro_len == 0 || cfg->max_rcpts == 0 ||
        cfg->max_string == 0)
        return TM_EINVAL;
    return TM_OK;
}

/* ---- small helpers ------------------------------------------------------ */

/* set_str - replace *dst by a copy of n bytes clipped at max (counted in clipped) */
static void
set_str(struct tm_milter *m, char **dst, const unsigned char *p, size_t n, size_t max)
{
    if (n > max) {
        n = max;
        m->clipped++;
    }
    tm_free(*dst);
    *dst = tm_xstrdup_n((const char *)p, n);
}

/*
 * next_str - the NUL-terminated string at p[*off..n); its length in *len and
 * *off moved past the NUL. 0 when there is no NUL before n.
 */
static int
next_str(const unsigned char *p, size_t n, size_t *off, const unsigned char **s, size_t *len)
{
    const unsigned char *z;

    if (*off >= n)
        return 0;
    if ((z = memchr(p + *off, 0, n - *off)) == NULL)
        return 0;
    *s = p + *off;
    *len = (size_t)(z - *s);
    *off += *len + 1;
    return 1;
}

/* ---- output ------------------------------------------------------------- */

/*
 * reply - queue one packet: cmd and the pieces as payload. Over max_output
 * the MTA is not reading our replies while it keeps sending: TM_EPROTO.
 */
static tm_rc
reply(struct tm_milter *m, unsigned char cmd, const struct piece *pc, size_t npc)
{
    size_t i, plen = 0, need;
    unsigned char *w;

    for (i = 0; i < npc; i++)
        plen += pc[i].n; /* each piece is bounded by max_cmd-sized data: no wrap */
    need = 5 + plen;
    if (plen > UINT32_MAX - 1 || need > m->cfg.max_output - m->outlen) {
        m->dead = 1;
        return TM_EPROTO;
    }
    if (m->outlen + need > m->outcap) {
        size_t cap = m->outcap ? m->outcap : 256;
        while (cap < m->outlen + need)
            cap *= 2;
        if (cap > m->cfg.max_output)
            cap = m->cfg.max_output;
        m->out = tm_xrealloc(m->out, cap);
        m->outcap = cap;
    }
    w = m->out + m->outlen;
    tm_put_be32(w, (uint32_t)(plen + 1));
    w[4] = cmd;
    w += 5;
    for (i = 0; i < npc; i++) {
        if (pc[i].n > 0)
            memcpy(w, pc[i].p, pc[i].n);
        w += pc[i].n;
    }
    m->outlen += need;
    return TM_OK;
}

static tm_rc
reply_empty(struct tm_milter *m, unsigned char cmd)
{
    return reply(m, cmd, NULL, 0);
}

/* reply_continue - CONTINUE unless the NR bit for this command was negotiated */
static tm_rc
reply_continue(struct tm_milter *m, uint32_t nr_bit)
{
    if (m->protocol & nr_bit)
        return TM_OK;
    return reply_empty(m, TM_SMFIR_CONTINUE);
}

const unsigned char *
tm_milter_output(const struct tm_milter *m, size_t *len)
{
    *len = m->outlen;
    return m->out;
}

void
tm_milter_output_consume(struct tm_milter *m, size_t n)
{
    TM_ASSERT(n <= m->outlen);
    if (n == 0)
        return;
    memmove(m->out, m->out + n, m->outlen - n);
    m->outlen -= n;
}

/* ---- message and state resets ----------------------------------------- */

static void
msg_append(struct tm_milter *m, const void *p, size_t n)
{
    size_t room = m->cfg.max_message - m->msglen;

    if (m->truncated || n == 0)
        return;
    if (n > room) {
        n = room;
        m->truncated = 1;
    }
    if (m->msglen + n > m->msgcap) {
        size_t cap = m->msgcap ? m->msgcap : 4096;
        while (cap < m->msglen + n)
            cap = cap > m->cfg.max_message / 2 ? m->cfg.max_message : cap * 2;
        m->msg = tm_xrealloc(m->msg, cap);
        m->msgcap = cap;
    }
    memcpy(m->msg + m->msglen, p, n);
    m->msglen += n;
}

static void
clear_stage(struct tm_milter *m, size_t s)
{
    size_t i;

    for (i = 0; i < m->nmacros[s]; i++) {
        tm_free(m->macros[s][i].name);
        tm_free(m->macros[s][i].value);
    }
    m->nmacros[s] = 0;
}

static void
free_strv(char **v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        tm_free(v[i]);
}

/* reset_message - forget sender, recipients and content (a new MAIL, ABORT, a verdict) */
static void
reset_message(struct tm_milter *m)
{
    tm_free(m->env.mail_from);
    m->env.mail_from = NULL;
    free_strv(m->env.esmtp, m->env.nesmtp);
    m->env.nesmtp = 0;
    free_strv(m->env.rcpts, m->env.nrcpt);
    m->env.nrcpt = 0;
    tm_free(m->subject);
    m->subject = NULL;
    m->msglen = 0;
    m->nheaders = 0;
    m->truncated = 0;
    m->in_message = 0;
    m->eoh_seen = 0;
    m->eom_pending = 0;
}

/* end_message - reset_message plus the macros of the message stages (M..E) */
static void
end_message(struct tm_milter *m)
{
    size_t s;

    reset_message(m);
    for (s = STAGE_MAIL; s <= STAGE_EOM; s++)
        clear_stage(m, s);
}

/* reset_connection - QUIT_NC: back to the state right after OPTNEG */
static void
reset_connection(struct tm_milter *m)
{
    size_t s;

    end_message(m);
    for (s = 0; s < TM_MILTER_NSTAGES; s++)
        clear_stage(m, s);
    tm_free(m->env.client_name);
    tm_free(m->env.client_addr);
    tm_free(m->env.helo);
    m->env.client_name = m->env.client_addr = m->env.helo = NULL;
    m->env.client_port = 0;
    m->env.family = 0;
}

void
tm_milter_free(struct tm_milter *m)
{
    size_t s;

    reset_connection(m);
    for (s = 0; s < TM_MILTER_NSTAGES; s++)
        tm_free(m->macros[s]);
    tm_free(m->env.esmtp);
    tm_free(m->env.rcpts);
    tm_free(m->in);
    tm_free(m->out);
    tm_free(m->msg);
    memset(m, 0, sizeof(*m));
}

/* ---- commands ----------------------------------------------------------- */

/*
 * do_optneg - answer 'O': version min(6, offered) (MTAs below 2 are
 * refused, as libmilter does), actions and protocol bits as subsets of the
 * offer, and our macro lists when the MTA lets us set them (SETSYMLIST).
 */
static tm_rc
do_optneg(struct tm_milter *m, const unsigned char *p, size_t n)
{
    static const struct {
        uint32_t stage;
        const char *names;
    } lists[] = {
        {TM_SMFIM_CONNECT, "{client_addr} {client_port} {client_name} j {daemon_name}"},
        {TM_SMFIM_ENVFROM, "i {auth_authen} {mail_addr}"},
        {TM_SMFIM_ENVRCPT, "{rcpt_addr}"},
        {TM_SMFIM_EOM, "i"},
    };
    unsigned char head[12], stages[TM_NELEM(lists)][4];
    struct piece pc[1 + 2 * TM_NELEM(lists)];
    uint32_t ver, act, proto, want;
    size_t i, npc = 0;

    if (m->negotiated || n < 12)
        return TM_EPROTO;
    ver = tm_get_be32(p);
    act = tm_get_be32(p + 4);
    proto = tm_get_be32(p + 8);
    if (ver < 2)
        return TM_EPROTO;
    m->version = ver < MILTER_VERSION ? ver : MILTER_VERSION;
    m->actions = m->cfg.actions & act & ~TM_SMFIF_SETSYMLIST;
    want = TM_SMFIP_NOUNKNOWN | TM_SMFIP_NODATA | (m->cfg.no_reply ? TM_SMFIP_NR_ALL : 0);
    m->protocol = want & proto;
    if (m->cfg.request_macros && (act & TM_SMFIF_SETSYMLIST) && m->version >= 6)
        m->actions |= TM_SMFIF_SETSYMLIST;
    tm_put_be32(head, m->version);
    tm_put_be32(head + 4, m->actions);
    tm_put_be32(head + 8, m->protocol);
    pc[npc].p = head;
    pc[npc++].n = sizeof(head);
    if (m->actions & TM_SMFIF_SETSYMLIST) {
        for (i = 0; i < TM_NELEM(lists); i++) {
            tm_put_be32(stages[i], lists[i].stage);
            pc[npc].p = stages[i];
            pc[npc++].n = 4;
            pc[npc].p = lists[i].names;
            pc[npc++].n = strlen(lists[i].names) + 1;
        }
    }
    m->negotiated = 1;
    return reply(m, TM_SMFIR_OPTNEG, pc, npc);
}

/*
 * do_macro - 'D': stage byte, then name\0value\0 pairs. The stage's old
 * values and those of every later stage are forgotten (libmilter). Stages
 * we do not know are ignored; pairs over the count or size bound and an
 * unterminated tail are dropped and counted.
 */
static tm_rc
do_macro(struct tm_milter *m, const unsigned char *p, size_t n)
{
    const unsigned char *name, *val, *hit;
    size_t s, last, nlen, vlen, off = 1;

    if (n == 0 || p[0] == 0 || (hit = memchr(stage_codes, p[0], sizeof(stage_codes))) == NULL)
        return TM_OK;
    s = (size_t)(hit - (const unsigned char *)stage_codes);
    last = s == STAGE_UNKN ? s : STAGE_EOM;
    for (size_t i = s; i <= last; i++)
        clear_stage(m, i);
    if (m->macros[s] == NULL)
        m->macros[s] = tm_xcalloc(m->cfg.max_macros, sizeof(*m->macros[s]));
    while (next_str(p, n, &off, &name, &nlen)) {
        if (!next_str(p, n, &off, &val, &vlen))
            break;
        if (m->nmacros[s] >= m->cfg.max_macros || nlen > m->cfg.max_macro_len ||
            vlen > m->cfg.max_macro_len) {
            m->clipped++;
            continue;
        }
        m->macros[s][m->nmacros[s]].name = tm_xstrdup_n((const char *)name, nlen);
        m->macros[s][m->nmacros[s]].value = tm_xstrdup_n((const char *)val, vlen);
        m->nmacros[s]++;
    }
    if (off < n)
        m->clipped++;
    return TM_OK;
}

/* do_connect - 'C': host\0, family, and unless family 'U': u16 port, address\0 */
static tm_rc
do_connect(struct tm_milter *m, const unsigned char *p, size_t n)
{
    const unsigned char *host, *addr;
    size_t hlen, alen, off = 0;
    unsigned char fam;
    unsigned port;

    if (!next_str(p, n, &off, &host, &hlen) || off >= n)
        return TM_EPROTO;
    fam = p[off++];
    if (fam != '4' && fam != '6' && fam != 'L' && fam != 'U')
        return TM_EPROTO;
    set_str(m, &m->env.client_name, host, hlen, m->cfg.max_string);
    tm_free(m->env.client_addr);
    m->env.client_addr = NULL;
    m->env.client_port = 0;
    m->env.family = (char)fam;
    if (fam != 'U') {
        if (n - off < 2)
            return TM_EPROTO;
        port = (unsigned)p[off] << 8 | p[off + 1];
        off += 2;
        if (!next_str(p, n, &off, &addr, &alen))
            return TM_EPROTO;
        if (alen >= 5 && memcmp(addr, "IPv6:", 5) == 0) {
            addr += 5;
            alen -= 5;
        }
        m->env.client_port = port;
        set_str(m, &m->env.client_addr, addr, alen, m->cfg.max_string);
    }
    return reply_continue(m, TM_SMFIP_NR_CONN);
}

static tm_rc
do_helo(struct tm_milter *m, const unsigned char *p, size_t n)
{
    const unsigned char *s;
    size_t len, off = 0;

    if (!next_str(p, n, &off, &s, &len))
        return TM_EPROTO;
    set_str(m, &m->env.helo, s, len, m->cfg.max_string);
    return reply_continue(m, TM_SMFIP_NR_HELO);
}

/* do_mail - 'M': argv, the sender then ESMTP parameters; a new message starts */
static tm_rc
do_mail(struct tm_milter *m, const unsigned char *p, size_t n)
{
    const unsigned char *s;
    size_t len, off = 0;

    reset_message(m);
    if (!next_str(p, n, &off, &s, &len))
        return TM_EPROTO;
    m->in_message = 1;
    set_str(m, &m->env.mail_from, s, len, m->cfg.max_string);
    while (next_str(p, n, &off, &s, &len)) {
        if (m->env.nesmtp >= m->cfg.max_esmtp_args) {
            m->clipped++;
            continue;
        }
        if (m->env.esmtp == NULL && m->cfg.max_esmtp_args > 0)
            m->env.esmtp = tm_xcalloc(m->cfg.max_esmtp_args, sizeof(char *));
        m->env.esmtp[m->env.nesmtp] = NULL;
        set_str(m, &m->env.esmtp[m->env.nesmtp], s, len, m->cfg.max_string);
        m->env.nesmtp++;
    }
    return reply_continue(m, TM_SMFIP_NR_MAIL);
}

/* do_rcpt - 'R': argv, one recipient then its ESMTP parameters (not kept) */
static tm_rc
do_rcpt(struct tm_milter *m, const unsigned char *p, size_t n)
{
    const unsigned char *s;
    size_t len, off = 0;

    if (!next_str(p, n, &off, &s, &len))
        return TM_EPROTO;
    m->in_message = 1;
    if (m->env.nrcpt >= m->cfg.max_rcpts) {
        m->clipped++;
    } else {
        if (m->env.rcpts == NULL)
            m->env.rcpts = tm_xcalloc(m->cfg.max_rcpts, sizeof(char *));
        m->env.rcpts[m->env.nrcpt] = NULL;
        set_str(m, &m->env.rcpts[m->env.nrcpt], s, len, m->cfg.max_string);
        m->env.nrcpt++;
    }
    return reply_continue(m, TM_SMFIP_NR_RCPT);
}

static int
is_subject(const unsigned char *p, size_t n)
{
    static const char subj[] = "subject";
    size_t i;

    if (n != sizeof(subj) - 1)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (c != (unsigned char)subj[i])
            return 0;
    }
    return 1;
}

/*
 * do_header - 'L': name\0value\0, appended as "name: value\r\n" with each
 * bare LF of a folded value turned into CRLF (Postfix sends LF only).
 */
static tm_rc
do_header(struct tm_milter *m, const unsigned char *p, size_t n)
{
    const unsigned char *name, *val;
    size_t nlen, vlen, off = 0, i, start = 0;

    if (!next_str(p, n, &off, &name, &nlen) || !next_str(p, n, &off, &val, &vlen))
        return TM_EPROTO;
    m->in_message = 1;
    m->nheaders++;
    if (m->subject == NULL && is_subject(name, nlen))
        m->subject = tm_xstrdup_n((const char *)val, vlen);
    msg_append(m, name, nlen);
    msg_append(m, (m->protocol & TM_SMFIP_HDR_LEADSPC) ? ":" : ": ",
               (m->protocol & TM_SMFIP_HDR_LEADSPC) ? 1 : 2);
    for (i = 0; i < vlen; i++) {
        if (val[i] == '\n' && (i == 0 || val[i - 1] != '\r')) {
            msg_append(m, val + start, i - start);
            msg_append(m, "\r\n", 2);
            start = i + 1;
        }
    }
    msg_append(m, val + start, vlen - start);
    msg_append(m, "\r\n", 2);
    return reply_continue(m, TM_SMFIP_NR_HDR);
}

/* end_headers - the blank line between header and body, once */
static void
end_headers(struct tm_milter *m)
{
    if (!m->eoh_seen) {
        msg_append(m, "\r\n", 2);
        m->eoh_seen = 1;
    }
}

static tm_rc
do_body(struct tm_milter *m, const unsigned char *p, size_t n)
{
    m->in_message = 1;
    end_headers(m);
    msg_append(m, p, n);
    return reply_continue(m, TM_SMFIP_NR_BODY);
}

/* dispatch - one whole packet; the caller has checked its length */
static tm_rc
dispatch(struct tm_milter *m, unsigned char cmd, const unsigned char *p, size_t n, unsigned *events)
{
    if (cmd == TM_SMFIC_OPTNEG)
        return do_optneg(m, p, n);
    if (!m->negotiated)
        return TM_EPROTO;
    switch (cmd) {
    case TM_SMFIC_MACRO:
        return do_macro(m, p, n);
    case TM_SMFIC_CONNECT:
        return do_connect(m, p, n);
    case TM_SMFIC_HELO:
        return do_helo(m, p, n);
    case TM_SMFIC_MAIL:
        return do_mail(m, p, n);
    case TM_SMFIC_RCPT:
        return do_rcpt(m, p, n);
    case TM_SMFIC_DATA:
        m->in_message = 1;
        return reply_continue(m, TM_SMFIP_NR_DATA);
    case TM_SMFIC_HEADER:
        return do_header(m, p, n);
    case TM_SMFIC_EOH:
        m->in_message = 1;
        end_headers(m);
        return reply_continue(m, TM_SMFIP_NR_EOH);
    case TM_SMFIC_BODY:
        return do_body(m, p, n);
    case TM_SMFIC_BODYEOB:
        /* libmilter semantics: a payload is a last body chunk */
        end_headers(m);
        msg_append(m, p, n);
        m->eom_pending = 1;
        *events |= TM_MILTER_EV_EOM;
        return TM_OK;
    case TM_SMFIC_ABORT:
        if (m->in_message)
            *events |= TM_MILTER_EV_ABORT;
        end_message(m);
        return TM_OK;
    case TM_SMFIC_QUIT:
        m->quit = 1;
        *events |= TM_MILTER_EV_QUIT;
        return TM_OK;
    case TM_SMFIC_QUIT_NC:
        reset_connection(m);
        return TM_OK;
    case TM_SMFIC_UNKNOWN:
        return reply_continue(m, TM_SMFIP_NR_UNKN);
    default:
        return TM_EPROTO;
    }
}

/* ---- framing ------------------------------------------------------------ */

/* in_take - move up to `want` bytes of *p into the input buffer */
static void
in_take(struct tm_milter *m, const unsigned char **p, size_t *n, size_t want)
{
    size_t k = want < *n ? want : *n;

    if (k == 0)
        return;
    if (m->inoff > 0 && m->inlen + k > m->incap) {
        memmove(m->in, m->in + m->inoff, m->inlen - m->inoff);
        m->inlen -= m->inoff;
        m->inoff = 0;
    }
    if (m->inlen + k > m->incap) {
        size_t cap = m->incap ? m->incap : 1024;
        size_t max = m->cfg.max_packet + HOLD_EXTRA;
        while (cap < m->inlen + k)
            cap = cap > max / 2 ? max : cap * 2;
        TM_ASSERT(m->inlen + k <= cap);
        m->in = tm_xrealloc(m->in, cap);
        m->incap = cap;
    }
    memcpy(m->in + m->inlen, *p, k);
    m->inlen += k;
    *p += k;
    *n -= k;
}

/*
 * next_packet - complete the packet at in[inoff] from *p: TM_OK with the
 * packet whole in the buffer, TM_EAGAIN when *p ran out first, TM_EPROTO on
 * a length of 0 or over our limits (checked before the payload is read).
 */
static tm_rc
next_packet(struct tm_milter *m, const unsigned char **p, size_t *n, size_t *plen)
{
    size_t avail = m->inlen - m->inoff, max;
    const unsigned char *h;
    uint32_t len;

    if (avail < 5) {
        in_take(m, p, n, 5 - avail);
        avail = m->inlen - m->inoff;
        if (avail < 5)
            return TM_EAGAIN;
    }
    h = m->in + m->inoff;
    len = tm_get_be32(h);
    max = (h[4] == TM_SMFIC_BODY || h[4] == TM_SMFIC_BODYEOB) ? m->cfg.max_packet : m->cfg.max_cmd;
    if (len == 0 || (size_t)len - 1 > max)
        return TM_EPROTO;
    *plen = (size_t)len - 1;
    if (avail < 5 + *plen) {
        in_take(m, p, n, 5 + *plen - avail);
        if (m->inlen - m->inoff < 5 + *plen)
            return TM_EAGAIN;
    }
    return TM_OK;
}

/* hold - keep bytes that arrive while a verdict is pending, bounded */
static tm_rc
hold(struct tm_milter *m, const unsigned char *p, size_t n)
{
    if (n > m->cfg.max_packet + HOLD_EXTRA - (m->inlen - m->inoff))
        return TM_EPROTO;
    in_take(m, &p, &n, n);
    return TM_OK;
}

tm_rc
tm_milter_feed(struct tm_milter *m, const unsigned char *p, size_t n, unsigned *events)
{
    size_t plen;
    tm_rc rc;

    *events = 0;
    if (m->dead)
        return TM_EPROTO;
    for (;;) {
        if (m->quit)
            return TM_OK; /* nothing follows QUIT; ignore trailing bytes */
        if (m->eom_pending) {
            if (n == 0)
                return TM_OK;
            if ((rc = hold(m, p, n)) != TM_OK)
                break;
            return TM_OK;
        }
        rc = next_packet(m, &p, &n, &plen);
        if (rc == TM_EAGAIN)
            return TM_OK;
        if (rc != TM_OK)
            break;
        rc = dispatch(m, m->in[m->inoff + 4], m->in + m->inoff + 5, plen, events);
        m->inoff += 5 + plen;
        if (m->inoff == m->inlen)
            m->inoff = m->inlen = 0;
        if (rc != TM_OK)
            break;
    }
    m->dead = 1;
    return rc;
}

/* ---- accessors ---------------------------------------------------------- */

void
tm_milter_message(const struct tm_milter *m, const unsigned char **p, size_t *len)
{
    *p = m->msg != NULL ? m->msg : (const unsigned char *)"";
    *len = m->msglen;
}

/* bare - name without surrounding braces */
static void
bare(const char *s, size_t *off, size_t *len)
{
    size_t n = strlen(s);

    *off = 0;
    if (n >= 2 && s[0] == '{' && s[n - 1] == '}') {
        *off = 1;
        n -= 2;
    }
    *len = n;
}

const char *
tm_milter_macro(const struct tm_milter *m, const char *name)
{
    size_t qo, ql, so, sl, i, k;

    bare(name, &qo, &ql);
    for (k = TM_MILTER_NSTAGES; k-- > 0;) {
        for (i = m->nmacros[k]; i-- > 0;) {
            const char *mn = m->macros[k][i].name;
            bare(mn, &so, &sl);
            if (sl == ql && memcmp(mn + so, name + qo, ql) == 0)
                return m->macros[k][i].value;
        }
    }
    return NULL;
}

const char *
tm_milter_queue_id(const struct tm_milter *m)
{
    return tm_milter_macro(m, "i");
}

const char *
tm_milter_auth_user(const struct tm_milter *m)
{
    return tm_milter_macro(m, "{auth_authen}");
}

/* ---- end of message ----------------------------------------------------- */

/*
 * reply_code_ok - a one-line SMTP reply that Postfix accepts for REPLYCODE:
 * three digits starting with `first`, then nothing or a space and text; an
 * enhanced code after it must have the same class; no control bytes.
 */
static int
reply_code_ok(const char *s, char first)
{
    size_t i, n;

    if (s == NULL || (n = strlen(s)) > REPLY_MAX || n < 3 || s[0] != first)
        return 0;
    if (s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9')
        return 0;
    if (n > 3 && s[3] != ' ')
        return 0;
    if (n > 5 && s[4] >= '0' && s[4] <= '9' && s[5] == '.' && s[4] != first)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
            return 0;
    return 1;
}

/* reply_code - REPLYCODE with text s (or dflt when s is not valid), '%' doubled */
static tm_rc
reply_code(struct tm_milter *m, const char *s, const char *dflt, char first)
{
    char buf[2 * REPLY_MAX + 1];
    struct piece pc;
    size_t i, o = 0;

    if (!reply_code_ok(s, first))
        s = dflt;
    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] == '%')
            buf[o++] = '%';
        buf[o++] = s[i];
    }
    buf[o++] = '\0';
    pc.p = buf;
    pc.n = o;
    return reply(m, TM_SMFIR_REPLYCODE, &pc, 1);
}

static tm_rc
reply_header(struct tm_milter *m, unsigned char cmd, uint32_t idx, const char *name,
             const char *value, size_t vlen)
{
    unsigned char ib[4];
    struct piece pc[3];
    size_t npc = 0;

    if (cmd == TM_SMFIR_CHGHEADER || cmd == TM_SMFIR_INSHEADER) {
        tm_put_be32(ib, idx);
        pc[npc].p = ib;
        pc[npc++].n = 4;
    }
    pc[npc].p = name;
    pc[npc++].n = strlen(name) + 1;
    pc[npc].p = value;
    pc[npc++].n = vlen + 1; /* value is NUL-terminated */
    return reply(m, cmd, pc, npc);
}

/* insert_header - INSHEADER at the top, the value's CRLF folding made bare LF (as milters send) */
static tm_rc
insert_header(struct tm_milter *m, const struct tm_verdict_header *h)
{
    char *lf = tm_xmalloc(strlen(h->value) + 1);
    size_t k = tm_proto_lf_folding(lf, h->value);
    tm_rc rc;

    rc = reply_header(m, TM_SMFIR_INSHEADER, 0, h->name, lf, k);
    tm_free(lf);
    return rc;
}

/*
 * new_subject - "[SPAM] " + the first Subject as received (tm_xmalloc'd), or
 * NULL when it already starts so or the granted actions cannot change it.
 * *add: there was no Subject, so it is added ("[SPAM]") rather than changed.
 */
static char *
new_subject(const struct tm_milter *m, int *add)
{
    size_t plen = strlen(SPAM_PREFIX), olen;
    char *s;

    *add = m->subject == NULL;
    if (*add)
        return (m->actions & TM_SMFIF_ADDHDRS) ? tm_xstrdup("[SPAM]") : NULL;
    if (!(m->actions & TM_SMFIF_CHGHDRS) || strncmp(m->subject, SPAM_PREFIX, plen) == 0)
        return NULL;
    olen = strlen(m->subject);
    s = tm_xmalloc(plen + olen + 1);
    memcpy(s, SPAM_PREFIX, plen);
    memcpy(s + plen, m->subject, olen + 1);
    return s;
}

/*
 * accept_with_headers - QUARANTINE (for that action), the spam headers,
 * the Subject change (REWRITE_SUBJECT), ACCEPT. The headers are made
 * before anything is queued, so TM_ENOMEM leaves the output untouched.
 */
static tm_rc
accept_with_headers(struct tm_milter *m, const struct tm_verdict *v, struct tm_task *t)
{
    struct tm_proto_header h[TM_PROTO_MAX_HEADERS];
    char reason[QREASON_MAX + 1];
    char *subj = NULL;
    size_t nh = 0, i;
    int add = 0;
    tm_rc rc = TM_OK;

    if (t != NULL && (m->actions & TM_SMFIF_ADDHDRS)) {
        if ((nh = tm_proto_spam_headers(t, v, 0, h)) == 0)
            return TM_ENOMEM;
    }
    if (v->action == TM_ACT_QUARANTINE && (m->actions & TM_SMFIF_QUARANTINE)) {
        struct piece pc;
        if (snprintf(reason, sizeof(reason), "Tamis: score %.1f%s%s", v->score,
                     v->forced_by ? ", " : "", v->forced_by ? v->forced_by : "") < 0)
            reason[0] = '\0';
        pc.p = reason;
        pc.n = strlen(reason) + 1;
        if ((rc = reply(m, TM_SMFIR_QUARANTINE, &pc, 1)) != TM_OK)
            return rc;
    }
    /* forged Authentication-Results first, the last one first (indices stay valid),
     * before ours is inserted above them */
    for (i = (m->actions & TM_SMFIF_CHGHDRS) ? v->nremove_ar : 0; i > 0; i--)
        if ((rc = reply_header(m, TM_SMFIR_CHGHEADER, v->remove_ar[i - 1], "Authentication-Results",
                               "", 0)) != TM_OK)
            return rc;
    /* inserted at index 0 bottom-up, so that they end up in v->prepend's order */
    for (i = (m->actions & TM_SMFIF_ADDHDRS) ? v->nprepend : 0; i > 0; i--)
        if ((rc = insert_header(m, &v->prepend[i - 1])) != TM_OK)
            return rc;
    for (i = 0; i < nh; i++)
        if ((rc = reply_header(m, TM_SMFIR_ADDHEADER, 0, h[i].name, h[i].value,
                               strlen(h[i].value))) != TM_OK)
            return rc;
    if (v->action == TM_ACT_REWRITE_SUBJECT && (subj = new_subject(m, &add)) != NULL) {
        rc = reply_header(m, add ? TM_SMFIR_ADDHEADER : TM_SMFIR_CHGHEADER, 1, "Subject", subj,
                          strlen(subj));
        tm_free(subj);
        if (rc != TM_OK)
            return rc;
    }
    return reply_empty(m, TM_SMFIR_ACCEPT);
}

tm_rc
tm_milter_verdict(struct tm_milter *m, const struct tm_verdict *v, struct tm_task *t)
{
    tm_rc rc;

    if (m->dead)
        return TM_EPROTO;
    if (!m->eom_pending)
        return TM_EINVAL;
    switch (v->action) {
    case TM_ACT_SOFT_REJECT:
        rc = reply_code(m, v->smtp_reply, DEFAULT_SOFT, '4');
        break;
    case TM_ACT_REJECT:
        rc = reply_code(m, v->smtp_reply, DEFAULT_REJECT, '5');
        break;
    case TM_ACT_DISCARD:
        rc = reply_empty(m, TM_SMFIR_DISCARD);
        break;
    default:
        rc = accept_with_headers(m, v, t);
        break;
    }
    if (rc == TM_ENOMEM)
        return rc; /* nothing queued yet; the caller tempfails */
    end_message(m);
    return rc;
}

tm_rc
tm_milter_tempfail(struct tm_milter *m)
{
    tm_rc rc;

    if (m->dead)
        return TM_EPROTO;
    if (!m->eom_pending)
        return TM_EINVAL;
    rc = reply_empty(m, TM_SMFIR_TEMPFAIL);
    end_message(m);
    return rc;
}
