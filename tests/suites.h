/* The suites of the test binary: each tests/test_*.c file registers its own with CUnit
 * through one function listed here, and main.c calls them in order. Pure suites (no server)
 * come first; the CLI suite comes last. */
#ifndef SPINDLE_TESTS_SUITES_H
#define SPINDLE_TESTS_SUITES_H

#include <CUnit/CUnit.h>

/* A NULL-terminated table of a suite's tests. */
typedef struct test_case {
    const char *name;
    CU_TestFunc fn;
} test_case;

/* Adds a suite and its tests to the CUnit registry. 0 on success. */
int add_suite(const char *name, CU_InitializeFunc init, CU_CleanupFunc cleanup,
              const test_case *tests);

int register_url_tests(void);
int register_cluster_tests(void);
int register_names_tests(void);
int register_args_tests(void);
int register_msgpack_check_tests(void);
int register_sync_tests(void);
int register_roundtrip_tests(void);
int register_types_tests(void);
int register_ttl_tests(void);
int register_bad_tasks_tests(void);
int register_garbage_tests(void);
int register_redis_errors_tests(void);
int register_task_api_tests(void);
int register_invalid_tests(void);
int register_wait_tests(void);
int register_connection_tests(void);
int register_queue_tests(void);
int register_stop_tests(void);
int register_audit_tests(void);
int register_retry_tests(void);
int register_listing_tests(void);
int register_fleet_crash_tests(void);
int register_fleet_recovery_tests(void);
int register_fleet_timeout_tests(void);
int register_retry_policy_tests(void);
int register_bounds_tests(void);
int register_fuzz_regress_tests(void);
int register_metrics_tests(void);
int register_batch_tests(void);
int register_fleet_stop_tests(void);
int register_fleet_redis_tests(void);
int register_fleet_check_tests(void);
int register_fleet_pool_tests(void);
int register_channel_tests(void);
int register_middleware_tests(void);
int register_wait_many_tests(void);
int register_progress_tests(void);
int register_items_tests(void);
int register_cancel_tests(void);
int register_deps_tests(void);
int register_cron_spec_tests(void);
int register_watch_rate_tests(void);
int register_cron_tests(void);
int register_route_table_tests(void);
int register_routing_tests(void);
int register_processor_tests(void);
int register_schedule_tests(void);
int register_priority_tests(void);
int register_rate_limit_tests(void);
int register_group_tests(void);
int register_cli_tests(void);
int register_cli_list_tests(void);
int register_cli_stats_tests(void);
int register_single_file_tests(void);
int register_hosts_tests(void);
int register_acl_tests(void);
int register_sentinel_tests(void);

#endif
