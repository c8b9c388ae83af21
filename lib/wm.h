/* wm.h -- per-source watermarks combined over a stage's producers.
 *
 * A producer's batch header says, per source, "every item of this source
 * with event time <= ts has been sent" (gh_wm_t).  A stage with N producers
 * may treat a source as complete up to the minimum over the producers that
 * carry it.  Two rules, by how the upstream spreads a source:
 *   - partitioned (require_all = 0): each source lives in one producer (ghost-
 *     tail shards files over ingest workers): the minimum over the producers
 *     that reported it;
 *   - broadcast (require_all = 1): every producer reports every source
 *     (classify forwards ingest's watermarks to all anomaly workers): no value
 *     until every live producer has reported the source.
 * A producer that ended (end of stream) no longer holds anything back, and
 * once every expected producer has ended each source is complete up to the
 * furthest ts any producer reported for it (so a source one producer never
 * reported still gets its watermark, and its first event time, at the end).
 */
#ifndef GH_WM_H
#define GH_WM_H
#include <stddef.h>
#include <stdint.h>

typedef struct gh_wmtab gh_wmtab_t;
typedef void (*gh_wm_fn)(void *ud, uint64_t src, int64_t ts_ms, int64_t first_ms);

gh_wmtab_t *gh_wmtab_new(int expected_producers, int require_all);
void gh_wmtab_destroy(gh_wmtab_t **t);
void gh_wmtab_set_rule(gh_wmtab_t *t, int require_all);
/* Producer `prod` reports source src at ts.  Calls fn for the source when its
 * combined watermark advanced. */
void gh_wmtab_update(gh_wmtab_t *t, const char *prod, size_t prod_n, uint64_t src, int64_t ts_ms, int64_t first_ms,
                     gh_wm_fn fn, void *ud);
/* Producer ended: sources it held back may advance (fn is called for each). */
void gh_wmtab_end(gh_wmtab_t *t, const char *prod, size_t prod_n, gh_wm_fn fn, void *ud);
/* A producer that ended and sends again (restarted) is live again. */
void gh_wmtab_alive(gh_wmtab_t *t, const char *prod, size_t prod_n);
#endif
