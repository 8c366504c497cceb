/* Points in time given on the command line (`spindle enqueue --at`): ms since the epoch, or
 * an ISO-8601 UTC time. A pure parser, so that it is tested without a server. */
#ifndef SPINDLE_CLI_TIMEARG_H
#define SPINDLE_CLI_TIMEARG_H

#include <stdint.h>

/* Parses text as either decimal ms since the epoch ("1767225600000") or an ISO-8601 UTC time
 * "YYYY-MM-DDTHH:MM:SS[.fff]Z" (a space may replace the T; 1 to 3 fraction digits), between
 * 1970 and 9999. Returns 0 with *ms set, or -1 (nothing else is accepted: no time zones
 * other than Z, no dates without a time). */
int spindle_cli_parse_time(const char *text, int64_t *ms);

#endif
