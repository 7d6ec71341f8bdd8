/* Every way libc starts another process that inherits our fds. After any of
 * them, each fd open now may be held elsewhere, so the sharing check stops
 * trusting its table for them (fork itself is caught by pthread_atfork in
 * init.c). exec* is hooked for vfork children: they share our memory, so the
 * mark lands in the parent too. And the shim's own fds are made
 * close-on-exec again first: the new program never gets one. */
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"
#include "internal_fd.h"
#include "real.h"
#include "sharing.h"

/* The real function, then what every spawn needs first. */
#define LOOKUP(fn)                                                             \
    real_##fn##_fn *real_fn = REAL(fn);                                        \
    fdtab_spawned();                                                           \
    internal_fd_cloexec_all()

NORST_API int posix_spawn(pid_t *pid, const char *path,
                          const posix_spawn_file_actions_t *actions,
                          const posix_spawnattr_t *attr, char *const argv[],
                          char *const envp[])
{
    LOOKUP(posix_spawn);
    return real_fn(pid, path, actions, attr, argv, envp);
}

NORST_API int posix_spawnp(pid_t *pid, const char *file,
                           const posix_spawn_file_actions_t *actions,
                           const posix_spawnattr_t *attr, char *const argv[],
                           char *const envp[])
{
    LOOKUP(posix_spawnp);
    return real_fn(pid, file, actions, attr, argv, envp);
}

NORST_API int system(const char *command)
{
    LOOKUP(system);
    return real_fn(command);
}

NORST_API FILE *popen(const char *command, const char *type)
{
    LOOKUP(popen);
    return real_fn(command, type);
}

NORST_API int execve(const char *path, char *const argv[], char *const envp[])
{
    LOOKUP(execve);
    return real_fn(path, argv, envp);
}

NORST_API int execv(const char *path, char *const argv[])
{
    LOOKUP(execv);
    return real_fn(path, argv);
}

NORST_API int execvp(const char *file, char *const argv[])
{
    LOOKUP(execvp);
    return real_fn(file, argv);
}

NORST_API int execvpe(const char *file, char *const argv[], char *const envp[])
{
    LOOKUP(execvpe);
    return real_fn(file, argv, envp);
}

NORST_API int fexecve(int fd, char *const argv[], char *const envp[])
{
    LOOKUP(fexecve);
    return real_fn(fd, argv, envp);
}

/* execl, execlp and execle take their arguments as a list: gather them into
 * an array on the stack, as glibc does, and go through the hooks above. A
 * CGI or inetd-style child of vfork() calls these as often as execv. */
#define GATHER_ARGS(first, argv)                                               \
    va_list ap_;                                                               \
    size_t argc_ = 1;                                                          \
    va_start(ap_, first);                                                      \
    while (va_arg(ap_, char *))                                                \
        argc_++;                                                               \
    va_end(ap_);                                                               \
    char *argv[argc_ + 1];                                                     \
    argv[0] = (char *)(first);                                                 \
    va_start(ap_, first);                                                      \
    for (size_t i_ = 1; i_ <= argc_; i_++)                                     \
        argv[i_] = va_arg(ap_, char *)

NORST_API int execl(const char *path, const char *arg, ...)
{
    GATHER_ARGS(arg, argv);
    va_end(ap_);
    return execv(path, argv);
}

NORST_API int execlp(const char *file, const char *arg, ...)
{
    GATHER_ARGS(arg, argv);
    va_end(ap_);
    return execvp(file, argv);
}

NORST_API int execle(const char *path, const char *arg, ...)
{
    GATHER_ARGS(arg, argv);
    char *const *envp = va_arg(ap_, char *const *);
    va_end(ap_);
    return execve(path, argv, envp);
}
