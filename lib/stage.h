/* stage.h -- the loop every pipeline stage runs.
 *
 * A stage binds one PULL socket, decodes each frame with the codec, hands
 * valid batches to its on_batch handler and writes through up to two
 * gh_out_t outputs.  The loop:
 *
 *   - counts frames refused by the decoder by reason and logs them at most
 *     once a second (the stage keeps running);
 *   - tracks end-of-stream frames by producer id: when every expected
 *     producer (--producers) has ended, it calls on_drain (flush all state),
 *     flushes the outputs, sends end-of-stream downstream and returns, so a
 *     replay drains the whole pipeline stage by stage;
 *   - on SIGTERM/SIGINT it reads what is already queued, then drains the
 *     same way;
 *   - calls on_tick about every 50 ms and flushes batches past their linger;
 *   - registers itself in Redis (ghost:session:<host>:<stage>:<pid>, a hash
 *     with its endpoint, pid, counters, metrics port and heartbeat time, with
 *     a TTL it refreshes) when Redis is reachable, and runs on without it:
 *     a failed heartbeat is retried at every tick (the connection backs off
 *     by itself), so the entry is back as soon as Redis is;
 *   - keeps its metrics (metrics.h) and serves them over HTTP on
 *     --metrics-addr:--metrics-port (port 0: any free port, -1: no server):
 *     records and batches in and out, drops and decode errors by reason,
 *     input backlog, time blocked on full downstream queues, per-record
 *     latency from the origin (the batch header's pt), Redis state, CPU, RSS;
 *   - with --curve-secret, a tcp:// input is a CURVE server (--curve-allow
 *     DIR admits only the client keys in DIR) and tcp:// outputs are CURVE
 *     clients of --curve-server-key (see curve.h).
 */
#ifndef GH_STAGE_H
#define GH_STAGE_H
#include "gh_proto.h"
#include "opt.h"
#include "metrics.h"
#include "out.h"
#include "redis.h"
#include <stdint.h>

typedef struct {
    char *bind, *connect, *connect2, *run_dir, *redis, *prefix, *log_level, *id;
    long index, producers, batch_size, linger_ms, hwm, heartbeat_s, session_ttl;
    char *metrics_addr, *curve_secret, *curve_server_key, *curve_allow;
    long metrics_port;
} gh_stage_cfg_t;

/* The option rows every stage shares; put them in the stage's own table. */
#define GH_STAGE_OPTIONS(c, next)                                                                                   \
    { "bind", GH_OPT_STR, &(c).bind, NULL, "endpoint this worker binds for input (default ipc://RUN_DIR/STAGE-INDEX.sock)" }, \
    { "connect", GH_OPT_STR, &(c).connect, NULL, "downstream endpoints, comma-separated (default: " next ")" },       \
    { "run-dir", GH_OPT_STR, &(c).run_dir, "/tmp/ghost", "directory of the ipc:// sockets" },                          \
    { "index", GH_OPT_INT, &(c).index, "0", "this worker's index among its stage's workers" },                         \
    { "producers", GH_OPT_INT, &(c).producers, "1", "upstream processes whose end-of-stream ends this worker" },        \
    { "batch-size", GH_OPT_INT, &(c).batch_size, "256", "items per output batch" },                                     \
    { "linger-ms", GH_OPT_INT, &(c).linger_ms, "5", "flush a partly filled batch after this many ms" },                 \
    { "hwm", GH_OPT_INT, &(c).hwm, "32", "batches queued per socket before senders wait (backpressure)" },            \
    { "redis", GH_OPT_STR, &(c).redis, "", "Redis URL (redis://[:pass@]host:port[/db] or unix:/path); empty: none" },   \
    { "prefix", GH_OPT_STR, &(c).prefix, "ghost:", "Redis key prefix" },                                               \
    { "heartbeat-s", GH_OPT_INT, &(c).heartbeat_s, "5", "seconds between registry heartbeats" },                       \
    { "session-ttl", GH_OPT_INT, &(c).session_ttl, "600", "TTL of the registry entry, seconds" },                      \
    { "log-level", GH_OPT_STR, &(c).log_level, "info", "error, warn, info or debug" },                            \
    { "metrics-port", GH_OPT_INT, &(c).metrics_port, "0", "Prometheus /metrics HTTP port (0: any free port, registered; -1: off)" }, \
    { "metrics-addr", GH_OPT_STR, &(c).metrics_addr, "127.0.0.1", "address the metrics server binds (0.0.0.0: every interface)" }, \
    { "curve-secret", GH_OPT_STR, &(c).curve_secret, "", "CURVE keypair file of this process (ghostctl keygen); encrypts tcp:// links" }, \
    { "curve-server-key", GH_OPT_STR, &(c).curve_server_key, "", "public key file of the tcp:// peers this process connects to" }, \
    { "curve-allow", GH_OPT_STR, &(c).curve_allow, "", "directory of client public keys allowed on the tcp:// input (empty: any CURVE client)" }

typedef struct gh_stage gh_stage_t;

typedef struct {
    const char *name;   /* "ingest", "classify", ... */
    int in_type;        /* batch type this stage consumes */
    void *ctx;
    /* Process one valid batch of in_type. */
    void (*on_batch)(gh_stage_t *st, const gh_batch_t *b);
    /* Periodic work (timers, retries); may be NULL. */
    void (*on_tick)(gh_stage_t *st);
    /* All input has ended (or a stop was asked): flush every piece of state
     * into the outputs.  The outputs' end-of-stream follows.  May be NULL. */
    void (*on_drain)(gh_stage_t *st);
} gh_stage_ops_t;

/* Creates the stage: context, bound input, outputs (out_type/out2_type 0 for
 * none; connect2 is the second output's endpoint list), Redis.  Returns NULL
 * after logging why. */
gh_stage_t *gh_stage_new(gh_stage_cfg_t *cfg, const gh_stage_ops_t *ops, int out_type, const char *def_next,
                         int out2_type, const char *def_next2);
/* Runs until every producer ended or a stop was asked, then drains.
 * Returns 0 on a clean end. */
int gh_stage_run(gh_stage_t *st);
void gh_stage_destroy(gh_stage_t **st);

gh_out_t *gh_stage_out(gh_stage_t *st, int which);  /* 0 or 1 */
gh_redis_t *gh_stage_redis(gh_stage_t *st);
void *gh_stage_ctx(gh_stage_t *st);
void gh_stage_set_ctx(gh_stage_t *st, void *ctx);
/* Raises this stage's own watermark of source src (a stage that makes event
 * times, like ingest): every item of src up to ts_ms has been handed on;
 * first_ms is the source's first event time. */
void gh_stage_watermark(gh_stage_t *st, uint64_t src, int64_t ts_ms, int64_t first_ms);
/* Input watermarks (lib/wm.h) are combined over producers and passed on
 * downstream by the loop; fn, when set, is told each advance.  require_all:
 * every producer carries every source (broadcast) rather than one each. */
void gh_stage_on_watermark(gh_stage_t *st, void (*fn)(gh_stage_t *st, uint64_t src, int64_t ts_ms, int64_t first_ms),
                           int require_all);      /* for state built after the stage */
const char *gh_stage_id(const gh_stage_t *st);       /* "classify-0" */
/* Sends an alert on output `which`, to the worker that owns its key (so one
 * key's alerts are grouped in one ghost-alert process). */
void gh_stage_emit_alert(gh_stage_t *st, int which, const gh_alert_t *a);
/* Counts an item dropped by the stage (reason is a short static string). */
void gh_stage_drop(gh_stage_t *st, const char *reason, uint64_t n);
/* The stage's metrics registry, for stage-specific series (never NULL after
 * gh_stage_new).  The series the loop keeps are listed in stage.c. */
gh_metrics_t *gh_stage_metrics(gh_stage_t *st);
int gh_stage_metrics_port(const gh_stage_t *st);     /* 0 when not serving */

/* Parses argv with the stage's table; on --help or error exits the process
 * (this is for mains only).  Returns the number of non-option arguments. */
int gh_stage_parse_args(const gh_opt_t *opts, const char *prog, const char *synopsis, int argc, char **argv);
#endif
