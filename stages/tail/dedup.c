/* dedup.c -- per-file high-water marks for exactly-once raw lines, see dedup.h.
 *
 * The marks live in an open-addressing table keyed by file_id (0 is the empty
 * slot, which is why file_id 0 is never filtered).  Each slot remembers
 * whether its mark came from Redis (loaded) and whether it moved since the
 * last commit (dirty).  Commit sends one EVAL per dirty mark in a pipeline;
 * the script raises the stored value but never lowers it, so two writers (a
 * restarted ingest, a resharded one) cannot move a mark backwards.
 */
#include "tail/dedup.h"
#include "log.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t id;
    uint64_t hwm;
    unsigned char loaded, dirty;
} s_slot_t;

struct gh_dedup {
    gh_redis_t *r;
    char ns[64];
    long ttl_s;
    s_slot_t *slots;
    size_t cap, used, dirty;
    uint64_t accepted, dropped;
};

static const char s_raise_lua[] =
    "local v = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "if tonumber(ARGV[1]) > v then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) "
    "else redis.call('EXPIRE', KEYS[1], ARGV[2]) end return 1";

static void s_key(gh_redis_t *r, const char *ns, uint64_t id, char *buf, size_t len) {
    gh_redis_key(r, buf, len, "dedup:%s:%016" PRIx64, ns && *ns ? ns : GH_DEDUP_NS, id);
}

gh_dedup_t *gh_dedup_new(gh_redis_t *r, const char *ns) {
    gh_dedup_t *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->r = r;
    snprintf(d->ns, sizeof d->ns, "%s", ns && *ns ? ns : GH_DEDUP_NS);
    d->ttl_s = GH_DEDUP_TTL_S;
    d->cap = 64;
    d->slots = calloc(d->cap, sizeof *d->slots);
    if (!d->slots) {
        free(d);
        return NULL;
    }
    return d;
}

void gh_dedup_destroy(gh_dedup_t **dp) {
    if (!dp || !*dp) return;
    free((*dp)->slots);
    free(*dp);
    *dp = NULL;
}

void gh_dedup_set_ttl(gh_dedup_t *d, long ttl_s) { d->ttl_s = ttl_s < 1 ? 1 : ttl_s; }

/* Finds the slot of id, or the empty slot where it would go. */
static s_slot_t *s_find(s_slot_t *slots, size_t cap, uint64_t id) {
    size_t i = (size_t)(id * 0x9E3779B97F4A7C15ull) & (cap - 1);
    while (slots[i].id && slots[i].id != id) i = (i + 1) & (cap - 1);
    return &slots[i];
}

static int s_grow(gh_dedup_t *d) {
    size_t ncap = d->cap * 2;
    s_slot_t *n = calloc(ncap, sizeof *n);
    if (!n) return -1;
    for (size_t i = 0; i < d->cap; i++)
        if (d->slots[i].id) *s_find(n, ncap, d->slots[i].id) = d->slots[i];
    free(d->slots);
    d->slots = n;
    d->cap = ncap;
    return 0;
}

int gh_dedup_load_hwm(gh_redis_t *r, const char *ns, uint64_t file_id, uint64_t *hwm) {
    redisContext *c = gh_redis_ctx(r);
    if (!c) return -1;
    char key[256];
    s_key(r, ns, file_id, key, sizeof key);
    redisReply *rep = redisCommand(c, "GET %s", key);
    if (!rep) {
        gh_redis_failed(r);
        return -1;
    }
    int rc = -1;
    if (rep->type == REDIS_REPLY_NIL) rc = 0;
    else if (rep->type == REDIS_REPLY_STRING) {
        *hwm = strtoull(rep->str, NULL, 10);
        rc = 1;
    }
    freeReplyObject(rep);
    return rc;
}

/* Merges the Redis mark into the slot; leaves it unloaded when Redis is down. */
static void s_load(gh_dedup_t *d, s_slot_t *s) {
    uint64_t h = 0;
    int rc = gh_dedup_load_hwm(d->r, d->ns, s->id, &h);
    if (rc < 0) return;
    s->loaded = 1;
    if (rc == 1 && h > s->hwm) s->hwm = h;
}

int gh_dedup_accept(gh_dedup_t *d, uint64_t file_id, uint64_t offset) {
    if (!file_id || !offset) {
        d->accepted++;
        return 1;
    }
    s_slot_t *s = s_find(d->slots, d->cap, file_id);
    if (!s->id) {
        if ((d->used + 1) * 4 > d->cap * 3) {
            if (s_grow(d) < 0) {
                d->accepted++; /* out of memory: let the line through rather than lose it */
                return 1;
            }
            s = s_find(d->slots, d->cap, file_id);
        }
        s->id = file_id;
        d->used++;
    }
    if (!s->loaded && d->r) s_load(d, s);
    if (offset <= s->hwm) {
        d->dropped++;
        return 0;
    }
    s->hwm = offset;
    if (!s->dirty) {
        s->dirty = 1;
        d->dirty++;
    }
    d->accepted++;
    return 1;
}

int gh_dedup_commit(gh_dedup_t *d) {
    if (!d->dirty) return 0;
    redisContext *c = gh_redis_ctx(d->r);
    if (!c) return -1;
    char key[256], val[32], ttl[32];
    size_t sent = 0;
    snprintf(ttl, sizeof ttl, "%ld", d->ttl_s);
    for (size_t i = 0; i < d->cap; i++) {
        s_slot_t *s = &d->slots[i];
        if (!s->id || !s->dirty) continue;
        if (!s->loaded) s_load(d, s); /* a mark accepted while Redis was down */
        s_key(d->r, d->ns, s->id, key, sizeof key);
        snprintf(val, sizeof val, "%" PRIu64, s->hwm);
        redisAppendCommand(c, "EVAL %s 1 %s %s %s", s_raise_lua, key, val, ttl);
        sent++;
    }
    int ok = 1;
    for (size_t i = 0; i < sent; i++) {
        redisReply *rep = NULL;
        if (redisGetReply(c, (void **)&rep) != REDIS_OK || !rep) {
            gh_redis_failed(d->r);
            return -1; /* connection is gone: everything stays dirty */
        }
        if (rep->type == REDIS_REPLY_ERROR) {
            gh_warn("dedup commit: %s", rep->str);
            ok = 0;
        }
        freeReplyObject(rep);
    }
    if (!ok) return -1;
    for (size_t i = 0; i < d->cap; i++) d->slots[i].dirty = 0;
    d->dirty = 0;
    return 0;
}

uint64_t gh_dedup_accepted(const gh_dedup_t *d) { return d->accepted; }
uint64_t gh_dedup_dropped(const gh_dedup_t *d) { return d->dropped; }
size_t gh_dedup_pending(const gh_dedup_t *d) { return d->dirty; }
