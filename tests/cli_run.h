/* Running the `spindle` binary from a test, against the test's Redis and namespace, and
 * reading its table output. Shared by the suites that check the command line (test_cli*.c,
 * and the CLI cases of the cancellation, groups and routing suites). */
#ifndef SPINDLE_TESTS_CLI_RUN_H
#define SPINDLE_TESTS_CLI_RUN_H

#include <stddef.h>

#include "harness.h"

/* Runs `spindle --redis URL --namespace NS ARGS…` (build/bin/spindle; NULL-terminated, at
 * most 24 arguments); a failure to run it is a CUnit failure. out and err are never NULL;
 * the caller frees the result with harness_output_free(). */
harness_output cli_run(const char *first, ...);
/* The same with the arguments as a NULL-terminated array. */
harness_output cli_run_argv(const char *const *args);
/* The same against another Redis URL (a cluster:// or sentinel:// one, say). */
harness_output cli_run_url_argv(const char *url, const char *const *args);

/* The line of text that starts with prefix, copied into buf (cap bytes); NULL if none. */
char *cli_line_starting(const char *text, const char *prefix, char *buf, size_t cap);
/* The words of a line, split on runs of spaces (a newline ends the last), into words[] (at
 * most max), in place; their count. */
int cli_split_words(char *line, char **words, int max);

/* Runs tmux -S SOCK ARGS… (NULL-terminated, at most 28 arguments): a test's own tmux server
 * on a private socket, for commands that need a terminal. Its exit code (-1 if it could not
 * be run); its output in *out if out is not NULL (caller frees). */
int cli_tmux(const char *sock, char **out, const char *first, ...);
/* Waits up to ms (scaled by harness_scaled_ms) for file to hold a whole line, as the exit
 * code a shell in tmux writes there; that text, or "(not exited)". Caller frees. */
char *cli_wait_line(const char *file, long ms);

#endif
