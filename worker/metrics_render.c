/* The Prometheus text format of the metrics table (metrics.h) and the parser of
 * --metrics-addr: pure functions, tested without a server. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spindle/status.h"
#include "worker/metrics.h"

typedef struct out {
    char *buf;
    size_t len, cap;
    int nomem;
} out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out *o, const char *fmt, ...)
{
    for (int tries = 0; tries < 2 && !o->nomem; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->nomem = 1;
            return;
        }
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = (o->cap + (size_t)n + 1) * 2;
        char *more = realloc(o->buf, cap);
        if (more == NULL) {
            o->nomem = 1;
            return;
        }
        o->buf = more;
        o->cap = cap;
    }
}

/* A label value with \, " and newline escaped as the text format asks. */
static const char *esc(const char *in, char *buf, size_t len)
{
    size_t j = 0;
    for (size_t i = 0; in[i] && j + 3 < len; i++) {
        char c = in[i];
        if (c == '\\' || c == '"' || c == '\n') {
            buf[j++] = '\\';
            if (c == '\n')
                c = 'n';
        }
        buf[j++] = c;
    }
    buf[j] = '\0';
    return buf;
}

static void counter(out *o, spindle_metrics *m, const char *name, const char *help, size_t field)
{
    put(o, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (size_t i = 0; i <= SPINDLE_METRICS_ROWS; i++) {
        spindle_metrics_row *r = i < SPINDLE_METRICS_ROWS ? &m->rows[i] : &m->overflow;
        if (atomic_load(&r->state) != 2)
            continue;
        atomic_ulong *v = (atomic_ulong *)((char *)r + field);
        unsigned long n = atomic_load_explicit(v, memory_order_relaxed);
        if (i == SPINDLE_METRICS_ROWS && n == 0)
            continue; /* the overflow row, unused */
        char q[2 * SPINDLE_NAME_MAX + 4], f[2 * SPINDLE_NAME_MAX + 4];
        put(o, "%s{queue=\"%s\",func=\"%s\"} %lu\n", name, esc(r->queue, q, sizeof(q)),
            esc(r->func, f, sizeof(f)), n);
    }
}

static void histogram(out *o, spindle_metrics *m)
{
    const char *name = "spindle_task_duration_seconds";
    put(o, "# HELP %s Time task functions ran, by queue and function.\n# TYPE %s histogram\n", name,
        name);
    for (size_t i = 0; i <= SPINDLE_METRICS_ROWS; i++) {
        spindle_metrics_row *r = i < SPINDLE_METRICS_ROWS ? &m->rows[i] : &m->overflow;
        if (atomic_load(&r->state) != 2)
            continue;
        unsigned long b[SPINDLE_METRICS_BUCKETS + 1], total = 0;
        for (int k = 0; k <= SPINDLE_METRICS_BUCKETS; k++)
            total += b[k] = atomic_load_explicit(&r->buckets[k], memory_order_relaxed);
        if (i == SPINDLE_METRICS_ROWS && total == 0)
            continue;
        char q[2 * SPINDLE_NAME_MAX + 4], f[2 * SPINDLE_NAME_MAX + 4];
        esc(r->queue, q, sizeof(q));
        esc(r->func, f, sizeof(f));
        unsigned long cum = 0;
        for (int k = 0; k < SPINDLE_METRICS_BUCKETS; k++) {
            cum += b[k];
            put(o, "%s_bucket{queue=\"%s\",func=\"%s\",le=\"%g\"} %lu\n", name, q, f,
                spindle_metrics_bounds[k], cum);
        }
        put(o, "%s_bucket{queue=\"%s\",func=\"%s\",le=\"+Inf\"} %lu\n", name, q, f, total);
        unsigned long long us = atomic_load_explicit(&r->sum_us, memory_order_relaxed);
        put(o, "%s_sum{queue=\"%s\",func=\"%s\"} %.6f\n", name, q, f, (double)us / 1e6);
        put(o, "%s_count{queue=\"%s\",func=\"%s\"} %lu\n", name, q, f, total);
    }
}

char *spindle_metrics_render(spindle_metrics *m, long in_flight, const spindle_queue_depth *depths,
                             size_t n)
{
    out o = {.buf = malloc(4096), .cap = 4096};
    if (o.buf == NULL)
        return NULL;
    o.buf[0] = '\0';
    counter(&o, m, "spindle_tasks_started_total", "Task attempts started.",
            offsetof(spindle_metrics_row, started));
    counter(&o, m, "spindle_tasks_succeeded_total", "Task attempts that succeeded.",
            offsetof(spindle_metrics_row, succeeded));
    counter(&o, m, "spindle_tasks_failed_total",
            "Task attempts that failed for good (no retry left).",
            offsetof(spindle_metrics_row, failed));
    counter(&o, m, "spindle_tasks_retried_total", "Task attempts that failed; a retry is due.",
            offsetof(spindle_metrics_row, retried));
    histogram(&o, m);
    put(&o,
        "# HELP spindle_tasks_in_flight Tasks this worker's slots are running.\n"
        "# TYPE spindle_tasks_in_flight gauge\nspindle_tasks_in_flight %ld\n",
        in_flight);
    put(&o,
        "# HELP spindle_redis_errors_total Redis requests of this worker that failed.\n"
        "# TYPE spindle_redis_errors_total counter\nspindle_redis_errors_total %lu\n",
        atomic_load(&m->redis_errors));
    if (n > 0)
        put(&o, "# HELP spindle_queue_depth Tasks per queue and state, sampled by the one worker "
                "holding the sampler lock.\n# TYPE spindle_queue_depth gauge\n");
    static const char *const states[] = {"pending", "scheduled", "running", "dead"};
    for (size_t i = 0; i < n; i++) {
        const long long v[] = {depths[i].pending, depths[i].scheduled, depths[i].running,
                               depths[i].dead};
        char q[2 * SPINDLE_NAME_MAX + 4];
        esc(depths[i].queue, q, sizeof(q));
        for (int s = 0; s < 4; s++)
            put(&o, "spindle_queue_depth{queue=\"%s\",state=\"%s\"} %lld\n", q, states[s], v[s]);
    }
    if (o.nomem) {
        free(o.buf);
        return NULL;
    }
    return o.buf;
}

int spindle_metrics_addr_parse(const char *text, struct sockaddr_storage *addr, socklen_t *len,
                               spindle_error *err)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    if (colon == NULL || colon == text || (size_t)(colon - text) >= sizeof(host))
        return spindle_error_set(err, SPINDLE_ERR_INVALID,
                                 "metrics address '%.100s' is not HOST:PORT", text);
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end || port < 1 || port > 65535)
        return spindle_error_set(err, SPINDLE_ERR_INVALID,
                                 "metrics address '%.100s': port '%s' is not in 1-65535", text,
                                 colon + 1);
    memset(addr, 0, sizeof(*addr));
    struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
    size_t hl = strlen(host);
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &v6->sin6_addr) == 1) {
            v6->sin6_family = AF_INET6;
            v6->sin6_port = htons((uint16_t)port);
            *len = sizeof(*v6);
            return SPINDLE_OK;
        }
    } else if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof(*v4);
        return SPINDLE_OK;
    }
    return spindle_error_set(err, SPINDLE_ERR_INVALID,
                             "metrics address '%.100s': host is not an IPv4 address, [IPv6] "
                             "address or localhost",
                             text);
}
