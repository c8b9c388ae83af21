/* fuzz_parse.c -- libFuzzer harness for ghost-ingest's line parser (make fuzz).
 * Every line must become a record whose strings are readable, with a level
 * and format in range, in auto-detection and in every forced format. */
#include "gh_proto.h"
#include "ingest/parse.h"
#include <stdint.h>
#include <stdlib.h>

static volatile unsigned char s_sink;

static void s_touch(gh_str_t s) {
    for (uint32_t i = 0; i < s.n; i++) s_sink ^= (unsigned char)s.p[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static gh_parser_t *p[GH_FMT__COUNT + 1];
    if (!p[0])
        for (int f = -1; f < GH_FMT__COUNT; f++) p[f + 1] = gh_parser_new(f);
    int which = size ? data[0] % (GH_FMT__COUNT + 1) : 0;
    gh_record_t r;
    gh_parse_line(p[which], "fuzz", 4, (const char *)data + (size ? 1 : 0), size ? size - 1 : 0,
                  1700000000000, &r);
    if (r.level > GH_LVL_DEBUG || r.format >= GH_FMT__COUNT) abort();
    s_touch(r.msg);
    s_touch(r.host);
    for (uint32_t i = 0; i < 2 * r.nfields; i++) s_touch(r.fields[i]);
    return 0;
}
