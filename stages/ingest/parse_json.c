/* parse_json.c -- JSON lines, parsed with jansson.
 *
 * A line is JSON when it starts (after blanks) with '{' and jansson accepts
 * the whole line as one object.  Every leaf becomes a field; nested objects
 * are flattened into dotted keys ("http.status"); strings are unescaped;
 * numbers are written in their shortest exact form; booleans and null as
 * true/false/null; arrays as compact JSON text.  Then, by the first key
 * found (a dotted key counts, so ECS's "log.level" works):
 *   time   time, timestamp, ts, @timestamp, datetime, date, t, Timestamp,
 *          Time, @t (Serilog), __REALTIME_TIMESTAMP (journalctl -o json),
 *          timeMillis, instant.epochSecond+nanoOfSecond (log4j2), time_iso8601,
 *          time_local (nginx), eventTime, event_time, asctime, created (Python),
 *          logtime, log_time: ISO 8601 with zones, CLF, RFC 2822, or epoch
 *          seconds/ms/us/ns (by magnitude), number or text
 *   level  level, severity, lvl, loglevel, log.level, levelname, log_level,
 *          Level, Severity, @l, severity_text, severityText, PRIORITY
 *          (journald): words or numbers (syslog 0..7, pino 10..60); without
 *          one, an HTTP status (status, status_code, http.status, ...: 5xx
 *          err, 4xx warning), or a "log"/"MESSAGE" text's level word; else
 *          info
 *   msg    msg, message, log (docker json-file, CRI), short_message (GELF),
 *          MESSAGE, Message, @m, @mt, body; trailing newlines dropped; the
 *          whole line when absent
 *   host   host, hostname, host.name, host.hostname, _HOSTNAME
 */
#include "ingest/parse_int.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* jansson builds a DOM with one malloc per node and string; a line's tree
 * lives only inside gh_ps_json().  So while a line is parsed, jansson
 * allocates from a per-thread bump arena that is reset for the next line
 * (free is a no-op inside it); outside a parse, and past the arena's end, it
 * is plain malloc/free.  The allocator is process-wide (json_set_alloc_funcs):
 * other jansson users in the process keep working, their blocks are never in
 * the arena. */
#define S_ARENA_SIZE (128u << 10)
static _Thread_local struct {
    size_t used;
    int active;
    _Alignas(16) unsigned char mem[S_ARENA_SIZE];
} s_arena;

static void *s_json_malloc(size_t n) {
    if (s_arena.active) {
        size_t a = (n + 15) & ~(size_t)15;
        if (a >= n && a <= S_ARENA_SIZE - s_arena.used) {
            void *p = s_arena.mem + s_arena.used;
            s_arena.used += a;
            return p;
        }
    }
    return malloc(n);
}

static void s_json_free(void *p) {
    unsigned char *c = p;
    if (c >= s_arena.mem && c < s_arena.mem + S_ARENA_SIZE) return; /* reclaimed when the line is done */
    free(p);
}

static void s_arena_begin(void) {
    static int set;
    if (!set) { /* first use in the process */
        json_set_alloc_funcs(s_json_malloc, s_json_free);
        set = 1;
    }
    s_arena.used = 0;
    s_arena.active = 1;
}

static void s_arena_end(void) {
    s_arena.active = 0;
    s_arena.used = 0;
}

/* Append the leaves of v under the key path in p->scratch[0..kn). */
static void s_flatten(gh_parser_t *p, json_t *v, size_t kn, int depth) {
    char num[64];
    int len;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *c;
        if (depth > 32 || json_object_size(v) == 0) {
            if (kn) gh_ps_add(p, p->scratch, kn, "{}", 2, 0);
            return;
        }
        json_object_foreach(v, k, c) {
            size_t l = strlen(k), nk = kn + (kn ? 1 : 0) + l;
            if (gh_ps_scratch(p, nk + 1) != 0) { p->oom = 1; return; }
            if (kn) p->scratch[kn] = '.';
            memcpy(p->scratch + nk - l, k, l);
            s_flatten(p, c, nk, depth + 1);
        }
        return;
    }
    case JSON_STRING:
        gh_ps_add(p, p->scratch, kn, json_string_value(v), json_string_length(v), 0);
        return;
    case JSON_INTEGER: {
        /* decimal digits written backwards: snprintf costs more than the rest */
        json_int_t x = json_integer_value(v);
        unsigned long long u = x < 0 ? 0ull - (unsigned long long)x : (unsigned long long)x;
        char *e = num + sizeof num, *d = e;
        do { *--d = (char)('0' + u % 10); u /= 10; } while (u);
        if (x < 0) *--d = '-';
        gh_ps_add(p, p->scratch, kn, d, (size_t)(e - d), 0);
        return;
    }
    case JSON_REAL: {
        double d = json_real_value(v);
        len = snprintf(num, sizeof num, "%.15g", d);
        if (strtod(num, NULL) != d) len = snprintf(num, sizeof num, "%.17g", d);
        gh_ps_add(p, p->scratch, kn, num, (size_t)len, 0);
        return;
    }
    case JSON_TRUE: gh_ps_add(p, p->scratch, kn, "true", 4, 0); return;
    case JSON_FALSE: gh_ps_add(p, p->scratch, kn, "false", 5, 0); return;
    case JSON_NULL: gh_ps_add(p, p->scratch, kn, "null", 4, 0); return;
    case JSON_ARRAY: {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (s) gh_ps_add(p, p->scratch, kn, s, strlen(s), 0);
        s_json_free(s);
        return;
    }
    }
}

static long s_first(gh_parser_t *p, const char *const *keys) {
    for (; *keys; keys++) {
        long i = gh_ps_find(p, *keys, strlen(*keys));
        if (i >= 0) return i;
    }
    return -1;
}

int gh_ps_json(gh_parser_t *p, const char *line, size_t n, int64_t now_ms) {
    size_t i = 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t')) i++;
    if (i >= n || line[i] != '{') return -1;
    json_error_t jerr;
    s_arena_begin();
    json_t *root = json_loadb(line + i, n - i, JSON_ALLOW_NUL, &jerr);
    if (!root) { s_arena_end(); return -1; }
    if (!json_is_object(root)) { json_decref(root); s_arena_end(); return -1; }
    if (gh_ps_scratch(p, 256) != 0) { json_decref(root); s_arena_end(); p->oom = 1; return -1; }
    s_flatten(p, root, 0, 0);
    json_decref(root);
    s_arena_end();
    if (p->oom) return -1;

    static const char *const tkeys[] = { "time", "timestamp", "ts", "@timestamp", "datetime", "date", "t",
                                         "Timestamp", "Time", "@t", "__REALTIME_TIMESTAMP", "timeMillis",
                                         "time_iso8601", "time_local", "eventTime", "event_time", "asctime",
                                         "created", "logtime", "log_time", NULL };
    static const char *const lkeys[] = { "level", "severity", "lvl", "loglevel", "log.level", "levelname",
                                         "log_level", "Level", "Severity", "@l", "severity_text", "severityText",
                                         "PRIORITY", NULL };
    static const char *const mkeys[] = { "msg", "message", "log", "short_message", "MESSAGE", "Message", "@m",
                                         "@mt", "body", NULL };
    static const char *const hkeys[] = { "host", "hostname", "host.name", "host.hostname", "_HOSTNAME", NULL };
    long k = s_first(p, tkeys);
    int64_t ms;
    if (k >= 0 && gh_ps_time_text(gh_ps_val(p, k), p->pf[k].vn, now_ms, &ms) == 0) {
        p->ts_ms = ms;
        p->has_ts = 1;
    } else {
        /* log4j2's JsonLayout: "instant":{"epochSecond":..,"nanoOfSecond":..} */
        long es = gh_ps_find(p, "instant.epochSecond", 19), ns = gh_ps_find(p, "instant.nanoOfSecond", 20);
        if (es >= 0) {
            p->ts_ms = (int64_t)strtoll(gh_ps_val(p, es), NULL, 10) * 1000 +
                       (ns >= 0 ? strtoll(gh_ps_val(p, ns), NULL, 10) / 1000000 : 0);
            p->has_ts = 1;
        }
    }
    k = s_first(p, lkeys);
    int has_level = 0;
    if (k >= 0) {
        int lvl = gh_ps_level_value(gh_ps_val(p, k), p->pf[k].vn);
        if (lvl >= 0) { p->level = lvl; has_level = 1; }
    }
    if (!has_level) {
        /* JSON access logs: the HTTP status, as for the text ones */
        static const char *const skeys[] = { "status", "status_code", "http.status", "http.status_code",
                                             "http.response.status_code", "response.status", NULL };
        long st = s_first(p, skeys);
        if (st >= 0 && p->pf[st].vn == 3) {
            const char *v = gh_ps_val(p, st);
            if (v[0] >= '1' && v[0] <= '5' && isdigit((unsigned char)v[1]) && isdigit((unsigned char)v[2])) {
                p->level = v[0] == '5' ? GH_LVL_ERR : v[0] == '4' ? GH_LVL_WARNING : GH_LVL_INFO;
                has_level = 1;
            }
        }
    }
    k = s_first(p, mkeys);
    if (k >= 0) {
        size_t vn = p->pf[k].vn;
        const char *v = gh_ps_val(p, k), *key = gh_ps_key(p, k);
        /* docker json-file and CRI carry the raw line, newline included */
        while (vn && (v[vn - 1] == '\n' || v[vn - 1] == '\r')) vn--;
        p->msg = gh_pref_arena(p->pf[k].vo, vn);
        /* a raw text line carried in JSON (docker's "log", journald's
         * "MESSAGE") has its level, if any, in the text */
        if (!has_level && (!strcmp(key, "log") || !strcmp(key, "MESSAGE"))) p->level = gh_ps_guess_level(v, vn);
    } else {
        p->msg = gh_pref_ext(line, n);
    }
    k = s_first(p, hkeys);
    if (k >= 0) p->host = gh_pref_arena(p->pf[k].vo, p->pf[k].vn);
    return 0;
}
