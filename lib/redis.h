/* redis.h -- one Redis connection that survives Redis going away.
 *
 * gh_redis_ctx() hands out a connected hiredis context or NULL while Redis is
 * down; it reconnects by itself with exponential backoff (100 ms .. 5 s) and
 * never blocks longer than the connect timeout.  After any command that
 * returned NULL (an I/O error), call gh_redis_failed() so the next
 * gh_redis_ctx() reconnects.  Keys are namespaced by a prefix ("ghost:" by
 * default); gh_redis_key() builds one.
 */
#ifndef GH_REDIS_H
#define GH_REDIS_H
#include <hiredis/hiredis.h>
#include <stddef.h>

typedef struct gh_redis gh_redis_t;

/* url: "redis://[:password@]host:port[/db]", "unix:/path/to/sock", or
 * "host:port"; NULL or "" disables Redis (gh_redis_ctx always NULL). */
gh_redis_t *gh_redis_new(const char *url, const char *prefix);
void gh_redis_destroy(gh_redis_t **r);
redisContext *gh_redis_ctx(gh_redis_t *r);
void gh_redis_failed(gh_redis_t *r);
int gh_redis_up(const gh_redis_t *r);          /* 1 when the last use succeeded */
const char *gh_redis_prefix(const gh_redis_t *r);
/* Writes prefix + suffix into buf; returns buf. */
char *gh_redis_key(const gh_redis_t *r, char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#endif
