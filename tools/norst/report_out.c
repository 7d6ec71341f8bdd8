/* norst report's output: the summary report.c gathered, for people (text)
 * or for programs (--json, one object). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"

/* Each table's title and, in JSON, its name and its key's name. */
static const struct table_form {
    const char *title, *json, *key;
} table_forms[TABLE_COUNT] = {
    [BY_STACK] = {"would-be RSTs by stack (or caller)", "by_stack", "frames"},
    [BY_PROCESS] = {"would-be RSTs by process (comm exe unit)", "by_process", NULL},
    [BY_SERVICE] = {"would-be RSTs by service (the side with the lower port)", "by_service",
                    "service"},
    [BY_PEER] = {"would-be RSTs by peer", "by_peer", "peer"},
    [BY_OUTCOME] = {"outcomes", "outcomes", "outcome"},
};
/* The tables shown, in order (minutes make the busiest minute). */
static const enum report_table shown[] = {BY_STACK, BY_PROCESS, BY_SERVICE, BY_PEER, BY_OUTCOME};

/* Control characters from \u escapes must not reach the terminal. */
static void put_clean(const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i]; i++)
        putchar((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i]);
}

/* "2026-11-21T07:25..." -> minutes since the epoch, or -1. */
static long long minute_of(const char *time)
{
    struct tm tm = {0};
    if (sscanf(time, "%4d-%2d-%2dT%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min) != 5)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long)timegm(&tm) / 60;
}

/* The minutes from the first event's to the last's, both counted: the
 * rates are per minute of that span. 0 when the times are unknown. */
static long long span_minutes(const struct summary *s)
{
    long long first = minute_of(s->first), last = minute_of(s->last);
    return first < 0 || last < first ? 0 : last - first + 1;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least p% of them at or below. */
static double percentile(const double *sorted, size_t n, unsigned p)
{
    size_t rank = (p * n + 99) / 100;
    return sorted[rank ? rank - 1 : 0];
}

static const unsigned ranks[] = {50, 90, 99};

/* ---- text ---- */

/* The line at *cursor, up to its newline; moves *cursor past it (NULL at
 * the end). */
static size_t next_line(const char **cursor)
{
    const char *line = *cursor, *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    *cursor = end && end[1] ? end + 1 : NULL;
    return len;
}

/* Under a frame, with --resolve, its source's name. */
static void print_frame_name(const char *frame_line, size_t len)
{
    char *frame = strndup(frame_line, len);
    const char *why = NULL;
    char *name = frame ? resolve_frame(frame, &why) : NULL;
    printf("%9s= ", "");
    if (name)
        put_clean(name, strlen(name));
    else
        printf("? (%s)", why ? why : "out of memory");
    putchar('\n');
    free(name);
    free(frame);
}

/* A key's lines, the first after the count, the others under it. With
 * --resolve, each of a stack's frames followed by its source's name. */
static void print_row(enum report_table t, const struct tally *row, const struct report_options *opt)
{
    const char *sample = t == BY_STACK && opt->resolve ? row->sample : NULL;
    printf("%7lu  ", row->count);
    if (t == BY_PROCESS) {
        for (const char *p = row->key; *p; p++)
            if (*p == KEY_SEP)
                fputs("  ", stdout);
            else
                put_clean(p, 1);
        putchar('\n');
        return;
    }
    for (const char *line = row->key, *first = line; line;) {
        const char *this_line = line;
        size_t len = next_line(&line);
        printf("%*s", this_line == first ? 0 : 9, "");
        put_clean(this_line, len);
        putchar('\n');
        if (sample) {
            const char *frame = sample;
            size_t frame_len = next_line(&sample);
            print_frame_name(frame, frame_len);
        }
    }
}

static size_t rows_shown(const struct table *t, const struct report_options *opt)
{
    return opt->top && opt->top < t->used ? opt->top : t->used;
}

static void print_table(enum report_table t, struct summary *s, const struct report_options *opt)
{
    struct table *table = &s->table[t];
    size_t n = rows_shown(table, opt);
    printf("\n%s:\n", table_forms[t].title);
    if (!table->used)
        puts("  (none)");
    for (size_t i = 0; i < n; i++)
        print_row(t, &table->slot[i], opt);
    if (n < table->used)
        printf("%7s  %zu more (--top 0 shows all)\n", "...", table->used - n);
    if (table->others)
        printf("%7lu  (others: more than %zu distinct)\n", table->others, table->max);
}

static void print_time(const struct summary *s)
{
    const struct table *minutes = &s->table[BY_MINUTE];
    long long span = span_minutes(s);
    if (!s->first[0]) {
        puts("first event:     (no times)");
        return;
    }
    printf("first event:     %s\n", s->first);
    printf("last event:      %s\n", s->last);
    if (span)
        printf("per minute:      %.1f events, %.1f would-be RSTs (mean over %lld minute%s)\n",
               (double)s->events / (double)span, (double)s->would_rst / (double)span, span,
               span == 1 ? "" : "s");
    if (minutes->used)
        printf("busiest minute:  %s (%lu event%s)\n", minutes->slot[0].key, minutes->slot[0].count,
               minutes->slot[0].count == 1 ? "" : "s");
}

static void print_drains(const struct summary *s)
{
    if (!s->drains) {
        puts("\ndrain time, ms: no drains");
        return;
    }
    printf("\ndrain time, ms (%lu drains", s->drains);
    if (s->drains > s->drains_kept)
        printf("; percentiles of a sample of %zu", s->drains_kept);
    puts("):");
    for (size_t i = 0; i < sizeof ranks / sizeof ranks[0]; i++)
        printf("  p%-3u %.15g\n", ranks[i], percentile(s->drain_ms, s->drains_kept, ranks[i]));
    printf("  max  %.15g\n", s->drain_max);
}

static void print_text(struct summary *s, const struct report_options *opt)
{
    printf("events:          %lu\n", s->events);
    printf("lines skipped:   %lu (not a JSON object)\n", s->skipped);
    printf("would-be RSTs:   %lu\n", s->would_rst);
    printf("resets sent:     %lu (rst true)\n", s->rst_sent);
    printf("resets possible: %lu (rst null: sharing unknown)\n", s->rst_possible);
    print_time(s);
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
        print_table(shown[i], s, opt);
    print_drains(s);
}

/* ---- JSON ---- */

static void json_string_or_null(const char *s)
{
    if (s)
        json_put_str(stdout, s);
    else
        fputs("null", stdout);
}

/* The key's parts, split at sep, as the members named in names[]; a part
 * "-" is null. */
static void json_parts(const char *key, char sep, const char *const *names, int count)
{
    const char *part = key;
    for (int i = 0; i < count; i++) {
        const char *end = part ? strchr(part, sep) : NULL;
        char *text = part ? strndup(part, end ? (size_t)(end - part) : strlen(part)) : NULL;
        printf(",\"%s\":", names[i]);
        json_string_or_null(text && strcmp(text, "-") != 0 ? text : NULL);
        free(text);
        part = end ? end + 1 : NULL;
    }
}

/* A stack's frames (one per line of the key) as an array; with --resolve
 * the names of their sources as another, null where none was found. */
static void json_lines(const char *name, const char *lines, int resolve)
{
    printf(",\"%s\":[", name);
    for (const char *line = *lines ? lines : NULL; line;) {
        const char *this_line = line;
        size_t len = next_line(&line);
        char *text = strndup(this_line, len), *resolved = NULL;
        const char *why;
        if (resolve && text)
            resolved = resolve_frame(text, &why);
        if (this_line != lines)
            putchar(',');
        json_string_or_null(resolve ? resolved : text);
        free(resolved);
        free(text);
    }
    putchar(']');
}

static void json_table(enum report_table t, struct summary *s, const struct report_options *opt)
{
    static const char *const process_parts[] = {"comm", "exe", "unit"};
    struct table *table = &s->table[t];
    size_t n = rows_shown(table, opt);
    printf(",\"%s\":{\"rows\":[", table_forms[t].json);
    for (size_t i = 0; i < n; i++) {
        const struct tally *row = &table->slot[i];
        printf("%s{\"count\":%lu", i ? "," : "", row->count);
        if (t == BY_PROCESS && strcmp(row->key, UNKNOWN) == 0)
            json_parts("-", KEY_SEP, process_parts, 3);
        else if (t == BY_PROCESS)
            json_parts(row->key, KEY_SEP, process_parts, 3);
        else if (t == BY_STACK)
            json_lines("frames", row->key, 0);
        else
            json_parts(row->key, '\0', &table_forms[t].key, 1);
        if (t == BY_STACK && opt->resolve)
            json_lines("resolved", row->sample ? row->sample : "", 1);
        putchar('}');
    }
    printf("],\"more\":%zu,\"others\":%lu}", table->used - n, table->others);
}

static void print_json(struct summary *s, const struct report_options *opt)
{
    const struct table *minutes = &s->table[BY_MINUTE];
    long long span = span_minutes(s);
    printf("{\"events\":%lu,\"skipped\":%lu,\"would_rst\":%lu,\"rst_sent\":%lu,"
           "\"rst_possible\":%lu,\"first\":",
           s->events, s->skipped, s->would_rst, s->rst_sent, s->rst_possible);
    json_string_or_null(s->first[0] ? s->first : NULL);
    fputs(",\"last\":", stdout);
    json_string_or_null(s->last[0] ? s->last : NULL);
    printf(",\"minutes\":%lld,\"per_minute\":", span);
    if (span)
        printf("{\"events\":%.15g,\"would_rst\":%.15g}", (double)s->events / (double)span,
               (double)s->would_rst / (double)span);
    else
        fputs("null", stdout);
    fputs(",\"busiest_minute\":", stdout);
    if (minutes->used) {
        fputs("{\"minute\":", stdout);
        json_put_str(stdout, minutes->slot[0].key);
        printf(",\"events\":%lu}", minutes->slot[0].count);
    } else {
        fputs("null", stdout);
    }
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
        json_table(shown[i], s, opt);
    printf(",\"drains\":%lu,\"drain_ms\":", s->drains);
    if (s->drains) {
        putchar('{');
        for (size_t i = 0; i < sizeof ranks / sizeof ranks[0]; i++)
            printf("\"p%u\":%.15g,", ranks[i], percentile(s->drain_ms, s->drains_kept, ranks[i]));
        printf("\"max\":%.15g,\"sampled\":%zu}", s->drain_max, s->drains_kept);
    } else {
        fputs("null", stdout);
    }
    puts("}");
}

void report_print(struct summary *s, const struct report_options *opt)
{
    for (int t = 0; t < TABLE_COUNT; t++)
        table_sort(&s->table[t]);
    if (s->drains_kept)
        qsort(s->drain_ms, s->drains_kept, sizeof *s->drain_ms, by_value);
    if (opt->form == REPORT_JSON)
        print_json(s, opt);
    else
        print_text(s, opt);
}
