/* norst report's summary: what report.c gathers from the log and
 * report_out.c prints. */
#ifndef NORST_REPORT_H
#define NORST_REPORT_H

#include <stdint.h>

#include "tool.h"

#define UNKNOWN "(unknown)"
/* Separates the parts of a process's key: comm, exe, unit. */
#define KEY_SEP '\x1f'

/* The tables; all but outcomes and minutes count would-be RSTs. */
enum report_table { BY_STACK, BY_PROCESS, BY_SERVICE, BY_PEER, BY_OUTCOME, BY_MINUTE, TABLE_COUNT };

struct summary {
    unsigned long events, skipped, would_rst, rst_sent, rst_possible;
    unsigned long text_lines; /* "libnorst: " lines: the text log, not JSON */
    struct table table[TABLE_COUNT];
    char first[40], last[40]; /* the earliest and latest event's time; "" if none */
    unsigned long drains;     /* drain times seen, of which a sample is kept: */
    double *drain_ms;         /* all of them up to DRAIN_SAMPLE_MAX, then a uniform sample */
    size_t drains_kept;
    double drain_max;
    uint64_t rng;
};

enum report_form { REPORT_TEXT, REPORT_JSON };
struct report_options {
    unsigned long top; /* rows per table; 0: all */
    enum report_form form;
    int resolve;       /* name the stacks' frames from debug information */
};

void report_print(struct summary *s, const struct report_options *opt);

/* A stack's frames for --resolve: the lines "build_id off obj" that
 * report.c keeps with each stack (resolve.c). The name of the frame's
 * source, "function at file:line", malloc'ed; or NULL and *why says
 * (a static string). */
char *resolve_frame(const char *frame_line, const char **why);

#endif
