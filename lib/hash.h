/* hash.h -- the hashes ghost uses: xxHash64 for ids and shard choice (stable
 * on the wire and in Redis), XXH3 for in-process keys (faster on short
 * inputs; never stored or sent). */
#ifndef GH_HASH_H
#define GH_HASH_H
#include <stddef.h>
#include <stdint.h>
uint64_t gh_hash(const void *p, size_t n, uint64_t seed);
uint64_t gh_hash_fast(const void *p, size_t n, uint64_t seed);
/* A 64-bit mix (the murmur3 finaliser, a bijection) for table slots keyed by
 * numbers that are hashes or ids already: cheaper than hashing bytes. */
static inline uint64_t gh_mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ x >> 33;
}
/* Shard for a key among n shards (n >= 1): stable across processes and runs. */
static inline unsigned gh_shard(uint64_t h, unsigned n) { return n <= 1 ? 0 : (unsigned)(h % n); }
#endif
