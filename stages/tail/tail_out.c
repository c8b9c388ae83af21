/* tail_out.c -- batching and sharded PUSH sockets of ghost-tail, see tail_out.h. */
#include "tail/tail_out.h"
#include "eosack.h"
#include "clock.h"
#include "curve.h"
#include "gh_proto.h"
#include "hash.h"
#include "log.h"
#include "out.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

typedef struct {
    char *endpoint;
    void *sock;
    gh_enc_t enc;
    int64_t opened_ms; /* monotonic time the open batch was begun */
} s_peer_t;

struct gh_tail_out {
    void *ctx;
    char *src;
    s_peer_t *peers;
    unsigned n;
    long batch_size, linger_ms;
    uint64_t seq, eos_nonce;
};

gh_tail_out_t *gh_tail_out_new(const char *endpoints, const char *src, long batch_size, long linger_ms, long hwm) {
    gh_tail_out_t *o = calloc(1, sizeof *o);
    char *list = endpoints ? strdup(endpoints) : NULL, *save = NULL;
    if (!o || !list) goto fail;
    o->src = strdup(src ? src : "tail-0");
    o->batch_size = batch_size > 0 ? batch_size : 1;
    o->linger_ms = linger_ms >= 0 ? linger_ms : 0;
    /* Batches are numbered from the wall clock so seq keeps growing across restarts. */
    o->seq = (uint64_t)gh_wall_ns() / 1000u;
    if (!(o->ctx = zmq_ctx_new())) goto fail;
    /* CURVE for tcp:// endpoints: the keys come from GHOST_CURVE_SECRET and
     * GHOST_CURVE_SERVER_KEY (files, as ghostctl keygen writes them) */
    gh_curve_t curve;
    char cerr[256];
    if (gh_curve_load(&curve, getenv("GHOST_CURVE_SECRET"), getenv("GHOST_CURVE_SERVER_KEY"), cerr, sizeof cerr) < 0) {
        gh_error("%s", cerr);
        goto fail;
    }
    /* Sized once: an encoder's packer points into its own struct, so peers never move. */
    size_t max = 1;
    for (const char *c = list; *c; c++) max += *c == ',';
    if (!(o->peers = calloc(max, sizeof *o->peers))) goto fail;
    for (char *ep = strtok_r(list, ", ", &save); ep && o->n < max; ep = strtok_r(NULL, ", ", &save)) {
        s_peer_t *p = &o->peers[o->n];
        gh_enc_init(&p->enc);
        o->n++;
        p->endpoint = strdup(ep);
        int h = (int)(hwm > 0 ? hwm : 64), inf = -1;
        int use_curve = curve.sec[0] && gh_curve_applies(ep);
        if (use_curve && !curve.server[0]) {
            gh_error("%s: CURVE needs the receiver's public key (GHOST_CURVE_SERVER_KEY)", ep);
            goto fail;
        }
        if (!(p->sock = zmq_socket(o->ctx, ZMQ_PUSH)) || zmq_setsockopt(p->sock, ZMQ_SNDHWM, &h, sizeof h) ||
            zmq_setsockopt(p->sock, ZMQ_SNDTIMEO, &inf, sizeof inf) || (use_curve && gh_curve_client(p->sock, &curve)) ||
            (gh_out_reconnect_opts(p->sock), zmq_connect(p->sock, ep))) {
            gh_error("cannot connect to %s: %s", ep, zmq_strerror(zmq_errno()));
            goto fail;
        }
    }
    if (!o->n) {
        gh_error("no ingest endpoint given (--connect)");
        goto fail;
    }
    free(list);
    return o;
fail:
    free(list);
    gh_tail_out_destroy(&o, 0);
    return NULL;
}

void gh_tail_out_destroy(gh_tail_out_t **op, long close_wait_ms) {
    gh_tail_out_t *o = *op;
    if (!o) return;
    int linger = (int)close_wait_ms;
    for (unsigned i = 0; i < o->n; i++) {
        if (o->peers[i].sock) {
            zmq_setsockopt(o->peers[i].sock, ZMQ_LINGER, &linger, sizeof linger);
            zmq_close(o->peers[i].sock);
        }
        gh_enc_free(&o->peers[i].enc);
        free(o->peers[i].endpoint);
    }
    if (o->ctx) zmq_ctx_term(o->ctx); /* returns once the lingering batches left or close_wait_ms passed */
    free(o->peers);
    free(o->src);
    free(o);
    *op = NULL;
}

/* Sends the finished frame of p, blocking while the peer's queue is full. */
static int s_send(s_peer_t *p) {
    for (;;) {
        if (zmq_send(p->sock, p->enc.sb.data, p->enc.sb.size, 0) >= 0) return 0;
        if (zmq_errno() == EINTR) continue; /* a signal: the stop flag is set, but this batch still goes out */
        gh_error("send to %s failed: %s", p->endpoint, zmq_strerror(zmq_errno()));
        return -1;
    }
}

static int s_flush_peer(s_peer_t *p) {
    if (!p->enc.type) return 0;
    gh_enc_finish(&p->enc);
    int rc = s_send(p);
    p->enc.type = 0;
    p->enc.n = 0;
    return rc;
}

int gh_tail_out_line(gh_tail_out_t *o, const char *source, const char *line, size_t n, uint64_t end_off,
                     uint64_t file_id) {
    s_peer_t *p = &o->peers[gh_shard(file_id, o->n)];
    if (!p->enc.type) {
        gh_enc_begin(&p->enc, GH_T_RAW, o->src, o->seq++, gh_wall_ns());
        p->opened_ms = gh_mono_ms();
    }
    gh_raw_t r = { gh_cstr(source), gh_str(line, n), end_off, file_id };
    gh_enc_raw(&p->enc, &r);
    if ((long)p->enc.n >= o->batch_size) return s_flush_peer(p);
    return 0;
}

long gh_tail_out_tick(gh_tail_out_t *o) {
    long next = -1;
    int64_t now = gh_mono_ms();
    for (unsigned i = 0; i < o->n; i++) {
        s_peer_t *p = &o->peers[i];
        if (!p->enc.type) continue;
        long due = (long)(p->opened_ms + o->linger_ms - now);
        if (due <= 0) {
            if (s_flush_peer(p) < 0) return -2;
        } else if (next < 0 || due < next) next = due;
    }
    return next;
}

int gh_tail_out_flush(gh_tail_out_t *o) {
    int rc = 0;
    for (unsigned i = 0; i < o->n; i++)
        if (s_flush_peer(&o->peers[i]) < 0) rc = -1;
    return rc;
}

uint64_t gh_tail_out_eos_nonce(const gh_tail_out_t *o) { return o->eos_nonce; }

int gh_tail_out_eos(gh_tail_out_t *o) {
    int rc = gh_tail_out_flush(o);
    o->eos_nonce = gh_eos_nonce();
    for (unsigned i = 0; i < o->n; i++) {
        s_peer_t *p = &o->peers[i];
        gh_enc_begin(&p->enc, GH_T_EOS, o->src, o->eos_nonce, gh_wall_ns());
        if (s_flush_peer(p) < 0) rc = -1;
    }
    return rc;
}

unsigned gh_tail_out_count(const gh_tail_out_t *o) { return o->n; }
