/* The test binary's entry point: registers every suite with CUnit, runs them in basic
 * verbose mode (the "Run Summary" block is what CI reads), and exits non-zero if anything
 * failed: an assertion, a test, or a suite's setup.
 *
 * SPINDLE_TEST_SUITE=NAME runs only the suite of that name. */
#include <stdio.h>
#include <stdlib.h>

#include <CUnit/Basic.h>

#include "harness.h"
#include "suites.h"

int add_suite(const char *name, CU_InitializeFunc init, CU_CleanupFunc cleanup,
              const test_case *tests)
{
    CU_pSuite s = CU_add_suite(name, init, cleanup);
    if (s == NULL)
        return -1;
    for (const test_case *t = tests; t->name; t++)
        if (CU_add_test(s, t->name, t->fn) == NULL)
            return -1;
    return 0;
}

int main(void)
{
    harness_init();
    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "spindle-tests: %s\n", CU_get_error_msg());
        return 2;
    }
    int (*const registrars[])(void) = {
        register_url_tests,           register_names_tests,
        register_cron_spec_tests,     register_watch_rate_tests,
        register_route_table_tests,   register_args_tests,
        register_msgpack_check_tests, register_roundtrip_tests,
        register_types_tests,         register_ttl_tests,
        register_bad_tasks_tests,     register_task_api_tests,
        register_invalid_tests,       register_wait_tests,
        register_connection_tests,    register_queue_tests,
        register_stop_tests,          register_audit_tests,
        register_retry_tests,         register_listing_tests,
        register_fleet_crash_tests,   register_fleet_recovery_tests,
        register_fleet_timeout_tests, register_retry_policy_tests,
        register_fleet_stop_tests,    register_fleet_redis_tests,
        register_fleet_check_tests,   register_fleet_pool_tests,
        register_channel_tests,       register_sync_tests,
        register_middleware_tests,    register_wait_many_tests,
        register_progress_tests,      register_items_tests,
        register_cancel_tests,        register_cron_tests,
        register_schedule_tests,      register_routing_tests,
        register_processor_tests,     register_priority_tests,
        register_rate_limit_tests,    register_batch_tests,
        register_group_tests,         register_deps_tests,
        register_single_file_tests,   register_cli_tests,
        register_cli_list_tests,      register_cli_stats_tests,
        register_metrics_tests,       register_hosts_tests,
        register_bounds_tests,        register_fuzz_regress_tests,
        register_cluster_tests,       register_garbage_tests,
        register_redis_errors_tests,  register_acl_tests,
        register_sentinel_tests,
    };
    for (size_t i = 0; i < sizeof(registrars) / sizeof(registrars[0]); i++) {
        if (registrars[i]() != 0) {
            fprintf(stderr, "spindle-tests: registering suites: %s\n", CU_get_error_msg());
            CU_cleanup_registry();
            return 2;
        }
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_ErrorCode rc;
    const char *only = getenv("SPINDLE_TEST_SUITE");
    if (only && *only) {
        CU_pSuite s = CU_get_suite(only);
        if (s == NULL) {
            fprintf(stderr, "spindle-tests: no suite named '%s'\n", only);
            CU_cleanup_registry();
            return 2;
        }
        rc = CU_basic_run_suite(s);
    } else {
        rc = CU_basic_run_tests();
    }
    const CU_RunSummary *sum = CU_get_run_summary();
    int failed = rc != CUE_SUCCESS || sum->nSuitesFailed > 0 || sum->nTestsFailed > 0 ||
                 sum->nAssertsFailed > 0 || CU_get_number_of_failures() > 0;
    /* CI shows only the tail of the output: repeat each failure where it will be seen. */
    for (CU_pFailureRecord f = CU_get_failure_list(); f != NULL; f = f->pNext)
        printf("spindle-tests: failed: %s / %s: %s:%u: %s\n", f->pSuite ? f->pSuite->pName : "?",
               f->pTest ? f->pTest->pName : "(suite setup)", f->strFileName ? f->strFileName : "?",
               f->uiLineNumber, f->strCondition ? f->strCondition : "?");
    printf("\nspindle-tests: %s (redis at %s, namespace %s)\n", failed ? "FAILED" : "passed",
           harness_url()[0] ? harness_url() : "-", harness_ns());
    CU_cleanup_registry();
    harness_teardown(failed);
    return failed ? 1 : 0;
}
