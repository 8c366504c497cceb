/* The argument builder (include/spindle/args.h), without a server: every value type, nested
 * arrays and maps, empty containers, array headers of every size class, an unclosed
 * container (SPINDLE_ERR_INVALID until it is completed), the sticky error, the nesting
 * limit, and the cached output being rebuilt after more appends. Every output is decoded
 * with msgpack_unpack() and compared value by value. */
#include <float.h>
#include <stdint.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <msgpack.h>

#include "common/msgpack_check.h"
#include "spindle/args.h"
#include "spindle/status.h"
#include "suites.h"

/* Decodes the builder's output into *obj (memory in zone). 1 if it is exactly one msgpack
 * value that is an array. */
static int decode(spindle_args *a, msgpack_zone *zone, msgpack_object *obj)
{
    const char *data = NULL;
    size_t len = 0;
    int rc = spindle_args_data(a, &data, &len);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    if (rc != SPINDLE_OK)
        return 0;
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack(data, len, &off, zone, obj);
    CU_ASSERT_EQUAL(ur, MSGPACK_UNPACK_SUCCESS);
    CU_ASSERT_EQUAL(off, len);
    CU_ASSERT_EQUAL(obj->type, MSGPACK_OBJECT_ARRAY);
    return ur == MSGPACK_UNPACK_SUCCESS && off == len && obj->type == MSGPACK_OBJECT_ARRAY;
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

static int is_int(const msgpack_object *o, int64_t v)
{
    if (v >= 0)
        return is_uint(o, (uint64_t)v);
    return o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && o->via.i64 == v;
}

static void test_empty(void)
{
    spindle_args *a = spindle_args_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    const char *data = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL(spindle_args_data(a, &data, &len), SPINDLE_OK);
    CU_ASSERT_EQUAL(len, 1);
    CU_ASSERT_EQUAL((unsigned char)data[0], 0x90);
    CU_ASSERT_EQUAL(spindle_args_count(a), 0);
    spindle_args_free(a);
    spindle_args_free(NULL);
}

static void test_every_scalar_type(void)
{
    static const char nul_str[] = {'a', '\0', 'b'};
    static const unsigned char bin[] = {0x00, 0x01, 0xc1, 0xff};
    static const char utf8[] = "h\xc3\xa9llo \xe2\x9c\x93";
    spindle_args *a = spindle_args_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(spindle_args_int(a, -1), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_int(a, INT64_MIN), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_int(a, INT64_MAX), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_int(a, 0), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_uint(a, UINT64_MAX), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_uint(a, 300), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_double(a, 0.1), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_double(a, -DBL_MAX), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_bool(a, 1), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_bool(a, 0), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_bool(a, 42), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_nil(a), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_str(a, utf8), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_str(a, ""), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_strn(a, nul_str, sizeof(nul_str)), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_strn(a, NULL, 0), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_bin(a, bin, sizeof(bin)), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_bin(a, NULL, 0), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_count(a), 18);

    msgpack_zone zone;
    msgpack_zone_init(&zone, 1024);
    msgpack_object o;
    if (decode(a, &zone, &o)) {
        CU_ASSERT_EQUAL_FATAL(o.via.array.size, 18);
        const msgpack_object *v = o.via.array.ptr;
        CU_ASSERT_TRUE(is_int(&v[0], -1));
        CU_ASSERT_TRUE(is_int(&v[1], INT64_MIN));
        CU_ASSERT_TRUE(is_int(&v[2], INT64_MAX));
        CU_ASSERT_TRUE(is_uint(&v[3], 0));
        CU_ASSERT_TRUE(is_uint(&v[4], UINT64_MAX));
        CU_ASSERT_TRUE(is_uint(&v[5], 300));
        CU_ASSERT_EQUAL(v[6].type, MSGPACK_OBJECT_FLOAT64);
        CU_ASSERT_EQUAL(v[6].via.f64, 0.1);
        CU_ASSERT_EQUAL(v[7].type, MSGPACK_OBJECT_FLOAT64);
        CU_ASSERT_EQUAL(v[7].via.f64, -DBL_MAX);
        CU_ASSERT_EQUAL(v[8].type, MSGPACK_OBJECT_BOOLEAN);
        CU_ASSERT_TRUE(v[8].via.boolean);
        CU_ASSERT_EQUAL(v[9].type, MSGPACK_OBJECT_BOOLEAN);
        CU_ASSERT_FALSE(v[9].via.boolean);
        CU_ASSERT_EQUAL(v[10].type, MSGPACK_OBJECT_BOOLEAN);
        CU_ASSERT_TRUE(v[10].via.boolean);
        CU_ASSERT_EQUAL(v[11].type, MSGPACK_OBJECT_NIL);
        CU_ASSERT_TRUE(is_str(&v[12], utf8, sizeof(utf8) - 1));
        CU_ASSERT_TRUE(is_str(&v[13], "", 0));
        CU_ASSERT_TRUE(is_str(&v[14], nul_str, 3));
        CU_ASSERT_TRUE(is_str(&v[15], "", 0));
        CU_ASSERT_EQUAL(v[16].type, MSGPACK_OBJECT_BIN);
        CU_ASSERT_EQUAL(v[16].via.bin.size, sizeof(bin));
        CU_ASSERT_EQUAL(memcmp(v[16].via.bin.ptr, bin, sizeof(bin)), 0);
        CU_ASSERT_EQUAL(v[17].type, MSGPACK_OBJECT_BIN);
        CU_ASSERT_EQUAL(v[17].via.bin.size, 0);
    }
    msgpack_zone_destroy(&zone);
    spindle_args_free(a);
}

/* [1, ["x", {"k": []}], {}], 7  and  {1: "one", nil: [true, 2.5]} */
static void test_nested(void)
{
    spindle_args *a = spindle_args_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(spindle_args_array(a, 3), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_int(a, 1), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_array(a, 2), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_str(a, "x"), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_map(a, 1), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_str(a, "k"), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_array(a, 0), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_map(a, 0), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_count(a), 1);
    CU_ASSERT_EQUAL(spindle_args_int(a, 7), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_map(a, 2), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_int(a, 1), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_str(a, "one"), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_nil(a), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_array(a, 2), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_bool(a, 1), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_double(a, 2.5), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_count(a), 3);

    msgpack_zone zone;
    msgpack_zone_init(&zone, 1024);
    msgpack_object o;
    if (decode(a, &zone, &o)) {
        CU_ASSERT_EQUAL_FATAL(o.via.array.size, 3);
        const msgpack_object *outer = &o.via.array.ptr[0];
        CU_ASSERT_EQUAL_FATAL(outer->type, MSGPACK_OBJECT_ARRAY);
        CU_ASSERT_EQUAL_FATAL(outer->via.array.size, 3);
        CU_ASSERT_TRUE(is_uint(&outer->via.array.ptr[0], 1));
        const msgpack_object *inner = &outer->via.array.ptr[1];
        CU_ASSERT_EQUAL_FATAL(inner->type, MSGPACK_OBJECT_ARRAY);
        CU_ASSERT_EQUAL_FATAL(inner->via.array.size, 2);
        CU_ASSERT_TRUE(is_str(&inner->via.array.ptr[0], "x", 1));
        const msgpack_object *m = &inner->via.array.ptr[1];
        CU_ASSERT_EQUAL_FATAL(m->type, MSGPACK_OBJECT_MAP);
        CU_ASSERT_EQUAL_FATAL(m->via.map.size, 1);
        CU_ASSERT_TRUE(is_str(&m->via.map.ptr[0].key, "k", 1));
        CU_ASSERT_EQUAL(m->via.map.ptr[0].val.type, MSGPACK_OBJECT_ARRAY);
        CU_ASSERT_EQUAL(m->via.map.ptr[0].val.via.array.size, 0);
        CU_ASSERT_EQUAL(outer->via.array.ptr[2].type, MSGPACK_OBJECT_MAP);
        CU_ASSERT_EQUAL(outer->via.array.ptr[2].via.map.size, 0);

        CU_ASSERT_TRUE(is_uint(&o.via.array.ptr[1], 7));

        const msgpack_object *m2 = &o.via.array.ptr[2];
        CU_ASSERT_EQUAL_FATAL(m2->type, MSGPACK_OBJECT_MAP);
        CU_ASSERT_EQUAL_FATAL(m2->via.map.size, 2);
        CU_ASSERT_TRUE(is_uint(&m2->via.map.ptr[0].key, 1));
        CU_ASSERT_TRUE(is_str(&m2->via.map.ptr[0].val, "one", 3));
        CU_ASSERT_EQUAL(m2->via.map.ptr[1].key.type, MSGPACK_OBJECT_NIL);
        const msgpack_object *pair = &m2->via.map.ptr[1].val;
        CU_ASSERT_EQUAL_FATAL(pair->type, MSGPACK_OBJECT_ARRAY);
        CU_ASSERT_EQUAL_FATAL(pair->via.array.size, 2);
        CU_ASSERT_EQUAL(pair->via.array.ptr[0].type, MSGPACK_OBJECT_BOOLEAN);
        CU_ASSERT_EQUAL(pair->via.array.ptr[1].via.f64, 2.5);
    }
    msgpack_zone_destroy(&zone);
    spindle_args_free(a);
}

/* Empty containers as the last element of their parent close the parent too. */
static void test_empty_containers_close_parents(void)
{
    spindle_args *a = spindle_args_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(spindle_args_array(a, 1), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_array(a, 1), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_map(a, 0), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_array(a, 0), SPINDLE_OK); /* a second top-level value */
    CU_ASSERT_EQUAL(spindle_args_count(a), 2);
    msgpack_zone zone;
    msgpack_zone_init(&zone, 256);
    msgpack_object o;
    if (decode(a, &zone, &o)) {
        CU_ASSERT_EQUAL_FATAL(o.via.array.size, 2);
        const msgpack_object *x = &o.via.array.ptr[0];
        CU_ASSERT_EQUAL_FATAL(x->type, MSGPACK_OBJECT_ARRAY);
        CU_ASSERT_EQUAL_FATAL(x->via.array.size, 1);
        CU_ASSERT_EQUAL_FATAL(x->via.array.ptr[0].type, MSGPACK_OBJECT_ARRAY);
        CU_ASSERT_EQUAL(x->via.array.ptr[0].via.array.ptr[0].type, MSGPACK_OBJECT_MAP);
        CU_ASSERT_EQUAL(o.via.array.ptr[1].type, MSGPACK_OBJECT_ARRAY);
        CU_ASSERT_EQUAL(o.via.array.ptr[1].via.array.size, 0);
    }
    msgpack_zone_destroy(&zone);
    spindle_args_free(a);
}

/* Top-level counts past the fixarray (15) and array16 (65535) limits get the right header. */
static void test_header_sizes(void)
{
    static const size_t counts[] = {15, 16, 65535, 65536};
    static const unsigned char headers[] = {0x9f, 0xdc, 0xdc, 0xdd};
    for (size_t k = 0; k < 4; k++) {
        spindle_args *a = spindle_args_new();
        CU_ASSERT_PTR_NOT_NULL_FATAL(a);
        for (size_t i = 0; i < counts[k]; i++)
            spindle_args_uint(a, i);
        CU_ASSERT_EQUAL(spindle_args_count(a), counts[k]);
        const char *data = NULL;
        size_t len = 0;
        CU_ASSERT_EQUAL(spindle_args_data(a, &data, &len), SPINDLE_OK);
        CU_ASSERT_EQUAL((unsigned char)data[0], headers[k]);
        msgpack_zone zone;
        msgpack_zone_init(&zone, 4096);
        msgpack_object o;
        if (decode(a, &zone, &o)) {
            CU_ASSERT_EQUAL(o.via.array.size, counts[k]);
            CU_ASSERT_TRUE(is_uint(&o.via.array.ptr[counts[k] - 1], counts[k] - 1));
        }
        msgpack_zone_destroy(&zone);
        spindle_args_free(a);
    }
}

static void test_unclosed_container(void)
{
    spindle_args *a = spindle_args_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    const char *data = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL(spindle_args_array(a, 2), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_int(a, 1), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_data(a, &data, &len), SPINDLE_ERR_INVALID);
    /* An open container is not an error of the values: completing it makes the list valid. */
    CU_ASSERT_EQUAL(spindle_args_int(a, 2), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_data(a, &data, &len), SPINDLE_OK);
    spindle_args_free(a);

    /* A map with a key and no value. */
    a = spindle_args_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(spindle_args_map(a, 1), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_str(a, "key"), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_data(a, &data, &len), SPINDLE_ERR_INVALID);
    spindle_args_free(a);

    /* An inner container left open inside a complete-looking outer one. */
    a = spindle_args_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(spindle_args_array(a, 1), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_array(a, 3), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_nil(a), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_data(a, &data, &len), SPINDLE_ERR_INVALID);
    spindle_args_free(a);
}

static void test_sticky_error(void)
{
    spindle_args *a = spindle_args_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(spindle_args_int(a, 1), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_str(a, NULL), SPINDLE_ERR_INVALID);
    /* Every later call reports the first error and appends nothing. */
    CU_ASSERT_EQUAL(spindle_args_int(a, 2), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_args_str(a, "fine"), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_args_array(a, 1), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_args_map(a, 1), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_args_nil(a), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_args_count(a), 1);
    const char *data = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL(spindle_args_data(a, &data, &len), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NULL(data);
    spindle_args_free(a);

    a = spindle_args_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(spindle_args_bin(a, NULL, 4), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_args_bool(a, 1), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_args_data(a, &data, &len), SPINDLE_ERR_INVALID);
    spindle_args_free(a);

    a = spindle_args_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(spindle_args_strn(a, NULL, 3), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_args_double(a, 1.0), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_args_uint(a, 1), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_args_count(a), 0);
    spindle_args_free(a);
}

/* The deepest args the builder makes are the deepest a worker accepts: SPINDLE_MSGPACK_MAX_DEPTH
 * containers, the outer args array included. (Regression, tests/fuzz/args.c: the builder took
 * 64 levels, and every worker refused such args; the input is tests/fuzz/corpus/args/deep.) */
static void test_nesting_limit(void)
{
    const int open = SPINDLE_MSGPACK_MAX_DEPTH - 1;
    spindle_args *a = spindle_args_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    int rc = SPINDLE_OK;
    for (int i = 0; i < open && rc == SPINDLE_OK; i++)
        rc = spindle_args_array(a, 1);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_int(a, 1), SPINDLE_OK);
    const char *data = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL(spindle_args_data(a, &data, &len), SPINDLE_OK);
    CU_ASSERT_EQUAL(len, (size_t)(1 + open + 1));
    CU_ASSERT_PTR_NULL(spindle_msgpack_check(data, len, SPINDLE_MSGPACK_MAX_DEPTH));
    spindle_args_free(a);

    a = spindle_args_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    rc = SPINDLE_OK;
    for (int i = 0; i < open && rc == SPINDLE_OK; i++)
        rc = spindle_args_array(a, 1);
    CU_ASSERT_EQUAL(spindle_args_map(a, 1), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_args_int(a, 1), SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(spindle_args_data(a, &data, &len), SPINDLE_ERR_INVALID);
    spindle_args_free(a);
}

static void test_data_after_more_appends(void)
{
    spindle_args *a = spindle_args_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    const char *data = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL(spindle_args_int(a, 5), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_data(a, &data, &len), SPINDLE_OK);
    CU_ASSERT_EQUAL(len, 2);
    CU_ASSERT_EQUAL(memcmp(data, "\x91\x05", 2), 0);
    /* The same answer twice. */
    CU_ASSERT_EQUAL(spindle_args_data(a, &data, &len), SPINDLE_OK);
    CU_ASSERT_EQUAL(len, 2);
    CU_ASSERT_EQUAL(spindle_args_str(a, "ab"), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_args_data(a, &data, &len), SPINDLE_OK);
    CU_ASSERT_EQUAL(len, 5);
    CU_ASSERT_EQUAL(memcmp(data,
                           "\x92\x05\xa2"
                           "ab",
                           5),
                    0);
    spindle_args_free(a);
}

int register_args_tests(void)
{
    static const test_case tests[] = {
        {"empty list is an empty array", test_empty},
        {"every scalar type", test_every_scalar_type},
        {"nested arrays and maps", test_nested},
        {"empty containers close their parents", test_empty_containers_close_parents},
        {"array header size classes", test_header_sizes},
        {"unclosed container -> SPINDLE_ERR_INVALID", test_unclosed_container},
        {"sticky error", test_sticky_error},
        {"nesting limit (SPINDLE_MSGPACK_MAX_DEPTH, the outer array included)", test_nesting_limit},
        {"data rebuilt after more appends", test_data_after_more_appends},
        {NULL, NULL},
    };
    return add_suite("args builder (pure)", NULL, NULL, tests);
}
