/* spindle-worker --check (worker.h): a liveness probe for containers and service managers.
 * Why through Redis and not a local pid file: what must be alive is the worker as the fleet
 * sees it. A supervisor that cannot reach Redis, or whose slots stopped making progress,
 * stops beating, and the rest of the fleet is about to take its tasks back; the probe should
 * fail at the same moment. */
#include <stdio.h>
#include <unistd.h>

#include "store/ops.h"
#include "worker/supervisor.h"

int spindle_worker_check(const spindle_worker_options *opts)
{
    spindle_worker_options dflt;
    if (opts == NULL) {
        spindle_worker_options_init(&dflt);
        opts = &dflt;
    }
    spindle_error err = {0};
    spindle_store s;
    int rc = spindle_store_open(&s, opts->url, opts->ns, opts->connect_timeout_ms,
                                opts->command_timeout_ms, &err);
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    int64_t age = -1;
    int count = 0;
    if (rc == SPINDLE_OK)
        rc = spindle_store_host_beats(&s, host, &age, &count);
    spindle_store_close(&s);
    if (rc != SPINDLE_OK) {
        fprintf(stderr, "spindle-worker --check: %s\n", err.msg);
        return rc;
    }
    if (count == 0 || age > opts->heartbeat_ttl_ms) {
        fprintf(stderr, "spindle-worker --check: no worker on host %s has a fresh heartbeat\n",
                host);
        return SPINDLE_ERR_NOT_FOUND;
    }
    printf("ok: %d worker slot(s) on host %s, last heartbeat %lld ms ago\n", count, host,
           (long long)age);
    return SPINDLE_OK;
}
