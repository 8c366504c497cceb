/* Rate limits: at most COUNT tasks of a queue, or of one function on a queue, start per
 * INTERVAL, fleet-wide.
 *
 * A limit is a token bucket kept in Redis (docs/PROTOCOL.md, "Rate limits"): it holds up to
 * `burst` tokens, refills at count per interval, and every claim of the queue takes one
 * token per task it starts, in the same atomic step, with time from Redis's clock. So every
 * worker of the namespace agrees, however many there are, and limits take effect at the next
 * claim, without restarting workers. Tasks over the limit are not lost and not retried in a
 * loop: over a queue limit they stay pending and the workers sleep until the next token;
 * over a function limit a task reserves the next token and waits for it `scheduled` (not
 * counted as a retry), while the queue's other functions run on.
 *
 * A function's limit belongs to one queue: `add` limited on "default" does not limit `add`
 * tasks on "high" (a queue's keys live in one Redis Cluster slot, and so do its limits).
 *
 * Calls are made on a connected client (client.h) and follow its conventions: a
 * spindle_status code, and on failure a message in spindle_errstr() that the next failing
 * call replaces. A synchronous client refuses them (there is no fleet to limit). */
#ifndef SPINDLE_LIMITS_H
#define SPINDLE_LIMITS_H

#include <stddef.h>

#include "spindle/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bounds of a limit: count and burst 1-SPINDLE_LIMIT_MAX_COUNT, interval 1 ms to 7 days. */
#define SPINDLE_LIMIT_MAX_COUNT 1000000L
#define SPINDLE_LIMIT_MAX_INTERVAL_MS 604800000L
/* Most limits one queue holds (its own and its functions'): every claim of a limited queue
 * reads each of their buckets. */
#define SPINDLE_LIMITS_PER_QUEUE 64

/* One limit, as listed. */
typedef struct spindle_rate_limit {
    char queue[129];  /* the queue: 1-128 bytes and a NUL */
    char func[129];   /* the function it limits on that queue; "" for the whole queue */
    long count;       /* tasks started... */
    long interval_ms; /* ...per this many ms */
    long burst;       /* the bucket's size: most tasks started at once after a quiet spell */
    /* 1: not a rate but the queue's single-file declaration (single_file.h), listed with its
     * limits since it is kept with them; func is "" and the numbers are 0. */
    int single_file;
} spindle_rate_limit;

/* Sets (or replaces) the limit of queue (func NULL or "") or of func on queue: count tasks per
 * interval_ms, with a bucket of burst tokens (0: count, one interval's worth). A replaced
 * limit keeps its bucket's tokens, capped at the new burst, and tasks already waiting for a
 * token keep their turn. SPINDLE_ERR_INVALID for a bad name or a number out of bounds (the
 * message says which), or when the queue has SPINDLE_LIMITS_PER_QUEUE limits already;
 * SPINDLE_ERR_REDIS for a limits key of the wrong type; SPINDLE_ERR_IO. One round trip, plus
 * one to register the queue in NS:queues if this client has not used it yet. */
int spindle_limit_set(spindle_client *c, const char *queue, const char *func, long count,
                      long interval_ms, long burst);

/* Removes the limit of queue (func NULL or "") or of func on queue, and its bucket. Tasks
 * waiting for a token it gave them keep their turn. SPINDLE_ERR_NOT_FOUND if there was none,
 * SPINDLE_ERR_INVALID for a bad name, SPINDLE_ERR_REDIS, SPINDLE_ERR_IO. One round trip. */
int spindle_limit_remove(spindle_client *c, const char *queue, const char *func);

/* Lists the limits of queue (NULL: of every queue in NS:queues), sorted by queue, then the
 * queue's own first, then by function. On success *out holds *n entries, or is NULL when there
 * are none; the caller frees it with spindle_limit_list_free(). On failure *out is NULL and
 * *n 0: SPINDLE_ERR_PROTOCOL for a spec in Redis that does not parse (written by hand; the
 * message names it), SPINDLE_ERR_INVALID, SPINDLE_ERR_REDIS, SPINDLE_ERR_IO,
 * SPINDLE_ERR_NOMEM. One round trip per queue, plus one for the queue names. A single-file
 * queue's declaration is listed after the queue's own rate (single_file 1). */
int spindle_limit_list(spindle_client *c, const char *queue, spindle_rate_limit **out, size_t *n);

/* Frees a list returned by spindle_limit_list(). NULL is a no-op. */
void spindle_limit_list_free(spindle_rate_limit *list);

/* Parses a rate as written by people: COUNT/INTERVAL, INTERVAL a unit (ms, s, m, h, d) with an
 * optional whole number before it: "50/s", "100/m", "10/500ms", "3/2h". Needs no client. On
 * success fills *count and *interval_ms (within the bounds above) and returns SPINDLE_OK;
 * else SPINDLE_ERR_INVALID with why it was refused in why (NUL-terminated, cut to why_cap). */
int spindle_limit_parse(const char *text, long *count, long *interval_ms, char *why,
                        size_t why_cap);

#ifdef __cplusplus
}
#endif
#endif
