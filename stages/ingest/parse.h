/* parse.h -- ghost-ingest's line parser: one raw log line in, one normalised
 * gh_record_t out.
 *
 * Formats: Linux auditd, RFC 3164 and RFC 5424 syslog, JSON lines, logfmt,
 * nginx/Apache access logs (common and combined) and plain text.  The format
 * is detected per line, with a per-source memory of what was detected last so
 * the likely parser is tried first (a mixed stream still works), or forced for
 * every line.  A line in no known format becomes a GH_FMT_PLAIN record: the
 * parser never fails and never drops a line.
 *
 * Normalisation:
 *   ts     event time from the line (each format's own timestamp, zones,
 *          syslog's missing year); the receive time when the line has none.
 *          Timestamps without a zone are taken as UTC.
 *   level  syslog severity 0..7: from PRI for syslog; from level words
 *          (fatal/critical/crit -> crit, error/err -> err, warn/warning ->
 *          warning, notice, info, debug/trace -> debug, emerg, alert) and
 *          numeric levels (syslog 0..7, or pino/bunyan 10..60) for JSON and
 *          logfmt; from the status for access logs (5xx err, 4xx warning,
 *          else info); for auditd warning when the record failed
 *          (res=failed, success=no), is an ANOM_* record or an AVC denial,
 *          else info; for plain text the first level word in the line, else
 *          info.
 *   fields flat key/value strings; nested JSON objects become dotted keys;
 *          auditd records carry record_type, sequence, every parsed key
 *          (enriched like the reference go-libaudit parser: hex values
 *          decoded, arch/syscall/exit named, SELinux contexts split, unset ids,
 *          result) and "tags" for the rule key(s).
 *
 * A parser is not thread safe; use one per thread.
 */
#ifndef GH_INGEST_PARSE_H
#define GH_INGEST_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "gh_proto.h"

typedef struct gh_parser gh_parser_t;

/* Create a parser.  force_format is a gh_format_t to parse every line as that
 * format (lines that do not fit become plain records), or -1 to auto-detect.
 * Returns NULL when out of memory or when force_format is out of range. */
gh_parser_t *gh_parser_new(int force_format);

/* Free the parser and set *p to NULL; a NULL *p is a no-op. */
void gh_parser_destroy(gh_parser_t **p);

/* Whether records carry their fields (on, the default) or none (off).  Off
 * is for callers that drop the fields anyway: the parsers then extract only
 * what the record's ts, level, msg and host are read from, which is much
 * cheaper (auditd's enrichment, JSON's full flattening and most key/value
 * copies are skipped); ts, level, msg, host and format are the same either
 * way. */
void gh_parser_set_fields(gh_parser_t *p, int on);

/* Host reported for lines that carry none (auditd without node=, JSON
 * without host, access logs, plain text).  The string is copied; NULL or ""
 * means "" (the default). */
void gh_parser_set_default_host(gh_parser_t *p, const char *host);

/* Parse one line of n bytes (no newline, not NUL-terminated, any bytes) that
 * came from source.  Never fails.  now_ms is the receive time: used when the
 * line has no timestamp and to infer syslog's missing year.  Every string in
 * out points into parser-owned storage or into line/source and stays valid
 * until the next gh_parse_line() on this parser (or its destruction). */
void gh_parse_line(gh_parser_t *p, const char *source, size_t source_n, const char *line, size_t n,
                   int64_t now_ms, gh_record_t *out);

/* Read lines from in (any length, any bytes; "\n" or "\r\n" ends a line) and
 * print one JSON object per line to out: {"ts","host","source","format",
 * "level","msg","fields":{...}}, ts in RFC 3339 UTC with milliseconds.
 * Invalid UTF-8 is written as U+FFFD.  Returns the number of lines read, or
 * -1 on a read or write error (or when out of memory). */
long gh_parse_dump(gh_parser_t *p, FILE *in, const char *source, FILE *out);

#endif
