/* test_proto.c -- the codec: round trips of every batch type, and frames
 * that are split, truncated, garbage, oversized, wrongly typed, of an
 * unknown version or type, or lie about their counts. */
#include "check.h"
#include "gh_proto.h"
#include <stdint.h>

static gh_decode_err_t s_decode(gh_batch_t *b, const void *p, size_t n) { return gh_batch_decode(b, p, n); }

static void test_raw_roundtrip(void) {
    gh_enc_t e;
    gh_batch_t b;
    gh_enc_init(&e);
    gh_batch_init(&b);
    gh_enc_begin(&e, GH_T_RAW, "tail-0", 42, 123456789);
    const char bin[] = { 'a', 0, (char)0xff, 'z' };
    gh_raw_t r1 = { gh_cstr("/var/log/x.log"), gh_cstr("hello world"), 12, 7 };
    gh_raw_t r2 = { gh_cstr("/var/log/y.log"), gh_str(bin, sizeof bin), 99, UINT64_MAX };
    gh_enc_raw(&e, &r1);
    gh_enc_raw(&e, &r2);
    gh_enc_finish(&e);
    CHECK_EQ(s_decode(&b, e.sb.data, e.sb.size), GH_DEC_OK);
    CHECK_EQ(b.type, GH_T_RAW);
    CHECK_EQ(b.seq, 42);
    CHECK_EQ(b.pt_ns, 123456789);
    CHECK_MEM(b.src.p, b.src.n, "tail-0", 6);
    CHECK_EQ(b.n, 2);
    if (b.n == 2) {
        CHECK_MEM(b.u.raw[0].line.p, b.u.raw[0].line.n, "hello world", 11);
        CHECK_MEM(b.u.raw[1].line.p, b.u.raw[1].line.n, bin, sizeof bin);
        CHECK_EQ(b.u.raw[0].offset, 12);
        CHECK(b.u.raw[1].file_id == UINT64_MAX);
    }
    /* every proper prefix is refused as truncated, never accepted, never a crash */
    int all_refused = 1;
    for (size_t cut = 0; cut < e.sb.size; cut++) {
        char *copy = malloc(cut ? cut : 1);
        memcpy(copy, e.sb.data, cut);
        gh_decode_err_t rc = s_decode(&b, copy, cut);
        if (rc != GH_DEC_TRUNCATED) all_refused = 0;
        free(copy);
    }
    CHECK(all_refused);
    /* trailing garbage */
    char *longer = malloc(e.sb.size + 3);
    memcpy(longer, e.sb.data, e.sb.size);
    memcpy(longer + e.sb.size, "xyz", 3);
    CHECK_EQ(s_decode(&b, longer, e.sb.size + 3), GH_DEC_MALFORMED);
    free(longer);
    gh_batch_release(&b);
    gh_enc_free(&e);
}

static void test_record_cls_rate_roundtrip(void) {
    gh_enc_t e;
    gh_batch_t b;
    gh_enc_init(&e);
    gh_batch_init(&b);
    gh_str_t kv[4] = { gh_cstr("uid"), gh_cstr("0"), gh_cstr("exe"), gh_cstr("/bin/su") };
    gh_record_t r = { -5, gh_cstr("web1"), gh_cstr("auth.log"), gh_cstr("failed"), gh_cstr("raw line"),
                      GH_FMT_AUDITD, GH_LVL_WARNING, 2, kv };
    gh_enc_begin(&e, GH_T_RECORD, "ingest-0", 1, 0);
    for (int i = 0; i < 100; i++) gh_enc_record(&e, &r);
    gh_enc_finish(&e);
    CHECK_EQ(s_decode(&b, e.sb.data, e.sb.size), GH_DEC_OK);
    CHECK_EQ(b.n, 100);
    CHECK_EQ(b.u.rec[99].ts_ms, -5);
    CHECK_EQ(b.u.rec[99].nfields, 2);
    CHECK_MEM(b.u.rec[99].fields[3].p, b.u.rec[99].fields[3].n, "/bin/su", 7);
    CHECK_EQ(b.u.rec[0].level, GH_LVL_WARNING);
    CHECK_EQ(b.u.rec[0].format, GH_FMT_AUDITD);

    gh_cls_t c = { 1700000000123, 0xdeadbeefcafeULL, GH_LVL_ERR, GH_KEY_TEMPLATE | GH_KEY_CLASS, gh_cstr("timeout"),
                   gh_cstr("h"), gh_cstr("conn <*> timed out"), gh_cstr("conn 5 timed out"), 77 };
    gh_enc_begin(&e, GH_T_CLASSIFIED, "classify-0", 2, 0);
    gh_enc_cls(&e, &c);
    gh_enc_finish(&e);
    CHECK_EQ(s_decode(&b, e.sb.data, e.sb.size), GH_DEC_OK);
    CHECK_EQ(b.n, 1);
    CHECK(b.u.cls[0].tpl_id == 0xdeadbeefcafeULL);
    CHECK_EQ(b.u.cls[0].keys, GH_KEY_TEMPLATE | GH_KEY_CLASS);
    CHECK_EQ(b.u.cls[0].src, 77);
    CHECK_MEM(b.u.cls[0].tpl.p, b.u.cls[0].tpl.n, "conn <*> timed out", 18);

    gh_rate_t rt = { gh_cstr("tpl:1"), 60000, 60, 17.5, 40, gh_cstr("t"), gh_cstr(""), gh_cstr("") };
    gh_enc_begin(&e, GH_T_RATE, "anomaly-0", 3, 0);
    gh_enc_rate(&e, &rt);
    gh_enc_finish(&e);
    CHECK_EQ(s_decode(&b, e.sb.data, e.sb.size), GH_DEC_OK);
    CHECK_NEAR(b.u.rate[0].count, 17.5, 1e-9);
    CHECK_EQ(b.u.rate[0].width_s, 60);

    gh_alert_t a;
    memset(&a, 0, sizeof a);
    a.id = gh_cstr("abc");
    a.kind = gh_cstr("forecast");
    a.key = gh_cstr("class:timeout");
    a.nexamples = 2;
    a.examples[0] = gh_cstr("x");
    a.examples[1] = gh_cstr("y");
    a.nseries = 3;
    a.series[2] = 9;
    a.has_forecast = 1;
    a.fc_method = gh_cstr("holt");
    a.fc_crosses_at_ms = 1234;
    a.score = 0.75;
    gh_enc_begin(&e, GH_T_ALERT, "predict-0", 4, 0);
    gh_enc_alert(&e, &a);
    gh_enc_finish(&e);
    CHECK_EQ(s_decode(&b, e.sb.data, e.sb.size), GH_DEC_OK);
    CHECK_EQ(b.u.alert[0].nexamples, 2);
    CHECK_EQ(b.u.alert[0].has_forecast, 1);
    CHECK_EQ(b.u.alert[0].fc_crosses_at_ms, 1234);
    CHECK_NEAR(b.u.alert[0].series[2], 9, 0);
    CHECK_NEAR(b.u.alert[0].score, 0.75, 1e-12);

    /* watermarks ride in the header, also on a batch with no items */
    gh_wm_t wm[2] = { { 11, 1000, 900 }, { UINT64_MAX, -5, -9 } };
    e.wm = wm;
    e.nwm = 2;
    gh_enc_begin(&e, GH_T_CLASSIFIED, "classify-1", 9, 0);
    gh_enc_finish(&e);
    e.wm = NULL;
    e.nwm = 0;
    CHECK_EQ(s_decode(&b, e.sb.data, e.sb.size), GH_DEC_OK);
    CHECK_EQ(b.n, 0);
    CHECK_EQ(b.nwm, 2);
    if (b.nwm == 2) {
        CHECK_EQ(b.wm[0].src, 11);
        CHECK_EQ(b.wm[0].ts_ms, 1000);
        CHECK(b.wm[1].src == UINT64_MAX);
        CHECK_EQ(b.wm[1].ts_ms, -5);
        CHECK_EQ(b.wm[0].first_ms, 900);
    }

    gh_enc_begin(&e, GH_T_EOS, "anomaly-0", 5, 0);
    gh_enc_finish(&e);
    CHECK_EQ(s_decode(&b, e.sb.data, e.sb.size), GH_DEC_OK);
    CHECK_EQ(b.type, GH_T_EOS);
    CHECK_EQ(b.n, 0);
    gh_batch_release(&b);
    gh_enc_free(&e);
}

/* Hand-built frames that must be refused with the right reason. */
static void test_bad_frames(void) {
    gh_batch_t b;
    gh_batch_init(&b);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);

    /* version 2 */
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_uint8(&pk, 2);
    msgpack_pack_str_with_body(&pk, "t", 1);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_str_with_body(&pk, "items", 5);
    msgpack_pack_array(&pk, 0);
    CHECK_EQ(s_decode(&b, sb.data, sb.size), GH_DEC_VERSION);

    /* unknown type 9 */
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_str_with_body(&pk, "t", 1);
    msgpack_pack_uint8(&pk, 9);
    CHECK_EQ(s_decode(&b, sb.data, sb.size), GH_DEC_UNKNOWN_TYPE);

    /* a raw item whose line is an integer; plus an unknown header key (ignored) */
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 4);
    msgpack_pack_str_with_body(&pk, "future", 6);
    msgpack_pack_true(&pk);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_str_with_body(&pk, "t", 1);
    msgpack_pack_uint8(&pk, GH_T_RAW);
    msgpack_pack_str_with_body(&pk, "items", 5);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_str_with_body(&pk, "src", 3);
    msgpack_pack_int(&pk, 5);
    CHECK_EQ(s_decode(&b, sb.data, sb.size), GH_DEC_BAD_TYPE);
    CHECK(strstr(b.errstr, "item 0") != NULL);

    /* header that is an array, not a map */
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_nil(&pk);
    CHECK_EQ(s_decode(&b, sb.data, sb.size), GH_DEC_BAD_TYPE);

    /* forged counts: array32 of 4 billion, map32, str32 longer than the frame */
    const unsigned char forged1[] = { 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01 };
    const unsigned char forged2[] = { 0xdf, 0x10, 0x00, 0x00, 0x00 };
    const unsigned char forged3[] = { 0xdb, 0x7f, 0xff, 0xff, 0xff, 'a' };
    const unsigned char reserved[] = { 0xc1 };
    CHECK_EQ(s_decode(&b, forged1, sizeof forged1), GH_DEC_TRUNCATED);
    CHECK_EQ(s_decode(&b, forged2, sizeof forged2), GH_DEC_TRUNCATED);
    CHECK_EQ(s_decode(&b, forged3, sizeof forged3), GH_DEC_TRUNCATED);
    CHECK_EQ(s_decode(&b, reserved, sizeof reserved), GH_DEC_MALFORMED);
    CHECK_EQ(s_decode(&b, "", 0), GH_DEC_TRUNCATED);

    /* nesting deeper than allowed */
    unsigned char deep[64];
    memset(deep, 0x91, sizeof deep);
    deep[63] = 0xc0;
    CHECK_EQ(s_decode(&b, deep, sizeof deep), GH_DEC_MALFORMED);

    /* oversize is refused before it is read */
    CHECK_EQ(s_decode(&b, deep, (size_t)GH_FRAME_MAX + 1), GH_DEC_OVERSIZE);

    /* random garbage never crashes and is never accepted as a valid batch with items */
    unsigned seed = 12345;
    unsigned char junk[512];
    int accepted = 0;
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)(round % 512);
        for (size_t i = 0; i < n; i++) junk[i] = (unsigned char)((seed = seed * 1103515245u + 12345u) >> 16);
        if (s_decode(&b, junk, n) == GH_DEC_OK && b.n) accepted++;
    }
    CHECK_EQ(accepted, 0);
    gh_batch_release(&b);
    msgpack_sbuffer_destroy(&sb);
}

/* A frame split across two buffers is only valid once reassembled: the
 * decoder never accepts either half. */
static void test_split(void) {
    gh_enc_t e;
    gh_batch_t b;
    gh_enc_init(&e);
    gh_batch_init(&b);
    gh_enc_begin(&e, GH_T_RAW, "t", 1, 0);
    for (int i = 0; i < 50; i++) {
        gh_raw_t r = { gh_cstr("f"), gh_cstr("a line of text"), (uint64_t)i, 1 };
        gh_enc_raw(&e, &r);
    }
    gh_enc_finish(&e);
    size_t half = e.sb.size / 2;
    CHECK(s_decode(&b, e.sb.data, half) != GH_DEC_OK);
    CHECK(s_decode(&b, e.sb.data + half, e.sb.size - half) != GH_DEC_OK);
    CHECK_EQ(s_decode(&b, e.sb.data, e.sb.size), GH_DEC_OK);
    CHECK_EQ(b.n, 50);
    gh_batch_release(&b);
    gh_enc_free(&e);
}

static void test_names(void) {
    CHECK_EQ(gh_level_parse("WARN", 4), GH_LVL_WARNING);
    CHECK_EQ(gh_level_parse("bogus", 5), -1);
    CHECK_STR(gh_level_name(GH_LVL_ERR), "error");
    CHECK_EQ(gh_format_parse("json"), GH_FMT_JSON);
    CHECK_STR(gh_format_name(GH_FMT_ACCESS), "access");
}

/* A record whose raw equals its msg travels with raw = nil and comes back
 * with raw = msg; the inline packer's integer and string widths round trip. */
static void test_record_thin_and_widths(void) {
    gh_enc_t e;
    gh_batch_t b;
    gh_enc_init(&e);
    gh_batch_init(&b);
    static char big[70000], big2[70000];
    memset(big, 'x', sizeof big);
    memset(big2, 'x', sizeof big2);
    const int64_t ts[] = { 0, 127, 128, 255, 256, 65535, 65536, 4294967295LL, 4294967296LL, INT64_MAX,
                           -1, -32, -33, -128, -129, -32768, -32769, INT32_MIN, (int64_t)INT32_MIN - 1, INT64_MIN };
    const size_t lens[] = { 0, 31, 32, 255, 256, 65535, 65536, 70000 };
    size_t nts = sizeof ts / sizeof *ts, nl = sizeof lens / sizeof *lens;
    gh_enc_begin(&e, GH_T_RECORD, "ingest-0", 1, 0);
    for (size_t i = 0; i < nts; i++) {
        gh_str_t m = gh_str(big, lens[i % nl]);
        /* even items: raw is msg (same bytes, other pointer for i % 4 == 2); odd: a raw of its own */
        gh_record_t r = { .ts_ms = ts[i], .host = gh_cstr("h"), .source = gh_cstr("s"), .msg = m,
                          .raw = i % 2 ? gh_cstr("the raw") : i % 4 == 2 ? gh_str(big2, m.n) : m, .level = 6 };
        gh_enc_record(&e, &r);
    }
    gh_enc_finish(&e);
    CHECK_EQ(s_decode(&b, e.sb.data, e.sb.size), GH_DEC_OK);
    CHECK_EQ(b.n, nts);
    for (size_t i = 0; i < b.n && i < nts; i++) {
        const gh_record_t *r = &b.u.rec[i];
        CHECK_EQ(r->ts_ms, ts[i]);
        CHECK_EQ(r->msg.n, lens[i % nl]);
        if (i % 2) CHECK_MEM(r->raw.p, r->raw.n, "the raw", 7);
        else CHECK_MEM(r->raw.p, r->raw.n, r->msg.p, r->msg.n);
    }
    /* the nil on the wire: a msg-only record is smaller than one with its raw */
    gh_record_t a = { .ts_ms = 1, .host = gh_cstr("h"), .source = gh_cstr("s"), .msg = gh_cstr("same line"),
                      .raw = gh_cstr("same line"), .level = 6 };
    gh_enc_begin(&e, GH_T_RECORD, "ingest-0", 2, 0);
    gh_enc_record(&e, &a);
    gh_enc_finish(&e);
    size_t thin = e.sb.size;
    a.raw = gh_cstr("other line");
    gh_enc_begin(&e, GH_T_RECORD, "ingest-0", 3, 0);
    gh_enc_record(&e, &a);
    gh_enc_finish(&e);
    CHECK(thin + 10 == e.sb.size); /* nil (1 byte) instead of "other line" (11) */
    gh_cls_t c = { INT64_MIN, UINT64_MAX, GH_LVL_DEBUG, 7, gh_str(big, 300), gh_cstr(""), gh_str(big, 65536),
                   gh_str(big, 40), UINT64_MAX - 1 };
    gh_enc_begin(&e, GH_T_CLASSIFIED, "classify-0", 4, 0);
    gh_enc_cls(&e, &c);
    gh_enc_finish(&e);
    CHECK_EQ(s_decode(&b, e.sb.data, e.sb.size), GH_DEC_OK);
    CHECK_EQ(b.n, 1);
    if (b.n == 1) {
        CHECK_EQ(b.u.cls[0].ts_ms, INT64_MIN);
        CHECK(b.u.cls[0].tpl_id == UINT64_MAX);
        CHECK(b.u.cls[0].src == UINT64_MAX - 1);
        CHECK_EQ(b.u.cls[0].keys, 7);
        CHECK_EQ(b.u.cls[0].tpl.n, 65536);
        CHECK_EQ(b.u.cls[0].cls.n, 300);
        CHECK_EQ(b.u.cls[0].host.n, 0);
    }
    gh_batch_release(&b);
    gh_enc_free(&e);
}

/* A frame of one item type, items written by the caller after the header. */
static void s_hdr(msgpack_packer *pk, int type, uint32_t nitems) {
    msgpack_pack_map(pk, 3);
    msgpack_pack_str_with_body(pk, "v", 1);
    msgpack_pack_uint8(pk, GH_PROTO_VERSION);
    msgpack_pack_str_with_body(pk, "t", 1);
    msgpack_pack_uint8(pk, (uint8_t)type);
    msgpack_pack_str_with_body(pk, "items", 5);
    msgpack_pack_array(pk, nitems);
}

/* Back-references: a source or template text an earlier item of the batch
 * wrote travels as that item's index, a msg inside raw as [offset, length];
 * decoded items hold the full strings either way, and forged references
 * (forwards, to the item itself, out of raw's bounds) are refused. */
static void test_backrefs(void) {
    gh_enc_t e;
    gh_batch_t b;
    gh_enc_init(&e);
    gh_batch_init(&b);
    const char *lines[] = { "Nov 14 22:13:20 web1 sshd[42]: Failed password for root",
                            "Nov 14 22:13:21 web1 sshd[43]: Accepted password for bob",
                            "Nov 14 22:13:22 web2 cron[44]: job started" };
    const char *srcs[] = { "/var/log/auth.log", "/var/log/auth.log", "/var/log/cron.log", "/var/log/auth.log" };
    size_t total_whole = 0;
    for (int thin = 0; thin < 2; thin++) {
        gh_enc_begin(&e, GH_T_RECORD, "ingest-0", 1, 0);
        for (int i = 0; i < 4; i++) {
            const char *l = lines[i % 3];
            /* thin: msg points into raw; whole: a copy elsewhere (same bytes) */
            static char copy[4][128];
            snprintf(copy[i], sizeof copy[i], "%s", strstr(l, ": ") + 2);
            gh_record_t r = { .ts_ms = 1700000000000 + i, .host = gh_cstr("web1"), .source = gh_cstr(srcs[i]),
                              .msg = thin ? gh_cstr(strstr(l, ": ") + 2) : gh_cstr(copy[i]), .raw = gh_cstr(l),
                              .level = 6 };
            gh_enc_record(&e, &r);
        }
        gh_enc_finish(&e);
        if (!thin) {
            total_whole = e.sb.size;
            continue;
        }
        CHECK(e.sb.size + 60 < total_whole); /* three msgs as slices: ~25 bytes each saved */
        CHECK_EQ(s_decode(&b, e.sb.data, e.sb.size), GH_DEC_OK);
        CHECK_EQ(b.n, 4);
        for (size_t i = 0; i < b.n && i < 4; i++) {
            const char *l = lines[i % 3], *m = strstr(l, ": ") + 2;
            CHECK_MEM(b.u.rec[i].source.p, b.u.rec[i].source.n, srcs[i], strlen(srcs[i]));
            CHECK_MEM(b.u.rec[i].raw.p, b.u.rec[i].raw.n, l, strlen(l));
            CHECK_MEM(b.u.rec[i].msg.p, b.u.rec[i].msg.n, m, strlen(m));
        }
    }
    /* templates: the same id and text travel once per batch; a new revision
     * of the text (same id) and another id in the same slot (id + 64) whole */
    const uint64_t ids[] = { 7, 7, 71, 7, 7, 71, 7 };
    const char *tpls[] = { "Failed password for <*>", "Failed password for <*>", "job <*> started",
                           "Failed password for <*>", "Failed <*> for <*>", "job <*> started", "Failed <*> for <*>" };
    for (int batch = 0; batch < 2; batch++) { /* the second batch writes its texts whole again */
        gh_enc_begin(&e, GH_T_CLASSIFIED, "classify-0", 2 + (uint64_t)batch, 0);
        for (int i = 0; i < 7; i++) {
            gh_cls_t c = { 1700000000000 + i, ids[i], GH_LVL_INFO, GH_KEY_TEMPLATE, gh_cstr(""), gh_cstr("web1"),
                           gh_cstr(tpls[i]), i % 2 ? gh_cstr("a raw line") : gh_str(NULL, 0), 5 };
            gh_enc_cls(&e, &c);
        }
        gh_enc_finish(&e);
        CHECK_EQ(s_decode(&b, e.sb.data, e.sb.size), GH_DEC_OK);
        CHECK_EQ(b.n, 7);
        for (size_t i = 0; i < b.n && i < 7; i++) {
            CHECK(b.u.cls[i].tpl_id == ids[i]);
            CHECK_MEM(b.u.cls[i].tpl.p, b.u.cls[i].tpl.n, tpls[i], strlen(tpls[i]));
            CHECK_EQ(b.u.cls[i].raw.n, i % 2 ? 10u : 0u);
            CHECK(i % 2 ? b.u.cls[i].raw.p != NULL : b.u.cls[i].raw.p == NULL); /* sent without raw: NULL */
        }
        /* "Failed password for <*>" is written whole by item 0, and again by
         * item 3 because id 71 took its slot at item 2; item 1 refers to 0 */
        int whole = 0;
        for (const char *h = e.sb.data; (h = memmem(h, e.sb.size - (size_t)(h - e.sb.data), tpls[0], strlen(tpls[0])));
             h++)
            whole++;
        CHECK_EQ(whole, 2);
    }

    /* an empty raw line is not a missing one */
    gh_enc_begin(&e, GH_T_CLASSIFIED, "classify-0", 9, 0);
    gh_cls_t empty = { 1, 7, GH_LVL_INFO, GH_KEY_TEMPLATE, gh_cstr(""), gh_cstr("h"), gh_cstr("t"), gh_cstr(""), 5 };
    gh_enc_cls(&e, &empty);
    gh_enc_finish(&e);
    CHECK_EQ(s_decode(&b, e.sb.data, e.sb.size), GH_DEC_OK);
    CHECK(b.n == 1 && b.u.cls[0].raw.p != NULL && b.u.cls[0].raw.n == 0);

    /* forged frames */
    msgpack_sbuffer sb;
    msgpack_packer pk;
    struct { int what; gh_decode_err_t want; } cases[] = {
        { 0, GH_DEC_OK },       /* source index 0 from item 1: fine */
        { 1, GH_DEC_BAD_TYPE }, /* source index pointing at the item itself */
        { 2, GH_DEC_BAD_TYPE }, /* msg slice past raw's end */
        { 3, GH_DEC_BAD_TYPE }, /* msg slice with raw nil */
        { 4, GH_DEC_BAD_TYPE }, /* msg slice of three numbers */
        { 5, GH_DEC_OK },       /* msg slice covering all of raw */
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        s_hdr(&pk, GH_T_RECORD, 2);
        for (int i = 0; i < 2; i++) {
            msgpack_pack_array(&pk, 8);
            msgpack_pack_int64(&pk, 1);
            msgpack_pack_str_with_body(&pk, "h", 1);
            if (i == 1 && cases[k].what <= 1) msgpack_pack_uint8(&pk, (uint8_t)cases[k].what);
            else msgpack_pack_str_with_body(&pk, "src", 3);
            msgpack_pack_uint8(&pk, 0);
            msgpack_pack_uint8(&pk, 6);
            int slice = i == 1 && cases[k].what >= 2;
            if (slice) {
                int w = cases[k].what;
                msgpack_pack_array(&pk, w == 4 ? 3 : 2);
                msgpack_pack_uint8(&pk, w == 5 ? 0 : 4);
                msgpack_pack_uint8(&pk, w == 5 ? 10 : w == 2 ? 7 : 3);
                if (w == 4) msgpack_pack_uint8(&pk, 1);
            } else msgpack_pack_str_with_body(&pk, "msg", 3);
            if (slice && cases[k].what == 3) msgpack_pack_nil(&pk);
            else msgpack_pack_str_with_body(&pk, "0123456789", 10);
            msgpack_pack_array(&pk, 0);
        }
        gh_decode_err_t rc = s_decode(&b, sb.data, sb.size);
        CHECK_EQ(rc, cases[k].want);
        if (rc == GH_DEC_OK && cases[k].what == 0) CHECK_MEM(b.u.rec[1].source.p, b.u.rec[1].source.n, "src", 3);
        if (rc == GH_DEC_OK && cases[k].what == 5) CHECK_MEM(b.u.rec[1].msg.p, b.u.rec[1].msg.n, "0123456789", 10);
        msgpack_sbuffer_destroy(&sb);
    }
    /* a classified item whose template points forwards */
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    s_hdr(&pk, GH_T_CLASSIFIED, 1);
    msgpack_pack_array(&pk, 7);
    msgpack_pack_int64(&pk, 1);
    msgpack_pack_uint8(&pk, 7);
    msgpack_pack_uint8(&pk, 6);
    msgpack_pack_str_with_body(&pk, "", 0);
    msgpack_pack_str_with_body(&pk, "h", 1);
    msgpack_pack_uint8(&pk, 0);
    msgpack_pack_nil(&pk);
    CHECK_EQ(s_decode(&b, sb.data, sb.size), GH_DEC_BAD_TYPE);
    msgpack_sbuffer_destroy(&sb);
    gh_batch_release(&b);
    gh_enc_free(&e);
}

int main(void) {
    test_backrefs();
    test_record_thin_and_widths();
    test_raw_roundtrip();
    test_record_cls_rate_roundtrip();
    test_bad_frames();
    test_split();
    test_names();
    TEST_MAIN_END();
}
