/* anomaly.h -- the logic of ghost-anomaly, without sockets: per-key event-time
 * rate series, burst detection, new-template detection, rate samples.
 *
 * Series.  Each classified item (gh_cls_t) is counted in the series its `keys`
 * bits name: GH_KEY_TEMPLATE -> "tpl:<tpl_id>", GH_KEY_CLASS -> "class:<cls>"
 * (only when cls is not empty), GH_KEY_LEVEL -> "level:<name>" (only for
 * cfg.min_level or worse, i.e. warning and above by default).
 *
 * Time.  Only event time is used, so a replay gives the same alerts as live.
 * Events fall into buckets of cfg.bucket_s seconds aligned on the epoch.  The
 * watermark is the largest event time seen minus cfg.lateness_s; a bucket
 * closes when the watermark passes its end, and an event whose bucket has
 * closed is late: counted (gh_anomaly_stats) and dropped.  A closed bucket's
 * count feeds the series' detector (detector.h, stock defaults except
 * period = one day in buckets and min_count); empty buckets are zeros.  A
 * series first seen after the stage has run a while is back-filled with the
 * zero buckets it had since the stage started (at most one detector window),
 * so a template that was silent and suddenly floods is judged as a burst.
 *
 * Output, through the sink callbacks (called synchronously; the alert/rate and
 * every string in it are only valid during the call):
 *  - on_rate: one gh_rate_t per closed bucket per series; threshold is the
 *    count the detector would call a burst for the next bucket (0 in warm-up).
 *  - on_alert, kind "burst": state "firing" when a burst starts, "update" when
 *    its per-bucket count has doubled since the last report, "resolved" when it
 *    ends.  count = events in the burst so far; rate and baseline are events
 *    per MINUTE (rate of the latest bucket, baseline the detector's expectation);
 *    score in [0,1]; start = burst's first bucket start, end = latest bucket
 *    end (event time); series = up to 32 last bucket counts, oldest first;
 *    examples = up to 3 raw lines of the firing bucket; host set when one host
 *    sent >= 80% of the latest bucket's events.
 *  - on_alert, kind "new_template": a template id never seen before, arriving
 *    at cfg.min_level or worse, once the stage has seen cfg.warmup_s of event
 *    time (templates seen during warm-up are learnt silently).  Emitted at
 *    once, with the line as example; start = end = its event time.
 * Alert ids are the hex xxHash64 of kind, key and start (new templates: kind
 * and key), so 1 or N shards produce the same ids.
 *
 * Memory.  At most cfg.max_series series; a series without events for
 * cfg.idle_s of event time and not in a burst is evicted, and when the cap is
 * reached the least recently active quiet series makes room.  The set of seen
 * template ids is capped at cfg.max_templates (beyond it, the oldest half is
 * forgotten).
 */
#ifndef GH_ANOMALY_H
#define GH_ANOMALY_H

#include <stdint.h>
#include "gh_proto.h"

typedef struct {
    int bucket_s;        /* bucket width, seconds (default 60) */
    int lateness_s;      /* allowed lateness, seconds (default 30) */
    int warmup_s;        /* event time before new-template alerts (default 300) */
    int min_level;       /* worst-is-lowest syslog level for level series and
                            new-template alerts (default GH_LVL_WARNING) */
    double min_count;    /* a burst needs at least this many events in a bucket (default 5) */
    int max_series;      /* (default 4096) */
    int idle_s;          /* evict a quiet series idle this long (default 21600) */
    int max_templates;   /* seen-template ids remembered (default 1000000) */
} gh_anomaly_cfg_t;

typedef struct {
    void *ctx;
    void (*on_alert)(void *ctx, const gh_alert_t *a);
    void (*on_rate)(void *ctx, const gh_rate_t *r);
} gh_anomaly_sink_t;

typedef struct {
    uint64_t items;      /* items accepted */
    uint64_t late;       /* events dropped because their bucket had closed */
    uint64_t buckets;    /* bucket closes (per series) */
    uint64_t alerts;     /* alerts emitted */
    uint64_t rates;      /* rate samples emitted */
    uint64_t evicted;    /* series evicted */
    uint64_t series;     /* live series */
} gh_anomaly_stats_t;

typedef struct gh_anomaly gh_anomaly_t;

void gh_anomaly_defaults(gh_anomaly_cfg_t *cfg);

/* New stage state (cfg NULL = defaults; zero fields take the default).
 * Returns NULL when out of memory. */
gh_anomaly_t *gh_anomaly_new(const gh_anomaly_cfg_t *cfg, gh_anomaly_sink_t sink);

/* Count one classified item; advances the watermark and may emit (closed
 * buckets, bursts, a new template).  Returns 0, 1 when the item was late and
 * dropped, -1 when out of memory (the item is dropped, counted nowhere). */
int gh_anomaly_add(gh_anomaly_t *a, const gh_cls_t *c);

/* Advance the watermark as if an event at ts_ms had been seen (for idle
 * shards: the caller may broadcast the pipeline's event time).  May emit. */
void gh_anomaly_advance(gh_anomaly_t *a, int64_t ts_ms);

/* End of input: close every open bucket (bursts still open stay open: they
 * have not been seen to end).  May emit. */
void gh_anomaly_flush(gh_anomaly_t *a);

void gh_anomaly_get_stats(const gh_anomaly_t *a, gh_anomaly_stats_t *st);

/* Destroy *a and set it to NULL; NULL-safe.  Emits nothing. */
void gh_anomaly_destroy(gh_anomaly_t **a);

#endif
