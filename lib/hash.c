/* hash.c -- xxHash64 from Debian's libxxhash. */
#include "hash.h"
#include <xxhash.h>
uint64_t gh_hash(const void *p, size_t n, uint64_t seed) { return XXH64(p, n, seed); }
