/* Key names (see keys.h and docs/PROTOCOL.md). When this file changes, so do
 * docs/PROTOCOL.md, the scripts in scripts.c that derive keys from the queue base
 * ("task:", "done:"), and SPINDLE_PROTOCOL_VERSION. */
#include "store/keys.h"

#include <stdio.h>

static size_t fmt(int n)
{
    /* Names are validated to at most 128 bytes, so n < SPINDLE_KEY_MAX always. */
    return n < 0 ? 0 : (size_t)n;
}

size_t spindle_key_queues(char *buf, const char *ns)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:queues", ns));
}

size_t spindle_key_queue_base(char *buf, const char *ns, const char *queue)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:", ns, queue));
}

size_t spindle_key_pending(char *buf, const char *ns, const char *queue)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:pending", ns, queue));
}

size_t spindle_key_wake(char *buf, const char *ns, const char *queue)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:wake", ns, queue));
}

size_t spindle_key_workers(char *buf, const char *ns, const char *queue)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:workers", ns, queue));
}

size_t spindle_key_task(char *buf, const char *ns, const char *queue, const char *id)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:task:%s", ns, queue, id));
}

size_t spindle_key_done(char *buf, const char *ns, const char *queue, const char *id)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:done:%s", ns, queue, id));
}

size_t spindle_key_items(char *buf, const char *ns, const char *queue, const char *id)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:items:%s", ns, queue, id));
}

size_t spindle_key_inflight(char *buf, const char *ns, const char *queue, const char *worker)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:inflight:%s", ns, queue, worker));
}

size_t spindle_key_task_prefix(char *buf, const char *ns, const char *queue)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:task:", ns, queue));
}

size_t spindle_key_scheduled(char *buf, const char *ns, const char *queue)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:scheduled", ns, queue));
}

size_t spindle_key_waiting(char *buf, const char *ns, const char *queue)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:waiting", ns, queue));
}

size_t spindle_key_dead(char *buf, const char *ns, const char *queue)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:dead", ns, queue));
}

size_t spindle_key_stats_minute(char *buf, const char *ns, const char *queue, long long minute)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:stats:m:%lld", ns, queue, minute));
}

size_t spindle_key_stats_hour(char *buf, const char *ns, const char *queue, long long hour)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:stats:h:%lld", ns, queue, hour));
}

size_t spindle_key_unique(char *buf, const char *ns, const char *queue, const char *key)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:unique:%s", ns, queue, key));
}

size_t spindle_key_limits(char *buf, const char *ns, const char *queue)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:limits", ns, queue));
}

size_t spindle_key_bucket(char *buf, const char *ns, const char *queue, const char *field)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:bucket:%s", ns, queue, field));
}

size_t spindle_key_lease(char *buf, const char *ns, const char *queue)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:lease", ns, queue));
}

size_t spindle_key_worker(char *buf, const char *ns, const char *worker)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:worker:%s", ns, worker));
}

size_t spindle_key_all_workers(char *buf, const char *ns)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:workers", ns));
}

size_t spindle_key_sweep_lock(char *buf, const char *ns)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:sweeper", ns));
}

size_t spindle_key_sampler_lock(char *buf, const char *ns)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:sampler", ns));
}

size_t spindle_key_audit_cursor(char *buf, const char *ns)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:audit", ns));
}

size_t spindle_key_task_pattern(char *buf, const char *ns)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{*}:task:*", ns));
}

size_t spindle_key_chan_task(char *buf, const char *ns, const char *queue, const char *id,
                             const char *part)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:chan:%s:%s", ns, queue, id, part));
}

size_t spindle_key_chan_group(char *buf, const char *ns, const char *group, const char *part)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{g:%s}:chan:%s", ns, group, part));
}

size_t spindle_key_chan_global(char *buf, const char *ns, const char *part)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{global}:chan:%s", ns, part));
}

size_t spindle_key_cancel_channel(char *buf, const char *ns)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:cancel", ns));
}

size_t spindle_key_cron_index(char *buf, const char *ns)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{cron}:entries", ns));
}

size_t spindle_key_cron_entry_prefix(char *buf, const char *ns)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{cron}:entry:", ns));
}

size_t spindle_key_cron_entry(char *buf, const char *ns, const char *name)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{cron}:entry:%s", ns, name));
}

size_t spindle_key_cron_mark(char *buf, const char *ns, const char *queue, const char *name)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:cron:%s", ns, queue, name));
}

size_t spindle_key_cron_channel(char *buf, const char *ns)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:cron", ns));
}

size_t spindle_key_group(char *buf, const char *ns, const char *group, const char *part)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{g:%s}:%s", ns, group, part));
}

size_t spindle_key_group_done(char *buf, const char *ns, const char *queue, const char *group)
{
    return fmt(snprintf(buf, SPINDLE_KEY_MAX, "%s:{%s}:gdone:%s", ns, queue, group));
}
