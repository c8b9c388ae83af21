/* alert_json.c -- alert -> JSON object, see alert_json.h. */
#include "alert/alert_json.h"
#include "clock.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is invalid. */
static size_t s_utf8_len(const unsigned char *p, size_t n) {
    unsigned c = p[0];
    if (c < 0x80) return c ? 1 : 0; /* NUL would truncate C consumers; treat as bad */
    size_t len;
    unsigned min;
    if ((c & 0xE0) == 0xC0) len = 2, min = 0x80;
    else if ((c & 0xF0) == 0xE0) len = 3, min = 0x800;
    else if ((c & 0xF8) == 0xF0) len = 4, min = 0x10000;
    else return 0;
    if (len > n) return 0;
    unsigned cp = c & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

json_t *gh_json_string_lossy(const char *p, size_t n) {
    if (!p) return json_string("");
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 0;
    while (i < n) {
        size_t l = s_utf8_len(u + i, n - i);
        if (!l) break;
        i += l;
    }
    if (i == n) return json_stringn(p, n);
    char *buf = malloc(n * 3 + 1), *o = buf; /* each bad byte grows to 3 */
    if (!buf) return NULL;
    for (i = 0; i < n;) {
        size_t l = s_utf8_len(u + i, n - i);
        if (l) {
            memcpy(o, p + i, l);
            o += l;
            i += l;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    json_t *s = json_stringn(buf, (size_t)(o - buf));
    free(buf);
    return s;
}

static json_t *s_str(gh_str_t s) { return gh_json_string_lossy(s.p, s.n); }
static json_t *s_num(double d) { return isfinite(d) ? json_real(d) : json_null(); }
static json_t *s_time(int64_t ms) {
    char buf[40];
    return json_string(gh_rfc3339_ms(ms, buf, sizeof buf));
}

json_t *gh_alert_json(const gh_alert_t *a) {
    if (!a || !a->id.p || !a->id.n) return NULL;
    json_t *o = json_object();
    if (!o) return NULL;
    int err = 0;
    err |= json_object_set_new(o, "id", s_str(a->id));
    err |= json_object_set_new(o, "kind", a->kind.n ? s_str(a->kind) : json_string("burst"));
    err |= json_object_set_new(o, "state", a->state.n ? s_str(a->state) : json_string("firing"));
    err |= json_object_set_new(o, "key", s_str(a->key));
    err |= json_object_set_new(o, "template", s_str(a->tpl));
    err |= json_object_set_new(o, "class", s_str(a->cls));
    if (a->host.n) err |= json_object_set_new(o, "host", s_str(a->host));
    err |= json_object_set_new(o, "start", s_time(a->start_ms));
    err |= json_object_set_new(o, "end", s_time(a->end_ms));
    err |= json_object_set_new(o, "count", s_num(a->count));
    err |= json_object_set_new(o, "rate", s_num(a->rate));
    err |= json_object_set_new(o, "baseline", s_num(a->baseline));
    err |= json_object_set_new(o, "score", s_num(a->score));
    json_t *ex = json_array(), *se = json_array();
    for (uint32_t i = 0; ex && i < a->nexamples && i < GH_MAX_EXAMPLES; i++)
        err |= json_array_append_new(ex, s_str(a->examples[i]));
    for (uint32_t i = 0; se && i < a->nseries && i < GH_MAX_SERIES; i++)
        err |= json_array_append_new(se, s_num(a->series[i]));
    err |= json_object_set_new(o, "examples", ex);
    err |= json_object_set_new(o, "series", se);
    if (a->has_forecast) {
        json_t *f = json_object();
        if (f) {
            err |= json_object_set_new(f, "method", a->fc_method.n ? s_str(a->fc_method) : json_string("holt"));
            err |= json_object_set_new(f, "horizon_s", s_num(a->fc_horizon_s));
            err |= json_object_set_new(f, "predicted", s_num(a->fc_predicted));
            err |= json_object_set_new(f, "lower", s_num(a->fc_lower));
            err |= json_object_set_new(f, "upper", s_num(a->fc_upper));
            err |= json_object_set_new(f, "threshold", s_num(a->fc_threshold));
            err |= json_object_set_new(f, "crosses_at", a->fc_crosses_at_ms ? s_time(a->fc_crosses_at_ms) : json_null());
        }
        err |= json_object_set_new(o, "forecast", f);
    }
    if (err) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int gh_alert_to_json(const gh_alert_t *a, char **out) {
    *out = NULL;
    json_t *o = gh_alert_json(a);
    if (!o) return -1;
    *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(o);
    return *out ? 0 : -1;
}

char *gh_alert_uid(const json_t *a, char *buf, size_t len) {
    const char *id = json_string_value(json_object_get(a, "id"));
    const char *st = json_string_value(json_object_get(a, "state"));
    if (!id) id = "";
    if (!st || !*st || !strcmp(st, "firing")) {
        snprintf(buf, len, "%s", id);
    } else if (!strcmp(st, "update")) {
        /* updates differ by their end: keep its digits and the T */
        const char *e = json_string_value(json_object_get(a, "end"));
        char t[24];
        size_t n = 0;
        for (; e && *e && *e != '.' && *e != 'Z' && n + 1 < sizeof t; e++)
            if ((*e >= '0' && *e <= '9') || *e == 'T') t[n++] = *e;
        t[n] = 0;
        snprintf(buf, len, "%s/update@%s", id, t);
    } else {
        snprintf(buf, len, "%s/%.16s", id, st);
    }
    return buf;
}
