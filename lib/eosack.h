/* eosack.h -- end-of-stream acknowledgements, through Redis.
 *
 * A producer must not exit until its downstream workers have its last
 * batches: libzmq can drop what an ipc:// PUSH socket still queues when it
 * is closed, linger notwithstanding, once the receiver's high-water mark was
 * reached (libzmq issue #4660).  So every end-of-stream frame a producer sends
 * carries one nonce (as its seq); a receiver that handled it increments
 * <prefix>eos:<producer>:<nonce>; the producer keeps its sockets open until
 * the count reaches the number of workers it sent to.  Data and end of stream
 * travel in order on one pipe, so the count proves everything arrived.
 * Without Redis the producer waits a grace period instead.
 */
#ifndef GH_EOSACK_H
#define GH_EOSACK_H
#include "gh_proto.h"
#include "redis.h"
#include <stdint.h>

uint64_t gh_eos_nonce(void);
/* Receiver side: counts the end of stream `producer` sent with `nonce`. */
void gh_eos_ack(gh_redis_t *r, gh_str_t producer, uint64_t nonce);
/* Producer side: waits until `expected` receivers counted it, or timeout.
 * Returns 0 when all acknowledged, -1 on timeout (logged), 1 without Redis
 * (after the grace period). */
int gh_eos_wait(gh_redis_t *r, const char *producer, uint64_t nonce, unsigned expected, int timeout_ms);
#endif
