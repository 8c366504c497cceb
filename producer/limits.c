/* Rate limits (limits.h): checks the caller's input, turns it into the spec the claim script
 * reads ("COUNT/INTERVAL_MS/BURST"), and parses specs back for listing. The store does the
 * Redis work (store/limits.c). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/names.h"
#include "producer/client_impl.h"
#include "spindle/limits.h"
#include "store/limits.h"
#include "store/ops.h"
#include "store/serial.h"

/* The limits-hash field of (queue, func): the queue's own for NULL or "". */
static const char *field_of(const char *func)
{
    return func && *func ? func : SPINDLE_LIMIT_QUEUE_FIELD;
}

/* Checks the names of a call; SPINDLE_OK or SPINDLE_ERR_INVALID with the message. */
static int check_names(spindle_client *c, const char *queue, const char *func)
{
    int rc = spindle_name_check(queue, "queue", &c->err);
    if (rc == SPINDLE_OK && func && *func)
        rc = spindle_name_check(func, "function", &c->err);
    return rc;
}

/* "queue 'q'" or "function 'f' on queue 'q'", for messages. */
static const char *what(char *buf, size_t cap, const char *queue, const char *func)
{
    if (func && *func)
        snprintf(buf, cap, "function '%s' on queue '%s'", func, queue);
    else
        snprintf(buf, cap, "queue '%s'", queue);
    return buf;
}

int spindle_limit_set(spindle_client *c, const char *queue, const char *func, long count,
                      long interval_ms, long burst)
{
    if (c->sync)
        return spindle_sync_refuse(c, "spindle_limit_set");
    int rc = check_names(c, queue, func);
    if (rc != SPINDLE_OK)
        return rc;
    char name[300];
    what(name, sizeof(name), queue, func);
    if (burst == 0)
        burst = count;
    if (count < 1 || count > SPINDLE_LIMIT_MAX_COUNT || burst < 1 ||
        burst > SPINDLE_LIMIT_MAX_COUNT)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "rate limit of %s: count %ld and burst %ld must be in 1-%ld", name,
                                 count, burst, SPINDLE_LIMIT_MAX_COUNT);
    if (interval_ms < 1 || interval_ms > SPINDLE_LIMIT_MAX_INTERVAL_MS)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "rate limit of %s: interval %ld ms is not in 1-%ld ms (7 days)",
                                 name, interval_ms, SPINDLE_LIMIT_MAX_INTERVAL_MS);
    char spec[80];
    snprintf(spec, sizeof(spec), "%ld/%ld/%ld", count, interval_ms, burst);
    int full = 0;
    rc = spindle_client_register_queue(c, queue);
    if (rc == SPINDLE_OK)
        rc = spindle_store_limit_set(&c->store, queue, field_of(func), spec,
                                     SPINDLE_LIMITS_PER_QUEUE, &full);
    if (rc != SPINDLE_OK)
        return spindle_error_wrap(&c->err, "setting the rate limit of %s: ", name);
    if (full)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "rate limit of %s: queue '%s' has %d limits already, the most a "
                                 "queue may have; remove one first",
                                 name, queue, SPINDLE_LIMITS_PER_QUEUE);
    return SPINDLE_OK;
}

int spindle_limit_remove(spindle_client *c, const char *queue, const char *func)
{
    if (c->sync)
        return spindle_sync_refuse(c, "spindle_limit_remove");
    int rc = check_names(c, queue, func);
    if (rc != SPINDLE_OK)
        return rc;
    char name[300];
    what(name, sizeof(name), queue, func);
    int removed = 0;
    rc = spindle_store_limit_remove(&c->store, queue, field_of(func), &removed);
    if (rc != SPINDLE_OK)
        return spindle_error_wrap(&c->err, "removing the rate limit of %s: ", name);
    if (!removed)
        return spindle_error_set(&c->err, SPINDLE_ERR_NOT_FOUND, "%s has no rate limit", name);
    return SPINDLE_OK;
}

/* Parses a stored spec "COUNT/INTERVAL_MS/BURST" into l; 0 on success. */
static int parse_spec(const char *spec, spindle_rate_limit *l)
{
    /* strtol, not sscanf: sscanf's behaviour on a number out of range is undefined. */
    long v[3];
    const char *p = spec;
    for (int i = 0; i < 3; i++) {
        char *end;
        if (!isdigit((unsigned char)*p))
            return -1;
        errno = 0;
        v[i] = strtol(p, &end, 10);
        if (errno != 0 || v[i] < 1 || *end != (i < 2 ? '/' : '\0'))
            return -1;
        p = end + 1;
    }
    l->count = v[0];
    l->interval_ms = v[1];
    l->burst = v[2];
    return 0;
}

/* Appends the limits of queue to *list (*n entries, *cap allocated). */
static int list_queue(spindle_client *c, const char *queue, spindle_rate_limit **list, size_t *n,
                      size_t *cap)
{
    redisReply *hash = NULL;
    int rc = spindle_store_limits_read(&c->store, queue, &hash);
    if (rc != SPINDLE_OK)
        return spindle_error_wrap(&c->err, "listing the rate limits of queue '%s': ", queue);
    for (size_t i = 0; i + 1 < hash->elements; i += 2) {
        if (*n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 8;
            spindle_rate_limit *grown = realloc(*list, ncap * sizeof(**list));
            if (grown == NULL) {
                freeReplyObject(hash);
                return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM,
                                         "listing rate limits: out of memory");
            }
            *list = grown;
            *cap = ncap;
        }
        spindle_rate_limit *l = &(*list)[*n];
        memset(l, 0, sizeof(*l));
        const char *field = hash->element[i]->str, *spec = hash->element[i + 1]->str;
        snprintf(l->queue, sizeof(l->queue), "%s", queue);
        /* The single-file declaration shares the hash (single_file.h): value "1". */
        l->single_file = strcmp(field, SPINDLE_SINGLE_FILE_FIELD) == 0;
        if (!l->single_file && strcmp(field, SPINDLE_LIMIT_QUEUE_FIELD) != 0)
            snprintf(l->func, sizeof(l->func), "%s", field);
        if (l->single_file ? strcmp(spec, "1") != 0 : parse_spec(spec, l) != 0) {
            rc = spindle_error_set(&c->err, SPINDLE_ERR_PROTOCOL,
                                   "rate limit '%.128s' of queue '%s' is '%.64s' in Redis, not "
                                   "%s (written by hand? set it again or remove it)",
                                   field, queue, spec,
                                   l->single_file ? "1" : "COUNT/INTERVAL_MS/BURST");
            freeReplyObject(hash);
            return rc;
        }
        ++*n;
    }
    freeReplyObject(hash);
    return SPINDLE_OK;
}

static int by_queue_then_func(const void *a, const void *b)
{
    const spindle_rate_limit *x = a, *y = b;
    int d = strcmp(x->queue, y->queue);
    if (d == 0)
        d = strcmp(x->func, y->func);
    return d ? d : x->single_file - y->single_file;
}

int spindle_limit_list(spindle_client *c, const char *queue, spindle_rate_limit **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (c->sync)
        return spindle_sync_refuse(c, "spindle_limit_list");
    spindle_rate_limit *list = NULL;
    size_t count = 0, cap = 0;
    int rc;
    if (queue) {
        rc = spindle_name_check(queue, "queue", &c->err);
        if (rc == SPINDLE_OK)
            rc = list_queue(c, queue, &list, &count, &cap);
    } else {
        redisReply *names = NULL;
        rc = spindle_store_queue_names(&c->store, &names);
        for (size_t i = 0; rc == SPINDLE_OK && i < names->elements; i++)
            rc = list_queue(c, names->element[i]->str, &list, &count, &cap);
        if (names)
            freeReplyObject(names);
    }
    if (rc != SPINDLE_OK) {
        free(list);
        return rc;
    }
    if (count > 1)
        qsort(list, count, sizeof(*list), by_queue_then_func);
    *out = list;
    *n = count;
    return SPINDLE_OK;
}

void spindle_limit_list_free(spindle_rate_limit *list)
{
    free(list);
}

/* The unit of an interval and its length in ms; 0 if unknown. */
static long unit_ms(const char *u)
{
    static const struct {
        const char *name;
        long ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(u, units[i].name) == 0)
            return units[i].ms;
    return 0;
}

int spindle_limit_parse(const char *text, long *count, long *interval_ms, char *why, size_t why_cap)
{
    static const char forms[] = "write COUNT/INTERVAL, e.g. 50/s, 100/m, 10/500ms, 3/2h";
    const char *slash = text ? strchr(text, '/') : NULL;
    if (slash == NULL) {
        snprintf(why, why_cap, "rate '%s' has no '/': %s", text ? text : "", forms);
        return SPINDLE_ERR_INVALID;
    }
    char *end = NULL;
    errno = 0;
    long n = isdigit((unsigned char)text[0]) ? strtol(text, &end, 10) : -1;
    if (n < 1 || end != slash || errno || n > SPINDLE_LIMIT_MAX_COUNT) {
        snprintf(why, why_cap, "rate '%s': the count must be a whole number in 1-%ld; %s", text,
                 SPINDLE_LIMIT_MAX_COUNT, forms);
        return SPINDLE_ERR_INVALID;
    }
    const char *p = slash + 1;
    long k = 1;
    if (isdigit((unsigned char)*p)) {
        errno = 0;
        k = strtol(p, &end, 10);
        if (errno || k < 1 || k > SPINDLE_LIMIT_MAX_INTERVAL_MS)
            k = -1;
        p = end;
    }
    long unit = unit_ms(p);
    if (k < 1 || unit == 0 || k > SPINDLE_LIMIT_MAX_INTERVAL_MS / unit) {
        snprintf(why, why_cap,
                 "rate '%s': the interval must be a unit (ms, s, m, h, d) with an optional whole "
                 "number before it, from 1 ms to 7 d; %s",
                 text, forms);
        return SPINDLE_ERR_INVALID;
    }
    *count = n;
    *interval_ms = k * unit;
    return SPINDLE_OK;
}
