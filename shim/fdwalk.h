/* Walking numeric directories (/proc, /proc/PID/fd) with raw getdents64:
 * no opendir (it mallocs), so it can run on the close path. */
#ifndef NORST_FDWALK_H
#define NORST_FDWALK_H

/* Calls visit(dirfd, name, number, ctx) for each numeric entry of the open
 * directory dirfd (including, in /proc/self/fd, dirfd itself); stops at the first nonzero return and passes it on. Returns 0 when
 * every entry was visited, -1 when the directory could not be read. */
long fdwalk_dir(int dirfd, long (*visit)(int dirfd, const char *name, long number, void *ctx),
                void *ctx);

/* The same over a directory named by path; -1 if it cannot be opened. */
long fdwalk_path(const char *path,
                 long (*visit)(int dirfd, const char *name, long number, void *ctx), void *ctx);

/* The same over this process's own fd table. /proc/thread-self/fd, because
 * /proc/self/fd (and /proc/PID/fd) read empty once the main thread has
 * ended with pthread_exit(); /proc/self/fd before Linux 3.17. */
long fdwalk_self(long (*visit)(int dirfd, const char *name, long number, void *ctx), void *ctx);

#endif
