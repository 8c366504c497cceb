/* The reply of a fenced task-side write (progress, items): {1, cancel, ...} when the write
 * was applied, {0, state, attempts, worker} when the task is no longer running as the
 * writer's attempt. Shared by store/progress.c and store/items.c. */
#ifndef SPINDLE_STORE_FENCE_H
#define SPINDLE_STORE_FENCE_H

#include "store/conn.h"

/* Interprets r (takes ownership) from the write `what` ("progress", "item") of task id by attempt.
 * On success sets *cancel (1: the hash has a cancel request) and returns SPINDLE_OK; a refusal
 * returns SPINDLE_ERR_NOT_FOUND with a message naming what the task is now. r NULL: the call
 * failed, its error stands (SPINDLE_ERR_REDIS for a key of the wrong type, named by the script). */
int spindle_store_fenced_reply(spindle_store *s, const char *what, const char *id, long attempt,
                               redisReply *r, int *cancel);

#endif
