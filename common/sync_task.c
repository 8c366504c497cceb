/* The in-memory task record of a synchronous client (sync_task.h). */
#include "common/sync_task.h"

#include <stdlib.h>
#include <string.h>

#include "spindle/status.h"

int spindle_sync_task_add_item(struct spindle_sync_task *t, const void *data, size_t len)
{
    if (t->nitems == t->capitems) {
        size_t cap = t->capitems ? t->capitems * 2 : 8;
        spindle_sync_item *v = realloc(t->items, cap * sizeof(*v));
        if (v == NULL)
            return SPINDLE_ERR_NOMEM;
        t->items = v;
        t->capitems = cap;
    }
    char *copy = malloc(len ? len : 1);
    if (copy == NULL)
        return SPINDLE_ERR_NOMEM;
    if (len)
        memcpy(copy, data, len);
    t->items[t->nitems++] = (spindle_sync_item){.data = copy, .len = len, .attempt = t->attempts};
    return SPINDLE_OK;
}

void spindle_sync_task_free(struct spindle_sync_task *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nitems; i++)
        free(t->items[i].data);
    free(t->items);
    free(t->args);
    free(t->result);
    free(t->error);
    free(t->pinfo);
    free(t);
}
