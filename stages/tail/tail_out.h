/* tail_out.h -- ghost-tail's side of the ingest sockets.
 *
 * One ZeroMQ PUSH socket per ingest endpoint (connect), each with its own open
 * GH_T_RAW batch.  A line goes to the endpoint gh_shard(file_id, n), so one
 * file's lines always reach the same ingest worker in order.  A batch is sent
 * when it holds batch_size lines or has been open linger_ms.  Sends block
 * while the endpoint's high-water mark is reached: that is the backpressure,
 * nothing is ever dropped; EINTR is retried, so a stop request still sends
 * what was read.
 *
 * tcp:// endpoints use CURVE (curve.h) when the environment names the key
 * files: GHOST_CURVE_SECRET (this shipper's keypair) and
 * GHOST_CURVE_SERVER_KEY (the ingest side's public key).
 */
#ifndef GH_TAIL_OUT_H
#define GH_TAIL_OUT_H
#include <stddef.h>
#include <stdint.h>

typedef struct gh_tail_out gh_tail_out_t;

/* endpoints: comma-separated list ("ipc:///run/ingest-0.sock,tcp://h:5555").
 * src: the producer id carried in every batch.  hwm: queued batches per
 * endpoint before sends block.  Returns NULL (with a logged reason) on a bad
 * endpoint or a ZeroMQ failure. */
gh_tail_out_t *gh_tail_out_new(const char *endpoints, const char *src, long batch_size, long linger_ms, long hwm);

/* Sends nothing more; waits up to close_wait_ms for queued batches to leave,
 * frees everything and sets *o to NULL. */
void gh_tail_out_destroy(gh_tail_out_t **o, long close_wait_ms);

/* Adds one line to the batch of its shard; sends the batch when full.
 * Returns 0, or -1 when a send failed for another reason than EINTR. */
int gh_tail_out_line(gh_tail_out_t *o, const char *source, const char *line, size_t n, uint64_t end_off,
                     uint64_t file_id);

/* Sends the batches open for linger_ms or more.  Returns the milliseconds
 * until the next batch is due (-1 when none is open), or -2 on send failure. */
long gh_tail_out_tick(gh_tail_out_t *o);

/* Sends every open batch.  Returns 0 or -1. */
int gh_tail_out_flush(gh_tail_out_t *o);

/* Flushes, then sends one GH_T_EOS batch to every endpoint.  Returns 0 or -1. */
int gh_tail_out_eos(gh_tail_out_t *o);
/* The nonce the last end of stream carried (lib/eosack.h). */
uint64_t gh_tail_out_eos_nonce(const gh_tail_out_t *o);

/* Number of endpoints. */
unsigned gh_tail_out_count(const gh_tail_out_t *o);
#endif
