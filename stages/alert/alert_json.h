/* alert_json.h -- the alert JSON line (issue 2's contract) built with jansson.
 *
 * One alert becomes one JSON object with the keys, in this order: id, kind,
 * state, key, template, class, host (only when set), start, end (RFC 3339
 * UTC with milliseconds), count, rate, baseline, score, examples (<= 3
 * strings), series (numbers, oldest first) and, for forecasts, forecast
 * {method, horizon_s, predicted, lower, upper, threshold, crosses_at}.
 * Strings that are not valid UTF-8 are repaired (each bad byte becomes
 * U+FFFD) so a hostile log line can never make the line unencodable;
 * non-finite numbers are written as null.
 */
#ifndef GH_ALERT_JSON_H
#define GH_ALERT_JSON_H
#include <jansson.h>
#include <stddef.h>
#include "gh_proto.h"

/* Returns a new JSON object for a (caller owns the reference), or NULL when
 * out of memory or when a has no id. */
json_t *gh_alert_json(const gh_alert_t *a);

/* Serialises a as one compact JSON line without the newline into *out
 * (malloc'ed, caller frees).  Returns 0, or -1 (nothing allocated). */
int gh_alert_to_json(const gh_alert_t *a, char **out);

/* The delivery identity of an alert object (its "id", "state", "end"):
 * the id for a firing alert, "ID/resolved" for its resolve, and
 * "ID/update@YYYYMMDDTHHMMSS" (from "end") for an update, because upstream
 * stages give every state of one incident the same id.  Dedup keys, outbox
 * fields and the ids listed in a Slack message are uids.  Writes into buf
 * (64 bytes are enough for 16-hex ids) and returns buf. */
char *gh_alert_uid(const json_t *alert, char *buf, size_t len);

/* A jansson string from n bytes that may not be UTF-8 (bad bytes become
 * U+FFFD).  Returns a new reference or NULL when out of memory. */
json_t *gh_json_string_lossy(const char *p, size_t n);
#endif
