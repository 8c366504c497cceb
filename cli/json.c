/* msgpack to JSON (see json.h). Everything JSON cannot carry as is (bytes, non-UTF-8 text,
 * extension types, NaN) becomes an object whose single "$"-prefixed key says how to read it
 * back, so no value is silently lost or mangled. UTF-8 is checked here, and strings are then
 * built with jansson's _nocheck calls: jansson's own checked calls answer NULL both for bad
 * UTF-8 and for out of memory, and NULL must mean only the latter. */
#include "cli/json.h"

#include "common/names.h"
#include "spindle/deps.h"
#include "spindle/status.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Returns 1 if p[0..len) is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF), 0 otherwise. */
static int utf8_valid(const unsigned char *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (len - i - 1 < n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* The base64 text (RFC 4648, padded) of p[0..len) as a new JSON string, NULL if out of
 * memory. */
static json_t *base64_string(const unsigned char *p, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (len / 3 >= (SIZE_MAX - 4) / 4)
        return NULL;
    size_t out_len = (len + 2) / 3 * 4;
    char *buf = malloc(out_len + 1);
    if (buf == NULL)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        buf[o++] = alphabet[v >> 18];
        buf[o++] = alphabet[(v >> 12) & 63];
        buf[o++] = alphabet[(v >> 6) & 63];
        buf[o++] = alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
        buf[o++] = alphabet[v >> 18];
        buf[o++] = alphabet[(v >> 12) & 63];
        buf[o++] = (char)(i + 1 < len ? alphabet[(v >> 6) & 63] : '=');
        buf[o++] = '=';
    }
    json_t *s = json_stringn_nocheck(buf, o);
    free(buf);
    return s;
}

/* Adds key -> value to obj, taking the reference to value even on failure (value may be
 * NULL, from a failed allocation). Returns obj, or NULL after freeing it. */
static json_t *with(json_t *obj, const char *key, json_t *value)
{
    if (obj == NULL || json_object_set_new_nocheck(obj, key, value) != 0) {
        if (obj == NULL)
            json_decref(value);
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* {"$base64": "..."} */
static json_t *tagged_bytes(const char *p, size_t len)
{
    return with(json_object(), "$base64", base64_string((const unsigned char *)p, len));
}

/* msgpack-c leaves the pointer of an empty str NULL, which jansson refuses: use "". */
static const char *nonnull(const char *p)
{
    return p ? p : "";
}

static json_t *string_value(const char *p, size_t len)
{
    p = nonnull(p);
    if (utf8_valid((const unsigned char *)p, len))
        return json_stringn_nocheck(p, len);
    return tagged_bytes(p, len);
}

static json_t *real_value(double v)
{
    if (isfinite(v))
        return json_real(v);
    const char *name = isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
    return with(json_object(), "$float", json_string_nocheck(name));
}

static json_t *array_value(const msgpack_object_array *a)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; arr && i < a->size; i++) {
        if (json_array_append_new(arr, spindle_msgpack_to_json(&a->ptr[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return arr;
}

/* Cuts the JSON text of a key that is not a string to SPINDLE_JSON_KEY_MAX bytes, the last
 * three "...", at a UTF-8 boundary. Why: a key's text is escaped again at every level it is
 * nested in as a key, which doubles its backslashes, so 100 bytes of maps nested as keys
 * 32 deep would print as gigabytes (found by tests/fuzz/msgpack.c). */
static void cut_key(char *text)
{
    size_t n = strlen(text);
    if (n <= SPINDLE_JSON_KEY_MAX)
        return;
    n = SPINDLE_JSON_KEY_MAX - 3;
    while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
        n--;
    memcpy(text + n, "...", 4);
}

/* Adds one map entry to obj; returns 0, or -1 when out of memory. */
static int add_entry(json_t *obj, const msgpack_object_kv *kv)
{
    json_t *value = spindle_msgpack_to_json(&kv->val);
    if (value == NULL)
        return -1;
    const msgpack_object *k = &kv->key;
    if (k->type == MSGPACK_OBJECT_STR &&
        utf8_valid((const unsigned char *)k->via.str.ptr, k->via.str.size))
        return json_object_setn_new_nocheck(obj, nonnull(k->via.str.ptr), k->via.str.size, value);
    json_t *kj = spindle_msgpack_to_json(k);
    char *text = kj ? json_dumps(kj, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    json_decref(kj);
    if (text == NULL) {
        json_decref(value);
        return -1;
    }
    cut_key(text);
    int rc = json_object_set_new_nocheck(obj, text, value);
    free(text);
    return rc;
}

static json_t *map_value(const msgpack_object_map *m)
{
    json_t *obj = json_object();
    for (uint32_t i = 0; obj && i < m->size; i++) {
        if (add_entry(obj, &m->ptr[i]) != 0) {
            json_decref(obj);
            obj = NULL;
        }
    }
    return obj;
}

/* 1 if e is a task ref (spindle/deps.h): a task id, then a valid queue name. Why shown as
 * one: the refs in a waiting task's args are what it waits for (`spindle inspect`). */
static int is_task_ref(const msgpack_object_ext *e)
{
    char id[SPINDLE_ID_LEN + 1], queue[SPINDLE_NAME_MAX + 1];
    spindle_error ignored;
    if (e->type != SPINDLE_EXT_TASK_REF || e->size <= SPINDLE_ID_LEN ||
        e->size > SPINDLE_ID_LEN + SPINDLE_NAME_MAX || memchr(e->ptr, '\0', e->size) != NULL)
        return 0;
    memcpy(id, e->ptr, SPINDLE_ID_LEN);
    id[SPINDLE_ID_LEN] = '\0';
    memcpy(queue, e->ptr + SPINDLE_ID_LEN, e->size - SPINDLE_ID_LEN);
    queue[e->size - SPINDLE_ID_LEN] = '\0';
    return spindle_id_check(id, &ignored) == SPINDLE_OK &&
           spindle_name_check(queue, "queue", &ignored) == SPINDLE_OK;
}

/* {"$task": ID, "queue": Q} of a task ref that is_task_ref() accepted. */
static json_t *task_ref(const msgpack_object_ext *e)
{
    return with(with(json_object(), "$task", json_stringn_nocheck(e->ptr, SPINDLE_ID_LEN)), "queue",
                string_value(e->ptr + SPINDLE_ID_LEN, e->size - SPINDLE_ID_LEN));
}

json_t *spindle_msgpack_to_json(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        return json_null();
    case MSGPACK_OBJECT_BOOLEAN:
        return json_boolean(o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > INT64_MAX)
            return json_real((double)o->via.u64);
        return json_integer((json_int_t)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return json_integer((json_int_t)o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return real_value(o->via.f64);
    case MSGPACK_OBJECT_STR:
        return string_value(o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_BIN:
        return tagged_bytes(o->via.bin.ptr, o->via.bin.size);
    case MSGPACK_OBJECT_EXT:
        if (is_task_ref(&o->via.ext))
            return task_ref(&o->via.ext);
        return with(with(json_object(), "$ext", json_integer(o->via.ext.type)), "$base64",
                    base64_string((const unsigned char *)o->via.ext.ptr, o->via.ext.size));
    case MSGPACK_OBJECT_ARRAY:
        return array_value(&o->via.array);
    case MSGPACK_OBJECT_MAP:
        return map_value(&o->via.map);
    }
    /* Not a type msgpack-c produces: show it as null rather than fail. */
    return json_null();
}

json_t *spindle_json_text(const char *p, size_t len)
{
    return string_value(p, len);
}
