/* stage.c -- the common stage loop, see stage.h. */
#include "stage.h"
#include "clock.h"
#include "log.h"
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
    gh_redis_t *redis;
    char id[64], endpoint[512], host[256];
    char *ended[GH_MAX_PRODUCERS];
    int nended;
    uint64_t in_items, in_batches, decode_err[GH_DEC__COUNT];
    struct { const char *reason; uint64_t n; } drops[GH_MAX_DROP_REASONS];
    int ndrops;
    int64_t started_ms, next_hb_ms;
    gh_ratelimit_t rl_decode;
};

int gh_stage_parse_args(const gh_opt_t *opts, const char *prog, const char *synopsis, int argc, char **argv) {
    int nargs = 0, rc = gh_opt_parse(opts, prog, synopsis, argc, argv, &nargs);
    if (rc == 1) exit(0);
    if (rc < 0) exit(2);
    return nargs;
}

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
    st->zctx = zmq_ctx_new();
    if (!cfg->bind) cfg->bind = s_default_endpoint(cfg->run_dir, ops->name, cfg->index);
    snprintf(st->endpoint, sizeof st->endpoint, "%s", cfg->bind);
    st->pull = zmq_socket(st->zctx, ZMQ_PULL);
    int hwm = (int)cfg->hwm;
    zmq_setsockopt(st->pull, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (zmq_bind(st->pull, cfg->bind) != 0) {
        gh_error("cannot bind %s: %s", cfg->bind, zmq_strerror(errno));
        goto fail;
    }
    if (out_type) {
        char *next = NULL;
        if (!cfg->connect) cfg->connect = next = s_default_endpoint(cfg->run_dir, def_next, 0);
        (void)next;
        if (!(st->out[0] = gh_out_new(st->zctx, cfg->connect, out_type, st->id, (int)cfg->batch_size,
                                      (int)cfg->linger_ms, hwm)))
            goto fail;
    }
    if (out2_type) {
        if (!cfg->connect2) cfg->connect2 = s_default_endpoint(cfg->run_dir, def_next2, 0);
        if (!(st->out[1] = gh_out_new(st->zctx, cfg->connect2, out2_type, st->id, (int)cfg->batch_size,
                                      (int)cfg->linger_ms, hwm)))
            goto fail;
    }
    st->redis = gh_redis_new(cfg->redis, cfg->prefix);
    gh_info("started: input %s, output %s%s%s, %ld producer(s), redis %s", cfg->bind,
            out_type ? cfg->connect : "(none)", out2_type ? " and " : "", out2_type ? cfg->connect2 : "",
            cfg->producers, cfg->redis && *cfg->redis ? "on" : "off");
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
    if (st->zctx) zmq_ctx_term(st->zctx); /* waits for queued batches (linger) */
    for (int i = 0; i < st->nended; i++) free(st->ended[i]);
    gh_redis_destroy(&st->redis);
    free(st);
    *stp = NULL;
}

gh_out_t *gh_stage_out(gh_stage_t *st, int which) { return st->out[which & 1]; }
gh_redis_t *gh_stage_redis(gh_stage_t *st) { return st->redis; }
void *gh_stage_ctx(gh_stage_t *st) { return st->ops.ctx; }
void gh_stage_set_ctx(gh_stage_t *st, void *ctx) { st->ops.ctx = ctx; }
const char *gh_stage_id(const gh_stage_t *st) { return st->id; }

void gh_stage_drop(gh_stage_t *st, const char *reason, uint64_t n) {
    for (int i = 0; i < st->ndrops; i++)
        if (!strcmp(st->drops[i].reason, reason)) {
            st->drops[i].n += n;
            return;
        }
    if (st->ndrops < GH_MAX_DROP_REASONS) {
        st->drops[st->ndrops].reason = reason;
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
    st->next_hb_ms = now + st->cfg->heartbeat_s * 1000;
    redisContext *c = gh_redis_ctx(st->redis);
    if (!c) return;
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
                           "out %llu decode_errors %llu drops %s version %s",
                           key, st->host, st->ops.name, st->id, (int)getpid(), st->endpoint, (long long)st->started_ms,
                           (long long)now, (unsigned long long)st->in_items, (unsigned long long)s_out_items(st),
                           (unsigned long long)s_decode_errors(st), drops, "1");
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
static int s_handle(gh_stage_t *st, gh_batch_t *b, zmq_msg_t *msg) {
    gh_decode_err_t rc = gh_batch_decode(b, zmq_msg_data(msg), zmq_msg_size(msg));
    if (rc != GH_DEC_OK) {
        st->decode_err[rc]++;
        gh_log_ratelimited(&st->rl_decode, GH_LOG_WARN, 1000, "dropped a frame of %zu bytes: %s (%s)",
                           zmq_msg_size(msg), gh_decode_strerror(rc), b->errstr);
        return 0;
    }
    if (b->type == GH_T_EOS) return s_note_eos(st, b->src);
    if (st->nended) s_note_alive(st, b->src);
    if (b->type != st->ops.in_type) {
        st->decode_err[GH_DEC_UNKNOWN_TYPE]++;
        gh_log_ratelimited(&st->rl_decode, GH_LOG_WARN, 1000, "dropped a %s batch: this stage takes %s batches",
                           gh_type_name(b->type), gh_type_name(st->ops.in_type));
        return 0;
    }
    st->in_batches++;
    st->in_items += b->n;
    for (int i = 0; i < 2; i++)
        if (st->out[i]) gh_out_set_pt(st->out[i], b->pt_ns);
    st->ops.on_batch(st, b);
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
            for (int i = 0; i < 64 && !done; i++) {
                if (zmq_msg_recv(&msg, st->pull, ZMQ_DONTWAIT) < 0) break;
                done = s_handle(st, &b, &msg);
            }
            quiet_since = 0;
        } else if (gh_stop_requested) {
            /* stopping: drain once nothing arrived for a short while */
            if (!quiet_since) quiet_since = gh_mono_ms();
            else if (gh_mono_ms() - quiet_since >= 2000) {
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
            next_tick = now + 50;
        }
        for (int i = 0; i < 2; i++)
            if (st->out[i]) gh_out_tick(st->out[i]);
    }
    gh_batch_release(&b);
    zmq_msg_close(&msg);
    if (st->ops.on_drain) st->ops.on_drain(st);
    for (int i = 0; i < 2; i++)
        if (st->out[i] && gh_out_eos(st->out[i]) < 0) rc = -1;
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
