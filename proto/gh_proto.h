/* gh_proto.h -- the one codec for every frame that crosses a ghost socket.
 *
 * One ZeroMQ message is one batch: a msgpack map
 *
 *     { "v": 1, "t": <type>, "src": <producer id>, "seq": <u64>,
 *       "pt": <i64 ns, processing time the batch was opened>, "items": [ ... ] }
 *
 * "items" is always the last key so that the encoder can write the header
 * first and patch the item count in place when the batch is flushed.  Items
 * are msgpack arrays with fixed positions (see proto/SCHEMA.md); trailing
 * elements a decoder does not know are ignored, so fields can be appended
 * without a version bump.  Alerts are maps (they are rare and carry many
 * optional fields).
 *
 * Decoding never trusts the bytes: gh_batch_decode() checks the size, walks
 * the structure without allocating (so a forged "array of 4 billion" header is
 * refused before msgpack-c sees it), then checks every field's type.  A frame
 * is accepted whole or refused whole with a reason (gh_decode_err_t); decoded
 * strings point into the frame buffer, so the buffer must outlive the batch.
 */
#ifndef GH_PROTO_H
#define GH_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

#define GH_PROTO_VERSION 1
#define GH_FRAME_MAX (32u << 20)   /* frames above this are refused */
#define GH_MAX_EXAMPLES 3
#define GH_MAX_SERIES 32           /* sparkline buckets carried by an alert */

typedef enum {
    GH_T_RAW = 1,        /* raw lines:       ghost-tail  -> ghost-ingest   */
    GH_T_RECORD = 2,     /* parsed records:  ingest      -> classify       */
    GH_T_CLASSIFIED = 3, /* classified:      classify    -> anomaly        */
    GH_T_RATE = 4,       /* rate samples:    anomaly     -> predict        */
    GH_T_ALERT = 5,      /* anomalies and forecasts: anomaly/predict -> alert */
    GH_T_ACK = 6,        /* acknowledgement of a raw batch (ingest -> tail) */
    GH_T_EOS = 15        /* end of stream from one producer (no items)      */
} gh_type_t;

/* Syslog severities; every format's notion of level is mapped onto these. */
typedef enum {
    GH_LVL_EMERG = 0, GH_LVL_ALERT, GH_LVL_CRIT, GH_LVL_ERR,
    GH_LVL_WARNING, GH_LVL_NOTICE, GH_LVL_INFO, GH_LVL_DEBUG
} gh_level_t;

typedef enum {
    GH_FMT_PLAIN = 0, GH_FMT_AUDITD, GH_FMT_SYSLOG3164, GH_FMT_SYSLOG5424,
    GH_FMT_JSON, GH_FMT_LOGFMT, GH_FMT_ACCESS, GH_FMT__COUNT
} gh_format_t;

/* Series kinds a classified item asks one anomaly shard to count. */
#define GH_KEY_TEMPLATE 1u
#define GH_KEY_CLASS 2u
#define GH_KEY_LEVEL 4u

typedef struct { const char *p; uint32_t n; } gh_str_t;

/* GH_T_RAW item: [source, line, offset, file_id] */
typedef struct {
    gh_str_t source;     /* file path or other origin name */
    gh_str_t line;       /* line bytes without the newline; any bytes */
    uint64_t offset;     /* byte offset just past the line in its file (0 if none) */
    uint64_t file_id;    /* identity of the file (dev, inode, fingerprint); 0 if none */
} gh_raw_t;

/* GH_T_RECORD item: [ts_ms, host, source, format, level, msg, raw, fields]
 * fields is a flat array [k1, v1, k2, v2, ...] of strings (may be empty).
 * On the wire source may be an earlier item's index (the same source), msg
 * an [offset, length] slice of raw; decoded records always hold strings. */
typedef struct {
    int64_t ts_ms;       /* event time, ms since the epoch, UTC */
    gh_str_t host, source, msg, raw;
    uint8_t format;      /* gh_format_t */
    uint8_t level;       /* gh_level_t */
    uint32_t nfields;    /* number of key/value pairs */
    const gh_str_t *fields; /* 2*nfields strings, k0 v0 k1 v1 ... */
} gh_record_t;

/* GH_T_CLASSIFIED item: [ts_ms, tpl_id, level, class, host, template, raw, keys, src]
 * On the wire template may be an earlier item's index (the same text); raw is
 * nil on lines ghost-classify knows cannot be an alert's example. */
typedef struct {
    int64_t ts_ms;
    uint64_t tpl_id;     /* stable template id */
    uint8_t level;
    uint8_t keys;        /* GH_KEY_* bits: which series this shard counts */
    gh_str_t cls;        /* failure class name, "" when none */
    gh_str_t host;
    gh_str_t tpl;        /* template text, variables written <*> */
    gh_str_t raw;        /* raw line, for examples; raw.p NULL when it was sent
                            without it (it cannot be one), "" for an empty line */
    uint64_t src;        /* hash of the record's source (file): event time is
                            ordered within a source, not across sources, so
                            watermarks are kept per source */
} gh_cls_t;

/* GH_T_RATE item: [key, t_ms, width_s, count, threshold, tpl, cls, host] */
typedef struct {
    gh_str_t key;        /* series key, e.g. "tpl:1234", "class:timeout" */
    int64_t t_ms;        /* window start, event time */
    uint32_t width_s;    /* window width in seconds */
    double count;        /* events in the window */
    double threshold;    /* the level a forecast should warn about (0: none) */
    gh_str_t tpl, cls, host;
} gh_rate_t;

/* GH_T_ALERT item: a map with these keys (all but id/kind/key optional). */
typedef struct {
    gh_str_t id, kind, key, state;   /* kind: burst|new_template|forecast;
                                        state: firing|update|resolved */
    gh_str_t tpl, cls, host;
    int64_t start_ms, end_ms;
    double count, rate, baseline, score;
    uint32_t nexamples;
    gh_str_t examples[GH_MAX_EXAMPLES];
    uint32_t nseries;                 /* recent buckets, oldest first */
    double series[GH_MAX_SERIES];
    int has_forecast;
    gh_str_t fc_method;
    double fc_horizon_s, fc_predicted, fc_lower, fc_upper, fc_threshold;
    int64_t fc_crosses_at_ms;         /* 0 when it does not cross */
} gh_alert_t;

/* Watermark of one source, carried in batch headers ("wm": [[src, ts, first],
 * ...]): the producer has sent every item of source `src` with event time <=
 * ts; `first` is the source's first event time (where its history starts). */
typedef struct { uint64_t src; int64_t ts_ms, first_ms; } gh_wm_t;

/* GH_T_ACK item: [seq] -- a raw batch seq the receiver has handed on. */
typedef struct { uint64_t seq; } gh_ack_t;

/* ---- encoding ---------------------------------------------------------- */

/* A string an earlier item of the open batch wrote whole: where its bytes
 * are in the buffer and which item wrote them (see gh_enc_t.ref). */
typedef struct { uint64_t key; uint32_t gen, item, off, n; } gh_enc_ref_t;

/* An encoder builds one batch at a time into its own growing buffer.  It may
 * be moved in memory between batches (not while one is open). */
typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    int type;            /* type of the open batch, 0 when none is open */
    uint32_t n;          /* items in the open batch */
    size_t count_off;    /* offset of the array32 count to patch */
    int64_t opened_ns;   /* monotonic time the batch was opened */
    const gh_wm_t *wm;   /* watermarks the next gh_enc_begin() writes (may be NULL) */
    uint32_t nwm;
    /* Back-references (proto/SCHEMA.md): a record's source, or a classified
     * item's template text, that an earlier item of the same batch wrote whole
     * travels as that item's index.  Entries of older batches are stale by
     * their generation; a slot that is overwritten only costs bytes. */
    uint32_t gen;
    gh_enc_ref_t src_ref;          /* record: the last source written whole */
    gh_enc_ref_t tpl_ref[64];      /* classified: template text, by tpl_id */
} gh_enc_t;

void gh_enc_init(gh_enc_t *e);
void gh_enc_free(gh_enc_t *e);
/* Open a batch; discards anything open. pt_ns is carried as "pt"; e->wm /
 * e->nwm, when set, are written as the header's "wm". */
void gh_enc_begin(gh_enc_t *e, int type, const char *src, uint64_t seq, int64_t pt_ns);
void gh_enc_raw(gh_enc_t *e, const gh_raw_t *r);
void gh_enc_record(gh_enc_t *e, const gh_record_t *r);
void gh_enc_cls(gh_enc_t *e, const gh_cls_t *c);
void gh_enc_rate(gh_enc_t *e, const gh_rate_t *r);
void gh_enc_alert(gh_enc_t *e, const gh_alert_t *a);
void gh_enc_ack(gh_enc_t *e, const gh_ack_t *a);
/* Close the open batch; the frame is e->sb.data, e->sb.size until the next
 * gh_enc_begin(). */
void gh_enc_finish(gh_enc_t *e);

/* ---- decoding ---------------------------------------------------------- */

typedef enum {
    GH_DEC_OK = 0,
    GH_DEC_OVERSIZE,     /* larger than GH_FRAME_MAX */
    GH_DEC_TRUNCATED,    /* ends inside a value */
    GH_DEC_MALFORMED,    /* not msgpack, trailing bytes, absurd counts, too deep */
    GH_DEC_BAD_TYPE,     /* a field has the wrong type or an item the wrong shape */
    GH_DEC_VERSION,      /* unknown protocol version */
    GH_DEC_UNKNOWN_TYPE, /* unknown batch type */
    GH_DEC_NOMEM,
    GH_DEC__COUNT
} gh_decode_err_t;

const char *gh_decode_strerror(gh_decode_err_t err);

typedef struct {
    int type;
    int version;
    gh_str_t src;
    uint64_t seq;
    int64_t pt_ns;
    size_t n;
    size_t nwm;          /* watermarks in the header */
    gh_wm_t *wm;
    union {
        gh_raw_t *raw;
        gh_record_t *rec;
        gh_cls_t *cls;
        gh_rate_t *rate;
        gh_alert_t *alert;
        gh_ack_t *ack;
    } u;
    msgpack_unpacked up; /* owns the decoded tree and the item arrays */
    char errstr[128];    /* detail for the last failed decode */
} gh_batch_t;

void gh_batch_init(gh_batch_t *b);
/* Decode and validate one frame. On success fills b (strings borrow from buf).
 * On failure returns the reason, b->errstr says where, and b holds nothing. */
gh_decode_err_t gh_batch_decode(gh_batch_t *b, const void *buf, size_t len);
void gh_batch_release(gh_batch_t *b);

/* Small helpers shared by the stages. */
static inline gh_str_t gh_str(const char *s, size_t n) { gh_str_t r = { s, (uint32_t)n }; return r; }
gh_str_t gh_cstr(const char *s);
const char *gh_level_name(int level);     /* "error", "warning", ... */
int gh_level_parse(const char *s, size_t n); /* -1 when unknown */
const char *gh_format_name(int fmt);      /* "auditd", "syslog3164", ... */
int gh_format_parse(const char *s);       /* -1 when unknown */
const char *gh_type_name(int type);

#endif
