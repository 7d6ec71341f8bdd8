/* norst report [OPTIONS] [FILE...]: a summary of the library's JSON-lines
 * event log (NORST_LOG_FORMAT=json): which call stacks of which processes,
 * on which services and towards which peers would have been reset, when,
 * how the closes ended, and how long the drains took.
 *
 * It streams: one line at a time, into tables with a bound on their
 * distinct keys (tally.c) and a bounded sample of the drain times, so a log
 * of any size takes bounded memory.
 *
 * A line that is not one valid JSON object is skipped and counted; a blank
 * line is ignored. Fields an event lacks count as "(unknown)". */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../shim/event_fields.h"
#include "report.h"

/* Distinct keys kept per table (see tally.c), and drain times kept. */
static const size_t table_max[TABLE_COUNT] = {
    [BY_STACK] = 20000, [BY_PROCESS] = 10000, [BY_SERVICE] = 20000,
    [BY_PEER] = 100000, [BY_OUTCOME] = 100, [BY_MINUTE] = 200000};
#define DRAIN_SAMPLE_MAX (1u << 20)

/* The event's members read, in this order: the list's, then the stack
 * (found by its name, wherever the list has it). */
#define FIELD_STACK EVENT_FIELD_COUNT
#define FIELDS_READ (EVENT_FIELD_COUNT + 1)

/* A stack's frame's members. */
enum frame_member { FR_PC, FR_SYM, FR_OBJ, FR_BUILD_ID, FR_OFF, FRAME_MEMBERS };
static const char *const frame_member_names[FRAME_MEMBERS] = {"pc", "sym", "obj", "build_id",
                                                              "off"};

/* ---- building keys ---- */

struct text {
    char *buf;
    size_t len, cap;
};

static void text_put(struct text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->buf = xrealloc(t->buf, t->cap);
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

/* Empty, and a string even before the first put. */
static void text_clear(struct text *t)
{
    t->len = 0;
    text_put(t, "", 0);
}

static void text_str(struct text *t, const char *s)
{
    text_put(t, s, strlen(s));
}

/* A value inside a key whose parts KEY_SEP or '\n' separate. */
static void text_part(struct text *t, const char *s)
{
    static const char separators[] = {KEY_SEP, '\n', '\0'};
    for (size_t n; *s; s += n) {
        n = strcspn(s, separators);
        text_put(t, n ? s : "?", n ? n : 1);
        n += !n;
    }
}

/* ---- one event ---- */

static const char *text_of(const struct json_field *f)
{
    return f->type == JSON_STRING && f->str[0] ? f->str : UNKNOWN;
}

static int text_is(const struct json_field *f, const char *s)
{
    return f->type == JSON_STRING && strcmp(f->str, s) == 0;
}

static double number_of(const struct json_field *f)
{
    return f->type == JSON_NUMBER ? f->num : 0;
}

/* The first member read under this name: the stack wherever it is. */
static const struct json_field *captured(const struct json_field *f, const char *name)
{
    for (int i = 0; i < FIELDS_READ; i++)
        if (strcmp(f[i].name, name) == 0 && f[i].type != JSON_ABSENT)
            return &f[i];
    return &f[FIELD_STACK];
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

/* "127.0.0.1:47244" -> host "127.0.0.1", port 47244; "[::1]:5000" -> "::1".
 * The port, or -1 when the address has none. */
static long split_address(const char *addr, struct text *host)
{
    const char *start = addr, *colon = strrchr(addr, ':'), *end;
    if (addr[0] == '[' && (end = strchr(addr, ']'))) {
        start++;
        colon = end[1] == ':' ? end + 1 : NULL;
    } else {
        end = colon ? colon : addr + strlen(addr);
    }
    text_clear(host);
    text_put(host, start, (size_t)(end - start));
    if (!colon || !colon[1])
        return -1;
    char *stop;
    long port = strtol(colon + 1, &stop, 10);
    return *stop ? -1 : port;
}

/* The service the connection was for: the side with the lower port, the
 * one users recognise. A server's port is the one it listens on, below the
 * ports the kernel hands to clients (net.ipv4.ip_local_port_range, by
 * default 32768-60999), so the lower port is the service's; when it is the
 * peer's, this process was the client. */
static void add_service(struct table *t, const struct json_field *f, struct text *key)
{
    struct text host = {NULL, 0, 0};
    const char *local = text_of(&f[EF_LOCAL]), *peer = text_of(&f[EF_PEER]);
    long local_port = split_address(local, &host), peer_port = split_address(peer, &host);
    text_clear(key);
    if (f[EF_LOCAL].type != JSON_STRING || local_port < 0) {
        text_str(key, UNKNOWN);
    } else if (peer_port >= 0 && peer_port < local_port) {
        text_str(key, "client of ");
        text_str(key, peer);
    } else {
        text_str(key, local);
    }
    table_add(t, key->buf);
    free(host.buf);
}

static void add_process(struct table *t, const struct json_field *f, struct text *key)
{
    text_clear(key);
    if (f[EF_COMM].type != JSON_STRING) {
        text_str(key, UNKNOWN);
    } else {
        const char sep[] = {KEY_SEP, '\0'};
        text_part(key, f[EF_COMM].str);
        text_str(key, sep);
        text_part(key, text_of(&f[EF_EXE]));
        text_str(key, sep);
        text_part(key, f[EF_UNIT].type == JSON_STRING ? f[EF_UNIT].str : "-");
    }
    table_add(t, key->buf);
}

/* A stack's key, one line per frame "sym in obj" (the offset when the frame
 * has no symbol), and its sample for --resolve, "build_id off obj" lines. */
struct stack_keys {
    struct text key, sample;
};

static const char *frame_text(const struct json_field *f, const char *absent)
{
    return f->type == JSON_STRING && f->str[0] ? f->str : absent;
}

static void add_frame(void *ctx, const struct json_field *frame)
{
    struct stack_keys *k = ctx;
    if (k->key.len)
        text_str(&k->key, "\n");
    const char *where = frame_text(&frame[FR_OFF], frame_text(&frame[FR_PC], "?"));
    text_part(&k->key, frame_text(&frame[FR_SYM], where));
    text_str(&k->key, " in ");
    text_part(&k->key, frame_text(&frame[FR_OBJ], "?"));
    /* no spaces in a build-id or an offset; the object last, as it may */
    text_part(&k->sample, frame_text(&frame[FR_BUILD_ID], "-"));
    text_str(&k->sample, " ");
    text_part(&k->sample, frame_text(&frame[FR_OFF], "-"));
    text_str(&k->sample, " ");
    text_part(&k->sample, frame_text(&frame[FR_OBJ], "-"));
    text_str(&k->sample, "\n");
}

static void add_stack(struct table *t, const struct json_field *f, struct stack_keys *k)
{
    struct json_field frame[FRAME_MEMBERS] = {{0}};
    const struct json_field *stack = captured(f, "stack");
    for (int i = 0; i < FRAME_MEMBERS; i++)
        frame[i].name = frame_member_names[i];
    text_clear(&k->key);
    text_clear(&k->sample);
    if (stack->type == JSON_OTHER &&
        json_each_object(stack->raw, stack->raw_len, frame, FRAME_MEMBERS, add_frame, k) < 0)
        text_clear(&k->key); /* not an array of frames: as if none */
    if (!k->key.len) {
        text_part(&k->key, text_of(&f[EF_CALLER]));
        text_clear(&k->sample);
    }
    struct tally *entry = table_add(t, k->key.buf);
    if (entry && !entry->sample && k->sample.len)
        entry->sample = xstrdup(k->sample.buf);
}

static void add_time(struct summary *s, const struct json_field *time)
{
    if (time->type != JSON_STRING || strlen(time->str) >= sizeof s->first)
        return;
    if (!s->first[0] || strcmp(time->str, s->first) < 0)
        strcpy(s->first, time->str);
    if (strcmp(time->str, s->last) > 0)
        strcpy(s->last, time->str);
    if (strlen(time->str) >= 16) {
        char minute[17];
        memcpy(minute, time->str, 16); /* 2026-11-21T07:25 */
        minute[16] = '\0';
        table_add(&s->table[BY_MINUTE], minute);
    }
}

/* xorshift64: a reservoir sample needs no better randomness. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* Every drain time until the sample is full, then each of the n seen so far
 * replaces one with probability max/n (Vitter's algorithm R). */
static void add_drain(struct summary *s, double ms)
{
    s->drains++;
    if (ms > s->drain_max || s->drains == 1)
        s->drain_max = ms;
    if (s->drains_kept < DRAIN_SAMPLE_MAX) {
        if (s->drains_kept % 4096 == 0)
            s->drain_ms = xrealloc(s->drain_ms, (s->drains_kept + 4096) * sizeof *s->drain_ms);
        s->drain_ms[s->drains_kept++] = ms;
        return;
    }
    uint64_t pick = next_random(&s->rng) % s->drains;
    if (pick < DRAIN_SAMPLE_MAX)
        s->drain_ms[pick] = ms;
}

struct scratch {
    struct text key;
    struct stack_keys stack;
};

static void add_event(struct summary *s, const struct json_field *f, struct scratch *tmp)
{
    if (f[EF_ACTION].type == JSON_ABSENT)
        return; /* not an event: the NORST_STATS summary object */
    s->events++;
    table_add(&s->table[BY_OUTCOME], text_of(&f[EF_OUTCOME]));
    add_time(s, &f[EF_TIME]);
    s->rst_sent += f[EF_RST].type == JSON_TRUE;
    s->rst_possible += f[EF_RST].type == JSON_NULL;
    if (would_reset(f)) {
        s->would_rst++;
        add_stack(&s->table[BY_STACK], f, &tmp->stack);
        add_process(&s->table[BY_PROCESS], f, &tmp->key);
        add_service(&s->table[BY_SERVICE], f, &tmp->key);
        split_address(text_of(&f[EF_PEER]), &tmp->key);
        table_add(&s->table[BY_PEER], tmp->key.buf);
    }
    if (text_is(&f[EF_ACTION], action_names[ACT_DRAIN]) && f[EF_ELAPSED_MS].type == JSON_NUMBER)
        add_drain(s, f[EF_ELAPSED_MS].num);
}

static int blank(const char *line, size_t len)
{
    return strspn(line, " \t\r\n") >= len;
}

/* Returns 0, or the errno of a failed read. */
static int read_log(FILE *in, struct summary *s, struct scratch *tmp)
{
    struct json_field fields[FIELDS_READ] = {{0}};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;

    for (int i = 0; i < EVENT_FIELD_COUNT; i++)
        fields[i].name = event_fields[i].json;
    fields[FIELD_STACK].name = "stack";
    errno = 0;
    while ((len = getline(&line, &cap, in)) >= 0) {
        if (blank(line, (size_t)len))
            continue;
        if (json_parse_object(line, (size_t)len, fields, FIELDS_READ) == 0) {
            add_event(s, fields, tmp);
            continue;
        }
        s->skipped++;
        s->text_lines += strstr(line, "libnorst: ") != NULL;
    }
    json_fields_clear(fields, FIELDS_READ);
    int failed = ferror(in) ? (errno ? errno : EIO) : 0;
    free(line);
    return failed;
}

static const char usage[] =
    "usage: norst report [--top N] [--json] [--resolve] [FILE...]\n"
    "Summarises libnorst JSON logs (NORST_LOG_FORMAT=json): FILEs in turn, gzip'd\n"
    "ones too; none, or -, reads standard input.\n"
    "  -n, --top N     rows per table (default 10; 0: all)\n"
    "      --json      the summary as one JSON object\n"
    "      --resolve   name the stacks' frames from debug information (addr2line)\n";

/* The options; the index of the first file, or -1 after a usage error,
 * 0 after --help. */
static int parse_options(int argc, char **argv, struct report_options *opt)
{
    enum { OPT_JSON = 256, OPT_RESOLVE };
    static const struct option longopts[] = {
        {"top", required_argument, NULL, 'n'},
        {"json", no_argument, NULL, OPT_JSON},
        {"resolve", no_argument, NULL, OPT_RESOLVE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static char name[] = "norst report"; /* for getopt's messages */
    char *end;
    int c;
    *opt = (struct report_options){10, REPORT_TEXT, 0};
    argv[0] = name;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+n:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            errno = 0;
            opt->top = strtoul(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-') {
                fprintf(stderr, "norst report: --top: '%s': expected a number\n", optarg);
                return -1;
            }
            break;
        case OPT_JSON: opt->form = REPORT_JSON; break;
        case OPT_RESOLVE: opt->resolve = 1; break;
        case 'h': fputs(usage, stdout); return 0;
        default: return -1;
        }
    }
    return optind;
}

/* The text log instead of JSON: say what to do, not "events: 0". */
static void text_log_hint(const struct summary *s)
{
    fprintf(stderr,
            "norst report: no JSON events, but %lu line%s of the text log (\"libnorst: ...\").\n"
            "norst report reads the JSON log: log with NORST_LOG_FORMAT=json "
            "(norst --json --log FILE).\n",
            s->text_lines, s->text_lines == 1 ? "" : "s");
}

int report_main(int argc, char **argv)
{
    static char *stdin_only[] = {"-", NULL};
    struct report_options opt;
    struct summary s;
    struct scratch tmp;
    int first = parse_options(argc, argv, &opt), status = 0;

    if (first <= 0) {
        fputs(first < 0 ? "Try 'norst report --help'.\n" : "", stderr);
        return first < 0 ? 2 : 0;
    }
    char **files = first < argc ? argv + first : stdin_only;
    memset(&s, 0, sizeof s);
    memset(&tmp, 0, sizeof tmp);
    s.rng = 0x9e3779b97f4a7c15ULL;
    for (int t = 0; t < TABLE_COUNT; t++)
        s.table[t].max = table_max[t];
    for (; *files && status == 0; files++) {
        struct log_input in;
        if (log_input_open(&in, *files) < 0)
            status = 1;
        else if (log_input_close(&in, read_log(in.file, &s, &tmp)) < 0)
            status = 1;
    }
    if (status == 0 && s.events == 0 && s.text_lines > 0) {
        text_log_hint(&s);
        status = 1;
    }
    if (status == 0)
        report_print(&s, &opt);
    for (int t = 0; t < TABLE_COUNT; t++)
        table_free(&s.table[t]);
    free(s.drain_ms);
    free(tmp.key.buf);
    free(tmp.stack.key.buf);
    free(tmp.stack.sample.buf);
    return status;
}
