/* Live counters: "norst status" reads a running server's status page, the
 * counters move with its closes, --json and --prometheus say the same,
 * pages of processes that are gone are removed, a normal exit removes its
 * own, and the load line says where the page is or why there is none. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../shim/status_page.h"
#include "harness.h"

static char dir[64], own_dir[96], dir_option[80];

/* "norst status --dir DIR ARGS" through sh, stderr joined to stdout. */
static int status_of(const char *args, char *out, size_t len)
{
    char script[512];
    snprintf(script, sizeof script, "./norst status %s %s 2>&1", dir_option, args);
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    return run_client(argv, out, len);
}

/* Polls until the JSON line of pid has "name":value (the reaper ends an
 * event a moment after the client saw its EOF). */
static int wait_counter(pid_t pid, const char *name, long value, char *out, size_t len)
{
    char args[32], want[64];
    snprintf(args, sizeof args, "--json %d", (int)pid);
    snprintf(want, sizeof want, "\"%s\":%ld", name, value);
    for (int i = 0; i < 200; i++) {
        status_of(args, out, len);
        if (contains(out, want))
            return 1;
        sleep_ms(10);
    }
    return 0;
}

static int files_in(const char *path)
{
    char script[160], out[64];
    snprintf(script, sizeof script, "ls -A %s | wc -l", path);
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    run_client(argv, out, sizeof out);
    return atoi(out);
}

static void plant(const char *name, const struct status_page *page)
{
    char path[192];
    snprintf(path, sizeof path, "%s/%s", own_dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0 && write(fd, page, sizeof *page) == (ssize_t)sizeof *page, "cannot plant %s", path);
    close(fd);
}

static unsigned long long own_start_ticks(void)
{
    char text[1024];
    unsigned long long ticks = 0;
    read_text_file("/proc/self/stat", text, sizeof text);
    status_start_ticks(text, strlen(text), &ticks);
    return ticks;
}

int main(void)
{
    struct proc server;
    char out[8192], setting[96], expect[256], args[160];
    const char *client[] = {"./echo-client", "127.0.0.1", "5000", "twelve bytes", NULL};
    const char *argv[] = {"./echo-server", "-n", "3", "5000", NULL};

    unsetenv("NORST_STATUS_DIR"); /* each case says where, or means the default */
    snprintf(dir, sizeof dir, "/tmp/norst-status-%d", (int)getpid());
    snprintf(own_dir, sizeof own_dir, "%s/" STATUS_SUBDIR_PREFIX "%u", dir, (unsigned)geteuid());
    snprintf(dir_option, sizeof dir_option, "--dir %s", dir);
    snprintf(setting, sizeof setting, "NORST_STATUS_DIR=%s", dir);
    mkdir(dir, 0700);
    const char *env[] = {setting, "NORST_LOG=stderr", "NORST_ANNOUNCE=1", NULL};

    case_begin("norst status PID: a running server's counters, moving with its closes");
    proc_start(&server, 1, env, argv, 1);
    snprintf(args, sizeof args, "%d", (int)server.pid);
    CHECK(status_of(args, out, sizeof out) == 1 && contains(out, "closed no TCP connection yet"),
          "no page before the first TCP close: %s", out);
    run_client(client, out, sizeof out);
    CHECK(wait_counter(server.pid, "drained_clean", 1, out, sizeof out), "after one: %s", out);
    run_client(client, out, sizeof out);
    CHECK(wait_counter(server.pid, "drained_clean", 2, out, sizeof out), "after two: %s", out);
    CHECK(contains(out, "\"closes\":2,\"tcp_closes\":2,\"would_reset\":2,") &&
              contains(out, "\"drained_bytes\":22,"),
          "after: %s", out);
    CHECK(status_of("", out, sizeof out) == 0, "status: %s", out);
    CHECK(contains(out, "echo-server") && contains(out, " closes tcp_closes would_reset drained_clean"),
          "status: %s", out);
    case_end();

    case_begin("--json is one valid JSON object a process");
    if (access("/usr/bin/python3", X_OK) != 0) {
        case_skip("no python3 to parse it");
    } else {
        char script[256];
        snprintf(script, sizeof script,
                 "./norst status %s --json | python3 -c 'import json,sys\n"
                 "for l in sys.stdin: print(json.loads(l)[\"comm\"])'",
                 dir_option);
        const char *py[] = {"/bin/sh", "-c", script, NULL};
        CHECK(run_client(py, out, sizeof out) == 0 && strcmp(out, "echo-server\n") == 0, "parsed: %s", out);
    }
    case_end();

    case_begin("--prometheus DIR: node_exporter's textfile, replaced whole");
    snprintf(args, sizeof args, "--prometheus %s", dir);
    CHECK(status_of(args, out, sizeof out) == 0 && out[0] == '\0', "status: %s", out);
    snprintf(args, sizeof args, "%s/libnorst.prom", dir);
    read_text_file(args, out, sizeof out);
    snprintf(expect, sizeof expect, "\nlibnorst_would_reset_total{pid=\"%d\",comm=\"echo-server\"} 2\n",
             (int)server.pid);
    CHECK(contains(out, "# TYPE libnorst_would_reset_total counter\nlibnorst_would_reset_total{") &&
              contains(out, expect) && contains(out, "\nlibnorst_processes 1\n"),
          "textfile: %s", out);
    CHECK(files_in(dir) == 2, "a temporary file left in %s", dir); /* libnorst-UID, libnorst.prom */
    unlink(args);
    case_end();

    case_begin("the load line names the version, the settings and the page");
    run_client(client, out, sizeof out);
    CHECK(proc_finish(&server, 5000) == 0, "server: %s", server.err);
    snprintf(expect, sizeof expect, " pid=%d loaded version=", (int)server.pid);
    CHECK(contains(server.err, expect), "stderr: %s", server.err);
    snprintf(expect, sizeof expect, " mode=drain async=1 log=stderr status=%s/%d-", own_dir, (int)server.pid);
    CHECK(contains(server.err, expect), "stderr: %s", server.err);
    case_end();

    case_begin("a normal exit removes the page");
    CHECK(files_in(own_dir) == 0, "left in %s", own_dir);
    CHECK(status_of("", out, sizeof out) == 0 && contains(out, "no process with libnorst's live counters"),
          "status: %s", out);
    snprintf(args, sizeof args, "%d", (int)server.pid);
    CHECK(status_of(args, out, sizeof out) == 1 && contains(out, ": no live counters in "), "status: %s", out);
    case_end();

    case_begin("stale pages: a process gone, a pid reused, an exec without the library");
    struct status_page page = {.version = STATUS_VERSION, .size = STATUS_PAGE_SIZE, .pid = (int32_t)getpid()};
    char name[64];
    memcpy(page.magic, STATUS_MAGIC, sizeof page.magic);
    strcpy(page.library, "0.1.0");
    strcpy(page.mode, "drain");
    pid_t gone = fork();
    if (gone == 0)
        _exit(0);
    waitpid(gone, NULL, 0);
    snprintf(name, sizeof name, "%d-%llu", (int)gone, own_start_ticks());
    plant(name, &page);
    snprintf(name, sizeof name, "%d-%llu", (int)getpid(), own_start_ticks() + 1);
    plant(name, &page);
    /* this very process, its start time right, magic and all, not mapped */
    snprintf(name, sizeof name, "%d-%llu", (int)getpid(), own_start_ticks());
    plant(name, &page);
    proc_start(&server, 1, env, argv, 1);
    run_client(client, out, sizeof out); /* its page comes with its first TCP close */
    CHECK(wait_counter(server.pid, "drained_clean", 1, out, sizeof out), "server: %s", out);
    CHECK(status_of("", out, sizeof out) == 0 && contains(out, "removed 3 pages of processes that are gone") &&
              count_of(out, "echo-server") == 1,
          "status: %s", out);
    CHECK(files_in(own_dir) == 1, "in %s: not just the server's page", own_dir);
    case_end();

    case_begin("a page with words the library never writes is passed over, not printed");
    strcpy(page.counters[0].name, "x 1\nlibnorst_forged");
    page.ncounters = 1;
    snprintf(name, sizeof name, "%d-%llu", (int)getpid(), own_start_ticks());
    plant(name, &page);
    snprintf(args, sizeof args, "%s/%s", own_dir, name);
    int planted = open(args, O_RDWR | O_CLOEXEC);
    void *mapped = mmap(NULL, STATUS_PAGE_SIZE, PROT_READ, MAP_SHARED, planted, 0);
    close(planted);
    CHECK(mapped != MAP_FAILED, "cannot map %s", args);
    snprintf(args, sizeof args, "--prometheus %s", dir);
    CHECK(status_of(args, out, sizeof out) == 0, "status: %s", out);
    snprintf(args, sizeof args, "%s/libnorst.prom", dir);
    read_text_file(args, out, sizeof out);
    CHECK(contains(out, "libnorst_processes 1\n") && !contains(out, "forged"), "textfile: %s", out);
    unlink(args);
    CHECK(files_in(own_dir) == 2, "in %s: the server's page and the odd one", own_dir);
    munmap(mapped, STATUS_PAGE_SIZE);
    snprintf(args, sizeof args, "%s/%s", own_dir, name);
    unlink(args);
    case_end();

    case_begin("a page left by SIGKILL is removed by the next norst status");
    kill(server.pid, SIGKILL);
    proc_finish(&server, 5000);
    CHECK(files_in(own_dir) == 1, "SIGKILL removed the page?");
    CHECK(status_of("", out, sizeof out) == 0 && contains(out, "removed 1 page of processes that are gone"),
          "status: %s", out);
    CHECK(files_in(own_dir) == 0, "left in %s", own_dir);
    case_end();

    case_begin("a forked child counts in a page of its own, made at its first TCP close");
    closer_start(&server, 1, env, 4, "accept queued:5 fork-close:1500 sleep:3000 close sleep:1000");
    int peer = peer_connect(4, 5000);
    peer_send(peer, "hello", 5);
    CHECK(proc_wait_output(&server, "child=", 3000), "no child: %s", server.out);
    pid_t child = (pid_t)number_after(server.out, "child=");
    /* the child's close: shared with the parent, left alone */
    CHECK(wait_counter(child, "skipped_shared", 1, out, sizeof out), "child: %s", out);
    CHECK(contains(out, "\"closes\":1,\"tcp_closes\":1,\"would_reset\":1,"), "child: %s", out);
    snprintf(args, sizeof args, "%d", (int)server.pid);
    CHECK(status_of(args, out, sizeof out) == 1, "the parent has closed no TCP socket: %s", out);
    CHECK(files_in(own_dir) == 1, "in %s: not just the child's page", own_dir);
    close(peer); /* the parent's drain then ends at our FIN, and is counted */
    sleep_ms(2000); /* the child has exited, normally */
    CHECK(wait_counter(server.pid, "would_reset", 1, out, sizeof out), "parent's close: %s", out);
    CHECK(contains(out, "\"closes\":1,\"tcp_closes\":1,"), "parent: %s", out);
    CHECK(files_in(own_dir) == 1, "in %s: the child's page stayed", own_dir);
    proc_finish(&server, 5000);
    case_end();

    case_begin("by default the page is in /dev/shm, where norst status looks by default");
    const char *plain[] = {"./echo-server", "-n", "2", "5000", NULL};
    proc_start(&server, 1, NULL, plain, 1);
    run_client(client, out, sizeof out);
    snprintf(args, sizeof args, "./norst status --json %d", (int)server.pid);
    const char *status_default[] = {"/bin/sh", "-c", args, NULL};
    CHECK(run_client(status_default, out, sizeof out) == 0 && contains(out, "\"comm\":\"echo-server\""),
          "status: %s", out);
    snprintf(expect, sizeof expect, "/dev/shm/" STATUS_SUBDIR_PREFIX "%u/%d-", (unsigned)geteuid(),
             (int)server.pid);
    char listing[300];
    snprintf(listing, sizeof listing, "ls %s*", expect);
    const char *ls[] = {"/bin/sh", "-c", listing, NULL};
    CHECK(run_client(ls, out, sizeof out) == 0 && contains(out, expect), "ls: %s", out);
    run_client(client, out, sizeof out);
    CHECK(proc_finish(&server, 5000) == 0, "server: %s", server.err);
    CHECK(run_client(ls, out, sizeof out) != 0, "still there: %s", out);
    case_end();

    case_begin("NORST_STATUS_DIR that cannot be used: no page, and the load line says why");
    const char *bad_env[] = {"NORST_STATUS_DIR=/nonexistent-norst-dir", "NORST_LOG=stderr", "NORST_ANNOUNCE=1",
                             NULL};
    const char *once[] = {"./echo-server", "-n", "1", "5000", NULL};
    proc_start(&server, 1, bad_env, once, 1);
    run_client(client, out, sizeof out);
    CHECK(proc_finish(&server, 5000) == 0, "server: %s", server.err);
    CHECK(contains(server.err, " status=none (/nonexistent-norst-dir: No such file or directory)\n"),
          "stderr: %s", server.err);
    CHECK(contains(server.err, "action=drain outcome=peer-eof"), "it still works: %s", server.err);
    case_end();

    case_begin("NORST_STATUS_DIR relative: refused with a warning, the default used; OFF: none");
    const char *relative_env[] = {"NORST_STATUS_DIR=relative/dir", "NORST_LOG=stderr", "NORST_ANNOUNCE=1", NULL};
    proc_start(&server, 1, relative_env, once, 1);
    run_client(client, out, sizeof out);
    CHECK(proc_finish(&server, 5000) == 0, "server: %s", server.err);
    CHECK(contains(server.err, "ignoring NORST_STATUS_DIR=\"relative/dir\" (expected an absolute directory, "
                               "or off); using the default /dev/shm\n") &&
              contains(server.err, " status=/dev/shm/"),
          "stderr: %s", server.err);
    const char *off_env[] = {"NORST_STATUS_DIR=OFF", "NORST_LOG=stderr", "NORST_ANNOUNCE=1", NULL};
    proc_start(&server, 1, off_env, once, 1);
    run_client(client, out, sizeof out);
    CHECK(proc_finish(&server, 5000) == 0, "server: %s", server.err);
    CHECK(contains(server.err, " status=none (NORST_STATUS_DIR=off)\n"), "stderr: %s", server.err);
    case_end();

    case_begin("a socket the background thread holds counts as lingering until its peer closes");
    {
        struct proc lingerer;
        /* It exits when the test connects once more, not on a clock. */
        closer_start(&lingerer, 1, env, 4, "accept queued:10 read:1 close accept");
        int held = peer_connect(4, 5000);
        peer_send_pattern(held, 10);
        struct peer_result r = peer_read_all(held, 2000); /* our FIN: handed off */
        CHECK(r.eof, "no FIN from the closer");
        CHECK(wait_counter(lingerer.pid, "lingering", 1, out, sizeof out), "held: %s", out);
        snprintf(args, sizeof args, "--prometheus %s", dir);
        CHECK(status_of(args, out, sizeof out) == 0, "status: %s", out);
        snprintf(args, sizeof args, "%s/libnorst.prom", dir);
        read_text_file(args, out, sizeof out);
        unlink(args);
        snprintf(expect, sizeof expect, "# TYPE libnorst_lingering gauge\nlibnorst_lingering{pid=\"%d\","
                 "comm=\"closer\"} 1\n", (int)lingerer.pid);
        CHECK(contains(out, expect), "textfile: %s", out);
        snprintf(args, sizeof args, "%d", (int)lingerer.pid);
        CHECK(status_of(args, out, sizeof out) == 0 && contains(out, " lingering\n") &&
                  contains(out, " 1\n"),
              "table: %s", out);
        close(held);
        CHECK(wait_counter(lingerer.pid, "lingering", 0, out, sizeof out), "after the peer's FIN: %s", out);
        CHECK(contains(out, "\"lingering_started\":1,\"lingering_ended\":1}"), "%s", out);
        close(peer_connect(4, 5000));
        CHECK(proc_finish(&lingerer, 10000) == 0, "closer: %s", lingerer.err);
    }
    case_end();

    rmdir(own_dir);
    rmdir(dir);
    return harness_done();
}
