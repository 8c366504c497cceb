/* The function registry (worker.h): names to C functions. A linear array: workers register
 * a handful to a few hundred functions, and lookups compare short names. */
#include <stdlib.h>
#include <string.h>

#include "common/names.h"
#include "worker/worker_impl.h"

spindle_registry *spindle_registry_new(void)
{
    return calloc(1, sizeof(spindle_registry));
}

void spindle_registry_free(spindle_registry *reg)
{
    if (reg == NULL)
        return;
    for (size_t i = 0; i < reg->n; i++)
        free(reg->entries[i].name);
    free(reg->entries);
    for (size_t i = 0; i < reg->nmw; i++)
        free((char *)reg->mw[i].name);
    free(reg->mw);
    free(reg);
}

const registry_entry *spindle_registry_find(const spindle_registry *reg, const char *name)
{
    for (size_t i = 0; i < reg->n; i++)
        if (strcmp(reg->entries[i].name, name) == 0)
            return &reg->entries[i];
    return NULL;
}

int spindle_registry_add(spindle_registry *reg, const char *name, spindle_task_fn fn,
                         void *userdata)
{
    int rc = spindle_name_check(name, "function", &reg->err);
    if (rc != SPINDLE_OK)
        return rc;
    if (fn == NULL)
        return spindle_error_set(&reg->err, SPINDLE_ERR_INVALID,
                                 "function '%s' registered with a NULL pointer", name);
    if (spindle_registry_find(reg, name))
        return spindle_error_set(&reg->err, SPINDLE_ERR_INVALID,
                                 "function '%s' is already registered", name);
    if (reg->n == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 16;
        registry_entry *e = realloc(reg->entries, cap * sizeof(*e));
        if (e == NULL)
            return spindle_error_set(&reg->err, SPINDLE_ERR_NOMEM,
                                     "registering '%s': out of memory", name);
        reg->entries = e;
        reg->cap = cap;
    }
    char *copy = strdup(name);
    if (copy == NULL)
        return spindle_error_set(&reg->err, SPINDLE_ERR_NOMEM, "registering '%s': out of memory",
                                 name);
    reg->entries[reg->n++] = (registry_entry){.name = copy, .fn = fn, .userdata = userdata};
    return SPINDLE_OK;
}

int spindle_registry_require_process(spindle_registry *reg, const char *name)
{
    for (size_t i = 0; i < reg->n; i++)
        if (strcmp(reg->entries[i].name, name) == 0) {
            reg->entries[i].needs_process = 1;
            return SPINDLE_OK;
        }
    return spindle_error_set(&reg->err, SPINDLE_ERR_NOT_FOUND,
                             "function '%.128s' is not registered", name);
}

const char *spindle_registry_errstr(const spindle_registry *reg)
{
    return reg->err.msg;
}

size_t spindle_registry_count(const spindle_registry *reg)
{
    return reg->n;
}
