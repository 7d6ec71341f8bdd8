/* The shim writes to fd 2 only while fd 2 is the file it was at load: a
 * daemon that closed its stdio and got a client's connection as fd 2 must
 * not send that client "libnorst: ..." lines (a close's log line, the stats
 * line at exit). In the ordinary case the log still goes to stderr. And a
 * line for a stderr pipe whose reader has gone does not kill the host with
 * SIGPIPE. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "harness.h"

/* Everything the first client receives until the server's EOF. */
static size_t first_client_reads(int fd, char *buf, size_t cap)
{
    struct timeval tv = {5, 0};
    size_t len = 0;
    ssize_t n;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (len < cap - 1 && (n = recv(fd, buf + len, cap - 1 - len, 0)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    return len;
}

static void daemon_run(const char *const *env, int keep, char *received, size_t cap,
                       struct proc *server)
{
    const char *argv[] = {"./tests/progs/stdio_daemon", keep ? "keep" : NULL, NULL};
    proc_start(server, 1, env, argv, 1);
    int first = peer_connect(4, 5000);
    sleep_ms(50); /* accepted first: it gets fd 2 */
    int second = peer_connect(4, 5000);
    peer_send(second, "0123456789", 10);
    shutdown(second, SHUT_WR); /* the drain ends at once */
    first_client_reads(first, received, cap);
    CHECK(proc_finish(server, 5000) == 0, "server status %d: %s", server->status, server->err);
    close(first);
    close(second);
}

static void client_gets_only_the_reply(const char *name, const char *const *env)
{
    char received[4096];
    struct proc server;
    case_begin(name);
    daemon_run(env, 0, received, sizeof received, &server);
    CHECK(strcmp(received, "reply\n") == 0, "the client on fd 2 received: %s", received);
    case_end();
}

/* stderr is a pipe whose read end is closed before the program starts; a
 * close is logged to it. */
static void broken_pipe(void)
{
    int p[2], status = 0;
    char preload[512];
    const char *runtime = getenv("NORST_TEST_RUNTIME"); /* as proc_start does */
    snprintf(preload, sizeof preload, "%s%s./libnorst.so", runtime ? runtime : "", runtime ? ":" : "");
    case_begin("NORST_LOG=stderr into a pipe with no reader: no SIGPIPE, the process goes on");
    if (pipe(p) != 0) {
        CHECK(0, "pipe failed");
        case_end();
        return;
    }
    close(p[0]);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(p[1], 2);
        signal(SIGPIPE, SIG_DFL);
        setenv("LD_PRELOAD", preload, 1);
        setenv("NORST_LOG", "stderr", 1);
        execl("./tests/progs/errnoprobe", "./tests/progs/errnoprobe", "logged-close", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x (signal %d)", status,
          WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    case_end();
}

int main(void)
{
    const char *log_env[] = {"NORST_LOG=stderr", NULL};
    const char *stats_env[] = {"NORST_STATS=1", NULL};
    char received[4096];
    struct proc server;

    client_gets_only_the_reply("NORST_LOG=stderr, fd 2 now a client's connection: no log line to it",
                               log_env);
    client_gets_only_the_reply("NORST_STATS=1 alone, fd 2 now a client's connection: no stats line to it",
                               stats_env);

    case_begin("NORST_LOG=stderr with stderr untouched: the close is logged there");
    daemon_run(log_env, 1, received, sizeof received, &server);
    CHECK(strcmp(received, "reply\n") == 0, "client received: %s", received);
    CHECK(contains(server.err, "libnorst: ") && contains(server.err, " unread=9 action=drain"),
          "stderr: %s", server.err);
    case_end();

    broken_pipe();
    return harness_done();
}
