/* A worker's subscription to the namespace's cancel channel (NS:cancel): its own Redis
 * connection in subscribe mode, read without blocking.
 *
 * Why a connection of its own: a connection that has subscribed can run no other command,
 * and the supervisor must hear of a cancel request within a tick without polling Redis for
 * it. The supervisor waits for its next tick in poll() on this connection's socket, so a
 * message wakes it at once and an idle worker sends nothing. Messages published while the
 * connection was down are lost: the heartbeat's probe (spindle_store_cancel_probe()) is the
 * backstop. */
#ifndef SPINDLE_STORE_CANCEL_SUB_H
#define SPINDLE_STORE_CANCEL_SUB_H

#include "common/names.h"
#include "store/conn.h"

/* One announcement "QUEUE ID ATTEMPT GRACE" (docs/PROTOCOL.md, "Cancellation"). */
typedef struct spindle_cancel_msg {
    char queue[SPINDLE_NAME_MAX + 1];
    char id[SPINDLE_ID_LEN + 1];
    long attempt;
    long grace_ms; /* -1: none given (the worker's default) */
} spindle_cancel_msg;

typedef struct spindle_cancel_sub {
    spindle_store store; /* rc is NULL while not subscribed */
    int opened;          /* the options were valid: (re)subscribing can be tried */
    /* The same connection also listens to NS:cron, where changes to the table of periodic
     * tasks are announced (worker/cron.c): messages heard there, and successful subscribes
     * (after one, messages may have been missed while the connection was down). */
    unsigned long cron_changes, subscriptions;
} spindle_cancel_sub;

/* Parses one message payload of len bytes into m. 0, or -1 if malformed. Pure: no I/O. */
int spindle_cancel_msg_parse(const char *payload, size_t len, spindle_cancel_msg *m);

/* Connects with these options and subscribes. err is borrowed for the life of sub. On
 * SPINDLE_ERR_IO the sub can be retried with spindle_cancel_sub_resubscribe(). */
int spindle_cancel_sub_open(spindle_cancel_sub *sub, const char *url, const char *ns,
                            int connect_timeout_ms, int command_timeout_ms, spindle_error *err);
/* Reconnects and subscribes again (after a lost connection). */
int spindle_cancel_sub_resubscribe(spindle_cancel_sub *sub);
/* The socket to poll() for messages; -1 while not subscribed. */
int spindle_cancel_sub_fd(const spindle_cancel_sub *sub);
/* Reads the messages that have arrived, without blocking, into out[0..*n) (at most cap;
 * more stay buffered for the next call). Malformed messages are skipped. SPINDLE_ERR_IO
 * when the connection was lost: it is dropped, and the caller resubscribes later. */
int spindle_cancel_sub_read(spindle_cancel_sub *sub, spindle_cancel_msg *out, size_t cap,
                            size_t *n);
void spindle_cancel_sub_close(spindle_cancel_sub *sub);

#endif
