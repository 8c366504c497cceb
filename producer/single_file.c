/* Single-file queues (single_file.h): checks the caller's input and words the errors; the
 * store does the Redis work (store/serial.c). */
#include <stdio.h>
#include <string.h>

#include "common/names.h"
#include "producer/client_impl.h"
#include "spindle/single_file.h"
#include "store/serial.h"

/* The store's answer into the public struct. */
static void copy_status(spindle_single_file_status *out, const spindle_store_serial *st)
{
    out->on = st->on;
    snprintf(out->holder, sizeof(out->holder), "%s", st->holder);
    out->lease_ms = st->lease_ms;
}

int spindle_queue_single_file(spindle_client *c, const char *queue, int on)
{
    if (c->sync)
        return spindle_sync_refuse(c, "spindle_queue_single_file");
    int rc = spindle_name_check(queue, "queue", &c->err);
    if (rc != SPINDLE_OK)
        return rc;
    spindle_store_serial st;
    rc = spindle_client_register_queue(c, queue);
    if (rc == SPINDLE_OK)
        rc = spindle_store_single_file(&c->store, queue, on ? "on" : "off", &st);
    if (rc != SPINDLE_OK)
        return spindle_error_wrap(&c->err, "making queue '%s' %s: ", queue,
                                  on ? "single-file" : "no longer single-file");
    return SPINDLE_OK;
}

int spindle_queue_single_file_status(spindle_client *c, const char *queue,
                                     spindle_single_file_status *out)
{
    memset(out, 0, sizeof(*out));
    out->lease_ms = -1;
    if (c->sync)
        return spindle_sync_refuse(c, "spindle_queue_single_file_status");
    int rc = spindle_name_check(queue, "queue", &c->err);
    if (rc != SPINDLE_OK)
        return rc;
    spindle_store_serial st;
    rc = spindle_store_single_file(&c->store, queue, "get", &st);
    if (rc != SPINDLE_OK)
        return spindle_error_wrap(&c->err, "reading whether queue '%s' is single-file: ", queue);
    copy_status(out, &st);
    return SPINDLE_OK;
}
