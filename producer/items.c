/* Reading a task's items (progress.h): a reader follows the task's stream from its first
 * entry, in order, until the end entry that finish() appends when the task ends.
 *
 * Why this cannot miss the end or wait past it: items are written while the task runs,
 * before it settles, and the end entry in the same script that makes the task final, for
 * every task marked `items` (by its first item or by a reader's open). So once a reader
 * has opened the stream, the task's end wakes its XREAD. A task that ended some other way
 * (the mark removed by a retry, the stream expired or edited by hand) is caught by looking
 * at the task's state whenever a read comes back empty: a final state and nothing left to
 * read is the end too.
 *
 * A synchronous client's reader (sync.h) reads the task's in-memory record instead: its task
 * is always final by the time a reader exists, so the reader gives the record's items in
 * order, then the end, and never waits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/msgpack_check.h"
#include "common/sync_task.h"
#include "producer/client_impl.h"
#include "spindle/progress.h"
#include "store/ops.h"

/* A reader that waits "forever" still looks at the task's state this often (ms), in case
 * its end entry never comes (see above). */
#define ITEMS_SLICE_MS 10000
/* Entries fetched per XREAD: items then cost one round trip per this many. */
#define ITEMS_BATCH 64
/* Room for a stream entry id, "MS-SEQ": two 64-bit decimals and a dash. */
#define ENTRY_ID_MAX 48

struct spindle_items_reader {
    char id[SPINDLE_ID_LEN + 1];
    char queue[SPINDLE_NAME_MAX + 1];
    char last[ENTRY_ID_MAX]; /* the last entry read: the next XREAD starts after it */
    redisReply *batch;       /* owns entries */
    const redisReply *entries;
    size_t next;
    int ended;
    spindle_state final;
    int sync;         /* a synchronous client's reader: reads the task's record */
    size_t sync_next; /* its next item in the record */
};

struct spindle_item {
    char *raw;
    size_t len;
    msgpack_unpacked value;
    long attempt;
    char id[ENTRY_ID_MAX];
};

static void drop_batch(spindle_items_reader *r)
{
    if (r->batch)
        freeReplyObject(r->batch);
    r->batch = NULL;
    r->entries = NULL;
    r->next = 0;
}

/* The value of field in an entry's field list, or NULL. */
static const redisReply *entry_field(const redisReply *fields, const char *name)
{
    for (size_t i = 0; i + 1 < fields->elements; i += 2)
        if (strcmp(fields->element[i]->str, name) == 0)
            return fields->element[i + 1];
    return NULL;
}

/* An item holding a copy of data[0..len), checked to be one msgpack value. */
static int make_item(spindle_client *c, const spindle_items_reader *r, const char *eid,
                     const char *data, size_t len, long attempt, spindle_item **out)
{
    const char *bad = spindle_msgpack_check(data, len, SPINDLE_MSGPACK_MAX_DEPTH);
    if (bad)
        return spindle_error_set(&c->err, SPINDLE_ERR_PROTOCOL,
                                 "item %s of task %s is %s (%zu bytes); skipped", eid, r->id, bad,
                                 len);
    spindle_item *it = calloc(1, sizeof(*it));
    if (it == NULL || (it->raw = malloc(len)) == NULL) {
        free(it);
        return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "item %s of task %s: out of memory",
                                 eid, r->id);
    }
    memcpy(it->raw, data, len);
    it->len = len;
    it->attempt = attempt;
    snprintf(it->id, sizeof(it->id), "%s", eid);
    msgpack_unpacked_init(&it->value);
    size_t off = 0;
    if (msgpack_unpack_next(&it->value, it->raw, it->len, &off) != MSGPACK_UNPACK_SUCCESS) {
        spindle_item_free(it);
        return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM,
                                 "item %s of task %s: out of memory decoding it", eid, r->id);
    }
    *out = it;
    return SPINDLE_OK;
}

/* Consumes the next entry of the batch: an item, the end (OK, *out NULL, r->ended), or an
 * entry that is neither (SPINDLE_ERR_PROTOCOL, skipped). */
static int take(spindle_client *c, spindle_items_reader *r, spindle_item **out)
{
    const redisReply *e = r->entries->element[r->next++];
    const char *eid = e->element[0]->str;
    snprintf(r->last, sizeof(r->last), "%s", eid);
    const redisReply *fields = e->element[1];
    const redisReply *end = entry_field(fields, "end");
    if (end) {
        r->ended = 1;
        if (spindle_state_parse(end->str, end->len, &r->final) != SPINDLE_OK ||
            !spindle_state_is_final(r->final))
            r->final = SPINDLE_STATE_RUNNING;
        drop_batch(r);
        return SPINDLE_OK;
    }
    const redisReply *v = entry_field(fields, "v");
    if (v == NULL)
        return spindle_error_set(&c->err, SPINDLE_ERR_PROTOCOL,
                                 "entry %s in the items of task %s has neither 'v' nor 'end'; "
                                 "skipped",
                                 eid, r->id);
    const redisReply *a = entry_field(fields, "a");
    return make_item(c, r, eid, v->str, v->len, a ? strtol(a->str, NULL, 10) : 0, out);
}

static int read_batch(spindle_client *c, spindle_items_reader *r, long block_ms)
{
    drop_batch(r);
    return spindle_store_items_read(&c->store, r->queue, r->id, r->last, block_ms, ITEMS_BATCH,
                                    &r->batch, &r->entries);
}

/* After an empty read: if the task is final (or gone) and nothing is left, the reader has
 * ended. Also marks the task again if a retry removed the mark. */
static int look_at_task(spindle_client *c, spindle_items_reader *r)
{
    char state[16];
    int has = 0;
    int rc = spindle_store_items_open(&c->store, r->queue, r->id, state, &has);
    if (rc != SPINDLE_OK)
        return rc;
    spindle_state st = SPINDLE_STATE_RUNNING;
    int gone = state[0] == '\0';
    if (!gone && (spindle_state_parse(state, strlen(state), &st) != SPINDLE_OK ||
                  !spindle_state_is_final(st)))
        return SPINDLE_OK;
    /* Final: what was written before it is readable now. */
    rc = read_batch(c, r, 0);
    if (rc != SPINDLE_OK || r->entries)
        return rc;
    r->ended = 1;
    r->final = gone ? SPINDLE_STATE_RUNNING : st;
    return SPINDLE_OK;
}

/* The next item of a synchronous client's task, then its end. The record is looked up on
 * every call, since a retry may have run the task again (and added items) meanwhile. Item
 * ids are stream-shaped, "0-N" for the Nth item, so they still sort in emit order. */
static int sync_next(spindle_client *c, spindle_items_reader *r, spindle_item **out)
{
    const struct spindle_sync_task *t = spindle_sync_record(c, r->id, r->queue);
    if (t == NULL)
        return SPINDLE_ERR_NOT_FOUND;
    if (r->sync_next >= t->nitems) {
        r->ended = 1;
        r->final = t->state;
        return SPINDLE_OK;
    }
    const spindle_sync_item *src = &t->items[r->sync_next++];
    char eid[ENTRY_ID_MAX];
    snprintf(eid, sizeof(eid), "0-%zu", r->sync_next);
    snprintf(r->last, sizeof(r->last), "%s", eid);
    return make_item(c, r, eid, src->data, src->len, src->attempt, out);
}

int spindle_items_open(spindle_client *c, const spindle_handle *h, spindle_items_reader **out)
{
    *out = NULL;
    char state[16] = "";
    int has = 0;
    const struct spindle_sync_task *t = NULL;
    if (c->sync) {
        if ((t = spindle_sync_record(c, h->id, h->queue)) == NULL)
            return SPINDLE_ERR_NOT_FOUND;
        snprintf(state, sizeof(state), "%s", spindle_state_name(t->state));
        has = t->nitems > 0;
    } else {
        int rc = spindle_store_items_open(&c->store, h->queue, h->id, state, &has);
        if (rc != SPINDLE_OK)
            return rc;
    }
    spindle_items_reader *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "items of %s: out of memory", h->id);
    snprintf(r->id, sizeof(r->id), "%s", h->id);
    snprintf(r->queue, sizeof(r->queue), "%s", h->queue);
    snprintf(r->last, sizeof(r->last), "0-0");
    r->final = SPINDLE_STATE_RUNNING;
    r->sync = t != NULL;
    spindle_state st;
    if (!has && spindle_state_parse(state, strlen(state), &st) == SPINDLE_OK &&
        spindle_state_is_final(st)) {
        r->ended = 1; /* ended without a single item */
        r->final = st;
    }
    *out = r;
    return SPINDLE_OK;
}

int spindle_items_next(spindle_client *c, spindle_items_reader *r, long timeout_ms,
                       spindle_item **out)
{
    *out = NULL;
    int64_t deadline = spindle_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        if (r->ended)
            return SPINDLE_OK;
        if (r->sync)
            return sync_next(c, r, out);
        if (r->entries && r->next < r->entries->elements)
            return take(c, r, out);
        long block = spindle_slice_ms(deadline, timeout_ms, ITEMS_SLICE_MS);
        int rc = read_batch(c, r, block);
        if (rc != SPINDLE_OK)
            return rc;
        if (r->entries)
            continue;
        if ((rc = look_at_task(c, r)) != SPINDLE_OK)
            return rc;
        if (r->ended || r->entries)
            continue;
        if (timeout_ms >= 0 && spindle_mono_ms() >= deadline)
            return spindle_error_set(&c->err, SPINDLE_ERR_TIMEOUT,
                                     "no item of task %s within %ld ms", r->id, timeout_ms);
    }
}

int spindle_items_ended(const spindle_items_reader *r)
{
    return r->ended;
}

spindle_state spindle_items_final_state(const spindle_items_reader *r)
{
    return r->final;
}

void spindle_items_close(spindle_items_reader *r)
{
    if (r == NULL)
        return;
    drop_batch(r);
    free(r);
}

const msgpack_object *spindle_item_value(const spindle_item *it)
{
    return &it->value.data;
}

const char *spindle_item_raw(const spindle_item *it, size_t *len)
{
    *len = it->len;
    return it->raw;
}

long spindle_item_attempt(const spindle_item *it)
{
    return it->attempt;
}

const char *spindle_item_id(const spindle_item *it)
{
    return it->id;
}

void spindle_item_free(spindle_item *it)
{
    if (it == NULL)
        return;
    msgpack_unpacked_destroy(&it->value);
    free(it->raw);
    free(it);
}
