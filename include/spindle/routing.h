/* Routing: a producer-side table that sends each function to a queue, so that callers enqueue
 * by function name alone and operators move a function to another pool of workers by
 * changing one line of a file.
 *
 * A route table holds entries PATTERN -> QUEUE. A pattern is a function name (an exact
 * entry) or a glob in the style of fnmatch(3): `*` any run of characters, `?` one
 * character, `[abc]`, `[a-z]`, `[!abc]` (or `[^abc]`) one character of (or not of) a set.
 * Patterns use the characters of names ([A-Za-z0-9_.:-]) plus those. Lookup order:
 *   1. an exact entry equal to the function name wins, wherever it was added;
 *   2. otherwise the first pattern, in the order added, that matches;
 *   3. otherwise no route: the task goes to "default".
 * An explicit queue in spindle_enqueue_options always wins over the table.
 *
 * As a text file: one `PATTERN QUEUE` per line, separated by spaces or tabs; `#` starts a
 * comment (to the end of the line); blank lines are ignored. For example:
 *
 *     resize       gpu        # exact: wins over img.*
 *     img.*        images
 *     report_?     reports
 *
 * A table is not thread-safe while entries are added; lookups only read it, so one finished
 * table may serve many clients and threads. Errors stick to the table until the next failing
 * call: read them with spindle_routes_errstr(). */
#ifndef SPINDLE_ROUTING_H
#define SPINDLE_ROUTING_H

#include <stddef.h>

#include "spindle/client.h"
#include "spindle/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest pattern accepted, in bytes: room for a name of the longest length (128) with a few
 * bracket sets in it. */
#define SPINDLE_ROUTE_PATTERN_MAX 256
/* Largest route file read, in bytes: a table of thousands of lines; anything bigger is a
 * wrong path, not a table. */
#define SPINDLE_ROUTES_FILE_MAX (1u << 20)

typedef struct spindle_routes spindle_routes;

/* A new empty table. Caller frees with spindle_routes_free(). NULL if out of memory. */
spindle_routes *spindle_routes_new(void);
/* Frees t and its entries. NULL is a no-op. */
void spindle_routes_free(spindle_routes *t);
/* The message of the last failed call on t, borrowed until the next call on t; "" if none. */
const char *spindle_routes_errstr(const spindle_routes *t);

/* Adds PATTERN -> QUEUE (both copied). SPINDLE_ERR_INVALID, and nothing added, for a queue
 * that is not a valid name, a pattern with other characters or an unclosed `[`, or a pattern
 * already in the table (a second entry could never be used). */
int spindle_routes_add(spindle_routes *t, const char *pattern, const char *queue);

/* Adds the entries of text[0..len) in the file format above. source names the text in
 * messages (a path; NULL: "routes"). A bad line fails the call with SPINDLE_ERR_INVALID and
 * a message "SOURCE, line N: what is wrong", and no entry of text is added. */
int spindle_routes_parse(spindle_routes *t, const char *text, size_t len, const char *source);

/* Reads the file at path and adds its entries as spindle_routes_parse() does.
 * SPINDLE_ERR_IO if the file cannot be read, SPINDLE_ERR_TOO_LARGE past
 * SPINDLE_ROUTES_FILE_MAX, SPINDLE_ERR_INVALID for a bad line (named). */
int spindle_routes_load(spindle_routes *t, const char *path);

/* The queue func routes to, borrowed until t changes or is freed; NULL if no entry matches. */
const char *spindle_routes_lookup(const spindle_routes *t, const char *func);
/* Number of entries. */
size_t spindle_routes_count(const spindle_routes *t);

/* ---- a client's routes ------------------------------------------------------------------ */

/* Routes the enqueues of c (spindle_enqueue(), spindle_enqueue_msgpack(),
 * spindle_enqueue_bulk(), spindle_enqueue_processed()) through t, which is borrowed: it must
 * outlive c or be replaced first, and may be changed between calls on c. NULL: no routing.
 * Replaces any table set before (one loaded by spindle_client_load_routes() is freed), and
 * $SPINDLE_ROUTES is no longer read. Works on synchronous clients too. Always SPINDLE_OK. */
int spindle_client_set_routes(spindle_client *c, const spindle_routes *t);

/* Reads the route file at path into a table owned by c, which replaces any table set before
 * (a route change takes effect at the next enqueue). On failure c keeps its table and the
 * message (spindle_errstr(c)) names the file and, for a bad line, the line. */
int spindle_client_load_routes(spindle_client *c, const char *path);

/* Without either call above, the first enqueue of a client that needs a route (one without
 * an explicit queue) reads the file named by the environment variable SPINDLE_ROUTES (if set
 * and not empty) as spindle_client_load_routes() would; if that fails the enqueue fails with
 * its message ("$SPINDLE_ROUTES: FILE, line N: ..."), and the next enqueue tries again. */
#define SPINDLE_ROUTES_ENV "SPINDLE_ROUTES"

#ifdef __cplusplus
}
#endif
#endif
