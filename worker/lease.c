/* Lease renewal (lease.h). Why the supervisor and not the slot: a slot running a long C
 * function cannot renew anything, exactly as it cannot beat; the supervisor beats for it, and
 * renews its lease in the same round, so a lease lives as long as its worker's heartbeat. */
#include "worker/lease.h"

#include "common/log.h"
#include "store/serial.h"

int spindle_lease_renew(spindle_worker *w, const char *slot_id, const spindle_slot_task *t)
{
    if (!t->running || !t->lease)
        return SPINDLE_OK;
    enum spindle_lease_renewal what;
    char holder[SPINDLE_ID_LEN + 1];
    int rc = spindle_store_lease_renew(&w->store, t->queue, t->id, slot_id, t->attempt,
                                       w->opts.heartbeat_ttl_ms, &what, holder);
    if (rc == SPINDLE_ERR_IO)
        return rc;
    if (rc != SPINDLE_OK)
        spindle_log(SPINDLE_LOG_ERROR, t->id, "renewing the lease of single-file queue '%s': %s",
                    t->queue, w->err.msg);
    else if (what == SPINDLE_LEASE_RETAKEN)
        spindle_log(SPINDLE_LOG_WARN, t->id,
                    "the lease of single-file queue '%s' had lapsed (heartbeats late?): taken "
                    "again",
                    t->queue);
    else if (what == SPINDLE_LEASE_OTHER)
        spindle_log(SPINDLE_LOG_ERROR, t->id,
                    "the lease of single-file queue '%s' is held by task %s: its lease lapsed "
                    "(heartbeats late?) and two of the queue's tasks run at once",
                    t->queue, holder);
    return SPINDLE_OK;
}
