/* health.h -- ghostctl's view of a running pipeline: who is registered, is
 * each process alive, how busy is it.
 *
 * gh_health_collect() reads the registry (<prefix>session:*, SCAN) into one
 * row per worker (host + id; a restarted worker's row replaces the entry its
 * dead predecessor left until that one's TTL runs out) and saves it to a
 * cache file; when Redis is unreachable it reads the cache instead, so the
 * stages can still be probed.  gh_health_probe() scrapes every process's
 * /metrics in parallel (one thread each, a short timeout).  gh_health_judge()
 * then sets each row's state:
 *
 *   down      a local pid that no longer exists; or no answer from /metrics
 *             and a heartbeat older than the stale limit (3 x the process's
 *             heartbeat interval unless --stale-s), or Redis unreachable too
 *   degraded  alive, but its Redis is down (ghost_redis_up 0), the registry is
 *             unreachable from here, its heartbeat is late, or /metrics does
 *             not answer while the heartbeat is fresh
 *   ok        otherwise
 */
#ifndef GH_CTL_HEALTH_H
#define GH_CTL_HEALTH_H
#include "redis.h"
#include <jansson.h>
#include <stdio.h>
#include <stdint.h>

#define GH_HEALTH_BUCKETS 32

typedef struct {
    char stage[32], id[64], host[256], endpoint[512], maddr[64], drops_desc[256];
    int pid, mport;
    long hb_s;
    int64_t started_ms, hb_ms;
    /* from the last scrape */
    int scraped;           /* 1 when /metrics answered */
    char scrape_err[128];
    int64_t scraped_ms;
    double in, out, drops, decode_errors, rss, cpu, redis_up, redis_conf;
    double les[GH_HEALTH_BUCKETS], counts[GH_HEALTH_BUCKETS];
    int nb;
    /* derived */
    double in_rate, out_rate, p50, p95, p99; /* rates NAN until two scrapes; quantiles NAN without data */
    const char *state;
    char reason[256];
} gh_health_proc_t;

typedef struct {
    gh_health_proc_t *p;
    size_t n;
    int redis_ok;      /* the registry was read from Redis (else from the cache) */
    char source[600];  /* where the rows came from */
} gh_health_t;

/* Fills h from the registry (and saves it to cache_file, when not empty) or,
 * with Redis unreachable, from cache_file.  Returns 0, or -1 when neither
 * worked (a message is printed on stderr). */
int gh_health_collect(gh_health_t *h, gh_redis_t *r, const char *cache_file);

/* Scrapes every row's /metrics in parallel; prev (may be NULL) holds the rows
 * of an earlier scrape, matched by host + id + pid, for rates and interval
 * quantiles.  Quantiles fall back to the whole lifetime without a prev. */
void gh_health_probe(gh_health_t *h, const gh_health_t *prev, long timeout_ms);

/* Sets state and reason of every row (see the top of this file); returns the
 * number of rows that are down. */
int gh_health_judge(gh_health_t *h, long stale_s);

/* One table: header + one line per row + a summary line. */
void gh_health_print(const gh_health_t *h, FILE *f);
json_t *gh_health_json(const gh_health_t *h);
void gh_health_free(gh_health_t *h);
#endif
