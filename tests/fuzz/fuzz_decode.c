/* fuzz_decode.c -- libFuzzer harness for the frame decoder (make fuzz).
 * Any input must be either refused with a reason or decoded into items whose
 * strings lie inside the input buffer. */
#include "gh_proto.h"
#include <stdint.h>
#include <stdlib.h>

static void s_inside(const gh_str_t *s, const uint8_t *d, size_t n) {
    if (s->n && ((const uint8_t *)s->p < d || (const uint8_t *)s->p + s->n > d + n)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gh_batch_t b;
    gh_batch_init(&b);
    if (gh_batch_decode(&b, data, size) == GH_DEC_OK) {
        for (size_t i = 0; i < b.n; i++) {
            if (b.type == GH_T_RAW) s_inside(&b.u.raw[i].line, data, size);
            else if (b.type == GH_T_RECORD) {
                s_inside(&b.u.rec[i].msg, data, size);
                for (uint32_t k = 0; k < 2 * b.u.rec[i].nfields; k++) s_inside(&b.u.rec[i].fields[k], data, size);
            } else if (b.type == GH_T_CLASSIFIED) s_inside(&b.u.cls[i].tpl, data, size);
            else if (b.type == GH_T_ALERT) s_inside(&b.u.alert[i].id, data, size);
        }
    }
    gh_batch_release(&b);
    return 0;
}
