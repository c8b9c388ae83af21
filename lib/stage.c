/* stage.c -- the common stage loop, see stage.h.
 *
 * Metrics kept by the loop (all with the labels of ghost_stage_info):
 *   ghost_records_in_total, ghost_batches_in_total     valid input of in_type
 *   ghost_records_out_total{output}, ghost_batches_out_total{output}
 *   ghost_drops_total{reason}                           gh_stage_drop()
 *   ghost_decode_errors_total{reason}                   frames the codec refused
 *   ghost_eos_total                                     end-of-stream frames seen
 *   ghost_input_backlog_batches                         see s_add_metrics
 *   ghost_output_blocked_seconds_total{output}          backpressure from downstream
 *   ghost_output_pending_records                        records in open batches
 *   ghost_record_latency_seconds                        now - pt, per record
 *   ghost_redis_configured, ghost_redis_up
 *   ghost_heartbeat_age_seconds                         since the registry entry was written
 */
#include "stage.h"
#include "wm.h"
#include "eosack.h"
#include "clock.h"
#include "hash.h"
#include "log.h"
#include "curve.h"
#include "sig.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define GH_MAX_PRODUCERS 256
#define GH_MAX_DROP_REASONS 16

struct gh_stage {
    gh_stage_cfg_t *cfg;
    gh_stage_ops_t ops;
    void *zctx, *pull;
    gh_out_t *out[2];
    int out_type[2];     /* item type of each output (gh_type_t), 0: none */
    gh_redis_t *redis;
    gh_zap_t *zap;
    gh_curve_t curve;
    char id[64], endpoint[512], host[256];
    char *ended[GH_MAX_PRODUCERS];
    int nended;
    uint64_t in_items, in_batches, decode_err[GH_DEC__COUNT];
    struct { const char *reason; uint64_t n; gh_metric_t *m; } drops[GH_MAX_DROP_REASONS];
    int ndrops;
    int64_t started_ms, next_hb_ms, last_hb_ms;
    gh_ratelimit_t rl_decode;
    gh_wmtab_t *wmt;     /* input watermarks per source, combined over producers */
    void (*on_wm)(gh_stage_t *st, uint64_t src, int64_t ts_ms, int64_t first_ms);
    gh_metrics_t *metrics;
    struct {
        gh_metric_t *in_items, *in_batches, *out_items[2], *out_batches[2], *blocked[2], *pending, *backlog, *eos,
            *decode[GH_DEC__COUNT], *redis_conf, *redis_up, *hb_age;
        gh_hist_t *latency;
    } m;
};

/* Latency buckets, seconds: a batch lingers a few ms per hop, so the fine
 * end matters; the coarse end catches a stalled stage. */
static const double s_latency_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                           0.25,   0.5,   1,      2.5,   5,    10,   30,    60 };

static const char *s_decode_reason(int rc) {
    static const char *names[GH_DEC__COUNT] = { "ok", "oversize", "truncated", "malformed",
                                                "bad_type", "version", "unknown_type", "nomem" };
    return rc >= 0 && rc < GH_DEC__COUNT && names[rc] ? names[rc] : "other";
}

/* Registers the loop's series.  ZeroMQ does not say how many frames wait in
 * a socket's queue, so the input side shows what the loop can see: how many
 * frames it found ready in its last receive round; the output side shows
 * how long sends waited on a full downstream queue (the downstream's backlog
 * at its high-water mark). */
static void s_add_metrics(gh_stage_t *st) {
    gh_metrics_t *m = st->metrics;
    char lab[256], l2[128];
    gh_metrics_label(lab, sizeof lab, "stage", st->ops.name);
    size_t n = strlen(lab);
    snprintf(lab + n, sizeof lab - n, ",%s", gh_metrics_label(l2, sizeof l2, "id", st->id));
    n = strlen(lab);
    snprintf(lab + n, sizeof lab - n, ",%s", gh_metrics_label(l2, sizeof l2, "host", st->host));
    gh_metric_set(gh_metrics_series(m, GH_METRIC_GAUGE, "ghost_stage_info",
                                    "Always 1; the labels name this stage process.", lab), 1);
    st->m.in_items = gh_metrics_series(m, GH_METRIC_COUNTER, "ghost_records_in_total",
                                       "Records received in valid input batches.", NULL);
    st->m.in_batches = gh_metrics_series(m, GH_METRIC_COUNTER, "ghost_batches_in_total",
                                         "Valid input batches received and processed.", NULL);
    for (int i = 0; i < 2; i++) {
        if (!st->out[i]) continue;
        gh_metrics_label(lab, sizeof lab, "output", i ? "second" : "main");
        st->m.out_items[i] = gh_metrics_series(m, GH_METRIC_COUNTER, "ghost_records_out_total",
                                               "Records sent downstream, by output.", lab);
        st->m.out_batches[i] = gh_metrics_series(m, GH_METRIC_COUNTER, "ghost_batches_out_total",
                                                 "Batches sent downstream, by output.", lab);
        st->m.blocked[i] = gh_metrics_series(m, GH_METRIC_COUNTER, "ghost_output_blocked_seconds_total",
                                             "Seconds sends waited because the downstream queue was at its high-water "
                                             "mark (backpressure; ZeroMQ exposes no queue length).", lab);
    }
    st->m.pending = gh_metrics_series(m, GH_METRIC_GAUGE, "ghost_output_pending_records",
                                      "Records in output batches not yet sent (waiting to fill or linger).", NULL);
    st->m.backlog = gh_metrics_series(m, GH_METRIC_GAUGE, "ghost_input_backlog_batches",
                                      "Input frames found already queued in the last receive round (capped at 64). "
                                      "ZeroMQ does not expose the queue length: 0 means the stage keeps up, 64 means "
                                      "at least 64 waited.", NULL);
    st->m.eos = gh_metrics_series(m, GH_METRIC_COUNTER, "ghost_eos_total", "End-of-stream frames received.", NULL);
    for (int i = 1; i < GH_DEC__COUNT; i++)
        st->m.decode[i] = gh_metrics_series(m, GH_METRIC_COUNTER, "ghost_decode_errors_total",
                                            "Input frames dropped by the decoder or of the wrong batch type, by "
                                            "reason.", gh_metrics_label(lab, sizeof lab, "reason", s_decode_reason(i)));
    st->m.latency = gh_metrics_histogram(m, "ghost_record_latency_seconds",
                                         "Per-record latency at this stage's input: wall clock now minus the batch's "
                                         "origin processing time (pt, set where the line entered the pipeline; "
                                         "across hosts it includes their clock difference).",
                                         s_latency_bounds, (int)(sizeof s_latency_bounds / sizeof *s_latency_bounds));
    st->m.redis_conf = gh_metrics_series(m, GH_METRIC_GAUGE, "ghost_redis_configured", "1 when a Redis URL is set.", NULL);
    st->m.redis_up = gh_metrics_series(m, GH_METRIC_GAUGE, "ghost_redis_up",
                                       "1 when the last Redis command succeeded; 0 while Redis is unreachable or "
                                       "not configured (the stage works on without it).", NULL);
    st->m.hb_age = gh_metrics_series(m, GH_METRIC_GAUGE, "ghost_heartbeat_age_seconds",
                                     "Seconds since the registry entry was last written (-1: never).", NULL);
    gh_metric_set(st->m.redis_conf, st->cfg->redis && *st->cfg->redis);
    gh_metric_set(st->m.hb_age, -1);
}

/* Copies what the loop and the outputs count into the metrics (each tick). */
static void s_sync_metrics(gh_stage_t *st) {
    uint64_t pending = 0;
    for (int i = 0; i < 2; i++) {
        if (!st->out[i]) continue;
        gh_metric_set(st->m.out_items[i], (double)gh_out_items(st->out[i]));
        gh_metric_set(st->m.out_batches[i], (double)gh_out_batches(st->out[i]));
        gh_metric_set(st->m.blocked[i], (double)gh_out_blocked_ns(st->out[i]) / 1e9);
        pending += gh_out_pending_items(st->out[i]);
    }
    gh_metric_set(st->m.pending, (double)pending);
    gh_metric_set(st->m.redis_up, gh_redis_up(st->redis));
    if (st->last_hb_ms) gh_metric_set(st->m.hb_age, (double)(gh_wall_ms() - st->last_hb_ms) / 1000.0);
}

int gh_stage_parse_args(const gh_opt_t *opts, const char *prog, const char *synopsis, int argc, char **argv) {
    int nargs = 0, rc = gh_opt_parse(opts, prog, synopsis, argc, argv, &nargs);
    if (rc == 1) exit(0);
    if (rc < 0) exit(2);
    return nargs;
}

static void s_heartbeat(gh_stage_t *st, int final);

static char *s_default_endpoint(const char *run_dir, const char *stage, long index) {
    char buf[512];
    snprintf(buf, sizeof buf, "ipc://%s/%s-%ld.sock", run_dir, stage, index);
    return strdup(buf);
}

gh_stage_t *gh_stage_new(gh_stage_cfg_t *cfg, const gh_stage_ops_t *ops, int out_type, const char *def_next,
                         int out2_type, const char *def_next2) {
    gh_stage_t *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->cfg = cfg;
    st->ops = *ops;
    snprintf(st->id, sizeof st->id, "%s-%ld", ops->name, cfg->index);
    gethostname(st->host, sizeof st->host);
    gh_log_init(st->id, cfg->log_level);
    st->started_ms = gh_wall_ms();
    st->wmt = gh_wmtab_new((int)cfg->producers, 0);
    st->zctx = zmq_ctx_new();
    if (!(st->metrics = gh_metrics_new())) goto fail;
    char err[256];
    if (gh_curve_load(&st->curve, cfg->curve_secret, cfg->curve_server_key, err, sizeof err) < 0) {
        gh_error("%s", err);
        goto fail;
    }
    if (!cfg->bind) cfg->bind = s_default_endpoint(cfg->run_dir, ops->name, cfg->index);
    snprintf(st->endpoint, sizeof st->endpoint, "%s", cfg->bind);
    st->pull = zmq_socket(st->zctx, ZMQ_PULL);
    int hwm = (int)cfg->hwm;
    zmq_setsockopt(st->pull, ZMQ_RCVHWM, &hwm, sizeof hwm);
    int curve_in = st->curve.sec[0] && gh_curve_applies(cfg->bind);
    if (cfg->curve_allow && *cfg->curve_allow && !curve_in)
        gh_warn("--curve-allow needs --curve-secret and a tcp:// --bind; the input stays open to any peer");
    if (curve_in) {
        /* the ZAP handler must be in place before the first peer arrives */
        if (cfg->curve_allow && *cfg->curve_allow && !(st->zap = gh_zap_start(st->zctx, cfg->curve_allow))) goto fail;
        if (gh_curve_server(st->pull, &st->curve) != 0) {
            gh_error("cannot make %s a CURVE server: %s", cfg->bind, zmq_strerror(errno));
            goto fail;
        }
    }
    if (zmq_bind(st->pull, cfg->bind) != 0) {
        gh_error("cannot bind %s: %s", cfg->bind, zmq_strerror(errno));
        goto fail;
    }
    st->out_type[0] = out_type;
    st->out_type[1] = out2_type;
    if (out_type) {
        char *next = NULL;
        if (!cfg->connect) cfg->connect = next = s_default_endpoint(cfg->run_dir, def_next, 0);
        (void)next;
        if (!(st->out[0] = gh_out_new_curve(st->zctx, cfg->connect, out_type, st->id, (int)cfg->batch_size,
                                            (int)cfg->linger_ms, hwm, &st->curve)))
            goto fail;
    }
    if (out2_type) {
        if (!cfg->connect2) cfg->connect2 = s_default_endpoint(cfg->run_dir, def_next2, 0);
        if (!(st->out[1] = gh_out_new_curve(st->zctx, cfg->connect2, out2_type, st->id, (int)cfg->batch_size,
                                            (int)cfg->linger_ms, hwm, &st->curve)))
            goto fail;
    }
    st->redis = gh_redis_new(cfg->redis, cfg->prefix);
    s_add_metrics(st);
    int mport = -1;
    if (cfg->metrics_port >= 0 && (mport = gh_metrics_serve(st->metrics, cfg->metrics_addr, (int)cfg->metrics_port)) < 0)
        goto fail;
    char mdesc[128] = "off";
    if (mport >= 0) snprintf(mdesc, sizeof mdesc, "http://%s:%d/metrics", cfg->metrics_addr, mport);
    gh_info("started: input %s%s, output %s%s%s, %ld producer(s), redis %s, metrics %s", cfg->bind,
            curve_in ? (st->zap ? " (CURVE, allow-list)" : " (CURVE)") : "", out_type ? cfg->connect : "(none)",
            out2_type ? " and " : "", out2_type ? cfg->connect2 : "", cfg->producers,
            cfg->redis && *cfg->redis ? "on" : "off", mdesc);
    /* say at once whether Redis is there; the loop retries with backoff */
    if (cfg->redis && *cfg->redis) s_heartbeat(st, 0);
    return st;
fail:
    gh_stage_destroy(&st);
    return NULL;
}

void gh_stage_destroy(gh_stage_t **stp) {
    gh_stage_t *st = *stp;
    if (!st) return;
    for (int i = 0; i < 2; i++) gh_out_destroy(&st->out[i]);
    if (st->pull) zmq_close(st->pull);
    if (st->zctx) zmq_ctx_term(st->zctx); /* waits for queued batches (linger); ends the ZAP thread */
    gh_zap_join(&st->zap);
    gh_metrics_destroy(&st->metrics);
    for (int i = 0; i < st->nended; i++) free(st->ended[i]);
    gh_redis_destroy(&st->redis);
    gh_wmtab_destroy(&st->wmt);
    free(st);
    *stp = NULL;
}

gh_out_t *gh_stage_out(gh_stage_t *st, int which) { return st->out[which & 1]; }
gh_redis_t *gh_stage_redis(gh_stage_t *st) { return st->redis; }
void *gh_stage_ctx(gh_stage_t *st) { return st->ops.ctx; }
void gh_stage_set_ctx(gh_stage_t *st, void *ctx) { st->ops.ctx = ctx; }
const char *gh_stage_id(const gh_stage_t *st) { return st->id; }
gh_metrics_t *gh_stage_metrics(gh_stage_t *st) { return st->metrics; }
int gh_stage_metrics_port(const gh_stage_t *st) { return gh_metrics_port(st->metrics); }

void gh_stage_emit_alert(gh_stage_t *st, int which, const gh_alert_t *a) {
    gh_out_t *out = st->out[which & 1];
    unsigned shard = gh_shard(gh_hash(a->key.p, a->key.n, 0), gh_out_n(out));
    gh_enc_alert(gh_out_enc(out, shard), a);
    gh_out_commit(out, shard);
}

void gh_stage_drop(gh_stage_t *st, const char *reason, uint64_t n) {
    for (int i = 0; i < st->ndrops; i++)
        if (!strcmp(st->drops[i].reason, reason)) {
            st->drops[i].n += n;
            gh_metric_add(st->drops[i].m, (double)n);
            return;
        }
    if (st->ndrops < GH_MAX_DROP_REASONS) {
        char lab[160];
        st->drops[st->ndrops].reason = reason;
        st->drops[st->ndrops].m = gh_metrics_series(st->metrics, GH_METRIC_COUNTER, "ghost_drops_total",
                                                    "Records the stage dropped on purpose, by reason.",
                                                    gh_metrics_label(lab, sizeof lab, "reason", reason));
        gh_metric_add(st->drops[st->ndrops].m, (double)n);
        st->drops[st->ndrops++].n = n;
    }
}

static uint64_t s_out_items(const gh_stage_t *st) {
    return (st->out[0] ? gh_out_items(st->out[0]) : 0) + (st->out[1] ? gh_out_items(st->out[1]) : 0);
}

static uint64_t s_decode_errors(const gh_stage_t *st) {
    uint64_t n = 0;
    for (int i = 1; i < GH_DEC__COUNT; i++) n += st->decode_err[i];
    return n;
}

/* Registry entry: one hash per process, refreshed every heartbeat, pipelined
 * (one round trip).  Redis being down only delays it. */
static void s_heartbeat(gh_stage_t *st, int final) {
    int64_t now = gh_wall_ms();
    if (!final && now < st->next_hb_ms) return;
    redisContext *c = gh_redis_ctx(st->redis);
    if (!c) return; /* retried at the next tick; gh_redis_ctx spaces the attempts with backoff */
    char key[512], drops[512] = "";
    size_t dl = 0;
    for (int i = 0; i < st->ndrops && dl < sizeof drops; i++)
        dl += (size_t)snprintf(drops + dl, sizeof drops - dl, "%s%s=%llu", i ? "," : "", st->drops[i].reason,
                               (unsigned long long)st->drops[i].n);
    gh_redis_key(st->redis, key, sizeof key, "session:%s:%s:%d", st->host, st->ops.name, (int)getpid());
    if (final) {
        redisAppendCommand(c, "DEL %s", key);
    } else {
        redisAppendCommand(c,
                           "HSET %s host %s stage %s id %s pid %d endpoint %s started %lld heartbeat %lld in %llu "
                           "out %llu decode_errors %llu drops %s version %s metrics %d metrics_addr %s "
                           "heartbeat_s %ld",
                           key, st->host, st->ops.name, st->id, (int)getpid(), st->endpoint, (long long)st->started_ms,
                           (long long)now, (unsigned long long)st->in_items, (unsigned long long)s_out_items(st),
                           (unsigned long long)s_decode_errors(st), drops, "1", gh_metrics_port(st->metrics),
                           st->cfg->metrics_addr ? st->cfg->metrics_addr : "", st->cfg->heartbeat_s);
        redisAppendCommand(c, "EXPIRE %s %ld", key, st->cfg->session_ttl);
    }
    for (int i = 0; i < (final ? 1 : 2); i++) {
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK) {
            gh_redis_failed(st->redis);
            return;
        }
        freeReplyObject(r);
    }
    st->next_hb_ms = now + st->cfg->heartbeat_s * 1000;
    st->last_hb_ms = now;
}

/* 1 when this end-of-stream completes the set of expected producers. */
static int s_note_eos(gh_stage_t *st, gh_str_t src) {
    for (int i = 0; i < st->nended; i++)
        if (strlen(st->ended[i]) == src.n && !memcmp(st->ended[i], src.p, src.n)) return st->nended >= st->cfg->producers;
    if (st->nended < GH_MAX_PRODUCERS) st->ended[st->nended++] = strndup(src.p, src.n);
    gh_info("end of stream from %.*s (%d of %ld producers)", (int)src.n, src.p, st->nended, st->cfg->producers);
    return st->nended >= st->cfg->producers;
}

/* A producer that ended and now sends again was restarted: it is live again. */
static void s_note_alive(gh_stage_t *st, gh_str_t src) {
    for (int i = 0; i < st->nended; i++)
        if (strlen(st->ended[i]) == src.n && !memcmp(st->ended[i], src.p, src.n)) {
            free(st->ended[i]);
            st->ended[i] = st->ended[--st->nended];
            return;
        }
}

/* Handles one frame; returns 1 when every producer has ended. */
/* A source's input watermark advanced: pass it on downstream, and tell the
 * stage (anomaly closes its windows on it). */
/* Watermarks travel with event streams only (raw lines, records,
 * classified items): ghost-anomaly orders and counts by them, and what it
 * sends on -- rate samples of closed windows, alerts -- is already a result
 * in event time, so its outputs carry none (they were an empty batch per
 * linger to ghost-predict and ghost-alert, which never read them). */
static int s_wm_out(const gh_stage_t *st, int i) {
    return st->out[i] && st->out_type[i] != GH_T_RATE && st->out_type[i] != GH_T_ALERT;
}

static void on_wm_advance(void *ud, uint64_t src, int64_t ts, int64_t first) {
    gh_stage_t *st = ud;
    for (int i = 0; i < 2; i++)
        if (s_wm_out(st, i)) gh_out_set_wm(st->out[i], src, ts, first);
    if (st->on_wm) st->on_wm(st, src, ts, first);
}

void gh_stage_watermark(gh_stage_t *st, uint64_t src, int64_t ts_ms, int64_t first_ms) {
    for (int i = 0; i < 2; i++)
        if (s_wm_out(st, i)) gh_out_set_wm(st->out[i], src, ts_ms, first_ms);
}

void gh_stage_on_watermark(gh_stage_t *st, void (*fn)(gh_stage_t *st, uint64_t src, int64_t ts_ms, int64_t first_ms),
                           int require_all) {
    st->on_wm = fn;
    gh_wmtab_set_rule(st->wmt, require_all);
}

static int s_handle(gh_stage_t *st, gh_batch_t *b, zmq_msg_t *msg) {
    gh_decode_err_t rc = gh_batch_decode(b, zmq_msg_data(msg), zmq_msg_size(msg));
    if (rc != GH_DEC_OK) {
        st->decode_err[rc]++;
        gh_metric_add(st->m.decode[rc], 1);
        gh_log_ratelimited(&st->rl_decode, GH_LOG_WARN, 1000, "dropped a frame of %zu bytes: %s (%s)",
                           zmq_msg_size(msg), gh_decode_strerror(rc), b->errstr);
        return 0;
    }
    gh_debug("frame: %s from %.*s seq %llu, %zu items", gh_type_name(b->type), (int)b->src.n, b->src.p,
             (unsigned long long)b->seq, b->n);
    if (b->type == GH_T_EOS) {
        gh_metric_add(st->m.eos, 1);
        gh_eos_ack(st->redis, b->src, b->seq);
        gh_wmtab_end(st->wmt, b->src.p, b->src.n, on_wm_advance, st);
        return s_note_eos(st, b->src);
    }
    if (st->nended) {
        s_note_alive(st, b->src);
        gh_wmtab_alive(st->wmt, b->src.p, b->src.n);
    }
    if (b->type != st->ops.in_type) {
        st->decode_err[GH_DEC_UNKNOWN_TYPE]++;
        gh_metric_add(st->m.decode[GH_DEC_UNKNOWN_TYPE], 1);
        gh_log_ratelimited(&st->rl_decode, GH_LOG_WARN, 1000, "dropped a %s batch: this stage takes %s batches",
                           gh_type_name(b->type), gh_type_name(st->ops.in_type));
        return 0;
    }
    st->in_batches++;
    st->in_items += b->n;
    if (b->pt_ns > 0 && b->n) {
        int64_t lat = gh_wall_ns() - b->pt_ns;
        gh_hist_observe(st->m.latency, lat > 0 ? (double)lat / 1e9 : 0.0, b->n);
    }
    for (int i = 0; i < 2; i++)
        if (st->out[i]) gh_out_set_pt(st->out[i], b->pt_ns);
    st->ops.on_batch(st, b);
    /* after the items: the watermarks cover them */
    for (size_t i = 0; i < b->nwm; i++)
        gh_wmtab_update(st->wmt, b->src.p, b->src.n, b->wm[i].src, b->wm[i].ts_ms, b->wm[i].first_ms, on_wm_advance,
                        st);
    gh_metric_add(st->m.in_batches, 1);
    gh_metric_add(st->m.in_items, (double)b->n);
    return 0;
}

int gh_stage_run(gh_stage_t *st) {
    gh_batch_t b;
    zmq_msg_t msg;
    gh_batch_init(&b);
    zmq_msg_init(&msg);
    int done = 0, rc = 0;
    int64_t next_tick = 0, quiet_since = 0;
    while (!done) {
        int pending = (st->out[0] && gh_out_pending(st->out[0])) || (st->out[1] && gh_out_pending(st->out[1]));
        zmq_pollitem_t pi = { st->pull, 0, ZMQ_POLLIN, 0 };
        int n = zmq_poll(&pi, 1, gh_stop_requested ? 20 : pending ? (st->cfg->linger_ms > 0 ? st->cfg->linger_ms : 1) : 50);
        if (n < 0 && errno != EINTR) {
            gh_error("poll failed: %s", zmq_strerror(errno));
            rc = -1;
            break;
        }
        if (n > 0) {
            /* take what is queued, up to a bound, before doing periodic work */
            int got = 0;
            for (int i = 0; i < 64 && !done; i++) {
                if (zmq_msg_recv(&msg, st->pull, ZMQ_DONTWAIT) < 0) break;
                done = s_handle(st, &b, &msg);
                got++;
            }
            gh_metric_set(st->m.backlog, got);
            quiet_since = 0;
        } else {
            gh_metric_set(st->m.backlog, 0);
            /* stopping: drain once nothing arrived for a short while */
            if (gh_stop_requested && !quiet_since) quiet_since = gh_mono_ms();
            else if (gh_stop_requested && gh_mono_ms() - quiet_since >= 2000) {
                gh_info("stop requested: draining");
                done = 1;
            }
        }
        if (gh_stop_requested >= 2) {
            gh_warn("second signal: stopping now");
            done = 1;
        }
        int64_t now = gh_mono_ms();
        if (now >= next_tick) {
            if (st->ops.on_tick) st->ops.on_tick(st);
            s_heartbeat(st, 0);
            s_sync_metrics(st);
            next_tick = now + 50;
        }
        for (int i = 0; i < 2; i++)
            if (st->out[i]) gh_out_tick(st->out[i]);
    }
    gh_batch_release(&b);
    zmq_msg_close(&msg);
    if (st->ops.on_drain) st->ops.on_drain(st);
    /* end of stream, then hold the sockets open until every worker has it */
    uint64_t nonce = gh_eos_nonce();
    unsigned ports = 0;
    for (int i = 0; i < 2; i++)
        if (st->out[i]) {
            if (gh_out_eos(st->out[i], nonce) < 0) rc = -1;
            ports += gh_out_n(st->out[i]);
        }
    if (ports) gh_eos_wait(st->redis, st->id, nonce, ports, 30000);
    char drops[512] = "";
    size_t dl = 0;
    for (int i = 0; i < st->ndrops && dl < sizeof drops; i++)
        dl += (size_t)snprintf(drops + dl, sizeof drops - dl, " %s=%llu", st->drops[i].reason,
                               (unsigned long long)st->drops[i].n);
    gh_info("done: %llu items in %llu batches, %llu out, %llu bad frames, drops:%s", (unsigned long long)st->in_items,
            (unsigned long long)st->in_batches, (unsigned long long)s_out_items(st),
            (unsigned long long)s_decode_errors(st), dl ? drops : " none");
    s_heartbeat(st, 1);
    return rc;
}
