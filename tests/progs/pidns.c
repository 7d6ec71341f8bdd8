/* Runs a command in a PID namespace whose /proc is not its own: the
 * command's getpid() is 1, while /proc (mounted for the namespace above it)
 * numbers it 2 and shows its parent as 1.
 * With -own, the command's namespace gets its own /proc instead: it sees
 * only its own processes, none of the host's (which it may not read).
 *
 * usage: pidns [-own] CMD ARG...
 * Exits with the command's status; prints "SKIP ..." and runs the command
 * as is where namespaces are refused. */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* LeakSanitizer stops the world by listing /proc/PID/task with the PID
 * getpid() returns: under a /proc that is not the namespace's own, that
 * names another process, so the threads it must suspend (the reaper's)
 * are not found and it reports "Running thread N was not suspended".
 * Its leak check cannot work here; the sanitized runs check leaks in
 * every other test. */
static void no_leak_check_under_foreign_proc(void)
{
    const char *options = getenv("ASAN_OPTIONS");
    if (!options)
        return;
    char with[1024];
    if (snprintf(with, sizeof with, "%s:detect_leaks=0", options) < (int)sizeof with)
        setenv("ASAN_OPTIONS", with, 1);
}

static int run_child(char **argv)
{
    pid_t child = fork();
    if (child < 0)
        return 3;
    if (child == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
    int own = argc > 1 && strcmp(argv[1], "-own") == 0;
    if (own) {
        argc--;
        argv++;
    }
    if (argc < 2)
        return 2;
    if (unshare(CLONE_NEWPID | CLONE_NEWNS) < 0) {
        printf("SKIP unshare(CLONE_NEWPID): refused\n");
        fflush(stdout);
        execv(argv[1], argv + 1);
        return 127;
    }
    pid_t outer = fork();
    if (outer == 0) {
        /* pid 1 of the first namespace: its own /proc, then (without -own)
         * a namespace below it that keeps this /proc. It dies with its
         * parent, and the namespace with it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("proc", "/proc", "proc", 0, NULL) < 0 || (!own && unshare(CLONE_NEWPID) < 0)) {
            perror("pidns setup");
            _exit(3);
        }
        if (!own)
            no_leak_check_under_foreign_proc();
        _exit(run_child(argv + 1));
    }
    int status;
    waitpid(outer, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}
