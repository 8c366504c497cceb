/* The Lua scripts of the protocol (sources in scripts.c, contracts above each one). */
#ifndef SPINDLE_STORE_SCRIPTS_H
#define SPINDLE_STORE_SCRIPTS_H

enum spindle_script {
    SPINDLE_SCRIPT_ENQUEUE,
    SPINDLE_SCRIPT_CLAIM,
    SPINDLE_SCRIPT_SETTLE,
    SPINDLE_SCRIPT_RECOVER,
    SPINDLE_SCRIPT_RETRY,
    SPINDLE_SCRIPT_WAIT,
    SPINDLE_SCRIPT_HEARTBEAT,
    SPINDLE_SCRIPT_AUDIT,
    SPINDLE_SCRIPT_CHANNEL,
    SPINDLE_SCRIPT_PROGRESS,
    SPINDLE_SCRIPT_EMIT,
    SPINDLE_SCRIPT_ITEMS_OPEN,
    SPINDLE_SCRIPT_CANCEL,
    SPINDLE_SCRIPT_CRON,
    SPINDLE_SCRIPT_CRON_ENQUEUE,
    SPINDLE_SCRIPT_ENQUEUE_OPTS,
    SPINDLE_SCRIPT_LIMITS,
    SPINDLE_SCRIPT_GROUP,
    SPINDLE_SCRIPT_GROUP_PURGE,
    SPINDLE_SCRIPT_ENQUEUE_DEPS,
    SPINDLE_SCRIPT_SERIAL,
    SPINDLE_SCRIPT_LEASE,
    SPINDLE_SCRIPT_PURGE,
    SPINDLE_SCRIPT_COUNT
};

/* The Lua source of a script: a static string. */
const char *spindle_script_source(enum spindle_script id);
/* A short name for messages ("claim"). */
const char *spindle_script_name(enum spindle_script id);

#endif
