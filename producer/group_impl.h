/* What the files of producer/group*.c share: the group's struct and the checks every call
 * starts with. */
#ifndef SPINDLE_PRODUCER_GROUP_IMPL_H
#define SPINDLE_PRODUCER_GROUP_IMPL_H

#include "producer/client_impl.h"
#include "spindle/group.h"
#include "store/group.h"

struct spindle_group {
    char name[SPINDLE_NAME_MAX + 1];
};

/* SPINDLE_OK if c can hold groups and g is given; else the error (set on c). what names the
 * call. */
int spindle_group_check(spindle_client *c, const spindle_group *g, const char *what);
/* The group's members (store/group.h), with the error wrapped with the group's name. */
int spindle_group_load(spindle_client *c, const spindle_group *g, spindle_group_ref **refs,
                       size_t *n, redisReply **reply);
/* 1 if state (as stored) is final, or "" (the hash is gone: lost at enqueue, or expired). */
int spindle_group_state_over(const char *state);

#endif
