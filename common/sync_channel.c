/* The in-memory channels of a synchronous client (sync_channel.h). Each queue is an array
 * read from a head index and compacted when the writer reaches its end, so a queue costs
 * no more than the messages it holds plus the room that was once needed. */
#include "common/sync_channel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/names.h"
#include "spindle/status.h"

typedef struct sync_queue {
    spindle_message *m;
    size_t head, end, cap; /* messages are m[head..end) */
    long capacity;         /* the channel's bound, in messages */
} sync_queue;

struct spindle_sync_chan {
    spindle_scope scope;
    char name[SPINDLE_NAME_MAX + 1];
    sync_queue q[2]; /* indexed by spindle_sync_dir */
    int event;
};

static const char *dir_text(spindle_sync_dir dir)
{
    return dir == SPINDLE_SYNC_IN ? "input" : "output";
}

/* How messages name a channel: as the Redis channels do. */
static void label(spindle_scope scope, const char *name, char *buf, size_t size)
{
    if (scope == SPINDLE_SCOPE_TASK)
        snprintf(buf, size, "channel of task %s", name);
    else if (scope == SPINDLE_SCOPE_GROUP)
        snprintf(buf, size, "channel of group '%s'", name);
    else
        snprintf(buf, size, "global channel");
}

static size_t find_at(const spindle_sync_chans *t, spindle_scope scope, const char *name)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct spindle_sync_chan *ch = t->v[i];
        if (ch->scope == scope && (scope == SPINDLE_SCOPE_GLOBAL || strcmp(ch->name, name) == 0))
            return i;
    }
    return t->n;
}

/* The channel, or NULL with SPINDLE_ERR_NOT_FOUND in err. */
static struct spindle_sync_chan *find(spindle_sync_chans *t, spindle_scope scope, const char *name,
                                      spindle_error *err)
{
    size_t i = find_at(t, scope, name);
    if (i < t->n)
        return t->v[i];
    char l[SPINDLE_NAME_MAX + 64];
    label(scope, name, l, sizeof(l));
    if (scope == SPINDLE_SCOPE_TASK)
        spindle_error_set(err, SPINDLE_ERR_NOT_FOUND,
                          "%s not created: create it first (in a synchronous client a task "
                          "runs inside enqueue, before its own channel can be created; "
                          "created afterwards, it is seen by a spindle_retry())",
                          l);
    else
        spindle_error_set(err, SPINDLE_ERR_NOT_FOUND, "%s not created: create it first", l);
    return NULL;
}

int spindle_sync_chan_create(spindle_sync_chans *t, spindle_scope scope, const char *name,
                             long cap_in, long cap_out, spindle_error *err)
{
    size_t i = find_at(t, scope, name);
    if (i == t->n) {
        if (t->n == t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 8;
            struct spindle_sync_chan **v = realloc(t->v, cap * sizeof(*v));
            if (v == NULL)
                return spindle_error_set(err, SPINDLE_ERR_NOMEM,
                                         "creating a channel: out of memory");
            t->v = v;
            t->cap = cap;
        }
        struct spindle_sync_chan *ch = calloc(1, sizeof(*ch));
        if (ch == NULL)
            return spindle_error_set(err, SPINDLE_ERR_NOMEM, "creating a channel: out of memory");
        ch->scope = scope;
        snprintf(ch->name, sizeof(ch->name), "%s", scope == SPINDLE_SCOPE_GLOBAL ? "" : name);
        t->v[t->n++] = ch;
    }
    t->v[i]->q[SPINDLE_SYNC_IN].capacity = cap_in;
    t->v[i]->q[SPINDLE_SYNC_OUT].capacity = cap_out;
    return SPINDLE_OK;
}

int spindle_sync_chan_push(spindle_sync_chans *t, spindle_scope scope, const char *name,
                           spindle_sync_dir dir, const void *data, size_t len, spindle_error *err)
{
    struct spindle_sync_chan *ch = find(t, scope, name, err);
    if (ch == NULL)
        return SPINDLE_ERR_NOT_FOUND;
    sync_queue *q = &ch->q[dir];
    char l[SPINDLE_NAME_MAX + 64];
    label(scope, name, l, sizeof(l));
    if ((long)(q->end - q->head) >= q->capacity)
        return spindle_error_set(err, SPINDLE_ERR_FULL,
                                 "%s: %s queue is full (capacity %ld); nothing written", l,
                                 dir_text(dir), q->capacity);
    if (q->end == q->cap && q->head > 0) {
        memmove(q->m, q->m + q->head, (q->end - q->head) * sizeof(*q->m));
        q->end -= q->head;
        q->head = 0;
    }
    if (q->end == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        spindle_message *m = realloc(q->m, cap * sizeof(*m));
        if (m == NULL)
            return spindle_error_set(err, SPINDLE_ERR_NOMEM, "%s: out of memory writing", l);
        q->m = m;
        q->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return spindle_error_set(err, SPINDLE_ERR_NOMEM,
                                 "%s: out of memory writing a message of %zu bytes", l, len);
    if (len)
        memcpy(copy, data, len);
    copy[len] = '\0';
    q->m[q->end++] = (spindle_message){.data = copy, .len = len};
    return SPINDLE_OK;
}

int spindle_sync_chan_pop(spindle_sync_chans *t, spindle_scope scope, const char *name,
                          spindle_sync_dir dir, long timeout_ms, spindle_message *out,
                          spindle_error *err)
{
    memset(out, 0, sizeof(*out));
    struct spindle_sync_chan *ch = find(t, scope, name, err);
    if (ch == NULL)
        return SPINDLE_ERR_NOT_FOUND;
    sync_queue *q = &ch->q[dir];
    if (q->head == q->end) {
        char l[SPINDLE_NAME_MAX + 64];
        label(scope, name, l, sizeof(l));
        return spindle_error_set(err, SPINDLE_ERR_TIMEOUT,
                                 "%s: no message in the %s queue (timeout %ld ms not waited: in "
                                 "a synchronous client nothing can write to it meanwhile)",
                                 l, dir_text(dir), timeout_ms);
    }
    *out = q->m[q->head++];
    if (q->head == q->end)
        q->head = q->end = 0;
    return SPINDLE_OK;
}

int spindle_sync_chan_pop_all(spindle_sync_chans *t, spindle_scope scope, const char *name,
                              spindle_sync_dir dir, spindle_message **msgs, size_t *n,
                              spindle_error *err)
{
    *msgs = NULL;
    *n = 0;
    struct spindle_sync_chan *ch = find(t, scope, name, err);
    if (ch == NULL)
        return SPINDLE_ERR_NOT_FOUND;
    sync_queue *q = &ch->q[dir];
    size_t count = q->end - q->head;
    if (count == 0)
        return SPINDLE_OK;
    *msgs = malloc(count * sizeof(**msgs));
    if (*msgs == NULL) {
        char l[SPINDLE_NAME_MAX + 64];
        label(scope, name, l, sizeof(l));
        return spindle_error_set(err, SPINDLE_ERR_NOMEM,
                                 "%s: out of memory reading %zu messages (none taken)", l, count);
    }
    memcpy(*msgs, q->m + q->head, count * sizeof(**msgs));
    *n = count;
    q->head = q->end = 0;
    return SPINDLE_OK;
}

int spindle_sync_chan_event(spindle_sync_chans *t, spindle_scope scope, const char *name, int op,
                            int *set, spindle_error *err)
{
    struct spindle_sync_chan *ch = find(t, scope, name, err);
    if (ch == NULL)
        return SPINDLE_ERR_NOT_FOUND;
    if (op != 0)
        ch->event = op > 0;
    if (set)
        *set = ch->event;
    return SPINDLE_OK;
}

static void chan_free(struct spindle_sync_chan *ch)
{
    for (int d = 0; d < 2; d++) {
        sync_queue *q = &ch->q[d];
        for (size_t i = q->head; i < q->end; i++)
            free(q->m[i].data);
        free(q->m);
    }
    free(ch);
}

void spindle_sync_chan_delete(spindle_sync_chans *t, spindle_scope scope, const char *name,
                              int *existed)
{
    size_t i = find_at(t, scope, name);
    if (existed)
        *existed = i < t->n;
    if (i == t->n)
        return;
    chan_free(t->v[i]);
    t->v[i] = t->v[--t->n];
}

void spindle_sync_chans_free(spindle_sync_chans *t)
{
    for (size_t i = 0; i < t->n; i++)
        chan_free(t->v[i]);
    free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}
