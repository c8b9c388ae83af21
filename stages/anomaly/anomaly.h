/* anomaly.h -- the logic of ghost-anomaly, without sockets: per-key event-time
 * rate series, burst detection, new-template detection, rate samples.
 *
 * Series.  Each classified item (gh_cls_t) is counted in the series its `keys`
 * bits name: GH_KEY_TEMPLATE -> "tpl:<tpl_id>", GH_KEY_CLASS -> "class:<cls>"
 * (only when cls is not empty), GH_KEY_LEVEL -> "level:<name>" (only for
 * cfg.min_level or worse, i.e. warning and above by default).  There is one
 * series per key AND source: when gh_cls_t.src is not 0 the key ends in
 * "@<first 8 hex digits of src>" ("level:error@1f0c99a2"), because only within
 * a source is event time ordered (see Time: this is what makes a replay of
 * files read one after another give the alerts of live).
 *
 * Time.  Only event time is used, and nothing depends on processing-time
 * speed, so a replay gives the same alerts as live, with 1 or N workers.
 * Events fall into buckets of cfg.bucket_s seconds aligned on the epoch.
 * Event time is ordered within a source (one file), not across sources (a
 * replay reads files one after another, so event time jumps back hours when
 * a new file starts).
 *  - Order: ghost-anomaly puts each source's items back in event-time order
 *    before they reach gh_anomaly_add (reorder.h): with N classify workers a
 *    file's lines arrive through N paths at different speeds, and are
 *    released in (time, template, line) order only once the pipeline's
 *    watermark for the source has passed them (lib/wm.h: ingest stamps each
 *    source's progress into batch headers, every stage forwards the minimum
 *    over its producers).
 *  - A source's clock is the largest event time it sent, advanced also by its
 *    watermark (gh_anomaly_advance_source), and where its history starts is
 *    the source's first event as upstream saw it (gh_anomaly_source_start):
 *    both are the same in every worker.
 *  - Each series belongs to one source and closes its buckets on that
 *    source's clock minus cfg.lateness_s.  An event whose bucket has closed
 *    is late: counted (stats.late) and dropped; with ordered input this only
 *    happens to lines whose own times are out of order by more than the
 *    lateness.
 *  - The stage-wide watermark (the least clock over active sources; a source
 *    is idle when more than cfg.idle_source_s behind the leader and
 *    cfg.idle_items items passed since its last) only serves series whose
 *    source has been forgotten.
 * A closed bucket's count feeds the series' detector (detector.h, stock
 * defaults except period = one day in buckets and min_count); empty buckets
 * are zeros.  A new series is back-filled with zero buckets from its source's
 * first event (at most one detector window before the event), so a template
 * that was silent and suddenly floods is judged as a burst.
 * End of input (gh_anomaly_flush) closes every complete bucket; the bucket
 * holding the last event time is partial and is not scored (stats.tail).
 *
 * Hosts.  A series also keeps one sub-series per host, so that one host
 * that stands out is seen when the sum over hosts stays normal (one of six
 * hosts failing logins at ten times its own rate moves the total by less
 * than the series detector calls a burst).  Only where it matters:
 *  - only for series that have more than one host: the first host of a
 *    series is only remembered; sub-series start when a second one sends;
 *  - only for class and level series, and for template series whose items
 *    are cfg.min_level or worse or carry a failure class (an item without a
 *    host counts in the series only);
 *  - at most cfg.max_hosts per series (default 16) and cfg.max_host_series
 *    per stage (default 4096); the events of hosts beyond the caps count in
 *    the series only (stats.host_untracked).  A sub-series without events
 *    for cfg.idle_s and not in a burst is freed (stats.host_evicted).
 * A sub-series lives inside its series (same key, same worker: 1 or N
 * workers give the same alerts), counts in a ring parallel to the series'
 * open buckets and closes with it, bucket for bucket.  It is judged by the
 * light count detector of hostdet.h (quasi-Poisson tail of the host's own
 * rate; the series detector misjudges thin per-host series, see there),
 * which starts from the history the host is known to have had: the
 * series' own counts for its first host (exact while the series has closed
 * at most GH_MAX_SERIES buckets; else their last GH_MAX_SERIES, the rest
 * of the warm-up learnt live), zeros since the series started for a later
 * host, or nothing (a cold warm-up) once a host was refused by a cap.
 * Sub-series send no rate samples: ghost-predict forecasts series only.
 *
 * Output, through the sink callbacks (called synchronously; the alert/rate and
 * every string in it are only valid during the call):
 * Output, through the sink callbacks (called synchronously; the alert/rate and
 * every string in it are only valid during the call):
 *  - on_rate: one gh_rate_t per closed (or back-filled) bucket per series; threshold is the
 *    count the detector would call a burst for the next bucket (0 in warm-up).
 *  - on_alert, kind "burst": state "firing" when a burst starts, "update" when
 *    its per-bucket count has doubled since the last report, "resolved" when it
 *    ends.  count = events in the burst so far; rate and baseline are events
 *    per MINUTE (rate of the latest bucket, baseline the detector's expectation);
 *    score in [0,1]; start = burst's first bucket start, end = latest bucket
 *    end (event time); series = up to 32 last bucket counts, oldest first;
 *    examples = up to 3 raw lines of the firing bucket; host set when one host
 *    sent >= 80% of the firing bucket's events, or when one host's
 *    sub-series is in a burst there and its excess over its own baseline
 *    is >= 80% of the series' excess (then the examples are that host's
 *    lines).  A burst of a level or class
 *    series whose first bucket is >= 80% one template is that template's
 *    burst: the template's own series reports it, and the level/class
 *    series sends nothing for it (firing, update nor resolved; counted in
 *    stats.covered), so one incident is one burst alert, not three.
 *  - on_alert, kind "burst" from a host's sub-series: the same fields, its
 *    own counts (count, rate, baseline, series), its host's lines as
 *    examples, host = the host, key = the series key + "/" + the host
 *    ("tpl:42@1f0c99a2/web7"; a silence on "tpl:42@*" covers both).  One
 *    burst, one alert: a host's burst that starts while its series is in a
 *    burst sends nothing (the series' alert reports it; stats.host_covered),
 *    nor one of a level/class host series whose firing bucket is >= 80%
 *    one template, or whose excess is at least half one template's growth
 *    since the bucket before (the template's series reports it); a series burst
 *    that starts while one host's burst, already reported, makes >= 80% of
 *    its excess sends nothing either (stats.host_folded).
 *  - on_alert, kind "new_template": a template id never seen before (in any
 *    source; key "tpl:<id>"), arriving at cfg.min_level or worse or with a
 *    failure class, once its source has sent cfg.warmup_s of event
 *    time (templates seen during warm-up are learnt silently).  Emitted at
 *    once, with the line as example; start = end = its event time.
 * Alert ids are the hex xxHash64 of kind, key and start (new templates: kind
 * and key), so 1 or N shards produce the same ids.
 *
 * Memory.  At most cfg.max_series series, each with its detector (~18 KB
 * at the default window with its daily and weekly profiles, plus the
 * context model's ~36-44 kB at its measured peak, context.h), and
 * at most cfg.max_host_series host sub-series (~5.3 kB each: examples of two
 * open buckets and of the open burst, 32 counts of history, 4 bytes per
 * open bucket; 4096 of them ~22 MB); a series without events for
 * cfg.idle_s of event time and not in a burst is evicted, and when the cap is
 * reached the least recently active quiet series makes room.  Buckets stay
 * open while an active source lags; a series keeps at most cfg.max_open_s of
 * open buckets (a ring that grows by doubling, ~1.8 KB a bucket): an event
 * further ahead forces the oldest buckets closed (stats.forced), and the
 * lagging source's events for them become late for that series.  At most
 * cfg.max_sources sources are tracked (an idle one, else the least recent,
 * makes room).  The set of seen template ids is capped at cfg.max_templates
 * (beyond it, new ids are treated as known).
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
    int idle_source_s;   /* a source this far behind the leader (event time)
                            may be idle (default 120) */
    int idle_items;      /* ... once this many items came since its last (default 512) */
    int max_open_s;      /* open buckets per series, in seconds (default 86400) */
    int max_sources;     /* sources tracked (default 1024) */
    int max_hosts;       /* per-host sub-series of one series (default 16;
                            negative: no per-host series) */
    int max_host_series; /* per-host sub-series in all (default 4096;
                            negative: none) */
} gh_anomaly_cfg_t;

typedef struct {
    void *ctx;
    void (*on_alert)(void *ctx, const gh_alert_t *a);
    void (*on_rate)(void *ctx, const gh_rate_t *r);
} gh_anomaly_sink_t;

typedef struct {
    uint64_t items;      /* items accepted */
    uint64_t late;       /* items dropped from a series whose bucket had closed */
    uint64_t forced;     /* buckets closed early by the max_open_s cap */
    uint64_t tail;       /* events in the unscored partial buckets at flush */
    uint64_t buckets;    /* bucket closes (per series) */
    uint64_t alerts;     /* alerts emitted */
    uint64_t rates;      /* rate samples emitted */
    uint64_t evicted;    /* series evicted */
    uint64_t covered;    /* level/class bursts left to their template's series */
    uint64_t series;     /* live series */
    uint64_t host_series;    /* live per-host sub-series */
    uint64_t host_evicted;   /* per-host sub-series freed (idle, or with their series) */
    uint64_t host_untracked; /* events of a multi-host series whose host has no
                                sub-series (a cap was reached): counted in the
                                series only */
    uint64_t host_covered;   /* per-host bursts left to their series' (or their
                                template's) alert */
    uint64_t host_folded;    /* series bursts left to one host's open burst alert */
    uint64_t examples_missing; /* lines that would have been a window's example but
                                  came without their raw line (ghost-classify's
                                  --bucket-s differs from this stage's) */
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



/* Advance the clock of source 0 as if it had sent an event at ts_ms (for idle
 * shards: the caller may broadcast the pipeline's event time).  May emit. */
void gh_anomaly_advance(gh_anomaly_t *a, int64_t ts_ms);
/* Source src has come to event time ts (the pipeline's watermark for it:
 * every item of src up to ts was added).  Its series close on this clock, the
 * same in every worker, so a replay ends the same with 1 or N workers. */
void gh_anomaly_advance_source(gh_anomaly_t *a, uint64_t src, int64_t ts);
/* Source src's history starts at first (its first event time, as upstream
 * saw it): warm-up and back-filled silence count from there, the same in
 * every worker.  Does not move the source's clock. */
void gh_anomaly_source_start(gh_anomaly_t *a, uint64_t src, int64_t first);

/* End of input: close every complete open bucket; the last, partial one is
 * dropped unscored (bursts still open stay open: they have not been seen to
 * end).  May emit. */
void gh_anomaly_flush(gh_anomaly_t *a);

void gh_anomaly_get_stats(const gh_anomaly_t *a, gh_anomaly_stats_t *st);

/* Destroy *a and set it to NULL; NULL-safe.  Emits nothing. */
void gh_anomaly_destroy(gh_anomaly_t **a);

#endif
