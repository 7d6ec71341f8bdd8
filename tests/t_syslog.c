/* NORST_LOG=syslog: one datagram per event to /dev/log, in syslog's
 * "<PRI>TAG[PID]: MSG" form (RFC 3164 4.1.3), tagged libnorst so that
 * rsyslog's programname is libnorst and a JSON event is the whole MSG; the
 * priority is daemon.notice unless NORST_SYSLOG_PRIORITY says otherwise.
 * NORST_LOG=journal: one datagram per event to journald's native socket,
 * KEY=value lines with the event's fields as NORST_<NAME>; after journald
 * restarts (a new socket at the path), the next event reaches it.
 *
 * The test listens on its own sockets in a private mount namespace: a tmpfs
 * over /dev (with /dev/null, /dev/urandom and /dev/zero bound back in) for
 * /dev/log, and one over /run for /run/systemd/journal/socket. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include "harness.h"

static int listen_at(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
        return -1;
    return fd;
}

static int private_dev_log(void)
{
    static const char *const keep[] = {"null", "urandom", "zero"};
    char old[64], from[96], to[64];
    snprintf(old, sizeof old, "/tmp/norst-olddev-%d", (int)getpid());
    mkdir(old, 0700);
    if (mount("/dev", old, NULL, MS_BIND | MS_REC, NULL) < 0 ||
        mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755") < 0)
        return -1;
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        snprintf(from, sizeof from, "%s/%s", old, keep[i]);
        snprintf(to, sizeof to, "/dev/%s", keep[i]);
        close(open(to, O_CREAT | O_WRONLY, 0666));
        if (mount(from, to, NULL, MS_BIND, NULL) < 0)
            return -1;
    }
    return listen_at("/dev/log");
}

static int private_journal(void)
{
    if (mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0 ||
        mkdir("/run/systemd", 0755) < 0 || mkdir("/run/systemd/journal", 0755) < 0)
        return -1;
    return listen_at("/run/systemd/journal/socket");
}

/* The next datagram, NUL-terminated; its length, or -1 when none waits. */
static ssize_t next_datagram(int fd, char *msg, size_t cap)
{
    ssize_t n = recv(fd, msg, cap - 1, MSG_DONTWAIT);
    msg[n > 0 ? n : 0] = '\0';
    return n;
}

static void syslog_case(int log, const char *name, const char *const *env, int priority,
                        const char *after_tag)
{
    static struct exchange x;
    char msg[2048], head[64];

    case_begin(name);
    exchange_run(&x, 1, env, 4, "accept queued:10 read:1 close", 10);
    CHECK(x.server_status == 0 && x.peer.eof, "server %d: %s", x.server_status, x.server.err);
    CHECK(next_datagram(log, msg, sizeof msg) > 0, "no datagram");
    snprintf(head, sizeof head, "<%d>libnorst[%d]: %s", priority, (int)x.server.pid, after_tag);
    CHECK(strncmp(msg, head, strlen(head)) == 0, "want %s...: %s", head, msg);
    CHECK(contains(msg, "unread=9 action=drain outcome=peer-eof") ||
              contains(msg, "\"unread\":9,\"action\":\"drain\",\"outcome\":\"peer-eof\""),
          "%s", msg);
    CHECK(count_of(msg, "libnorst") == 1 + count_of(msg, "libnorst.so"), "twice tagged: %s", msg);
    CHECK(next_datagram(log, msg, sizeof msg) < 0, "more than one datagram: %s", msg);
    case_end();
}

/* Each line KEY=value, the key journald's kind: A-Z, 0-9, '_', not first. */
static int journal_lines_valid(const char *msg)
{
    for (const char *line = msg; *line;) {
        const char *eq = strchr(line, '='), *nl = strchr(line, '\n');
        if (!eq || !nl || eq > nl || eq == line || *line == '_')
            return 0;
        for (const char *c = line; c < eq; c++)
            if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_'))
                return 0;
        line = nl + 1;
    }
    return 1;
}

static void journal_case(int journal)
{
    static struct exchange x;
    const char *env[] = {"NORST_LOG=journal", "NORST_STATS=1", NULL};
    char msg[4096], pid_line[64];

    case_begin("NORST_LOG=journal: native fields, NORST_ACTION=drain and the others");
    exchange_run(&x, 1, env, 4, "accept queued:10 read:1 close", 10);
    CHECK(x.server_status == 0 && x.peer.eof, "server %d: %s", x.server_status, x.server.err);
    CHECK(next_datagram(journal, msg, sizeof msg) > 0, "no datagram");
    CHECK(journal_lines_valid(msg), "not KEY=value lines: %s", msg);
    snprintf(pid_line, sizeof pid_line, "\nSYSLOG_PID=%d\n", (int)x.server.pid);
    CHECK(strncmp(msg, "PRIORITY=5\nSYSLOG_FACILITY=3\nSYSLOG_IDENTIFIER=libnorst\n", 55) == 0,
          "%s", msg);
    CHECK(contains(msg, pid_line), "%s", msg);
    CHECK(contains(msg, "\nMESSAGE=20") && contains(msg, " unread=9 action=drain "), "%s", msg);
    CHECK(contains(msg, "\nNORST_ACTION=drain\n") && contains(msg, "\nNORST_OUTCOME=peer-eof\n") &&
              contains(msg, "\nNORST_UNREAD=9\n") && contains(msg, "\nNORST_FD=4\n") &&
              contains(msg, "\nNORST_LOCAL=127.0.0.1:5000\n") && contains(msg, "\nNORST_RST=none\n"),
          "%s", msg);
    /* the process's identity is journald's own (_COMM...), the version ours */
    CHECK(contains(msg, " comm=closer exe=/") && contains(msg, "\nNORST_VERSION=") &&
              !contains(msg, "\nNORST_COMM=") && !contains(msg, "\nNORST_EXE="),
          "%s", msg);
    /* the stats line at exit: an entry of its own */
    CHECK(next_datagram(journal, msg, sizeof msg) > 0, "no stats datagram");
    CHECK(journal_lines_valid(msg) && contains(msg, "\nMESSAGE=stats pid="), "%s", msg);
    CHECK(next_datagram(journal, msg, sizeof msg) < 0, "a datagram too many: %s", msg);
    case_end();
}

/* journald restarted between two events: its socket is a new one at the
 * same path; the second event reaches it. */
static void journal_restart_case(int *journal)
{
    char msg[4096], out[1024];
    const char *env[] = {"NORST_LOG=journal", NULL};
    const char *server_argv[] = {"./echo-server", "-n", "2", "5000", NULL};
    const char *client[] = {"./echo-client", "127.0.0.1", "5000", "hello-world", NULL};
    struct proc server;

    case_begin("NORST_LOG=journal: journald restarted, the next event reaches the new socket");
    proc_start(&server, 1, env, server_argv, 1);
    run_client(client, out, sizeof out);
    for (int waited = 0; waited < 3000; waited += 20) {
        struct timeval tv = {0, 20000};
        setsockopt(*journal, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (recv(*journal, msg, sizeof msg - 1, MSG_PEEK) > 0)
            break;
    }
    CHECK(next_datagram(*journal, msg, sizeof msg) > 0 && contains(msg, "\nNORST_ACTION=drain\n"),
          "first event: %s", msg);
    close(*journal);
    unlink("/run/systemd/journal/socket");
    *journal = listen_at("/run/systemd/journal/socket");
    CHECK(*journal >= 0, "rebinding: %s", strerror(errno));
    run_client(client, out, sizeof out);
    CHECK(proc_finish(&server, 5000) == 0, "server: %s", server.err);
    CHECK(next_datagram(*journal, msg, sizeof msg) > 0 && contains(msg, "\nNORST_ACTION=drain\n"),
          "no event after the restart: %s", msg);
    case_end();
}

int main(void)
{
    static const char *const plain[] = {"NORST_LOG=syslog", NULL};
    static const char *const json[] = {"NORST_LOG=SysLog", "NORST_LOG_FORMAT=json",
                                       "NORST_SYSLOG_PRIORITY=local0.info", NULL};

    if (private_mounts() < 0) {
        case_begin("syslog and journal sinks");
        CHECK(0, "cannot make a private mount namespace: %s", strerror(errno));
        case_end();
        return harness_done();
    }
    int log = private_dev_log();
    case_begin("a private /dev/log");
    CHECK(log >= 0, "cannot set up a private /dev/log: %s", strerror(errno));
    case_end();
    if (log >= 0) {
        syslog_case(log, "NORST_LOG=syslog: one datagram per event, tagged, daemon.notice", plain,
                    3 * 8 + 5, "20");
        syslog_case(log, "NORST_LOG=SysLog, JSON, local0.info: the JSON is the whole message",
                    json, 16 * 8 + 6, "{\"time\":\"20");
    }
    int journal = private_journal();
    case_begin("a private journald socket");
    CHECK(journal >= 0, "cannot set up a private %s: %s", "/run/systemd/journal/socket",
          strerror(errno));
    case_end();
    if (journal >= 0) {
        journal_case(journal);
        journal_restart_case(&journal);
    }
    return harness_done();
}
