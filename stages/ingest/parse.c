/* parse.c -- the parser object, format detection, the helpers every format
 * parser shares (arena, fields, levels, timestamps) and the --dump writer.
 *
 * Detection first tries the formats with an unambiguous signature (JSON:
 * '{', auditd: "type=", RFC 5424: "<PRI>1 "), then the format last detected
 * for the line's source (the common case: a file holds one format), then the
 * rest from the most to the least specific: RFC 3164, access log, logfmt;
 * plain text is what is left.  Each parser rejects a line cheaply on its
 * first bytes, so a miss costs little.
 *
 * The hot path does not allocate: the arena and field arrays grow to the
 * largest line seen and are reused (the JSON parser's own tree is the one
 * exception, jansson has no streaming interface).
 */
#include "ingest/parse_int.h"
#include "clock.h"
#include "hash.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- arena and fields --------------------------------------------------- */

void gh_ps_reset(gh_parser_t *p) {
    p->alen = 0;
    p->npf = 0;
    p->oom = 0;
    p->has_ts = 0;
    p->ts_ms = 0;
    p->level = GH_LVL_INFO;
    p->format = GH_FMT_PLAIN;
    p->host = gh_pref_ext(NULL, 0);
    p->msg = gh_pref_ext(NULL, 0);
}

size_t gh_ps_reserve(gh_parser_t *p, size_t n) {
    if (p->alen + n > p->acap) {
        size_t cap = p->acap ? p->acap : 4096;
        while (cap < p->alen + n) cap *= 2;
        char *a = realloc(p->arena, cap);
        if (!a) { p->oom = 1; return (size_t)-1; }
        p->arena = a;
        p->acap = cap;
    }
    size_t off = p->alen;
    p->alen += n;
    return off;
}

size_t gh_ps_put(gh_parser_t *p, const char *s, size_t n) {
    size_t off = gh_ps_reserve(p, n + 1);
    if (off == (size_t)-1) return 0;  /* the line degrades to plain (p->oom) */
    if (n) memcpy(p->arena + off, s, n);
    p->arena[off + n] = '\0';
    return off;
}

static gh_pfield_t *s_new_field(gh_parser_t *p) {
    if (p->npf == p->pfcap) {
        size_t cap = p->pfcap ? p->pfcap * 2 : 64;
        gh_pfield_t *f = realloc(p->pf, cap * sizeof *f);
        if (!f) { p->oom = 1; return NULL; }
        p->pf = f;
        p->pfcap = cap;
    }
    return &p->pf[p->npf++];
}

void gh_ps_add_vo(gh_parser_t *p, const char *k, size_t kn, size_t vo, size_t vn) {
    size_t ko = gh_ps_put(p, k, kn);
    gh_pfield_t *f = s_new_field(p);
    if (!f || p->oom) return;
    f->ko = ko; f->kn = kn; f->vo = vo; f->vn = vn; f->flags = 0;
}

void gh_ps_add(gh_parser_t *p, const char *k, size_t kn, const char *v, size_t vn, unsigned flags) {
    size_t ko = gh_ps_put(p, k, kn);
    size_t vo = gh_ps_put(p, v, vn);
    gh_pfield_t *f = s_new_field(p);
    if (!f || p->oom) return;
    f->ko = ko; f->kn = kn; f->vo = vo; f->vn = vn; f->flags = flags;
}

long gh_ps_find(gh_parser_t *p, const char *k, size_t kn) {
    for (size_t i = 0; i < p->npf; i++)
        if (p->pf[i].kn == kn && !memcmp(p->arena + p->pf[i].ko, k, kn)) return (long)i;
    return -1;
}

void gh_ps_set(gh_parser_t *p, const char *k, size_t kn, const char *v, size_t vn, unsigned flags) {
    long i = gh_ps_find(p, k, kn);
    if (i < 0) { gh_ps_add(p, k, kn, v, vn, flags); return; }
    size_t vo = gh_ps_put(p, v, vn);
    if (p->oom) return;
    p->pf[i].vo = vo; p->pf[i].vn = vn; p->pf[i].flags = flags;
}

void gh_ps_del(gh_parser_t *p, long idx) {
    if (idx < 0 || (size_t)idx >= p->npf) return;
    memmove(&p->pf[idx], &p->pf[idx + 1], (p->npf - (size_t)idx - 1) * sizeof *p->pf);
    p->npf--;
}

int gh_ps_scratch(gh_parser_t *p, size_t n) {
    if (n <= p->scap) return 0;
    size_t cap = p->scap ? p->scap : 4096;
    while (cap < n) cap *= 2;
    char *s = realloc(p->scratch, cap);
    if (!s) return -1;
    p->scratch = s;
    p->scap = cap;
    return 0;
}

/* ---- levels ------------------------------------------------------------- */

static int s_ieq(const char *s, size_t n, const char *w) {
    size_t wn = strlen(w);
    if (n != wn) return 0;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)s[i]) != w[i]) return 0;
    return 1;
}

int gh_ps_level_word(const char *s, size_t n) {
    static const struct { const char *w; int lvl; } words[] = {
        { "emerg", GH_LVL_EMERG }, { "emergency", GH_LVL_EMERG }, { "panic", GH_LVL_EMERG },
        { "alert", GH_LVL_ALERT },
        { "crit", GH_LVL_CRIT }, { "critical", GH_LVL_CRIT }, { "fatal", GH_LVL_CRIT },
        { "err", GH_LVL_ERR }, { "error", GH_LVL_ERR }, { "severe", GH_LVL_ERR },
        { "warn", GH_LVL_WARNING }, { "warning", GH_LVL_WARNING },
        { "notice", GH_LVL_NOTICE },
        { "info", GH_LVL_INFO }, { "information", GH_LVL_INFO }, { "informational", GH_LVL_INFO },
        { "debug", GH_LVL_DEBUG }, { "trace", GH_LVL_DEBUG }, { "dbg", GH_LVL_DEBUG },
        { "verbose", GH_LVL_DEBUG },
    };
    if (n == 0 || n > 13) return -1;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (s_ieq(s, n, words[i].w)) return words[i].lvl;
    if (n == 1 && s[0] >= '0' && s[0] <= '7') return s[0] - '0';
    return gh_level_parse(s, n);
}

int gh_ps_level_num(double v) {
    if (v >= 0 && v <= 7 && v == (int)v) return (int)v;
    /* pino / bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal */
    if (v >= 10 && v < 70) {
        static const int map[] = { GH_LVL_DEBUG, GH_LVL_DEBUG, GH_LVL_INFO, GH_LVL_WARNING, GH_LVL_ERR,
                                   GH_LVL_CRIT };
        return map[(int)v / 10 - 1];
    }
    return -1;
}

/* Level words recognised in free text: only these (not "err", "alert", "info"
 * that read as ordinary words), as whole words, upper case or in brackets. */
int gh_ps_guess_level(const char *s, size_t n) {
    static const struct { const char *w; int lvl; } words[] = {
        { "FATAL", GH_LVL_CRIT }, { "CRITICAL", GH_LVL_CRIT }, { "CRIT", GH_LVL_CRIT },
        { "PANIC", GH_LVL_EMERG }, { "EMERG", GH_LVL_EMERG }, { "ALERT", GH_LVL_ALERT },
        { "ERROR", GH_LVL_ERR }, { "ERR", GH_LVL_ERR }, { "SEVERE", GH_LVL_ERR },
        { "WARN", GH_LVL_WARNING }, { "WARNING", GH_LVL_WARNING }, { "NOTICE", GH_LVL_NOTICE },
        { "INFO", GH_LVL_INFO }, { "DEBUG", GH_LVL_DEBUG }, { "TRACE", GH_LVL_DEBUG },
    };
    size_t lim = n < 512 ? n : 512;   /* the level sits near the start */
    for (size_t i = 0; i < lim;) {
        if (!isalpha((unsigned char)s[i])) { i++; continue; }
        size_t j = i;
        while (j < n && isalpha((unsigned char)s[j])) j++;
        size_t wn = j - i;
        if (wn >= 3 && wn <= 8) {
            int upper = 1;
            for (size_t k = i; k < j; k++) if (!isupper((unsigned char)s[k])) { upper = 0; break; }
            int bracket = i > 0 && (s[i - 1] == '[' || s[i - 1] == '<') && j < n && (s[j] == ']' || s[j] == '>');
            if (upper || bracket) {
                for (size_t w = 0; w < sizeof words / sizeof *words; w++)
                    if (strlen(words[w].w) == wn && !strncasecmp(s + i, words[w].w, wn)) return words[w].lvl;
            } else if (wn == 5 && !strncasecmp(s + i, "error", 5)) {
                return GH_LVL_ERR;
            }
        }
        i = j;
    }
    return GH_LVL_INFO;
}

/* ---- time --------------------------------------------------------------- */

static int s_digits(const char *s, size_t n, size_t k, int *v) {
    if (n < k) return 0;
    int x = 0;
    for (size_t i = 0; i < k; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 1;
}

static int64_t s_civil_ms(int y, int mo, int d, int h, int mi, int sec, int ms) {
    return (gh_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec) * 1000 + ms;
}

size_t gh_ps_iso8601(const char *s, size_t n, int64_t *ms) {
    int y, mo, d, h, mi, sec = 0, frac = 0;
    if (n < 16 || !s_digits(s, n, 4, &y) || s[4] != '-' || !s_digits(s + 5, n - 5, 2, &mo) || s[7] != '-' ||
        !s_digits(s + 8, n - 8, 2, &d) || (s[10] != 'T' && s[10] != ' ' && s[10] != 't') ||
        !s_digits(s + 11, n - 11, 2, &h) || s[13] != ':' || !s_digits(s + 14, n - 14, 2, &mi))
        return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59) return 0;
    size_t i = 16;
    if (i < n && s[i] == ':') {
        if (!s_digits(s + i + 1, n - i - 1, 2, &sec) || sec > 60) return 0;
        i += 3;
        if (i < n && (s[i] == '.' || s[i] == ',') && i + 1 < n && isdigit((unsigned char)s[i + 1])) {
            i++;
            int k = 0;
            while (i < n && isdigit((unsigned char)s[i])) {
                if (k < 3) frac = frac * 10 + (s[i] - '0');
                k++; i++;
            }
            while (k++ < 3) frac *= 10;
        }
    }
    int64_t t = s_civil_ms(y, mo, d, h, mi, sec, frac);
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int zh, zm = 0, sign = s[i] == '-' ? -1 : 1;
        if (s_digits(s + i + 1, n - i - 1, 2, &zh)) {
            size_t j = i + 3;
            if (j < n && s[j] == ':' && s_digits(s + j + 1, n - j - 1, 2, &zm)) j += 3;
            else if (s_digits(s + j, n - j, 2, &zm)) j += 2;
            else zm = 0;
            t -= sign * (int64_t)(zh * 60 + zm) * 60000;
            i = j;
        }
    }
    *ms = t;
    return i;
}

int gh_ps_month(const char *s, size_t n) {
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    if (n < 3) return 0;
    char a = (char)tolower((unsigned char)s[0]), b = (char)tolower((unsigned char)s[1]),
         c = (char)tolower((unsigned char)s[2]);
    for (int m = 0; m < 12; m++)
        if (months[m * 3] == a && months[m * 3 + 1] == b && months[m * 3 + 2] == c) return m + 1;
    return 0;
}

int64_t gh_ps_infer_year_ms(int mon, int day, int hh, int mi, int ss, int msec, int64_t now_ms) {
    time_t now_s = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&now_s, &tm);
    int y0 = tm.tm_year + 1900;
    int64_t best = 0, best_d = INT64_MAX;
    for (int y = y0 - 1; y <= y0 + 1; y++) {
        int64_t t = s_civil_ms(y, mon, day, hh, mi, ss, msec);
        if (t > now_ms + 86400000) continue;   /* not far after the receive time */
        int64_t d = t > now_ms ? t - now_ms : now_ms - t;
        if (d < best_d) { best_d = d; best = t; }
    }
    return best;
}

int64_t gh_ps_epoch_ms(double v) {
    double a = v < 0 ? -v : v;
    if (a >= 1e17) return (int64_t)(v / 1e6);      /* ns */
    if (a >= 1e14) return (int64_t)(v / 1e3);      /* us */
    if (a >= 1e11) return (int64_t)v;              /* ms */
    return (int64_t)(v * 1000.0 + (v < 0 ? -0.5 : 0.5)); /* s */
}

int gh_ps_time_text(const char *s, size_t n, int64_t now_ms, int64_t *ms) {
    (void)now_ms;
    if (n == 0) return -1;
    if (gh_ps_iso8601(s, n, ms) == n) return 0;
    /* all digits, optional fraction: epoch */
    size_t i = 0;
    int dot = 0;
    for (; i < n; i++) {
        if (s[i] == '.' && !dot) { dot = 1; continue; }
        if (!isdigit((unsigned char)s[i])) break;
    }
    if (i == n && n < 32) {
        char buf[32];
        memcpy(buf, s, n);
        buf[n] = '\0';
        *ms = gh_ps_epoch_ms(strtod(buf, NULL));
        return 0;
    }
    return -1;
}

/* ---- the parser --------------------------------------------------------- */

gh_parser_t *gh_parser_new(int force_format) {
    if (force_format < -1 || force_format >= GH_FMT__COUNT) return NULL;
    gh_parser_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->force = force_format;
    memset(p->src_fmt, -1, sizeof p->src_fmt);
    gh_ps_reset(p);
    return p;
}

void gh_parser_destroy(gh_parser_t **pp) {
    if (!pp || !*pp) return;
    gh_parser_t *p = *pp;
    free(p->host_default);
    free(p->arena);
    free(p->pf);
    free(p->out_fields);
    free(p->scratch);
    free(p);
    *pp = NULL;
}

void gh_parser_set_default_host(gh_parser_t *p, const char *host) {
    char *h = host && *host ? strdup(host) : NULL;
    free(p->host_default);
    p->host_default = h;
}

/* Try one format; 0 when the line is in it. */
static int s_try(gh_parser_t *p, int fmt, const char *line, size_t n, int64_t now_ms) {
    int rc = -1;
    switch (fmt) {
    case GH_FMT_AUDITD: rc = gh_ps_auditd(p, line, n); break;
    case GH_FMT_SYSLOG5424: rc = gh_ps_syslog5424(p, line, n); break;
    case GH_FMT_SYSLOG3164: rc = gh_ps_syslog3164(p, line, n, now_ms); break;
    case GH_FMT_JSON: rc = gh_ps_json(p, line, n, now_ms); break;
    case GH_FMT_LOGFMT: rc = gh_ps_logfmt(p, line, n, now_ms); break;
    case GH_FMT_ACCESS: rc = gh_ps_access(p, line, n); break;
    default: return -1;
    }
    if (rc == 0 && !p->oom) { p->format = fmt; return 0; }
    gh_ps_reset(p);
    return -1;
}

#define S_NSTRONG 3   /* the first S_NSTRONG of s_order reject on their first bytes */
static const int s_order[] = { GH_FMT_JSON, GH_FMT_AUDITD, GH_FMT_SYSLOG5424, GH_FMT_SYSLOG3164,
                               GH_FMT_ACCESS, GH_FMT_LOGFMT };

static const char *s_resolve(gh_parser_t *p, gh_pref_t r, uint32_t *len) {
    *len = (uint32_t)r.n;
    if (r.p) return r.p;
    if (r.n == 0 && r.off == 0) return "";
    return p->arena + r.off;
}

void gh_parse_line(gh_parser_t *p, const char *source, size_t source_n, const char *line, size_t n,
                   int64_t now_ms, gh_record_t *out) {
    if (!source) { source = ""; source_n = 0; }
    if (!line) { line = ""; n = 0; }
    gh_ps_reset(p);
    int done = 0;
    if (p->force >= 0) {
        done = p->force != GH_FMT_PLAIN && s_try(p, p->force, line, n, now_ms) == 0;
    } else if (n > 0) {
        unsigned slot = (unsigned)(gh_hash(source, source_n, 0) % GH_SRC_SLOTS);
        uint64_t h = gh_hash(source, source_n, 1);
        int remembered = p->src_hash[slot] == h ? p->src_fmt[slot] : -1;
        /* formats with an unambiguous signature first, then the source's last
         * format, then the rest */
        for (size_t i = 0; !done && i < S_NSTRONG; i++) done = s_try(p, s_order[i], line, n, now_ms) == 0;
        if (!done && remembered > GH_FMT_PLAIN && remembered != GH_FMT_JSON && remembered != GH_FMT_AUDITD &&
            remembered != GH_FMT_SYSLOG5424)
            done = s_try(p, remembered, line, n, now_ms) == 0;
        for (size_t i = S_NSTRONG; !done && i < sizeof s_order / sizeof *s_order; i++)
            if (s_order[i] != remembered) done = s_try(p, s_order[i], line, n, now_ms) == 0;
        p->src_hash[slot] = h;
        p->src_fmt[slot] = (signed char)(done ? p->format : GH_FMT_PLAIN);
    }
    if (!done) {
        gh_ps_reset(p);
        gh_ps_plain(p, line, n, now_ms);
        if (p->oom) { gh_ps_reset(p); p->msg = gh_pref_ext(line, n); }
        p->format = GH_FMT_PLAIN;
    }

    memset(out, 0, sizeof *out);
    out->ts_ms = p->has_ts ? p->ts_ms : now_ms;
    out->format = (uint8_t)p->format;
    out->level = (uint8_t)(p->level >= 0 && p->level <= GH_LVL_DEBUG ? p->level : GH_LVL_INFO);
    out->source = gh_str(source, source_n);
    out->raw = gh_str(line, n);
    uint32_t len;
    const char *s = s_resolve(p, p->host, &len);
    if (len == 0 && p->host_default) { s = p->host_default; len = (uint32_t)strlen(s); }
    out->host.p = s; out->host.n = len;
    s = s_resolve(p, p->msg, &len);
    out->msg.p = s; out->msg.n = len;

    if (p->npf * 2 > p->out_cap) {
        size_t cap = p->npf * 2 + 32;
        gh_str_t *f = realloc(p->out_fields, cap * sizeof *f);
        if (!f) { p->npf = 0; }
        else { p->out_fields = f; p->out_cap = cap; }
    }
    for (size_t i = 0; i < p->npf; i++) {
        p->out_fields[2 * i] = gh_str(p->arena + p->pf[i].ko, p->pf[i].kn);
        p->out_fields[2 * i + 1] = gh_str(p->arena + p->pf[i].vo, p->pf[i].vn);
    }
    out->nfields = (uint32_t)p->npf;
    out->fields = p->npf ? p->out_fields : NULL;
}

/* ---- --dump ------------------------------------------------------------- */

/* A JSON string for s[0..n); invalid UTF-8 bytes become U+FFFD. */
static json_t *s_jstr(const char *s, size_t n, char **buf, size_t *cap) {
    json_t *j = json_stringn(s, n);
    if (j) return j;
    if (*cap < n * 3 + 1) {
        char *b = realloc(*buf, n * 3 + 1);
        if (!b) return json_string("");
        *buf = b;
        *cap = n * 3 + 1;
    }
    char *o = *buf;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        int ok = len > 0 && i + len <= n;
        for (size_t t = 1; ok && t < len; t++) ok = ((unsigned char)s[i + t] >> 6) == 2;
        if (ok && len > 1) {   /* reject overlongs, surrogates, > U+10FFFF as jansson does */
            uint32_t cp = len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
            for (size_t t = 1; t < len; t++) cp = (cp << 6) | ((unsigned char)s[i + t] & 0x3fu);
            ok = !((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
                   (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff);
        }
        if (ok) { memcpy(o + k, s + i, len); k += len; i += len; }
        else { memcpy(o + k, "\xef\xbf\xbd", 3); k += 3; i++; }
    }
    j = json_stringn(o, k);
    return j ? j : json_string("");
}

long gh_parse_dump(gh_parser_t *p, FILE *in, const char *source, FILE *out) {
    char *line = NULL, *fix = NULL, *obuf = NULL;
    size_t lcap = 0, fcap = 0, ocap = 0;
    long count = 0;
    int err = 0;
    size_t source_n = source ? strlen(source) : 0;
    ssize_t r;
    gh_record_t rec;
    char ts[40];

    while ((r = getline(&line, &lcap, in)) >= 0) {
        size_t n = (size_t)r;
        if (n && line[n - 1] == '\n') n--;
        if (n && line[n - 1] == '\r') n--;
        count++;
        gh_parse_line(p, source, source_n, line, n, gh_wall_ms(), &rec);

        json_t *o = json_object(), *f = json_object();
        if (!o || !f) { json_decref(o); json_decref(f); err = 1; break; }
        gh_rfc3339_ms(rec.ts_ms, ts, sizeof ts);
        json_object_set_new_nocheck(o, "ts", json_string_nocheck(ts));
        json_object_set_new_nocheck(o, "host", s_jstr(rec.host.p, rec.host.n, &fix, &fcap));
        json_object_set_new_nocheck(o, "source", s_jstr(rec.source.p, rec.source.n, &fix, &fcap));
        json_object_set_new_nocheck(o, "format", json_string(gh_format_name(rec.format)));
        json_object_set_new_nocheck(o, "level", json_string(gh_level_name(rec.level)));
        json_object_set_new_nocheck(o, "msg", s_jstr(rec.msg.p, rec.msg.n, &fix, &fcap));
        for (uint32_t i = 0; i < rec.nfields; i++) {
            const gh_str_t *k = &rec.fields[2 * i], *v = &rec.fields[2 * i + 1];
            json_t *jv = s_jstr(v->p, v->n, &fix, &fcap);
            json_t *jk = s_jstr(k->p, k->n, &fix, &fcap);   /* keys, too, must be UTF-8 */
            const char *ks = json_string_value(jk);
            json_object_setn_new(f, ks, json_string_length(jk), jv);
            json_decref(jk);
        }
        json_object_set_new_nocheck(o, "fields", f);
        /* serialise once into the reused buffer; grow and redo only when it
         * did not fit (json_dumpb returns the size it needed) */
        size_t w = obuf ? json_dumpb(o, obuf, ocap - 1, JSON_COMPACT) : SIZE_MAX;
        if (w == 0 || w > ocap - 1 || !obuf) {
            size_t need = json_dumpb(o, NULL, 0, JSON_COMPACT);
            size_t cap = need + 1 > 65536 ? need + 1 : 65536;
            char *b = need ? realloc(obuf, cap) : NULL;
            if (!b) { json_decref(o); err = 1; break; }
            obuf = b;
            ocap = cap;
            w = json_dumpb(o, obuf, ocap - 1, JSON_COMPACT);
        }
        json_decref(o);
        obuf[w] = '\n';
        if (fwrite(obuf, 1, w + 1, out) != w + 1) { err = 1; break; }
    }
    if (ferror(in)) err = 1;
    free(line);
    free(fix);
    free(obuf);
    if (fflush(out) != 0) err = 1;
    return err ? -1 : count;
}
