/* Cron expressions and the times they fire at: a pure parser and calculator (no I/O, no
 * clock), shared by the worker (which fires entries), the client and the CLI (which validate
 * and list them), and tested on their own.
 *
 * Why pure and in milliseconds of Redis's clock: every supervisor of a fleet must agree on
 * which tick is due, so a tick is a function of the spec and a time only, and the time is
 * Redis's (TIME), never the host's. All times are UTC: no time zone, no daylight saving, so a
 * tick can neither be skipped nor happen twice in a night.
 *
 * Grammar (docs/PROTOCOL.md, "Periodic tasks"):
 *   - five fields `minute hour day-of-month month day-of-week`, each a comma list of `*`, `N`
 *     or `N-M`, optionally with a step `/S` (`*\/15`, `1-30/2`, `5/10` = 5-max/10); months
 *     JAN-DEC and days SUN-SAT by name (any case), day-of-week 7 also Sunday. When both day
 *     fields are restricted (neither starts with `*`), a day matches if EITHER does (the
 *     usual cron rule); otherwise both must.
 *   - `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`), `@hourly`.
 *   - `@every D`: D one or more NUMBER UNIT pairs (`30s`, `1h30m`, `1500ms`; units ms, s, m,
 *     h, d), at least 1 s and at most 366 d. Ticks fall on multiples of D since the Unix epoch,
 *     so every host computes the same ones (`@every 1h` fires on the hour). */
#ifndef SPINDLE_COMMON_CRON_H
#define SPINDLE_COMMON_CRON_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Longest spec text accepted (bytes). */
#define SPINDLE_CRON_SPEC_MAX 256
/* Shortest and longest @every interval (ms). */
#define SPINDLE_CRON_EVERY_MIN_MS 1000
#define SPINDLE_CRON_EVERY_MAX_MS (366LL * 86400 * 1000)

typedef struct spindle_cron_spec {
    int64_t every_ms; /* > 0: an @every interval, and the fields below are unused */
    uint64_t minutes; /* bit m: minute m (0-59) */
    uint32_t hours;   /* bit h (0-23) */
    uint32_t mdays;   /* bit d (1-31) */
    uint32_t months;  /* bit m (1-12) */
    uint32_t wdays;   /* bit d (0-6, Sunday 0) */
    int mday_any;     /* the day-of-month field started with '*' */
    int wday_any;     /* the day-of-week field started with '*' */
} spindle_cron_spec;

/* Parses text into *out. SPINDLE_ERR_INVALID with a message naming the spec, the field and
 * what is wrong in it ("cron spec '61 * * * *': minute field '61': 61 is out of range 0-59");
 * a spec that can never fire (`0 0 30 2 *`) is refused too. */
int spindle_cron_parse(const char *text, spindle_cron_spec *out, spindle_error *err);

/* The first tick strictly after after_ms (ms since the epoch, UTC), or -1 if there is none
 * within 8 years (only for a spec that never fires, which the parser refuses). */
int64_t spindle_cron_next(const spindle_cron_spec *s, int64_t after_ms);

/* The ticks to fire now, for an entry whose last fired tick is last_ms, at time now_ms:
 * the ticks in (last_ms, now_ms], where the newest is fired if it is at most grace_ms late
 * and at most catch_up older ones (missed: their time passed while nobody fired them) are
 * fired too, newest first in choice, written into out[0..*n) oldest first. cap must be at
 * least catch_up + 1. The cost is about (catch_up + 1) * log(now - last) steps, however long
 * ago last_ms was. */
void spindle_cron_due(const spindle_cron_spec *s, int64_t last_ms, int64_t now_ms, int64_t grace_ms,
                      int catch_up, int64_t *out, size_t cap, size_t *n);

/* The id of the task that the tick tick_ms of entry name (namespace ns) enqueues: lowercase
 * UUID text (version 8, "custom") from a 128-bit hash of the three, so that every supervisor
 * derives the same id and an enqueue run twice finds the task it made. out has room for 37
 * bytes. */
void spindle_cron_task_id(const char *ns, const char *name, int64_t tick_ms, char *out);

/* Splits a worker's `--cron` line "NAME=SPEC FUNC [ARGS...]" in place: *name, *spec (one
 * token for @-shortcuts, two for "@every D", else five, joined by single spaces in
 * spec_buf of size SPINDLE_CRON_SPEC_MAX), *func, and the argument words into args[0..*nargs)
 * (at most cap). Pointers point into line or spec_buf. SPINDLE_ERR_INVALID with a message
 * saying what is missing. Does not check the names or the spec. */
int spindle_cron_split_line(char *line, char **name, char *spec_buf, char **func, char **args,
                            size_t cap, size_t *nargs, spindle_error *err);

#endif
