/* Periodic tasks: named entries that enqueue a function on a cron schedule, kept in Redis
 * so that the whole fleet shares them, and fired by the workers' supervisors exactly once per
 * tick fleet-wide (docs/PROTOCOL.md, "Periodic tasks").
 *
 * Specs are evaluated in UTC: five fields `minute hour day-of-month month day-of-week`
 * (lists, ranges, steps, JAN-DEC and SUN-SAT names; both day fields restricted means either
 * may match), `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`, or `@every D` (D like
 * 30s, 5m, 1h30m, 1500ms; at least 1 s; ticks on multiples of D since the epoch).
 *
 * A tick is fired if a supervisor sees it at most SPINDLE_CRON_GRACE_MS late. Ticks that pass
 * while no worker runs (downtime) are skipped, unless the entry asks to catch up: then up to
 * catch_up of the most recent missed ticks are fired late, oldest first, each once.
 *
 * Calls take a Redis client (a synchronous client answers SPINDLE_ERR_INVALID), return a
 * spindle_status and leave their message in spindle_errstr(c). */
#ifndef SPINDLE_CRON_H
#define SPINDLE_CRON_H

#include <stddef.h>
#include <stdint.h>

#include "spindle/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A tick seen later than this after its time (ms) counts as missed: fired only by an entry
 * that catches up. One minute: a supervisor looks about every 50 ms, so only downtime (no
 * worker running, Redis unreachable) makes a tick this late. */
#define SPINDLE_CRON_GRACE_MS 60000
/* Most missed ticks an entry may catch up on after downtime. */
#define SPINDLE_CRON_MAX_CATCH_UP 100

/* One entry. Initialize with spindle_cron_entry_init(). Pointers are borrowed by the call. */
typedef struct spindle_cron_entry {
    const char *name; /* 1-128 bytes of [A-Za-z0-9_.:-], unique in the namespace */
    const char *spec; /* the schedule, see above */
    const char *func; /* the function enqueued at each tick */
    const void *args; /* one msgpack array (NULL/0: no arguments) */
    size_t args_len;
    /* The enqueue options of every task it enqueues: queue (NULL: "default"), result TTL,
     * timeout, retries and back-off, as for spindle_enqueue(). */
    spindle_enqueue_options opts;
    /* 0 (default): ticks missed during downtime are skipped. 1..SPINDLE_CRON_MAX_CATCH_UP:
     * up to that many of the latest missed ticks are fired when a worker runs again. */
    int catch_up;
} spindle_cron_entry;

void spindle_cron_entry_init(spindle_cron_entry *e);

/* Checks a spec without Redis. SPINDLE_ERR_INVALID with a message naming the bad field
 * into err (size errlen, may be NULL) if it is malformed or never fires. */
int spindle_cron_check(const char *spec, char *err, size_t errlen);
/* The first tick of spec strictly after after_ms (ms since the epoch, UTC) into *next_ms.
 * SPINDLE_ERR_INVALID for a bad spec (message in err as above). */
int spindle_cron_next_after(const char *spec, int64_t after_ms, int64_t *next_ms, char *err,
                            size_t errlen);

/* Adds the entry, or replaces the one of the same name (its last run is kept, so a tick
 * already fired is never fired again). Everything is validated first: a bad name, spec,
 * function, args or option is SPINDLE_ERR_INVALID and nothing is written. The fleet's
 * workers pick the change up at once. *replaced (may be NULL) is 1 if an entry of that name
 * existed. One round trip. */
int spindle_cron_set(spindle_client *c, const spindle_cron_entry *e, int *replaced);

/* Removes the entry: no tick of it fires after this returns (a task already enqueued
 * stays). SPINDLE_ERR_NOT_FOUND if there is none of that name. */
int spindle_cron_remove(spindle_client *c, const char *name);

/* An entry as stored, for listings. */
typedef struct spindle_cron_info {
    char name[129];
    char spec[257];
    char func[129];
    char queue[129];
    char *args; /* msgpack array (malloc'd, freed by spindle_cron_list_free()) */
    size_t args_len;
    int catch_up;
    int64_t last_tick_ms; /* the last tick fired (its scheduled time), 0: never */
    int64_t last_run_ms;  /* when it was fired (Redis's clock), 0: never */
    char last_task[37];   /* the id of the task the last tick enqueued, "" if none */
    int64_t next_ms;      /* the next tick after now (Redis's clock); -1: spec is invalid */
    char error[160];      /* why the entry is unusable (bad spec or field), "" if it is fine */
} spindle_cron_info;

/* Lists every entry, sorted by name, into *out[0..*n) (caller frees with
 * spindle_cron_list_free(); *out is NULL when there are none). An entry damaged by hand is
 * listed with its error set. */
int spindle_cron_list(spindle_client *c, spindle_cron_info **out, size_t *n);
void spindle_cron_list_free(spindle_cron_info *list, size_t n);

#ifdef __cplusplus
}
#endif
#endif
