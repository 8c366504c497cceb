/* Running the `spindle` binary from a test (see cli_run.h). */
#include "cli_run.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

harness_output cli_run_argv(const char *const *args)
{
    return cli_run_url_argv(harness_url(), args);
}

harness_output cli_run_url_argv(const char *url, const char *const *args)
{
    char bin[512];
    snprintf(bin, sizeof(bin), "%s/bin/spindle", harness_build());
    const char *argv[32] = {bin, "--redis", url, "--namespace", harness_ns()};
    int argc = 5;
    for (; *args && argc < 31; args++)
        argv[argc++] = *args;
    argv[argc] = NULL;
    harness_output out = {.code = -1};
    if (harness_run((char *const *)argv, harness_scaled_ms(HARNESS_WAIT_MS), &out) != 0)
        CU_FAIL("could not run spindle");
    if (out.out == NULL)
        out.out = strdup("");
    if (out.err == NULL)
        out.err = strdup("");
    return out;
}

/* Appends first and the NULL-terminated rest of ap to argv from index n, keeping room for
 * the NULL it ends with (cap entries in all). */
static void push_args(const char **argv, int n, int cap, const char *first, va_list ap)
{
    for (const char *a = first; a && n < cap - 1; a = va_arg(ap, const char *))
        argv[n++] = a;
    argv[n] = NULL;
}

harness_output cli_run(const char *first, ...)
{
    const char *args[26];
    va_list ap;
    va_start(ap, first);
    push_args(args, 0, 26, first, ap);
    va_end(ap);
    return cli_run_argv(args);
}

char *cli_line_starting(const char *text, const char *prefix, char *buf, size_t cap)
{
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, prefix, strlen(prefix)) == 0) {
            size_t len = strcspn(p, "\n");
            snprintf(buf, cap, "%.*s", (int)(len < cap ? len : cap - 1), p);
            return buf;
        }
    }
    return NULL;
}

int cli_split_words(char *line, char **words, int max)
{
    int n = 0;
    for (char *save = NULL, *w = strtok_r(line, " \n", &save); w && n < max;
         w = strtok_r(NULL, " \n", &save))
        words[n++] = w;
    return n;
}

int cli_tmux(const char *sock, char **out, const char *first, ...)
{
    const char *argv[32] = {"/usr/bin/tmux", "-S", sock};
    va_list ap;
    va_start(ap, first);
    push_args(argv, 3, 32, first, ap);
    va_end(ap);
    harness_output o;
    if (harness_run((char *const *)argv, harness_scaled_ms(HARNESS_WAIT_MS), &o) != 0)
        return -1;
    if (out)
        *out = o.out ? strdup(o.out) : strdup("");
    int code = o.code;
    harness_output_free(&o);
    return code;
}

char *cli_wait_line(const char *file, long ms)
{
    for (int64_t end = harness_ms() + harness_scaled_ms(ms); harness_ms() < end;) {
        harness_sleep_ms(50);
        FILE *f = fopen(file, "r");
        if (f) {
            char buf[64] = "";
            size_t n = fread(buf, 1, sizeof(buf) - 1, f);
            fclose(f);
            if (n > 0 && strchr(buf, '\n'))
                return strdup(buf);
        }
    }
    return strdup("(not exited)");
}
