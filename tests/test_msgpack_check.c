/* The msgpack bounds check (common/msgpack_check.h), without a server: every kind of value
 * packed by msgpack-c passes; truncation at every byte, containers declaring more elements
 * than bytes, nesting past the limit, the undefined byte 0xc1 and trailing junk are refused
 * with a message saying which. */
#include <string.h>

#include <CUnit/CUnit.h>
#include <msgpack.h>

#include "common/msgpack_check.h"
#include "suites.h"

/* Packs one value of every kind into sb, inside an array. */
static void pack_everything(msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 12);
    msgpack_pack_nil(&pk);
    msgpack_pack_true(&pk);
    msgpack_pack_int64(&pk, -123456789012345LL);
    msgpack_pack_uint64(&pk, UINT64_MAX);
    msgpack_pack_double(&pk, 2.5);
    msgpack_pack_float(&pk, 1.5f);
    msgpack_pack_str_with_body(&pk, "hello", 5);
    char big[300];
    memset(big, 'x', sizeof(big));
    msgpack_pack_str_with_body(&pk, big, sizeof(big)); /* str16 */
    msgpack_pack_bin_with_body(&pk, big, 40);
    msgpack_pack_ext_with_body(&pk, big, 4, 7); /* fixext4 */
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "k", 1);
    msgpack_pack_array(&pk, 20); /* array16 */
    for (int i = 0; i < 20; i++)
        msgpack_pack_int(&pk, i);
    msgpack_pack_array(&pk, 0);
}

static void test_valid_values_pass(void)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_everything(&sb);
    CU_ASSERT_PTR_NULL(spindle_msgpack_check(sb.data, sb.size, SPINDLE_MSGPACK_MAX_DEPTH));
    CU_ASSERT_PTR_NULL(spindle_msgpack_check("\x90", 1, SPINDLE_MSGPACK_MAX_DEPTH));
    CU_ASSERT_PTR_NULL(spindle_msgpack_check("\xc0", 1, SPINDLE_MSGPACK_MAX_DEPTH));
    msgpack_sbuffer_destroy(&sb);
}

static void test_every_truncation_refused(void)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_everything(&sb);
    for (size_t len = 0; len < sb.size; len++) {
        const char *why = spindle_msgpack_check(sb.data, len, SPINDLE_MSGPACK_MAX_DEPTH);
        CU_ASSERT_PTR_NOT_NULL(why);
        if (why && len > 0)
            CU_ASSERT_PTR_NOT_NULL(strstr(why, "truncated"));
    }
    msgpack_sbuffer_destroy(&sb);
}

static void test_huge_declared_sizes_refused(void)
{
    const char *why = spindle_msgpack_check("\x91\xdd\x0f\xff\xff\xff", 6, 32);
    CU_ASSERT_PTR_NOT_NULL_FATAL(why);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "declares more elements"));
    /* A map32 of 2^31 pairs, and a bin32 of 4 GiB with 2 bytes. */
    CU_ASSERT_PTR_NOT_NULL(spindle_msgpack_check("\xdf\x80\x00\x00\x00\x01", 6, 32));
    CU_ASSERT_PTR_NOT_NULL(spindle_msgpack_check("\xc6\xff\xff\xff\xff\x01\x02", 7, 32));
}

static void test_depth_limit(void)
{
    char buf[40];
    memset(buf, '\x91', sizeof(buf));
    buf[39] = '\xc0'; /* 39 nested arrays around a nil */
    CU_ASSERT_PTR_NULL(spindle_msgpack_check(buf + 39 - 5, 6, 32));
    const char *why = spindle_msgpack_check(buf, sizeof(buf), 32);
    CU_ASSERT_PTR_NOT_NULL_FATAL(why);
    CU_ASSERT_STRING_EQUAL(why, "nested too deep");
    CU_ASSERT_PTR_NOT_NULL(spindle_msgpack_check(buf + 39 - 5, 6, 4));
}

/* What the check accepts, msgpack-c decodes: an empty container takes a level of its decoder
 * stack as a full one does. Regression, tests/fuzz/msgpack.c (input kept in the corpus as
 * regress-empty-map-at-33): 32 arrays around an empty map passed the check and failed to
 * decode. */
static void test_empty_container_depth(void)
{
    static const char empty[] = {'\x80', '\x90', '\xdc', '\xde'}; /* map, array, array16, map16 */
    char buf[40];
    for (size_t k = 0; k < sizeof(empty); k++) {
        for (int levels = 31; levels <= 32; levels++) {
            memset(buf, '\x91', (size_t)levels);
            buf[levels] = empty[k];
            size_t len = (size_t)levels + 1;
            if (empty[k] == '\xdc' || empty[k] == '\xde') {
                buf[len++] = 0;
                buf[len++] = 0;
            }
            const char *why = spindle_msgpack_check(buf, len, SPINDLE_MSGPACK_MAX_DEPTH);
            msgpack_unpacked u;
            msgpack_unpacked_init(&u);
            size_t off = 0;
            int decoded = msgpack_unpack_next(&u, buf, len, &off) == MSGPACK_UNPACK_SUCCESS;
            msgpack_unpacked_destroy(&u);
            CU_ASSERT_EQUAL(why == NULL, levels == 31);
            CU_ASSERT_EQUAL(why == NULL, decoded);
        }
    }
}

static void test_junk_and_undefined_bytes(void)
{
    const char *why = spindle_msgpack_check("\x90\x01", 2, 32);
    CU_ASSERT_PTR_NOT_NULL_FATAL(why);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "junk"));
    why = spindle_msgpack_check("\x91\xc1", 2, 32);
    CU_ASSERT_PTR_NOT_NULL_FATAL(why);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "0xc1"));
    CU_ASSERT_PTR_NOT_NULL(spindle_msgpack_check("", 0, 32));
}

int register_msgpack_check_tests(void)
{
    static const test_case tests[] = {
        {"every kind of value passes", test_valid_values_pass},
        {"every truncation refused", test_every_truncation_refused},
        {"huge declared sizes refused", test_huge_declared_sizes_refused},
        {"nesting limit", test_depth_limit},
        {"an empty container counts as a level (fuzz regression)", test_empty_container_depth},
        {"junk and undefined bytes", test_junk_and_undefined_bytes},
        {NULL, NULL},
    };
    return add_suite("msgpack bounds check (pure)", NULL, NULL, tests);
}
