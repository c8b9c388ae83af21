/* slack.c -- Block Kit messages for alerts, see slack.h. */
#include "alert/slack.h"
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

static void s_fmt_span(char *buf, size_t len, int64_t ms) {
    int64_t s = ms / 1000;
    if (s < 60) snprintf(buf, len, "%lld s", (long long)s);
    else if (s < 7200) snprintf(buf, len, "%lld min", (long long)(s / 60));
    else if (s < 172800) snprintf(buf, len, "%lld h", (long long)(s / 3600));
    else snprintf(buf, len, "%lld days", (long long)(s / 86400));
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
    if (!strcmp(kind, "new_template")) return "New error template";
    if (!strcmp(kind, "forecast")) return "Forecast";
    return "Burst";
}

static const char *s_emoji(const char *kind, const char *state) {
    if (!strcmp(state, "resolved")) return ":white_check_mark:";
    if (!strcmp(kind, "forecast")) return ":chart_with_upwards_trend:";
    if (!strcmp(kind, "new_template")) return ":new:";
    return ":rotating_light:";
}

/* Appends context blocks listing every alert id (each element <= 2000
 * characters, <= 10 elements per block). */
static void s_add_ids(json_t *blocks, const json_t *const *alerts, size_t n) {
    json_t *ctx = NULL, *elems = NULL;
    s_sb_t sb = { 0 };
    s_sb_puts(&sb, "ids: ");
    for (size_t i = 0; i <= n; i++) {
        const char *id = i < n ? s_get_str(alerts[i], "id") : NULL;
        if (!id || sb.chars + strlen(id) + 2 > GH_SLACK_MAX_FIELD - 10) {
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
        if (sb.n) s_sb_puts(&sb, ", ");
        s_sb_puts(&sb, "`");
        s_sb_user(&sb, id, 100, 1);
        s_sb_puts(&sb, "`");
    }
}

/* One line summary of a group, for the text fallback and digests. */
static void s_summary(s_sb_t *sb, const json_t *const *alerts, size_t n, int mrkdwn) {
    const json_t *last = alerts[n - 1];
    const char *kind = s_get_str(last, "kind"), *state = s_get_str(last, "state");
    double count = 0;
    for (size_t i = 0; i < n; i++) {
        double c = s_get_num(alerts[i], "count");
        if (isfinite(c)) count += c;
    }
    char c[32], r[32], b[32];
    s_fmt_num(c, sizeof c, count);
    s_fmt_num(r, sizeof r, s_get_num(last, "rate"));
    s_fmt_num(b, sizeof b, s_get_num(last, "baseline"));
    s_sb_printf(sb, "%s%s%s%s: ", mrkdwn ? "*" : "", !strcmp(state, "resolved") ? "Resolved " : "",
                s_kind_title(kind), mrkdwn ? "*" : "");
    if (mrkdwn) s_sb_puts(sb, "`");
    s_sb_user(sb, s_get_str(last, "key"), 200, mrkdwn);
    if (mrkdwn) s_sb_puts(sb, "`");
    if (n > 1) s_sb_printf(sb, " (%zu alerts)", n);
    s_sb_printf(sb, " \xE2\x80\x94 %s events, rate %s/s vs baseline %s/s", c, r, b);
    const char *host = s_get_str(last, "host");
    if (*host) {
        s_sb_puts(sb, ", host ");
        s_sb_user(sb, host, 100, 0);
    }
}

json_t *gh_slack_group_message(const json_t *arr, int64_t now_ms) {
    size_t n = json_array_size(arr);
    if (!n) return NULL;
    if (n > GH_SLACK_MAX_IDS) n = GH_SLACK_MAX_IDS;
    const json_t *alerts[GH_SLACK_MAX_IDS];
    for (size_t i = 0; i < n; i++) alerts[i] = json_array_get(arr, i);
    const json_t *first = alerts[0], *last = alerts[n - 1];
    const char *kind = s_get_str(last, "kind"), *state = s_get_str(last, "state");
    json_t *msg = json_object(), *blocks = json_array();
    s_sb_t sb = { 0 };
    char a[64], b[64], c[64];

    /* fallback text */
    s_sb_puts(&sb, "[ghost] ");
    s_summary(&sb, alerts, n, 0);
    char *t = s_sb_take(&sb);
    memset(&sb, 0, sizeof sb);
    json_object_set_new(msg, "text", json_string(t ? t : "[ghost] alert"));
    free(t);

    /* header (plain text, no mrkdwn escaping) */
    s_sb_printf(&sb, "%s %s%s: ", s_emoji(kind, state), !strcmp(state, "resolved") ? "Resolved \xE2\x80\x94 " : "",
                s_kind_title(kind));
    size_t room = sb.chars + 12 < GH_SLACK_MAX_HEADER ? GH_SLACK_MAX_HEADER - sb.chars - 12 : 0;
    const char *key = s_get_str(last, "key");
    if (s_chars(key, strlen(key)) <= room) s_sb_puts(&sb, key);
    else { /* plain text: no escaping, cut at a character boundary */
        size_t cut = 0, chars = 0;
        while (key[cut] && chars + 2 < room) {
            unsigned char ch = (unsigned char)key[cut];
            size_t l = ch < 0x80 ? 1 : ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : ch >= 0xC0 ? 2 : 1;
            chars += ch >= 0xF0 ? 2 : 1;
            cut += l;
        }
        s_sb_put(&sb, key, cut);
        s_sb_puts(&sb, "\xE2\x80\xA6");
    }
    if (n > 1) s_sb_printf(&sb, " (\xC3\x97%zu)", n);
    t = s_sb_take(&sb);
    memset(&sb, 0, sizeof sb);
    json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "header", "text", s_text_obj("plain_text", t ? t : "ghost")));
    free(t);

    /* template and example, in code formatting */
    s_sb_puts(&sb, "*Template*\n```");
    s_sb_user(&sb, s_get_str(last, "template"), 1300, 1);
    s_sb_puts(&sb, "```");
    json_t *ex = json_object_get(last, "examples");
    if (json_array_size(ex)) {
        s_sb_puts(&sb, "\n*Example*\n```");
        s_sb_user(&sb, json_string_value(json_array_get(ex, 0)), 1300, 1);
        s_sb_puts(&sb, "```");
    }
    s_add_section(blocks, &sb);

    /* facts as fields */
    json_t *fields = json_array();
    double count = 0;
    for (size_t i = 0; i < n; i++) {
        double v = s_get_num(alerts[i], "count");
        if (isfinite(v)) count += v;
    }
    double rate = s_get_num(last, "rate"), base = s_get_num(last, "baseline");
    s_fmt_num(a, sizeof a, rate);
    s_fmt_num(b, sizeof b, base);
    s_sb_printf(&sb, "*Rate*\n%s/s vs baseline %s/s", a, b);
    if (isfinite(rate) && isfinite(base) && base > 0) s_sb_printf(&sb, " (\xC3\x97%.1f)", rate / base);
    json_array_append_new(fields, s_text_obj("mrkdwn", sb.p));
    free(sb.p);
    memset(&sb, 0, sizeof sb);
    s_fmt_num(a, sizeof a, count);
    s_sb_printf(&sb, "*Count*\n%s events%s", a, n > 1 ? " (grouped)" : "");
    json_array_append_new(fields, s_text_obj("mrkdwn", sb.p));
    free(sb.p);
    memset(&sb, 0, sizeof sb);
    const char *host = s_get_str(last, "host"), *cls = s_get_str(last, "class");
    if (*host) {
        s_sb_puts(&sb, "*Host*\n");
        s_sb_user(&sb, host, 200, 0);
        json_array_append_new(fields, s_text_obj("mrkdwn", sb.p));
        free(sb.p);
        memset(&sb, 0, sizeof sb);
    }
    if (*cls) {
        s_sb_puts(&sb, "*Class*\n");
        s_sb_user(&sb, cls, 200, 0);
        json_array_append_new(fields, s_text_obj("mrkdwn", sb.p));
        free(sb.p);
        memset(&sb, 0, sizeof sb);
    }
    int64_t start = gh_rfc3339_parse_ms(s_get_str(first, "start")), end = gh_rfc3339_parse_ms(s_get_str(last, "end"));
    if (start) {
        s_fmt_clock(a, sizeof a, start, now_ms);
        s_sb_printf(&sb, "*Window*\nstarted %s", a);
        if (now_ms >= start && now_ms - start < 86400000LL) {
            s_fmt_span(b, sizeof b, now_ms - start);
            s_sb_printf(&sb, ", %s ago", b);
        } else if (end > start) {
            s_fmt_span(b, sizeof b, end - start);
            s_sb_printf(&sb, ", lasted %s", b);
        }
        json_array_append_new(fields, s_text_obj("mrkdwn", sb.p));
        free(sb.p);
        memset(&sb, 0, sizeof sb);
    }
    json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "section", "fields", fields));

    /* sparkline */
    json_t *series = json_object_get(last, "series");
    if (json_array_size(series)) {
        char spark[GH_SLACK_MAX_IDS * 4 + 16];
        gh_slack_sparkline(series, spark, sizeof spark);
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < json_array_size(series); i++) {
            json_t *v = json_array_get(series, i);
            if (!json_is_number(v)) continue;
            lo = fmin(lo, json_number_value(v));
            hi = fmax(hi, json_number_value(v));
        }
        s_fmt_num(a, sizeof a, lo);
        s_fmt_num(b, sizeof b, hi);
        s_sb_printf(&sb, "*Series* `%s`  (min %s, max %s)", spark, a, b);
        s_add_section(blocks, &sb);
    }

    /* forecast */
    json_t *fc = json_object_get(last, "forecast");
    if (json_is_object(fc)) {
        s_fmt_num(a, sizeof a, s_get_num(fc, "predicted"));
        s_fmt_num(b, sizeof b, s_get_num(fc, "threshold"));
        s_sb_puts(&sb, "*Forecast* (");
        s_sb_user(&sb, s_get_str(fc, "method"), 40, 0);
        double h = s_get_num(fc, "horizon_s");
        s_fmt_span(c, sizeof c, isfinite(h) && h > 0 ? (int64_t)(h * 1000) : 0);
        s_sb_printf(&sb, ", horizon %s): predicted %s", c, a);
        double lo = s_get_num(fc, "lower"), up = s_get_num(fc, "upper");
        if (isfinite(lo) && isfinite(up)) {
            s_fmt_num(a, sizeof a, lo);
            s_fmt_num(c, sizeof c, up);
            s_sb_printf(&sb, " (interval %s\xE2\x80\x93%s)", a, c);
        }
        s_sb_printf(&sb, ", threshold %s\n", b);
        int64_t cross = gh_rfc3339_parse_ms(json_string_value(json_object_get(fc, "crosses_at")));
        if (cross) {
            s_fmt_clock(a, sizeof a, cross, now_ms);
            s_sb_printf(&sb, "Crosses the threshold at *%s*", a);
            if (cross > now_ms && cross - now_ms < 86400000LL) {
                s_fmt_span(b, sizeof b, cross - now_ms);
                s_sb_printf(&sb, " (in %s)", b);
            }
        } else {
            s_sb_puts(&sb, "Not expected to cross within the horizon");
        }
        s_add_section(blocks, &sb);
    }
    if (n > 1) {
        s_sb_printf(&sb, "%zu alerts for this key were grouped into this message.", n);
        json_array_append_new(blocks, json_pack("{s:s, s:[o]}", "type", "context", "elements",
                                                s_text_obj("mrkdwn", sb.p ? sb.p : "")));
        free(sb.p);
        memset(&sb, 0, sizeof sb);
    }
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
