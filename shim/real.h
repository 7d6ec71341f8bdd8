/* The libc functions behind our hooks: one table, one lookup.
 *
 * Every symbol is looked up with dlsym(RTLD_NEXT) once, by the constructor,
 * so that no hook calls dlsym later (most of them are async-signal-safe
 * functions). A hook that runs before the constructor (another library's
 * constructor opening a file) looks its symbol up on first use, unless the
 * symbol is BOUND_AT_LOAD. What dlsym returns is checked: libnorst's own
 * definition there would make the hook call itself until the stack ran out;
 * a line on stderr names the symbol instead (real.c). */
#ifndef NORST_REAL_H
#define NORST_REAL_H

#include <dirent.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

/* What a hook does when the real function is missing or is our own:
 *   BOUND_AT_LOAD  the close path, which may run in a signal handler before
 *                  the constructor: never looked up on first use; the raw
 *                  system call stands in (before load, and for good if
 *                  missing or ours: it is exactly what the kernel does);
 *   HAS_STANDIN    the hook has a stand-in (the raw system call, fork);
 *   MUST_EXIST     there is nothing to call instead: the line, then abort()
 *                  (a process that recursed into itself would die later of
 *                  a stack overflow, with no word of why). */
enum real_policy { BOUND_AT_LOAD, HAS_STANDIN, MUST_EXIST };

/* X(name, return type, parameters, policy) */
#define REAL_SYMBOLS(X)                                                        \
    X(close, int, (int), BOUND_AT_LOAD)                                        \
    X(close_range, int, (unsigned, unsigned, int), BOUND_AT_LOAD)              \
    X(syscall, long, (long, ...), BOUND_AT_LOAD)                               \
    X(fclose, int, (FILE *), MUST_EXIST)                                       \
    X(dup, int, (int), MUST_EXIST)                                             \
    X(dup2, int, (int, int), MUST_EXIST)                                       \
    X(dup3, int, (int, int, int), MUST_EXIST)                                  \
    X(fcntl, int, (int, int, ...), MUST_EXIST)                                 \
    X(vfork, pid_t, (void), HAS_STANDIN)                                       \
    X(clone, int, (int (*)(void *), void *, int, void *, ...), MUST_EXIST)     \
    X(_Fork, pid_t, (void), HAS_STANDIN)                                       \
    X(open, int, (const char *, int, ...), MUST_EXIST)                         \
    X(open64, int, (const char *, int, ...), MUST_EXIST)                       \
    X(openat, int, (int, const char *, int, ...), MUST_EXIST)                  \
    X(openat64, int, (int, const char *, int, ...), MUST_EXIST)                \
    X(__open_2, int, (const char *, int), MUST_EXIST)                          \
    X(__open64_2, int, (const char *, int), MUST_EXIST)                        \
    X(__openat_2, int, (int, const char *, int), MUST_EXIST)                   \
    X(__openat64_2, int, (int, const char *, int), MUST_EXIST)                 \
    X(creat, int, (const char *, mode_t), MUST_EXIST)                          \
    X(creat64, int, (const char *, mode_t), MUST_EXIST)                        \
    X(pipe, int, (int *), MUST_EXIST)                                          \
    X(pipe2, int, (int *, int), MUST_EXIST)                                    \
    X(socketpair, int, (int, int, int, int *), MUST_EXIST)                     \
    X(eventfd, int, (unsigned int, int), MUST_EXIST)                           \
    X(signalfd, int, (int, const sigset_t *, int), MUST_EXIST)                 \
    X(timerfd_create, int, (int, int), MUST_EXIST)                             \
    X(inotify_init, int, (void), MUST_EXIST)                                   \
    X(inotify_init1, int, (int), MUST_EXIST)                                   \
    X(memfd_create, int, (const char *, unsigned int), MUST_EXIST)             \
    X(fopen, FILE *, (const char *, const char *), MUST_EXIST)                 \
    X(fopen64, FILE *, (const char *, const char *), MUST_EXIST)               \
    X(opendir, DIR *, (const char *), MUST_EXIST)                              \
    X(socket, int, (int, int, int), MUST_EXIST)                                \
    X(accept, int, (int, struct sockaddr *, socklen_t *), MUST_EXIST)          \
    X(accept4, int, (int, struct sockaddr *, socklen_t *, int), MUST_EXIST)    \
    X(epoll_create, int, (int), MUST_EXIST)                                    \
    X(epoll_create1, int, (int), MUST_EXIST)                                   \
    X(sendmsg, ssize_t, (int, const struct msghdr *, int), MUST_EXIST)         \
    X(prctl, int, (int, ...), MUST_EXIST)                                      \
    X(seccomp, int, (unsigned int, unsigned int, void *), HAS_STANDIN)         \
    X(unshare, int, (int), MUST_EXIST)                                         \
    X(setns, int, (int, int), MUST_EXIST)                                      \
    X(posix_spawn, int,                                                        \
      (pid_t *, const char *, const posix_spawn_file_actions_t *,              \
       const posix_spawnattr_t *, char *const[], char *const[]),               \
      MUST_EXIST)                                                              \
    X(posix_spawnp, int,                                                       \
      (pid_t *, const char *, const posix_spawn_file_actions_t *,              \
       const posix_spawnattr_t *, char *const[], char *const[]),               \
      MUST_EXIST)                                                              \
    X(system, int, (const char *), MUST_EXIST)                                 \
    X(popen, FILE *, (const char *, const char *), MUST_EXIST)                 \
    X(execve, int, (const char *, char *const[], char *const[]), MUST_EXIST)   \
    X(execv, int, (const char *, char *const[]), MUST_EXIST)                   \
    X(execvp, int, (const char *, char *const[]), MUST_EXIST)                  \
    X(execvpe, int, (const char *, char *const[], char *const[]), MUST_EXIST)  \
    X(fexecve, int, (int, char *const[], char *const[]), MUST_EXIST)

#define REAL_ENUM_(name, ret, params, policy) REAL_SYM_##name,
enum real_sym { REAL_SYMBOLS(REAL_ENUM_) REAL_SYM_COUNT };
#undef REAL_ENUM_

#define REAL_TYPE_(name, ret, params, policy) typedef ret real_##name##_fn params;
REAL_SYMBOLS(REAL_TYPE_)
#undef REAL_TYPE_

/* The constructor's lookup of the whole table. */
void real_bind_at_load(void);

/* The slots, written once each (atomically: hooks on several threads may
 * look the same symbol up before the constructor). */
extern void *real_slot[REAL_SYM_COUNT];
/* A slot still empty: look it up now if the policy allows. Returns NULL
 * only where the policy has a stand-in; errno is left as it was. */
void *real_lookup(enum real_sym sym);

/* The real function behind hook `name`, typed: REAL(open)(path, flags). */
#define REAL(name) ((real_##name##_fn *)real_symbol(REAL_SYM_##name))
static inline void *real_symbol(enum real_sym sym)
{
    void *fn = __atomic_load_n(&real_slot[sym], __ATOMIC_RELAXED);
    return fn ? fn : real_lookup(sym);
}

/* The real close, exactly once; and the close system call itself, never a
 * cancellation point (glibc's close acts on a pending cancel before
 * closing, and would leak the fd). */
int real_close_fd(int fd);
int raw_close_fd(int fd);

#endif
