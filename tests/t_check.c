/* norst check: unit files written here (Debian's redis-server.service, the
 * lines that matter; NoExecPaths=/; a static program; filters) and read
 * with --unit-path, so that no systemd is needed, and once through a
 * systemctl of our own, as where systemd runs; the findings it prints, and
 * its exit status (0 nothing stops the library, 1 a blocker, 2 usage). */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static char tmpdir[] = "/tmp/norst-check-XXXXXX";
static char library[PATH_MAX]; /* the build's libnorst.so, as norst finds it */

/* Debian 12's redis-server.service, the [Service] lines that matter here. */
static const char redis_unit[] =
    "[Unit]\n"
    "Description=Advanced key-value store\n"
    "\n"
    "[Service]\n"
    "Type=notify\n"
    "ExecStart=/usr/bin/redis-server /etc/redis/redis.conf --supervised systemd --daemonize no\n"
    "User=redis\n"
    "PrivateTmp=true\n"
    "ProtectHome=true\n"
    "ProtectSystem=strict\n"
    "MemoryDenyWriteExecute=true\n"
    "NoNewPrivileges=true\n"
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX\n"
    "SystemCallArchitectures=native\n"
    "SystemCallFilter=@system-service\n"
    "SystemCallFilter=~ @privileged @resources\n"
    "# comment\n"
    "NoExecPaths=/\n"
    "ExecPaths=/usr/bin/redis-server /usr/lib /lib\n"
    "\n"
    "[Install]\n"
    "WantedBy=multi-user.target\n"
    "Alias=redis.service\n";

/* A unit directory of its own for each case: DIR/NAME with text. */
static void write_unit(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", tmpdir, dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", tmpdir, dir, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0755); /* a drop-in directory, NAME.d/x.conf */
    *slash = '/';
    FILE *f = fopen(path, "w");
    CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0, "writing %s", path);
}

/* norst check --unit-path TMPDIR/dir unit; its status, output in p. */
static int check_unit(struct proc *p, const char *dir, const char *unit)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", tmpdir, dir);
    const char *argv[] = {"./norst", "check", "--unit-path", path, unit, NULL};
    proc_start(p, 0, NULL, argv, 0);
    return proc_finish(p, 10000);
}

/* The output holds a line that starts with start and contains each of the
 * further strings (NULL-terminated). */
static int has_finding(const char *out, const char *start, ...)
{
    for (const char *line = out; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        size_t len = strcspn(line, "\n");
        char copy[4096];
        snprintf(copy, sizeof copy, "%.*s", (int)len, line);
        if (strncmp(copy, start, strlen(start)) != 0)
            continue;
        va_list ap;
        va_start(ap, start);
        const char *part;
        int all = 1;
        while ((part = va_arg(ap, const char *)))
            all = all && strstr(copy, part);
        va_end(ap);
        if (all)
            return 1;
    }
    return 0;
}

static int count_prefix(const char *out, const char *start)
{
    int n = 0;
    for (const char *line = out; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != 0))
        n += strncmp(line, start, strlen(start)) == 0;
    return n;
}

static void case_redis_as_shipped(void)
{
    struct proc p;
    char want[PATH_MAX + 64];
    case_begin("Debian's redis-server.service: NoExecPaths=/ refuses the library (exit 1)");
    write_unit("redis", "redis-server.service", redis_unit);
    int status = check_unit(&p, "redis", "redis-server");
    CHECK(status == 1, "status %d\n%s%s", status, p.out, p.err);
    CHECK(has_finding(p.out, "redis-server.service: from ", "/redis/redis-server.service", NULL),
          "%s", p.out);
    snprintf(want, sizeof want, "add ExecPaths=%s to the drop-in", library);
    CHECK(has_finding(p.out, "blocker: NoExecPaths=/ covers ", library, want, NULL), "%s", p.out);
    CHECK(count_prefix(p.out, "blocker: ") == 1, "one blocker:\n%s", p.out);
    CHECK(has_finding(p.out, "note: no LD_PRELOAD in Environment=", NULL), "%s", p.out);
    /* ~@resources takes sched_setscheduler, made only without a filter */
    CHECK(has_finding(p.out, "note: SystemCallFilter= denies sched_setscheduler,",
                      "nothing to do", NULL), "%s", p.out);
    CHECK(!has_finding(p.out, "note: SystemCallFilter= denies sched_setscheduler process_vm_readv", NULL),
          "process_vm_readv is in @ipc, which @system-service holds:\n%s", p.out);
    CHECK(has_finding(p.out, "ok: SystemCallFilter= allows every call the library makes in close()", NULL),
          "%s", p.out);
    CHECK(has_finding(p.out, "note: under a filter in place at load", "add Environment=NORST_ASYNC=1", NULL),
          "%s", p.out);
    CHECK(has_finding(p.out, "ok: MemoryDenyWriteExecute=yes: irrelevant", NULL), "%s", p.out);
    CHECK(has_finding(p.out, "ok: RestrictAddressFamilies=: not relevant", NULL), "%s", p.out);
    if (access("/usr/bin/redis-server", F_OK) == 0)
        CHECK(has_finding(p.out, "ok: /usr/bin/redis-server is dynamically linked", NULL), "%s", p.out);
    case_end();
}

static void case_redis_with_template(void)
{
    struct proc p;
    char dropin[PATH_MAX], alias[PATH_MAX], target[PATH_MAX];
    case_begin("redis-server.service with the drop-in template: nothing stops the library (exit 0)");
    write_unit("redis", "redis-server.service", redis_unit);
    snprintf(dropin, sizeof dropin, "%s/redis/redis-server.service.d", tmpdir);
    mkdir(dropin, 0755);
    /* the template as make install writes it, for the build's library */
    char *dir = strdup(library);
    *strrchr(dir, '/') = '\0';
    CHECK(shell("sed 's|/usr/local/lib/|%s/|g' ../contrib/systemd/norst.conf > %s/norst.conf",
                dir, dropin) == 0, "writing the drop-in");
    free(dir);
    int status = check_unit(&p, "redis", "redis-server.service");
    CHECK(status == 0, "status %d\n%s%s", status, p.out, p.err);
    CHECK(has_finding(p.out, "redis-server.service: from ", "redis-server.service.d/norst.conf", NULL),
          "%s", p.out);
    CHECK(has_finding(p.out, "ok: ExecPaths=", library, "under NoExecPaths=/", NULL), "%s", p.out);
    CHECK(has_finding(p.out, "ok: LD_PRELOAD in Environment= names ", library, NULL), "%s", p.out);
    CHECK(has_finding(p.out, "ok: NORST_ASYNC=1: SystemCallFilter= allows the background thread's calls", NULL),
          "%s", p.out);
    CHECK(count_prefix(p.out, "blocker: ") == 0, "no blocker:\n%s", p.out);

    /* The alias Debian's unit makes: a symbolic link, the same drop-ins. */
    snprintf(alias, sizeof alias, "%s/redis/redis.service", tmpdir);
    snprintf(target, sizeof target, "%s/redis/redis-server.service", tmpdir);
    CHECK(symlink(target, alias) == 0, "symlink %s", alias);
    status = check_unit(&p, "redis", "redis");
    CHECK(status == 0 && has_finding(p.out, "redis.service: from ", "redis-server.service.d/norst.conf", NULL),
          "status %d\n%s%s", status, p.out, p.err);

    /* A later empty ExecPaths= drops the list: the library is refused again. */
    write_unit("redis", "redis-server.service.d/zz-reset.conf", "[Service]\nExecPaths=\n");
    status = check_unit(&p, "redis", "redis-server");
    CHECK(status == 1 && has_finding(p.out, "blocker: NoExecPaths=/ covers ", NULL),
          "status %d\n%s", status, p.out);
    case_end();
}

static void case_noexec_paths(void)
{
    struct proc p;
    char unit[2 * PATH_MAX];
    case_begin("NoExecPaths=/ alone; an LD_PRELOAD that names a missing file");
    write_unit("noexec", "a.service", "[Service]\nExecStart=/bin/true\nNoExecPaths=/\n");
    int status = check_unit(&p, "noexec", "a");
    CHECK(status == 1 && has_finding(p.out, "blocker: NoExecPaths=/ covers ", library, NULL),
          "status %d\n%s%s", status, p.out, p.err);
    CHECK(has_finding(p.out, "ok: no SystemCallFilter=", NULL), "%s", p.out);

    /* ExecPaths= of the library's directory, quoted, continued on a second line */
    snprintf(unit, sizeof unit, "[Service]\nExecStart=-/bin/true\nNoExecPaths=/\n"
                                "Environment=\"LD_PRELOAD=%s\"\nExecPaths=/nowhere \\\n  %.*s\n",
             library, (int)(strrchr(library, '/') - library), library);
    write_unit("noexec", "b.service", unit);
    status = check_unit(&p, "noexec", "b.service");
    CHECK(status == 0 && has_finding(p.out, "ok: ExecPaths=", "allows", NULL),
          "status %d\n%s%s", status, p.out, p.err);

    write_unit("noexec", "c.service", "[Service]\nExecStart=/bin/true\n"
                                      "Environment=LD_PRELOAD=/nonexistent/libnorst.so\n");
    status = check_unit(&p, "noexec", "c.service");
    CHECK(status == 1 && has_finding(p.out, "blocker: LD_PRELOAD names /nonexistent/libnorst.so", NULL),
          "status %d\n%s", status, p.out);

    write_unit("noexec", "d.service", "[Service]\nExecStart=/bin/true\n"
                                      "Environment=LD_PRELOAD=/lib/other.so\n");
    status = check_unit(&p, "noexec", "d.service");
    CHECK(status == 0 && has_finding(p.out, "warning: LD_PRELOAD=/lib/other.so has no libnorst", NULL),
          "status %d\n%s", status, p.out);
    case_end();
}

static void case_static_program(void)
{
    struct proc p;
    char unit[PATH_MAX + 64], prog[PATH_MAX];
    case_begin("a statically linked ExecStart: a blocker; norst check -- COMMAND too");
    if (!realpath("tests/progs/static-true", prog)) {
        case_skip("the toolchain could not link tests/progs/static-true with -static");
        case_end();
        return;
    }
    snprintf(unit, sizeof unit, "[Service]\nExecStart=@%s static-true\n", prog);
    write_unit("static", "s.service", unit);
    int status = check_unit(&p, "static", "s.service");
    CHECK(status == 1 && has_finding(p.out, "blocker: ", prog, "is statically linked", NULL),
          "status %d\n%s%s", status, p.out, p.err);
    const char *argv[] = {"./norst", "check", "--", "tests/progs/static-true", NULL};
    proc_start(&p, 0, NULL, argv, 0);
    status = proc_finish(&p, 10000);
    CHECK(status == 1 && has_finding(p.out, "blocker: tests/progs/static-true is statically linked", NULL),
          "status %d\n%s%s", status, p.out, p.err);
    const char *dynamic[] = {"./norst", "check", "--", "tests/progs/exit-with", "3", NULL};
    proc_start(&p, 0, NULL, dynamic, 0);
    status = proc_finish(&p, 10000);
    CHECK(status == 0 && has_finding(p.out, "ok: tests/progs/exit-with is dynamically linked", NULL) &&
              has_finding(p.out, "ok: norst finds the library at ", library, NULL),
          "status %d\n%s%s", status, p.out, p.err);
    case_end();
}

static void case_filters(void)
{
    struct proc p;
    case_begin("SystemCallFilter=: ~@resources passes, named calls and sets the library needs block");
    write_unit("filter", "r.service", "[Service]\nExecStart=/bin/true\nSystemCallFilter=~@resources\n");
    int status = check_unit(&p, "filter", "r.service");
    CHECK(status == 0 && has_finding(p.out, "note: SystemCallFilter= denies sched_setscheduler,", NULL) &&
              has_finding(p.out, "ok: SystemCallFilter= allows every call", NULL),
          "status %d\n%s", status, p.out);

    /* a deny list of a set close() needs, errno instead of a kill */
    write_unit("filter", "n.service", "[Service]\nExecStart=/bin/true\nSystemCallFilter=~@network-io\n"
                                      "SystemCallErrorNumber=EPERM\n");
    status = check_unit(&p, "filter", "n.service");
    CHECK(status == 1 && has_finding(p.out, "blocker: SystemCallFilter= denies ", " getsockopt ",
                                     " shutdown ", "the call fails", NULL),
          "status %d\n%s", status, p.out);

    /* an allow list of a few names: @default is implied, the rest denied */
    write_unit("filter", "a.service", "[Service]\nExecStart=/bin/true\nSystemCallFilter=read write\n"
                                      "Environment=NORST_ASYNC=1\n");
    status = check_unit(&p, "filter", "a.service");
    CHECK(status == 1 && has_finding(p.out, "blocker: SystemCallFilter= denies close ", "killed", NULL) &&
              !has_finding(p.out, "blocker: SystemCallFilter= denies ", " read ", NULL) &&
              !has_finding(p.out, "blocker: SystemCallFilter= denies ", " getpid ", NULL) &&
              has_finding(p.out, "blocker: NORST_ASYNC=1 starts the background thread", "clone3", NULL),
          "status %d\n%s", status, p.out);

    /* the calls added back by a drop-in, as the blocker says */
    write_unit("filter", "a.service.d/calls.conf",
               "[Service]\nSystemCallFilter=@basic-io @file-system @network-io @io-event ioctl tgkill\n"
               "SystemCallFilter=clone3 rt_sigprocmask madvise\n");
    status = check_unit(&p, "filter", "a.service");
    CHECK(status == 0, "status %d\n%s", status, p.out);

    /* an empty assignment resets; a set the table does not know is named */
    write_unit("filter", "e.service", "[Service]\nExecStart=/bin/true\nSystemCallFilter=@system-service\n"
                                      "SystemCallFilter=\nSystemCallFilter=~@nonesuch\n");
    status = check_unit(&p, "filter", "e.service");
    CHECK(status == 0 && has_finding(p.out, "warning: SystemCallFilter= names @nonesuch", NULL),
          "status %d\n%s", status, p.out);
    case_end();
}

static void case_noexec_mount(void)
{
    struct proc p;
    case_begin("the library on a noexec mount");
    /* A mount namespace of our own, where a tmpfs can be noexec. */
    if (shell("/usr/bin/unshare -rm true 2>/dev/null") != 0) {
        case_skip("no unprivileged mount namespace here (unshare -rm)");
        case_end();
        return;
    }
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/mnt && mount -t tmpfs -o noexec none %s/mnt && cp %s %s/mnt/ && "
             "NORST_LIBRARY=%s/mnt/libnorst.so exec ./norst check -- tests/progs/exit-with",
             tmpdir, tmpdir, library, tmpdir, tmpdir);
    const char *argv[] = {"/usr/bin/unshare", "-rm", "/bin/sh", "-c", cmd, NULL};
    proc_start(&p, 0, NULL, argv, 0);
    int status = proc_finish(&p, 10000);
    CHECK(status == 1 && has_finding(p.out, "blocker: ", "/mnt/libnorst.so is on a noexec mount", NULL),
          "status %d\n%s%s", status, p.out, p.err);
    case_end();
}

/* Where systemd runs (/run/systemd/system exists), the settings come from
 * systemctl show, in its format: ExecStart= as "{ path=... }", the filter
 * expanded to names. A systemctl of our own prints them, in a mount
 * namespace whose /run has that directory. */
static void case_systemctl_show(void)
{
    struct proc p;
    char fake[PATH_MAX], cmd[3 * PATH_MAX];
    case_begin("systemctl show's effective settings, where systemd runs");
    if (shell("/usr/bin/unshare -rm true 2>/dev/null") != 0) {
        case_skip("no unprivileged mount namespace here (unshare -rm)");
        case_end();
        return;
    }
    snprintf(fake, sizeof fake, "%s/bin/systemctl", tmpdir);
    CHECK(shell("mkdir -p %s/bin && cat > %s <<'EOF'\n"
                "#!/bin/sh\n"
                "for a; do last=$a; done\n"
                "[ \"$last\" = redis-server.service ] || { echo LoadState=not-found; exit 0; }\n"
                "echo 'ExecStart={ path=/usr/bin/redis-server ; argv[]=/usr/bin/redis-server "
                "/etc/redis/redis.conf ; ignore_errors=no ; start_time=[n/a] ; pid=0 }'\n"
                "echo 'Environment=LD_PRELOAD=%s NORST_MODE=log'\n"
                "echo 'EnvironmentFiles='\n"
                "echo 'NoExecPaths=/'\n"
                "echo 'ExecPaths=/usr/bin/redis-server /usr/lib /lib %s'\n"
                "echo 'SystemCallFilter=close close_range read write pwrite64 dup3 openat mkdirat "
                "unlinkat getdents64 readlinkat fstat fcntl ioctl ppoll socket connect getsockopt "
                "setsockopt getsockname getpeername recvfrom sendto tgkill'\n"
                "echo 'MemoryDenyWriteExecute=yes'\n"
                "echo 'LoadState=loaded'\n"
                "EOF\n"
                "chmod 0755 %s", tmpdir, fake, library, library, fake) == 0,
          "writing %s", fake);
    snprintf(cmd, sizeof cmd,
             "mount -t tmpfs none /run && mkdir -p /run/systemd/system && "
             "PATH=%s/bin:$PATH exec ./norst check redis-server", tmpdir);
    const char *argv[] = {"/usr/bin/unshare", "-rm", "/bin/sh", "-c", cmd, NULL};
    proc_start(&p, 0, NULL, argv, 0);
    int status = proc_finish(&p, 10000);
    CHECK(status == 1 && has_finding(p.out, "redis-server.service: from systemctl show", NULL),
          "status %d\n%s%s", status, p.out, p.err);
    CHECK(has_finding(p.out, "ok: LD_PRELOAD in Environment= names ", library, NULL) &&
              has_finding(p.out, "ok: ExecPaths=", "under NoExecPaths=/", NULL),
          "%s", p.out);
    /* an allow list without shutdown: @default (getpid, mmap...) is implied */
    CHECK(has_finding(p.out, "blocker: SystemCallFilter= denies shutdown, which", NULL) &&
              count_prefix(p.out, "blocker: ") == 1,
          "%s", p.out);
    if (access("/usr/bin/redis-server", F_OK) == 0)
        CHECK(has_finding(p.out, "ok: /usr/bin/redis-server is dynamically linked", NULL), "%s", p.out);

    /* A unit systemctl does not know: the files are read instead. */
    snprintf(cmd, sizeof cmd,
             "mount -t tmpfs none /run && mkdir -p /run/systemd/system && "
             "PATH=%s/bin:$PATH exec ./norst check nonesuch-unit", tmpdir);
    proc_start(&p, 0, NULL, argv, 0);
    status = proc_finish(&p, 10000);
    CHECK(status == 2 && contains(p.err, "nonesuch-unit: no such unit in /etc/systemd/system:"),
          "status %d\n%s%s", status, p.out, p.err);
    case_end();
}

static void case_usage(void)
{
    struct proc p;
    case_begin("usage: no unit 2, two units 2, a unit not found 2, --help 0");
    const char *none[] = {"./norst", "check", NULL};
    proc_start(&p, 0, NULL, none, 0);
    CHECK(proc_finish(&p, 10000) == 2 && contains(p.err, "usage: norst check"), "%s", p.err);
    const char *two[] = {"./norst", "check", "a", "b", NULL};
    proc_start(&p, 0, NULL, two, 0);
    CHECK(proc_finish(&p, 10000) == 2, "%s", p.err);
    write_unit("empty", "x.service", "[Service]\n");
    int status = check_unit(&p, "empty", "nonesuch");
    CHECK(status == 2 && contains(p.err, "nonesuch: no such unit in "), "status %d %s", status, p.err);
    const char *help[] = {"./norst", "check", "--help", NULL};
    proc_start(&p, 0, NULL, help, 0);
    CHECK(proc_finish(&p, 10000) == 0 && contains(p.out, "Exit status: 0"), "%s", p.out);
    case_end();
}

int main(void)
{
    unsetenv("NORST_LIBRARY");
    if (!realpath("libnorst.so", library) || !mkdtemp(tmpdir)) {
        perror("setting up");
        return 99;
    }
    case_redis_as_shipped();
    case_redis_with_template();
    case_noexec_paths();
    case_static_program();
    case_filters();
    case_noexec_mount();
    case_systemctl_show();
    case_usage();
    shell("rm -rf %s", tmpdir);
    return harness_done();
}
