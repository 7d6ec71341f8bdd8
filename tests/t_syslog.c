/* NORST_LOG=syslog: one datagram per event to /dev/log, in syslog's
 * "<PRI>message" form. The test listens on its own /dev/log: a tmpfs over
 * /dev in a private mount namespace, with /dev/null and /dev/urandom bound
 * back in. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "harness.h"

static int private_dev_log(void)
{
    static const char *const keep[] = {"null", "urandom", "zero"};
    char old[64], from[96], to[64];
    snprintf(old, sizeof old, "/tmp/norst-olddev-%d", (int)getpid());
    if (private_mounts() < 0)
        return -1;
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
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX, .sun_path = "/dev/log"};
    if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
        return -1;
    return fd;
}

int main(void)
{
    static struct exchange x;
    const char *env[] = {"NORST_LOG=syslog", NULL};
    char msg[2048];

    case_begin("NORST_LOG=syslog: one datagram per event to /dev/log");
    int log = private_dev_log();
    CHECK(log >= 0, "cannot set up a private /dev/log: %s", strerror(errno));
    if (log >= 0) {
        exchange_run(&x, 1, env, 4, "accept queued:10 read:1 close", 10);
        CHECK(x.server_status == 0 && x.peer.eof, "server %d: %s", x.server_status, x.server.err);
        ssize_t n = recv(log, msg, sizeof msg - 1, MSG_DONTWAIT);
        msg[n > 0 ? n : 0] = '\0';
        CHECK(n > 0, "no datagram");
        CHECK(strncmp(msg, "<28>libnorst: ", 14) == 0, "%s", msg);
        CHECK(contains(msg, " unread=9 action=drain outcome=peer-eof"), "%s", msg);
        CHECK(recv(log, msg, sizeof msg, MSG_DONTWAIT) < 0, "more than one datagram");
    }
    case_end();
    return harness_done();
}
