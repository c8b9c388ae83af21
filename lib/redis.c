/* redis.c -- see redis.h. */
#include "redis.h"
#include "clock.h"
#include "log.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gh_redis {
    char *host, *path, *password;
    int port, db;
    char prefix[64];
    redisContext *c;
    int64_t next_try_ms, backoff_ms;
    int up, warned;
};

gh_redis_t *gh_redis_new(const char *url, const char *prefix) {
    gh_redis_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    snprintf(r->prefix, sizeof r->prefix, "%s", prefix && *prefix ? prefix : "ghost:");
    r->backoff_ms = 100;
    if (!url || !*url) return r;
    const char *u = url;
    if (!strncmp(u, "unix:", 5)) {
        r->path = strdup(u + 5);
        return r;
    }
    if (!strncmp(u, "redis://", 8)) u += 8;
    const char *at = strrchr(u, '@');
    if (at) {
        const char *pw = u;
        if (*pw == ':') pw++;
        r->password = strndup(pw, (size_t)(at - pw));
        u = at + 1;
    }
    const char *colon = strchr(u, ':'), *slash = strchr(u, '/');
    size_t hn = colon ? (size_t)(colon - u) : slash ? (size_t)(slash - u) : strlen(u);
    r->host = strndup(u, hn);
    r->port = colon ? atoi(colon + 1) : 6379;
    r->db = slash ? atoi(slash + 1) : 0;
    return r;
}

void gh_redis_destroy(gh_redis_t **rp) {
    gh_redis_t *r = *rp;
    if (!r) return;
    if (r->c) redisFree(r->c);
    free(r->host);
    free(r->path);
    free(r->password);
    free(r);
    *rp = NULL;
}

static int s_command_ok(redisContext *c, const char *what, const char *arg) {
    redisReply *rep = arg ? redisCommand(c, "%s %s", what, arg) : redisCommand(c, "%s", what);
    int ok = rep && rep->type != REDIS_REPLY_ERROR;
    if (rep && !ok) gh_warn("redis %s failed: %s", what, rep->str);
    if (rep) freeReplyObject(rep);
    return ok;
}

redisContext *gh_redis_ctx(gh_redis_t *r) {
    if (!r || (!r->host && !r->path)) return NULL;
    if (r->c) return r->c;
    int64_t now = gh_mono_ms();
    if (now < r->next_try_ms) return NULL;
    struct timeval tv = { 0, 500 * 1000 };
    redisContext *c = r->path ? redisConnectUnixWithTimeout(r->path, tv) : redisConnectWithTimeout(r->host, r->port, tv);
    if (c && !c->err) {
        redisSetTimeout(c, (struct timeval){ 2, 0 });
        char db[16];
        snprintf(db, sizeof db, "%d", r->db);
        if ((!r->password || s_command_ok(c, "AUTH", r->password)) && (!r->db || s_command_ok(c, "SELECT", db))) {
            if (!r->up && r->warned) gh_info("redis is back");
            r->c = c;
            r->up = 1;
            r->warned = 0;
            r->backoff_ms = 100;
            return c;
        }
    }
    if (!r->warned) {
        gh_warn("redis unreachable (%s); working without it and retrying with backoff",
                c && c->err ? c->errstr : "connection failed");
        r->warned = 1;
    }
    if (c) redisFree(c);
    r->up = 0;
    r->next_try_ms = now + r->backoff_ms;
    r->backoff_ms = r->backoff_ms * 2 > 5000 ? 5000 : r->backoff_ms * 2;
    return NULL;
}

void gh_redis_failed(gh_redis_t *r) {
    if (!r || !r->c) return;
    if (!r->warned) gh_warn("redis connection lost (%s); retrying with backoff", r->c->err ? r->c->errstr : "error");
    r->warned = 1;
    redisFree(r->c);
    r->c = NULL;
    r->up = 0;
    r->next_try_ms = gh_mono_ms() + r->backoff_ms;
}

int gh_redis_up(const gh_redis_t *r) { return r && r->up; }
const char *gh_redis_prefix(const gh_redis_t *r) { return r ? r->prefix : "ghost:"; }

char *gh_redis_key(const gh_redis_t *r, char *buf, size_t len, const char *fmt, ...) {
    int n = snprintf(buf, len, "%s", gh_redis_prefix(r));
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < len) vsnprintf(buf + n, len - (size_t)n, fmt, ap);
    va_end(ap);
    return buf;
}
