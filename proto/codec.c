/* codec.c -- the batch codec: msgpack-c for packing and unpacking, plus a
 * structural pre-check that runs before msgpack-c allocates anything.
 *
 * Why the pre-check: msgpack-c allocates an array's element table from the
 * count in its header before reading a single element, so a 5-byte frame
 * announcing 2^32 elements would ask for 100 GB.  s_walk() proves, without
 * allocating, that the frame is one complete msgpack value, that every count
 * fits in the bytes that remain, that nesting stays shallow and that the
 * total number of nodes is bounded; only then does msgpack-c unpack it.
 */
#include "gh_proto.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define GH_MAX_DEPTH 16
#define GH_MAX_NODES (1u << 20)

/* ---- small helpers ------------------------------------------------------ */

gh_str_t gh_cstr(const char *s) { return gh_str(s ? s : "", s ? strlen(s) : 0); }

static const char *s_levels[] = { "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug" };
static const char *s_formats[] = { "plain", "auditd", "syslog3164", "syslog5424", "json", "logfmt", "access" };
static const char *s_types[] = { "?", "raw", "record", "classified", "rate", "alert", "ack" };

const char *gh_level_name(int level) { return level >= 0 && level <= 7 ? s_levels[level] : "info"; }

int gh_level_parse(const char *s, size_t n) {
    static const struct { const char *w; int l; } words[] = {
        { "emerg", 0 }, { "emergency", 0 }, { "panic", 0 }, { "alert", 1 }, { "crit", 2 }, { "critical", 2 },
        { "fatal", 2 }, { "error", 3 }, { "err", 3 }, { "severe", 3 }, { "warning", 4 }, { "warn", 4 },
        { "notice", 5 }, { "info", 6 }, { "information", 6 }, { "informational", 6 }, { "debug", 7 },
        { "trace", 7 }, { "verbose", 7 }, { "fine", 7 },
    };
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strlen(words[i].w) == n && !strncasecmp(words[i].w, s, n)) return words[i].l;
    return -1;
}

const char *gh_format_name(int fmt) { return fmt >= 0 && fmt < GH_FMT__COUNT ? s_formats[fmt] : "plain"; }

int gh_format_parse(const char *s) {
    for (int i = 0; i < GH_FMT__COUNT; i++)
        if (!strcasecmp(s, s_formats[i])) return i;
    if (!strcasecmp(s, "syslog") || !strcasecmp(s, "rfc3164")) return GH_FMT_SYSLOG3164;
    if (!strcasecmp(s, "rfc5424")) return GH_FMT_SYSLOG5424;
    if (!strcasecmp(s, "audit") || !strcasecmp(s, "auditd")) return GH_FMT_AUDITD;
    if (!strcasecmp(s, "nginx") || !strcasecmp(s, "apache") || !strcasecmp(s, "combined")) return GH_FMT_ACCESS;
    if (!strcasecmp(s, "text")) return GH_FMT_PLAIN;
    return -1;
}

const char *gh_type_name(int type) {
    if (type == GH_T_EOS) return "eos";
    return type > 0 && type <= GH_T_ACK ? s_types[type] : "unknown";
}

static const char *s_errs[GH_DEC__COUNT] = { "ok", "oversize", "truncated", "malformed", "bad_type",
                                             "unknown_version", "unknown_type", "nomem" };
const char *gh_decode_strerror(gh_decode_err_t err) {
    return (unsigned)err < GH_DEC__COUNT ? s_errs[err] : "unknown";
}

/* ---- encoding ----------------------------------------------------------- */

void gh_enc_init(gh_enc_t *e) {
    memset(e, 0, sizeof *e);
    msgpack_sbuffer_init(&e->sb);
    msgpack_packer_init(&e->pk, &e->sb, msgpack_sbuffer_write);
}

void gh_enc_free(gh_enc_t *e) {
    msgpack_sbuffer_destroy(&e->sb);
    memset(e, 0, sizeof *e);
}

static void s_pack_str(msgpack_packer *pk, gh_str_t s) {
    msgpack_pack_str(pk, s.n);
    msgpack_pack_str_body(pk, s.p, s.n);
}

static void s_pack_key(msgpack_packer *pk, const char *k) {
    size_t n = strlen(k);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, k, n);
}

void gh_enc_begin(gh_enc_t *e, int type, const char *src, uint64_t seq, int64_t pt_ns) {
    /* the packer points at the buffer inside e: bind it again, so that an
     * encoder may be moved (e.g. by realloc of an array of them) between batches */
    msgpack_packer_init(&e->pk, &e->sb, msgpack_sbuffer_write);
    msgpack_sbuffer_clear(&e->sb);
    msgpack_packer *pk = &e->pk;
    msgpack_pack_map(pk, e->nwm ? 7 : 6);
    s_pack_key(pk, "v");
    msgpack_pack_uint32(pk, GH_PROTO_VERSION);
    s_pack_key(pk, "t");
    msgpack_pack_uint32(pk, (uint32_t)type);
    s_pack_key(pk, "src");
    s_pack_str(pk, gh_cstr(src));
    s_pack_key(pk, "seq");
    msgpack_pack_uint64(pk, seq);
    s_pack_key(pk, "pt");
    msgpack_pack_int64(pk, pt_ns);
    if (e->nwm) {
        s_pack_key(pk, "wm");
        msgpack_pack_array(pk, e->nwm);
        for (uint32_t i = 0; i < e->nwm; i++) {
            msgpack_pack_array(pk, 3);
            msgpack_pack_uint64(pk, e->wm[i].src);
            msgpack_pack_int64(pk, e->wm[i].ts_ms);
            msgpack_pack_int64(pk, e->wm[i].first_ms);
        }
    }
    s_pack_key(pk, "items");
    /* array32 with a count patched by gh_enc_finish() */
    static const char hdr[5] = { (char)0xdd, 0, 0, 0, 0 };
    e->count_off = e->sb.size + 1;
    msgpack_sbuffer_write(&e->sb, hdr, sizeof hdr);
    e->type = type;
    e->n = 0;
    if (++e->gen == 0) { /* wrapped: no entry may look current */
        memset(&e->src_ref, 0, sizeof e->src_ref);
        memset(e->tpl_ref, 0, sizeof e->tpl_ref);
        e->gen = 1;
    }
}

void gh_enc_finish(gh_enc_t *e) {
    if (!e->type) return;
    unsigned char *p = (unsigned char *)e->sb.data + e->count_off;
    p[0] = (unsigned char)(e->n >> 24);
    p[1] = (unsigned char)(e->n >> 16);
    p[2] = (unsigned char)(e->n >> 8);
    p[3] = (unsigned char)e->n;
    e->type = 0;
}

void gh_enc_raw(gh_enc_t *e, const gh_raw_t *r) {
    msgpack_packer *pk = &e->pk;
    msgpack_pack_array(pk, 4);
    s_pack_str(pk, r->source);
    msgpack_pack_bin(pk, r->line.n); /* any bytes: bin, not str */
    msgpack_pack_bin_body(pk, r->line.p, r->line.n);
    msgpack_pack_uint64(pk, r->offset);
    msgpack_pack_uint64(pk, r->file_id);
    e->n++;
}

/* ---- inline packing for the hot item types ----------------------------------
 * One call per field into msgpack_sbuffer_write() (a realloc check and a
 * memcpy of 1-9 bytes each) cost more than the fields' content: the record
 * and classified encoders reserve room for the whole item once and write the
 * msgpack bytes directly.  Same wire format as msgpack-c's packer. */

/* Room for n more bytes at the end of the buffer; NULL when out of memory. */
static unsigned char *s_room(gh_enc_t *e, size_t n) {
    msgpack_sbuffer *sb = &e->sb;
    if (sb->alloc - sb->size < n) {
        size_t cap = sb->alloc ? sb->alloc * 2 : 8192;
        while (cap - sb->size < n) cap *= 2;
        char *d = realloc(sb->data, cap);
        if (!d) return NULL;
        sb->data = d;
        sb->alloc = cap;
    }
    return (unsigned char *)sb->data + sb->size;
}

static unsigned char *s_be_put(unsigned char *p, uint64_t v, int nb) {
    for (int i = nb - 1; i >= 0; i--) p[nb - 1 - i] = (unsigned char)(v >> (8 * i));
    return p + nb;
}

static unsigned char *s_w_u64(unsigned char *p, uint64_t v) {
    if (v < 128) *p++ = (unsigned char)v;
    else if (v <= 0xff) *p++ = 0xcc, *p++ = (unsigned char)v;
    else if (v <= 0xffff) *p++ = 0xcd, p = s_be_put(p, v, 2);
    else if (v <= 0xffffffffu) *p++ = 0xce, p = s_be_put(p, v, 4);
    else *p++ = 0xcf, p = s_be_put(p, v, 8);
    return p;
}

static unsigned char *s_w_i64(unsigned char *p, int64_t v) {
    if (v >= 0) return s_w_u64(p, (uint64_t)v);
    if (v >= -32) *p++ = (unsigned char)(int8_t)v;
    else if (v >= INT8_MIN) *p++ = 0xd0, *p++ = (unsigned char)(int8_t)v;
    else if (v >= INT16_MIN) *p++ = 0xd1, p = s_be_put(p, (uint64_t)v, 2);
    else if (v >= INT32_MIN) *p++ = 0xd2, p = s_be_put(p, (uint64_t)v, 4);
    else *p++ = 0xd3, p = s_be_put(p, (uint64_t)v, 8);
    return p;
}

static unsigned char *s_w_arr(unsigned char *p, uint32_t n) {
    if (n < 16) *p++ = (unsigned char)(0x90 | n);
    else if (n <= 0xffff) *p++ = 0xdc, p = s_be_put(p, n, 2);
    else *p++ = 0xdd, p = s_be_put(p, n, 4);
    return p;
}

static unsigned char *s_w_str(unsigned char *p, gh_str_t s) {
    if (s.n < 32) *p++ = (unsigned char)(0xa0 | s.n);
    else if (s.n <= 0xff) *p++ = 0xd9, *p++ = (unsigned char)s.n;
    else if (s.n <= 0xffff) *p++ = 0xda, p = s_be_put(p, s.n, 2);
    else *p++ = 0xdb, p = s_be_put(p, s.n, 4);
    if (s.n) memcpy(p, s.p, s.n);
    return p + s.n;
}

#define S_HDR 9 /* the largest header of an int, uint, str or array */
#define S_REF_MIN 4 /* shorter strings cost less whole than as an index */

/* Writes s as the index of the item of this batch that wrote it whole (per
 * *r, for this key), or whole, and then remembers it in *r. */
static unsigned char *s_w_ref(gh_enc_t *e, unsigned char *p, gh_enc_ref_t *r, uint64_t key, gh_str_t s) {
    if (s.n < S_REF_MIN) return s_w_str(p, s);
    if (r->gen == e->gen && r->key == key && r->n == s.n && !memcmp(e->sb.data + r->off, s.p, s.n))
        return s_w_u64(p, r->item);
    p = s_w_str(p, s);
    r->gen = e->gen;
    r->key = key;
    r->item = e->n;
    r->off = (uint32_t)(p - s.n - (unsigned char *)e->sb.data);
    r->n = s.n;
    return p;
}

void gh_enc_record(gh_enc_t *e, const gh_record_t *r) {
    /* raw equal to msg (plain text, access logs) travels once: raw is nil
     * and the decoder restores raw = msg; a msg that is a piece of raw
     * (syslog, auditd) travels as [offset, length] into it */
    int raw_is_msg = r->raw.n == r->msg.n && (r->raw.p == r->msg.p || !memcmp(r->raw.p, r->msg.p, r->msg.n));
    uintptr_t mp = (uintptr_t)r->msg.p, rp = (uintptr_t)r->raw.p;
    int msg_in_raw = !raw_is_msg && r->msg.n >= 8 && r->msg.n <= r->raw.n && mp >= rp &&
                     mp - rp <= r->raw.n - r->msg.n;
    size_t need = 9 * S_HDR + r->host.n + r->source.n + r->msg.n + (raw_is_msg ? 0 : r->raw.n);
    for (uint32_t i = 0; i < 2 * r->nfields; i++) need += S_HDR + r->fields[i].n;
    unsigned char *p0 = s_room(e, need), *p = p0;
    if (!p) return; /* out of memory: the item is left out */
    p = s_w_arr(p, 8);
    p = s_w_i64(p, r->ts_ms);
    p = s_w_str(p, r->host);
    p = s_w_ref(e, p, &e->src_ref, 0, r->source);
    p = s_w_u64(p, r->format);
    p = s_w_u64(p, r->level);
    if (msg_in_raw) {
        p = s_w_arr(p, 2);
        p = s_w_u64(p, mp - rp);
        p = s_w_u64(p, r->msg.n);
    } else p = s_w_str(p, r->msg);
    if (raw_is_msg) *p++ = 0xc0;
    else p = s_w_str(p, r->raw);
    p = s_w_arr(p, 2 * r->nfields);
    for (uint32_t i = 0; i < 2 * r->nfields; i++) p = s_w_str(p, r->fields[i]);
    e->sb.size += (size_t)(p - p0);
    e->n++;
}

void gh_enc_cls(gh_enc_t *e, const gh_cls_t *c) {
    size_t need = 9 * S_HDR + c->cls.n + c->host.n + c->tpl.n + c->raw.n;
    unsigned char *p0 = s_room(e, need), *p = p0;
    if (!p) return;
    p = s_w_arr(p, 9);
    p = s_w_i64(p, c->ts_ms);
    p = s_w_u64(p, c->tpl_id);
    p = s_w_u64(p, c->level);
    p = s_w_str(p, c->cls);
    p = s_w_str(p, c->host);
    p = s_w_ref(e, p, &e->tpl_ref[(c->tpl_id ^ c->tpl_id >> 32) & 63], c->tpl_id, c->tpl);
    if (c->raw.p) p = s_w_str(p, c->raw);
    else *p++ = 0xc0; /* no raw line (not an empty one): nil */
    p = s_w_u64(p, c->keys);
    p = s_w_u64(p, c->src);
    e->sb.size += (size_t)(p - p0);
    e->n++;
}

void gh_enc_rate(gh_enc_t *e, const gh_rate_t *r) {
    msgpack_packer *pk = &e->pk;
    msgpack_pack_array(pk, 8);
    s_pack_str(pk, r->key);
    msgpack_pack_int64(pk, r->t_ms);
    msgpack_pack_uint32(pk, r->width_s);
    msgpack_pack_double(pk, r->count);
    msgpack_pack_double(pk, r->threshold);
    s_pack_str(pk, r->tpl);
    s_pack_str(pk, r->cls);
    s_pack_str(pk, r->host);
    e->n++;
}

void gh_enc_ack(gh_enc_t *e, const gh_ack_t *a) {
    msgpack_pack_array(&e->pk, 1);
    msgpack_pack_uint64(&e->pk, a->seq);
    e->n++;
}

static void s_kv_str(msgpack_packer *pk, const char *k, gh_str_t v) {
    s_pack_key(pk, k);
    s_pack_str(pk, v);
}
static void s_kv_dbl(msgpack_packer *pk, const char *k, double v) {
    s_pack_key(pk, k);
    msgpack_pack_double(pk, v);
}
static void s_kv_int(msgpack_packer *pk, const char *k, int64_t v) {
    s_pack_key(pk, k);
    msgpack_pack_int64(pk, v);
}

void gh_enc_alert(gh_enc_t *e, const gh_alert_t *a) {
    msgpack_packer *pk = &e->pk;
    uint32_t nex = a->nexamples > GH_MAX_EXAMPLES ? GH_MAX_EXAMPLES : a->nexamples;
    uint32_t nser = a->nseries > GH_MAX_SERIES ? GH_MAX_SERIES : a->nseries;
    msgpack_pack_map(pk, 15 + (a->has_forecast ? 1 : 0));
    s_kv_str(pk, "id", a->id);
    s_kv_str(pk, "kind", a->kind);
    s_kv_str(pk, "key", a->key);
    s_kv_str(pk, "state", a->state);
    s_kv_str(pk, "template", a->tpl);
    s_kv_str(pk, "class", a->cls);
    s_kv_str(pk, "host", a->host);
    s_kv_int(pk, "start", a->start_ms);
    s_kv_int(pk, "end", a->end_ms);
    s_kv_dbl(pk, "count", a->count);
    s_kv_dbl(pk, "rate", a->rate);
    s_kv_dbl(pk, "baseline", a->baseline);
    s_kv_dbl(pk, "score", a->score);
    s_pack_key(pk, "examples");
    msgpack_pack_array(pk, nex);
    for (uint32_t i = 0; i < nex; i++) s_pack_str(pk, a->examples[i]);
    s_pack_key(pk, "series");
    msgpack_pack_array(pk, nser);
    for (uint32_t i = 0; i < nser; i++) msgpack_pack_double(pk, a->series[i]);
    if (a->has_forecast) {
        s_pack_key(pk, "forecast");
        msgpack_pack_map(pk, 7);
        s_kv_str(pk, "method", a->fc_method);
        s_kv_dbl(pk, "horizon_s", a->fc_horizon_s);
        s_kv_dbl(pk, "predicted", a->fc_predicted);
        s_kv_dbl(pk, "lower", a->fc_lower);
        s_kv_dbl(pk, "upper", a->fc_upper);
        s_kv_dbl(pk, "threshold", a->fc_threshold);
        s_kv_int(pk, "crosses_at", a->fc_crosses_at_ms);
    }
    e->n++;
}

/* ---- structural pre-check ---------------------------------------------- */

typedef struct {
    const unsigned char *p, *end;
    uint32_t nodes;
    gh_decode_err_t err;
} s_walker_t;

static uint64_t s_be(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

/* Skips one value; returns 0 or -1 with w->err set. */
static int s_walk(s_walker_t *w, int depth) {
    if (depth > GH_MAX_DEPTH || ++w->nodes > GH_MAX_NODES) return w->err = GH_DEC_MALFORMED, -1;
    if (w->p >= w->end) return w->err = GH_DEC_TRUNCATED, -1;
    unsigned b = *w->p++;
    size_t left = (size_t)(w->end - w->p);
    uint64_t skip = 0, count = 0;
    int lenbytes = 0;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) return 0;
    if ((b & 0xf0) == 0x80) count = 2 * (uint64_t)(b & 0x0f);
    else if ((b & 0xf0) == 0x90) count = b & 0x0f;
    else if ((b & 0xe0) == 0xa0) skip = b & 0x1f;
    else switch (b) {
        case 0xc4: case 0xd9: lenbytes = 1; break;
        case 0xc5: case 0xda: lenbytes = 2; break;
        case 0xc6: case 0xdb: lenbytes = 4; break;
        case 0xc7: lenbytes = 1; skip = 1; break;  /* ext8: len, type */
        case 0xc8: lenbytes = 2; skip = 1; break;
        case 0xc9: lenbytes = 4; skip = 1; break;
        case 0xca: skip = 4; break;
        case 0xcb: skip = 8; break;
        case 0xcc: case 0xd0: skip = 1; break;
        case 0xcd: case 0xd1: skip = 2; break;
        case 0xce: case 0xd2: skip = 4; break;
        case 0xcf: case 0xd3: skip = 8; break;
        case 0xd4: skip = 2; break;
        case 0xd5: skip = 3; break;
        case 0xd6: skip = 5; break;
        case 0xd7: skip = 9; break;
        case 0xd8: skip = 17; break;
        case 0xdc: case 0xdd: case 0xde: case 0xdf: {
            int nb = (b == 0xdc || b == 0xde) ? 2 : 4;
            if (left < (size_t)nb) return w->err = GH_DEC_TRUNCATED, -1;
            count = s_be(w->p, nb);
            if (b >= 0xde) count *= 2;
            w->p += nb;
            left -= (size_t)nb;
            break;
        }
        default: return w->err = GH_DEC_MALFORMED, -1; /* 0xc1: never used */
        }
    if (lenbytes) {
        if (left < (size_t)lenbytes) return w->err = GH_DEC_TRUNCATED, -1;
        skip += s_be(w->p, lenbytes);
        w->p += lenbytes;
        left -= (size_t)lenbytes;
    }
    if (skip) {
        if (skip > left) return w->err = GH_DEC_TRUNCATED, -1;
        w->p += skip;
        return 0;
    }
    /* every element takes at least one byte: a count beyond that is a lie */
    if (count > left) return w->err = GH_DEC_TRUNCATED, -1;
    for (uint64_t i = 0; i < count; i++)
        if (s_walk(w, depth + 1) < 0) return -1;
    return 0;
}

/* ---- decoding ----------------------------------------------------------- */

void gh_batch_init(gh_batch_t *b) {
    memset(b, 0, sizeof *b);
    msgpack_unpacked_init(&b->up);
}

void gh_batch_release(gh_batch_t *b) {
    msgpack_unpacked_destroy(&b->up);
    msgpack_unpacked_init(&b->up);
    b->n = 0;
    b->nwm = 0;
    b->wm = NULL;
    b->type = 0;
    b->u.raw = NULL;
}

#define FAIL(code, ...) do { snprintf(b->errstr, sizeof b->errstr, __VA_ARGS__); return (code); } while (0)

static int s_get_str(const msgpack_object *o, gh_str_t *out) {
    if (o->type == MSGPACK_OBJECT_STR) *out = gh_str(o->via.str.ptr, o->via.str.size);
    else if (o->type == MSGPACK_OBJECT_BIN) *out = gh_str(o->via.bin.ptr, o->via.bin.size);
    else if (o->type == MSGPACK_OBJECT_NIL) *out = gh_str("", 0);
    else return -1;
    return 0;
}

static int s_get_u64(const msgpack_object *o, uint64_t *out) {
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) *out = o->via.u64;
    else if (o->type == MSGPACK_OBJECT_NIL) *out = 0;
    else return -1;
    return 0;
}

static int s_get_i64(const msgpack_object *o, int64_t *out) {
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (o->via.u64 > INT64_MAX) return -1;
        *out = (int64_t)o->via.u64;
    } else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) *out = o->via.i64;
    else if (o->type == MSGPACK_OBJECT_NIL) *out = 0;
    else return -1;
    return 0;
}

static int s_get_dbl(const msgpack_object *o, double *out) {
    switch (o->type) {
    case MSGPACK_OBJECT_FLOAT32: case MSGPACK_OBJECT_FLOAT64: *out = o->via.f64; return 0;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: *out = (double)o->via.u64; return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: *out = (double)o->via.i64; return 0;
    case MSGPACK_OBJECT_NIL: *out = 0; return 0;
    default: return -1;
    }
}

/* An optional trailing element: absent counts as nil. */
static const msgpack_object s_nil = { .type = MSGPACK_OBJECT_NIL };
static const msgpack_object *s_at(const msgpack_object_array *a, uint32_t i) {
    return i < a->size ? &a->ptr[i] : &s_nil;
}

static int s_raw(gh_raw_t *r, const msgpack_object_array *a) {
    if (a->size < 2) return -1;
    return s_get_str(&a->ptr[0], &r->source) | s_get_str(&a->ptr[1], &r->line) |
           s_get_u64(s_at(a, 2), &r->offset) | s_get_u64(s_at(a, 3), &r->file_id);
}

/* A string field that may be given as the index of an earlier item of the
 * batch whose same field holds it (items: the decoded array so far). */
static int s_get_ref(const msgpack_object *o, gh_str_t *out, const void *items, size_t i, size_t stride,
                     size_t field_off) {
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) return s_get_str(o, out);
    if (o->via.u64 >= i) return -1; /* only backwards */
    memcpy(out, (const char *)items + o->via.u64 * stride + field_off, sizeof *out);
    return 0;
}

static int s_record(gh_record_t *r, const msgpack_object_array *a, msgpack_zone *z, const gh_record_t *recs, size_t i) {
    uint64_t fmt = 0, lvl = 0;
    if (a->size < 7) return -1;
    const msgpack_object *msg = &a->ptr[5];
    if (s_get_i64(&a->ptr[0], &r->ts_ms) | s_get_str(&a->ptr[1], &r->host) |
        s_get_ref(&a->ptr[2], &r->source, recs, i, sizeof *recs, offsetof(gh_record_t, source)) |
        s_get_u64(&a->ptr[3], &fmt) | s_get_u64(&a->ptr[4], &lvl) | s_get_str(&a->ptr[6], &r->raw))
        return -1;
    if (msg->type == MSGPACK_OBJECT_ARRAY) { /* [offset, length] into raw */
        const msgpack_object_array *m = &msg->via.array;
        if (m->size != 2 || a->ptr[6].type == MSGPACK_OBJECT_NIL || m->ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
            m->ptr[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER || m->ptr[0].via.u64 > r->raw.n ||
            m->ptr[1].via.u64 > r->raw.n - m->ptr[0].via.u64)
            return -1;
        r->msg = gh_str(r->raw.p + m->ptr[0].via.u64, m->ptr[1].via.u64);
    } else if (s_get_str(msg, &r->msg)) return -1;
    if (a->ptr[6].type == MSGPACK_OBJECT_NIL) r->raw = r->msg; /* the encoder's "raw is msg" */
    if (lvl > GH_LVL_DEBUG) return -1;
    r->format = fmt < GH_FMT__COUNT ? (uint8_t)fmt : GH_FMT_PLAIN; /* newer formats read as plain */
    r->level = (uint8_t)lvl;
    r->nfields = 0;
    r->fields = NULL;
    const msgpack_object *f = s_at(a, 7);
    if (f->type == MSGPACK_OBJECT_NIL) return 0;
    if (f->type != MSGPACK_OBJECT_ARRAY || f->via.array.size % 2) return -1;
    if (!f->via.array.size) return 0;
    gh_str_t *kv = msgpack_zone_malloc(z, f->via.array.size * sizeof *kv);
    if (!kv) return -2;
    for (uint32_t j = 0; j < f->via.array.size; j++)
        if (s_get_str(&f->via.array.ptr[j], &kv[j])) return -1;
    r->fields = kv;
    r->nfields = f->via.array.size / 2;
    return 0;
}

static int s_cls(gh_cls_t *c, const msgpack_object_array *a, const gh_cls_t *cls, size_t i) {
    uint64_t lvl = 0, keys = 0;
    if (a->size < 7) return -1;
    if (s_get_i64(&a->ptr[0], &c->ts_ms) | s_get_u64(&a->ptr[1], &c->tpl_id) | s_get_u64(&a->ptr[2], &lvl) |
        s_get_str(&a->ptr[3], &c->cls) | s_get_str(&a->ptr[4], &c->host) |
        s_get_ref(&a->ptr[5], &c->tpl, cls, i, sizeof *cls, offsetof(gh_cls_t, tpl)) |
        s_get_str(&a->ptr[6], &c->raw) | s_get_u64(s_at(a, 7), &keys) | s_get_u64(s_at(a, 8), &c->src))
        return -1;
    if (lvl > GH_LVL_DEBUG || keys > 0xff) return -1;
    if (a->ptr[6].type == MSGPACK_OBJECT_NIL) c->raw = gh_str(NULL, 0); /* sent without it */
    c->level = (uint8_t)lvl;
    c->keys = (uint8_t)keys;
    return 0;
}

static int s_rate(gh_rate_t *r, const msgpack_object_array *a) {
    uint64_t w = 0;
    if (a->size < 4) return -1;
    if (s_get_str(&a->ptr[0], &r->key) | s_get_i64(&a->ptr[1], &r->t_ms) | s_get_u64(&a->ptr[2], &w) |
        s_get_dbl(&a->ptr[3], &r->count) | s_get_dbl(s_at(a, 4), &r->threshold) | s_get_str(s_at(a, 5), &r->tpl) |
        s_get_str(s_at(a, 6), &r->cls) | s_get_str(s_at(a, 7), &r->host))
        return -1;
    if (w > UINT32_MAX) return -1;
    r->width_s = (uint32_t)w;
    return 0;
}

static int s_key_is(const msgpack_object *k, const char *name) {
    size_t n = strlen(name);
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n && !memcmp(k->via.str.ptr, name, n);
}

static int s_forecast(gh_alert_t *a, const msgpack_object *o) {
    if (o->type == MSGPACK_OBJECT_NIL) return 0;
    if (o->type != MSGPACK_OBJECT_MAP) return -1;
    int rc = 0;
    a->has_forecast = 1;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
        if (s_key_is(k, "method")) rc |= s_get_str(v, &a->fc_method);
        else if (s_key_is(k, "horizon_s")) rc |= s_get_dbl(v, &a->fc_horizon_s);
        else if (s_key_is(k, "predicted")) rc |= s_get_dbl(v, &a->fc_predicted);
        else if (s_key_is(k, "lower")) rc |= s_get_dbl(v, &a->fc_lower);
        else if (s_key_is(k, "upper")) rc |= s_get_dbl(v, &a->fc_upper);
        else if (s_key_is(k, "threshold")) rc |= s_get_dbl(v, &a->fc_threshold);
        else if (s_key_is(k, "crosses_at")) rc |= s_get_i64(v, &a->fc_crosses_at_ms);
    }
    return rc;
}

static int s_alert(gh_alert_t *a, const msgpack_object *o) {
    if (o->type != MSGPACK_OBJECT_MAP) return -1;
    int rc = 0;
    memset(a, 0, sizeof *a);
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
        if (s_key_is(k, "id")) rc |= s_get_str(v, &a->id);
        else if (s_key_is(k, "kind")) rc |= s_get_str(v, &a->kind);
        else if (s_key_is(k, "key")) rc |= s_get_str(v, &a->key);
        else if (s_key_is(k, "state")) rc |= s_get_str(v, &a->state);
        else if (s_key_is(k, "template")) rc |= s_get_str(v, &a->tpl);
        else if (s_key_is(k, "class")) rc |= s_get_str(v, &a->cls);
        else if (s_key_is(k, "host")) rc |= s_get_str(v, &a->host);
        else if (s_key_is(k, "start")) rc |= s_get_i64(v, &a->start_ms);
        else if (s_key_is(k, "end")) rc |= s_get_i64(v, &a->end_ms);
        else if (s_key_is(k, "count")) rc |= s_get_dbl(v, &a->count);
        else if (s_key_is(k, "rate")) rc |= s_get_dbl(v, &a->rate);
        else if (s_key_is(k, "baseline")) rc |= s_get_dbl(v, &a->baseline);
        else if (s_key_is(k, "score")) rc |= s_get_dbl(v, &a->score);
        else if (s_key_is(k, "forecast")) rc |= s_forecast(a, v);
        else if (s_key_is(k, "examples") || s_key_is(k, "series")) {
            if (v->type != MSGPACK_OBJECT_ARRAY) return -1;
            int ex = s_key_is(k, "examples");
            uint32_t cap = ex ? GH_MAX_EXAMPLES : GH_MAX_SERIES, n = 0;
            for (uint32_t j = 0; j < v->via.array.size && n < cap; j++, n++)
                rc |= ex ? s_get_str(&v->via.array.ptr[j], &a->examples[n])
                         : s_get_dbl(&v->via.array.ptr[j], &a->series[n]);
            if (ex) a->nexamples = n;
            else a->nseries = n;
        }
    }
    if (rc || !a->id.n || !a->kind.n) return -1;
    return 0;
}

gh_decode_err_t gh_batch_decode(gh_batch_t *b, const void *buf, size_t len) {
    gh_batch_release(b);
    b->errstr[0] = 0;
    if (len > GH_FRAME_MAX) FAIL(GH_DEC_OVERSIZE, "frame of %zu bytes exceeds %u", len, GH_FRAME_MAX);
    s_walker_t w = { buf, (const unsigned char *)buf + len, 0, GH_DEC_OK };
    if (s_walk(&w, 0) < 0) FAIL(w.err, "%s at byte %zu of %zu", gh_decode_strerror(w.err),
                                  (size_t)(w.p - (const unsigned char *)buf), len);
    if (w.p != w.end) FAIL(GH_DEC_MALFORMED, "%zu trailing bytes", (size_t)(w.end - w.p));
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack_next(&b->up, buf, len, &off);
    if (ur == MSGPACK_UNPACK_NOMEM_ERROR) FAIL(GH_DEC_NOMEM, "out of memory");
    if (ur != MSGPACK_UNPACK_SUCCESS) FAIL(GH_DEC_MALFORMED, "msgpack refused the frame (%d)", (int)ur);

    gh_decode_err_t rc = GH_DEC_BAD_TYPE;
    const msgpack_object *root = &b->up.data, *items = NULL, *wm = NULL;
    uint64_t v = 0, t = 0;
    int have_v = 0, have_t = 0;
    if (root->type != MSGPACK_OBJECT_MAP) {
        snprintf(b->errstr, sizeof b->errstr, "frame is not a map");
        goto fail;
    }
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object *k = &root->via.map.ptr[i].key, *val = &root->via.map.ptr[i].val;
        int bad = 0;
        if (s_key_is(k, "v")) bad = s_get_u64(val, &v), have_v = 1;
        else if (s_key_is(k, "t")) bad = s_get_u64(val, &t), have_t = 1;
        else if (s_key_is(k, "src")) bad = s_get_str(val, &b->src);
        else if (s_key_is(k, "seq")) bad = s_get_u64(val, &b->seq);
        else if (s_key_is(k, "pt")) bad = s_get_i64(val, &b->pt_ns);
        else if (s_key_is(k, "items")) {
            if (val->type != MSGPACK_OBJECT_ARRAY) bad = 1;
            items = val;
        } else if (s_key_is(k, "wm")) {
            if (val->type != MSGPACK_OBJECT_ARRAY) bad = 1;
            wm = val;
        }
        if (bad) {
            snprintf(b->errstr, sizeof b->errstr, "header field '%.*s' has the wrong type",
                     (int)(k->type == MSGPACK_OBJECT_STR ? k->via.str.size : 1),
                     k->type == MSGPACK_OBJECT_STR ? k->via.str.ptr : "?");
            goto fail;
        }
    }
    if (!have_v || !have_t) {
        snprintf(b->errstr, sizeof b->errstr, "header lacks '%s'", have_v ? "t" : "v");
        goto fail;
    }
    if (v != GH_PROTO_VERSION) {
        rc = GH_DEC_VERSION;
        snprintf(b->errstr, sizeof b->errstr, "protocol version %llu (this build speaks %d)", (unsigned long long)v,
                 GH_PROTO_VERSION);
        goto fail;
    }
    if (!((t >= GH_T_RAW && t <= GH_T_ACK) || t == GH_T_EOS)) {
        rc = GH_DEC_UNKNOWN_TYPE;
        snprintf(b->errstr, sizeof b->errstr, "unknown batch type %llu", (unsigned long long)t);
        goto fail;
    }
    b->type = (int)t;
    b->version = (int)v;
    if (wm && wm->via.array.size) {
        gh_wm_t *wv = msgpack_zone_malloc(b->up.zone, wm->via.array.size * sizeof *wv);
        if (!wv) {
            rc = GH_DEC_NOMEM;
            snprintf(b->errstr, sizeof b->errstr, "out of memory for watermarks");
            goto fail;
        }
        for (uint32_t i = 0; i < wm->via.array.size; i++) {
            const msgpack_object *x = &wm->via.array.ptr[i];
            if (x->type != MSGPACK_OBJECT_ARRAY || x->via.array.size < 2 || s_get_u64(&x->via.array.ptr[0], &wv[i].src) ||
                s_get_i64(&x->via.array.ptr[1], &wv[i].ts_ms) || s_get_i64(s_at(&x->via.array, 2), &wv[i].first_ms)) {
                snprintf(b->errstr, sizeof b->errstr, "watermark %u has the wrong shape", i);
                goto fail;
            }
        }
        b->wm = wv;
        b->nwm = wm->via.array.size;
    }
    if (t == GH_T_EOS || !items || !items->via.array.size) return GH_DEC_OK;

    size_t n = items->via.array.size, sz = 0;
    switch (t) {
    case GH_T_RAW: sz = sizeof(gh_raw_t); break;
    case GH_T_RECORD: sz = sizeof(gh_record_t); break;
    case GH_T_CLASSIFIED: sz = sizeof(gh_cls_t); break;
    case GH_T_RATE: sz = sizeof(gh_rate_t); break;
    case GH_T_ALERT: sz = sizeof(gh_alert_t); break;
    case GH_T_ACK: sz = sizeof(gh_ack_t); break;
    }
    void *arr = msgpack_zone_malloc(b->up.zone, n * sz);
    if (!arr) {
        rc = GH_DEC_NOMEM;
        snprintf(b->errstr, sizeof b->errstr, "out of memory for %zu items", n);
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        const msgpack_object *it = &items->via.array.ptr[i];
        int bad;
        if (t == GH_T_ALERT) bad = s_alert((gh_alert_t *)arr + i, it);
        else if (it->type != MSGPACK_OBJECT_ARRAY) bad = -1;
        else if (t == GH_T_RAW) bad = s_raw((gh_raw_t *)arr + i, &it->via.array);
        else if (t == GH_T_RECORD) bad = s_record((gh_record_t *)arr + i, &it->via.array, b->up.zone, arr, i);
        else if (t == GH_T_CLASSIFIED) bad = s_cls((gh_cls_t *)arr + i, &it->via.array, arr, i);
        else if (t == GH_T_RATE) bad = s_rate((gh_rate_t *)arr + i, &it->via.array);
        else bad = it->via.array.size < 1 || s_get_u64(&it->via.array.ptr[0], &((gh_ack_t *)arr + i)->seq);
        if (bad) {
            rc = bad == -2 ? GH_DEC_NOMEM : GH_DEC_BAD_TYPE;
            snprintf(b->errstr, sizeof b->errstr, "%s item %zu has the wrong shape", gh_type_name((int)t), i);
            goto fail;
        }
    }
    b->u.raw = arr;
    b->n = n;
    return GH_DEC_OK;
fail: {
        char keep[sizeof b->errstr];
        memcpy(keep, b->errstr, sizeof keep);
        gh_batch_release(b);
        memcpy(b->errstr, keep, sizeof keep);
        return rc;
    }
}
