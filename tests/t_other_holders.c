/* Holders the library used to miss: a vfork child (shares our memory, runs
 * no atfork handler), a CGI-style child exec'd with execl after vfork, a
 * clone() child. Each case fails if the library drains a socket that
 * another process still serves: the peer then misses the reply. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

static const char *const sync_env[] = {"NORST_LOG=stderr", NULL};
static const char *const async_env[] = {"NORST_LOG=stderr", "NORST_ASYNC=1", NULL};

static void run_holders(struct exchange *x, const char *const *env, const char *scenario,
                        size_t request)
{
    const char *argv[] = {"./tests/progs/holders", scenario, NULL};
    exchange_run_argv(x, 1, env, argv, 4, request);
}

static void vfork_close_range(const char *mode, const char *const *env)
{
    char name[128];
    struct exchange x;
    snprintf(name, sizeof name, "a vfork child's close_range leaves the parent's connection whole (%s)", mode);
    case_begin(name);
    run_holders(&x, env, "vfork-closerange", 100);
    CHECK(number_after(x.server.out, "rest=") == 90, "server: %s %s", x.server.out, x.server.err);
    CHECK(number_after(x.server.out, "replied=") == 1000, "server: %s", x.server.out);
    CHECK(x.peer.bytes == 1000 && x.peer.eof && x.peer.pattern_ok, "peer: %zu bytes eof %d reset %d",
          x.peer.bytes, x.peer.eof, x.peer.reset);
    case_end();
}

static void vfork_epoll_async(void)
{
    struct exchange x;
    case_begin("async: a vfork child's close_range keeps the parent's epoll marks; a closed fd reports no events");
    run_holders(&x, async_env, "vfork-epoll", 100);
    CHECK(number_after(x.server.out, "events=") == 0, "server: %s %s", x.server.out, x.server.err);
    CHECK(x.delta.out_rsts == 0, "OutRsts %ld", x.delta.out_rsts);
    case_end();
}

/* Another process serves the 1000-byte request with a 100000-byte reply
 * after the parent closed its copy with the request still unread. */
static void served_elsewhere(const char *scenario, const char *what, const char *status_key,
                             const char *mode, const char *const *env)
{
    char name[160];
    struct exchange x;
    snprintf(name, sizeof name, "%s (%s)", what, mode);
    case_begin(name);
    run_holders(&x, env, scenario, 1000);
    CHECK(x.peer.bytes == 100000 && x.peer.pattern_ok, "peer: %zu bytes eof %d reset %d; server %s %s",
          x.peer.bytes, x.peer.eof, x.peer.reset, x.server.out, x.server.err);
    CHECK(number_after(x.server.out, status_key) == 0, "server: %s", x.server.out);
    case_end();
}

/* Python 3.11's subprocess uses vfork and close_range(3, ~0) in the child
 * (close_fds=True, the default). */
static void python_subprocess(void)
{
    static const char script[] =
        "import socket, subprocess\n"
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        "s.bind(('127.0.0.1', 5000)); s.listen(1)\n"
        "print('listening on port 5000', flush=True)\n"
        "c, _ = s.accept()\n"
        "c.settimeout(3)\n"
        "head = c.recv(10)\n"
        "subprocess.run(['/bin/true'])\n"
        "rest = b''\n"
        "while len(rest) < 90:\n"
        "    b = c.recv(90 - len(rest))\n"
        "    if not b: break\n"
        "    rest += b\n"
        "print('rest=%d' % len(rest), flush=True)\n"
        "c.sendall(bytes((i * 7 + i // 251) & 0xff for i in range(1000)))\n"
        "c.close()\n";
    const char *argv[] = {"/usr/bin/python3", "-c", script, NULL};
    struct exchange x;
    case_begin("Python subprocess.run (vfork + close_range) leaves the connection whole");
    if (access(argv[0], X_OK) != 0) {
        case_skip("no /usr/bin/python3");
        case_end();
        return;
    }
    exchange_run_argv(&x, 1, sync_env, argv, 4, 100);
    CHECK(number_after(x.server.out, "rest=") == 90, "server: %s %s", x.server.out, x.server.err);
    CHECK(x.peer.bytes == 1000 && x.peer.eof && x.peer.pattern_ok, "peer: %zu bytes eof %d reset %d",
          x.peer.bytes, x.peer.eof, x.peer.reset);
    case_end();
}

/* Java 17 with the VFORK launch mechanism: the child close()s each fd it
 * finds in /proc/self/fd before its exec. */
static void java_vfork(void)
{
    const char *argv[] = {"/usr/bin/java", "-Djdk.lang.Process.launchMechanism=VFORK",
                          "../tests/runtimes/Spawner.java", NULL};
    struct exchange x;
    case_begin("Java ProcessBuilder with VFORK leaves the connection whole");
    if (access(argv[0], X_OK) != 0) {
        case_skip("no /usr/bin/java");
        case_end();
        return;
    }
    /* The JVM compiles the source first: more than exchange_run's 5 s. */
    proc_start(&x.server, 1, sync_env, argv, 0);
    CHECK(proc_wait_output(&x.server, "listening on port", 60000), "java did not start");
    int fd = peer_connect(4, 5000);
    peer_send_pattern(fd, 100);
    x.peer = peer_read_all(fd, 10000);
    close(fd);
    x.server_status = proc_finish(&x.server, 10000);
    CHECK(number_after(x.server.out, "rest=") == 90, "server: %s %s", x.server.out, x.server.err);
    CHECK(x.peer.bytes == 1000 && x.peer.eof && x.peer.pattern_ok, "peer: %zu bytes eof %d reset %d",
          x.peer.bytes, x.peer.eof, x.peer.reset);
    case_end();
}

int main(void)
{
    vfork_close_range("sync", sync_env);
    vfork_close_range("async", async_env);
    vfork_epoll_async();
    static const char cgi[] = "vfork + dup2 + execl: the handler's reply reaches the client";
    static const char cloned[] = "a clone() child serves the request the parent closed";
    served_elsewhere("vfork-cgi", cgi, "handler-status=", "sync", sync_env);
    served_elsewhere("vfork-cgi", cgi, "handler-status=", "async", async_env);
    served_elsewhere("clone-serve", cloned, "child-status=", "sync", sync_env);
    served_elsewhere("clone-serve", cloned, "child-status=", "async", async_env);
    python_subprocess();
    java_vfork();
    return harness_done();
}
