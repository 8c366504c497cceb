/* The progress line and bar of `spindle` (progress_view.h). */
#include "cli/progress_view.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Columns of the bar drawn by result --wait: fits an 80-column terminal with room to spare. */
#define BAR_COLUMNS 72
/* Cells of the bar itself. */
#define BAR_CELLS 20

static int percent(const spindle_progress *p)
{
    if (p->total <= 0)
        return -1;
    if (p->done >= p->total)
        return 100;
    return (int)((double)p->done * 100.0 / (double)p->total);
}

/* Appends printf-style text at *n within cap, keeping buf NUL-terminated. */
static void add(char *buf, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add(char *buf, size_t cap, size_t *n, const char *fmt, ...)
{
    if (*n >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *n, cap - *n, fmt, ap);
    va_end(ap);
    if (w > 0)
        *n = *n + (size_t)w < cap ? *n + (size_t)w : cap - 1;
}

void spindle_cli_progress_text(const spindle_progress *p, int64_t now_ms, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    int pct = percent(p);
    if (pct >= 0)
        add(buf, cap, &n, "%lld/%lld (%d%%)", (long long)p->done, (long long)p->total, pct);
    else
        add(buf, cap, &n, "%lld (total unknown)", (long long)p->done);
    if (p->message[0])
        add(buf, cap, &n, ", %s", p->message);
    if (p->updated_at_ms > 0) {
        int64_t age = now_ms - p->updated_at_ms;
        add(buf, cap, &n, ", %.1f s ago", age > 0 ? (double)age / 1000.0 : 0.0);
    }
}

void spindle_cli_progress_bar(const spindle_progress *p, size_t width, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    int pct = percent(p);
    if (pct >= 0) {
        char cells[BAR_CELLS + 1];
        int full = pct * BAR_CELLS / 100;
        for (int i = 0; i < BAR_CELLS; i++)
            cells[i] = i < full ? '#' : '-';
        cells[BAR_CELLS] = '\0';
        add(buf, cap, &n, "[%s] %3d%%  %lld/%lld", cells, pct, (long long)p->done,
            (long long)p->total);
    } else {
        add(buf, cap, &n, "[ working ]  %lld done", (long long)p->done);
    }
    if (p->message[0] && n + 2 < width) {
        size_t room = width - n - 2;
        size_t len = strlen(p->message);
        if (len > room) { /* cut without splitting a UTF-8 sequence */
            len = room;
            while (len > 0 && ((unsigned char)p->message[len] & 0xC0) == 0x80)
                len--;
        }
        add(buf, cap, &n, "  %.*s", (int)len, p->message);
    }
}

void spindle_cli_progress_bar_draw(const spindle_progress *p, void *userdata)
{
    (void)userdata;
    char line[BAR_COLUMNS + 64];
    spindle_cli_progress_bar(p, BAR_COLUMNS, line, sizeof(line));
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
}

void spindle_cli_progress_bar_clear(void)
{
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
}
