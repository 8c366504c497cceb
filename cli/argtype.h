/* Typing of command-line task arguments: `spindle enqueue add 2 3` must send the integers 2
 * and 3, not the strings "2" and "3", so each argument's text is given a msgpack type.
 * Pure (no I/O, no global state), so it is unit tested and fuzzed on its own. */
#ifndef SPINDLE_CLI_ARGTYPE_H
#define SPINDLE_CLI_ARGTYPE_H

#include "spindle/args.h"

/* Appends one argument to a, typed from text (NUL-terminated, borrowed during the call):
 *   - an integer: decimal digits with an optional leading '+' or '-', and nothing else. It is
 *     packed as int64, or as uint64 when it is positive and above INT64_MAX. Digits that fit
 *     neither (e.g. 2^64) are not an integer, and end up as a string.
 *   - a float: text made only of digits, '+', '-', '.', 'e' and 'E', holding at least one of
 *     '.', 'e', 'E', that strtod() consumes entirely (in the C locale, which `spindle` never
 *     changes) and whose value is finite: "2.5", "-.5", "1e3". So "nan", "inf", hex floats
 *     and "1e999" stay strings.
 *   - `true`, `false`, `null` (lowercase, exactly): bool or nil.
 *   - anything else, including "" and text that is not UTF-8: a string of the same bytes.
 * Returns what the spindle_args_* append returned: SPINDLE_OK, SPINDLE_ERR_NOMEM, or the
 * builder's sticky error from an earlier append. */
int spindle_cli_type_arg(spindle_args *a, const char *text);

#endif
