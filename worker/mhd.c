/* Loading libmicrohttpd on demand (see mhd.h). */
#include "worker/mhd.h"

#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

static spindle_mhd table;
static int loaded;

/* Resolves name in lib into *slot (a function pointer, written through its bytes: ISO C has
 * no conversion from void * to a function pointer). 0, or -1 if it is missing. */
static int resolve(void *lib, const char *name, void *slot, size_t size)
{
    void *fn = dlsym(lib, name);
    if (fn == NULL)
        return -1;
    memcpy(slot, &fn, size);
    return 0;
}

int spindle_mhd_load(const spindle_mhd **out, spindle_error *err)
{
    if (loaded) {
        *out = &table;
        return SPINDLE_OK;
    }
    void *lib = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL)
        lib = dlopen("libmicrohttpd.so", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL)
        return spindle_error_set(err, SPINDLE_ERR_INVALID,
                                 "metrics: cannot load libmicrohttpd (%s); install libmicrohttpd12",
                                 dlerror());
    spindle_mhd t;
    const struct {
        const char *name;
        void *slot;
        size_t size;
    } fns[] = {
        {"MHD_start_daemon", &t.start_daemon, sizeof(t.start_daemon)},
        {"MHD_stop_daemon", &t.stop_daemon, sizeof(t.stop_daemon)},
        {"MHD_get_daemon_info", &t.get_daemon_info, sizeof(t.get_daemon_info)},
        {"MHD_create_response_from_buffer", &t.create_response_from_buffer,
         sizeof(t.create_response_from_buffer)},
        {"MHD_add_response_header", &t.add_response_header, sizeof(t.add_response_header)},
        {"MHD_queue_response", &t.queue_response, sizeof(t.queue_response)},
        {"MHD_destroy_response", &t.destroy_response, sizeof(t.destroy_response)},
    };
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
        if (resolve(lib, fns[i].name, fns[i].slot, fns[i].size) != 0) {
            spindle_error_set(err, SPINDLE_ERR_INVALID, "metrics: libmicrohttpd has no %s",
                              fns[i].name);
            dlclose(lib);
            return err->code;
        }
    table = t;
    loaded = 1; /* the library stays loaded for the life of the process */
    *out = &table;
    return SPINDLE_OK;
}
