/* Periodic tasks in Redis: the table of entries (NS:{cron}:...) and the steps that fire a
 * tick (store/script_cron.c says why a tick takes a claim, an enqueue and a done). Each call
 * is one script call; failures go to the store's error record. */
#ifndef SPINDLE_STORE_CRON_H
#define SPINDLE_STORE_CRON_H

#include <stddef.h>
#include <stdint.h>

#include "common/cron.h"
#include "common/names.h"
#include "store/conn.h"
#include "store/ops.h"

/* An entry's definition as written (validated by the caller). */
typedef struct spindle_cron_def {
    const char *name, *spec, *func, *queue;
    const char *args; /* one msgpack array */
    size_t args_len;
    int catch_up;
    spindle_task_opts opts;
} spindle_cron_def;

/* An entry as read back, validated field by field: error says why it cannot be fired (a
 * hash damaged by hand), "" when it can. */
typedef struct spindle_cron_row {
    char name[SPINDLE_NAME_MAX + 1];
    char spec[SPINDLE_CRON_SPEC_MAX + 1];
    char func[SPINDLE_NAME_MAX + 1];
    char queue[SPINDLE_NAME_MAX + 1];
    char *args; /* malloc'd msgpack array */
    size_t args_len;
    int catch_up;
    spindle_task_opts opts;
    char rev[24];      /* the definition's revision, passed back when firing */
    int64_t last_tick; /* last tick claimed (its time, ms) */
    int64_t last_run;  /* when it was claimed, 0: never */
    int64_t pending;   /* a claimed tick not yet confirmed enqueued, 0: none */
    char last_task[SPINDLE_ID_LEN + 1];
    spindle_cron_spec parsed;
    char error[160];
} spindle_cron_row;

/* Validates a public entry into d, which borrows its strings (args: a static empty array
 * when e has none). SPINDLE_ERR_INVALID with err naming the entry and what is wrong. */
struct spindle_cron_entry;
int spindle_cron_def_from_entry(const struct spindle_cron_entry *e, spindle_cron_def *d,
                                spindle_error *err);

/* Adds or replaces an entry. *what (may be NULL): 0 added, 1 replaced, 2 unchanged. */
int spindle_store_cron_set(spindle_store *s, const spindle_cron_def *d, int *what);
/* Removes an entry; *removed is 1 if it existed. */
int spindle_store_cron_remove(spindle_store *s, const char *name, int *removed);
/* Reads every entry into *rows[0..*n) (caller frees with spindle_store_cron_rows_free()),
 * and Redis's clock into *now_ms. */
int spindle_store_cron_read(spindle_store *s, spindle_cron_row **rows, size_t *n, int64_t *now_ms);
void spindle_store_cron_rows_free(spindle_cron_row *rows, size_t n);

/* What a claim of a tick answered. */
enum spindle_cron_claim {
    SPINDLE_CRON_CLAIMED, /* this caller won the tick: enqueue it, then done */
    SPINDLE_CRON_TAKEN,   /* the tick (or a later one, *value) was claimed already */
    SPINDLE_CRON_PENDING, /* tick *value was claimed but not confirmed: finish it first */
    SPINDLE_CRON_EARLY,   /* the tick is after Redis's now */
    SPINDLE_CRON_CHANGED, /* the entry was replaced since it was read: read it again */
    SPINDLE_CRON_MISSING, /* the entry was removed */
};

/* Claims tick of the entry read as row (its rev), recording next (the tick after it) and the
 * task id. *value as above; *now_ms gets Redis's clock (unchanged for CHANGED/MISSING). */
int spindle_store_cron_fire(spindle_store *s, const spindle_cron_row *row, int64_t tick,
                            int64_t next, const char *id, enum spindle_cron_claim *what,
                            int64_t *value, int64_t *now_ms);
/* Clears the entry's pending tick if it is tick. */
int spindle_store_cron_done(spindle_store *s, const char *name, int64_t tick);
/* Enqueues tick's task (id) on the entry's queue unless it was already: *created is 1 if
 * this call created it. */
int spindle_store_cron_enqueue(spindle_store *s, const spindle_cron_row *row, int64_t tick,
                               const char *id, int *created);

#endif
