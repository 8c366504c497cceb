/* libmicrohttpd, loaded only when a worker serves metrics (--metrics-addr).
 *
 * Why not linked: Debian's libmicrohttpd pulls in gnutls, nettle and p11-kit, and a process
 * that links it maps and initialises them all — which doubled the resident memory of every
 * worker process (and of every program linking libspindle) from about 2.6 to 5.2 MB, for a
 * feature most workers do not turn on. Loaded with dlopen() at start, it costs only the
 * workers that serve metrics. The header's types and constants are used as they are; only the
 * functions go through this table. */
#ifndef SPINDLE_WORKER_MHD_H
#define SPINDLE_WORKER_MHD_H

#include <microhttpd.h>

#include "common/error.h"
#include "spindle/status.h"

typedef struct spindle_mhd {
    __typeof__(MHD_start_daemon) *start_daemon;
    __typeof__(MHD_stop_daemon) *stop_daemon;
    __typeof__(MHD_get_daemon_info) *get_daemon_info;
    __typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
    __typeof__(MHD_add_response_header) *add_response_header;
    __typeof__(MHD_queue_response) *queue_response;
    __typeof__(MHD_destroy_response) *destroy_response;
} spindle_mhd;

/* Loads libmicrohttpd (once per process; later calls return the same table) into *out.
 * SPINDLE_ERR_INVALID with the loader's message if the library or a function is missing
 * (install libmicrohttpd12). */
int spindle_mhd_load(const spindle_mhd **out, spindle_error *err);

#endif
