/* eosack.c -- see eosack.h. */
#include "eosack.h"
#include "clock.h"
#include "log.h"
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define GH_EOS_GRACE_MS 1000

uint64_t gh_eos_nonce(void) {
    uint64_t x = (uint64_t)gh_wall_ns() ^ ((uint64_t)getpid() << 32);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x & 0x7fffffffffffffffULL; /* fits msgpack's int range either way */
}

void gh_eos_ack(gh_redis_t *r, gh_str_t producer, uint64_t nonce) {
    redisContext *c = gh_redis_ctx(r);
    if (!c) return;
    char key[256];
    gh_redis_key(r, key, sizeof key, "eos:%.*s:%llu", (int)(producer.n > 100 ? 100 : producer.n), producer.p,
                 (unsigned long long)nonce);
    redisAppendCommand(c, "INCR %s", key);
    redisAppendCommand(c, "EXPIRE %s 600", key);
    for (int i = 0; i < 2; i++) {
        redisReply *rep = NULL;
        if (redisGetReply(c, (void **)&rep) != REDIS_OK) {
            gh_redis_failed(r);
            return;
        }
        freeReplyObject(rep);
    }
}

int gh_eos_wait(gh_redis_t *r, const char *producer, uint64_t nonce, unsigned expected, int timeout_ms) {
    int64_t until = gh_mono_ms() + timeout_ms;
    char key[256];
    gh_redis_key(r, key, sizeof key, "eos:%s:%llu", producer, (unsigned long long)nonce);
    struct timespec ts = { 0, 5 * 1000000 };
    while (gh_mono_ms() < until) {
        redisContext *c = gh_redis_ctx(r);
        if (!c) {
            if (gh_mono_ms() + timeout_ms - until >= GH_EOS_GRACE_MS) return 1; /* no Redis: a grace period */
            nanosleep(&ts, NULL);
            continue;
        }
        redisReply *rep = redisCommand(c, "GET %s", key);
        if (!rep) {
            gh_redis_failed(r);
            continue;
        }
        long long n = rep->type == REDIS_REPLY_STRING ? atoll(rep->str) : 0;
        freeReplyObject(rep);
        if (n >= (long long)expected) return 0;
        nanosleep(&ts, NULL);
    }
    gh_warn("end of stream not acknowledged by every downstream worker within %d ms", timeout_ms);
    return -1;
}
