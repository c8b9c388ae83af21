/* hash.h -- the hashes ghost uses: xxHash64 for ids and shard choice (stable
 * on the wire and in Redis), XXH3 for in-process keys (faster on short
 * inputs; never stored or sent). */
#ifndef GH_HASH_H
#define GH_HASH_H
#include <stddef.h>
#include <stdint.h>
uint64_t gh_hash(const void *p, size_t n, uint64_t seed);
uint64_t gh_hash_fast(const void *p, size_t n, uint64_t seed);
/* Shard for a key among n shards (n >= 1): stable across processes and runs. */
static inline unsigned gh_shard(uint64_t h, unsigned n) { return n <= 1 ? 0 : (unsigned)(h % n); }
#endif
