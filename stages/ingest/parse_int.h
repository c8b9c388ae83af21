/* parse_int.h -- what the per-format parsers (parse_*.c) share with parse.c.
 *
 * While a line is parsed, every string the record will carry is either a
 * slice of the line (or source) or lives in the parser's arena, a byte buffer
 * reused from line to line.  Because the arena may move while it grows,
 * parsers keep arena strings as offsets (gh_pref_t) and parse.c turns them
 * into pointers once the line is done.  Fields are appended in order; auditd
 * also replaces and deletes them (gh_ps_find/gh_ps_set/gh_ps_del).
 *
 * A format parser returns 0 when the line is in its format (the record state
 * is filled in) and -1 when it is not, in which case it may have left partial
 * state that the caller discards with gh_ps_reset().
 */
#ifndef GH_INGEST_PARSE_INT_H
#define GH_INGEST_PARSE_INT_H

#include <stddef.h>
#include <stdint.h>
#include "clock.h"
#include "ingest/parse.h"

/* A string of the record being built: p != NULL means p[0..n) outside the
 * arena (line or source); p == NULL means arena[off..off+n). */
typedef struct { const char *p; size_t off; size_t n; } gh_pref_t;

#define GH_FF_QUOTED 1u   /* auditd: the value was quoted in the line */

typedef struct { size_t ko, kn, vo, vn; unsigned flags; } gh_pfield_t;

#define GH_SRC_SLOTS 256  /* per-source detected-format memory */

struct gh_parser {
    int force;                    /* gh_format_t or -1 */
    int fields;                   /* build every field (1), or only those the record's
                                     ts/level/msg/host are read from (0) */
    int json_dom;                 /* JSON always through jansson's tree (tests compare the paths) */
    char *host_default;
    uint32_t host_default_n;
    /* arena, reset per line */
    char *arena;
    size_t alen, acap;
    int oom;                      /* an allocation failed during this line */
    /* fields being built */
    gh_pfield_t *pf;
    size_t npf, pfcap;
    uint64_t kbloom;              /* one bit per key hash seen this line: gh_ps_find's
                                     quick "not there" (most lookups miss) */
    /* resolved fields handed out in gh_record_t */
    gh_str_t *out_fields;
    size_t out_cap;
    /* record state */
    int64_t ts_ms;
    int has_ts;
    int level;
    int format;
    gh_pref_t host, msg;
    /* per-source memory: hash of the source name -> last detected format */
    uint64_t src_hash[GH_SRC_SLOTS];
    signed char src_fmt[GH_SRC_SLOTS];
    /* per-source memory of year-less dates: the line's source (slot, hash),
     * the last such date of each source, and whether this line has one */
    unsigned cur_slot;
    uint64_t cur_src;
    uint64_t yr_hash[GH_SRC_SLOTS];
    int64_t yr_last[GH_SRC_SLOTS];
    int yr_inferred;
    /* the year of the last previous date looked up (gh_ps_year_ms): its
     * seconds [yr_lo, yr_hi) are that year's */
    int64_t yr_lo, yr_hi;
    int yr_y;
    /* the last source seen and what it hashed to (gh_parse_line) */
    char *src_last;
    size_t src_last_n, src_last_cap;
    unsigned src_last_slot;
    uint64_t src_last_h;
    /* auditd scratch: decoded hex and normalised bodies */
    char *scratch;
    size_t scap;
};

/* ---- arena and fields (parse.c) ---------------------------------------- */
void gh_ps_reset(gh_parser_t *p);
/* Copy s[0..n) into the arena; returns its offset (on OOM sets p->oom). */
size_t gh_ps_put(gh_parser_t *p, const char *s, size_t n);
/* Reserve n bytes at the end of the arena; returns the offset or (size_t)-1. */
size_t gh_ps_reserve(gh_parser_t *p, size_t n);
static inline char *gh_ps_at(gh_parser_t *p, size_t off) { return p->arena + off; }
/* Append a field (key and value are copied). */
void gh_ps_add(gh_parser_t *p, const char *k, size_t kn, const char *v, size_t vn, unsigned flags);
/* Append a field whose value is already in the arena at vo. */
void gh_ps_add_vo(gh_parser_t *p, const char *k, size_t kn, size_t vo, size_t vn);
/* Index of the field named k, or -1. */
long gh_ps_find(gh_parser_t *p, const char *k, size_t kn);
/* Set field k to v (replacing the value, keeping the position) or append it. */
void gh_ps_set(gh_parser_t *p, const char *k, size_t kn, const char *v, size_t vn, unsigned flags);
void gh_ps_del(gh_parser_t *p, long idx);
static inline const char *gh_ps_key(gh_parser_t *p, long i) { return p->arena + p->pf[i].ko; }
static inline const char *gh_ps_val(gh_parser_t *p, long i) { return p->arena + p->pf[i].vo; }
static inline gh_pref_t gh_pref_ext(const char *s, size_t n) { gh_pref_t r = { s, 0, n }; return r; }
static inline gh_pref_t gh_pref_arena(size_t off, size_t n) { gh_pref_t r = { NULL, off, n }; return r; }
/* Make sure p->scratch holds at least n bytes; 0 or -1. */
int gh_ps_scratch(gh_parser_t *p, size_t n);

/* A key list for gh_ps_key_in: lengths kept so most keys are rejected on them. */
typedef struct { const char *k; size_t n; } gh_pkey_t;
#define GH_PKEY(s) { s, sizeof(s) - 1 }
/* 1 when k[0..kn) is one of keys (ended by a { NULL, 0 } entry). */
int gh_ps_key_in(const char *k, size_t kn, const gh_pkey_t *keys);
/* Index of the first field (in keys' order) named by one of keys, or -1. */
long gh_ps_find_first(gh_parser_t *p, const gh_pkey_t *keys);

/* ---- shared helpers (parse.c) ------------------------------------------ */
/* Level from a word ("ERROR", "warn", "crit", ...), -1 when not a level. */
int gh_ps_level_word(const char *s, size_t n);
/* Level from a level field's value: a word (also log15's "dbug"/"eror" and
 * glog's "I"/"W"/"E"), or a value that is wholly a number; -1 otherwise. */
int gh_ps_level_value(const char *v, size_t vn);
/* Level from a number: syslog 0..7 or pino/bunyan 10..60; -1 otherwise. */
int gh_ps_level_num(double v);
/* First level word in free text, else GH_LVL_INFO. */
int gh_ps_guess_level(const char *s, size_t n);
/* ISO 8601 / RFC 3339 date-time at s: "YYYY-MM-DD[T ]hh:mm[:ss[.frac]]
 * [Z|+hh:mm|+hhmm|+hh]"; no zone means UTC.  Returns bytes consumed, 0 when
 * s does not start with one. */
size_t gh_ps_iso8601(const char *s, size_t n, int64_t *ms);
/* Date-times written with month names at s: CLF "05/Mar/2024:07:08:09
 * +0100", RFC 2822 "[Tue, ]05 Mar 2024 07:08:09 GMT", ctime and Apache's
 * error log "[Tue ]Mar  5 07:08:09[.frac] 2024".  Returns bytes consumed, 0
 * when s does not start with one. */
size_t gh_ps_time_words(const char *s, size_t n, int64_t *ms);
/* Month "Jan".."Dec" (case-insensitive) -> 1..12, 0 when not a month. */
int gh_ps_month(const char *s, size_t n);
/* Year for a year-less date so the event is closest to now_ms and not more
 * than a day after it. */
int64_t gh_ps_infer_year_ms(int mon, int day, int hh, int mi, int ss, int msec, int64_t now_ms);
/* The same for the line being parsed, in its source's sequence: the first
 * year-less date of a source takes gh_ps_infer_year_ms(); later ones take
 * the year that puts them within half a year of the source's previous one
 * (Dec 31 then Jan 1 moves to the next year), so a file's dates never jump
 * back a year where the receive time's month falls inside the file.  The
 * source's memory is updated once the line parsed (gh_parse_line). */
int64_t gh_ps_year_ms(gh_parser_t *p, int mon, int day, int hh, int mi, int ss, int msec, int64_t now_ms);
/* Days from 1970-01-01 to a civil date, as gh_days_from_civil (clock.h),
 * through a one-entry per-thread memory: consecutive lines mostly carry the
 * same date, so the conversion runs once per date, not once per line. */
struct gh_ps_day_memo { int set; int64_t key, days; };
extern _Thread_local struct gh_ps_day_memo gh_ps_day_memo;
static inline int64_t gh_ps_days(int64_t y, unsigned m, unsigned d) {
    if (m >= 32 || d >= 128) return gh_days_from_civil(y, m, d);
    int64_t key = y * 4096 + (int64_t)(m * 128 + d);
    if (gh_ps_day_memo.set && gh_ps_day_memo.key == key) return gh_ps_day_memo.days;
    gh_ps_day_memo.days = gh_days_from_civil(y, m, d);
    gh_ps_day_memo.key = key;
    gh_ps_day_memo.set = 1;
    return gh_ps_day_memo.days;
}
/* Epoch number (s, ms, us or ns by magnitude) -> ms. */
int64_t gh_ps_epoch_ms(double v);
/* Parse a time given as text: ISO 8601, epoch digits or a few common forms. */
int gh_ps_time_text(const char *s, size_t n, int64_t now_ms, int64_t *ms);

/* ---- format parsers ----------------------------------------------------- */
int gh_ps_auditd(gh_parser_t *p, const char *line, size_t n);
int gh_ps_syslog5424(gh_parser_t *p, const char *line, size_t n);
int gh_ps_syslog3164(gh_parser_t *p, const char *line, size_t n, int64_t now_ms);
int gh_ps_json(gh_parser_t *p, const char *line, size_t n, int64_t now_ms);
int gh_ps_logfmt(gh_parser_t *p, const char *line, size_t n, int64_t now_ms);
int gh_ps_access(gh_parser_t *p, const char *line, size_t n);
void gh_ps_plain(gh_parser_t *p, const char *line, size_t n, int64_t now_ms);

/* ---- auditd tables (parse_tables.c) ------------------------------------- */
typedef struct { uint32_t v; const char *name; } gh_audit_name_t;
extern const gh_audit_name_t gh_audit_arches[];
const char *gh_audit_syscall_name(const char *arch, long nr);
const char *gh_audit_errno_name(long e);
const char *gh_audit_signal_name(long s);

#endif
