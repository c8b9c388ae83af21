/* test_wm.c -- lib/wm.c: combining per-source watermarks over producers. */
#include "check.h"
#include "wm.h"

#define MAXADV 16
static struct { uint64_t src; int64_t ts, first; } adv[MAXADV];
static int nadv;
static void on_adv(void *ud, uint64_t src, int64_t ts, int64_t first) {
    (void)ud;
    if (nadv < MAXADV) {
        adv[nadv].src = src;
        adv[nadv].ts = ts;
        adv[nadv].first = first;
    }
    nadv++;
}
/* index of the advance of src, -1 when there was none */
static int s_find(uint64_t src) {
    for (int i = 0; i < nadv && i < MAXADV; i++)
        if (adv[i].src == src) return i;
    return -1;
}

int main(void) {
    /* broadcast rule, 3 producers: no value until all three reported */
    gh_wmtab_t *t = gh_wmtab_new(3, 1);
    gh_wmtab_update(t, "c0", 2, 7, 100, 10, on_adv, NULL);
    gh_wmtab_update(t, "c1", 2, 7, 90, 5, on_adv, NULL);
    CHECK_EQ(nadv, 0);
    gh_wmtab_update(t, "c2", 2, 7, 120, 20, on_adv, NULL);
    CHECK_EQ(nadv, 1);
    CHECK_EQ(adv[0].ts, 90);    /* the minimum */
    CHECK_EQ(adv[0].first, 5);  /* the earliest first */
    gh_wmtab_destroy(&t);

    /* a producer that never reports source 9 holds it back while it lives;
     * once every producer has ended, source 9 completes at the furthest ts
     * reported, with its first (the end-of-stream case that left a source
     * only flushed, never advanced) */
    nadv = 0;
    t = gh_wmtab_new(3, 1);
    gh_wmtab_update(t, "c0", 2, 9, 300, 3, on_adv, NULL);
    gh_wmtab_update(t, "c1", 2, 9, 250, 4, on_adv, NULL);
    gh_wmtab_update(t, "c2", 2, 1, 50, 1, on_adv, NULL);   /* c2 only has source 1 */
    CHECK_EQ(nadv, 0);
    gh_wmtab_end(t, "c0", 2, on_adv, NULL);
    CHECK_EQ(s_find(9), -1);     /* c2 is live and has not reported source 9 */
    gh_wmtab_end(t, "c1", 2, on_adv, NULL);
    CHECK_EQ(s_find(9), -1);
    gh_wmtab_end(t, "c2", 2, on_adv, NULL);
    int k = s_find(9);
    CHECK(k >= 0);
    if (k >= 0) {
        CHECK_EQ(adv[k].ts, 300);
        CHECK_EQ(adv[k].first, 3);
    }
    gh_wmtab_destroy(&t);

    /* all known producers ended but one expected producer was never heard
     * from: it may still send, nothing completes */
    nadv = 0;
    t = gh_wmtab_new(3, 1);
    gh_wmtab_update(t, "c0", 2, 9, 300, 3, on_adv, NULL);
    gh_wmtab_update(t, "c1", 2, 9, 250, 4, on_adv, NULL);
    gh_wmtab_end(t, "c0", 2, on_adv, NULL);
    gh_wmtab_end(t, "c1", 2, on_adv, NULL);
    CHECK_EQ(nadv, 0);
    gh_wmtab_destroy(&t);

    /* partitioned rule: the producers that reported it */
    nadv = 0;
    t = gh_wmtab_new(2, 0);
    gh_wmtab_update(t, "i0", 2, 4, 70, 7, on_adv, NULL);
    CHECK_EQ(nadv, 1);
    CHECK_EQ(adv[0].ts, 70);
    gh_wmtab_destroy(&t);
    TEST_MAIN_END();
}
