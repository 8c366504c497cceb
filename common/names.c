/* Name and id validation (see names.h; ids are made in id.c). Pure functions: unit tested
 * without a server. */
#include "common/names.h"

#include <ctype.h>
#include <string.h>

#include "spindle/status.h"

static int name_char_ok(unsigned char ch)
{
    return isalnum(ch) || ch == '_' || ch == '.' || ch == ':' || ch == '-';
}

int spindle_name_check(const char *name, const char *kind, spindle_error *err)
{
    if (name == NULL || name[0] == '\0')
        return spindle_error_set(err, SPINDLE_ERR_INVALID, "%s name is empty", kind);
    size_t len = strnlen(name, SPINDLE_NAME_MAX + 1);
    if (len > SPINDLE_NAME_MAX)
        return spindle_error_set(err, SPINDLE_ERR_INVALID,
                                 "%s name '%.40s…' is longer than %d bytes", kind, name,
                                 SPINDLE_NAME_MAX);
    for (size_t i = 0; i < len; i++) {
        if (!name_char_ok((unsigned char)name[i]))
            return spindle_error_set(err, SPINDLE_ERR_INVALID,
                                     "%s name '%s' has a character outside [A-Za-z0-9_.:-] at "
                                     "byte %zu",
                                     kind, name, i);
    }
    return SPINDLE_OK;
}

int spindle_id_check(const char *id, spindle_error *err)
{
    if (id == NULL)
        return spindle_error_set(err, SPINDLE_ERR_INVALID, "task id is missing");
    size_t len = strnlen(id, SPINDLE_ID_LEN + 1);
    int ok = len == SPINDLE_ID_LEN;
    for (size_t i = 0; ok && i < SPINDLE_ID_LEN; i++) {
        unsigned char ch = (unsigned char)id[i];
        if (i == 8 || i == 13 || i == 18 || i == 23)
            ok = ch == '-';
        else
            ok = isxdigit(ch) && !isupper(ch);
    }
    if (!ok)
        return spindle_error_set(err, SPINDLE_ERR_INVALID,
                                 "task id '%.64s' is not a lowercase UUID "
                                 "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                                 id);
    return SPINDLE_OK;
}
