/* Task libraries: shared objects that register their functions through one entry point.
 * Only functions a library registers can ever run: a worker resolves task names in its
 * registry, never with dlsym on a name that came from Redis. */
#include <dlfcn.h>
#include <stdio.h>

#include "common/log.h"
#include "worker/worker_impl.h"

/* Logs the functions and middleware a library added (entries from index fn, mw on), so that
 * what a worker can be made to run is in its log: a long list is cut at about 1 KiB. */
static void log_registered(const spindle_registry *reg, const char *path, size_t fn, size_t mw)
{
    char names[1024];
    size_t len = 0;
    names[0] = '\0';
    for (size_t i = fn; i < reg->n && len < sizeof(names); i++)
        len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", i > fn ? ", " : "",
                                reg->entries[i].name);
    for (size_t i = mw; i < reg->nmw && len < sizeof(names); i++)
        len += (size_t)snprintf(names + len, sizeof(names) - len, "%smiddleware %s",
                                len ? ", " : "", reg->mw[i].name);
    spindle_log(SPINDLE_LOG_INFO, NULL, "task library %s registered %zu function(s): %s%s", path,
                reg->n - fn, names, len >= sizeof(names) ? "..." : "");
}

int spindle_registry_load(spindle_registry *reg, const char *path)
{
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL)
        return spindle_error_set(&reg->err, SPINDLE_ERR_INVALID, "cannot load '%s': %s", path,
                                 dlerror());
    spindle_plugin_entry_fn entry;
    /* POSIX's sanctioned way to turn dlsym's void * into a function pointer. */
    *(void **)&entry = dlsym(lib, SPINDLE_PLUGIN_ENTRY);
    if (entry == NULL) {
        dlclose(lib);
        return spindle_error_set(&reg->err, SPINDLE_ERR_INVALID, "'%s' has no entry point %s()",
                                 path, SPINDLE_PLUGIN_ENTRY);
    }
    /* A library may register functions, middleware, or both. */
    size_t fn = reg->n, mw = reg->nmw;
    size_t before = spindle_registry_count(reg) + spindle_registry_middleware_count(reg);
    /* Cleared first, so that a failed registry call of this entry point can be told from a
     * failure of its own (a bad configuration it reported itself), which leaves no message. */
    spindle_error_clear(&reg->err);
    int rc = entry(reg);
    if (rc != SPINDLE_OK && reg->err.code == SPINDLE_OK)
        return spindle_error_set(&reg->err, SPINDLE_ERR_INVALID,
                                 "%s() of '%s' failed with code %d (%s)", SPINDLE_PLUGIN_ENTRY,
                                 path, rc, spindle_status_name(rc));
    if (rc != SPINDLE_OK)
        return spindle_error_wrap(&reg->err, "%s() of '%s' failed: ", SPINDLE_PLUGIN_ENTRY, path);
    if (spindle_registry_count(reg) + spindle_registry_middleware_count(reg) == before)
        return spindle_error_set(&reg->err, SPINDLE_ERR_INVALID,
                                 "'%s' registered no functions and no middleware", path);
    log_registered(reg, path, fn, mw);
    return SPINDLE_OK;
}
