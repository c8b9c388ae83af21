/* parse_syslog.c -- RFC 5424 and RFC 3164 (BSD) syslog lines.
 *
 * RFC 5424: "<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD...] MSG"; the
 * timestamp keeps its fraction and zone; structured-data parameters become
 * fields "<sd-id>.<name>" (escapes \" \\ \] undone); a leading BOM on MSG is
 * dropped.  Fields: facility, appname, procid, msgid.
 *
 * RFC 3164 and the files syslog daemons write: optional "<PRI>", then
 * "Mmm dd hh:mm:ss" (no year: a source's first such date takes the year that
 * puts it closest to the receive time, and not more than a day after it;
 * later ones follow the source's own sequence, rolling over at Dec -> Jan,
 * gh_ps_year_ms; an optional
 * fraction and an optional year after the day are accepted) or an RFC 3339
 * timestamp (rsyslog's RSYSLOG_FileFormat, syslog-ng's ISO stamps, journalctl
 * -o short-iso; these keep the BSD layout "HOST TAG: MSG" and are labelled
 * syslog3164 too, as the layout is what a reader of the file relies on),
 * then the host and the tag "prog[pid]:".  A line without the host ("Mmm dd
 * hh:mm:ss prog: msg") is accepted, and so is one without a tag when it has
 * a BSD stamp and a host-name-like host ("Mmm dd hh:mm:ss host -- MARK --").
 * Without PRI an RFC 3339 stamp needs the 'T' and the tag with its colon, so
 * application logs that start with "2024-03-05 07:08:09,123" stay plain.  Fields: facility (with PRI),
 * appname, pid.  Level: PRI's severity, else the first level word of the
 * message, else info.
 */
#include "ingest/parse_int.h"

#include "clock.h"

#include <ctype.h>
#include <string.h>

#define S_LIT(s) s, sizeof(s) - 1

static const char *const s_facility[24] = {
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
    "ntp", "security", "console", "solaris-cron", "local0", "local1", "local2", "local3", "local4", "local5",
    "local6", "local7"
};

/* "<PRI>" at s: returns bytes consumed (0 when absent), PRI in *pri. */
static size_t s_pri(const char *s, size_t n, int *pri) {
    if (n < 3 || s[0] != '<') return 0;
    int v = 0;
    size_t i = 1;
    while (i < n && i <= 4 && isdigit((unsigned char)s[i])) v = v * 10 + (s[i++] - '0');
    if (i == 1 || i >= n || s[i] != '>' || v > 191) return 0;
    *pri = v;
    return i + 1;
}

static size_t s_token(const char *s, size_t n, size_t i, size_t *end) {
    size_t j = i;
    while (j < n && s[j] != ' ') j++;
    *end = j;
    return j - i;
}

static void s_pri_fields(gh_parser_t *p, int pri) {
    const char *f = s_facility[pri >> 3];
    if (p->fields) gh_ps_add(p, S_LIT("facility"), f, strlen(f), 0);
    p->level = pri & 7;
}

int gh_ps_syslog5424(gh_parser_t *p, const char *line, size_t n) {
    int pri;
    size_t i = s_pri(line, n, &pri);
    if (!i || i + 2 > n || !isdigit((unsigned char)line[i])) return -1;
    while (i < n && isdigit((unsigned char)line[i])) i++;
    if (i >= n || line[i] != ' ') return -1;
    i++;
    size_t e;
    /* TIMESTAMP */
    if (i < n && line[i] == '-') {
        e = i + 1;
    } else {
        int64_t ms;
        size_t k = gh_ps_iso8601(line + i, n - i, &ms);
        if (!k) return -1;
        /* without PRI only RFC 3339 proper ("T", as rsyslog, syslog-ng and
         * journalctl -o short-iso write it): "2024-03-05 07:08:09,123 x: y"
         * is an application's log, left to plain text */
        if (pri < 0 && (line[i + 10] != 'T' || line[i + 4] != '-')) return -1;
        e = i + k;
        p->ts_ms = ms;
        p->has_ts = 1;
    }
    if (e >= n || line[e] != ' ') return -1;
    i = e + 1;
    const char *tok[4];
    size_t tokn[4];
    for (int t = 0; t < 4; t++) {
        tok[t] = line + i;
        tokn[t] = s_token(line, n, i, &e);
        if (tokn[t] == 0) return -1;
        i = e < n ? e + 1 : n;
    }
    s_pri_fields(p, pri);
    if (!(tokn[0] == 1 && tok[0][0] == '-')) p->host = gh_pref_ext(tok[0], tokn[0]);
    static const char *const names[] = { NULL, "appname", "procid", "msgid" };
    for (int t = 1; t < 4 && p->fields; t++)
        if (!(tokn[t] == 1 && tok[t][0] == '-')) gh_ps_add(p, names[t], strlen(names[t]), tok[t], tokn[t], 0);
    /* STRUCTURED-DATA */
    if (i < n && line[i] == '-') {
        i++;
    } else {
        while (i < n && line[i] == '[') {
            size_t ids = ++i;
            while (i < n && line[i] != ' ' && line[i] != ']') i++;
            size_t idn = i - ids;
            while (i < n && line[i] != ']') {
                while (i < n && line[i] == ' ') i++;
                size_t ns = i;
                while (i < n && line[i] != '=' && line[i] != ']' && line[i] != ' ') i++;
                if (i >= n || line[i] != '=' || i + 1 >= n || line[i + 1] != '"') {
                    if (i < n && line[i] == ']') break;
                    return -1;
                }
                size_t nn = i - ns;
                i += 2;
                size_t vs = i;
                while (i < n && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
                if (i >= n) return -1;
                if (!p->fields) { i++; continue; }
                /* key "<id>.<name>", value unescaped */
                size_t kl = idn + 1 + nn;
                if (gh_ps_scratch(p, kl + (i - vs) + 2) != 0) return -1;
                char *k = p->scratch;
                memcpy(k, line + ids, idn);
                k[idn] = '.';
                memcpy(k + idn + 1, line + ns, nn);
                char *v = k + kl;
                size_t vn = 0;
                for (size_t j = vs; j < i; j++) {
                    if (line[j] == '\\' && j + 1 < i && (line[j + 1] == '"' || line[j + 1] == '\\' || line[j + 1] == ']'))
                        j++;
                    v[vn++] = line[j];
                }
                gh_ps_add(p, k, kl, v, vn, 0);
                i++;
            }
            if (i >= n) return -1;
            i++;   /* ']' */
        }
    }
    if (i < n && line[i] == ' ') i++;
    if (n - i >= 3 && !memcmp(line + i, "\xef\xbb\xbf", 3)) i += 3;
    p->msg = gh_pref_ext(line + i, n - i);
    return 0;
}

int gh_ps_syslog3164(gh_parser_t *p, const char *line, size_t n, int64_t now_ms) {
    int pri = -1;
    size_t i = s_pri(line, n, &pri);
    int mon = gh_ps_month(line + i, n - i);
    if (mon) {
        /* Mmm dd [yyyy] hh:mm:ss[.frac] */
        size_t j = i + 3;
        if (j >= n || line[j] != ' ') return -1;
        j++;
        if (j < n && line[j] == ' ') j++;
        int day = 0, k = 0;
        while (j < n && isdigit((unsigned char)line[j]) && k < 2) { day = day * 10 + (line[j++] - '0'); k++; }
        if (!k || day < 1 || day > 31 || j >= n || line[j] != ' ') return -1;
        j++;
        int year = -1;
        if (j + 5 <= n && isdigit((unsigned char)line[j]) && isdigit((unsigned char)line[j + 3]) &&
            line[j + 4] == ' ') {
            year = (line[j] - '0') * 1000 + (line[j + 1] - '0') * 100 + (line[j + 2] - '0') * 10 + (line[j + 3] - '0');
            j += 5;
        }
        if (j + 8 > n || line[j + 2] != ':' || line[j + 5] != ':') return -1;
        int hh, mi, ss, ms = 0;
        for (int d = 0; d < 8; d++)
            if (d != 2 && d != 5 && !isdigit((unsigned char)line[j + d])) return -1;
        hh = (line[j] - '0') * 10 + line[j + 1] - '0';
        mi = (line[j + 3] - '0') * 10 + line[j + 4] - '0';
        ss = (line[j + 6] - '0') * 10 + line[j + 7] - '0';
        if (hh > 23 || mi > 59 || ss > 60) return -1;
        j += 8;
        if (j < n && line[j] == '.') {
            int dg = 0;
            j++;
            while (j < n && isdigit((unsigned char)line[j])) { if (dg < 3) ms = ms * 10 + line[j] - '0'; dg++; j++; }
            while (dg++ < 3) ms *= 10;
        }
        if (year >= 0)
            p->ts_ms = (gh_ps_days(year, (unsigned)mon, (unsigned)day) * 86400 + hh * 3600 + mi * 60 + ss) *
                       1000 + ms;
        else
            p->ts_ms = gh_ps_year_ms(p, mon, day, hh, mi, ss, ms, now_ms);
        i = j;
    } else {
        int64_t ms;
        size_t k = gh_ps_iso8601(line + i, n - i, &ms);
        if (!k) return -1;
        /* without PRI only RFC 3339 proper ("T", as rsyslog, syslog-ng and
         * journalctl -o short-iso write it): "2024-03-05 07:08:09,123 x: y"
         * is an application's log, left to plain text */
        if (pri < 0 && (line[i + 10] != 'T' || line[i + 4] != '-')) return -1;
        p->ts_ms = ms;
        i += k;
    }
    p->has_ts = 1;
    if (i >= n || line[i] != ' ') return -1;
    while (i < n && line[i] == ' ') i++;

    /* HOST TAG: or TAG: */
    size_t e1, n1 = s_token(line, n, i, &e1);
    if (n1 == 0) return -1;
    const char *host = NULL;
    size_t hostn = 0;
    size_t ts = i;
    if (line[e1 - 1] != ':') {
        host = line + i;
        hostn = n1;
        ts = e1 < n ? e1 + 1 : n;
    }
    /* tag: [A-Za-z0-9_./-]+ optionally [pid], then ':' */
    size_t t = ts;
    while (t < n && (isalnum((unsigned char)line[t]) || strchr("_./-@()", line[t])) && line[t] != '\0') t++;
    size_t appn = t - ts, pids = 0, pidn = 0;
    if (t < n && line[t] == '[') {
        pids = ++t;
        while (t < n && line[t] != ']' && line[t] != ' ') t++;
        if (t >= n || line[t] != ']') { appn = 0; }
        else { pidn = t - pids; t++; }
    }
    int tagged = appn > 0 && t < n && line[t] == ':';
    if (!tagged && !host) return -1;
    if (!tagged && pri < 0) {
        /* "Mmm dd hh:mm:ss host message" with no tag ("-- MARK --", "last
         * message repeated 3 times") is still syslog when the host token
         * looks like a host name; an RFC 3339 stamp needs the tag */
        if (!mon) return -1;
        for (size_t k = 0; k < hostn; k++)
            if (!isalnum((unsigned char)host[k]) && !strchr(".-_:", host[k])) return -1;
        if (ts >= n) return -1;
    }
    if (pri >= 0) s_pri_fields(p, pri);
    if (host) p->host = gh_pref_ext(host, hostn);
    size_t ms;
    if (tagged) {
        if (p->fields) gh_ps_add(p, S_LIT("appname"), line + ts, appn, 0);
        if (pidn && p->fields) gh_ps_add(p, S_LIT("pid"), line + pids, pidn, 0);
        ms = t + 1;
        if (ms < n && line[ms] == ' ') ms++;
    } else {
        ms = ts;
    }
    if (ms > n) ms = n;
    p->msg = gh_pref_ext(line + ms, n - ms);
    if (pri < 0) p->level = gh_ps_guess_level(line + ms, n - ms);
    return 0;
}
