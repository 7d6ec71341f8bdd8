/* The shim's log fd is not the application's: fcntl() and dup() of it fail
 * with EBADF as close() does, and no exec'd or spawned program inherits it,
 * even after the application cleared its close-on-exec flag by a way the
 * hooks do not see (ioctl FIONCLEX). */
#include <stdio.h>
#include <string.h>

#include "harness.h"

static void logfd_run(const char *how, struct proc *p, char *path, size_t cap)
{
    static int serial;
    char setting[128];
    const char *env[] = {setting, NULL};
    snprintf(path, cap, "/tmp/norst-hidden-%d-%d.log", (int)getpid(), serial++);
    snprintf(setting, sizeof setting, "NORST_LOG=%s", path);
    const char *argv[] = {"./tests/progs/logfd", how, path, NULL};
    unlink(path);
    proc_start(p, 1, env, argv, 0);
    CHECK(proc_finish(p, 10000) == 0, "status %#x: %s %s", p->status, p->out, p->err);
    CHECK(number_after(p->out, "log-fd=") >= 0, "the log's fd: %s", p->out);
    unlink(path);
}

static void not_inherited(const char *how)
{
    char name[128], path[96];
    struct proc p;
    snprintf(name, sizeof name, "a child started by %s lists no fd on the log file", how);
    case_begin(name);
    logfd_run(how, &p, path, sizeof path);
    CHECK(contains(p.out, "/proc/") || contains(p.out, "->"), "the child's fds: %s", p.out);
    CHECK(!contains(p.out, path), "the child's fds: %s", p.out);
    case_end();
}

int main(void)
{
    char path[96];
    struct proc p;

    case_begin("fcntl(F_SETFD, 0) on the log's fd fails with EBADF");
    logfd_run("fcntl", &p, path, sizeof path);
    CHECK(contains(p.out, "fcntl=-1 errno=9\n"), "%s", p.out);
    case_end();

    case_begin("dup() and dup2() of the log's fd fail with EBADF");
    logfd_run("dup", &p, path, sizeof path);
    CHECK(contains(p.out, "dup=-1 errno=9 dup2=-1 errno=9\n"), "%s", p.out);
    case_end();

    not_inherited("exec");
    not_inherited("spawn");
    not_inherited("system");
    return harness_done();
}
