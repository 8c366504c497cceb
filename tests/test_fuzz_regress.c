/* Inputs that made a fuzz target fail (tests/fuzz/), replayed through the function that
 * failed, for the cases no existing suite covers: the CLI's msgpack-to-JSON conversion
 * (cli/json.c). Each input is also kept in its target's seed corpus. Pure, no server. */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <msgpack.h>

#include "cli/json.h"
#include "common/msgpack_check.h"
#include "suites.h"

/* tests/fuzz/corpus/msgpack/regress-key-escape: 213 bytes of maps nested as keys, whose key
 * texts were escaped again at every level, so the JSON text grew past 1 GB. */
static const char key_escape[] = "\x83\x83\x83\x83\x83\x7c\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83"
                                 "\x83\x83\x83\x83\x83\x86\x58\x40\x00\xff\x83\x83\x83\x83\x83\x75"
                                 "\x83\x83\x83\x83\x83\x86\x58\x00\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe"
                                 "\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe"
                                 "\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe"
                                 "\xfe\xfe\xfe\xfe\xff\x26\x00\x23\x7e\x00\x7a\xff\x00\x00\x00\x00"
                                 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                                 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                                 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                                 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                                 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                                 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x5b\x27\x0f\x26\x00"
                                 "\x23\x83\x7f\x27\x0b\x00\x7f\x0b\xa1\x62\xc0\x0f\xc0\x29\xa1\x62"
                                 "\xc0\x0f\xc0\x29\xc2";

/* Converts buf (checked, decoded) to compact JSON; returns its length, or 0 on failure. */
static size_t json_len(const char *buf, size_t len)
{
    CU_ASSERT_PTR_NULL_FATAL(spindle_msgpack_check(buf, len, SPINDLE_MSGPACK_MAX_DEPTH));
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    CU_ASSERT_EQUAL_FATAL(msgpack_unpack_next(&u, buf, len, &off), MSGPACK_UNPACK_SUCCESS);
    json_t *j = spindle_msgpack_to_json(&u.data);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    size_t n = text ? strlen(text) : 0;
    free(text);
    json_decref(j);
    msgpack_unpacked_destroy(&u);
    return n;
}

static void test_keys_nested_as_keys(void)
{
    size_t n = json_len(key_escape, sizeof(key_escape) - 1);
    CU_ASSERT(n > 0 && n < (size_t)64 * 1024);
    /* The plain form of it: 31 maps, each the only key of the next, around the key "\"",
     * with nil values. Each level doubles the backslashes of the key inside it. */
    char buf[64];
    size_t len = 0;
    memset(buf, '\x81', 31);
    len = 31;
    buf[len++] = '\xa1';
    buf[len++] = '"';
    memset(buf + len, '\xc0', 31);
    len += 31;
    n = json_len(buf, len);
    CU_ASSERT(n > 0 && n < (size_t)64 * 1024);
}

/* A short non-string key keeps its whole text; a long one is cut, with "...". */
static void test_key_cut(void)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_int(&pk, 2);
    msgpack_pack_array(&pk, 600);
    for (int i = 0; i < 600; i++)
        msgpack_pack_int(&pk, 7);
    msgpack_pack_nil(&pk);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    CU_ASSERT_EQUAL_FATAL(msgpack_unpack_next(&u, sb.data, sb.size, &off), MSGPACK_UNPACK_SUCCESS);
    json_t *j = spindle_msgpack_to_json(&u.data);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_EQUAL(json_object_size(j), 2);
    CU_ASSERT_PTR_NOT_NULL(json_object_get(j, "1"));
    const char *key;
    json_t *v;
    int cut = 0;
    json_object_foreach(j, key, v)
    {
        if (strcmp(key, "1") != 0) {
            CU_ASSERT_EQUAL(strlen(key), SPINDLE_JSON_KEY_MAX);
            CU_ASSERT_EQUAL(strncmp(key, "[7,7,", 5), 0);
            CU_ASSERT_STRING_EQUAL(key + SPINDLE_JSON_KEY_MAX - 3, "...");
            cut = 1;
        }
    }
    CU_ASSERT(cut);
    json_decref(j);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
}

int register_fuzz_regress_tests(void)
{
    static const test_case tests[] = {
        {"maps nested as keys print in bounded size (fuzz-msgpack oom)", test_keys_nested_as_keys},
        {"a long non-string key is cut to SPINDLE_JSON_KEY_MAX", test_key_cut},
        {NULL, NULL},
    };
    return add_suite("fuzz regressions (pure)", NULL, NULL, tests);
}
