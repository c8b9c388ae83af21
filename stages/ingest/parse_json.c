/* parse_json.c -- JSON lines, parsed with yajl's callbacks (jansson's tree
 * for the lines yajl's events cannot reproduce exactly).
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
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

/* The keys the record's ts, level, msg and host are read from (the lists in
 * gh_ps_json): all that is kept when the parser's fields are off. */
static const gh_pkey_t s_used[] = {
    GH_PKEY("time"), GH_PKEY("timestamp"), GH_PKEY("ts"), GH_PKEY("@timestamp"), GH_PKEY("datetime"),
    GH_PKEY("date"), GH_PKEY("t"), GH_PKEY("Timestamp"), GH_PKEY("Time"), GH_PKEY("@t"),
    GH_PKEY("__REALTIME_TIMESTAMP"), GH_PKEY("timeMillis"), GH_PKEY("time_iso8601"), GH_PKEY("time_local"),
    GH_PKEY("eventTime"), GH_PKEY("event_time"), GH_PKEY("asctime"), GH_PKEY("created"), GH_PKEY("logtime"),
    GH_PKEY("log_time"), GH_PKEY("instant.epochSecond"), GH_PKEY("instant.nanoOfSecond"),
    GH_PKEY("level"), GH_PKEY("severity"), GH_PKEY("lvl"), GH_PKEY("loglevel"), GH_PKEY("log.level"),
    GH_PKEY("levelname"), GH_PKEY("log_level"), GH_PKEY("Level"), GH_PKEY("Severity"), GH_PKEY("@l"),
    GH_PKEY("severity_text"), GH_PKEY("severityText"), GH_PKEY("PRIORITY"),
    GH_PKEY("status"), GH_PKEY("status_code"), GH_PKEY("http.status"), GH_PKEY("http.status_code"),
    GH_PKEY("http.response.status_code"), GH_PKEY("response.status"),
    GH_PKEY("msg"), GH_PKEY("message"), GH_PKEY("log"), GH_PKEY("short_message"), GH_PKEY("MESSAGE"),
    GH_PKEY("Message"), GH_PKEY("@m"), GH_PKEY("@mt"), GH_PKEY("body"),
    GH_PKEY("host"), GH_PKEY("hostname"), GH_PKEY("host.name"), GH_PKEY("host.hostname"), GH_PKEY("_HOSTNAME"),
    { NULL, 0 }
};

/* Whether the leaf at key path k[0..kn) becomes a field. */
static int s_keep(const gh_parser_t *p, const char *k, size_t kn) {
    return p->fields || (kn && gh_ps_key_in(k, kn, s_used));
}

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

/* Append field scratch[0..kn) = the decimal text of x. */
static void s_add_int(gh_parser_t *p, size_t kn, long long x) {
    /* decimal digits written backwards: snprintf costs more than the rest */
    char num[32];
    unsigned long long u = x < 0 ? 0ull - (unsigned long long)x : (unsigned long long)x;
    char *e = num + sizeof num, *d = e;
    do { *--d = (char)('0' + u % 10); u /= 10; } while (u);
    if (x < 0) *--d = '-';
    gh_ps_add(p, p->scratch, kn, d, (size_t)(e - d), 0);
}

/* Append field scratch[0..kn) = x in its shortest exact form. */
static void s_add_real(gh_parser_t *p, size_t kn, double x) {
    char num[64];
    int len = snprintf(num, sizeof num, "%.15g", x);
    if (strtod(num, NULL) != x) len = snprintf(num, sizeof num, "%.17g", x);
    gh_ps_add(p, p->scratch, kn, num, (size_t)len, 0);
}

/* Append the leaves of v under the key path in p->scratch[0..kn). */
static void s_flatten(gh_parser_t *p, json_t *v, size_t kn, int depth) {
    if (!json_is_object(v) && !s_keep(p, p->scratch, kn)) return;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *c;
        if (depth > 32 || json_object_size(v) == 0) {
            if (kn && s_keep(p, p->scratch, kn)) gh_ps_add(p, p->scratch, kn, "{}", 2, 0);
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
    case JSON_INTEGER: s_add_int(p, kn, json_integer_value(v)); return;
    case JSON_REAL: s_add_real(p, kn, json_real_value(v)); return;
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

/* Parse line[0..n) (an object) with jansson and flatten it; 0 or -1. */
static int s_dom(gh_parser_t *p, const char *line, size_t n) {
    json_error_t jerr;
    s_arena_begin();
    json_t *root = json_loadb(line, n, JSON_ALLOW_NUL, &jerr);
    if (!root) { s_arena_end(); return -1; }
    if (!json_is_object(root)) { json_decref(root); s_arena_end(); return -1; }
    if (gh_ps_scratch(p, 256) != 0) { json_decref(root); s_arena_end(); p->oom = 1; return -1; }
    s_flatten(p, root, 0, 0);
    json_decref(root);
    s_arena_end();
    return p->oom ? -1 : 0;
}

/* ---- the event path ------------------------------------------------------
 *
 * yajl reports the line as events, and the fields s_flatten would append are
 * appended as the events come, without a tree.  The result must be exactly
 * s_dom's, so whatever the two libraries might treat differently sends the
 * line to s_dom instead (S_YJ_DOM):
 *   - bytes outside printable ASCII and "\u" escapes: jansson's checks of
 *     UTF-8, surrogates and NULs in keys are its own, and yajl takes \f and
 *     \v for blanks;
 *   - a key twice in one object (jansson keeps the last value at the first
 *     key's place);
 *   - integers beyond long long and reals beyond double (jansson rejects
 *     them), number text of 64 bytes or more;
 *   - an array whose field is kept (the field is jansson's dump of it);
 *   - nesting deeper than S_YJ_DEPTH (s_flatten's depth rule, jansson's
 *     own limit), more keys or key bytes in open objects than the tables hold;
 *   - anything but blanks after the object (yajl misses an unfinished
 *     token there);
 *   - anything yajl rejects (jansson decides).
 * The unit tests parse the same lines both ways and compare the records. */

#define S_YJ_DEPTH 32
#define S_YJ_KEYS 256
#define S_YJ_KBYTES 4096

enum { S_YJ_OK, S_YJ_DOM, S_YJ_OOM };

typedef struct {
    gh_parser_t *p;
    yajl_handle h;
    size_t end;                   /* bytes up to the root object's '}' (0: not seen) */
    int res;                      /* S_YJ_* */
    int depth;                    /* containers open, the root object included */
    int arr;                      /* arrays open: what is inside one is not flattened */
    size_t kn;                    /* key path of the next value in p->scratch */
    size_t base[S_YJ_DEPTH + 1];  /* key path of each open object */
    unsigned first[S_YJ_DEPTH + 1]; /* its first key in keys[] */
    size_t kfirst[S_YJ_DEPTH + 1];  /* kbytes when it opened */
    uint64_t kmask[S_YJ_DEPTH + 1]; /* its keys' s_yj_kbit: no bit, no duplicate */
    unsigned nkeys;               /* keys of the open objects */
    struct { const char *k; size_t len; } keys[S_YJ_KEYS];
    const char *line, *line_end;  /* a key inside the line is kept where it is */
    size_t kbytes;                /* kbuf: the keys yajl unescaped into its own buffer */
    char kbuf[S_YJ_KBYTES];
} s_yj_t;

#define S_YJ_STOP(y, r) ((y)->res = (r), 0)

/* A leaf value's field, unless inside an array or not kept. */
static int s_yj_leaf(s_yj_t *y, const char *v, size_t vn) {
    if (y->arr || !s_keep(y->p, y->p->scratch, y->kn)) return 1;
    gh_ps_add(y->p, y->p->scratch, y->kn, v, vn, 0);
    return y->p->oom ? S_YJ_STOP(y, S_YJ_OOM) : 1;
}

static int on_yj_null(void *ctx) { return s_yj_leaf(ctx, "null", 4); }
static int on_yj_bool(void *ctx, int b) { return b ? s_yj_leaf(ctx, "true", 4) : s_yj_leaf(ctx, "false", 5); }
static int on_yj_string(void *ctx, const unsigned char *s, size_t n) { return s_yj_leaf(ctx, (const char *)s, n); }

/* Every number is checked, kept or not (inside arrays too): jansson rejects
 * the whole line for one it cannot hold. */
static int on_yj_number(void *ctx, const char *s, size_t n) {
    s_yj_t *y = ctx;
    int keep = !y->arr && s_keep(y->p, y->p->scratch, y->kn);
    /* one pass over the (short) number text rather than three memchr calls */
    int integer = 1;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '.' || (s[i] | 0x20) == 'e') { integer = 0; break; }
    if (integer && n <= 18) {   /* 18 digits fit in a long long: no strtoll needed */
        if (!keep) return 1;
        /* yajl's integer text is -?[0-9]+ */
        size_t i = s[0] == '-';
        long long x = 0;
        for (; i < n; i++) x = x * 10 + (s[i] - '0');
        s_add_int(y->p, y->kn, s[0] == '-' ? -x : x);
        return y->p->oom ? S_YJ_STOP(y, S_YJ_OOM) : 1;
    }
    char num[64];
    if (n >= sizeof num) return S_YJ_STOP(y, S_YJ_DOM);
    memcpy(num, s, n);
    num[n] = '\0';
    errno = 0;
    if (integer) {   /* jansson's integer */
        long long x = strtoll(num, NULL, 10);
        if (errno == ERANGE) return S_YJ_STOP(y, S_YJ_DOM);
        if (keep) s_add_int(y->p, y->kn, x);
    } else {
        double x = strtod(num, NULL);
        if (isinf(x)) return S_YJ_STOP(y, S_YJ_DOM);
        if (keep) s_add_real(y->p, y->kn, x);
    }
    return y->p->oom ? S_YJ_STOP(y, S_YJ_OOM) : 1;
}

static int on_yj_start_map(void *ctx) {
    s_yj_t *y = ctx;
    if (++y->depth > S_YJ_DEPTH) return S_YJ_STOP(y, S_YJ_DOM);
    if (y->arr) return 1;
    y->base[y->depth] = y->kn;
    y->first[y->depth] = y->nkeys;
    y->kfirst[y->depth] = y->kbytes;
    y->kmask[y->depth] = 0;
    return 1;
}

/* A key's bit in its object's kmask: of its length and end bytes. */
static inline uint64_t s_yj_kbit(const unsigned char *k, size_t l) {
    unsigned h = l ? (unsigned)l * 7u + k[0] * 3u + k[l - 1] : 0;
    return (uint64_t)1 << (h & 63);
}

static int on_yj_key(void *ctx, const unsigned char *k, size_t l) {
    s_yj_t *y = ctx;
    if (y->arr) return 1;
    uint64_t bit = s_yj_kbit(k, l);
    if (y->kmask[y->depth] & bit) {   /* maybe a duplicate: compare */
        for (unsigned i = y->first[y->depth]; i < y->nkeys; i++)
            if (y->keys[i].len == l && !memcmp(y->keys[i].k, k, l)) return S_YJ_STOP(y, S_YJ_DOM);
    }
    y->kmask[y->depth] |= bit;
    if (y->nkeys == S_YJ_KEYS) return S_YJ_STOP(y, S_YJ_DOM);
    const char *kk = (const char *)k;
    if (kk < y->line || kk > y->line_end || l > (size_t)(y->line_end - kk)) {
        /* unescaped by yajl into a buffer it reuses: copied */
        if (l > S_YJ_KBYTES - y->kbytes) return S_YJ_STOP(y, S_YJ_DOM);
        memcpy(y->kbuf + y->kbytes, k, l);
        kk = y->kbuf + y->kbytes;
        y->kbytes += l;
    }
    y->keys[y->nkeys].k = kk;
    y->keys[y->nkeys++].len = l;
    /* the path as s_flatten builds it: "" at the top adds no dot */
    gh_parser_t *p = y->p;
    size_t kn = y->base[y->depth], nk = kn + (kn ? 1 : 0) + l;
    if (gh_ps_scratch(p, nk + 1) != 0) { p->oom = 1; return S_YJ_STOP(y, S_YJ_OOM); }
    if (kn) p->scratch[kn] = '.';
    memcpy(p->scratch + nk - l, k, l);
    y->kn = nk;
    return 1;
}

static int on_yj_end_map(void *ctx) {
    s_yj_t *y = ctx;
    if (!y->arr) {
        unsigned f = y->first[y->depth];
        size_t kn = y->base[y->depth];
        /* an empty object is a field of its own ("{}"), the root excepted */
        if (f == y->nkeys && kn && s_keep(y->p, y->p->scratch, kn)) {
            gh_ps_add(y->p, y->p->scratch, kn, "{}", 2, 0);
            if (y->p->oom) return S_YJ_STOP(y, S_YJ_OOM);
        }
        y->kbytes = y->kfirst[y->depth];
        y->nkeys = f;
    }
    if (--y->depth == 0) y->end = yajl_get_bytes_consumed(y->h);
    return 1;
}

static int on_yj_start_array(void *ctx) {
    s_yj_t *y = ctx;
    if (++y->depth > S_YJ_DEPTH) return S_YJ_STOP(y, S_YJ_DOM);
    if (!y->arr && s_keep(y->p, y->p->scratch, y->kn)) return S_YJ_STOP(y, S_YJ_DOM);
    y->arr++;
    return 1;
}

static int on_yj_end_array(void *ctx) {
    s_yj_t *y = ctx;
    y->arr--;
    y->depth--;
    return 1;
}

static const yajl_callbacks s_yj_cb = {
    on_yj_null, on_yj_bool, NULL, NULL, on_yj_number, on_yj_string,
    on_yj_start_map, on_yj_key, on_yj_end_map, on_yj_start_array, on_yj_end_array,
};

/* yajl's handle and buffers come from the per-thread arena too (a handle
 * per line, and yajl has no reset); realloc needs the block's size, kept
 * in front of it. */
static void *s_yj_malloc(void *ctx, size_t n) {
    (void)ctx;
    size_t *b = s_json_malloc(n + 16);
    if (!b) return NULL;
    b[0] = n;
    return (char *)b + 16;
}

static void s_yj_free(void *ctx, void *ptr) {
    (void)ctx;
    if (ptr) s_json_free((char *)ptr - 16);
}

static void *s_yj_realloc(void *ctx, void *ptr, size_t n) {
    if (!ptr) return s_yj_malloc(ctx, n);
    size_t old = *(size_t *)(void *)((char *)ptr - 16);
    void *q = s_yj_malloc(ctx, n);
    if (!q) return NULL;
    memcpy(q, ptr, old < n ? old : n);
    s_yj_free(ctx, ptr);
    return q;
}

/* 1 when line[0..n) has nothing the event path leaves to jansson on sight.
 * Eight bytes at a time: a word with no byte below 0x20, none above 0x7e and
 * no backslash passes on a few operations; one with a backslash is looked at
 * byte by byte (only "\\u" sends the line away). */
static int s_yj_plain(const char *s, size_t n) {
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w, bs;
        memcpy(&w, s + i, 8);
        /* a byte < 0x20, or >= 0x7f (a byte >= 0x80 sets its own high bit) */
        if ((((w - ones * 0x20) & ~w) | (w + ones * (0x80 - 0x7f)) | w) & high) return 0;
        bs = w ^ (ones * '\\');
        if ((bs - ones) & ~bs & high) {
            for (size_t j = i; j < i + 8; j++)
                if (s[j] == '\\' && j + 1 < n && s[j + 1] == 'u') return 0;
        }
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f) return 0;
        if (c == '\\' && i + 1 < n && s[i + 1] == 'u') return 0;
    }
    return 1;
}

/* Parse line[0..n) (starting with '{') through yajl: S_YJ_OK with the fields
 * appended, S_YJ_DOM when jansson must decide (fields discarded by the
 * caller), S_YJ_OOM. */
static int s_events(gh_parser_t *p, const char *line, size_t n) {
    static _Thread_local s_yj_t y;
    if (!s_yj_plain(line, n)) return S_YJ_DOM;
    if (gh_ps_scratch(p, 256) != 0) return S_YJ_OOM;
    y.p = p;
    y.res = S_YJ_OK;
    y.depth = y.arr = 0;
    y.kn = 0;
    y.end = 0;
    y.nkeys = 0;
    y.kbytes = 0;
    y.line = line;
    y.line_end = line + n;
    yajl_alloc_funcs af = { s_yj_malloc, s_yj_realloc, s_yj_free, NULL };
    s_arena_begin();
    yajl_handle h = yajl_alloc(&s_yj_cb, &af, &y);
    y.h = h;
    int rc;
    if (!h) {
        rc = S_YJ_OOM;
    } else {
        yajl_status st = yajl_parse(h, (const unsigned char *)line, n);
        if (st == yajl_status_ok) st = yajl_complete_parse(h);
        rc = st == yajl_status_ok ? S_YJ_OK : y.res != S_YJ_OK ? y.res : S_YJ_DOM;
        yajl_free(h);
        /* yajl takes an unfinished token after the value ('{}"x') for one
         * that more input would end: only blanks may follow the object */
        if (rc == S_YJ_OK) {
            size_t e = y.end;
            while (e < n && (line[e] == ' ' || line[e] == '\t' || line[e] == '\n' || line[e] == '\r')) e++;
            if (!y.end || e != n) rc = S_YJ_DOM;
        }
    }
    s_arena_end();
    if (rc == S_YJ_OK && p->oom) rc = S_YJ_OOM;
    return rc;
}

int gh_ps_json(gh_parser_t *p, const char *line, size_t n, int64_t now_ms) {
    size_t i = 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t')) i++;
    if (i >= n || line[i] != '{') return -1;
    size_t npf = p->npf, alen = p->alen;
    uint64_t kbloom = p->kbloom;
    int ev = p->json_dom ? S_YJ_DOM : s_events(p, line + i, n - i);
    if (ev == S_YJ_OOM) { p->oom = 1; return -1; }
    if (ev == S_YJ_DOM) {
        /* start again: the event path may have appended fields */
        p->npf = npf;
        p->alen = alen;
        p->kbloom = kbloom;
        if (s_dom(p, line + i, n - i) != 0) return -1;
    }

    static const gh_pkey_t tkeys[] = {
        GH_PKEY("time"), GH_PKEY("timestamp"), GH_PKEY("ts"), GH_PKEY("@timestamp"), GH_PKEY("datetime"),
        GH_PKEY("date"), GH_PKEY("t"), GH_PKEY("Timestamp"), GH_PKEY("Time"), GH_PKEY("@t"),
        GH_PKEY("__REALTIME_TIMESTAMP"), GH_PKEY("timeMillis"), GH_PKEY("time_iso8601"), GH_PKEY("time_local"),
        GH_PKEY("eventTime"), GH_PKEY("event_time"), GH_PKEY("asctime"), GH_PKEY("created"), GH_PKEY("logtime"),
        GH_PKEY("log_time"), { NULL, 0 }
    };
    static const gh_pkey_t lkeys[] = {
        GH_PKEY("level"), GH_PKEY("severity"), GH_PKEY("lvl"), GH_PKEY("loglevel"), GH_PKEY("log.level"),
        GH_PKEY("levelname"), GH_PKEY("log_level"), GH_PKEY("Level"), GH_PKEY("Severity"), GH_PKEY("@l"),
        GH_PKEY("severity_text"), GH_PKEY("severityText"), GH_PKEY("PRIORITY"), { NULL, 0 }
    };
    static const gh_pkey_t mkeys[] = {
        GH_PKEY("msg"), GH_PKEY("message"), GH_PKEY("log"), GH_PKEY("short_message"), GH_PKEY("MESSAGE"),
        GH_PKEY("Message"), GH_PKEY("@m"), GH_PKEY("@mt"), GH_PKEY("body"), { NULL, 0 }
    };
    static const gh_pkey_t hkeys[] = {
        GH_PKEY("host"), GH_PKEY("hostname"), GH_PKEY("host.name"), GH_PKEY("host.hostname"), GH_PKEY("_HOSTNAME"),
        { NULL, 0 }
    };
    long k = gh_ps_find_first(p, tkeys);
    int64_t ms;
    if (k >= 0 && gh_ps_time_text(gh_ps_val(p, k), p->pf[k].vn, now_ms, &ms) == 0) {
        p->ts_ms = ms;
        p->has_ts = 1;
    } else {
        /* log4j2's JsonLayout: "instant":{"epochSecond":..,"nanoOfSecond":..} */
        long es = gh_ps_find(p, "instant.epochSecond", 19), ns = gh_ps_find(p, "instant.nanoOfSecond", 20);
        long long sec = es >= 0 ? strtoll(gh_ps_val(p, es), NULL, 10) : 0;
        /* seconds beyond what ms can hold (hostile input) give no time */
        if (es >= 0 && sec < 1000000000000000LL && sec > -1000000000000000LL) {
            p->ts_ms = (int64_t)sec * 1000 + (ns >= 0 ? strtoll(gh_ps_val(p, ns), NULL, 10) / 1000000 : 0);
            p->has_ts = 1;
        }
    }
    k = gh_ps_find_first(p, lkeys);
    int has_level = 0;
    if (k >= 0) {
        int lvl = gh_ps_level_value(gh_ps_val(p, k), p->pf[k].vn);
        if (lvl >= 0) { p->level = lvl; has_level = 1; }
    }
    if (!has_level) {
        /* JSON access logs: the HTTP status, as for the text ones */
        static const gh_pkey_t skeys[] = {
            GH_PKEY("status"), GH_PKEY("status_code"), GH_PKEY("http.status"), GH_PKEY("http.status_code"),
            GH_PKEY("http.response.status_code"), GH_PKEY("response.status"), { NULL, 0 }
        };
        long st = gh_ps_find_first(p, skeys);
        if (st >= 0 && p->pf[st].vn == 3) {
            const char *v = gh_ps_val(p, st);
            if (v[0] >= '1' && v[0] <= '5' && isdigit((unsigned char)v[1]) && isdigit((unsigned char)v[2])) {
                p->level = v[0] == '5' ? GH_LVL_ERR : v[0] == '4' ? GH_LVL_WARNING : GH_LVL_INFO;
                has_level = 1;
            }
        }
    }
    k = gh_ps_find_first(p, mkeys);
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
    k = gh_ps_find_first(p, hkeys);
    if (k >= 0) p->host = gh_pref_arena(p->pf[k].vo, p->pf[k].vn);
    return 0;
}
