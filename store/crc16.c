/* Hash slots of Redis Cluster (crc16.h), computed bit by bit: a key is a few dozen bytes and
 * the slot is taken once per command in cluster mode only, so a table buys nothing. */
#include "store/crc16.h"

#include <string.h>

unsigned spindle_crc16(const char *p, size_t len)
{
    unsigned crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (unsigned)(unsigned char)p[i] << 8;
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    return crc;
}

int spindle_key_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t rest = len - (size_t)(open - key) - 1;
        const char *close = memchr(open + 1, '}', rest);
        if (close && close > open + 1)
            return (int)(spindle_crc16(open + 1, (size_t)(close - open - 1)) %
                         SPINDLE_CLUSTER_SLOTS);
    }
    return (int)(spindle_crc16(key, len) % SPINDLE_CLUSTER_SLOTS);
}
