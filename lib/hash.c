/* hash.c -- xxHash64 and XXH3 from Debian's libxxhash. */
#include "hash.h"
#include <xxhash.h>
uint64_t gh_hash(const void *p, size_t n, uint64_t seed) { return XXH64(p, n, seed); }
uint64_t gh_hash_fast(const void *p, size_t n, uint64_t seed) { return XXH3_64bits_withSeed(p, n, seed); }
