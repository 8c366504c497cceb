/* Redis Cluster hash slots: CRC16 (XMODEM) of a key's hash tag, modulo 16384. Pure
 * functions, so the routing of every key can be unit tested without a cluster. */
#ifndef SPINDLE_STORE_CRC16_H
#define SPINDLE_STORE_CRC16_H

#include <stddef.h>

#define SPINDLE_CLUSTER_SLOTS 16384

/* CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0) of p[0..len). */
unsigned spindle_crc16(const char *p, size_t len);

/* The hash slot of key[0..len): the CRC16 of the text between the first '{' and the next
 * '}' when that is not empty, else of the whole key. */
int spindle_key_slot(const char *key, size_t len);

#endif
