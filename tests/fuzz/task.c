/* Fuzz target "task": the task as a worker reads it after a claim.
 *
 * Input models one entry of the claim script's reply, i.e. the fields of a task hash that
 * anyone who can write to the namespace may have set by hand: the bytes are split at 0xC1
 * (the one byte msgpack never uses, so args can be any msgpack) into up to 7 fields
 * {id, attempt, func, args, timeout, ttl, lease}. The first byte picks each field's RESP type
 * (bulk string, integer or nil), so shapes the script never sends are tried too. The entry is
 * encoded as RESP, parsed by hiredis's reader, read by spindle_store_parse_claimed() and, when
 * that accepts it, run by spindle_execute() against a registry of three functions, exactly as
 * a worker's slot would (without Redis: a task's store is NULL, as in a synchronous client). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/read.h>

#include "store/ops.h"
#include "worker/worker_impl.h"

#define MAX_FIELDS 7
#define SEP 0xC1

/* Returns its args as its result: the args reach a function as decoded. */
static int echo(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *pk)
{
    (void)ctx;
    return msgpack_pack_object(pk, *args);
}

/* Adds integer arguments; fails on anything else (the error path with a message). */
static int sum(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *pk)
{
    int64_t total = 0;
    for (uint32_t i = 0; i < args->via.array.size; i++) {
        const msgpack_object *a = &args->via.array.ptr[i];
        if (a->type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
            a->type != MSGPACK_OBJECT_NEGATIVE_INTEGER)
            return spindle_task_fail(ctx, "argument %u is not an integer", i);
        total = (int64_t)((uint64_t)total + (uint64_t)a->via.i64); /* wraps, no UB */
    }
    return msgpack_pack_int64(pk, total);
}

/* Packs two values: the worker must refuse such a result. */
static int twice(spindle_task_ctx *ctx, const msgpack_object *args, msgpack_packer *pk)
{
    (void)ctx;
    (void)args;
    msgpack_pack_nil(pk);
    return msgpack_pack_nil(pk);
}

static spindle_registry *registry(void)
{
    static spindle_registry *reg;
    if (reg == NULL) {
        reg = spindle_registry_new();
        if (reg == NULL || spindle_registry_add(reg, "echo", echo, NULL) != SPINDLE_OK ||
            spindle_registry_add(reg, "sum", sum, NULL) != SPINDLE_OK ||
            spindle_registry_add(reg, "twice", twice, NULL) != SPINDLE_OK)
            abort();
    }
    return reg;
}

/* Appends one field to the RESP text in buf as type t (0 bulk, 1 integer, 2 nil). */
static size_t put_field(char *buf, size_t at, int t, const uint8_t *p, size_t len)
{
    if (t == 2)
        return at + (size_t)sprintf(buf + at, "$-1\r\n");
    if (t == 1) {
        char num[32];
        size_t n = len < sizeof(num) - 1 ? len : sizeof(num) - 1;
        memcpy(num, p, n);
        num[n] = '\0';
        return at + (size_t)sprintf(buf + at, ":%lld\r\n", strtoll(num, NULL, 10));
    }
    at += (size_t)sprintf(buf + at, "$%zu\r\n", len);
    memcpy(buf + at, p, len);
    at += len;
    buf[at] = '\r';
    buf[at + 1] = '\n';
    return at + 2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t shape = data[0];
    const uint8_t *p = data + 1, *end = data + size;
    const uint8_t *start[MAX_FIELDS];
    size_t len[MAX_FIELDS];
    int n = 0;
    while (n < MAX_FIELDS) {
        const uint8_t *q = memchr(p, SEP, (size_t)(end - p));
        start[n] = p;
        len[n] = (size_t)((q ? q : end) - p);
        n++;
        if (q == NULL)
            break;
        p = q + 1;
    }
    /* The claim script sends id and func as strings, the attempt as an integer: that shape
     * is the most common one (shape bit 7 clear); with bit 7 set, bits 0-6 pick odd types. */
    char *resp = malloc(size * 2 + 64 * (size_t)MAX_FIELDS);
    if (resp == NULL)
        return 0;
    size_t at = (size_t)sprintf(resp, "*%d\r\n", n);
    for (int i = 0; i < n; i++) {
        int t = i == 1 ? 1 : 0;
        if (shape & 0x80)
            t = (shape >> (i % 7)) & 1 ? (t + 1 + (shape & 1)) % 3 : t;
        at = put_field(resp, at, t, start[i], len[i]);
    }
    redisReader *rd = redisReaderCreate();
    void *reply = NULL;
    if (rd == NULL || redisReaderFeed(rd, resp, at) != REDIS_OK ||
        redisReaderGetReply(rd, &reply) != REDIS_OK || reply == NULL)
        abort(); /* the RESP built above is always well formed */
    spindle_claimed c;
    if (spindle_store_parse_claimed(reply, &c) == 0 && c.attempt != 0) {
        msgpack_zone zone;
        msgpack_sbuffer out;
        msgpack_zone_init(&zone, 4096);
        msgpack_sbuffer_init(&out);
        spindle_task_ctx env = {.queue = "fuzz", .worker_id = "fuzz-worker"};
        spindle_execute(registry(), &c, &env, 1, &zone, &out);
        msgpack_sbuffer_destroy(&out);
        msgpack_zone_destroy(&zone);
    }
    freeReplyObject(reply);
    redisReaderFree(rd);
    free(resp);
    return 0;
}
