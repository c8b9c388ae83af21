/* out.c -- see out.h. */
#include "out.h"
#include "clock.h"
#include "log.h"
#include "sig.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

typedef struct {
    void *sock;
    gh_enc_t enc;
    char *endpoint;
    uint64_t wm_sent;    /* watermark versions up to this one went out on this port */
    int open_wm;         /* the open batch carries watermarks (send it even when empty) */
    int64_t wm_ns;       /* when a watermark-only batch last went out */
} s_port_t;

struct gh_out {
    s_port_t *ports;
    unsigned n, rr;
    int type, batch_max;
    int64_t linger_ns, pt_ns;
    char *self_id;
    uint64_t seq, items, batches, blocked_ns;
    /* per-source watermarks: a port is sent the entries newer than its wm_sent */
    gh_wm_t *wm, *wm_scratch;
    uint64_t *wm_ver, wm_clock;
    size_t nwm, capwm;
};

void gh_out_reconnect_opts(void *sock) {
    int ivl = 10, ivl_max = 1000;
    zmq_setsockopt(sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt(sock, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max);
}

gh_out_t *gh_out_new(void *zctx, const char *endpoints, int type, const char *self_id, int batch_max,
                     int linger_ms, int hwm) {
    return gh_out_new_curve(zctx, endpoints, type, self_id, batch_max, linger_ms, hwm, NULL);
}

gh_out_t *gh_out_new_curve(void *zctx, const char *endpoints, int type, const char *self_id, int batch_max,
                           int linger_ms, int hwm, const gh_curve_t *curve) {
    gh_out_t *o = calloc(1, sizeof *o);
    char *list = strdup(endpoints ? endpoints : ""), *save = NULL;
    if (!o || !list) goto fail;
    o->type = type;
    o->batch_max = batch_max > 0 ? batch_max : 256;
    o->linger_ns = (int64_t)(linger_ms > 0 ? linger_ms : 1) * 1000000;
    o->self_id = strdup(self_id);
    for (char *ep = strtok_r(list, ",", &save); ep; ep = strtok_r(NULL, ",", &save)) {
        while (*ep == ' ') ep++;
        if (!*ep) continue;
        s_port_t *np = realloc(o->ports, (o->n + 1) * sizeof *np);
        if (!np) goto fail;
        o->ports = np;
        s_port_t *p = &o->ports[o->n];
        memset(p, 0, sizeof *p);
        p->sock = zmq_socket(zctx, ZMQ_PUSH);
        int linger = 60000; /* a graceful exit waits for queued batches to go out */
        zmq_setsockopt(p->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(p->sock, ZMQ_LINGER, &linger, sizeof linger);
        gh_out_reconnect_opts(p->sock);
        if (curve && curve->sec[0] && gh_curve_applies(ep)) {
            if (!curve->server[0]) {
                gh_error("%s: CURVE needs the peer's public key (--curve-server-key)", ep);
                zmq_close(p->sock);
                goto fail;
            }
            if (gh_curve_client(p->sock, curve) != 0) {
                gh_error("%s: cannot set CURVE keys: %s", ep, zmq_strerror(errno));
                zmq_close(p->sock);
                goto fail;
            }
        }
        if (zmq_connect(p->sock, ep) != 0) {
            gh_error("cannot connect to %s: %s", ep, zmq_strerror(errno));
            zmq_close(p->sock);
            goto fail;
        }
        gh_enc_init(&p->enc);
        p->endpoint = strdup(ep);
        o->n++;
    }
    if (!o->n) {
        gh_error("no downstream endpoint given");
        goto fail;
    }
    free(list);
    return o;
fail:
    free(list);
    gh_out_destroy(&o);
    return NULL;
}

void gh_out_destroy(gh_out_t **op) {
    gh_out_t *o = *op;
    if (!o) return;
    for (unsigned i = 0; i < o->n; i++) {
        zmq_close(o->ports[i].sock);
        gh_enc_free(&o->ports[i].enc);
        free(o->ports[i].endpoint);
    }
    free(o->ports);
    free(o->self_id);
    free(o->wm);
    free(o->wm_ver);
    free(o->wm_scratch);
    free(o);
    *op = NULL;
}

unsigned gh_out_n(const gh_out_t *o) { return o->n; }
unsigned gh_out_next(gh_out_t *o) { return o->rr++ % o->n; }
void gh_out_set_pt(gh_out_t *o, int64_t pt_ns) { o->pt_ns = pt_ns; }
uint64_t gh_out_items(const gh_out_t *o) { return o->items; }
uint64_t gh_out_batches(const gh_out_t *o) { return o->batches; }
uint64_t gh_out_blocked_ns(const gh_out_t *o) { return o->blocked_ns; }

uint64_t gh_out_pending_items(const gh_out_t *o) {
    uint64_t n = 0;
    for (unsigned i = 0; i < o->n; i++)
        if (o->ports[i].enc.type) n += o->ports[i].enc.n;
    return n;
}

/* Opens a batch on p, with the watermarks p has not been sent yet. */
static void s_begin(gh_out_t *o, s_port_t *p, int64_t pt) {
    uint32_t n = 0;
    for (size_t i = 0; i < o->nwm; i++)
        if (o->wm_ver[i] > p->wm_sent) o->wm_scratch[n++] = o->wm[i];
    p->enc.wm = o->wm_scratch;
    p->enc.nwm = n;
    gh_enc_begin(&p->enc, o->type, o->self_id, ++o->seq, pt);
    p->enc.wm = NULL;
    p->enc.nwm = 0;
    p->wm_sent = o->wm_clock;
    p->open_wm = n > 0;
    p->enc.opened_ns = gh_mono_ns();
}

gh_enc_t *gh_out_enc(gh_out_t *o, unsigned shard) {
    s_port_t *p = &o->ports[shard % o->n];
    if (!p->enc.type) s_begin(o, p, o->pt_ns ? o->pt_ns : gh_wall_ns());
    return &p->enc;
}

int gh_out_set_wm(gh_out_t *o, uint64_t src, int64_t ts_ms, int64_t first_ms) {
    size_t i = 0;
    while (i < o->nwm && o->wm[i].src != src) i++;
    if (i == o->nwm) {
        if (o->nwm == o->capwm) {
            size_t cap = o->capwm ? 2 * o->capwm : 16;
            gh_wm_t *w = realloc(o->wm, cap * sizeof *w), *ws;
            if (w) o->wm = w;
            uint64_t *v = realloc(o->wm_ver, cap * sizeof *v);
            if (v) o->wm_ver = v;
            ws = realloc(o->wm_scratch, cap * sizeof *ws);
            if (ws) o->wm_scratch = ws;
            if (!w || !v || !ws) return -1;
            o->capwm = cap;
        }
        o->wm[i].src = src;
        o->wm[i].ts_ms = ts_ms;
        o->wm[i].first_ms = first_ms;
        o->nwm++;
    } else if (ts_ms <= o->wm[i].ts_ms) {
        return 0;
    }
    o->wm[i].ts_ms = ts_ms;
    if (first_ms < o->wm[i].first_ms) o->wm[i].first_ms = first_ms;
    o->wm_ver[i] = ++o->wm_clock;
    return 0;
}

/* Blocking send; EINTR from a first (graceful) signal is retried so nothing
 * read is lost, a second signal gives up.  A send that would block (the
 * downstream queue is at its high-water mark) is timed: that is the only
 * view of the downstream queue ZeroMQ gives. */
static int s_send(gh_out_t *o, s_port_t *p, const void *data, size_t len) {
    if (zmq_send(p->sock, data, len, ZMQ_DONTWAIT) >= 0) return 0;
    int64_t t0 = gh_mono_ns();
    for (;;) {
        if (errno == EAGAIN || errno == EINTR) {
            if (errno == EINTR && gh_stop_requested >= 2) break;
            if (zmq_send(p->sock, data, len, 0) >= 0) {
                o->blocked_ns += (uint64_t)(gh_mono_ns() - t0);
                return 0;
            }
            continue;
        }
        break;
    }
    o->blocked_ns += (uint64_t)(gh_mono_ns() - t0);
    gh_error("send to %s failed: %s", p->endpoint, zmq_strerror(errno));
    return -1;
}

static int s_flush_port(gh_out_t *o, s_port_t *p) {
    if (!p->enc.type) return 0;
    uint32_t n = p->enc.n;
    gh_enc_finish(&p->enc);
    if (!n && !p->open_wm) return 0;
    if (s_send(o, p, p->enc.sb.data, p->enc.sb.size) < 0) return -1;
    o->items += n;
    o->batches++;
    return 0;
}

int gh_out_commit(gh_out_t *o, unsigned shard) {
    s_port_t *p = &o->ports[shard % o->n];
    return p->enc.n >= (uint32_t)o->batch_max ? s_flush_port(o, p) : 0;
}

int gh_out_tick(gh_out_t *o) {
    int64_t now = gh_mono_ns();
    int rc = 0;
    for (unsigned i = 0; i < o->n; i++) {
        s_port_t *p = &o->ports[i];
        if (p->enc.type && now - p->enc.opened_ns >= o->linger_ns) rc |= s_flush_port(o, p);
        /* a port no item went to still learns how far each source has come */
        if (!p->enc.type && p->wm_sent < o->wm_clock && now - p->wm_ns >= o->linger_ns) {
            s_begin(o, p, gh_wall_ns());
            p->wm_ns = now;
            rc |= s_flush_port(o, p);
        }
    }
    return rc;
}

int gh_out_flush(gh_out_t *o) {
    int rc = 0;
    for (unsigned i = 0; i < o->n; i++) rc |= s_flush_port(o, &o->ports[i]);
    return rc;
}

int gh_out_pending(const gh_out_t *o) {
    for (unsigned i = 0; i < o->n; i++)
        if (o->ports[i].enc.type && o->ports[i].enc.n) return 1;
    return 0;
}

int gh_out_eos(gh_out_t *o, uint64_t nonce) {
    int rc = gh_out_flush(o);
    /* watermarks a port has not been sent yet go out before its end of
     * stream (the rate limit of gh_out_tick may have held them back) */
    for (unsigned i = 0; i < o->n; i++) {
        s_port_t *p = &o->ports[i];
        if (p->wm_sent < o->wm_clock) {
            s_begin(o, p, gh_wall_ns());
            rc |= s_flush_port(o, p);
        }
    }
    for (unsigned i = 0; i < o->n; i++) {
        gh_enc_t *e = &o->ports[i].enc;
        gh_enc_begin(e, GH_T_EOS, o->self_id, nonce, gh_wall_ns());
        gh_enc_finish(e);
        rc |= s_send(o, &o->ports[i], e->sb.data, e->sb.size);
        gh_debug("end of stream sent to %s", o->ports[i].endpoint);
    }
    return rc;
}
