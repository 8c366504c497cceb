/* Convenience header for Spindle's users: includes every public header. Spindle's own
 * sources include only the headers they use. */
#ifndef SPINDLE_H
#define SPINDLE_H

#include "spindle/admin.h"
#include "spindle/args.h"
#include "spindle/batch.h"
#include "spindle/bounds.h"
#include "spindle/callbacks.h"
#include "spindle/channel.h"
#include "spindle/client.h"
#include "spindle/group.h"
#include "spindle/deps.h"
#include "spindle/limits.h"
#include "spindle/middleware.h"
#include "spindle/processor.h"
#include "spindle/progress.h"
#include "spindle/routing.h"
#include "spindle/single_file.h"
#include "spindle/state.h"
#include "spindle/status.h"
#include "spindle/sync.h"
#include "spindle/version.h"
#include "spindle/worker.h"

#endif
