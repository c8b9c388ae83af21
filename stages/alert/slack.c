/* slack.c -- Block Kit messages for alerts, see slack.h. */
#include "alert/slack.h"
#include "alert/alert_json.h"
#include "clock.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A growing text buffer that counts characters the way Slack's limits do
 * (code points; one outside the BMP counts as two, as in UTF-16). */
typedef struct {
    char *p;
    size_t n, cap, chars;
    int oom;
} s_sb_t;

static size_t s_chars(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        if ((b & 0xC0) != 0x80) c += b >= 0xF0 ? 2 : 1;
    }
    return c;
}

static void s_sb_put(s_sb_t *sb, const char *s, size_t n) {
    if (sb->oom) return;
    if (sb->n + n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 256;
        while (cap < sb->n + n + 1) cap *= 2;
        char *p = realloc(sb->p, cap);
        if (!p) {
            sb->oom = 1;
            return;
        }
        sb->p = p;
        sb->cap = cap;
    }
    memcpy(sb->p + sb->n, s, n);
    sb->n += n;
    sb->p[sb->n] = 0;
    sb->chars += s_chars(s, n);
}

static void s_sb_puts(s_sb_t *sb, const char *s) { s_sb_put(sb, s, strlen(s)); }

static void s_sb_printf(s_sb_t *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_sb_printf(s_sb_t *sb, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0) s_sb_put(sb, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* Appends user text escaped for mrkdwn (&, <, > as entities; in code spans a
 * backtick becomes U+02CB so it cannot close the span), using at most
 * budget characters; text that does not fit is cut at a character boundary
 * and ends with an ellipsis.  Control characters other than newline (in
 * code) become spaces. */
static void s_sb_user(s_sb_t *sb, const char *s, size_t budget, int code) {
    if (!s) return;
    size_t used = 0, n = strlen(s);
    for (size_t i = 0; i < n;) {
        unsigned char b = (unsigned char)s[i];
        size_t l = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
        if (i + l > n) l = n - i;
        const char *out = s + i;
        size_t on = l, oc = b >= 0xF0 ? 2 : 1;
        char tmp[2] = { ' ', 0 };
        if (b == '&') out = "&amp;", on = 5, oc = 5;
        else if (b == '<') out = "&lt;", on = 4, oc = 4;
        else if (b == '>') out = "&gt;", on = 4, oc = 4;
        else if (b == '`' && code) out = "\xCB\x8B", on = 2;
        else if (b < 0x20 && !(b == '\n' && code)) out = tmp, on = 1;
        if (used + oc + 1 > budget && i + l < n) { /* keep room for the ellipsis */
            s_sb_puts(sb, "\xE2\x80\xA6");
            return;
        }
        if (used + oc > budget) {
            s_sb_puts(sb, "\xE2\x80\xA6");
            return;
        }
        s_sb_put(sb, out, on);
        used += oc;
        i += l;
    }
}

static char *s_sb_take(s_sb_t *sb) {
    if (sb->oom) {
        free(sb->p);
        return NULL;
    }
    return sb->p ? sb->p : strdup("");
}

/* ---- small JSON helpers ------------------------------------------------- */

static const char *s_get_str(const json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static double s_get_num(const json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static json_t *s_text_obj(const char *type, const char *text) {
    json_t *t = json_pack("{s:s, s:s}", "type", type, "text", text);
    if (t && !strcmp(type, "plain_text")) json_object_set_new(t, "emoji", json_true());
    return t;
}

static void s_add_section(json_t *blocks, s_sb_t *sb) {
    char *t = s_sb_take(sb);
    memset(sb, 0, sizeof *sb);
    if (!t) return;
    if (*t) json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "section", "text", s_text_obj("mrkdwn", t)));
    free(t);
}

/* ---- numbers and times in the reader's terms ---------------------------- */

static void s_fmt_num(char *buf, size_t len, double v) {
    if (!isfinite(v)) snprintf(buf, len, "n/a");
    else if (fabs(v) >= 100 || v == floor(v)) snprintf(buf, len, "%.0f", v);
    else if (fabs(v) >= 10) snprintf(buf, len, "%.1f", v);
    else snprintf(buf, len, "%.2f", v);
}

int64_t gh_rfc3339_parse_ms(const char *s) {
    int y, mo, d, h, mi, se, ms = 0, n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6) return 0;
    if (s[n] == '.') {
        int k = 0;
        for (n++; s[n] >= '0' && s[n] <= '9'; n++, k++)
            if (k < 3) ms = ms * 10 + (s[n] - '0');
        for (; k < 3; k++) ms *= 10;
    }
    if (mo < 1 || mo > 12) return 0;
    int64_t days = gh_days_from_civil(y, (unsigned)mo, (unsigned)d);
    return ((days * 24 + h) * 60 + mi) * 60000LL + se * 1000LL + ms;
}

/* "14:02 UTC" (or "2024-01-02 14:02 UTC" when not today). */
static void s_fmt_clock(char *buf, size_t len, int64_t ms, int64_t now_ms) {
    time_t t = (time_t)(ms / 1000), tn = (time_t)(now_ms / 1000);
    struct tm tm, tmn;
    gmtime_r(&t, &tm);
    gmtime_r(&tn, &tmn);
    if (tm.tm_year == tmn.tm_year && tm.tm_yday == tmn.tm_yday) strftime(buf, len, "%H:%M UTC", &tm);
    else strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm);
}

/* "45 s", "12 min", "2 h 5 min", "3 days" */
static void s_fmt_span(char *buf, size_t len, int64_t ms) {
    long long s = (long long)(ms / 1000);
    if (s < 60) snprintf(buf, len, "%lld s", s);
    else if (s < 3600) snprintf(buf, len, "%lld min", s / 60);
    else if (s < 172800 && (s % 3600) / 60) snprintf(buf, len, "%lld h %lld min", s / 3600, (s % 3600) / 60);
    else if (s < 172800) snprintf(buf, len, "%lld h", s / 3600);
    else snprintf(buf, len, "%lld days", s / 86400);
}

char *gh_slack_sparkline(const json_t *series, char *buf, size_t len) {
    static const char *bars[8] = { "\xE2\x96\x81", "\xE2\x96\x82", "\xE2\x96\x83", "\xE2\x96\x84",
                                   "\xE2\x96\x85", "\xE2\x96\x86", "\xE2\x96\x87", "\xE2\x96\x88" };
    if (!len) return buf;
    buf[0] = 0;
    size_t n = json_array_size(series), o = 0;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(series, i);
        if (!json_is_number(v)) continue;
        double d = json_number_value(v);
        if (d < lo) lo = d;
        if (d > hi) hi = d;
    }
    for (size_t i = 0; i < n && o + 4 < len; i++) {
        json_t *v = json_array_get(series, i);
        if (!json_is_number(v)) {
            buf[o++] = ' ';
            continue;
        }
        int k = hi > lo ? (int)floor((json_number_value(v) - lo) / (hi - lo) * 7.0 + 0.5) : 0;
        if (k < 0) k = 0;
        if (k > 7) k = 7;
        memcpy(buf + o, bars[k], 3);
        o += 3;
    }
    buf[o] = 0;
    return buf;
}

static const char *s_kind_title(const char *kind) {
    if (!strcmp(kind, "new_template")) return "New error";
    if (!strcmp(kind, "forecast")) return "Forecast";
    return "Burst";
}

static const char *s_emoji(const char *kind, const char *state, int flapping) {
    if (flapping) return ":repeat:";
    if (!strcmp(state, "resolved")) return ":white_check_mark:";
    if (!strcmp(kind, "forecast")) return ":chart_with_upwards_trend:";
    if (!strcmp(kind, "new_template")) return ":new:";
    return ":rotating_light:";
}

/* What a key means to a reader: its template, else its series key made
 * readable ("class:timeout@ab12" -> "timeout events"). */
static void s_meaning(char *buf, size_t len, const json_t *a) {
    const char *tpl = s_get_str(a, "template"), *key = s_get_str(a, "key");
    if (*tpl) {
        snprintf(buf, len, "%s", tpl);
        return;
    }
    size_t n = strcspn(key, "@");
    if (n > 6 && !memcmp(key, "class:", 6)) snprintf(buf, len, "%.*s events", (int)(n - 6), key + 6);
    else if (n > 6 && !memcmp(key, "level:", 6)) snprintf(buf, len, "%.*s-level events", (int)(n - 6), key + 6);
    else snprintf(buf, len, "%s", *key ? key : "(no key)");
}

size_t gh_slack_firings(const json_t *alerts) {
    size_t n = json_array_size(alerts), f = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *a = json_array_get(alerts, i);
        if (strcmp(s_get_str(a, "state"), "firing")) continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) {
            const json_t *b = json_array_get(alerts, j);
            seen = !strcmp(s_get_str(b, "state"), "firing") && !strcmp(s_get_str(a, "id"), s_get_str(b, "id"));
        }
        f += !seen;
    }
    return f;
}

/* Appends context blocks listing the uid of every alert (each element <=
 * 2000 characters, <= 10 elements per block). */
static void s_add_ids(json_t *blocks, const json_t *const *alerts, size_t n) {
    json_t *ctx = NULL, *elems = NULL;
    s_sb_t sb = { 0 };
    char uid[192];
    s_sb_puts(&sb, n == 1 ? "alert " : "alerts ");
    for (size_t i = 0; i <= n; i++) {
        const char *id = i < n ? gh_alert_uid(alerts[i], uid, sizeof uid) : NULL;
        if (!id || sb.chars + strlen(id) + 4 > GH_SLACK_MAX_FIELD - 10) {
            char *t = s_sb_take(&sb);
            memset(&sb, 0, sizeof sb);
            if (!t) return;
            if (!elems || json_array_size(elems) >= GH_SLACK_MAX_CONTEXT) {
                elems = json_array();
                ctx = json_pack("{s:s, s:o}", "type", "context", "elements", elems);
                if (json_array_size(blocks) >= GH_SLACK_MAX_BLOCKS || json_array_append_new(blocks, ctx)) {
                    free(t);
                    return;
                }
            }
            json_array_append_new(elems, s_text_obj("mrkdwn", t));
            free(t);
            if (!id) break;
        }
        if (sb.n && sb.p[sb.n - 1] == '`') s_sb_puts(&sb, ", ");
        s_sb_puts(&sb, "`");
        s_sb_user(&sb, id, 100, 1);
        s_sb_puts(&sb, "`");
    }
}

/* Events per minute per unit of the series (counts per bucket): the rate
 * is the newest bucket's count scaled to a minute, so rate / newest value;
 * for forecasts (no series; count is the newest bucket) rate / count; 1
 * (60 s buckets, the default) when neither tells. */
static double s_per_min(const json_t *a) {
    json_t *se = json_object_get(a, "series");
    double r = s_get_num(a, "rate"), c = s_get_num(a, "count");
    size_t n = json_array_size(se);
    if (n) c = json_is_number(json_array_get(se, n - 1)) ? json_number_value(json_array_get(se, n - 1)) : NAN;
    return isfinite(r) && isfinite(c) && c > 0 && r > 0 ? r / c : 1;
}

/* "41/min vs 0.3/min usual (x137)" */
static void s_rate_text(s_sb_t *sb, const json_t *a) {
    char r[32], b[32];
    double rate = s_get_num(a, "rate"), base = s_get_num(a, "baseline");
    s_fmt_num(r, sizeof r, rate);
    s_fmt_num(b, sizeof b, base);
    s_sb_printf(sb, "%s/min vs %s/min usual", r, b);
    if (isfinite(rate) && isfinite(base) && base > 0.05 && rate > base) s_sb_printf(sb, " (\xC3\x97%.0f)", rate / base);
}

/* One line summary of a group, for the text fallback and digests. */
static void s_summary(s_sb_t *sb, const json_t *const *alerts, size_t n, int mrkdwn) {
    const json_t *last = alerts[n - 1];
    const char *kind = s_get_str(last, "kind"), *state = s_get_str(last, "state");
    char m[1400];
    s_meaning(m, sizeof m, last);
    s_sb_printf(sb, "%s%s%s", mrkdwn ? "*" : "", !strcmp(state, "resolved") ? "Resolved: " : "", s_kind_title(kind));
    const char *host = s_get_str(last, "host");
    if (*host) {
        s_sb_puts(sb, " on ");
        s_sb_user(sb, host, 100, 0);
    }
    s_sb_printf(sb, "%s: ", mrkdwn ? "*" : "");
    if (mrkdwn) s_sb_puts(sb, "`");
    s_sb_user(sb, m, 200, mrkdwn);
    if (mrkdwn) s_sb_puts(sb, "`");
    if (n > 1) s_sb_printf(sb, " (%zu alerts)", n);
    s_sb_puts(sb, " \xE2\x80\x94 ");
    s_rate_text(sb, last);
}

static void s_add_field(json_t *fields, s_sb_t *sb) {
    char *t = s_sb_take(sb);
    memset(sb, 0, sizeof *sb);
    if (t && *t) json_array_append_new(fields, s_text_obj("mrkdwn", t));
    free(t);
}

/* "in 36 min" / "3 min ago" */
static void s_fmt_rel(char *buf, size_t len, int64_t t, int64_t now) {
    char sp[48];
    s_fmt_span(sp, sizeof sp, t > now ? t - now : now - t);
    if (t > now) snprintf(buf, len, "in %s", sp);
    else if (now - t < 60000) snprintf(buf, len, "just now");
    else snprintf(buf, len, "%s ago", sp);
}

/* The forecast section: level now, prediction with its interval, and when
 * the threshold is crossed with the interval of that time (the crossing of
 * a straight line from the level to the upper and lower bound). */
static void s_forecast(s_sb_t *sb, const json_t *a, int64_t now_ms) {
    json_t *fc = json_object_get(a, "forecast");
    char p[32], lo[32], up[32], th[32], t1[48], t2[48], rel[64], hz[48];
    double f = s_per_min(a), h = s_get_num(fc, "horizon_s");
    double P = s_get_num(fc, "predicted"), L = s_get_num(fc, "lower"), U = s_get_num(fc, "upper");
    double T = s_get_num(fc, "threshold"), level = s_get_num(a, "baseline") / f;
    s_fmt_num(p, sizeof p, P * f);
    s_fmt_num(lo, sizeof lo, L * f);
    s_fmt_num(up, sizeof up, U * f);
    s_fmt_num(th, sizeof th, T * f);
    s_fmt_span(hz, sizeof hz, isfinite(h) && h > 0 ? (int64_t)(h * 1000) : 0);
    s_sb_printf(sb, "*Forecast*: %s/min expected in %s (interval %s\xE2\x80\x93%s/min), threshold *%s/min*.\n", p, hz,
                lo, up, th);
    int64_t cross = gh_rfc3339_parse_ms(json_string_value(json_object_get(fc, "crosses_at")));
    int64_t t0 = gh_rfc3339_parse_ms(s_get_str(a, "start"));
    if (!cross) {
        s_sb_puts(sb, "Not expected to cross the threshold within the horizon.");
        return;
    }
    s_fmt_clock(t1, sizeof t1, cross, now_ms);
    s_fmt_rel(rel, sizeof rel, cross, now_ms);
    s_sb_printf(sb, "Crosses it at *%s* (%s)", t1, rel);
    if (t0 && isfinite(level) && isfinite(h) && h > 0 && isfinite(T) && T > level && isfinite(U) && U > level) {
        int64_t early = t0 + (int64_t)(h * 1000 * (T - level) / (U - level));
        if (early > cross) early = cross;
        s_fmt_clock(t1, sizeof t1, early, now_ms);
        if (isfinite(L) && L > T) {
            int64_t late = t0 + (int64_t)(h * 1000 * (T - level) / (L - level));
            if (late < cross) late = cross;
            s_fmt_clock(t2, sizeof t2, late, now_ms);
            s_sb_printf(sb, "; interval %s \xE2\x80\x93 %s", t1, t2);
        } else {
            s_sb_printf(sb, "; interval %s \xE2\x80\x93 beyond the %s horizon", t1, hz);
        }
    }
    s_sb_puts(sb, ".");
}

json_t *gh_slack_group_message(const json_t *arr, int64_t now_ms) {
    size_t n = json_array_size(arr);
    if (!n) return NULL;
    if (n > GH_SLACK_MAX_IDS) n = GH_SLACK_MAX_IDS;
    const json_t *alerts[GH_SLACK_MAX_IDS];
    for (size_t i = 0; i < n; i++) alerts[i] = json_array_get(arr, i);
    const json_t *first = alerts[0], *last = alerts[n - 1];
    const char *kind = s_get_str(last, "kind"), *state = s_get_str(last, "state");
    int resolved = !strcmp(state, "resolved");
    size_t firings = gh_slack_firings(arr), resolves = 0;
    for (size_t i = 0; i < n; i++) resolves += !strcmp(s_get_str(alerts[i], "state"), "resolved");
    int flapping = firings > 1;
    json_t *msg = json_object(), *blocks = json_array();
    s_sb_t sb = { 0 };
    char a[64], b[64], c[64], m[1400];
    s_meaning(m, sizeof m, last);

    /* fallback text: what a notification shows */
    s_sb_puts(&sb, "[ghost] ");
    if (flapping) s_sb_printf(&sb, "Flapping (%zu firings): ", firings);
    s_summary(&sb, alerts, n, 0);
    char *t = s_sb_take(&sb);
    memset(&sb, 0, sizeof sb);
    json_object_set_new(msg, "text", json_string(t ? t : "[ghost] alert"));
    free(t);

    /* header (plain text, no mrkdwn escaping): kind and what the key means */
    s_sb_printf(&sb, "%s %s%s: ", s_emoji(kind, state, flapping),
                flapping ? "Flapping \xE2\x80\x94 " : resolved ? "Resolved \xE2\x80\x94 " : "", s_kind_title(kind));
    size_t room = sb.chars + 12 < GH_SLACK_MAX_HEADER ? GH_SLACK_MAX_HEADER - sb.chars - 12 : 0;
    if (s_chars(m, strlen(m)) <= room) s_sb_puts(&sb, m);
    else { /* plain text: no escaping, cut at a character boundary */
        size_t cut = 0, chars = 0;
        while (m[cut] && chars + 2 < room) {
            unsigned char ch = (unsigned char)m[cut];
            size_t l = ch < 0x80 ? 1 : ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : ch >= 0xC0 ? 2 : 1;
            chars += ch >= 0xF0 ? 2 : 1;
            cut += l;
        }
        s_sb_put(&sb, m, cut);
        s_sb_puts(&sb, " \xE2\x80\xA6");
    }
    if (n > 1 && !flapping) s_sb_printf(&sb, " (\xC3\x97%zu)", n);
    t = s_sb_take(&sb);
    memset(&sb, 0, sizeof sb);
    json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "header", "text", s_text_obj("plain_text", t ? t : "ghost")));
    free(t);

    /* facts as fields: rate, host, window in the reader's terms, events */
    int64_t start = gh_rfc3339_parse_ms(s_get_str(first, "start")), end = gh_rfc3339_parse_ms(s_get_str(last, "end"));
    json_t *fields = json_array();
    if (strcmp(kind, "new_template")) {
        s_sb_puts(&sb, resolved ? "*Rate at the end*\n" : "*Rate*\n");
        s_rate_text(&sb, last);
        s_add_field(fields, &sb);
    }
    const char *host = s_get_str(last, "host"), *cls = s_get_str(last, "class");
    s_sb_puts(&sb, "*Host*\n");
    if (*host) s_sb_user(&sb, host, 200, 0);
    else s_sb_puts(&sb, "several hosts");
    s_add_field(fields, &sb);
    if (start) {
        s_fmt_clock(a, sizeof a, start, now_ms);
        if (resolved || flapping) {
            s_fmt_clock(b, sizeof b, end > start ? end : start, now_ms);
            s_fmt_span(c, sizeof c, end > start ? end - start : 0);
            s_sb_printf(&sb, "*Window*\n%s \xE2\x80\x93 %s (%s)", a, b, c);
        } else {
            s_fmt_rel(b, sizeof b, start, now_ms);
            s_sb_printf(&sb, "*%s*\n%s %s, %s", !strcmp(kind, "new_template") ? "First seen" : "Window",
                        !strcmp(kind, "new_template") ? "at" : "started", a, b);
        }
        s_add_field(fields, &sb);
    }
    double count = s_get_num(last, "count");
    s_fmt_num(a, sizeof a, count);
    s_sb_printf(&sb, "*Events*\n%s%s", a, !strcmp(kind, "forecast") ? " in the last bucket" : resolved ? " in total" : "");
    if (*cls) {
        s_sb_puts(&sb, ", class ");
        s_sb_user(&sb, cls, 200, 0);
    }
    s_add_field(fields, &sb);
    json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "section", "fields", fields));

    /* resolve and flap notes */
    if (flapping) {
        s_sb_printf(&sb, ":repeat: Fired *%zu times* and resolved *%zu times*; held and summarised in this one message "
                         "(flap damping). Now *%s*.", firings, resolves, resolved ? "resolved" : "firing");
        s_add_section(blocks, &sb);
    } else if (resolved) {
        char uid[192];
        s_sb_puts(&sb, "Resolves alert `");
        s_sb_user(&sb, s_get_str(last, "id"), 100, 1);
        s_sb_puts(&sb, "`");
        if (start) {
            s_fmt_clock(a, sizeof a, start, now_ms);
            s_sb_printf(&sb, ", which fired at %s", a);
        }
        s_sb_puts(&sb, n > 1 && strcmp(gh_alert_uid(first, uid, sizeof uid), s_get_str(last, "id")) ? "." :
                       n > 1 ? "; it fired and ended within this message's group window." : ".");
        s_add_section(blocks, &sb);
    }

    /* template and example, in code formatting */
    s_sb_puts(&sb, "*Template*\n```");
    s_sb_user(&sb, *s_get_str(last, "template") ? s_get_str(last, "template") : m, 1300, 1);
    s_sb_puts(&sb, "```");
    json_t *ex = json_object_get(last, "examples");
    if (json_array_size(ex)) {
        s_sb_puts(&sb, "\n*Example*\n```");
        s_sb_user(&sb, json_string_value(json_array_get(ex, 0)), 1300, 1);
        s_sb_puts(&sb, "```");
    }
    s_add_section(blocks, &sb);

    /* sparkline */
    json_t *series = json_object_get(last, "series");
    if (json_array_size(series)) {
        char spark[GH_SLACK_MAX_IDS * 4 + 16];
        gh_slack_sparkline(series, spark, sizeof spark);
        double hi = -INFINITY, f = s_per_min(last);
        for (size_t i = 0; i < json_array_size(series); i++) {
            json_t *v = json_array_get(series, i);
            if (json_is_number(v)) hi = fmax(hi, json_number_value(v));
        }
        s_fmt_num(a, sizeof a, hi * f);
        s_fmt_span(b, sizeof b, (int64_t)(json_array_size(series) * 60000.0 / f));
        s_sb_printf(&sb, "`%s`  last %s, peak %s/min", spark, b, a);
        s_add_section(blocks, &sb);
    }

    /* forecast */
    if (json_is_object(json_object_get(last, "forecast")) && !resolved) {
        s_forecast(&sb, last, now_ms);
        s_add_section(blocks, &sb);
    }
    s_sb_puts(&sb, "key `");
    s_sb_user(&sb, s_get_str(last, "key"), 200, 1);
    s_sb_puts(&sb, "`");
    double score = s_get_num(last, "score");
    if (isfinite(score)) s_sb_printf(&sb, " \xC2\xB7 score %.2f", score);
    if (n > 1) s_sb_printf(&sb, " \xC2\xB7 %zu alerts grouped", n);
    json_array_append_new(blocks, json_pack("{s:s, s:[o]}", "type", "context", "elements",
                                            s_text_obj("mrkdwn", sb.p ? sb.p : "")));
    free(sb.p);
    memset(&sb, 0, sizeof sb);
    s_add_ids(blocks, alerts, n);
    json_object_set_new(msg, "blocks", blocks);
    return msg;
}

json_t *gh_slack_digest_message(const json_t *groups, int64_t now_ms) {
    (void)now_ms;
    size_t ng = json_array_size(groups), total = 0;
    if (!ng) return NULL;
    if (ng > GH_SLACK_DIGEST_MAX_GROUPS) ng = GH_SLACK_DIGEST_MAX_GROUPS;
    const json_t *ids[GH_SLACK_MAX_IDS];
    size_t nids = 0;
    for (size_t g = 0; g < ng; g++) total += json_array_size(json_array_get(groups, g));
    json_t *msg = json_object(), *blocks = json_array();
    s_sb_t sb = { 0 };
    s_sb_printf(&sb, ":package: ghost digest: %zu alerts for %zu keys", total, ng);
    json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "header", "text", s_text_obj("plain_text", sb.p)));
    free(sb.p);
    memset(&sb, 0, sizeof sb);
    s_sb_printf(&sb, "[ghost] digest: %zu alerts for %zu keys (rate limit reached, folded into one message)", total, ng);
    json_object_set_new(msg, "text", json_string(sb.p));
    free(sb.p);
    memset(&sb, 0, sizeof sb);
    s_sb_puts(&sb, "More alerts arrived than Slack's rate limit allows; they are folded into this digest.");
    s_add_section(blocks, &sb);
    for (size_t g = 0; g < ng; g++) {
        const json_t *arr = json_array_get(groups, g);
        size_t n = json_array_size(arr);
        const json_t *al[GH_SLACK_MAX_IDS];
        size_t k = 0;
        for (size_t i = 0; i < n && k < GH_SLACK_MAX_IDS; i++) al[k++] = json_array_get(arr, i);
        if (!k) continue;
        s_summary(&sb, al, k, 1);
        const char *tpl = s_get_str(al[k - 1], "template");
        if (*tpl) {
            s_sb_puts(&sb, "\n`");
            s_sb_user(&sb, tpl, 300, 1);
            s_sb_puts(&sb, "`");
        }
        s_add_section(blocks, &sb);
        for (size_t i = 0; i < k && nids < GH_SLACK_MAX_IDS; i++) ids[nids++] = al[i];
    }
    s_add_ids(blocks, ids, nids);
    json_object_set_new(msg, "blocks", blocks);
    return msg;
}

/* ---- limits ------------------------------------------------------------- */

static int s_too_long(const json_t *textobj, size_t max) {
    const char *s = json_string_value(json_object_get(textobj, "text"));
    return !s || s_chars(s, strlen(s)) > max;
}

int gh_slack_check_limits(const json_t *p, char *why, size_t len) {
    char dummy[8];
    if (!why) why = dummy, len = sizeof dummy;
    const char *text = json_string_value(json_object_get(p, "text"));
    json_t *blocks = json_object_get(p, "blocks");
    if (!text && !blocks) return snprintf(why, len, "neither text nor blocks"), -1;
    if (text && s_chars(text, strlen(text)) > GH_SLACK_MAX_TEXT) return snprintf(why, len, "text too long"), -1;
    if (json_array_size(blocks) > GH_SLACK_MAX_BLOCKS) return snprintf(why, len, "too many blocks"), -1;
    for (size_t i = 0; i < json_array_size(blocks); i++) {
        json_t *b = json_array_get(blocks, i);
        const char *type = json_string_value(json_object_get(b, "type"));
        if (!type) return snprintf(why, len, "block %zu has no type", i), -1;
        if (!strcmp(type, "header") && s_too_long(json_object_get(b, "text"), GH_SLACK_MAX_HEADER))
            return snprintf(why, len, "header %zu too long", i), -1;
        if (!strcmp(type, "section")) {
            json_t *t = json_object_get(b, "text"), *f = json_object_get(b, "fields");
            if (!t && !f) return snprintf(why, len, "section %zu empty", i), -1;
            if (t && s_too_long(t, GH_SLACK_MAX_SECTION)) return snprintf(why, len, "section %zu too long", i), -1;
            if (json_array_size(f) > 10) return snprintf(why, len, "section %zu: too many fields", i), -1;
            for (size_t j = 0; j < json_array_size(f); j++)
                if (s_too_long(json_array_get(f, j), GH_SLACK_MAX_FIELD))
                    return snprintf(why, len, "section %zu field %zu too long", i, j), -1;
        }
        if (!strcmp(type, "context")) {
            json_t *e = json_object_get(b, "elements");
            if (!json_array_size(e) || json_array_size(e) > GH_SLACK_MAX_CONTEXT)
                return snprintf(why, len, "context %zu: bad element count", i), -1;
            for (size_t j = 0; j < json_array_size(e); j++)
                if (s_too_long(json_array_get(e, j), GH_SLACK_MAX_FIELD))
                    return snprintf(why, len, "context %zu element %zu too long", i, j), -1;
        }
    }
    return 0;
}

char *gh_url_redact(const char *url, char *buf, size_t len) {
    if (!url) return snprintf(buf, len, "(none)"), buf;
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    const char *at = strchr(h, '@'), *slash = strchr(h, '/');
    if (at && (!slash || at < slash)) h = at + 1; /* drop user:password@ */
    size_t scheme = (size_t)(strstr(url, "://") ? strstr(url, "://") + 3 - url : 0);
    size_t hn = slash ? (size_t)(slash - h) : strlen(h);
    snprintf(buf, len, "%.*s%.*s/***", (int)scheme, url, (int)hn, h);
    return buf;
}
