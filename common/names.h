/* Validation of the names that go into Redis keys: namespace, queue and function names are
 * 1–128 bytes of [A-Za-z0-9_.:-]; task ids are lowercase UUID text. Braces are refused so a
 * queue name can never break its Redis Cluster hash tag. */
#ifndef SPINDLE_COMMON_NAMES_H
#define SPINDLE_COMMON_NAMES_H

#include "common/error.h"

#include "spindle/bounds.h" /* SPINDLE_NAME_MAX */

#define SPINDLE_ID_LEN 36

/* Checks name; kind ("queue", "function", "namespace") goes into the message. Returns
 * SPINDLE_OK or SPINDLE_ERR_INVALID with err set. */
int spindle_name_check(const char *name, const char *kind, spindle_error *err);
/* Checks a task id (36 chars, 8-4-4-4-12 hex). Returns SPINDLE_OK or SPINDLE_ERR_INVALID. */
int spindle_id_check(const char *id, spindle_error *err);
/* Writes a new random lowercase UUID (37 bytes with the NUL) into out. */
void spindle_id_new(char out[SPINDLE_ID_LEN + 1]);

#endif
