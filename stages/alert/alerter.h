/* alerter.h -- the alert stage's logic, without ZeroMQ: dedup, silences,
 * grouping, the JSON-lines sink and reliable, rate-limited delivery to Slack
 * (and optionally a generic webhook) through a durable outbox.
 *
 * Flow of one alert: gh_alerter_submit() drops it when its id was seen in the
 * last hour (dedup key in Redis with TTL, plus a local table that also works
 * while Redis is down), writes its JSON line to the sink (silenced alerts are
 * written with "silenced": true and go no further), and atomically with the
 * dedup key stores it in each webhook's outbox hash in Redis
 * (<prefix>alert:outbox:<instance>:<sink>).  gh_alerter_tick(), called from
 * the poll loop, groups queued alerts per key (group window, repeat interval
 * for "update" alerts), takes a token from the per-webhook token bucket that
 * every ghost-alert process shares through Redis (a Lua script; a local
 * bucket while Redis is down), folds the backlog into one digest message when
 * the bucket is empty, and drives at most one request per webhook through
 * curl's multi interface without blocking.  An alert leaves the outbox only
 * after the webhook answered 200 "ok" (Slack) or 2xx (generic).  429 waits
 * for Retry-After (and blocks the shared bucket for every process); 5xx,
 * timeouts and connection errors back off exponentially with jitter; any
 * other answer is permanent: the alerts go to the dead-letter list
 * (<prefix>alert:dead) with the answer as the reason and an error is logged.
 * A 2xx answer other than "ok" from Slack is not a success (Slack answers
 * exactly "ok"; anything else is a proxy or a changed API) and is not
 * retried either (the message may have been posted; a retry could post it
 * twice): the alerts go to the dead-letter list, where ghostctl can replay
 * them.  The generic webhook succeeds on any 2xx.
 *
 * Identity: upstream gives every state of one incident the same id, so the
 * alerter works with uids (gh_alert_uid: "ID", "ID/resolved",
 * "ID/update@END"); dedup, outbox and the ids a message lists use them.
 *
 * Noise control per key: a group window; "update" alerts at most every
 * repeat interval; a resolve message (header "Resolved", naming the firing
 * alert's id, how long it lasted); flap damping: a key with flap_count or
 * more firings within flap_window_s of event time is flapping, and its
 * alerts are then held and summarised in one message per repeat interval
 * (or flap window) instead of one message per firing and resolve.  On
 * drain every hold ends, so nothing stays behind for a hold.
 *
 * Crash recovery: after kill -9, a new alerter with the same instance name
 * finds the outbox and sends what is left; dedup keys stop an upstream
 * replay from sending an alert twice.  Each instance also holds a lease
 * (<prefix>alert:lease:<instance>, TTL lease_ttl_s, renewed every third of
 * it); a live instance that finds another instance's outbox whose lease
 * expired moves it into its own outbox atomically (Lua) and sends it, so an
 * instance that never comes back loses nothing.  While Redis is down, alerts
 * wait in a bounded local outbox and are written back (and acknowledgements
 * applied) when it returns.
 *
 * The webhook URL is a secret: it is only ever logged redacted (scheme and
 * host).  Use gh_alert_webhook_from_env() to read it from the environment or
 * a file rather than a command-line flag.
 */
#ifndef GH_ALERTER_H
#define GH_ALERTER_H
#include <stdint.h>
#include "gh_proto.h"
#include "redis.h"

enum { GH_ALERT_OK = 0, GH_ALERT_RETRY = 1, GH_ALERT_DROP = 2 };

typedef struct {
    const char *sink_path;           /* JSON lines; "-" = stdout; NULL = none */
    const char *webhook_url;         /* Slack incoming webhook; NULL = no Slack */
    const char *generic_webhook_url; /* POST {"alerts":[...]}; NULL = none */
    const char *instance;            /* names this process's outbox; NULL = "0" */
    double rate_per_s;               /* token bucket refill per webhook; <= 0: 1 */
    int burst;                       /* bucket size; <= 0: 3 */
    int group_window_s;              /* same key within this window = one message; 0 = none */
    int repeat_interval_s;           /* "update" alerts of a key sent at most this often; 0 = no limit */
    int timeout_ms;                  /* per HTTP attempt; <= 0: 10000 */
    int backoff_min_ms, backoff_max_ms; /* retry backoff; <= 0: 500, 60000 */
    int dedup_ttl_s;                 /* <= 0: 3600 */
    int local_max;                   /* local outbox bound per webhook while Redis is down; <= 0: 10000 */
    int flap_window_s;               /* flap damping: event-time window; <= 0: 900 */
    int flap_count;                  /* firings of one key within the window that mean flapping; <= 0: 3 */
    int lease_ttl_s;                 /* outbox lease; an outbox whose lease expired is taken over; <= 0: 30 */
} gh_alerter_cfg_t;

typedef struct {
    uint64_t submitted, duplicates, silenced, invalid;
    uint64_t msgs_sent, alerts_sent, digests, retries, rate_waits, dead_letters, local_dropped;
    uint64_t flap_held;              /* messages that summarised a flapping key */
    uint64_t taken_over;             /* alerts taken over from other instances' orphaned outboxes */
    uint64_t queued;                 /* alerts waiting in all outboxes now */
    int redis_up;
} gh_alerter_stats_t;

typedef struct gh_alerter gh_alerter_t;

/* Creates an alerter.  redis may be NULL or down (it is used when it comes
 * up).  Copies everything it keeps from cfg.  Returns NULL when the sink
 * cannot be opened or out of memory (logged). */
gh_alerter_t *gh_alerter_new(const gh_alerter_cfg_t *cfg, gh_redis_t *redis);

/* Takes one alert.  Returns GH_ALERT_OK when it was accepted (written to the
 * sink, queued for the webhooks), GH_ALERT_DROP when it is a duplicate, has
 * no id, or is silenced (counted in the stats; a silenced alert is still
 * written to the sink, marked).  Never blocks on the network; at most one
 * Redis round trip. */
int gh_alerter_submit(gh_alerter_t *al, const gh_alert_t *a);

/* Flushes the JSON-lines sink (call once per batch of submits). */
void gh_alerter_flush(gh_alerter_t *al);

/* Drives everything that takes time: deliveries (non-blocking), retries,
 * rate limit, grouping, digests, silence refresh, Redis write-back.  Call
 * every 50-100 ms. */
void gh_alerter_tick(gh_alerter_t *al);

/* Milliseconds until tick has something to do (<= 100), for the poll
 * timeout. */
int gh_alerter_timeout_ms(gh_alerter_t *al);

/* On shutdown: keeps delivering until every outbox is empty or timeout_ms
 * passed.  Returns the alerts left; they stay in the Redis outbox for the
 * next start. */
int gh_alerter_drain(gh_alerter_t *al, int timeout_ms);

void gh_alerter_stats(const gh_alerter_t *al, gh_alerter_stats_t *st);

/* Frees everything and nulls *al; alerts not delivered stay in Redis. */
void gh_alerter_destroy(gh_alerter_t **al);

/* The Slack webhook URL from the environment: SLACK_WEBHOOK_URL, or the first
 * line of the file named by SLACK_WEBHOOK_URL_FILE.  Returns a malloc'ed
 * string or NULL when neither is set (or the file is unreadable, logged
 * without the content). */
char *gh_alert_webhook_from_env(void);
#endif
