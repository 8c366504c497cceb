/* Operator reads of the fleet (admin.h): a queue's dead letters and the live workers. The
 * store reads and decodes them (store/listing.c); this file checks the caller's input and
 * adds context to the message of a failure. */
#include "producer/client_impl.h"
#include "spindle/admin.h"
#include "store/listing.h"

int spindle_dead_list(spindle_client *c, const char *queue, size_t max, spindle_dead_letter **out,
                      size_t *n)
{
    *out = NULL;
    *n = 0;
    if (c->sync)
        return spindle_sync_refuse(c, "spindle_dead_list");
    int rc = spindle_name_check(queue, "queue", &c->err);
    if (rc != SPINDLE_OK)
        return rc;
    rc = spindle_store_dead_letters(&c->store, queue, max, out, n);
    if (rc != SPINDLE_OK)
        spindle_error_wrap(&c->err, "listing the dead letters of queue '%s': ", queue);
    return rc;
}

void spindle_dead_list_free(spindle_dead_letter *list, size_t n)
{
    spindle_store_free_dead(list, n);
}

int spindle_worker_list(spindle_client *c, spindle_worker_info **out, size_t *n)
{
    if (c->sync) {
        *out = NULL;
        *n = 0;
        return spindle_sync_refuse(c, "spindle_worker_list");
    }
    int rc = spindle_store_workers(&c->store, out, n);
    if (rc != SPINDLE_OK)
        spindle_error_wrap(&c->err, "listing the workers of namespace '%s': ", c->store.ns);
    return rc;
}

void spindle_worker_list_free(spindle_worker_info *list, size_t n)
{
    spindle_store_free_workers(list, n);
}
