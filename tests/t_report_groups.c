/* norst report on a rotated log set (two files and a gzip'd one) whose
 * events carry stacks in the agreed format, written by hand: the groups by
 * stack, process, service and minute, --top, --json; the hint for a text
 * log; --resolve naming a frame of this very program from its DWARF. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static char tmpdir[] = "/tmp/norst-groups-XXXXXX";

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0, "writing %s", path);
}

/* "./norst report ARGS...": the exit status; the output in p. */
static int report(struct proc *p, const char *const *args)
{
    const char *argv[16] = {"./norst", "report"};
    int n = 2;
    while (*args && n < 15)
        argv[n++] = *args++;
    argv[n] = NULL;
    proc_start(p, 0, NULL, argv, 0);
    return proc_finish(p, 30000);
}

/* One stack frame as the library writes it; sym NULL for none. */
static void frame(char *out, size_t cap, const char *sym, const char *obj, const char *off)
{
    char name[96];
    snprintf(name, sizeof name, sym ? "\"%s\"" : "null", sym);
    snprintf(out, cap,
             "{\"pc\":\"0x7f00000%s\",\"sym\":%s,\"obj\":\"%s\",\"build_id\":\"0123abcd\","
             "\"off\":\"%s\"}",
             off + 2, name, obj, off);
}

struct who {
    const char *comm, *exe, *unit; /* unit NULL: none */
};
static const struct who redis = {"redis-server", "/usr/bin/redis-check-rdb",
                                 "redis-server.service"};
static const struct who nginx = {"nginx", "/usr/sbin/nginx", "nginx.service"};
static const struct who worker = {"worker", "/opt/w/worker", NULL};

/* An event line: drained (a would-be RST) unless quiet. */
static void event(FILE *f, const char *time, const struct who *w, const char *local,
                  const char *peer, const char *stack, int quiet)
{
    char unit[64];
    snprintf(unit, sizeof unit, w->unit ? "\"%s\"" : "null", w->unit);
    fprintf(f,
            "{\"time\":\"2026-11-30T%s.000Z\",\"pid\":100,\"fd\":7,\"path\":\"close\","
            "\"local\":\"%s\",\"peer\":\"%s\",\"unread\":%d,\"action\":\"drain\","
            "\"outcome\":\"peer-eof\",\"drained\":%d,\"elapsed_ms\":1,\"rst\":false,"
            "\"comm\":\"%s\",\"exe\":\"%s\",\"unit\":%s,\"uid\":110,\"version\":\"0.2.0\","
            "\"stack\":%s,\"caller\":\"first frame's name\"}\n",
            time, local, peer, quiet ? 0 : 5, quiet ? 0 : 5, w->comm, w->exe, unit, stack);
}

/* Stacks: redis QUIT (A) and protocol error (B), nginx's (C, a frame with
 * no symbol), a client's (D). */
static char stack_a[1024], stack_b[1024], stack_c[1024], stack_d[1024];

static void make_stacks(void)
{
    char f1[256], f2[256], f3[256];
    const char *rdb = "/usr/bin/redis-check-rdb";
    frame(f1, sizeof f1, "connSocketClose+0x35", rdb, "0x13c035");
    frame(f2, sizeof f2, "freeClient+0x1c", rdb, "0x8a11c");
    frame(f3, sizeof f3, "processCommand+0x2f1", rdb, "0x901f1");
    snprintf(stack_a, sizeof stack_a, "[%s,%s,%s]", f1, f2, f3);
    frame(f3, sizeof f3, "readQueryFromClient+0x1b2", rdb, "0x8c3b2");
    snprintf(stack_b, sizeof stack_b, "[%s,%s,%s]", f1, f2, f3);
    frame(f1, sizeof f1, "ngx_close_connection+0xc0", "/usr/sbin/nginx", "0x4e0c0");
    frame(f2, sizeof f2, NULL, "/usr/sbin/nginx", "0x4f2a1");
    snprintf(stack_c, sizeof stack_c, "[%s,%s]", f1, f2);
    frame(f1, sizeof f1, "close_upstream+0x10", "/opt/w/worker", "0x1010");
    snprintf(stack_d, sizeof stack_d, "[%s]", f1);
}

/* The set, newest first as logrotate leaves it: log.json, log.json.1,
 * log.json.2.gz; each file's events in turn. */
static const struct planned {
    const char *file, *time;
    const struct who *who;
    const char *local, *peer, *stack;
    int quiet;
} plan[] = {
    {"log.json.2", "06:00:01", &redis, "10.0.0.9:6379", "10.0.0.1:50000", stack_a, 0},
    {"log.json.2", "06:00:30", &redis, "10.0.0.9:6379", "10.0.0.1:50001", stack_a, 0},
    {"log.json.2", "06:01:10", &redis, "10.0.0.9:6379", "10.0.0.2:50002", stack_a, 0},
    {"log.json.1", "06:02:00", &redis, "10.0.0.9:6379", "10.0.0.1:50003", stack_b, 0},
    {"log.json.1", "06:02:20", &redis, "10.0.0.9:6379", "10.0.0.3:50004", stack_b, 0},
    {"log.json.1", "06:02:40", &nginx, "10.0.0.9:80", "10.0.0.4:50005", stack_c, 0},
    {"log.json", "06:05:00", &redis, "10.0.0.9:6379", "10.0.0.1:50006", stack_a, 0},
    {"log.json", "06:05:10", &worker, "10.0.0.9:41000", "10.0.0.7:443", stack_d, 0},
    {"log.json", "06:05:20", &worker, "10.0.0.9:41001", "10.0.0.7:443", stack_d, 1},
};

/* 1 if the set was made (gzip may be missing). */
static int make_log_set(void)
{
    char path[300], cmd[700];
    FILE *f = NULL;
    make_stacks();
    for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++) {
        if (i == 0 || strcmp(plan[i].file, plan[i - 1].file) != 0) {
            if (f)
                fclose(f);
            snprintf(path, sizeof path, "%s/%s", tmpdir, plan[i].file);
            f = fopen(path, "w");
            CHECK(f, "writing %s", path);
            if (!f)
                return 0;
        }
        event(f, plan[i].time, plan[i].who, plan[i].local, plan[i].peer, plan[i].stack,
              plan[i].quiet);
    }
    /* and last, an older library's line: no identity, no stack */
    fputs("{\"time\":\"2026-11-30T06:05:40.000Z\",\"local\":\"[::1]:8080\","
          "\"peer\":\"[::1]:40000\",\"unread\":1,\"action\":\"log-only\",\"outcome\":\"none\","
          "\"drained\":0,\"elapsed_ms\":0,\"rst\":true,\"caller\":\"handle+0x1 in /srv/old\"}\n",
          f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "gzip -n %s/log.json.2 2>/dev/null", tmpdir);
    return system(cmd) == 0;
}

static const char top2_report[] =
    "events:          10\n"
    "lines skipped:   0 (not a JSON object)\n"
    "would-be RSTs:   9\n"
    "resets sent:     1 (rst true)\n"
    "resets possible: 0 (rst null: sharing unknown)\n"
    "first event:     2026-11-30T06:00:01.000Z\n"
    "last event:      2026-11-30T06:05:40.000Z\n"
    "per minute:      1.7 events, 1.5 would-be RSTs (mean over 6 minutes)\n"
    "busiest minute:  2026-11-30T06:05 (4 events)\n"
    "\n"
    "would-be RSTs by stack (or caller):\n"
    "      4  connSocketClose+0x35 in /usr/bin/redis-check-rdb\n"
    "         freeClient+0x1c in /usr/bin/redis-check-rdb\n"
    "         processCommand+0x2f1 in /usr/bin/redis-check-rdb\n"
    "      2  connSocketClose+0x35 in /usr/bin/redis-check-rdb\n"
    "         freeClient+0x1c in /usr/bin/redis-check-rdb\n"
    "         readQueryFromClient+0x1b2 in /usr/bin/redis-check-rdb\n"
    "    ...  3 more (--top 0 shows all)\n"
    "\n"
    "would-be RSTs by process (comm exe unit):\n"
    "      6  redis-server  /usr/bin/redis-check-rdb  redis-server.service\n"
    "      1  (unknown)\n"
    "    ...  2 more (--top 0 shows all)\n"
    "\n"
    "would-be RSTs by service (the side with the lower port):\n"
    "      6  10.0.0.9:6379\n"
    "      1  10.0.0.9:80\n"
    "    ...  2 more (--top 0 shows all)\n"
    "\n"
    "would-be RSTs by peer:\n"
    "      4  10.0.0.1\n"
    "      1  10.0.0.2\n"
    "    ...  4 more (--top 0 shows all)\n"
    "\n"
    "outcomes:\n"
    "      9  peer-eof\n"
    "      1  none\n"
    "\n"
    "drain time, ms (9 drains):\n"
    "  p50  1\n"
    "  p90  1\n"
    "  p99  1\n"
    "  max  1\n";

static void case_rotated_set(void)
{
    char newest[300], older[300], oldest[300];
    struct proc p;
    case_begin("report of a rotated log set with a gzip'd file: groups, --top, times");
    if (!make_log_set()) {
        case_skip("cannot make a gzip'd file (gzip missing?)");
        case_end();
        return;
    }
    snprintf(newest, sizeof newest, "%s/log.json", tmpdir);
    snprintf(older, sizeof older, "%s/log.json.1", tmpdir);
    snprintf(oldest, sizeof oldest, "%s/log.json.2.gz", tmpdir);
    const char *args[] = {"--top", "2", newest, older, oldest, NULL};
    CHECK(report(&p, args) == 0, "status: %s", p.err);
    CHECK(strcmp(p.out, top2_report) == 0, "report:\n%s\nwant:\n%s", p.out, top2_report);
    CHECK(p.err[0] == '\0', "stderr: %s", p.err);

    /* All rows: the nginx stack's frame without a symbol goes by offset;
     * the old line by its caller; the client by the peer's service. */
    const char *all[] = {"-n", "0", oldest, older, newest, NULL};
    CHECK(report(&p, all) == 0, "status: %s", p.err);
    CHECK(contains(p.out, "      1  ngx_close_connection+0xc0 in /usr/sbin/nginx\n"
                          "         0x4f2a1 in /usr/sbin/nginx\n"),
          "report:\n%s", p.out);
    CHECK(contains(p.out, "      1  handle+0x1 in /srv/old\n"), "report:\n%s", p.out);
    CHECK(contains(p.out, "      1  client of 10.0.0.7:443\n"), "report:\n%s", p.out);
    CHECK(contains(p.out, "      1  worker  /opt/w/worker  -\n"), "report:\n%s", p.out);
    CHECK(!contains(p.out, "more (--top"), "report:\n%s", p.out);
    const char *bad_top[] = {"--top", "ten", newest, NULL};
    CHECK(report(&p, bad_top) == 2 && contains(p.err, "--top: 'ten': expected a number"),
          "--top ten: %s", p.err);

    /* A gzip'd file that is cut short is an error, not a quiet half. */
    char cut[300], cmd[700];
    snprintf(cut, sizeof cut, "%s/cut.gz", tmpdir);
    snprintf(cmd, sizeof cmd, "head -c 40 %s > %s", oldest, cut);
    CHECK(system(cmd) == 0, "%s", cmd);
    const char *cut_args[] = {cut, NULL};
    CHECK(report(&p, cut_args) == 1, "status for a cut gzip file: %s", p.out);
    CHECK(contains(p.err, "gzip -dc failed"), "stderr: %s", p.err);
    case_end();
}

static void case_json(void)
{
    char newest[300], older[300], oldest[300], out_path[300];
    struct proc p;
    case_begin("report --json: one JSON object, the same counts");
    snprintf(newest, sizeof newest, "%s/log.json", tmpdir);
    snprintf(older, sizeof older, "%s/log.json.1", tmpdir);
    snprintf(oldest, sizeof oldest, "%s/log.json.2.gz", tmpdir);
    if (access(oldest, R_OK) != 0) {
        case_skip("no gzip'd log (gzip missing?)");
        case_end();
        return;
    }
    const char *args[] = {"--json", "--top", "1", newest, older, oldest, NULL};
    CHECK(report(&p, args) == 0, "status: %s", p.err);
    CHECK(count_of(p.out, "\n") == 1 && p.out[0] == '{', "one line:\n%s", p.out);
    static const char *const parts[] = {
        "{\"events\":10,\"skipped\":0,\"would_rst\":9,\"rst_sent\":1,\"rst_possible\":0,"
        "\"first\":\"2026-11-30T06:00:01.000Z\",\"last\":\"2026-11-30T06:05:40.000Z\","
        "\"minutes\":6,",
        "\"busiest_minute\":{\"minute\":\"2026-11-30T06:05\",\"events\":4}",
        "\"by_stack\":{\"rows\":[{\"count\":4,\"frames\":["
        "\"connSocketClose+0x35 in /usr/bin/redis-check-rdb\","
        "\"freeClient+0x1c in /usr/bin/redis-check-rdb\","
        "\"processCommand+0x2f1 in /usr/bin/redis-check-rdb\"]}],\"more\":4,\"others\":0}",
        "\"by_process\":{\"rows\":[{\"count\":6,\"comm\":\"redis-server\","
        "\"exe\":\"/usr/bin/redis-check-rdb\",\"unit\":\"redis-server.service\"}],\"more\":3,",
        "\"by_service\":{\"rows\":[{\"count\":6,\"service\":\"10.0.0.9:6379\"}]",
        "\"drains\":9,\"drain_ms\":{\"p50\":1,",
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        CHECK(contains(p.out, parts[i]), "json:\n%s\nwant: %s", p.out, parts[i]);

    /* It parses: norst's own strict parser takes it as one object (not an
     * event, so no events and nothing skipped). */
    snprintf(out_path, sizeof out_path, "%s/report.json", tmpdir);
    write_file(out_path, p.out);
    const char *again[] = {out_path, NULL};
    CHECK(report(&p, again) == 0, "status: %s", p.err);
    CHECK(contains(p.out, "events:          0\nlines skipped:   0 "), "re-read:\n%s", p.out);
    case_end();
}

/* Writes text to the file name in the temporary directory, then reports on
 * it, with option first unless NULL: the exit status. */
static int report_on(struct proc *p, const char *name, const char *text, const char *option)
{
    char log[300];
    snprintf(log, sizeof log, "%s/%s", tmpdir, name);
    write_file(log, text);
    const char *args[] = {option ? option : log, option ? log : NULL, NULL};
    return report(p, args);
}

static void case_text_log(void)
{
    static const char text_log[] =
        "libnorst: 2026-11-30T06:00:01.000Z pid=1 fd=4 path=close local=127.0.0.1:5000 "
        "peer=127.0.0.1:4000 unread=1 action=drain outcome=peer-eof drained=1 ms=0 rst=none "
        "comm=x exe=/x unit=- uid=0 v=0.2.0: close() from f+0x1 in /x\n"
        "libnorst: stats pid=1 closes=1 tcp_closes=1\n";
    struct proc p;
    case_begin("report of a text log: a hint, not \"events: 0\"");
    CHECK(report_on(&p, "text.log", text_log, NULL) == 1, "status: %s", p.out);
    CHECK(p.out[0] == '\0', "stdout: %s", p.out);
    CHECK(contains(p.err, "2 lines of the text log") && contains(p.err, "NORST_LOG_FORMAT=json") &&
              contains(p.err, "norst --json"),
          "stderr: %s", p.err);
    CHECK(report_on(&p, "text.log", text_log, "--json") == 1 && p.out[0] == '\0',
          "--json: status, stdout: %s", p.out);
    case_end();
}

/* A stack that is not an array of frames counts as none: the caller, and an
 * empty string is no name at all; no key left over from the line before. */
static void case_odd_stacks(void)
{
    struct proc p;
    case_begin("report: a stack that is not an array of frames falls back to the caller");
    static const char odd_log[] =
        "{\"action\":\"drain\",\"unread\":1,\"caller\":\"a+0x1 in /b\",\"stack\":[]}\n"
        "{\"action\":\"drain\",\"unread\":1,\"caller\":\"\",\"peer\":\"\"}\n"
        "{\"action\":\"drain\",\"unread\":1,\"stack\":[{\"sym\":\"x\"},5]}\n"
        "{\"action\":\"drain\",\"unread\":1,\"caller\":\"c+0x2 in /d\",\"stack\":{\"sym\":\"x\"}}\n";
    CHECK(report_on(&p, "odd.json", odd_log, NULL) == 0, "status: %s", p.err);
    CHECK(contains(p.out, "would-be RSTs by stack (or caller):\n"
                          "      2  (unknown)\n"
                          "      1  a+0x1 in /b\n"
                          "      1  c+0x2 in /d\n\n"),
          "report:\n%s", p.out);
    case_end();
}

/* A table keeps a bounded number of distinct keys (outcomes: 100) and
 * counts the rest together. */
static void case_bounded_table(void)
{
    static char log[105 * 64];
    size_t len = 0;
    struct proc p;
    case_begin("report: past its bound of distinct keys a table counts the rest as others");
    for (int i = 0; i < 105; i++)
        len += (size_t)snprintf(log + len, sizeof log - len,
                                "{\"action\":\"drain\",\"outcome\":\"o%03d\"}\n", i);
    CHECK(report_on(&p, "many.json", log, NULL) == 0, "status: %s", p.err);
    CHECK(contains(p.out, "\noutcomes:\n      1  o000\n") &&
              contains(p.out, "      1  o009\n    ...  90 more (--top 0 shows all)\n"
                              "      5  (others: more than 100 distinct)\n"),
          "report:\n%s", p.out);
    case_end();
}

/* The file offset at which this program's code for addr lies. */
static int file_offset_of(const void *addr, char *obj, size_t cap, unsigned long *off)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[600], path[512];
    unsigned long start, end, offset;
    int found = 0;
    while (maps && !found && fgets(line, sizeof line, maps))
        if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %511s", &start, &end, &offset, path) == 4 &&
            (uintptr_t)addr >= start && (uintptr_t)addr < end) {
            snprintf(obj, cap, "%s", path);
            *off = offset + ((uintptr_t)addr - start);
            found = 1;
        }
    if (maps)
        fclose(maps);
    return found;
}

/* A frame of the agreed format, the pc a return address one past offset. */
static void frame_at(char *out, size_t cap, const char *obj, const char *build_id,
                     unsigned long offset)
{
    char id[140];
    snprintf(id, sizeof id, build_id ? "\"%s\"" : "null", build_id);
    snprintf(out, cap,
             "{\"pc\":\"0x1\",\"sym\":null,\"obj\":\"%s\",\"build_id\":%s,\"off\":\"0x%lx\"}",
             obj, id, offset + 1);
}

/* The GNU build-id of obj as readelf shows it, or "". */
static void build_id_of(const char *obj, char *out, size_t cap)
{
    char cmd[700], line[300];
    snprintf(cmd, sizeof cmd, "readelf -n '%s' 2>/dev/null", obj);
    FILE *p = popen(cmd, "r");
    out[0] = '\0';
    while (p && fgets(line, sizeof line, p))
        if (sscanf(line, " Build ID: %139s", out) == 1)
            break;
    if (p)
        pclose(p);
    (void)cap;
}

static void __attribute__((noinline)) case_resolve(void)
{
    char self[512] = "", libc[512] = "", log[300], line[4096], frames[4][700], want[600];
    char nopie[512] = "", libc_id[140] = "", debug[300];
    unsigned long self_off = 0, libc_off = 0, nopie_off = 0, nopie_vaddr = 0;
    struct proc p;
    case_begin("report --resolve names frames with addr2line: DWARF in the object, "
               "a non-PIE's offset, a build-id debug file");
    if (system("addr2line --version >/dev/null 2>&1") != 0) {
        case_skip("no addr2line");
        case_end();
        return;
    }
    CHECK(file_offset_of((const void *)case_resolve, self, sizeof self, &self_off), "maps");
    const char *nopie_argv[] = {"./tests/progs/frame-nopie", NULL};
    proc_start(&p, 0, NULL, nopie_argv, 0);
    CHECK(proc_finish(&p, 10000) == 0 &&
              sscanf(p.out, "%lx %lx %511s", &nopie_off, &nopie_vaddr, nopie) == 3,
          "frame-nopie: %s", p.out);
    CHECK(nopie_off != nopie_vaddr, "frame-nopie's code loads at its offset: %s", p.out);
    frame_at(frames[0], sizeof frames[0], self, NULL, self_off);
    frame_at(frames[1], sizeof frames[1], nopie, NULL, nopie_off);
    frame_at(frames[2], sizeof frames[2], "/nonexistent/obj", "ab", 0x10);
    /* libc's close, named from its -dbgsym (libc6-dbg) file, when there is one */
    CHECK(file_offset_of((const void *)close, libc, sizeof libc, &libc_off), "maps: close");
    build_id_of(libc, libc_id, sizeof libc_id);
    snprintf(debug, sizeof debug, "/usr/lib/debug/.build-id/%.2s/%s.debug", libc_id,
             libc_id[0] ? libc_id + 2 : "");
    int have_debug = libc_id[0] && access(debug, R_OK) == 0;
    frame_at(frames[3], sizeof frames[3], libc, libc_id, libc_off);
    snprintf(line, sizeof line,
             "{\"time\":\"2026-11-30T06:00:01.000Z\",\"local\":\"127.0.0.1:80\","
             "\"peer\":\"127.0.0.1:4000\",\"unread\":1,\"action\":\"drain\",\"outcome\":"
             "\"peer-eof\",\"drained\":1,\"elapsed_ms\":0,\"rst\":false,"
             "\"stack\":[%s,%s,%s,%s],\"caller\":null}\n",
             frames[0], frames[1], frames[2], frames[3]);
    snprintf(log, sizeof log, "%s/resolve.json", tmpdir);
    write_file(log, line);
    const char *args[] = {"--resolve", log, NULL};
    CHECK(report(&p, args) == 0, "status: %s", p.err);
    snprintf(want, sizeof want, "0x%lx in %s\n         = case_resolve at ", self_off + 1, self);
    CHECK(contains(p.out, want) && contains(p.out, "t_report_groups.c:"), "report:\n%s", p.out);
    snprintf(want, sizeof want, "0x%lx in %s\n         = frame_target at ", nopie_off + 1, nopie);
    CHECK(contains(p.out, want) && contains(p.out, "frame-nopie.c:"), "report:\n%s", p.out);
    CHECK(contains(p.out, "0x11 in /nonexistent/obj\n         = ? (the object is not on this "
                          "machine)\n"),
          "report:\n%s", p.out);
    if (have_debug) {
        snprintf(want, sizeof want, "0x%lx in %s\n         = ", libc_off + 1, libc);
        const char *named = strstr(p.out, want);
        CHECK(named && strncmp(named + strlen(want), "?", 1) != 0 &&
                  strstr(named, "close") && strstr(named, ".c:"),
              "libc's close from %s:\n%s", debug, p.out);
    } else {
        printf("note: no debug file for libc (%s): its frame not checked\n", debug);
    }
    const char *json_args[] = {"--resolve", "--json", log, NULL};
    CHECK(report(&p, json_args) == 0, "status: %s", p.err);
    CHECK(contains(p.out, "\"resolved\":[\"case_resolve at ") &&
              contains(p.out, "\",\"frame_target at ") && contains(p.out, ",null,"),
          "json:\n%s", p.out);

    /* Without addr2line on the PATH, each frame says so. */
    const char *no_path[] = {"PATH=/nonexistent", NULL};
    const char *argv[] = {"./norst", "report", "--resolve", log, NULL};
    proc_start(&p, 0, no_path, argv, 0);
    CHECK(proc_finish(&p, 30000) == 0, "status: %s", p.err);
    CHECK(count_of(p.out, "= ? (addr2line not found: install binutils)\n") == 4,
          "report:\n%s", p.out);
    case_end();
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 99;
    }
    case_rotated_set();
    case_json();
    case_text_log();
    case_odd_stacks();
    case_bounded_table();
    case_resolve();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? harness_done() : 1;
}
