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
} s_port_t;

struct gh_out {
    s_port_t *ports;
    unsigned n, rr;
    int type, batch_max;
    int64_t linger_ns, pt_ns;
    char *self_id;
    uint64_t seq, items, batches;
};

gh_out_t *gh_out_new(void *zctx, const char *endpoints, int type, const char *self_id, int batch_max,
                     int linger_ms, int hwm) {
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
    free(o);
    *op = NULL;
}

unsigned gh_out_n(const gh_out_t *o) { return o->n; }
unsigned gh_out_next(gh_out_t *o) { return o->rr++ % o->n; }
void gh_out_set_pt(gh_out_t *o, int64_t pt_ns) { o->pt_ns = pt_ns; }
uint64_t gh_out_items(const gh_out_t *o) { return o->items; }
uint64_t gh_out_batches(const gh_out_t *o) { return o->batches; }

gh_enc_t *gh_out_enc(gh_out_t *o, unsigned shard) {
    s_port_t *p = &o->ports[shard % o->n];
    if (!p->enc.type) {
        gh_enc_begin(&p->enc, o->type, o->self_id, ++o->seq, o->pt_ns ? o->pt_ns : gh_wall_ns());
        p->enc.opened_ns = gh_mono_ns();
    }
    return &p->enc;
}

/* Blocking send; EINTR from a first (graceful) signal is retried so nothing
 * read is lost, a second signal gives up. */
static int s_send(s_port_t *p, const void *data, size_t len) {
    for (;;) {
        if (zmq_send(p->sock, data, len, 0) >= 0) return 0;
        if (errno == EINTR && gh_stop_requested < 2) continue;
        gh_error("send to %s failed: %s", p->endpoint, zmq_strerror(errno));
        return -1;
    }
}

static int s_flush_port(gh_out_t *o, s_port_t *p) {
    if (!p->enc.type) return 0;
    uint32_t n = p->enc.n;
    gh_enc_finish(&p->enc);
    if (!n) return 0;
    if (s_send(p, p->enc.sb.data, p->enc.sb.size) < 0) return -1;
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
    for (unsigned i = 0; i < o->n; i++)
        if (o->ports[i].enc.type && now - o->ports[i].enc.opened_ns >= o->linger_ns)
            rc |= s_flush_port(o, &o->ports[i]);
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

int gh_out_eos(gh_out_t *o) {
    int rc = gh_out_flush(o);
    for (unsigned i = 0; i < o->n; i++) {
        gh_enc_t *e = &o->ports[i].enc;
        gh_enc_begin(e, GH_T_EOS, o->self_id, ++o->seq, gh_wall_ns());
        gh_enc_finish(e);
        rc |= s_send(&o->ports[i], e->sb.data, e->sb.size);
    }
    return rc;
}
