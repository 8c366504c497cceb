/* `spindle watch`: a live view of the namespace, like top, drawn with ncurses. Each interval
 * it reads a snapshot (watch_snapshot.c) and redraws the whole screen in place; curses sends
 * only what changed. q, Q or Ctrl-C (read as a key: the terminal is in raw mode), or SIGTERM
 * / SIGHUP, end it with the terminal restored and exit 0. A failed read is shown on the last
 * line and retried at the next tick: a Redis restart does not end the view. */
#include <curses.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/progress_view.h"
#include "cli/watch_rate.h"
#include "cli/watch_snapshot.h"

enum { PAIR_HEAD = 1, PAIR_FAIL, PAIR_BAR };

static volatile sig_atomic_t stop_asked;

static void on_signal(int sig)
{
    (void)sig;
    stop_asked = 1;
}

/* "3.2s", "5m02s", "2h05m", "3d04h" for ms. */
static const char *span(int64_t ms, char buf[24])
{
    if (ms < 0)
        ms = 0;
    long long s = ms / 1000;
    if (s < 60)
        snprintf(buf, 24, "%lld.%llds", s, (long long)(ms % 1000) / 100);
    else if (s < 3600)
        snprintf(buf, 24, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, 24, "%lldh%02lldm", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, 24, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
    return buf;
}

static void attr(int pair, int on)
{
    if (pair && has_colors())
        (on ? attron : attroff)(COLOR_PAIR(pair));
}

/* The previous screen's throughput of the queues, to derive each one's rate from. */
typedef struct watch_prev {
    spindle_queue_throughput *rates;
    size_t n;
} watch_prev;

/* The queue's rate since the previous screen, "-" when there is none to tell. */
static const char *rate_text(const watch_prev *prev, const spindle_queue_throughput *r,
                             char buf[24])
{
    const spindle_queue_throughput *before = NULL; /* none on the first screen */
    for (size_t i = 0; i < prev->n && before == NULL; i++)
        if (strcmp(prev->rates[i].name, r->name) == 0)
            before = &prev->rates[i];
    double rate = spindle_watch_rate(before, r);
    if (rate < 0)
        return "-";
    snprintf(buf, 24, rate < 10 ? "%.1f" : "%.0f", rate);
    return buf;
}

/* Keeps this screen's throughput (if read) as the previous one for the next screen. */
static void keep_rates(watch_prev *prev, const spindle_watch_snapshot *s)
{
    if (s->rates == NULL)
        return;
    spindle_queue_throughput *copy = malloc((s->nqueues ? s->nqueues : 1) * sizeof(*copy));
    if (copy == NULL)
        return;
    memcpy(copy, s->rates, s->nqueues * sizeof(*copy));
    free(prev->rates);
    prev->rates = copy;
    prev->n = s->nqueues;
}

static int draw_queues(const spindle_watch_snapshot *s, const watch_prev *prev, int y)
{
    attron(A_BOLD);
    mvprintw(y++, 0, "%-24s %9s %9s %9s %7s %8s %8s %8s %9s %9s", "QUEUE", "PENDING", "SCHEDULED",
             "RUNNING", "DEAD", "RATE/s", "OK/1M", "FAIL/1M", "OK/1H", "FAIL/1H");
    attroff(A_BOLD);
    for (size_t i = 0; i < s->nqueues && y < LINES - 1; i++, y++) {
        const spindle_queue_stat *q = &s->queues[i];
        mvprintw(y, 0, "%-24.24s %9lld %9lld %9lld ", q->name, q->pending, q->scheduled,
                 q->running);
        attr(q->dead ? PAIR_FAIL : 0, 1);
        printw("%7lld", q->dead);
        attr(q->dead ? PAIR_FAIL : 0, 0);
        if (s->rates == NULL) {
            printw(" %8s %8s %8s %9s %9s", "-", "-", "-", "-", "-");
            continue;
        }
        const spindle_queue_throughput *r = &s->rates[i];
        char rate[24];
        printw(" %8s %8lld ", rate_text(prev, r, rate), r->ok[0]);
        attr(r->failed[0] ? PAIR_FAIL : 0, 1);
        printw("%8lld", r->failed[0]);
        attr(r->failed[0] ? PAIR_FAIL : 0, 0);
        printw(" %9lld ", r->ok[1]);
        attr(r->failed[1] ? PAIR_FAIL : 0, 1);
        printw("%9lld", r->failed[1]);
        attr(r->failed[1] ? PAIR_FAIL : 0, 0);
    }
    if (s->nqueues == 0 && y < LINES - 1)
        mvprintw(y++, 0, "(no queue)");
    return y;
}

static int draw_workers(const spindle_watch_snapshot *s, int y)
{
    attron(A_BOLD);
    mvprintw(y++, 0, "WORKERS %zu: %-18s %7s %-36s %-12s %8s %8s %8s", s->nworkers, "HOST", "PID",
             "TASK", "QUEUE", "FOR", "OK", "FAILED");
    attroff(A_BOLD);
    for (size_t i = 0; i < s->nworkers && y < LINES - 1; i++) {
        const spindle_worker_info *w = &s->workers[i];
        int64_t now = w->beat_at_ms + w->beat_age_ms; /* Redis's clock */
        char run[24] = "-", up[24];
        if (w->task[0])
            span(now - w->task_started_at_ms, run);
        mvprintw(y++, 0, "%-29.29s %7ld %-36s %-12.12s %8s %8lu %8lu  up %s", w->host, w->pid,
                 w->task[0] ? w->task : "-", w->task[0] ? w->task_queue : "-", run, w->processed,
                 w->failed, span(now - w->started_at_ms, up));
        const spindle_progress *p = &s->progress[i];
        if (w->task[0] && p->updated_at_ms > 0 && y < LINES - 1) {
            char bar[512];
            int width = COLS > 12 ? COLS - 6 : 6;
            spindle_cli_progress_bar(p, (size_t)(width < 500 ? width : 500), bar, sizeof(bar));
            move(y++, 4);
            attr(PAIR_BAR, 1);
            printw("%s", bar);
            attr(PAIR_BAR, 0);
        }
    }
    return y;
}

static void draw(spindle_cli *cli, const spindle_watch_snapshot *s, const watch_prev *prev,
                 const char *error, long ms)
{
    erase();
    attr(PAIR_HEAD, 1);
    attron(A_REVERSE);
    mvprintw(0, 0, "spindle watch  namespace %s  every %.1fs  (q quits)",
             cli->ns ? cli->ns : "spindle", ms / 1000.0);
    attroff(A_REVERSE);
    attr(PAIR_HEAD, 0);
    int y = draw_queues(s, prev, 2);
    if (y < LINES - 2)
        draw_workers(s, y + 1);
    if (error) {
        attr(PAIR_FAIL, 1);
        mvprintw(LINES - 1, 0, "error: %.*s", COLS > 8 ? COLS - 8 : 0, error);
        attr(PAIR_FAIL, 0);
    }
    refresh();
}

static void start_screen(void)
{
    initscr();
    raw();
    noecho();
    curs_set(0);
    keypad(stdscr, TRUE);
    const char *no_color = getenv("NO_COLOR"); /* no-color.org: set and not empty */
    if ((no_color == NULL || *no_color == '\0') && has_colors()) {
        start_color();
        use_default_colors();
        init_pair(PAIR_HEAD, COLOR_CYAN, -1);
        init_pair(PAIR_FAIL, COLOR_RED, -1);
        init_pair(PAIR_BAR, COLOR_GREEN, -1);
    }
}

static int watch_loop(spindle_cli *cli, const char *const *only, size_t nonly, long ms)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_signal; /* no SA_RESTART: getch() returns at once */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    start_screen();
    timeout((int)ms);
    watch_prev prev = {0};
    while (!stop_asked) {
        spindle_watch_snapshot s;
        int rc = spindle_watch_snapshot_read(cli->client, only, nonly, &s);
        const char *error = NULL;
        if (rc != SPINDLE_OK)
            error = rc == SPINDLE_ERR_NOMEM ? "out of memory" : spindle_errstr(cli->client);
        draw(cli, &s, &prev, error, ms);
        keep_rates(&prev, &s);
        spindle_watch_snapshot_free(&s);
        int ch = getch();
        if (ch == 'q' || ch == 'Q' || ch == 3 /* Ctrl-C in raw mode */)
            break;
    }
    endwin();
    free(prev.rates);
    return SPINDLE_EXIT_OK;
}

/* watch [--interval SECONDS] [--queues Q1,Q2] */
int spindle_cli_cmd_watch(spindle_cli *cli, int argc, char **argv)
{
    long ms = 1000;
    const char *queues = NULL;
    const spindle_cli_opt opts[] = {{.name = "--interval", .ms = &ms, .min = 0, .max = 3600},
                                    {.name = "--queues", .str = &queues},
                                    {0}};
    int code = spindle_cli_parse(cli, &argc, argv, opts, 0, 0, 0);
    if (code != SPINDLE_CLI_CONTINUE)
        return code;
    if (ms < 100)
        return spindle_cli_error(SPINDLE_EXIT_USAGE, "--interval: at least 0.1 s");
    char *list = queues ? strdup(queues) : NULL;
    const char *only[64];
    size_t nonly = 0;
    for (char *save = NULL, *q = list ? strtok_r(list, ",", &save) : NULL; q;
         q = strtok_r(NULL, ",", &save)) {
        if (nonly == 64) {
            free(list);
            return spindle_cli_error(SPINDLE_EXIT_USAGE, "--queues: at most 64 queues");
        }
        if ((code = spindle_cli_check_name(q, "queue")) != SPINDLE_CLI_CONTINUE) {
            free(list);
            return code;
        }
        only[nonly++] = q;
    }
    if (queues && nonly == 0)
        code = spindle_cli_error(SPINDLE_EXIT_USAGE, "--queues: no queue named");
    else if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) /* keys are read from stdin */
        code = spindle_cli_error(SPINDLE_EXIT_USAGE, "watch needs a terminal on stdin and stdout");
    else if ((code = spindle_cli_connect(cli)) == SPINDLE_CLI_CONTINUE)
        code = watch_loop(cli, only, nonly, ms);
    free(list);
    return code;
}
