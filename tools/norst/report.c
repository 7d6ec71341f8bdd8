/* norst report [FILE]: a summary of the library's JSON-lines event log
 * (NORST_LOG_FORMAT=json): which call sites and peers would have been reset,
 * how the closes ended, and how long the drains took.
 *
 * A line that is not one valid JSON object is skipped and counted; a blank
 * line is ignored. Fields an event lacks count as "(unknown)". */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../shim/event_fields.h"
#include "tool.h"

#define UNKNOWN "(unknown)"

/* ---- counting strings: an open-addressing hash table ---- */

struct tally {
    char *key;
    unsigned long count;
};

struct table {
    struct tally *slot;
    size_t cap, used;
};

static size_t hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

static struct tally *slot_for(struct tally *slots, size_t cap, const char *key)
{
    size_t i = hash(key) & (cap - 1);
    while (slots[i].key && strcmp(slots[i].key, key) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static void table_add(struct table *t, const char *key)
{
    if (2 * (t->used + 1) > t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        struct tally *slots = xrealloc(NULL, cap * sizeof *slots);
        memset(slots, 0, cap * sizeof *slots);
        for (size_t i = 0; i < t->cap; i++)
            if (t->slot[i].key)
                *slot_for(slots, cap, t->slot[i].key) = t->slot[i];
        free(t->slot);
        t->slot = slots;
        t->cap = cap;
    }
    struct tally *s = slot_for(t->slot, t->cap, key);
    if (!s->key) {
        s->key = xstrdup(key);
        t->used++;
    }
    s->count++;
}

static int by_count(const void *a, const void *b)
{
    const struct tally *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* Packs the entries to the front, most counted first (ties by name). */
static void table_sort(struct table *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->cap; i++) {
        struct tally entry = t->slot[i];
        t->slot[i] = (struct tally){NULL, 0};
        if (entry.key)
            t->slot[n++] = entry;
    }
    if (n)
        qsort(t->slot, n, sizeof *t->slot, by_count);
}

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->slot[i].key);
    free(t->slot);
}

/* ---- the summary ---- */

struct summary {
    unsigned long events, skipped, would_rst, rst_sent, rst_possible;
    struct table callers, peers, outcomes;
    double *drain_ms;
    size_t drains, drain_cap;
};

static const char *text_of(const struct json_field *f)
{
    return f->type == JSON_STRING ? f->str : UNKNOWN;
}

static int text_is(const struct json_field *f, const char *s)
{
    return f->type == JSON_STRING && strcmp(f->str, s) == 0;
}

static double number_of(const struct json_field *f)
{
    return f->type == JSON_NUMBER ? f->num : 0;
}

/* Would this close have reset the connection without libnorst? Bytes were
 * unread (or arrived while it lingered), or the library says it did or may
 * have; except a close that only dropped a reference another holder kept. */
static int would_reset(const struct json_field *f)
{
    if (text_is(&f[EF_ACTION], action_names[ACT_SKIP_SHARED]) && f[EF_RST].type == JSON_FALSE)
        return 0;
    if (f[EF_RST].type == JSON_TRUE || f[EF_RST].type == JSON_NULL)
        return 1;
    return number_of(&f[EF_UNREAD]) > 0 || number_of(&f[EF_DRAINED]) > 0;
}

/* "127.0.0.1:47244" -> "127.0.0.1", "[::1]:5000" -> "::1" */
static void add_peer_host(struct table *t, const struct json_field *peer)
{
    const char *addr = text_of(peer), *end = addr + strlen(addr);
    if (peer->type == JSON_STRING && addr[0] == '[' && strchr(addr, ']')) {
        end = strchr(addr, ']');
        addr++;
    } else if (peer->type == JSON_STRING && strrchr(addr, ':')) {
        end = strrchr(addr, ':');
    }
    char *host = xrealloc(NULL, (size_t)(end - addr) + 1);
    memcpy(host, addr, (size_t)(end - addr));
    host[end - addr] = '\0';
    table_add(t, host);
    free(host);
}

static void add_event(struct summary *s, const struct json_field *f)
{
    if (f[EF_ACTION].type == JSON_ABSENT)
        return; /* not an event: the NORST_STATS summary object */
    s->events++;
    table_add(&s->outcomes, text_of(&f[EF_OUTCOME]));
    s->rst_sent += f[EF_RST].type == JSON_TRUE;
    s->rst_possible += f[EF_RST].type == JSON_NULL;
    if (would_reset(f)) {
        s->would_rst++;
        table_add(&s->callers, text_of(&f[EF_CALLER]));
        add_peer_host(&s->peers, &f[EF_PEER]);
    }
    if (text_is(&f[EF_ACTION], action_names[ACT_DRAIN]) && f[EF_ELAPSED_MS].type == JSON_NUMBER) {
        if (s->drains == s->drain_cap) {
            s->drain_cap = s->drain_cap ? 2 * s->drain_cap : 256;
            s->drain_ms = xrealloc(s->drain_ms, s->drain_cap * sizeof *s->drain_ms);
        }
        s->drain_ms[s->drains++] = f[EF_ELAPSED_MS].num;
    }
}

static int blank(const char *line, size_t len)
{
    return strspn(line, " \t\r\n") >= len;
}

/* Returns 0, or -1 with errno when reading failed. */
static int read_log(FILE *in, struct summary *s)
{
    struct json_field fields[EVENT_FIELD_COUNT] = {{0}};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;

    for (int i = 0; i < EVENT_FIELD_COUNT; i++)
        fields[i].name = event_fields[i].json;
    errno = 0;
    while ((len = getline(&line, &cap, in)) >= 0) {
        if (blank(line, (size_t)len))
            continue;
        if (json_parse_object(line, (size_t)len, fields, EVENT_FIELD_COUNT) == 0)
            add_event(s, fields);
        else
            s->skipped++;
    }
    json_fields_clear(fields, EVENT_FIELD_COUNT);
    free(line);
    return ferror(in) ? -1 : 0;
}

/* Control characters from \u escapes must not reach the terminal. */
static void print_clean(const char *s)
{
    for (; *s; s++)
        putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
    putchar('\n');
}

static void print_table(const char *title, struct table *t)
{
    printf("\n%s:\n", title);
    table_sort(t);
    if (!t->used)
        puts("  (none)");
    for (size_t i = 0; i < t->used; i++) {
        printf("%7lu  ", t->slot[i].count);
        print_clean(t->slot[i].key);
    }
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

static void print_summary(struct summary *s)
{
    static const unsigned ranks[] = {50, 90, 99};
    printf("events:          %lu\n", s->events);
    printf("lines skipped:   %lu (not a JSON object)\n", s->skipped);
    printf("would-be RSTs:   %lu\n", s->would_rst);
    printf("resets sent:     %lu (rst true)\n", s->rst_sent);
    printf("resets possible: %lu (rst null: sharing unknown)\n", s->rst_possible);
    print_table("would-be RSTs by caller", &s->callers);
    print_table("would-be RSTs by peer", &s->peers);
    print_table("outcomes", &s->outcomes);
    if (!s->drains) {
        puts("\ndrain time, ms: no drains");
        return;
    }
    qsort(s->drain_ms, s->drains, sizeof *s->drain_ms, by_value);
    printf("\ndrain time, ms (%zu drains):\n", s->drains);
    for (size_t i = 0; i < sizeof ranks / sizeof ranks[0]; i++)
        printf("  p%-3u %.15g\n", ranks[i], percentile(s->drain_ms, s->drains, ranks[i]));
    printf("  max  %.15g\n", s->drain_ms[s->drains - 1]);
}

int report_main(int argc, char **argv)
{
    static const char usage[] = "usage: norst report [FILE]\n"
                                "Summarises a libnorst JSON log (NORST_LOG_FORMAT=json); "
                                "FILE absent or - reads standard input.\n";
    struct summary s;
    const char *path = argc > 1 ? argv[1] : "-";
    FILE *in = stdin;

    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc > 2 || (path[0] == '-' && path[1] != '\0')) {
        fputs(usage, stderr);
        return 2;
    }
    if (strcmp(path, "-") != 0 && !(in = fopen(path, "r"))) {
        fprintf(stderr, "norst report: %s: %s\n", path, strerror(errno));
        return 1;
    }
    memset(&s, 0, sizeof s);
    if (read_log(in, &s) < 0) {
        fprintf(stderr, "norst report: %s: %s\n", strcmp(path, "-") ? path : "standard input",
                strerror(errno ? errno : EIO));
        return 1;
    }
    if (in != stdin)
        fclose(in);
    print_summary(&s);
    table_free(&s.callers);
    table_free(&s.peers);
    table_free(&s.outcomes);
    free(s.drain_ms);
    return 0;
}
