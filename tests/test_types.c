/* Every argument type through Redis and a worker and back: int64 min and max, uint64 max,
 * doubles, booleans, nil, strings with embedded NUL bytes and UTF-8, bin, nested arrays and
 * maps, empty containers. The args are built with the builder, stored verbatim in the task
 * hash (checked with a raw HGET), echoed by the `echo` task of a forked worker, and the
 * returned value is compared field by field. Also a ready-made msgpack buffer through
 * spindle_enqueue_msgpack() with a float32 the builder cannot make. */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "harness.h"
#include "suites.h"

static spindle_client *client;

static int suite_init(void)
{
    return harness_suite_init_with_worker(&client);
}

static int suite_cleanup(void)
{
    return harness_suite_cleanup_client(&client);
}

static int is_str(const msgpack_object *o, const char *s, size_t len)
{
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == len &&
           (len == 0 || memcmp(o->via.str.ptr, s, len) == 0);
}

static int is_uint(const msgpack_object *o, uint64_t v)
{
    return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 == v;
}

/* Enqueues echo(args), checks the stored args are the builder's bytes, and waits for the
 * result. Returns the result (caller frees) or NULL. */
static spindle_result *echo(spindle_args *args)
{
    const char *data = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(spindle_args_data(args, &data, &len), SPINDLE_OK);
    spindle_handle *h = NULL;
    int rc = spindle_enqueue(client, "echo", args, NULL, &h);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    if (rc != SPINDLE_OK) {
        fprintf(stderr, "\n  enqueue echo: %s\n", spindle_errstr(client));
        return NULL;
    }
    char key[512];
    harness_task_key(key, sizeof(key), h);
    size_t stored_len = 0;
    char *stored = harness_hget(key, "args", &stored_len);
    CU_ASSERT_PTR_NOT_NULL(stored);
    CU_ASSERT_EQUAL(stored_len, len);
    CU_ASSERT_TRUE(stored && stored_len == len && memcmp(stored, data, len) == 0);
    free(stored);

    spindle_result *r = NULL;
    rc = spindle_wait(client, h, HARNESS_WAIT_MS, &r);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    if (rc != SPINDLE_OK)
        fprintf(stderr, "\n  wait echo: %s\n", spindle_errstr(client));
    spindle_handle_free(h);
    if (rc != SPINDLE_OK) {
        spindle_result_free(r);
        return NULL;
    }
    return r;
}

static void test_integers(void)
{
    spindle_args *a = spindle_args_new();
    spindle_args_int(a, INT64_MIN);
    spindle_args_int(a, INT64_MAX);
    spindle_args_uint(a, UINT64_MAX);
    spindle_args_int(a, -1);
    spindle_args_int(a, 0);
    spindle_args_int(a, -129);
    spindle_args_uint(a, 4294967296ULL);
    spindle_result *r = echo(a);
    spindle_args_free(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    const msgpack_object *v = spindle_result_value(r);
    CU_ASSERT_EQUAL(v->type, MSGPACK_OBJECT_ARRAY);
    if (v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 7) {
        const msgpack_object *e = v->via.array.ptr;
        CU_ASSERT_EQUAL(e[0].type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
        CU_ASSERT_EQUAL(e[0].via.i64, INT64_MIN);
        CU_ASSERT_TRUE(is_uint(&e[1], (uint64_t)INT64_MAX));
        CU_ASSERT_TRUE(is_uint(&e[2], UINT64_MAX));
        CU_ASSERT_EQUAL(e[3].type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
        CU_ASSERT_EQUAL(e[3].via.i64, -1);
        CU_ASSERT_TRUE(is_uint(&e[4], 0));
        CU_ASSERT_EQUAL(e[5].via.i64, -129);
        CU_ASSERT_TRUE(is_uint(&e[6], 4294967296ULL));
    } else {
        CU_FAIL("echo did not return a 7-element array");
    }
    spindle_result_free(r);
}

static void test_floats_bools_nil(void)
{
    spindle_args *a = spindle_args_new();
    spindle_args_double(a, 0.1);
    spindle_args_double(a, -DBL_MAX);
    spindle_args_double(a, DBL_MIN);
    spindle_args_double(a, -0.0);
    spindle_args_bool(a, 1);
    spindle_args_bool(a, 0);
    spindle_args_nil(a);
    spindle_result *r = echo(a);
    spindle_args_free(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    const msgpack_object *v = spindle_result_value(r);
    if (v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 7) {
        const msgpack_object *e = v->via.array.ptr;
        for (int i = 0; i < 4; i++)
            CU_ASSERT_EQUAL(e[i].type, MSGPACK_OBJECT_FLOAT64);
        CU_ASSERT_EQUAL(e[0].via.f64, 0.1);
        CU_ASSERT_EQUAL(e[1].via.f64, -DBL_MAX);
        CU_ASSERT_EQUAL(e[2].via.f64, DBL_MIN);
        CU_ASSERT_TRUE(e[3].via.f64 == 0.0 && (1.0 / e[3].via.f64) < 0); /* the sign survives */
        CU_ASSERT_EQUAL(e[4].type, MSGPACK_OBJECT_BOOLEAN);
        CU_ASSERT_TRUE(e[4].via.boolean);
        CU_ASSERT_EQUAL(e[5].type, MSGPACK_OBJECT_BOOLEAN);
        CU_ASSERT_FALSE(e[5].via.boolean);
        CU_ASSERT_EQUAL(e[6].type, MSGPACK_OBJECT_NIL);
    } else {
        CU_FAIL("echo did not return a 7-element array");
    }
    spindle_result_free(r);
}

static void test_strings_and_bin(void)
{
    static const char with_nul[] = {'a', '\0', 'b', '\0'};
    static const unsigned char bytes[] = {0x00, 0xc1, 0xff, 0x90, 0x00};
    /* UTF-8, and a colon like the one in a completion token "succeeded:PAYLOAD". */
    static const char utf8[] = "gr\xc3\xbc\xc3\x9f \xe2\x9c\x93 succeeded:colon";
    char big[3000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    spindle_args *a = spindle_args_new();
    spindle_args_strn(a, with_nul, sizeof(with_nul));
    spindle_args_str(a, "");
    spindle_args_str(a, utf8);
    spindle_args_bin(a, bytes, sizeof(bytes));
    spindle_args_bin(a, NULL, 0);
    spindle_args_strn(a, big, sizeof(big));
    spindle_result *r = echo(a);
    spindle_args_free(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    const msgpack_object *v = spindle_result_value(r);
    if (v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 6) {
        const msgpack_object *e = v->via.array.ptr;
        CU_ASSERT_TRUE(is_str(&e[0], with_nul, sizeof(with_nul)));
        CU_ASSERT_TRUE(is_str(&e[1], "", 0));
        CU_ASSERT_TRUE(is_str(&e[2], utf8, sizeof(utf8) - 1));
        CU_ASSERT_EQUAL(e[3].type, MSGPACK_OBJECT_BIN);
        CU_ASSERT_EQUAL(e[3].via.bin.size, sizeof(bytes));
        CU_ASSERT_TRUE(e[3].via.bin.size == sizeof(bytes) &&
                       memcmp(e[3].via.bin.ptr, bytes, sizeof(bytes)) == 0);
        CU_ASSERT_EQUAL(e[4].type, MSGPACK_OBJECT_BIN);
        CU_ASSERT_EQUAL(e[4].via.bin.size, 0);
        CU_ASSERT_TRUE(is_str(&e[5], big, sizeof(big)));
    } else {
        CU_FAIL("echo did not return a 6-element array");
    }
    spindle_result_free(r);
}

/* [[1, [2, "x"]], {"k": [true, nil], 7: {}}, []] */
static void test_nested(void)
{
    spindle_args *a = spindle_args_new();
    spindle_args_array(a, 2);
    spindle_args_int(a, 1);
    spindle_args_array(a, 2);
    spindle_args_int(a, 2);
    spindle_args_str(a, "x");
    spindle_args_map(a, 2);
    spindle_args_str(a, "k");
    spindle_args_array(a, 2);
    spindle_args_bool(a, 1);
    spindle_args_nil(a);
    spindle_args_int(a, 7);
    spindle_args_map(a, 0);
    spindle_args_array(a, 0);
    CU_ASSERT_EQUAL(spindle_args_count(a), 3);
    spindle_result *r = echo(a);
    spindle_args_free(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    const msgpack_object *v = spindle_result_value(r);
    CU_ASSERT_EQUAL_FATAL(v->type, MSGPACK_OBJECT_ARRAY);
    CU_ASSERT_EQUAL_FATAL(v->via.array.size, 3);
    const msgpack_object *a0 = &v->via.array.ptr[0];
    CU_ASSERT_EQUAL_FATAL(a0->type, MSGPACK_OBJECT_ARRAY);
    CU_ASSERT_EQUAL_FATAL(a0->via.array.size, 2);
    CU_ASSERT_TRUE(is_uint(&a0->via.array.ptr[0], 1));
    const msgpack_object *a01 = &a0->via.array.ptr[1];
    CU_ASSERT_EQUAL_FATAL(a01->type, MSGPACK_OBJECT_ARRAY);
    CU_ASSERT_EQUAL_FATAL(a01->via.array.size, 2);
    CU_ASSERT_TRUE(is_uint(&a01->via.array.ptr[0], 2));
    CU_ASSERT_TRUE(is_str(&a01->via.array.ptr[1], "x", 1));

    const msgpack_object *m = &v->via.array.ptr[1];
    CU_ASSERT_EQUAL_FATAL(m->type, MSGPACK_OBJECT_MAP);
    CU_ASSERT_EQUAL_FATAL(m->via.map.size, 2);
    CU_ASSERT_TRUE(is_str(&m->via.map.ptr[0].key, "k", 1));
    const msgpack_object *kv = &m->via.map.ptr[0].val;
    CU_ASSERT_EQUAL_FATAL(kv->type, MSGPACK_OBJECT_ARRAY);
    CU_ASSERT_EQUAL_FATAL(kv->via.array.size, 2);
    CU_ASSERT_EQUAL(kv->via.array.ptr[0].type, MSGPACK_OBJECT_BOOLEAN);
    CU_ASSERT_TRUE(kv->via.array.ptr[0].via.boolean);
    CU_ASSERT_EQUAL(kv->via.array.ptr[1].type, MSGPACK_OBJECT_NIL);
    CU_ASSERT_TRUE(is_uint(&m->via.map.ptr[1].key, 7));
    CU_ASSERT_EQUAL(m->via.map.ptr[1].val.type, MSGPACK_OBJECT_MAP);
    CU_ASSERT_EQUAL(m->via.map.ptr[1].val.via.map.size, 0);

    CU_ASSERT_EQUAL(v->via.array.ptr[2].type, MSGPACK_OBJECT_ARRAY);
    CU_ASSERT_EQUAL(v->via.array.ptr[2].via.array.size, 0);
    spindle_result_free(r);
}

/* No arguments at all: the task gets an empty array and echoes it. */
static void test_no_args(void)
{
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue(client, "echo", NULL, NULL, &h), SPINDLE_OK);
    char key[512];
    harness_task_key(key, sizeof(key), h);
    char *stored = harness_hget(key, "args", NULL);
    CU_ASSERT_STRING_EQUAL(stored ? stored : "", "\x90");
    free(stored);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    const msgpack_object *v = r ? spindle_result_value(r) : NULL;
    CU_ASSERT_TRUE(v && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 0);
    spindle_result_free(r);
    spindle_handle_free(h);
}

/* A ready-made msgpack array: [float32 1.5, fixext1] passes through untouched. */
static void test_enqueue_msgpack(void)
{
    static const char buf[] = "\x93\xca\x3f\xc0\x00\x00\xd4\x05\x2a\xc0";
    spindle_handle *h = NULL;
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue_msgpack(client, "echo", buf, sizeof(buf) - 1, NULL, &h),
                          SPINDLE_OK);
    spindle_result *r = NULL;
    CU_ASSERT_EQUAL(spindle_wait(client, h, HARNESS_WAIT_MS, &r), SPINDLE_OK);
    const msgpack_object *v = r ? spindle_result_value(r) : NULL;
    CU_ASSERT_TRUE(v && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 3);
    if (v && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 3) {
        CU_ASSERT_EQUAL(v->via.array.ptr[0].type, MSGPACK_OBJECT_FLOAT32);
        CU_ASSERT_EQUAL(v->via.array.ptr[0].via.f64, 1.5);
        CU_ASSERT_EQUAL(v->via.array.ptr[1].type, MSGPACK_OBJECT_EXT);
        CU_ASSERT_EQUAL(v->via.array.ptr[1].via.ext.type, 5);
        CU_ASSERT_EQUAL(v->via.array.ptr[1].via.ext.size, 1);
        CU_ASSERT_EQUAL(v->via.array.ptr[2].type, MSGPACK_OBJECT_NIL);
    }
    size_t len = 0;
    const char *raw = r ? spindle_result_raw(r, &len) : NULL;
    CU_ASSERT_TRUE(raw && len == sizeof(buf) - 1 && memcmp(raw, buf, len) == 0);
    spindle_result_free(r);
    spindle_handle_free(h);
}

/* Bulk specs without args get an empty array, like spindle_enqueue() with NULL args. */
static void test_bulk_without_args(void)
{
    spindle_task_spec specs[2] = {{"echo", NULL, 0}, {"echo", "\x91\x07", 2}};
    spindle_handle *h[2] = {NULL, NULL};
    CU_ASSERT_EQUAL_FATAL(spindle_enqueue_bulk(client, specs, 2, NULL, h), SPINDLE_OK);
    for (int i = 0; i < 2; i++) {
        spindle_result *r = NULL;
        CU_ASSERT_EQUAL(spindle_wait(client, h[i], HARNESS_WAIT_MS, &r), SPINDLE_OK);
        const msgpack_object *v = r ? spindle_result_value(r) : NULL;
        CU_ASSERT_TRUE(v && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == (uint32_t)i);
        if (i == 1 && v && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 1)
            CU_ASSERT_TRUE(is_uint(&v->via.array.ptr[0], 7));
        spindle_result_free(r);
        spindle_handle_free(h[i]);
    }
}

int register_types_tests(void)
{
    static const test_case tests[] = {
        {"int64 min/max, uint64 max", test_integers},
        {"double, bool, nil", test_floats_bools_nil},
        {"strings with NUL, UTF-8, bin", test_strings_and_bin},
        {"nested arrays and maps", test_nested},
        {"no arguments", test_no_args},
        {"ready-made msgpack (float32, ext)", test_enqueue_msgpack},
        {"bulk specs without args", test_bulk_without_args},
        {NULL, NULL},
    };
    return add_suite("argument types via echo", suite_init, suite_cleanup, tests);
}
