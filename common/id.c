/* Task ids: random (version 4) UUIDs in lowercase text.
 *
 * Why not libuuid's uuid_generate_random() for each id: it makes six system calls per id
 * (getrandom, then getpid, getuid, getpid, getppid and gettid to stir its fallback
 * generator; strace shows them), which cost more than everything else a producer does for a
 * task but the round trip to Redis. Here each thread
 * draws 64 ids' worth of bytes from the kernel at once (getrandom(2), the same source) and
 * hands them out. A forked child must never hand out the bytes its parent will also use: a
 * pthread_atfork() handler empties the pool of the thread that forked (the only thread a
 * child has). When getrandom() is unavailable, libuuid is the fallback. */
#include "common/names.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/random.h>

#include <uuid/uuid.h>

enum { ID_BYTES = 16, POOL_IDS = 64 };

static _Thread_local unsigned char pool[ID_BYTES * POOL_IDS];
static _Thread_local size_t pool_used = sizeof(pool);
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void pool_forget(void)
{
    pool_used = sizeof(pool);
}

static void register_atfork(void)
{
    (void)pthread_atfork(NULL, NULL, pool_forget);
}

/* Fills the pool from the kernel; 0, or -1 if getrandom() cannot (yet). */
static int pool_fill(void)
{
    size_t got = 0;
    while (got < sizeof(pool)) {
        /* GRND_NONBLOCK: never wait for the entropy pool at early boot (libuuid neither). */
        ssize_t n = getrandom(pool + got, sizeof(pool) - got, GRND_NONBLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    pool_used = 0;
    return 0;
}

void spindle_id_new(char out[SPINDLE_ID_LEN + 1])
{
    (void)pthread_once(&atfork_once, register_atfork);
    uuid_t u;
    if (pool_used + ID_BYTES > sizeof(pool) && pool_fill() != 0) {
        uuid_generate_random(u);
        uuid_unparse_lower(u, out);
        return;
    }
    for (int i = 0; i < ID_BYTES; i++)
        u[i] = pool[pool_used + (size_t)i];
    pool_used += ID_BYTES;
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4: random */
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* variant 1 (RFC 4122) */
    uuid_unparse_lower(u, out);
}
