/* out.h -- a stage's output: one PUSH socket per downstream worker, one open
 * batch per socket, flushed when full or after the linger time.
 *
 * The caller picks the shard (gh_shard() of a partition key for stateful
 * downstreams, gh_out_next() for round robin), adds one item to the encoder
 * gh_out_enc() returns, then calls gh_out_commit().  Sends block when the
 * downstream's high-water mark is reached: that is the pipeline's
 * backpressure (bounded memory, nothing dropped).  gh_out_eos() flushes and
 * sends one end-of-stream frame to every downstream worker.
 */
#ifndef GH_OUT_H
#define GH_OUT_H
#include "curve.h"
#include "gh_proto.h"
#include <stdint.h>

typedef struct gh_out gh_out_t;

/* endpoints: comma-separated ZeroMQ endpoints (connect), at least one.
 * Returns NULL (and logs why) on a bad endpoint. */
gh_out_t *gh_out_new(void *zctx, const char *endpoints, int type, const char *self_id, int batch_max,
                     int linger_ms, int hwm);
/* The same; with curve (NULL or curve->sec empty: off) every tcp:// endpoint
 * is connected as a CURVE client of curve->server. */
gh_out_t *gh_out_new_curve(void *zctx, const char *endpoints, int type, const char *self_id, int batch_max,
                           int linger_ms, int hwm, const gh_curve_t *curve);
void gh_out_destroy(gh_out_t **o);
/* Reconnect options of a connecting socket: retry after 10 ms, backing off
 * to 1 s (libzmq's default is a flat 100 ms).  A stage started before the one
 * it connects to (run.sh starts them all at once), or a downstream worker
 * that restarts, is reached within milliseconds, and a peer that stays away
 * is not retried more than once a second. */
void gh_out_reconnect_opts(void *sock);
unsigned gh_out_n(const gh_out_t *o);
unsigned gh_out_next(gh_out_t *o);                 /* round-robin shard */
void gh_out_set_pt(gh_out_t *o, int64_t pt_ns);    /* origin time stamped on batches opened from now on */
gh_enc_t *gh_out_enc(gh_out_t *o, unsigned shard); /* opens a batch when none is open */
int gh_out_commit(gh_out_t *o, unsigned shard);    /* one item added; flushes a full batch */
int gh_out_tick(gh_out_t *o);                      /* flushes batches older than the linger */
int gh_out_flush(gh_out_t *o);
/* Flushes, then sends one end-of-stream frame to every worker, each with
 * `nonce` as its seq (lib/eosack.h). */
int gh_out_eos(gh_out_t *o, uint64_t nonce);
/* Raises the watermark of source src to ts_ms (never lowers it): every item
 * of src with event time <= ts_ms has been handed to this output; first_ms is
 * the source's first event time.  Batches
 * opened from now on carry the watermarks each port has not seen; a port no
 * item goes to gets a watermark-only batch after the linger.  -1: no memory. */
int gh_out_set_wm(gh_out_t *o, uint64_t src, int64_t ts_ms, int64_t first_ms);
int gh_out_pending(const gh_out_t *o);             /* 1 when a batch is open */
uint64_t gh_out_items(const gh_out_t *o);          /* items sent so far */
uint64_t gh_out_batches(const gh_out_t *o);
uint64_t gh_out_blocked_ns(const gh_out_t *o);     /* time sends waited on a full downstream queue */
uint64_t gh_out_pending_items(const gh_out_t *o);  /* items in open (unsent) batches */
#endif
