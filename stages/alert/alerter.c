/* alerter.c -- dedup, silences, grouping, sink and webhook delivery; see
 * alerter.h for the contract.  Sections: local tables, Redis scripts, sink,
 * outbox queue, message composition, HTTP (curl multi), tick/drain. */
#include "alert/alerter.h"
#include "alert/alert_json.h"
#include "alert/slack.h"
#include "clock.h"
#include "hash.h"
#include "log.h"
#include <curl/curl.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_DEDUP_SLOTS (1u << 17)
#define S_MAX_SILENCES 1024
#define S_MAX_SINKS 2
#define S_RESP_MAX 4096
#define S_PENDING_MAX 20000
#define S_FLAP_RING 8

/* ---- local dedup table (ids seen, with expiry) ------------------------- */

typedef struct { uint64_t h; int64_t exp_ms; } s_slot_t;

/* Returns 1 when h was present and unexpired, else records it and returns 0.
 * When more than half full, expired entries are dropped; if still full, the
 * table starts over (Redis remains the long memory). */
static int s_dedup_check(s_slot_t *t, size_t *used, uint64_t h, int64_t now, int64_t ttl_ms) {
    if (!h) h = 1;
    if (*used > S_DEDUP_SLOTS / 2) {
        size_t n = 0;
        s_slot_t *old = malloc(sizeof(s_slot_t) * S_DEDUP_SLOTS);
        if (old) memcpy(old, t, sizeof(s_slot_t) * S_DEDUP_SLOTS);
        memset(t, 0, sizeof(s_slot_t) * S_DEDUP_SLOTS);
        for (size_t i = 0; old && i < S_DEDUP_SLOTS && n < S_DEDUP_SLOTS / 4; i++) {
            if (!old[i].h || old[i].exp_ms <= now) continue;
            size_t j = old[i].h & (S_DEDUP_SLOTS - 1);
            while (t[j].h) j = (j + 1) & (S_DEDUP_SLOTS - 1);
            t[j] = old[i];
            n++;
        }
        free(old);
        *used = n;
    }
    size_t j = h & (S_DEDUP_SLOTS - 1);
    while (t[j].h) {
        if (t[j].h == h) {
            if (t[j].exp_ms > now) return 1;
            t[j].exp_ms = now + ttl_ms;
            return 0;
        }
        j = (j + 1) & (S_DEDUP_SLOTS - 1);
    }
    t[j].h = h;
    t[j].exp_ms = now + ttl_ms;
    (*used)++;
    return 0;
}

/* ---- types --------------------------------------------------------------- */

typedef struct s_item {
    char *id, *key, *state;
    char *stored;          /* outbox value: {"enq":ms,"alert":{...}} */
    json_t *alert;
    int64_t enq_ms;        /* wall time queued */
    int persisted;         /* present in the Redis outbox */
    int inflight;
    struct s_item *next, *prev;
} s_item_t;

/* What the alerter remembers per key and webhook: when the last message
 * went out (repeat interval, flap hold) and the event-time starts of the
 * recent firings (flap detection). */
typedef struct {
    char *key;
    int64_t last_ms;                 /* wall time of the last message; 0 = none */
    int64_t fires[S_FLAP_RING];      /* event-time starts of recent firings */
    int nfires;                      /* firings recorded (ring index = nfires % ring) */
} s_keyst_t;

typedef struct {
    const char *name;      /* "slack" | "generic" */
    int slack;
    char *url;
    char outbox_key[192], replay_key[192], bucket_key[192];
    s_item_t *head, *tail;
    size_t n, n_unpersisted;
    /* the one request in flight */
    CURL *easy;
    struct curl_slist *hdrs;
    char *body;
    char resp[S_RESP_MAX];
    size_t resp_n;
    s_item_t **msg;
    size_t msg_n;
    int inflight, digest;
    int64_t sent_mono;
    int fail_streak;
    int64_t next_try_mono;
    double tokens;         /* local bucket, used while Redis is down */
    int64_t tokens_mono;
    s_keyst_t *sent;       /* per-key memory: last message, recent firings */
    size_t nsent, capsent;
    gh_ratelimit_t rl_retry;
} s_sink_t;

typedef struct { int argc; char **argv; } s_cmd_t;

struct gh_alerter {
    gh_alerter_cfg_t cfg;
    char *sink_path, *instance;
    FILE *sink;
    int sink_owned;
    gh_redis_t *redis;
    int loaded;            /* outbox read from Redis since start */
    s_sink_t sinks[S_MAX_SINKS];
    int nsinks;
    CURLM *multi;
    s_slot_t *dedup;
    size_t dedup_used;
    char *sil_pat[S_MAX_SILENCES];
    int nsil;
    int64_t sil_next_mono, replay_next_mono, lease_next_mono, takeover_next_mono;
    int draining;          /* gh_alerter_drain runs: every hold ends */
    int lease_held;        /* the lease was written once by this process */
    char token[128];       /* this process in lease values: host:pid:random */
    char lease_key[192];
    s_cmd_t *pending;      /* Redis writes waiting for Redis to return */
    size_t npending, cappending;
    gh_alerter_stats_t st;
    gh_ratelimit_t rl_redis, rl_local;
};

/* ---- Redis scripts -------------------------------------------------------- */

/* KEYS[1] dedup key, KEYS[2..] outbox hashes; ARGV ttl_s, id, value.
 * Sets the dedup key and stores the alert in every outbox atomically, so a
 * crash can never leave an alert marked seen but not queued. */
static const char *s_lua_submit =
    "if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then\n"
    "  for i = 2, #KEYS do redis.call('HSET', KEYS[i], ARGV[2], ARGV[3]) end\n"
    "  return 1\n"
    "end\n"
    "return 0\n";

/* KEYS[1] bucket; ARGV rate_per_s, burst, block_ms.  block_ms > 0 blocks the
 * bucket (429 seen by some process).  Returns {got, wait_ms, tokens*1000}.
 * Uses the server's clock so every process and host agrees. */
static const char *s_lua_bucket =
    "if redis.replicate_commands then pcall(redis.replicate_commands) end\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local rate, burst, block = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local v = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'until')\n"
    "local tokens, ts, untl = tonumber(v[1]) or burst, tonumber(v[2]) or now, tonumber(v[3]) or 0\n"
    "if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate / 1000); ts = now end\n"
    "local got, wait = 0, 0\n"
    "if block > 0 then untl = math.max(untl, now + block)\n"
    "elseif now < untl then wait = untl - now\n"
    "elseif tokens >= 1 then tokens = tokens - 1; got = 1\n"
    "else wait = math.ceil((1 - tokens) * 1000 / rate) end\n"
    "redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts), 'until', tostring(untl))\n"
    "redis.call('PEXPIRE', KEYS[1], 3600000)\n"
    "return {got, wait, math.floor(tokens * 1000)}\n";

/* KEYS[1] replay list, KEYS[2] outbox; ARGV max.  Moves replayed dead
 * letters (ghostctl dead replay) into this process's outbox atomically. */
static const char *s_lua_replay =
    "local out = {}\n"
    "for i = 1, tonumber(ARGV[1]) do\n"
    "  local v = redis.call('RPOP', KEYS[1])\n"
    "  if not v then break end\n"
    "  local ok, e = pcall(cjson.decode, v)\n"
    "  if ok and type(e) == 'table' and type(e.alert) == 'table' and e.alert.id then\n"
    "    redis.call('HSET', KEYS[2], tostring(e.uid or e.alert.id), v)\n"
    "    out[#out + 1] = v\n"
    "  end\n"
    "end\n"
    "return out\n";

/* Runs a script with EVAL (scripts are small; Redis caches them).  Returns
 * the reply or NULL when Redis is down or failed (then marked failed). */
static redisReply *s_eval(gh_alerter_t *al, const char *script, int nkeys, int nargs, const char **kv) {
    redisContext *c = gh_redis_ctx(al->redis);
    if (!c) return NULL;
    char nk[16];
    snprintf(nk, sizeof nk, "%d", nkeys);
    const char *argv[32];
    int argc = 0;
    argv[argc++] = "EVAL";
    argv[argc++] = script;
    argv[argc++] = nk;
    for (int i = 0; i < nkeys + nargs && argc < 32; i++) argv[argc++] = kv[i];
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    if (!r) {
        gh_redis_failed(al->redis);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        gh_log_ratelimited(&al->rl_redis, GH_LOG_WARN, 10000, "redis script failed: %s", r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* Runs a plain command; returns 0 or -1 (Redis down or error). */
static int s_cmd(gh_alerter_t *al, int argc, const char **argv) {
    redisContext *c = gh_redis_ctx(al->redis);
    if (!c) return -1;
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    if (!r) {
        gh_redis_failed(al->redis);
        return -1;
    }
    int rc = r->type == REDIS_REPLY_ERROR ? -1 : 0;
    if (rc) gh_log_ratelimited(&al->rl_redis, GH_LOG_WARN, 10000, "redis %s failed: %s", argv[0], r->str);
    freeReplyObject(r);
    return rc;
}

/* Runs a write now, or keeps it for when Redis returns (bounded). */
static void s_cmd_or_keep(gh_alerter_t *al, int argc, const char **argv) {
    if (al->npending == 0 && s_cmd(al, argc, argv) == 0) return;
    if (al->npending >= S_PENDING_MAX) {
        gh_log_ratelimited(&al->rl_local, GH_LOG_WARN, 10000, "redis down: pending write list full, dropping oldest");
        for (int i = 0; i < al->pending[0].argc; i++) free(al->pending[0].argv[i]);
        free(al->pending[0].argv);
        memmove(al->pending, al->pending + 1, --al->npending * sizeof *al->pending);
    }
    if (al->npending == al->cappending) {
        size_t cap = al->cappending ? al->cappending * 2 : 64;
        s_cmd_t *p = realloc(al->pending, cap * sizeof *p);
        if (!p) return;
        al->pending = p;
        al->cappending = cap;
    }
    s_cmd_t *c = &al->pending[al->npending];
    c->argv = calloc((size_t)argc, sizeof(char *));
    if (!c->argv) return;
    c->argc = argc;
    for (int i = 0; i < argc; i++) c->argv[i] = strdup(argv[i]);
    al->npending++;
}

static void s_flush_pending(gh_alerter_t *al) {
    size_t done = 0;
    while (done < al->npending) {
        s_cmd_t *c = &al->pending[done];
        if (s_cmd(al, c->argc, (const char **)c->argv) < 0 && !gh_redis_up(al->redis)) break;
        for (int i = 0; i < c->argc; i++) free(c->argv[i]);
        free(c->argv);
        done++;
    }
    if (done) memmove(al->pending, al->pending + done, (al->npending - done) * sizeof *al->pending);
    al->npending -= done;
}

/* ---- sink ----------------------------------------------------------------- */

static void s_sink_write(gh_alerter_t *al, json_t *o) {
    if (!al->sink) return;
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (!line) return;
    fputs(line, al->sink);
    fputc('\n', al->sink);
    free(line);
}

void gh_alerter_flush(gh_alerter_t *al) {
    if (al && al->sink) fflush(al->sink);
}

/* ---- outbox queue ----------------------------------------------------------- */

static void s_item_free(s_item_t *it) {
    if (!it) return;
    free(it->id);
    free(it->key);
    free(it->state);
    free(it->stored);
    json_decref(it->alert);
    free(it);
}

/* Builds an item from an outbox value; takes no ownership of value. */
static s_item_t *s_item_from_stored(const char *value) {
    json_error_t err;
    json_t *v = json_loads(value, 0, &err);
    json_t *a = json_object_get(v, "alert");
    char uid[192];
    const char *id = json_string_value(json_object_get(a, "id"));
    s_item_t *it = id && *id ? calloc(1, sizeof *it) : NULL;
    if (!it) {
        json_decref(v);
        return NULL;
    }
    it->id = strdup(gh_alert_uid(a, uid, sizeof uid));
    it->key = strdup(json_string_value(json_object_get(a, "key")) ? json_string_value(json_object_get(a, "key")) : "");
    it->state = strdup(json_string_value(json_object_get(a, "state")) ? json_string_value(json_object_get(a, "state")) : "firing");
    it->stored = strdup(value);
    it->alert = json_incref(a);
    json_t *enq = json_object_get(v, "enq");
    it->enq_ms = json_is_integer(enq) ? json_integer_value(enq) : gh_wall_ms();
    json_decref(v);
    if (!it->id || !it->key || !it->state || !it->stored) {
        s_item_free(it);
        return NULL;
    }
    return it;
}

/* The memory of key in s; created when create is set (NULL when out of
 * memory or absent). */
static s_keyst_t *s_keyst(s_sink_t *s, const char *key, int create) {
    for (size_t i = 0; i < s->nsent; i++)
        if (!strcmp(s->sent[i].key, key)) return &s->sent[i];
    if (!create) return NULL;
    if (s->nsent == s->capsent) {
        size_t cap = s->capsent ? s->capsent * 2 : 16;
        s_keyst_t *p = realloc(s->sent, cap * sizeof *p);
        if (!p) return NULL;
        s->sent = p;
        s->capsent = cap;
    }
    s_keyst_t *k = &s->sent[s->nsent];
    memset(k, 0, sizeof *k);
    k->key = strdup(key);
    if (!k->key) return NULL;
    s->nsent++;
    return k;
}

/* Records the event-time start of a firing alert (once per start). */
static void s_note_firing(s_sink_t *s, s_item_t *it) {
    if (strcmp(it->state, "firing")) return;
    int64_t start = gh_rfc3339_parse_ms(json_string_value(json_object_get(it->alert, "start")));
    s_keyst_t *k = s_keyst(s, it->key, 1);
    if (!k) return;
    int n = k->nfires < S_FLAP_RING ? k->nfires : S_FLAP_RING;
    for (int i = 0; i < n; i++)
        if (k->fires[i] == start) return;
    k->fires[k->nfires % S_FLAP_RING] = start;
    k->nfires++;
}

/* Is key flapping: flap_count or more distinct firings within
 * flap_window_s of event time before its newest firing? */
static int s_flapping(const gh_alerter_t *al, const s_keyst_t *k) {
    if (!k || k->nfires < al->cfg.flap_count) return 0;
    int n = k->nfires < S_FLAP_RING ? k->nfires : S_FLAP_RING, in = 0;
    int64_t newest = INT64_MIN;
    for (int i = 0; i < n; i++)
        if (k->fires[i] > newest) newest = k->fires[i];
    for (int i = 0; i < n; i++)
        if (k->fires[i] >= newest - al->cfg.flap_window_s * 1000LL) in++;
    return in >= al->cfg.flap_count;
}

static void s_push(s_sink_t *s, s_item_t *it) {
    s_note_firing(s, it);
    it->prev = s->tail;
    it->next = NULL;
    if (s->tail) s->tail->next = it;
    else s->head = it;
    s->tail = it;
    s->n++;
    if (!it->persisted) s->n_unpersisted++;
}

static void s_unlink(s_sink_t *s, s_item_t *it) {
    if (it->prev) it->prev->next = it->next;
    else s->head = it->next;
    if (it->next) it->next->prev = it->prev;
    else s->tail = it->prev;
    s->n--;
    if (!it->persisted) s->n_unpersisted--;
}

/* Keeps the local outbox bounded while Redis is down: drops the oldest
 * alert that exists nowhere else. */
static void s_bound_local(gh_alerter_t *al, s_sink_t *s) {
    while (s->n_unpersisted > (size_t)al->cfg.local_max) {
        s_item_t *it = s->head;
        while (it && (it->persisted || it->inflight)) it = it->next;
        if (!it) return;
        gh_log_ratelimited(&al->rl_local, GH_LOG_WARN, 10000,
                           "redis down and local %s outbox full (%d): dropping alert %s", s->name,
                           al->cfg.local_max, it->id);
        al->st.local_dropped++;
        s_unlink(s, it);
        s_item_free(it);
    }
}

/* Writes alerts queued while Redis was down into Redis (dedup + outbox in
 * one script). */
static void s_write_back(gh_alerter_t *al) {
    char dk[256];
    int budget = 500;
    for (int k = 0; k < al->nsinks; k++) {
        s_sink_t *s = &al->sinks[k];
        for (s_item_t *it = s->head, *nx; it && s->n_unpersisted && budget > 0; it = nx) {
            nx = it->next;
            if (it->persisted) continue;
            budget--;
            gh_redis_key(al->redis, dk, sizeof dk, "alert:dedup:%s", it->id);
            char ttl[16];
            snprintf(ttl, sizeof ttl, "%d", al->cfg.dedup_ttl_s);
            const char *kv[] = { dk, s->outbox_key, ttl, it->id, it->stored };
            redisReply *r = s_eval(al, s_lua_submit, 2, 3, kv);
            if (!r) return;
            long long fresh = r->type == REDIS_REPLY_INTEGER ? r->integer : 1;
            freeReplyObject(r);
            /* The dedup key may exist because another sink's write-back set
             * it; the alert is queued either way (at least once). */
            if (!fresh) {
                const char *hs[] = { "HSET", s->outbox_key, it->id, it->stored };
                if (s_cmd(al, 4, hs) < 0) return;
            }
            s->n_unpersisted--;
            it->persisted = 1;
        }
    }
}

/* Reads this instance's outbox (left by a previous run) into the queue. */
static void s_load_outbox(gh_alerter_t *al, s_sink_t *s) {
    redisContext *c = gh_redis_ctx(al->redis);
    if (!c) return;
    redisReply *r = redisCommand(c, "HGETALL %s", s->outbox_key);
    if (!r) {
        gh_redis_failed(al->redis);
        return;
    }
    size_t added = 0;
    if (r->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
            const char *id = r->element[i]->str;
            int known = 0;
            for (s_item_t *it = s->head; it && !known; it = it->next) known = !strcmp(it->id, id);
            if (known) continue;
            s_item_t *it = s_item_from_stored(r->element[i + 1]->str);
            if (!it) continue;
            it->persisted = 1;
            s_push(s, it);
            added++;
        }
    }
    freeReplyObject(r);
    if (added) gh_info("%s outbox: %zu alerts left by a previous run, sending them", s->name, added);
}

static void s_poll_replay(gh_alerter_t *al, s_sink_t *s) {
    const char *kv[] = { s->replay_key, s->outbox_key, "100" };
    redisReply *r = s_eval(al, s_lua_replay, 2, 1, kv);
    if (!r) return;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        s_item_t *it = s_item_from_stored(r->element[i]->str);
        if (!it) continue;
        it->persisted = 1;
        it->enq_ms = gh_wall_ms();
        s_push(s, it);
        gh_info("%s: replaying dead letter alert %s", s->name, it->id);
    }
    freeReplyObject(r);
}

/* ---- silences ----------------------------------------------------------- */

static void s_refresh_silences(gh_alerter_t *al) {
    redisContext *c = gh_redis_ctx(al->redis);
    if (!c) return; /* keep the last known set */
    char pat[256];
    gh_redis_key(al->redis, pat, sizeof pat, "silence:*");
    char *found[S_MAX_SILENCES];
    int n = 0;
    char cursor[32] = "0";
    do {
        redisReply *r = redisCommand(c, "SCAN %s MATCH %s COUNT 200", cursor, pat);
        if (!r) {
            gh_redis_failed(al->redis);
            for (int i = 0; i < n; i++) free(found[i]);
            return;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            freeReplyObject(r);
            break;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements && n < S_MAX_SILENCES; i++) {
            redisReply *g = redisCommand(c, "GET %s", r->element[1]->element[i]->str);
            if (!g) break;
            if (g->type == REDIS_REPLY_STRING) {
                json_t *v = json_loads(g->str, 0, NULL);
                const char *p = json_string_value(json_object_get(v, "pattern"));
                if (p) found[n++] = strdup(p);
                json_decref(v);
            }
            freeReplyObject(g);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0"));
    for (int i = 0; i < al->nsil; i++) free(al->sil_pat[i]);
    memcpy(al->sil_pat, found, sizeof(char *) * (size_t)n);
    al->nsil = n;
}

static int s_silenced(gh_alerter_t *al, const char *key) {
    for (int i = 0; i < al->nsil; i++)
        if (al->sil_pat[i] && fnmatch(al->sil_pat[i], key, 0) == 0) return 1;
    return 0;
}

/* ---- construction --------------------------------------------------------- */

static int s_sink_init(gh_alerter_t *al, s_sink_t *s, const char *name, int slack, const char *url) {
    s->name = name;
    s->slack = slack;
    s->url = strdup(url);
    s->easy = curl_easy_init();
    s->tokens = al->cfg.burst;
    s->tokens_mono = gh_mono_ms();
    if (!s->url || !s->easy) return -1;
    char hex[24];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)gh_hash(url, strlen(url), 0x6768));
    gh_redis_key(al->redis, s->outbox_key, sizeof s->outbox_key, "alert:outbox:%s:%s", al->instance, name);
    gh_redis_key(al->redis, s->replay_key, sizeof s->replay_key, "alert:replay:%s", name);
    gh_redis_key(al->redis, s->bucket_key, sizeof s->bucket_key, "alert:bucket:%s", hex);
    return 0;
}

gh_alerter_t *gh_alerter_new(const gh_alerter_cfg_t *cfg, gh_redis_t *redis) {
    static int curl_ready;
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl_ready = 1;
    }
    gh_alerter_t *al = calloc(1, sizeof *al);
    if (!al) return NULL;
    al->cfg = *cfg;
    gh_alerter_cfg_t *c = &al->cfg;
    if (c->rate_per_s <= 0) c->rate_per_s = 1;
    if (c->burst <= 0) c->burst = 3;
    if (c->timeout_ms <= 0) c->timeout_ms = 10000;
    if (c->backoff_min_ms <= 0) c->backoff_min_ms = 500;
    if (c->backoff_max_ms <= 0) c->backoff_max_ms = 60000;
    if (c->dedup_ttl_s <= 0) c->dedup_ttl_s = 3600;
    if (c->local_max <= 0) c->local_max = 10000;
    if (c->flap_window_s <= 0) c->flap_window_s = 900;
    if (c->flap_count <= 0) c->flap_count = 3;
    if (c->lease_ttl_s <= 0) c->lease_ttl_s = 30;
    al->instance = strdup(c->instance && *c->instance ? c->instance : "0");
    al->sink_path = c->sink_path ? strdup(c->sink_path) : NULL;
    c->instance = al->instance;
    c->sink_path = al->sink_path;
    c->webhook_url = c->generic_webhook_url = NULL; /* kept only inside the sinks */
    al->redis = redis;
    char host[64] = "?";
    gethostname(host, sizeof host - 1);
    srand((unsigned)(gh_wall_ms() ^ getpid()));
    snprintf(al->token, sizeof al->token, "%.60s:%d:%08x", host, (int)getpid(), (unsigned)rand());
    gh_redis_key(redis, al->lease_key, sizeof al->lease_key, "alert:lease:%s", al->instance);
    al->dedup = calloc(S_DEDUP_SLOTS, sizeof(s_slot_t));
    al->multi = curl_multi_init();
    if (!al->instance || !al->dedup || !al->multi) goto fail;
    if (al->sink_path && !strcmp(al->sink_path, "-")) al->sink = stdout;
    else if (al->sink_path) {
        al->sink = fopen(al->sink_path, "a");
        if (!al->sink) {
            gh_error("cannot open alert sink %s: %m", al->sink_path);
            goto fail;
        }
        al->sink_owned = 1;
    }
    if (cfg->webhook_url && *cfg->webhook_url && s_sink_init(al, &al->sinks[al->nsinks++], "slack", 1, cfg->webhook_url))
        goto fail;
    if (cfg->generic_webhook_url && *cfg->generic_webhook_url &&
        s_sink_init(al, &al->sinks[al->nsinks++], "generic", 0, cfg->generic_webhook_url))
        goto fail;
    for (int k = 0; k < al->nsinks; k++) {
        char red[256];
        gh_info("delivering alerts to %s webhook %s (rate %.2f/s, burst %d)", al->sinks[k].name,
                gh_url_redact(al->sinks[k].url, red, sizeof red), c->rate_per_s, c->burst);
    }
    gh_alerter_tick(al); /* connect, load the outbox, read silences */
    return al;
fail:
    gh_alerter_destroy(&al);
    return NULL;
}

void gh_alerter_destroy(gh_alerter_t **alp) {
    gh_alerter_t *al = alp ? *alp : NULL;
    if (!al) return;
    for (int k = 0; k < al->nsinks; k++) {
        s_sink_t *s = &al->sinks[k];
        if (s->inflight) curl_multi_remove_handle(al->multi, s->easy);
        if (s->easy) curl_easy_cleanup(s->easy);
        curl_slist_free_all(s->hdrs);
        free(s->body);
        free(s->msg);
        for (s_item_t *it = s->head, *nx; it; it = nx) {
            nx = it->next;
            s_item_free(it);
        }
        for (size_t i = 0; i < s->nsent; i++) free(s->sent[i].key);
        free(s->sent);
        if (s->url) memset(s->url, 0, strlen(s->url));
        free(s->url);
    }
    if (al->multi) curl_multi_cleanup(al->multi);
    for (size_t i = 0; i < al->npending; i++) {
        for (int j = 0; j < al->pending[i].argc; j++) free(al->pending[i].argv[j]);
        free(al->pending[i].argv);
    }
    if (al->npending) gh_warn("redis still down: %zu outbox updates not written", al->npending);
    free(al->pending);
    for (int i = 0; i < al->nsil; i++) free(al->sil_pat[i]);
    if (al->sink) fflush(al->sink);
    if (al->sink_owned) fclose(al->sink);
    free(al->dedup);
    free(al->instance);
    free(al->sink_path);
    free(al);
    *alp = NULL;
}

/* ---- submit ------------------------------------------------------------------ */

int gh_alerter_submit(gh_alerter_t *al, const gh_alert_t *a) {
    json_t *o = gh_alert_json(a);
    if (!o) {
        al->st.invalid++;
        gh_log_ratelimited(&al->rl_local, GH_LOG_WARN, 10000, "alert without id or not encodable: dropped");
        return GH_ALERT_DROP;
    }
    char id[192];
    gh_alert_uid(o, id, sizeof id);
    const char *key = json_string_value(json_object_get(o, "key"));
    int64_t now = gh_wall_ms();
    if (s_dedup_check(al->dedup, &al->dedup_used, gh_hash(id, strlen(id), 0), now, al->cfg.dedup_ttl_s * 1000LL)) {
        al->st.duplicates++;
        json_decref(o);
        return GH_ALERT_DROP;
    }
    int silenced = s_silenced(al, key);
    json_t *stored = json_pack("{s:I, s:O}", "enq", (json_int_t)now, "alert", o);
    char *value = stored ? json_dumps(stored, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(stored);
    if (!value) {
        json_decref(o);
        return GH_ALERT_DROP;
    }
    /* dedup key + outboxes in Redis in one step */
    char dk[256], ttl[16];
    gh_redis_key(al->redis, dk, sizeof dk, "alert:dedup:%s", id);
    snprintf(ttl, sizeof ttl, "%d", al->cfg.dedup_ttl_s);
    const char *kv[S_MAX_SINKS + 4];
    int nk = 0;
    kv[nk++] = dk;
    for (int k = 0; k < al->nsinks && !silenced; k++) kv[nk++] = al->sinks[k].outbox_key;
    kv[nk] = ttl;
    kv[nk + 1] = id;
    kv[nk + 2] = value;
    int persisted = 0;
    redisReply *r = s_eval(al, s_lua_submit, nk, 3, kv);
    if (r) {
        long long fresh = r->type == REDIS_REPLY_INTEGER ? r->integer : 1;
        freeReplyObject(r);
        if (!fresh) {
            al->st.duplicates++;
            free(value);
            json_decref(o);
            return GH_ALERT_DROP;
        }
        persisted = 1;
    }
    al->st.submitted++;
    if (silenced) {
        json_object_set_new(o, "silenced", json_true());
        s_sink_write(al, o);
        al->st.silenced++;
        free(value);
        json_decref(o);
        return GH_ALERT_DROP;
    }
    /* The sink line follows the outbox write and is flushed at once: the
     * window in which a kill -9 leaves a queued alert without its line is
     * as small as it can be without a two-phase write. */
    s_sink_write(al, o);
    gh_alerter_flush(al);
    for (int k = 0; k < al->nsinks; k++) {
        s_item_t *it = s_item_from_stored(value);
        if (!it) continue;
        it->persisted = persisted;
        s_push(&al->sinks[k], it);
        if (!persisted) s_bound_local(al, &al->sinks[k]);
    }
    free(value);
    json_decref(o);
    return GH_ALERT_OK;
}

/* ---- message composition ----------------------------------------------------- */

/* Is the group of key (its first queued alert is first) ready to be sent?
 * While draining, always.  Otherwise after the group window; a flapping
 * key's group waits for its hold (one message per repeat interval, or per
 * flap window when there is no repeat interval) after the last message;
 * a group of updates only waits for the repeat interval. */
static int s_group_ready(gh_alerter_t *al, s_sink_t *s, s_item_t *first, int64_t now) {
    if (al->draining) return 1;
    if (now < first->enq_ms + al->cfg.group_window_s * 1000LL) return 0;
    s_keyst_t *k = s_keyst(s, first->key, 0);
    int64_t last = k ? k->last_ms : 0;
    if (s_flapping(al, k)) {
        int hold_s = al->cfg.repeat_interval_s > 0 ? al->cfg.repeat_interval_s : al->cfg.flap_window_s;
        return !last || now >= last + hold_s * 1000LL;
    }
    if (al->cfg.repeat_interval_s <= 0) return 1;
    int only_updates = 1;
    for (s_item_t *it = first; it && only_updates; it = it->next)
        if (!it->inflight && !strcmp(it->key, first->key) && strcmp(it->state, "update")) only_updates = 0;
    return !only_updates || !last || now >= last + al->cfg.repeat_interval_s * 1000LL;
}

/* Collects the ready groups: up to maxg first items of distinct ready keys. */
static size_t s_ready_groups(gh_alerter_t *al, s_sink_t *s, s_item_t **firsts, size_t maxg, int64_t now) {
    size_t ng = 0;
    for (s_item_t *it = s->head; it && ng < maxg; it = it->next) {
        if (it->inflight) continue;
        int seen = 0;
        for (size_t g = 0; g < ng && !seen; g++) seen = !strcmp(firsts[g]->key, it->key);
        if (seen) continue;
        /* the first queued alert of this key decides */
        int earlier = 0;
        for (s_item_t *p = s->head; p != it && !earlier; p = p->next)
            earlier = !p->inflight && !strcmp(p->key, it->key);
        if (earlier) continue;
        if (s_group_ready(al, s, it, now)) firsts[ng++] = it;
    }
    return ng;
}

/* Appends up to room alerts of first's key to s->msg and to arr. */
static void s_take_group(s_sink_t *s, s_item_t *first, json_t *arr, size_t room) {
    for (s_item_t *it = first; it && room; it = it->next) {
        if (it->inflight || strcmp(it->key, first->key)) continue;
        it->inflight = 1;
        s->msg[s->msg_n++] = it;
        json_array_append(arr, it->alert);
        room--;
    }
}

/* Takes a token: 1 = go, 0 = wait (*wait_ms set).  *left = tokens left. */
static int s_take_token(gh_alerter_t *al, s_sink_t *s, int64_t *wait_ms, double *left) {
    char rate[32], burst[16];
    snprintf(rate, sizeof rate, "%.6f", al->cfg.rate_per_s);
    snprintf(burst, sizeof burst, "%d", al->cfg.burst);
    const char *kv[] = { s->bucket_key, rate, burst, "0" };
    redisReply *r = s_eval(al, s_lua_bucket, 1, 3, kv);
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 3) {
        int got = (int)r->element[0]->integer;
        *wait_ms = r->element[1]->integer;
        *left = (double)r->element[2]->integer / 1000.0;
        freeReplyObject(r);
        return got;
    }
    if (r) freeReplyObject(r);
    /* Redis down: a local bucket with the same parameters */
    int64_t now = gh_mono_ms();
    s->tokens = fmin(al->cfg.burst, s->tokens + (double)(now - s->tokens_mono) * al->cfg.rate_per_s / 1000.0);
    s->tokens_mono = now;
    if (s->tokens >= 1) {
        s->tokens -= 1;
        *left = s->tokens;
        *wait_ms = 0;
        return 1;
    }
    *left = s->tokens;
    *wait_ms = (int64_t)ceil((1 - s->tokens) * 1000.0 / al->cfg.rate_per_s);
    return 0;
}

static size_t s_on_body(char *p, size_t sz, size_t n, void *ud) {
    s_sink_t *s = ud;
    size_t len = sz * n, room = S_RESP_MAX - 1 - s->resp_n;
    size_t k = len < room ? len : room;
    memcpy(s->resp + s->resp_n, p, k);
    s->resp_n += k;
    s->resp[s->resp_n] = 0;
    return len;
}

static void s_start(gh_alerter_t *al, s_sink_t *s, json_t *payload) {
    free(s->body);
    s->body = json_dumps(payload, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (!s->body) return;
    if (!s->hdrs) s->hdrs = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
    CURL *e = s->easy;
    curl_easy_reset(e);
    curl_easy_setopt(e, CURLOPT_URL, s->url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, s->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(s->body));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->hdrs);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)al->cfg.timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(al->cfg.timeout_ms < 5000 ? al->cfg.timeout_ms : 5000));
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "ghost-alert/1");
    curl_easy_setopt(e, CURLOPT_PRIVATE, s);
    s->resp_n = 0;
    s->resp[0] = 0;
    if (curl_multi_add_handle(al->multi, e) != CURLM_OK) return;
    s->inflight = 1;
    s->sent_mono = gh_mono_ms();
}

/* When ghost-alert took the newest alert of the message being composed (wall
 * ms): messages speak of time relative to it ("3 min ago"), so a message
 * delayed by retries still describes the moment of detection. */
static int64_t s_proc_ms(const s_sink_t *s) {
    int64_t t = 0;
    for (size_t i = 0; i < s->msg_n; i++)
        if (s->msg[i]->enq_ms > t) t = s->msg[i]->enq_ms;
    return t ? t : gh_wall_ms();
}

/* The generic webhook's payload: {"source":"ghost","version":1,"status",
 * "key" (null for a digest), "uids":[...], "alerts":[...]}; status is the
 * newest alert's state, or "digest" / "flapping" as given. */
static json_t *s_generic_payload(json_t *alerts, const char *status) {
    size_t n = json_array_size(alerts);
    json_t *last = json_array_get(alerts, n ? n - 1 : 0), *uids = json_array();
    char uid[192];
    for (size_t i = 0; i < n; i++) json_array_append_new(uids, json_string(gh_alert_uid(json_array_get(alerts, i), uid, sizeof uid)));
    const char *st = status ? status : json_string_value(json_object_get(last, "state"));
    json_t *key = json_object_get(last, "key");
    key = status && !strcmp(status, "digest") ? NULL : key;
    return json_pack("{s:s, s:i, s:s, s:o, s:o, s:O}", "source", "ghost", "version", 1, "status", st ? st : "firing",
                     "key", key ? json_incref(key) : json_null(), "uids", uids, "alerts", alerts);
}

/* Composes and starts the next message of s, if one is due. */
static void s_maybe_send(gh_alerter_t *al, s_sink_t *s) {
    int64_t mono = gh_mono_ms(), now = gh_wall_ms();
    if (s->inflight || !s->head || mono < s->next_try_mono) return;
    s_item_t *firsts[GH_SLACK_DIGEST_MAX_GROUPS];
    size_t ng = s_ready_groups(al, s, firsts, GH_SLACK_DIGEST_MAX_GROUPS, now);
    if (!ng) return;
    int64_t wait = 0;
    double left = 0;
    if (!s_take_token(al, s, &wait, &left)) {
        al->st.rate_waits++;
        s->next_try_mono = mono + (wait > 0 ? wait : 50);
        return;
    }
    free(s->msg);
    s->msg = calloc(GH_SLACK_MAX_IDS, sizeof *s->msg);
    s->msg_n = 0;
    if (!s->msg) return;
    /* The bucket is empty and more keys wait: fold them into one digest. */
    s->digest = ng > 1 && left < 1;
    json_t *payload = NULL;
    if (s->digest) {
        json_t *groups = json_array();
        for (size_t g = 0; g < ng && s->msg_n < GH_SLACK_MAX_IDS; g++) {
            json_t *arr = json_array();
            s_take_group(s, firsts[g], arr, GH_SLACK_MAX_IDS - s->msg_n);
            json_array_append_new(groups, arr);
        }
        if (s->slack) payload = gh_slack_digest_message(groups, s_proc_ms(s));
        else {
            json_t *all = json_array();
            for (size_t g = 0; g < json_array_size(groups); g++) json_array_extend(all, json_array_get(groups, g));
            payload = s_generic_payload(all, "digest");
            json_decref(all);
        }
        json_decref(groups);
    } else {
        json_t *arr = json_array();
        s_take_group(s, firsts[0], arr, GH_SLACK_MAX_IDS);
        int flapping = gh_slack_firings(arr) > 1;
        if (flapping) al->st.flap_held++;
        payload = s->slack ? gh_slack_group_message(arr, s_proc_ms(s))
                           : s_generic_payload(arr, flapping ? "flapping" : NULL);
        json_decref(arr);
    }
    char why[128];
    if (payload && s->slack && gh_slack_check_limits(payload, why, sizeof why))
        gh_warn("slack message over limits (%s); sending anyway", why);
    if (payload) s_start(al, s, payload);
    json_decref(payload);
    if (!s->inflight) { /* could not start: put the alerts back */
        for (size_t i = 0; i < s->msg_n; i++) s->msg[i]->inflight = 0;
        s->msg_n = 0;
        s->next_try_mono = mono + 1000;
    }
}

/* ---- completion ------------------------------------------------------------ */

static void s_ids(const s_sink_t *s, char *buf, size_t len) {
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < s->msg_n && o + 1 < len; i++) {
        int n = snprintf(buf + o, len - o, "%s%s", i ? "," : "", s->msg[i]->id);
        if (n < 0) break;
        o += (size_t)n;
    }
}

/* The alerts of the finished message leave the queue and the outbox. */
static void s_remove_msg(gh_alerter_t *al, s_sink_t *s) {
    const char **argv = calloc(s->msg_n + 2, sizeof *argv);
    size_t argc = 0;
    if (argv) {
        argv[argc++] = "HDEL";
        argv[argc++] = s->outbox_key;
    }
    for (size_t i = 0; i < s->msg_n; i++) {
        if (argv) argv[argc++] = s->msg[i]->id;
    }
    if (argv && argc > 2) s_cmd_or_keep(al, (int)argc, argv);
    free(argv);
    for (size_t i = 0; i < s->msg_n; i++) {
        s_unlink(s, s->msg[i]);
        s_item_free(s->msg[i]);
    }
    s->msg_n = 0;
}

static void s_dead_letter(gh_alerter_t *al, s_sink_t *s, long status, const char *reason) {
    char ids[512], dk[256], did[32];
    s_ids(s, ids, sizeof ids);
    gh_error("%s rejected a message permanently (http %ld: %s); %zu alerts moved to dead letters: %s", s->name, status,
             reason, s->msg_n, ids);
    json_t *alerts = json_array();
    for (size_t i = 0; i < s->msg_n; i++) json_array_append(alerts, s->msg[i]->alert);
    int64_t now = gh_wall_ms();
    snprintf(did, sizeof did, "%016llx",
             (unsigned long long)gh_hash(ids, strlen(ids), (uint64_t)now ^ (uint64_t)getpid()));
    json_t *d = json_pack("{s:s, s:s, s:s, s:i, s:s, s:I, s:o}", "dead_id", did, "sink", s->name, "instance",
                          al->instance, "status", (int)status, "reason", reason, "at", (json_int_t)now, "alerts",
                          alerts);
    char *v = d ? json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(d);
    if (v) {
        gh_redis_key(al->redis, dk, sizeof dk, "alert:dead");
        const char *lp[] = { "LPUSH", dk, v };
        s_cmd_or_keep(al, 3, lp);
        const char *lt[] = { "LTRIM", dk, "0", "9999" };
        s_cmd_or_keep(al, 4, lt);
        free(v);
    }
    al->st.dead_letters += s->msg_n;
    s_remove_msg(al, s);
}

static int64_t s_backoff(gh_alerter_t *al, int streak) {
    double d = al->cfg.backoff_min_ms * pow(2, streak > 30 ? 30 : streak - 1);
    if (d > al->cfg.backoff_max_ms) d = al->cfg.backoff_max_ms;
    /* equal jitter: half fixed, half random, so retries of many processes spread */
    return (int64_t)(d / 2 + (double)rand() / RAND_MAX * d / 2);
}

static void s_done(gh_alerter_t *al, s_sink_t *s, CURLcode cc) {
    long status = 0;
    curl_off_t retry_after = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(s->easy, CURLINFO_RETRY_AFTER, &retry_after);
    curl_multi_remove_handle(al->multi, s->easy);
    s->inflight = 0;
    int64_t mono = gh_mono_ms();
    char body[256];
    size_t bn = 0;
    for (size_t i = 0; i < s->resp_n && bn + 1 < sizeof body; i++) /* printable, one line */
        body[bn++] = (s->resp[i] >= 0x20 && s->resp[i] < 0x7f) ? s->resp[i] : ' ';
    body[bn] = 0;
    while (bn && body[bn - 1] == ' ') body[--bn] = 0;
    char red[256], ids[256];
    gh_url_redact(s->url, red, sizeof red);
    s_ids(s, ids, sizeof ids);
    if (cc == CURLE_OK && status >= 200 && status < 300 && (!s->slack || !strcmp(body, "ok"))) {
        al->st.msgs_sent++;
        al->st.alerts_sent += s->msg_n;
        if (s->digest) al->st.digests++;
        s->fail_streak = 0;
        s->next_try_mono = 0;
        int64_t now = gh_wall_ms();
        for (size_t i = 0; i < s->msg_n; i++) {
            s_keyst_t *k = s_keyst(s, s->msg[i]->key, 1);
            if (k) k->last_ms = now;
        }
        gh_debug("%s: delivered %zu alerts (%s)", s->name, s->msg_n, ids);
        s_remove_msg(al, s);
        return;
    }
    /* A 2xx without "ok" from Slack is neither success nor worth a retry
     * (it may have been posted): dead letter, replayable (see alerter.h). */
    int retryable = cc != CURLE_OK || status == 429 || status >= 500 || status == 408;
    if (!retryable) {
        char reason[300];
        if (status >= 200 && status < 300)
            snprintf(reason, sizeof reason, "%ld answer without \"ok\": %s", status, bn ? body : "(empty)");
        else
            snprintf(reason, sizeof reason, "%s", bn ? body : "no reason given");
        s_dead_letter(al, s, status, reason);
        return;
    }
    for (size_t i = 0; i < s->msg_n; i++) s->msg[i]->inflight = 0;
    s->msg_n = 0;
    al->st.retries++;
    if (cc == CURLE_OK && status == 429) {
        int64_t wait = retry_after > 0 ? (retry_after > 3600 ? 3600 : (int64_t)retry_after) * 1000 : 1000;
        s->next_try_mono = mono + wait;
        char block[32];
        snprintf(block, sizeof block, "%lld", (long long)wait);
        const char *kv[] = { s->bucket_key, "1", "1", block };
        redisReply *r = s_eval(al, s_lua_bucket, 1, 3, kv); /* every process waits too */
        if (r) freeReplyObject(r);
        gh_log_ratelimited(&s->rl_retry, GH_LOG_WARN, 5000, "%s %s: 429 rate limited, retrying after %lld ms",
                           s->name, red, (long long)wait);
        return;
    }
    s->fail_streak++;
    int64_t d = s_backoff(al, s->fail_streak);
    s->next_try_mono = mono + d;
    if (cc != CURLE_OK)
        gh_log_ratelimited(&s->rl_retry, GH_LOG_WARN, 5000, "%s %s: %s; retry %d in %lld ms", s->name, red,
                           curl_easy_strerror(cc), s->fail_streak, (long long)d);
    else
        gh_log_ratelimited(&s->rl_retry, GH_LOG_WARN, 5000, "%s %s: http %ld %s; retry %d in %lld ms", s->name, red,
                           status, body, s->fail_streak, (long long)d);
}

/* ---- leases and takeover of orphaned outboxes ------------------------------ */

/* KEYS[1] my lease; ARGV token, ttl_ms, first (1 at start).  Renews the
 * lease; returns 0 when another process had written it since (it took our
 * outbox over while we were stalled), else 1. */
static const char *s_lua_lease =
    "local v = redis.call('GET', KEYS[1])\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
    "if v and v ~= ARGV[1] and ARGV[3] ~= '1' then return 0 end\n"
    "return 1\n";

/* KEYS[1] the other instance's lease, KEYS[2] its outbox, KEYS[3] mine;
 * ARGV token, ttl_ms.  When the lease expired: marks it taken, moves every
 * alert into my outbox and deletes the orphan, atomically, so two live
 * instances can never both take one alert.  Returns the values moved, or
 * an empty array when the owner is alive. */
static const char *s_lua_takeover =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return {} end\n"
    "redis.call('SET', KEYS[1], 'taken:' .. ARGV[1], 'PX', ARGV[2])\n"
    "local kv = redis.call('HGETALL', KEYS[2])\n"
    "local out = {}\n"
    "for i = 1, #kv, 2 do\n"
    "  redis.call('HSET', KEYS[3], kv[i], kv[i + 1])\n"
    "  out[#out + 1] = kv[i + 1]\n"
    "end\n"
    "redis.call('DEL', KEYS[2])\n"
    "return out\n";

/* Renews this instance's lease.  When someone else wrote it, our outbox was
 * taken over: the queued alerts that are not in flight now belong to the
 * other instance, so they leave our memory, and the outbox is read again. */
static void s_renew_lease(gh_alerter_t *al, int first) {
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", al->cfg.lease_ttl_s * 1000LL);
    const char *kv[] = { al->lease_key, al->token, ttl, first ? "1" : "0" };
    redisReply *r = s_eval(al, s_lua_lease, 1, 3, kv);
    if (!r) return;
    al->lease_held = 1;
    int lost = r->type == REDIS_REPLY_INTEGER && r->integer == 0;
    freeReplyObject(r);
    if (!lost) return;
    gh_warn("outbox lease of instance %s was taken over while this process stalled; reloading the outbox",
            al->instance);
    for (int k = 0; k < al->nsinks; k++) {
        s_sink_t *s = &al->sinks[k];
        for (s_item_t *it = s->head, *nx; it; it = nx) {
            nx = it->next;
            if (it->inflight || !it->persisted) continue;
            s_unlink(s, it);
            s_item_free(it);
        }
    }
    al->loaded = 0;
}

/* Looks for other instances' outboxes of our webhooks (SCAN) and takes over
 * those whose lease expired. */
static void s_takeover(gh_alerter_t *al) {
    redisContext *c = gh_redis_ctx(al->redis);
    if (!c || !al->nsinks) return;
    char pat[256], base[256];
    gh_redis_key(al->redis, pat, sizeof pat, "alert:outbox:*");
    gh_redis_key(al->redis, base, sizeof base, "alert:outbox:");
    size_t blen = strlen(base);
    char cursor[32] = "0";
    int rounds = 0;
    do {
        redisReply *r = redisCommand(c, "SCAN %s MATCH %s COUNT 500", cursor, pat);
        if (!r) {
            gh_redis_failed(al->redis);
            return;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            freeReplyObject(r);
            return;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *key = r->element[1]->element[i]->str;
            const char *colon = strrchr(key, ':');
            if (strlen(key) <= blen || !colon || colon <= key + blen) continue;
            char inst[128];
            snprintf(inst, sizeof inst, "%.*s", (int)(colon - key - (ptrdiff_t)blen), key + blen);
            if (!strcmp(inst, al->instance)) continue;
            for (int k = 0; k < al->nsinks; k++) {
                s_sink_t *s = &al->sinks[k];
                if (strcmp(colon + 1, s->name)) continue;
                char lease[256], ttl[24];
                gh_redis_key(al->redis, lease, sizeof lease, "alert:lease:%s", inst);
                snprintf(ttl, sizeof ttl, "%lld", al->cfg.lease_ttl_s * 1000LL);
                const char *kv[] = { lease, key, s->outbox_key, al->token, ttl };
                redisReply *m = s_eval(al, s_lua_takeover, 3, 2, kv);
                if (!m) continue;
                size_t moved = 0;
                for (size_t j = 0; m->type == REDIS_REPLY_ARRAY && j < m->elements; j++) {
                    s_item_t *it = s_item_from_stored(m->element[j]->str);
                    if (!it) continue;
                    it->persisted = 1;
                    s_push(s, it);
                    moved++;
                }
                freeReplyObject(m);
                if (moved) {
                    al->st.taken_over += moved;
                    gh_warn("took over %zu alerts from the %s outbox of instance %s (its lease expired)", moved,
                            s->name, inst);
                }
            }
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") && ++rounds < 100);
}

/* ---- tick / drain --------------------------------------------------------- */

void gh_alerter_tick(gh_alerter_t *al) {
    if (!al) return;
    int64_t mono = gh_mono_ms();
    if (gh_redis_ctx(al->redis)) {
        if (al->npending) s_flush_pending(al);
        s_write_back(al);
        if (mono >= al->lease_next_mono && al->nsinks) {
            s_renew_lease(al, !al->lease_held);
            al->lease_next_mono = mono + al->cfg.lease_ttl_s * 1000LL / 3;
        }
        if (!al->loaded && gh_redis_up(al->redis)) {
            for (int k = 0; k < al->nsinks; k++) s_load_outbox(al, &al->sinks[k]);
            al->loaded = gh_redis_up(al->redis);
        }
        if (mono >= al->takeover_next_mono && al->nsinks) {
            s_takeover(al);
            al->takeover_next_mono = mono + al->cfg.lease_ttl_s * 1000LL / 2;
        }
        if (mono >= al->replay_next_mono) {
            for (int k = 0; k < al->nsinks; k++) s_poll_replay(al, &al->sinks[k]);
            al->replay_next_mono = mono + 1000;
        }
        if (mono >= al->sil_next_mono) {
            s_refresh_silences(al);
            al->sil_next_mono = mono + 5000;
        }
    }
    int running = 0;
    curl_multi_perform(al->multi, &running);
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(al->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        s_sink_t *s = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        if (s) s_done(al, s, m->data.result);
    }
    for (int k = 0; k < al->nsinks; k++) s_maybe_send(al, &al->sinks[k]);
    curl_multi_perform(al->multi, &running);
    gh_alerter_flush(al);
}

int gh_alerter_timeout_ms(gh_alerter_t *al) {
    int64_t mono = gh_mono_ms(), t = 100;
    for (int k = 0; al && k < al->nsinks; k++) {
        s_sink_t *s = &al->sinks[k];
        if (s->inflight) t = 10;
        else if (s->head && s->next_try_mono > mono && s->next_try_mono - mono < t) t = s->next_try_mono - mono;
    }
    return (int)t;
}

static size_t s_queued(const gh_alerter_t *al) {
    size_t n = 0;
    for (int k = 0; k < al->nsinks; k++) n += al->sinks[k].n;
    return n;
}

int gh_alerter_drain(gh_alerter_t *al, int timeout_ms) {
    if (!al) return 0;
    int64_t end = gh_mono_ms() + timeout_ms;
    al->draining = 1;
    for (;;) {
        gh_alerter_tick(al);
        if (!s_queued(al) || gh_mono_ms() >= end) break;
        int64_t room = end - gh_mono_ms();
        int wait = gh_alerter_timeout_ms(al);
        curl_multi_poll(al->multi, NULL, 0, wait < room ? wait : (int)(room > 0 ? room : 0), NULL);
    }
    if (gh_redis_ctx(al->redis) && al->npending) s_flush_pending(al);
    size_t n = s_queued(al);
    if (n) gh_warn("drain: %zu alerts not delivered yet; they stay in the outbox for the next start", n);
    return (int)n;
}

void gh_alerter_stats(const gh_alerter_t *al, gh_alerter_stats_t *st) {
    *st = al->st;
    st->queued = s_queued(al);
    st->redis_up = gh_redis_up(al->redis);
}

char *gh_alert_webhook_from_env(void) {
    const char *v = getenv("SLACK_WEBHOOK_URL");
    if (v && *v) return strdup(v);
    const char *f = getenv("SLACK_WEBHOOK_URL_FILE");
    if (!f || !*f) return NULL;
    FILE *fp = fopen(f, "r");
    if (!fp) {
        gh_error("cannot read SLACK_WEBHOOK_URL_FILE %s: %m", f);
        return NULL;
    }
    char buf[2048];
    char *r = NULL;
    if (fgets(buf, sizeof buf, fp)) {
        buf[strcspn(buf, "\r\n")] = 0;
        if (*buf) r = strdup(buf);
    }
    fclose(fp);
    memset(buf, 0, sizeof buf);
    return r;
}
