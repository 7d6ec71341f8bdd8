/* The end of norst trace: resets by process and by local port, each by
 * reason, and what to do next for each process: audit and fix it with the
 * library when it is dynamically linked and its resets come from closes;
 * say that the library cannot reach it otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "trace.h"

#define ROWS_MAX 1024  /* processes or ports kept; the rest counted together */
#define ROWS_SHOWN 20  /* rows printed per table */

struct row {
    struct process_info proc; /* by process; port in proc.pid by port */
    unsigned long total, by_reason[TRACE_REASONS_MAX];
};

struct rows {
    struct row *row;
    size_t used;
    unsigned long others;
};

static struct rows by_process, by_port;
static unsigned long total;

static struct row *row_for(struct rows *t, pid_t key)
{
    for (size_t i = 0; i < t->used; i++)
        if (t->row[i].proc.pid == key)
            return &t->row[i];
    if (t->used == ROWS_MAX) {
        t->others++;
        return NULL;
    }
    t->row = xrealloc(t->row, (t->used + 1) * sizeof *t->row);
    struct row *r = memset(&t->row[t->used++], 0, sizeof *r);
    r->proc.pid = key;
    return r;
}

static void count(struct row *r, unsigned reason)
{
    if (!r)
        return;
    r->total++;
    r->by_reason[reason < TRACE_REASONS_MAX ? reason : 0]++;
}

void summary_add(const struct trace_event *ev)
{
    total++;
    struct row *r = row_for(&by_process, ev->proc->pid);
    if (r && !r->total)
        r->proc = *ev->proc;
    count(r, ev->reason);
    count(row_for(&by_port, (pid_t)ev->local_port), ev->reason);
}

static int most_first(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    if (x->total != y->total)
        return x->total < y->total ? 1 : -1;
    return x->proc.pid < y->proc.pid ? -1 : x->proc.pid > y->proc.pid;
}

static void print_reasons(FILE *out, const struct row *r, const struct reason_names *names)
{
    char buf[32];
    for (unsigned i = 0; i < TRACE_REASONS_MAX; i++)
        if (r->by_reason[i])
            fprintf(out, " %s=%lu", reason_name(names, i, buf, sizeof buf), r->by_reason[i]);
    fputc('\n', out);
}

static unsigned long close_resets(const struct row *r, const struct reason_names *names)
{
    unsigned long n = 0;
    for (unsigned i = 0; i < TRACE_REASONS_MAX; i++)
        n += reason_is_close(names, i) ? r->by_reason[i] : 0;
    return n;
}

/* The next step for one process. */
static void print_next(FILE *out, const struct row *r, const struct reason_names *names)
{
    const struct process_info *p = &r->proc;
    fprintf(out, "  %s (pid %d): ", p->comm, (int)p->pid);
    if (!close_resets(r, names)) {
        fputs("its resets do not come from a close: libnorst does not change them\n", out);
        return;
    }
    switch (p->preload) {
    case PRELOAD_YES:
        fprintf(out, "can be preloaded. Audit it in log mode:\n"
                     "    norst --mode log --json -l /tmp/norst-%d.json -- %s\n",
                (int)p->pid, p->cmdline[0] ? p->cmdline : p->exe);
        if (strstr(p->unit, ".service"))
            fprintf(out, "    (or in %s: a drop-in with Environment=LD_PRELOAD=libnorst.so\n"
                         "    and Environment=NORST_MODE=log)\n", p->unit);
        fputs("    then fix it: the same without --mode log (drain mode)\n", out);
        break;
    case PRELOAD_STATIC:
    case PRELOAD_GO:
        fprintf(out, "cannot be preloaded: %s\n    (%s); the fix is in the program: read the request\n"
                     "    to its end, or shut down its side and read to EOF, before it closes\n",
                p->preload == PRELOAD_GO ? "a Go program, its runtime makes its own system calls"
                                         : "statically linked",
                p->exe);
        break;
    case PRELOAD_KERNEL:
        fputs("no process: the kernel itself; libnorst cannot change it\n", out);
        break;
    case PRELOAD_UNKNOWN:
        fputs("gone before its executable could be read: run norst trace again while it runs\n", out);
        break;
    }
}

/* The resets of the rows past those shown, and of those not kept. */
static void print_rest(FILE *out, const struct rows *t, const char *what)
{
    unsigned long rest = t->others;
    size_t rows = 0;
    for (size_t i = ROWS_SHOWN; i < t->used; i++, rows++)
        rest += t->row[i].total;
    if (rest)
        fprintf(out, "  %6lu  in %zu%s other %s\n", rest, rows, t->others ? " and more" : "", what);
}

/* One next step per program: the first (most resets) of the processes that
 * run the same executable under the same name. */
static int first_of_its_program(const struct rows *t, size_t i)
{
    const struct process_info *p = &t->row[i].proc;
    for (size_t j = 0; j < i; j++)
        if (strcmp(t->row[j].proc.exe, p->exe) == 0 && strcmp(t->row[j].proc.comm, p->comm) == 0)
            return 0;
    return 1;
}

void summary_print(FILE *out, const struct reason_names *names, double seconds)
{
    fprintf(out, "\nnorst trace: %lu reset%s in %.1f s\n", total, total == 1 ? "" : "s", seconds);
    if (!total)
        return;
    qsort(by_process.row, by_process.used, sizeof *by_process.row, most_first);
    qsort(by_port.row, by_port.used, sizeof *by_port.row, most_first);
    fputs("\nBy process:\n", out);
    for (size_t i = 0; i < by_process.used && i < ROWS_SHOWN; i++) {
        const struct row *r = &by_process.row[i];
        fprintf(out, "  %6lu  pid %d %s%s%s:", r->total, (int)r->proc.pid, r->proc.comm,
                r->proc.exe[0] ? " " : "", r->proc.exe);
        print_reasons(out, r, names);
    }
    print_rest(out, &by_process, "processes");
    fputs("\nBy local port:\n", out);
    for (size_t i = 0; i < by_port.used && i < ROWS_SHOWN; i++) {
        fprintf(out, "  %6lu  port %d:", by_port.row[i].total, (int)by_port.row[i].proc.pid);
        print_reasons(out, &by_port.row[i], names);
    }
    print_rest(out, &by_port, "ports");
    fputs("\nNext:\n", out);
    for (size_t i = 0, shown = 0; i < by_process.used && shown < ROWS_SHOWN; i++)
        if (first_of_its_program(&by_process, i)) {
            print_next(out, &by_process.row[i], names);
            shown++;
        }
}
