/* What the chaos check reads back: the tasks' states from Redis and the executions the task
 * library logged.
 *
 * States are read with plain Redis commands on the key layout of docs/PROTOCOL.md (queue
 * "default", namespace "spindle"), as an operator would with redis-cli, so the check does not
 * rely on the client code it is testing. Every read takes a connection the caller owns and
 * reports a lost one, since Redis is restarted during the run. */
#ifndef SPINDLE_CHAOS_AUDIT_H
#define SPINDLE_CHAOS_AUDIT_H

#include <stddef.h>

#include <hiredis/hiredis.h>

/* One enqueued task, as last read. */
typedef struct audit_task {
    char id[37];    /* the UUID */
    char state[12]; /* as in its hash; "" while unread or if the hash is missing */
    int missing;    /* the hash was not there at the last read */
    long attempts, lost, retried;
    long runs; /* lines in the executions log */
} audit_task;

/* A connection to 127.0.0.1:port with a 1 s connect and a 5 s command timeout; NULL if it
 * cannot be made (or PING is not answered: Redis may be loading its AOF). Caller frees with
 * redisFree(). */
redisContext *audit_connect(int port);

/* The tasks still waiting: LLEN pending + ZCARD scheduled; -1 if Redis failed. */
long audit_left(redisContext *c);

/* Reads state, attempts, lost and retried of every task not yet seen final (all of them
 * with all = 1). Returns how many of the n are final, or -1 if Redis failed. */
long audit_read(redisContext *c, audit_task *t, size_t n, int all);

/* 1 if state names a final state. */
int audit_is_final(const audit_task *t);

/* Counts the log's lines into t[].runs (t sorted by id with audit_sort()). *executions gets
 * the lines, *unknown those naming no task of t (or malformed). -1 if the log cannot be
 * read. */
int audit_count_runs(const char *log, audit_task *t, size_t n, long *executions, long *unknown);
void audit_sort(audit_task *t, size_t n);

/* Prints the task's hash on stderr, for a task that ended wrong (args and result, which are
 * msgpack, are left out). */
void audit_show(redisContext *c, const audit_task *t);

#endif
