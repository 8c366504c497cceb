/* spindle-worker: serves queues with the functions of the task libraries it loads.
 *
 *   spindle-worker [--redis URL] [--namespace NS] [--queues high,default] --load lib.so …
 *   spindle-worker --queues high:6,default:3,low:1 …   (weighted instead of strict order)
 *
 * Exit codes: 0 after a graceful stop (SIGINT/SIGTERM), 1 on a runtime failure (Redis
 * unreachable at start, bad queue name), 2 on a usage error or a library that fails to load. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/argtype.h"
#include "common/cron.h"
#include "common/log.h"
#include "spindle/client.h"
#include "spindle/version.h"
#include "spindle/worker.h"
#include "worker/metrics.h"

#define MAX_QUEUES 32
#define MAX_LIBS 64
#define MAX_CRON 64
/* Most arguments of one --cron entry. */
#define MAX_CRON_ARGS 32

static void usage(FILE *out)
{
    fprintf(out,
            "usage: spindle-worker [options] --load LIB.so [--load LIB2.so …]\n"
            "  --redis URL          redis://[user:pass@]host[:port][/db] or unix:///path\n"
            "                       or cluster://host:port[,host:port...] (Redis Cluster)\n"
            "                       or sentinel://host:port[,host:port...]/master-name\n"
            "                       (default: $SPINDLE_REDIS_URL, else redis://127.0.0.1:6379)\n"
            "  --namespace NS       key namespace (default: spindle)\n"
            "  --queues Q1,Q2       queues to serve, highest priority first (default: default)\n"
            "  --queues Q1:W1,Q2:W2 weighted instead of strict: each queue with work gets a\n"
            "                       share of the tasks claimed in proportion to its weight\n"
            "                       (1-1000), e.g. high:6,default:3,low:1\n"
            "  --load LIB.so        task library exporting spindle_register_tasks()\n"
            "  --prefetch N         most tasks claimed per round trip (default 128)\n"
            "  --log-level LEVEL    debug, info, warn or error (default info)\n"
            "  --log-format FORMAT  text (default) or json: one JSON object per line with\n"
            "                       time, level, worker, task, func, queue, duration_ms, message\n"
            "  --metrics-addr HOST:PORT  serve Prometheus metrics on http://HOST:PORT/metrics\n"
            "                       (e.g. 127.0.0.1:9464; HOST an IPv4, [IPv6] or localhost)\n"
            "  --allow-eviction     run even if Redis's maxmemory-policy may evict keys\n"
            "  --concurrency N      tasks run at once, one per slot (default 1)\n"
            "  --pool KIND          process (default: a child process per slot, crash\n"
            "                       isolation, timeouts kill) or thread (threads of one\n"
            "                       process, for thread-safe I/O-bound functions)\n"
            "  --default-timeout S  hard timeout for tasks enqueued without one (default none)\n"
            "  --shutdown-timeout S on SIGTERM, running tasks get S seconds before they are\n"
            "                       put back on pending (default 25; a second signal: now)\n"
            "  --heartbeat-interval S, --heartbeat-ttl S, --sweep-interval S\n"
            "                       heartbeat period and TTL and lost-worker sweep period\n"
            "                       (defaults 2, 6 and 3 s; fractions allowed)\n"
            "  --progress-interval MS  write a task's progress reports at most once per\n"
            "                       MS ms (default 100; 0: every report)\n"
            "  --max-args-bytes N, --max-result-bytes N\n"
            "                       fail tasks whose args or result are larger (bytes;\n"
            "                       default 1048576 each)\n"
            "  --max-items N        most items one attempt of a task may emit (default\n"
            "                       100000)\n"
            "  --max-depth N        fail tasks whose args nest deeper (1-32, default 32)\n"
            "  --max-channel-msg-bytes N\n"
            "                       largest channel message a task writes or reads (bytes,\n"
            "                       1-1048576, default 1048576)\n"
            "  --cancel-grace MS    after a cancel request without a grace of its own, kill\n"
            "                       a task still running after MS ms (default -1: never;\n"
            "                       tasks stop when they see spindle_task_cancelled())\n"
            "  --cron 'NAME=SPEC FUNC [ARG...]'\n"
            "                       declare a periodic task (repeatable): written to Redis at\n"
            "                       start, fired by the whole fleet on the first --queues\n"
            "                       queue. SPEC (UTC): 5 fields 'M H DOM MON DOW', @hourly,\n"
            "                       @daily, @weekly, @monthly, @yearly or '@every 30s'; ARGs\n"
            "                       typed as by 'spindle enqueue', one word each\n"
            "  --cron-catch-up N    ticks missed while no worker ran that the --cron entries\n"
            "                       fire late, 0-100 (default 0: skipped)\n"
            "  --check              liveness probe: exit 0 if a worker on this host has a\n"
            "                       fresh heartbeat in Redis, 1 otherwise\n"
            "  --version, --help\n");
}

/* Parses a duration in seconds (fractions allowed) into ms; -1 if malformed or out of
 * [min_ms, 1 day]. */
static long parse_seconds(const char *text, long min_ms)
{
    char *end = NULL;
    double v = strtod(text, &end);
    if (*text == '\0' || *end || !(v * 1000.0 >= (double)min_ms) || v > 86400.0)
        return -1;
    return (long)(v * 1000.0 + 0.5);
}

/* Splits a comma-separated list of QUEUE or QUEUE:WEIGHT (WEIGHT: digits) in place into out[] and
 * weights[]; returns the count, or -1 after printing why the list is refused (too many
 * names, a weight not in 1-SPINDLE_MAX_WEIGHT, weights on some queues only). *weighted is
 * set to 1 when the queues have weights. */
static int split_queues(char *list, const char **out, int *weights, int *weighted)
{
    int n = 0, with = 0;
    for (char *save = NULL, *q = strtok_r(list, ",", &save); q; q = strtok_r(NULL, ",", &save)) {
        if (n == MAX_QUEUES) {
            fprintf(stderr, "spindle-worker: --queues takes at most %d names\n", MAX_QUEUES);
            return -1;
        }
        /* Queue names may hold ':' (jobs:v2): only a last ':' followed by digits is a weight. */
        char *colon = strrchr(q, ':'), *end = NULL;
        long wt = 0;
        if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
            wt = strtol(colon + 1, &end, 10);
            if (*end || wt < 1 || wt > SPINDLE_MAX_WEIGHT) {
                fprintf(stderr,
                        "spindle-worker: --queues: weight '%s' of queue '%.*s' is not in 1-%d\n",
                        colon + 1, (int)(colon - q), q, SPINDLE_MAX_WEIGHT);
                return -1;
            }
            *colon = '\0';
            with++;
        }
        weights[n] = (int)wt;
        out[n++] = q;
    }
    if (with > 0 && with < n) {
        fprintf(stderr, "spindle-worker: --queues: give a weight to every queue (high:6,low:1) "
                        "or to none (strict order)\n");
        return -1;
    }
    *weighted = with > 0;
    return n;
}

/* The entries of --cron, and what they own. */
typedef struct cron_flags {
    spindle_cron_entry entries[MAX_CRON];
    char *lines[MAX_CRON];
    char specs[MAX_CRON][SPINDLE_CRON_SPEC_MAX];
    spindle_args *args[MAX_CRON];
    int n;
} cron_flags;

/* Parses one --cron value into the next entry; 0, or 2 after printing why it is wrong. */
static int add_cron(cron_flags *cf, const char *text)
{
    if (cf->n == MAX_CRON) {
        fprintf(stderr, "spindle-worker: at most %d --cron options\n", MAX_CRON);
        return 2;
    }
    int i = cf->n;
    char *name, *func, *words[MAX_CRON_ARGS];
    size_t nargs = 0;
    spindle_error err;
    const char *data = NULL;
    size_t len = 0;
    cf->lines[i] = strdup(text);
    cf->args[i] = spindle_args_new();
    if (cf->lines[i] == NULL || cf->args[i] == NULL) {
        fprintf(stderr, "spindle-worker: out of memory\n");
        return 2;
    }
    cf->n++;
    if (spindle_cron_split_line(cf->lines[i], &name, cf->specs[i], &func, words, MAX_CRON_ARGS,
                                &nargs, &err) != SPINDLE_OK) {
        fprintf(stderr, "spindle-worker: --cron: %s\n", err.msg);
        return 2;
    }
    for (size_t k = 0; k < nargs; k++)
        spindle_cli_type_arg(cf->args[i], words[k]);
    if (spindle_args_data(cf->args[i], &data, &len) != SPINDLE_OK) {
        fprintf(stderr, "spindle-worker: --cron '%s': out of memory\n", name);
        return 2;
    }
    spindle_cron_entry *e = &cf->entries[i];
    spindle_cron_entry_init(e);
    e->name = name;
    e->spec = cf->specs[i];
    e->func = func;
    e->args = data;
    e->args_len = len;
    char why[SPINDLE_ERROR_MAX];
    if (spindle_cron_check(e->spec, why, sizeof(why)) != SPINDLE_OK) {
        fprintf(stderr, "spindle-worker: --cron '%s': %s\n", name, why);
        return 2;
    }
    return 0;
}

static void free_cron(cron_flags *cf)
{
    for (int i = 0; i < cf->n; i++) {
        free(cf->lines[i]);
        spindle_args_free(cf->args[i]);
    }
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"redis", required_argument, 0, 'r'},
                                             {"namespace", required_argument, 0, 'n'},
                                             {"queues", required_argument, 0, 'q'},
                                             {"load", required_argument, 0, 'l'},
                                             {"prefetch", required_argument, 0, 'p'},
                                             {"log-level", required_argument, 0, 'L'},
                                             {"allow-eviction", no_argument, 0, 'E'},
                                             {"version", no_argument, 0, 'V'},
                                             {"help", no_argument, 0, 'h'},
                                             {"concurrency", required_argument, 0, 'c'},
                                             {"pool", required_argument, 0, 'P'},
                                             {"default-timeout", required_argument, 0, 't'},
                                             {"shutdown-timeout", required_argument, 0, 's'},
                                             {"heartbeat-interval", required_argument, 0, 'i'},
                                             {"heartbeat-ttl", required_argument, 0, 'T'},
                                             {"sweep-interval", required_argument, 0, 'S'},
                                             {"check", no_argument, 0, 'C'},
                                             {"progress-interval", required_argument, 0, 'I'},
                                             {"cancel-grace", required_argument, 0, 'G'},
                                             {"cron", required_argument, 0, 'R'},
                                             {"cron-catch-up", required_argument, 0, 'U'},
                                             {"log-format", required_argument, 0, 'F'},
                                             {"metrics-addr", required_argument, 0, 'M'},
                                             {"max-args-bytes", required_argument, 0, 1001},
                                             {"max-result-bytes", required_argument, 0, 1002},
                                             {"max-items", required_argument, 0, 1003},
                                             {"max-depth", required_argument, 0, 1004},
                                             {"max-channel-msg-bytes", required_argument, 0, 1005},
                                             {0, 0, 0, 0}};
    spindle_worker_options opts;
    spindle_worker_options_init(&opts);
    const char *queues[MAX_QUEUES];
    int weights[MAX_QUEUES], nqueues = 0, weighted = 0;
    spindle_registry *reg = spindle_registry_new();
    if (reg == NULL) {
        fprintf(stderr, "spindle-worker: out of memory\n");
        return 1;
    }
    const char *libs[MAX_LIBS];
    static cron_flags cron; /* static: about 20 KiB */
    long catch_up = 0;
    int nlibs = 0, ch, code = 0, check = 0;
    long ms;
    while (code == 0 && (ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (ch) {
        case 'r':
            opts.url = optarg;
            break;
        case 'n':
            opts.ns = optarg;
            break;
        case 'q':
            nqueues = split_queues(optarg, queues, weights, &weighted);
            if (nqueues == 0)
                fprintf(stderr, "spindle-worker: --queues needs 1 to %d names\n", MAX_QUEUES);
            if (nqueues <= 0)
                code = 2;
            break;
        case 'l':
            if (nlibs == MAX_LIBS) {
                fprintf(stderr, "spindle-worker: at most %d --load options\n", MAX_LIBS);
                code = 2;
            } else {
                libs[nlibs++] = optarg;
            }
            break;
        case 'p':
            opts.prefetch = (int)strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || opts.prefetch < 1 || opts.prefetch > 1024) {
                fprintf(stderr, "spindle-worker: --prefetch '%s' is not in 1-1024\n", optarg);
                code = 2;
            }
            break;
        case 'L':
            opts.log_level = spindle_log_level_parse(optarg);
            if (opts.log_level < 0) {
                fprintf(stderr, "spindle-worker: --log-level '%s' is not debug|info|warn|error\n",
                        optarg);
                code = 2;
            }
            break;
        case 'F':
            opts.log_format = spindle_log_format_parse(optarg);
            if (opts.log_format < 0) {
                fprintf(stderr, "spindle-worker: --log-format '%s' is not text|json\n", optarg);
                code = 2;
            }
            break;
        case 'M': {
            struct sockaddr_storage addr;
            socklen_t len;
            spindle_error err;
            opts.metrics_addr = optarg;
            if (spindle_metrics_addr_parse(optarg, &addr, &len, &err) != SPINDLE_OK) {
                fprintf(stderr, "spindle-worker: --metrics-addr: %s\n", err.msg);
                code = 2;
            }
            break;
        }
        case 'E':
            opts.allow_eviction = 1;
            break;
        case 'c':
            opts.concurrency = (int)strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || opts.concurrency < 1 || opts.concurrency > 1024) {
                fprintf(stderr, "spindle-worker: --concurrency '%s' is not in 1-1024\n", optarg);
                code = 2;
            }
            break;
        case 'P':
            if (strcmp(optarg, "process") == 0) {
                opts.pool = SPINDLE_POOL_PROCESS;
            } else if (strcmp(optarg, "thread") == 0) {
                opts.pool = SPINDLE_POOL_THREAD;
            } else {
                fprintf(stderr, "spindle-worker: --pool '%s' is not process|thread\n", optarg);
                code = 2;
            }
            break;
        case 't':
        case 's':
            if ((ms = parse_seconds(optarg, 0)) < 0 || ms % 1000 != 0) {
                fprintf(stderr,
                        "spindle-worker: --%s '%s' is not a whole number of seconds "
                        "(0-86400)\n",
                        ch == 't' ? "default-timeout" : "shutdown-timeout", optarg);
                code = 2;
            } else if (ch == 't') {
                opts.default_timeout_s = ms / 1000;
            } else {
                opts.shutdown_timeout_s = ms / 1000;
            }
            break;
        case 'i':
        case 'T':
        case 'S':
            if ((ms = parse_seconds(optarg, 10)) < 0) {
                fprintf(stderr, "spindle-worker: '%s' is not a duration in seconds (0.01-86400)\n",
                        optarg);
                code = 2;
            } else if (ch == 'i') {
                opts.heartbeat_interval_ms = ms;
            } else if (ch == 'T') {
                opts.heartbeat_ttl_ms = ms;
            } else {
                opts.sweep_interval_ms = ms;
            }
            break;
        case 'C':
            check = 1;
            break;
        case 'I':
            opts.progress_interval_ms = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || opts.progress_interval_ms < 0 ||
                opts.progress_interval_ms > 86400000L) {
                fprintf(stderr, "spindle-worker: --progress-interval '%s' is not in 0-86400000\n",
                        optarg);
                code = 2;
            }
            break;
        case 1001:
        case 1002:
        case 1003: {
            static const char *const flag[] = {"max-args-bytes", "max-result-bytes", "max-items"};
            long n = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || n < 1) {
                fprintf(stderr, "spindle-worker: --%s '%s' is not a positive number\n",
                        flag[ch - 1001], optarg);
                code = 2;
            } else if (ch == 1001) {
                opts.max_args_bytes = n;
            } else if (ch == 1002) {
                opts.max_result_bytes = n;
            } else {
                opts.max_items = n;
            }
            break;
        }
        case 1004:
            opts.max_depth = (int)strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || opts.max_depth < 1 ||
                opts.max_depth > SPINDLE_MSGPACK_MAX_DEPTH || strlen(optarg) > 3) {
                fprintf(stderr, "spindle-worker: --max-depth '%s' is not in 1-%d\n", optarg,
                        SPINDLE_MSGPACK_MAX_DEPTH);
                code = 2;
            }
            break;
        case 1005:
            opts.max_channel_msg_bytes = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || opts.max_channel_msg_bytes < 1 ||
                opts.max_channel_msg_bytes > SPINDLE_CHANNEL_MSG_MAX) {
                fprintf(stderr, "spindle-worker: --max-channel-msg-bytes '%s' is not in 1-%ld\n",
                        optarg, SPINDLE_CHANNEL_MSG_MAX);
                code = 2;
            }
            break;
        case 'G':
            opts.cancel_grace_ms = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || opts.cancel_grace_ms < -1 ||
                opts.cancel_grace_ms > SPINDLE_MAX_CANCEL_GRACE_MS) {
                fprintf(stderr, "spindle-worker: --cancel-grace '%s' is not -1 or 0-%ld (ms)\n",
                        optarg, SPINDLE_MAX_CANCEL_GRACE_MS);
                code = 2;
            }
            break;
        case 'R':
            code = add_cron(&cron, optarg);
            break;
        case 'U':
            catch_up = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || catch_up < 0 || catch_up > SPINDLE_CRON_MAX_CATCH_UP) {
                fprintf(stderr, "spindle-worker: --cron-catch-up '%s' is not in 0-%d\n", optarg,
                        SPINDLE_CRON_MAX_CATCH_UP);
                code = 2;
            }
            break;
        case 'V':
            printf("spindle-worker %s (protocol %d)\n", SPINDLE_VERSION, SPINDLE_PROTOCOL_VERSION);
            code = -1;
            break;
        case 'h':
            usage(stdout);
            code = -1;
            break;
        default:
            usage(stderr);
            code = 2;
        }
    }
    if (code == 0 && optind < argc) {
        fprintf(stderr, "spindle-worker: unexpected argument '%s'\n", argv[optind]);
        code = 2;
    }
    if (code == 0 && check) {
        spindle_registry_free(reg);
        return spindle_worker_check(&opts) == SPINDLE_OK ? 0 : 1;
    }
    if (code == 0 && nlibs == 0) {
        fprintf(stderr, "spindle-worker: no task library given (--load LIB.so)\n");
        usage(stderr);
        code = 2;
    }
    /* Loaded once all options are read, so --log-level applies to these lines too. The
     * paths are logged: loading a library runs its code (see the trust model in README). */
    spindle_log_set_format(opts.log_format);
    spindle_log_setup(opts.log_level, NULL);
    for (int i = 0; code == 0 && i < nlibs; i++) {
        spindle_log(SPINDLE_LOG_INFO, NULL, "loading task library %s", libs[i]);
        if (spindle_registry_load(reg, libs[i]) != SPINDLE_OK) {
            fprintf(stderr, "spindle-worker: %s\n", spindle_registry_errstr(reg));
            code = 2;
        }
    }
    if (code == 0) {
        opts.queues = nqueues ? queues : NULL;
        opts.nqueues = (size_t)nqueues;
        for (int i = 0; i < cron.n; i++) {
            cron.entries[i].opts.queue = nqueues ? queues[0] : NULL;
            cron.entries[i].catch_up = (int)catch_up;
        }
        opts.cron = cron.entries;
        opts.ncron = (size_t)cron.n;
        opts.weights = weighted ? weights : NULL;
        code = spindle_worker_main(&opts, reg);
    }
    free_cron(&cron);
    spindle_registry_free(reg);
    return code < 0 ? 0 : code;
}
