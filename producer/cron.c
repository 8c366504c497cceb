/* Periodic tasks through the client (include/spindle/cron.h): validation, then the store's
 * table operations (store/cron.c). Firing is the workers' business (worker/cron.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cron.h"
#include "producer/client_impl.h"
#include "spindle/cron.h"
#include "store/cron.h"

void spindle_cron_entry_init(spindle_cron_entry *e)
{
    memset(e, 0, sizeof(*e));
    spindle_enqueue_options_init(&e->opts);
}

int spindle_cron_check(const char *spec, char *err, size_t errlen)
{
    spindle_cron_spec s;
    spindle_error e;
    int rc = spindle_cron_parse(spec, &s, &e);
    if (err && errlen)
        snprintf(err, errlen, "%s", rc == SPINDLE_OK ? "" : e.msg);
    return rc;
}

int spindle_cron_next_after(const char *spec, int64_t after_ms, int64_t *next_ms, char *err,
                            size_t errlen)
{
    spindle_cron_spec s;
    spindle_error e;
    int rc = spindle_cron_parse(spec, &s, &e);
    if (err && errlen)
        snprintf(err, errlen, "%s", rc == SPINDLE_OK ? "" : e.msg);
    if (rc == SPINDLE_OK)
        *next_ms = spindle_cron_next(&s, after_ms);
    return rc;
}

int spindle_cron_set(spindle_client *c, const spindle_cron_entry *e, int *replaced)
{
    spindle_cron_def d;
    int rc = spindle_cron_def_from_entry(e, &d, &c->err);
    if (rc != SPINDLE_OK)
        return rc;
    if (c->sync)
        return spindle_sync_refuse(c, "spindle_cron_set");
    int what = 0;
    rc = spindle_store_cron_set(&c->store, &d, &what);
    if (rc != SPINDLE_OK)
        return spindle_error_wrap(&c->err, "cron entry '%s': ", e->name);
    if (replaced)
        *replaced = what != 0;
    return SPINDLE_OK;
}

int spindle_cron_remove(spindle_client *c, const char *name)
{
    int rc = spindle_name_check(name, "cron entry name", &c->err);
    if (rc != SPINDLE_OK)
        return rc;
    if (c->sync)
        return spindle_sync_refuse(c, "spindle_cron_remove");
    int removed = 0;
    rc = spindle_store_cron_remove(&c->store, name, &removed);
    if (rc != SPINDLE_OK)
        return spindle_error_wrap(&c->err, "removing cron entry '%s': ", name);
    if (!removed)
        return spindle_error_set(&c->err, SPINDLE_ERR_NOT_FOUND, "no cron entry named '%s'", name);
    return SPINDLE_OK;
}

int spindle_cron_list(spindle_client *c, spindle_cron_info **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (c->sync)
        return spindle_sync_refuse(c, "spindle_cron_list");
    spindle_cron_row *rows = NULL;
    size_t count = 0;
    int64_t now = 0;
    int rc = spindle_store_cron_read(&c->store, &rows, &count, &now);
    if (rc != SPINDLE_OK)
        return rc;
    spindle_cron_info *list = count ? calloc(count, sizeof(*list)) : NULL;
    if (count && list == NULL) {
        spindle_store_cron_rows_free(rows, count);
        return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "listing cron entries: out of memory");
    }
    for (size_t i = 0; i < count; i++) {
        spindle_cron_row *r = &rows[i];
        spindle_cron_info *x = &list[i];
        snprintf(x->name, sizeof(x->name), "%s", r->name);
        snprintf(x->spec, sizeof(x->spec), "%s", r->spec);
        snprintf(x->func, sizeof(x->func), "%s", r->func);
        snprintf(x->queue, sizeof(x->queue), "%s", r->queue);
        snprintf(x->last_task, sizeof(x->last_task), "%s", r->last_run ? r->last_task : "");
        snprintf(x->error, sizeof(x->error), "%s", r->error);
        x->args = r->args; /* ownership moves to the list */
        x->args_len = r->args_len;
        r->args = NULL;
        x->catch_up = r->catch_up;
        x->last_tick_ms = r->last_run ? r->last_tick : 0;
        x->last_run_ms = r->last_run;
        x->next_ms = r->error[0]
                         ? -1
                         : spindle_cron_next(&r->parsed, now > r->last_tick ? now : r->last_tick);
    }
    spindle_store_cron_rows_free(rows, count);
    *out = list;
    *n = count;
    return SPINDLE_OK;
}

void spindle_cron_list_free(spindle_cron_info *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        free(list[i].args);
    free(list);
}
