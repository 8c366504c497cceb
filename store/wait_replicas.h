/* WAIT after a write script, for callers who want a write on a replica before they call it
 * acknowledged (Redis replicates asynchronously: see README, "Redis Sentinel"). */
#ifndef SPINDLE_STORE_WAIT_REPLICAS_H
#define SPINDLE_STORE_WAIT_REPLICAS_H

#include "store/conn.h"

/* As spindle_store_eval(); when s->wait_replicas > 0, also sends WAIT wait_replicas
 * wait_timeout_ms in the same round trip (pipelined). If fewer replicas acknowledged, the
 * reply is freed and NULL returned with SPINDLE_ERR_REDIS and a message saying how many did:
 * the write was applied on the master but could be lost if it failed now. */
redisReply *spindle_store_eval_acked(spindle_store *s, enum spindle_script script, int nkeys,
                                     const spindle_cmd *cmd);

#endif
