/* norst report: on logs the library writes (the seed echo server in log mode
 * and in drain mode, over IPv4 and IPv6) and on a hand-written log whose
 * summary is known to the letter, with lines that are not JSON objects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static char tmpdir[] = "/tmp/norst-report-XXXXXX";

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0, "writing %s", path);
}

/* "./norst report FILE": returns the exit status, the output in p. */
static int report(struct proc *p, const char *file)
{
    const char *argv[] = {"./norst", "report", file, NULL};
    proc_start(p, 0, NULL, argv, 0);
    return proc_finish(p, 10000);
}

/* The number after a "label:" line of the summary, or -1. */
static long summary_value(const char *out, const char *label)
{
    char key[64];
    snprintf(key, sizeof key, "%s:", label);
    for (const char *line = out; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, key, strlen(key)) == 0)
            return strtol(line + strlen(key), NULL, 10);
    return -1;
}

/* The rows of a table ("title:" up to the next blank line), one per line. */
static void section(const char *out, const char *title, char *rows, size_t cap)
{
    char heading[128];
    snprintf(heading, sizeof heading, "\n%s:\n", title);
    const char *start = strstr(out, heading);
    rows[0] = '\0';
    if (!start)
        return;
    start += strlen(heading);
    const char *end = strstr(start, "\n\n");
    size_t len = end ? (size_t)(end - start) + 1 : strlen(start);
    snprintf(rows, cap, "%.*s", (int)(len < cap ? len : cap - 1), start);
}

/* Where the server runs: in the test's cgroup, or at the root of a cgroup
 * namespace of its own (where /proc/self/cgroup names no cgroup). */
enum server_cgroup { CGROUP_INHERITED, CGROUP_NAMESPACE_ROOT };
#define UNSHARE "/usr/bin/unshare"

/* Runs echo-server under the shim with a log, and three clients. */
static void generate_log_in(const char *log, const char *mode, int family, const char *format,
                            enum server_cgroup cgroup)
{
    char log_env[300], mode_env[32], format_env[32], out[4096];
    struct proc server;
    const char *host = family == 6 ? "::1" : "127.0.0.1";
    snprintf(log_env, sizeof log_env, "NORST_LOG=%s", log);
    snprintf(mode_env, sizeof mode_env, "NORST_MODE=%s", mode);
    snprintf(format_env, sizeof format_env, "NORST_LOG_FORMAT=%s", format);
    const char *env[] = {format_env, log_env, mode_env, NULL};
    const char *server_argv[] = {UNSHARE, "-C", "./echo-server", "-n", "3",
                                 family == 6 ? "-6" : "5000", family == 6 ? "5000" : NULL, NULL};
    const char *client_argv[] = {"./echo-client", host, "5000", "hello-world", NULL};

    proc_start(&server, 1, env, server_argv + (cgroup == CGROUP_INHERITED ? 2 : 0), 1);
    for (int i = 0; i < 3; i++)
        run_client(client_argv, out, sizeof out);
    CHECK(proc_finish(&server, 10000) == 0, "server exit: %s", server.err);
}

static void generate_log(const char *log, const char *mode, int family, const char *format)
{
    generate_log_in(log, mode, family, format, CGROUP_INHERITED);
}

static void case_generated(const char *mode, int family)
{
    char name[128], log[256], rows[4096], peer_row[64];
    struct proc p;
    int drain = strcmp(mode, "drain") == 0;

    snprintf(name, sizeof name, "report of a %s-mode log from echo-server, IPv%d", mode, family);
    case_begin(name);
    snprintf(log, sizeof log, "%s/%s-%d.json", tmpdir, mode, family);
    generate_log(log, mode, family, "json");
    CHECK(report(&p, log) == 0, "status: %s", p.err);
    CHECK(summary_value(p.out, "events") == 3, "report:\n%s", p.out);
    CHECK(summary_value(p.out, "lines skipped") == 0, "report:\n%s", p.out);
    CHECK(summary_value(p.out, "would-be RSTs") == 3, "report:\n%s", p.out);
    CHECK(summary_value(p.out, "resets sent") == (drain ? 0 : 3), "report:\n%s", p.out);

    /* One call site (its name depends on the build), three times. */
    section(p.out, "would-be RSTs by stack (or caller)", rows, sizeof rows);
    CHECK(strncmp(rows, "      3  ", 9) == 0 && strchr(rows, '\n') == rows + strlen(rows) - 1,
          "callers:\n%s", rows);
    section(p.out, "would-be RSTs by process (comm exe unit)", rows, sizeof rows);
    CHECK(strncmp(rows, "      3  echo-server  /", 23) == 0 && contains(rows, "/echo-server  "),
          "processes:\n%s", rows);
    section(p.out, "would-be RSTs by service (the side with the lower port)", rows, sizeof rows);
    CHECK(strcmp(rows, family == 6 ? "      3  [::1]:5000\n" : "      3  127.0.0.1:5000\n") == 0,
          "services:\n%s", rows);
    section(p.out, "would-be RSTs by peer", rows, sizeof rows);
    snprintf(peer_row, sizeof peer_row, "      3  %s\n", family == 6 ? "::1" : "127.0.0.1");
    CHECK(strcmp(rows, peer_row) == 0, "peers:\n%s", rows);
    section(p.out, "outcomes", rows, sizeof rows);
    if (drain) {
        CHECK(strcmp(rows, "      3  peer-eof\n") == 0, "outcomes:\n%s", rows);
        CHECK(contains(p.out, "\ndrain time, ms (3 drains):\n  p50  "), "report:\n%s", p.out);
    } else {
        CHECK(strncmp(rows, "      3  ", 9) == 0, "outcomes:\n%s", rows);
        CHECK(contains(p.out, "\ndrain time, ms: no drains\n"), "report:\n%s", p.out);
    }
    case_end();
}

/* The version norst reports, which the library it ships with writes. */
static void tool_version(char *out, size_t cap)
{
    struct proc p;
    const char *argv[] = {"./norst", "--version", NULL};
    proc_start(&p, 0, NULL, argv, 0);
    CHECK(proc_finish(&p, 10000) == 0, "norst --version: %s", p.err);
    CHECK(sscanf(p.out, "norst %63s", out) == 1 && cap > 63, "norst --version: %s", p.out);
}

/* A program named with a space: a text line's values hold none. */
static void check_spaced_name(void)
{
    char link[300], target[4096], log[300], log_env[320], text[8192], out[4200];
    struct proc server;
    snprintf(link, sizeof link, "%s/echo server", tmpdir);
    CHECK(realpath("./echo-server", target) && symlink(target, link) == 0, "symlink %s", link);
    snprintf(log, sizeof log, "%s/spaced.txt", tmpdir);
    snprintf(log_env, sizeof log_env, "NORST_LOG=%s", log);
    const char *env[] = {log_env, "NORST_MODE=log", NULL};
    const char *server_argv[] = {link, "-n", "1", "5000", NULL};
    const char *client_argv[] = {"./echo-client", "127.0.0.1", "5000", "hello-world", NULL};
    proc_start(&server, 1, env, server_argv, 1);
    run_client(client_argv, out, sizeof out);
    CHECK(proc_finish(&server, 10000) == 0, "server exit: %s", server.err);
    read_text_file(log, text, sizeof text);
    /* comm is the name it was started by; exe the file, the link resolved */
    snprintf(out, sizeof out, " comm=echo\\u0020server exe=%s unit=", target);
    CHECK(contains(text, out), "want %s in:\n%s", out, text);
}

/* Every event names its process: a real server's, in both forms. */
static void case_identity(void)
{
    char log[256], text[8192], version[64] = "", want[256];
    case_begin("identity in every event: comm, exe, unit, uid, version");
    tool_version(version, sizeof version);
    snprintf(log, sizeof log, "%s/identity.json", tmpdir);
    generate_log(log, "log", 4, "json");
    read_text_file(log, text, sizeof text);
    CHECK(count_of(text, "\"comm\":\"echo-server\",\"exe\":\"/") == 3, "log:\n%s", text);
    CHECK(count_of(text, "/echo-server\",\"unit\":") == 3, "log:\n%s", text);
    snprintf(want, sizeof want, ",\"uid\":%u,\"version\":\"%s\",\"caller\":", (unsigned)getuid(),
             version);
    CHECK(count_of(text, want) == 3, "want %s in:\n%s", want, text);
    /* A unit is null, a cgroup path or a unit's name: never empty. */
    CHECK(!contains(text, "\"unit\":\"\""), "log:\n%s", text);

    snprintf(log, sizeof log, "%s/identity.txt", tmpdir);
    generate_log(log, "log", 4, "text");
    read_text_file(log, text, sizeof text);
    CHECK(count_of(text, " comm=echo-server exe=/") == 3, "log:\n%s", text);
    snprintf(want, sizeof want, " uid=%u v=%s: close() from ", (unsigned)getuid(), version);
    CHECK(count_of(text, want) == 3, "want %s in:\n%s", want, text);

    /* At the root of a cgroup namespace there is no unit: null, "-". */
    if (system(UNSHARE " -C true 2>/dev/null") != 0) {
        printf("note: no cgroup namespace here (" UNSHARE " -C): unit null not checked\n");
    } else {
        snprintf(log, sizeof log, "%s/root-cgroup.json", tmpdir);
        generate_log_in(log, "log", 4, "json", CGROUP_NAMESPACE_ROOT);
        read_text_file(log, text, sizeof text);
        CHECK(count_of(text, "\"unit\":null,\"uid\":") == 3, "log:\n%s", text);
        snprintf(log, sizeof log, "%s/root-cgroup.txt", tmpdir);
        generate_log_in(log, "log", 4, "text", CGROUP_NAMESPACE_ROOT);
        read_text_file(log, text, sizeof text);
        CHECK(count_of(text, " unit=- uid=") == 3, "log:\n%s", text);
    }
    check_spaced_name();
    case_end();
}

/* Fourteen events, the NORST_STATS summary object (not an event), ten lines
 * that are not JSON objects, two blank lines. */
static const char hand_log[] =
    "{\"time\":\"2026-11-21T07:25:04.056Z\",\"pid\":10,\"fd\":4,\"path\":\"close\","
    "\"local\":\"10.0.0.9:80\",\"peer\":\"10.0.0.1:1000\",\"unread\":11,\"action\":\"drain\","
    "\"outcome\":\"peer-eof\",\"drained\":11,\"elapsed_ms\":0,\"rst\":false,"
    "\"caller\":\"handle_client+0x3f in /usr/sbin/foo\"}\n"
    "{\"peer\":\"10.0.0.1:1001\",\"unread\":1,\"action\":\"drain\",\"outcome\":\"peer-eof\","
    "\"drained\":1,\"elapsed_ms\":5,\"rst\":false,\"caller\":\"handle_client+0x3f in /usr/sbin/foo\"}\n"
    "{\"peer\":\"10.0.0.2:1002\",\"unread\":1,\"action\":\"drain\",\"outcome\":\"peer-eof\","
    "\"drained\":1,\"elapsed_ms\":12,\"rst\":false,\"caller\":\"handle_client+0x3f in /usr/sbin/foo\"}\n"
    "{\"peer\":\"[2001:db8::1]:443\",\"unread\":9,\"action\":\"drain\",\"outcome\":\"time-bound\","
    "\"drained\":0,\"elapsed_ms\":2000,\"rst\":true,\"caller\":\"reap_idle+0x120 in /usr/sbin/foo\"}\n"
    "{\"peer\":\"10.0.0.1:1003\",\"unread\":9,\"action\":\"drain\",\"outcome\":\"byte-bound\","
    "\"drained\":65536,\"elapsed_ms\":40,\"rst\":true,\"caller\":\"reap_idle+0x120 in /usr/sbin/foo\"}\n"
    /* shared, and certainly so: not a would-be RST */
    "{\"peer\":\"10.0.0.3:1\",\"unread\":5,\"action\":\"skip-shared\",\"outcome\":\"none\","
    "\"drained\":0,\"elapsed_ms\":0,\"rst\":false,\"caller\":\"handle_client+0x3f in /usr/sbin/foo\","
    "\"shared\":\"another-process\",\"holder\":4242}\n"
    /* sharing unknown: rst null, no caller field */
    "{\"peer\":\"10.0.0.3:2\",\"unread\":5,\"action\":\"skip-shared\",\"outcome\":\"none\","
    "\"drained\":0,\"elapsed_ms\":0,\"rst\":null,\"shared\":\"unknown\",\"holder\":0}\n"
    "{\"path\":\"exit\",\"peer\":\"[::1]:5000\",\"unread\":3,\"action\":\"log-only\","
    "\"outcome\":\"none\",\"drained\":0,\"elapsed_ms\":0,\"rst\":true,\"caller\":null}\n"
    /* a control character and an escaped non-ASCII letter in the caller */
    "{\"peer\":\"192.168.1.9:80\",\"unread\":2,\"action\":\"skip-abort\",\"outcome\":\"none\","
    "\"drained\":0,\"elapsed_ms\":0,\"rst\":true,\"caller\":\"bell\\u0007\\u00e9+0x1 in /lib/libx.so\"}\n"
    /* other key order, white space, nested values, every escape */
    "  { \"extra\" : {\"a\": [1, 2.5e-3, {\"b\": null}, []], \"c\": -1.5E+3, \"d\": {}} ,"
    " \"caller\" : \"handle_client+0x3f in /usr/sbin/foo\", \"elapsed_ms\" : 7,"
    " \"rst\" : false, \"note\": \"\\ud83d\\ude00 \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t\","
    " \"outcome\": \"peer-eof\", \"action\": \"drain\", \"unread\": 3, \"peer\": \"10.0.0.2:7\" }  \n"
    /* NORST_MODE=always: nothing unread, bytes arrived while lingering */
    "{\"peer\":\"10.0.0.4:1\",\"unread\":0,\"action\":\"drain\",\"outcome\":\"peer-eof\","
    "\"drained\":3,\"elapsed_ms\":1,\"rst\":false,\"caller\":\"0x4a10 in /usr/sbin/foo\"}\n"
    "{\"peer\":\"10.0.0.4:2\",\"unread\":0,\"action\":\"drain\",\"outcome\":\"none\","
    "\"drained\":0,\"elapsed_ms\":3,\"rst\":false,\"caller\":\"0x4a10 in /usr/sbin/foo\"}\n"
    "{\"peer\":\"10.0.0.5:1\",\"unread\":1,\"action\":\"drain\",\"outcome\":\"peer-eof\","
    "\"drained\":1,\"elapsed_ms\":2,\"rst\":false,\"caller\":\"handle_client+0x3f in /usr/sbin/foo\"}\n"
    "{\"peer\":\"10.0.0.5:2\",\"unread\":1,\"action\":\"drain\",\"outcome\":\"peer-eof\","
    "\"drained\":1,\"elapsed_ms\":4.5,\"rst\":false,\"caller\":\"handle_client+0x3f in /usr/sbin/foo\"}\n"
    "{\"pid\":1,\"stats\":{\"closes\":4,\"tcp_closes\":4}}\n"
    "\n"
    "   \t \n"
    "not json at all\n"
    "{\"pid\":1,\n"
    "[1,2,3]\n"
    "{\"a\":1} trailing\n"
    "{\"s\":\"\\ud800\"}\n"
    "{\"s\":\"tab\tinside\"}\n"
    "{\"n\":01}\n"
    "{\"a\":1,}\n"
    "{'a':1}\n"
    "libnorst: stats pid=1 closes=4 tcp_closes=4 would_reset=3 drained_clean=3 bound_hit=0\n";

static const char hand_report[] =
    "events:          14\n"
    "lines skipped:   10 (not a JSON object)\n"
    "would-be RSTs:   12\n"
    "resets sent:     4 (rst true)\n"
    "resets possible: 1 (rst null: sharing unknown)\n"
    "first event:     2026-11-21T07:25:04.056Z\n"
    "last event:      2026-11-21T07:25:04.056Z\n"
    "per minute:      14.0 events, 12.0 would-be RSTs (mean over 1 minute)\n"
    "busiest minute:  2026-11-21T07:25 (1 event)\n"
    "\n"
    "would-be RSTs by stack (or caller):\n"
    "      6  handle_client+0x3f in /usr/sbin/foo\n"
    "      2  (unknown)\n"
    "      2  reap_idle+0x120 in /usr/sbin/foo\n"
    "      1  0x4a10 in /usr/sbin/foo\n"
    "      1  bell?\xc3\xa9+0x1 in /lib/libx.so\n"
    "\n"
    "would-be RSTs by process (comm exe unit):\n"
    "     12  (unknown)\n"
    "\n"
    "would-be RSTs by service (the side with the lower port):\n"
    "     11  (unknown)\n"
    "      1  10.0.0.9:80\n"
    "\n"
    "would-be RSTs by peer:\n"
    "      3  10.0.0.1\n"
    "      2  10.0.0.2\n"
    "      2  10.0.0.5\n"
    "      1  10.0.0.3\n"
    "      1  10.0.0.4\n"
    "      1  192.168.1.9\n"
    "      1  2001:db8::1\n"
    "      1  ::1\n"
    "\n"
    "outcomes:\n"
    "      7  peer-eof\n"
    "      5  none\n"
    "      1  byte-bound\n"
    "      1  time-bound\n"
    "\n"
    "drain time, ms (10 drains):\n"
    "  p50  4.5\n"
    "  p90  40\n"
    "  p99  2000\n"
    "  max  2000\n";

static void case_hand_written(void)
{
    char log[256], cmd[512];
    struct proc p;

    case_begin("report of a hand-written log: exact summary, invalid lines counted");
    snprintf(log, sizeof log, "%s/hand.json", tmpdir);
    write_file(log, hand_log);
    CHECK(report(&p, log) == 0, "status: %s", p.err);
    CHECK(strcmp(p.out, hand_report) == 0, "report:\n%s\nwant:\n%s", p.out, hand_report);
    CHECK(p.err[0] == '\0', "stderr: %s", p.err);

    /* The same from standard input. */
    snprintf(cmd, sizeof cmd, "./norst report - < %s", log);
    const char *from_stdin[] = {"/bin/sh", "-c", cmd, NULL};
    proc_start(&p, 0, NULL, from_stdin, 0);
    CHECK(proc_finish(&p, 10000) == 0, "status: %s", p.err);
    CHECK(strcmp(p.out, hand_report) == 0, "report from stdin:\n%s", p.out);
    case_end();
}

static void case_empty_and_unreadable(void)
{
    char log[256];
    struct proc p;

    case_begin("report of an empty log; an unreadable one exits 1");
    snprintf(log, sizeof log, "%s/empty.json", tmpdir);
    write_file(log, "");
    CHECK(report(&p, log) == 0, "status: %s", p.err);
    CHECK(strcmp(p.out, "events:          0\n"
                        "lines skipped:   0 (not a JSON object)\n"
                        "would-be RSTs:   0\n"
                        "resets sent:     0 (rst true)\n"
                        "resets possible: 0 (rst null: sharing unknown)\n"
                        "first event:     (no times)\n"
                        "\nwould-be RSTs by stack (or caller):\n  (none)\n"
                        "\nwould-be RSTs by process (comm exe unit):\n  (none)\n"
                        "\nwould-be RSTs by service (the side with the lower port):\n  (none)\n"
                        "\nwould-be RSTs by peer:\n  (none)\n"
                        "\noutcomes:\n  (none)\n"
                        "\ndrain time, ms: no drains\n") == 0,
          "report:\n%s", p.out);

    snprintf(log, sizeof log, "%s/missing.json", tmpdir);
    CHECK(report(&p, log) == 1, "status for a missing file");
    CHECK(contains(p.err, "norst report: ") && contains(p.err, "No such file or directory"),
          "stderr: %s", p.err);
    CHECK(report(&p, tmpdir) == 1, "status for a directory: %s", p.out);
    CHECK(contains(p.err, "Is a directory"), "stderr: %s", p.err);
    case_end();
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 99;
    }
    case_generated("log", 4);
    case_generated("drain", 4);
    case_generated("drain", 6);
    case_identity();
    case_hand_written();
    case_empty_and_unreadable();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? harness_done() : 1;
}
