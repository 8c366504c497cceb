/* msgpack values as JSON text for people and scripts: `spindle result` prints a task's
 * result with it. Pure (no I/O), so it is unit tested and fuzzed on its own. */
#ifndef SPINDLE_CLI_JSON_H
#define SPINDLE_CLI_JSON_H

#include <jansson.h>
#include <msgpack.h>

/* Converts o (borrowed during the call) into a new JSON value; the caller frees it with
 * json_decref(). Returns NULL only when out of memory. The mapping:
 *   nil -> null, boolean -> true/false
 *   integers -> integer; a positive integer above INT64_MAX (which JSON libraries cannot hold
 *     as an integer) -> real
 *   float32/float64 -> real; NaN and infinities, which JSON cannot write, ->
 *     {"$float": "NaN" | "Infinity" | "-Infinity"}
 *   str -> string if it is valid UTF-8 (embedded NULs included), else {"$base64": "..."}
 *   bin -> {"$base64": "..."}             (standard alphabet, padded)
 *   ext -> {"$ext": TYPE, "$base64": "..."}; a task ref (a handle in a task's args,
 *     spindle/deps.h) -> {"$task": ID, "queue": QUEUE}
 *   array -> array
 *   map -> object. A string key that is valid UTF-8 is the key itself; any other key is
 *     converted by these rules and its compact JSON text is the key (1 -> "1",
 *     [1,2] -> "[1,2]"), cut to SPINDLE_JSON_KEY_MAX bytes (below). When two keys give the
 *     same text, the later one wins.
 * Recursion goes as deep as o nests; msgpack_unpack_next() refuses to build objects nested
 * deeper than MSGPACK_EMBED_STACK_SIZE (32), so decoded values are safe. */
json_t *spindle_msgpack_to_json(const msgpack_object *o);

/* Longest text of a map key that is not a valid UTF-8 string (bytes): a longer one is cut to
 * this length, its last three bytes "...", so that maps nested as keys cannot make the output
 * grow exponentially with the nesting. */
#define SPINDLE_JSON_KEY_MAX 1024

/* Text read from Redis (p[0..len), borrowed) as a new JSON value, by the rule for str above:
 * a string if it is valid UTF-8, else {"$base64": "..."}, so that a name or error written by
 * hand still prints. NULL only when out of memory. */
json_t *spindle_json_text(const char *p, size_t len);

#endif
