/* A client's route table (include/spindle/routing.h): which table routes its enqueues, and
 * the one routing decision every enqueue makes (explicit queue, else the table, else
 * "default").
 *
 * Why $SPINDLE_ROUTES is read at the first enqueue and not at connect: a client that only
 * waits or reads state should not fail over a route file, and a synchronous client is never
 * connected; a bad file then fails every enqueue with the same message until it is fixed. */
#include <stdlib.h>

#include "producer/client_impl.h"
#include "spindle/routing.h"

/* Replaces c's table with t (owned says whether c now owns it). */
static void choose(spindle_client *c, const spindle_routes *t, spindle_routes *owned)
{
    spindle_routes_free(c->routes_owned);
    c->routes_owned = owned;
    c->routes = owned ? owned : t;
    c->routes_chosen = 1;
}

int spindle_client_set_routes(spindle_client *c, const spindle_routes *t)
{
    choose(c, t, NULL);
    return SPINDLE_OK;
}

int spindle_client_load_routes(spindle_client *c, const char *path)
{
    if (path == NULL)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID, "load routes: path is NULL");
    spindle_routes *t = spindle_routes_new();
    if (t == NULL)
        return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "load routes '%s': out of memory",
                                 path);
    int rc = spindle_routes_load(t, path);
    if (rc != SPINDLE_OK) {
        spindle_error_set(&c->err, rc, "%s", spindle_routes_errstr(t));
        spindle_routes_free(t);
        return rc;
    }
    choose(c, NULL, t);
    return SPINDLE_OK;
}

int spindle_client_route(spindle_client *c, const char *func, const char *explicit_queue,
                         const char **queue)
{
    if (explicit_queue) {
        *queue = explicit_queue;
        return SPINDLE_OK;
    }
    if (!c->routes_chosen) {
        const char *path = getenv(SPINDLE_ROUTES_ENV);
        if (path && *path) {
            int rc = spindle_client_load_routes(c, path);
            if (rc != SPINDLE_OK)
                return spindle_error_wrap(&c->err, "$" SPINDLE_ROUTES_ENV ": ");
        } else {
            c->routes_chosen = 1;
        }
    }
    const char *q = spindle_routes_lookup(c->routes, func);
    *queue = q ? q : "default";
    return SPINDLE_OK;
}

void spindle_client_routing_free(spindle_client *c)
{
    spindle_routes_free(c->routes_owned);
    c->routes_owned = NULL;
    c->routes = NULL;
    spindle_processors_free(c->procs);
    c->procs = NULL;
}
