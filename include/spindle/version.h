/* Spindle version and protocol version. The Makefile reads SPINDLE_VERSION from this
 * file to name the shared library and to write spindle.pc, so the two never disagree. */
#ifndef SPINDLE_VERSION_H
#define SPINDLE_VERSION_H

#define SPINDLE_VERSION "0.1.0"
#define SPINDLE_VERSION_MAJOR 0
/* The Redis key layout of docs/PROTOCOL.md. */
#define SPINDLE_PROTOCOL_VERSION 4

#endif
