/* parse_text.c -- access logs, logfmt and plain text.
 *
 * Access logs (nginx/Apache common and combined):
 *   client ident user [dd/Mon/yyyy:hh:mm:ss +zzzz] "request" status bytes
 *   ["referer" "user agent"]
 * optionally preceded by the virtual host ("www.example.com:443 client ...",
 * Apache's vhost_combined).  Fields: client, ident, user, method, path,
 * protocol, status, bytes, referer, user_agent, vhost ("-" values are left
 * out).  Level from the status:
 * 5xx err, 4xx warning, else info.  The message is the whole line.
 *
 * logfmt: space-separated key=value pairs, values bare or "quoted" (\" \\ \n
 * \t unescaped).  The line is logfmt when its first token is a pair, it has
 * at least two pairs and more pairs than bare words.  time/ts/timestamp,
 * level/lvl/severity, msg/message and host/hostname are used as in JSON.
 *
 * Plain text: the time of a leading ISO 8601 stamp ("2015-10-18 18:01:47,978",
 * nginx's error log "2024/03/05 07:08:09 [error] ..."), Apache error-log stamp
 * ("[Sun Dec 04 04:47:44.123456 2005]"), CLF or RFC 2822 date when there is
 * one, else the receive time; the level of the first level word; the whole
 * line as the message.
 */
#include "ingest/parse_int.h"
#include "clock.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define S_LIT(s) s, sizeof(s) - 1

/* ---- access log --------------------------------------------------------- */

static size_t s_word(const char *s, size_t n, size_t i) {
    if (i >= n) return i;
    const char *e = memchr(s + i, ' ', n - i);
    return e ? (size_t)(e - s) : n;
}

static void s_add_nodash(gh_parser_t *p, const char *k, size_t kn, const char *v, size_t vn) {
    if (vn == 0 || (vn == 1 && v[0] == '-')) return;
    gh_ps_add(p, k, kn, v, vn, 0);
}

/* "..." at s[i] with backslash escapes kept; returns the index after the
 * closing quote or 0. */
static size_t s_quoted(const char *s, size_t n, size_t i) {
    if (i >= n || s[i] != '"') return 0;
    /* the first '"' after an even run of backslashes (each escapes the next
     * byte; the run starts after a byte that is not one, at worst the
     * opening quote) */
    for (size_t from = i + 1; from < n;) {
        const char *q = memchr(s + from, '"', n - from);
        if (!q) return 0;
        size_t e = (size_t)(q - s), b = e;
        while (s[b - 1] == '\\') b--;
        if (((e - b) & 1) == 0) return e + 1;
        from = e + 1;
    }
    return 0;
}

static int s_access_at(gh_parser_t *p, const char *line, size_t n, size_t a) {
    size_t ae = s_word(line, n, a);
    if (ae == a || ae + 1 >= n) return -1;
    size_t b = ae + 1, be = s_word(line, n, b);
    if (be + 1 >= n) return -1;
    size_t c = be + 1, ce = s_word(line, n, c);
    if (ce + 2 >= n || line[ce + 1] != '[') return -1;
    /* [dd/Mon/yyyy:hh:mm:ss +zzzz] */
    const char *t = line + ce + 2;
    size_t tn = n - ce - 2;
    if (tn < 27 || t[2] != '/' || t[6] != '/' || t[11] != ':' || t[14] != ':' || t[17] != ':' || t[20] != ' ' ||
        t[26] != ']')
        return -1;
    static const int dig[] = { 0, 1, 7, 8, 9, 10, 12, 13, 15, 16, 18, 19, 22, 23, 24, 25 };
    for (size_t d = 0; d < sizeof dig / sizeof *dig; d++)
        if (!isdigit((unsigned char)t[dig[d]])) return -1;
    int mon = gh_ps_month(t + 3, 3);
    if (!mon || (t[21] != '+' && t[21] != '-')) return -1;
#define D2(o) ((t[o] - '0') * 10 + (t[(o) + 1] - '0'))
    int day = D2(0), year = D2(7) * 100 + D2(9), hh = D2(12), mi = D2(15), ss = D2(18);
    int zone = D2(22) * 60 + D2(24);
#undef D2
    if (t[21] == '-') zone = -zone;
    size_t i = ce + 2 + 27;
    if (i >= n || line[i] != ' ') return -1;
    size_t rq = i + 1, rqe = s_quoted(line, n, rq);
    if (!rqe || rqe + 4 >= n || line[rqe] != ' ') return -1;
    size_t st = rqe + 1;
    if (!isdigit((unsigned char)line[st]) || !isdigit((unsigned char)line[st + 1]) ||
        !isdigit((unsigned char)line[st + 2]) || (st + 3 < n && line[st + 3] != ' '))
        return -1;
    int status = (line[st] - '0') * 100 + (line[st + 1] - '0') * 10 + (line[st + 2] - '0');

    p->ts_ms = (gh_ps_days(year, (unsigned)mon, (unsigned)day) * 86400 + hh * 3600 + mi * 60 + ss -
                (int64_t)zone * 60) * 1000;
    p->has_ts = 1;
    p->level = status >= 500 ? GH_LVL_ERR : status >= 400 ? GH_LVL_WARNING : GH_LVL_INFO;
    p->msg = gh_pref_ext(line, n);
    if (!p->fields) return 0;
    size_t by = st + 4, bye = by <= n ? s_word(line, n, by) : n;
    s_add_nodash(p, S_LIT("client"), line + a, ae - a);
    s_add_nodash(p, S_LIT("ident"), line + b, be - b);
    s_add_nodash(p, S_LIT("user"), line + c, ce - c);
    /* request: METHOD PATH PROTOCOL, or whatever the client sent */
    const char *r = line + rq + 1;
    size_t rn = rqe - rq - 2;
    const char *sp1 = memchr(r, ' ', rn);
    const char *sp2 = sp1 ? memrchr(sp1 + 1, ' ', rn - (size_t)(sp1 + 1 - r)) : NULL;
    if (sp1 && sp2) {
        gh_ps_add(p, S_LIT("method"), r, (size_t)(sp1 - r), 0);
        gh_ps_add(p, S_LIT("path"), sp1 + 1, (size_t)(sp2 - sp1 - 1), 0);
        gh_ps_add(p, S_LIT("protocol"), sp2 + 1, rn - (size_t)(sp2 + 1 - r), 0);
    } else {
        s_add_nodash(p, S_LIT("request"), r, rn);
    }
    gh_ps_add(p, S_LIT("status"), line + st, 3, 0);
    if (by < n) s_add_nodash(p, S_LIT("bytes"), line + by, bye - by);
    if (bye + 1 < n && line[bye] == ' ') {
        size_t re = s_quoted(line, n, bye + 1);
        if (re) {
            s_add_nodash(p, S_LIT("referer"), line + bye + 2, re - bye - 3);
            if (re + 1 < n && line[re] == ' ') {
                size_t ue = s_quoted(line, n, re + 1);
                if (ue) s_add_nodash(p, S_LIT("user_agent"), line + re + 2, ue - re - 3);
            }
        }
    }
    return 0;
}

int gh_ps_access(gh_parser_t *p, const char *line, size_t n) {
    if (s_access_at(p, line, n, 0) == 0) return 0;
    /* Apache's vhost_combined / nginx with $host first: "vhost[:port] client ..." */
    size_t v = s_word(line, n, 0);
    if (v == 0 || v + 1 >= n || line[v + 1] == '[') return -1;
    gh_ps_reset(p);
    if (s_access_at(p, line, n, v + 1) != 0) return -1;
    if (p->fields) gh_ps_add(p, S_LIT("vhost"), line, v, 0);
    return 0;
}

/* ---- logfmt ------------------------------------------------------------- */

static int s_lfkey(unsigned char c) {
    return isalnum(c) || c == '_' || c == '.' || c == '-' || c == '@' || c == '/' || c == ':';
}

/* The keys logfmt's ts, level, msg and host are read from (the lists below):
 * all that is kept when the parser's fields are off. */
static const gh_pkey_t s_lf_used[] = {
    GH_PKEY("time"), GH_PKEY("ts"), GH_PKEY("timestamp"), GH_PKEY("t"), GH_PKEY("level"), GH_PKEY("lvl"),
    GH_PKEY("severity"), GH_PKEY("loglevel"), GH_PKEY("msg"), GH_PKEY("message"), GH_PKEY("host"),
    GH_PKEY("hostname"), { NULL, 0 }
};

int gh_ps_logfmt(gh_parser_t *p, const char *line, size_t n, int64_t now_ms) {
    size_t i = 0, pairs = 0, bare = 0;
    while (i < n) {
        while (i < n && line[i] == ' ') i++;
        if (i >= n) break;
        size_t ks = i;
        while (i < n && s_lfkey((unsigned char)line[i])) i++;
        size_t kn = i - ks;
        if (kn && i < n && line[i] == '=') {
            i++;
            int keep = p->fields || gh_ps_key_in(line + ks, kn, s_lf_used);
            if (i < n && line[i] == '"') {
                size_t vs = ++i;
                size_t e = i;
                while (e < n && line[e] != '"') e += line[e] == '\\' ? 2 : 1;
                if (e >= n) return -1;
                i = e + 1;
                if (i < n && line[i] != ' ') return -1;
                if (!keep) { pairs++; continue; }
                if (gh_ps_scratch(p, e - vs + 1) != 0) { p->oom = 1; return -1; }
                size_t vn = 0;
                for (size_t j = vs; j < e; j++) {
                    char ch = line[j];
                    if (ch == '\\' && j + 1 < e) {
                        char nx = line[++j];
                        ch = nx == 'n' ? '\n' : nx == 't' ? '\t' : nx == 'r' ? '\r' : nx;
                    }
                    p->scratch[vn++] = ch;
                }
                gh_ps_add(p, line + ks, kn, p->scratch, vn, 0);
            } else {
                size_t vs = i;
                while (i < n && line[i] != ' ') i++;
                if (keep) gh_ps_add(p, line + ks, kn, line + vs, i - vs, 0);
            }
            pairs++;
        } else if (kn && (i >= n || line[i] == ' ')) {
            if (pairs == 0) return -1;   /* the first token must be a pair */
            bare++;
        } else {
            return -1;
        }
    }
    if (pairs < 2 || bare >= pairs) return -1;
    static const gh_pkey_t tkeys[] = { GH_PKEY("time"), GH_PKEY("ts"), GH_PKEY("timestamp"), GH_PKEY("t"), { NULL, 0 } };
    static const gh_pkey_t lkeys[] = { GH_PKEY("level"), GH_PKEY("lvl"), GH_PKEY("severity"), GH_PKEY("loglevel"),
                                       { NULL, 0 } };
    static const gh_pkey_t mkeys[] = { GH_PKEY("msg"), GH_PKEY("message"), { NULL, 0 } };
    static const gh_pkey_t hkeys[] = { GH_PKEY("host"), GH_PKEY("hostname"), { NULL, 0 } };
    int64_t ms;
    long k = gh_ps_find_first(p, tkeys);
    if (k >= 0 && gh_ps_time_text(gh_ps_val(p, k), p->pf[k].vn, now_ms, &ms) == 0) { p->ts_ms = ms; p->has_ts = 1; }
    k = gh_ps_find_first(p, lkeys);
    if (k >= 0) {
        int lvl = gh_ps_level_value(gh_ps_val(p, k), p->pf[k].vn);
        if (lvl >= 0) p->level = lvl;
    }
    k = gh_ps_find_first(p, mkeys);
    p->msg = k >= 0 ? gh_pref_arena(p->pf[k].vo, p->pf[k].vn) : gh_pref_ext(line, n);
    k = gh_ps_find_first(p, hkeys);
    if (k >= 0) p->host = gh_pref_arena(p->pf[k].vo, p->pf[k].vn);
    return 0;
}

/* ---- plain text --------------------------------------------------------- */

void gh_ps_plain(gh_parser_t *p, const char *line, size_t n, int64_t now_ms) {
    (void)now_ms;
    int64_t ms;
    size_t i = 0;
    while (i < n && (line[i] == ' ' || line[i] == '[')) i++;
    if (gh_ps_iso8601(line + i, n - i, &ms) || gh_ps_time_words(line + i, n - i, &ms)) {
        p->ts_ms = ms;
        p->has_ts = 1;
    }
    p->level = gh_ps_guess_level(line, n);
    p->msg = gh_pref_ext(line, n);
}
