/* Task groups (group.h): creating and opening a group, and reading its members by name. The
 * group is only a name on this side; everything else is read from Redis on every call, so
 * that processes sharing a group always agree (docs/PROTOCOL.md, "Groups"). */
#include <stdlib.h>
#include <string.h>

#include "producer/group_impl.h"
#include "store/group.h"

int spindle_group_check(spindle_client *c, const spindle_group *g, const char *what)
{
    if (c->sync)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "%s: groups need Redis: this client is synchronous "
                                 "(spindle_client_new_sync)",
                                 what);
    if (g == NULL)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID, "%s: no group given", what);
    return SPINDLE_OK;
}

int spindle_group_load(spindle_client *c, const spindle_group *g, spindle_group_ref **refs,
                       size_t *n, redisReply **reply)
{
    int rc = spindle_store_group_members(&c->store, g->name, refs, n, reply);
    return rc == SPINDLE_OK ? rc : spindle_error_wrap(&c->err, "members of group '%s': ", g->name);
}

int spindle_group_state_over(const char *st)
{
    return st[0] == '\0' || strcmp(st, "succeeded") == 0 || strcmp(st, "failed") == 0 ||
           strcmp(st, "cancelled") == 0;
}

/* A new group struct for name, or NULL with c->err set. */
static spindle_group *make(spindle_client *c, const char *name)
{
    spindle_group *g = malloc(sizeof(*g));
    if (g == NULL) {
        spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "group '%s': out of memory", name);
        return NULL;
    }
    snprintf(g->name, sizeof(g->name), "%s", name); /* checked: <= SPINDLE_NAME_MAX */
    return g;
}

int spindle_group_create(spindle_client *c, const char *name, long ttl_s, spindle_group **out)
{
    spindle_group tmp = {{0}};
    int rc = spindle_group_check(c, &tmp, "group create");
    if (rc != SPINDLE_OK)
        return rc;
    char uuid[SPINDLE_ID_LEN + 1];
    if (name == NULL) {
        spindle_id_new(uuid);
        name = uuid;
    }
    if ((rc = spindle_name_check(name, "group", &c->err)) != SPINDLE_OK)
        return rc;
    if (ttl_s == 0)
        ttl_s = SPINDLE_GROUP_DEFAULT_TTL_S;
    if (ttl_s < 1 || ttl_s > SPINDLE_GROUP_MAX_TTL_S)
        return spindle_error_set(&c->err, SPINDLE_ERR_INVALID,
                                 "group '%s': ttl_s %ld is out of range: 0 (the default, %ld) or "
                                 "1 to %ld",
                                 name, ttl_s, SPINDLE_GROUP_DEFAULT_TTL_S, SPINDLE_GROUP_MAX_TTL_S);
    spindle_group *g = make(c, name);
    if (g == NULL)
        return SPINDLE_ERR_NOMEM;
    if ((rc = spindle_store_group_create(&c->store, name, ttl_s)) != SPINDLE_OK) {
        free(g);
        return rc;
    }
    *out = g;
    return SPINDLE_OK;
}

int spindle_group_open(spindle_client *c, const char *name, spindle_group **out)
{
    spindle_group tmp = {{0}};
    int rc = spindle_group_check(c, &tmp, "group open");
    if (rc == SPINDLE_OK)
        rc = spindle_name_check(name, "group", &c->err);
    if (rc == SPINDLE_OK)
        rc = spindle_store_group_touch(&c->store, name);
    if (rc != SPINDLE_OK)
        return rc;
    spindle_group *g = make(c, name);
    if (g == NULL)
        return SPINDLE_ERR_NOMEM;
    *out = g;
    return SPINDLE_OK;
}

const char *spindle_group_name(const spindle_group *g)
{
    return g->name;
}

void spindle_group_free(spindle_group *g)
{
    free(g);
}

int spindle_group_name_available(spindle_client *c, spindle_group *g, const char *name,
                                 int *available)
{
    int rc = spindle_group_check(c, g, "group name check");
    if (rc == SPINDLE_OK)
        rc = spindle_name_check(name, "member name", &c->err);
    int taken = 0;
    if (rc == SPINDLE_OK)
        rc = spindle_store_group_has(&c->store, g->name, name, &taken);
    if (rc == SPINDLE_OK)
        *available = !taken;
    return rc;
}

int spindle_group_handle(spindle_client *c, spindle_group *g, const char *name,
                         spindle_handle **out)
{
    int rc = spindle_group_check(c, g, "group member");
    if (rc == SPINDLE_OK)
        rc = spindle_name_check(name, "member name", &c->err);
    spindle_group_ref ref;
    if (rc == SPINDLE_OK)
        rc = spindle_store_group_get(&c->store, g->name, name, &ref);
    if (rc != SPINDLE_OK)
        return rc;
    *out = spindle_handle_make(c, ref.id, ref.queue);
    return *out ? SPINDLE_OK : SPINDLE_ERR_NOMEM;
}

void spindle_group_names_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

int spindle_group_names(spindle_client *c, spindle_group *g, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    int rc = spindle_group_check(c, g, "group names");
    spindle_group_ref *refs = NULL;
    size_t m = 0;
    redisReply *reply = NULL;
    if (rc == SPINDLE_OK)
        rc = spindle_group_load(c, g, &refs, &m, &reply);
    if (rc != SPINDLE_OK)
        return rc;
    char **out = m ? calloc(m, sizeof(*out)) : NULL;
    for (size_t i = 0; out && i < m; i++)
        if ((out[i] = strdup(refs[i].name)) == NULL) {
            spindle_group_names_free(out, i);
            out = NULL;
        }
    free(refs);
    freeReplyObject(reply);
    if (m && out == NULL)
        return spindle_error_set(&c->err, SPINDLE_ERR_NOMEM, "group '%s': out of memory", g->name);
    *names = out;
    *n = m;
    return SPINDLE_OK;
}
