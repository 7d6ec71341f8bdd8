/* Finds the shim's log fd (the fd open on the file named by argv[1]) and
 * tries to reach it as an application could:
 *   fcntl   fcntl(F_SETFD, 0); prints "fcntl=RET errno=E"
 *   dup     dup() and dup2() of it; prints "dup=RET errno=E dup2=RET errno=E"
 *   exec    clear its close-on-exec behind the hooks' back (ioctl
 *           FIONCLEX), then exec ls -l /proc/self/fd
 *   spawn   the same, then posix_spawn that ls
 *   system  the same, then system() that ls
 * The children run without the shim, so any fd on the log is inherited. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Every fd, wherever the shim placed its own (the top of the range). */
static int fd_on(const char *path)
{
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *d;
    int found = -1;
    while (dir && found < 0 && (d = readdir(dir))) {
        char link[300], target[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%s", d->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n < 0)
            continue;
        target[n] = '\0';
        if (strcmp(target, path) == 0)
            found = atoi(d->d_name);
    }
    if (dir)
        closedir(dir);
    return found;
}

int main(int argc, char **argv)
{
    char *ls[] = {"/bin/ls", "-l", "/proc/self/fd", NULL};
    if (argc < 3)
        return 2;
    int fd = fd_on(argv[2]);
    printf("log-fd=%d\n", fd);
    if (fd < 0)
        return 3;
    unsetenv("LD_PRELOAD");
    unsetenv("NORST_LOG");
    fflush(stdout);
    const char *how = argv[1];
    if (strcmp(how, "fcntl") == 0) {
        errno = 0;
        int ret = fcntl(fd, F_SETFD, 0);
        printf("fcntl=%d errno=%d\n", ret, errno);
        return 0;
    }
    if (strcmp(how, "dup") == 0) {
        errno = 0;
        int ret = dup(fd);
        int e = errno;
        errno = 0;
        int ret2 = dup2(fd, 100);
        printf("dup=%d errno=%d dup2=%d errno=%d\n", ret, e, ret2, errno);
        return 0;
    }
    int one = 0;
    if (ioctl(fd, FIONCLEX, &one) != 0)
        return 4;
    if (strcmp(how, "exec") == 0) {
        execv(ls[0], ls);
        return 5;
    }
    if (strcmp(how, "spawn") == 0) {
        pid_t pid;
        int status;
        if (posix_spawn(&pid, ls[0], NULL, NULL, ls, environ) != 0)
            return 5;
        waitpid(pid, &status, 0);
        return 0;
    }
    if (strcmp(how, "system") == 0)
        return system("exec /bin/ls -l /proc/self/fd") == 0 ? 0 : 5;
    return 2;
}
