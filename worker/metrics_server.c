/* The metrics endpoint and sampler (metrics_server.h). */
#include "worker/metrics_server.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "store/listing.h"
#include "worker/metrics.h"
#include "worker/mhd.h"
#include "worker/supervisor.h"

/* Most queues sampled: a fleet has a handful; the cap bounds a sample's cost. */
#define MAX_SAMPLED 256

struct spindle_metrics_server {
    const spindle_mhd *mhd; /* libmicrohttpd, loaded at start (mhd.h) */
    struct MHD_Daemon *daemon;
    spindle_metrics *m;
    spindle_slot_state *table;
    size_t nslots;
    pthread_mutex_t lock; /* guards depths/ndepths between the sampler and the HTTP thread */
    spindle_queue_depth depths[MAX_SAMPLED];
    size_t ndepths;
    spindle_queue_depth scratch[MAX_SAMPLED]; /* the sampler's, outside the lock */
    int64_t next_sample_ms;
    int holding;
};

static long in_flight(const struct spindle_metrics_server *srv)
{
    long n = 0;
    for (size_t i = 0; i < srv->nslots; i++) {
        spindle_slot_task t;
        if (spindle_slot_snapshot(&srv->table[i], &t))
            n += t.running;
    }
    return n;
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
       const char *version, const char *upload,
       size_t *upload_len, // NOLINT(readability-non-const-parameter): MHD's type
       void **state)
{
    (void)version;
    (void)upload;
    (void)upload_len;
    (void)state;
    struct spindle_metrics_server *srv = cls;
    const char *text = NULL;
    char *body = NULL;
    unsigned code = MHD_HTTP_OK;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        code = MHD_HTTP_METHOD_NOT_ALLOWED;
        text = "only GET /metrics\n";
    } else if (strcmp(url, "/metrics") != 0) {
        code = MHD_HTTP_NOT_FOUND;
        text = "not found: try /metrics\n";
    } else {
        static spindle_queue_depth copy[MAX_SAMPLED]; /* one HTTP thread: never shared */
        pthread_mutex_lock(&srv->lock);
        size_t n = srv->ndepths;
        memcpy(copy, srv->depths, n * sizeof(*copy));
        pthread_mutex_unlock(&srv->lock);
        body = spindle_metrics_render(srv->m, in_flight(srv), copy, n);
        if (body == NULL) {
            code = MHD_HTTP_INTERNAL_SERVER_ERROR;
            text = "out of memory\n";
        }
    }
    struct MHD_Response *resp =
        body ? srv->mhd->create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE)
             : srv->mhd->create_response_from_buffer(strlen(text), (void *)text,
                                                     MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    srv->mhd->add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                  body ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain");
    /* One scrape per connection: no socket is left open for a slot forked meanwhile to
     * inherit. */
    srv->mhd->add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result rc = srv->mhd->queue_response(conn, code, resp);
    srv->mhd->destroy_response(resp);
    return rc;
}

int spindle_metrics_server_start(spindle_worker *w)
{
    if (w->opts.metrics_addr == NULL)
        return SPINDLE_OK;
    struct sockaddr_storage addr;
    socklen_t len = 0;
    int rc = spindle_metrics_addr_parse(w->opts.metrics_addr, &addr, &len, &w->err);
    if (rc != SPINDLE_OK)
        return rc;
    struct spindle_metrics_server *srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        return spindle_error_set(&w->err, SPINDLE_ERR_NOMEM, "metrics: out of memory");
    pthread_mutex_init(&srv->lock, NULL);
    w->metrics_server = srv;
    if ((rc = spindle_mhd_load(&srv->mhd, &w->err)) != SPINDLE_OK)
        return rc;
    srv->m = w->metrics;
    srv->table = w->table;
    srv->nslots = w->nslots;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* One connection at a time is plenty for a scraper, and bounds the thread's work. */
    srv->daemon = srv->mhd->start_daemon(flags, 0, NULL, NULL, answer, srv, MHD_OPTION_SOCK_ADDR,
                                         (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT, 8u,
                                         MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (srv->daemon == NULL)
        return spindle_error_set(&w->err, SPINDLE_ERR_IO,
                                 "metrics: cannot serve on %s (address in use, or not local?)",
                                 w->opts.metrics_addr);
    const union MHD_DaemonInfo *info =
        srv->mhd->get_daemon_info(srv->daemon, MHD_DAEMON_INFO_LISTEN_FD);
    w->cfg.metrics_fd = info ? info->listen_fd : -1;
    spindle_log(SPINDLE_LOG_INFO, NULL, "serving metrics on http://%s/metrics",
                w->opts.metrics_addr);
    return SPINDLE_OK;
}

/* Samples every queue of NS:queues into srv->scratch; the count, or -1 on a Redis error. */
static long sample(spindle_worker *w, struct spindle_metrics_server *srv)
{
    redisReply *names = NULL;
    if (spindle_store_queue_names(&w->store, &names) != SPINDLE_OK)
        return -1;
    size_t n = 0;
    int rc = SPINDLE_OK;
    for (size_t i = 0; i < names->elements && n < MAX_SAMPLED && rc == SPINDLE_OK; i++) {
        spindle_queue_depth *d = &srv->scratch[n];
        memset(d, 0, sizeof(*d));
        snprintf(d->queue, sizeof(d->queue), "%s", names->element[i]->str);
        rc = spindle_store_queue_counts(&w->store, d->queue, &d->pending, &d->running);
        if (rc == SPINDLE_OK)
            rc = spindle_store_retry_counts(&w->store, d->queue, &d->scheduled, &d->dead, NULL);
        if (rc == SPINDLE_OK)
            n++;
        else if (rc != SPINDLE_ERR_IO) { /* a key of the wrong type: that queue is skipped */
            spindle_log(SPINDLE_LOG_WARN, NULL, "metrics: not sampling queue '%s': %s", d->queue,
                        w->err.msg);
            rc = SPINDLE_OK;
        }
    }
    freeReplyObject(names);
    return rc == SPINDLE_OK ? (long)n : -1;
}

void spindle_metrics_sample(spindle_worker *w)
{
    struct spindle_metrics_server *srv = w->metrics_server;
    int64_t now = spindle_mono_ms();
    if (srv == NULL || now < srv->next_sample_ms)
        return;
    srv->next_sample_ms = now + w->opts.sweep_interval_ms;
    int got = 0;
    long n = 0;
    int rc = spindle_store_sampler_lock(&w->store, w->id, 3 * w->opts.sweep_interval_ms, &got);
    if (rc == SPINDLE_OK && got)
        n = sample(w, srv);
    if (rc != SPINDLE_OK || n < 0) {
        spindle_metrics_redis_error(w->metrics);
        n = 0;
    }
    if (got != srv->holding)
        spindle_log(SPINDLE_LOG_INFO, NULL, "metrics: %s sampling queue depths for the fleet",
                    got ? "now" : "no longer");
    srv->holding = got;
    pthread_mutex_lock(&srv->lock);
    memcpy(srv->depths, srv->scratch, (size_t)n * sizeof(*srv->depths));
    srv->ndepths = (size_t)n;
    pthread_mutex_unlock(&srv->lock);
}

void spindle_metrics_server_stop(spindle_worker *w)
{
    struct spindle_metrics_server *srv = w->metrics_server;
    if (srv == NULL)
        return;
    if (srv->daemon)
        srv->mhd->stop_daemon(srv->daemon);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
    w->metrics_server = NULL;
}
