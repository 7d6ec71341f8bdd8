/* The fd limit, RLIMIT_NOFILE, read one way for the two questions the
 * library asks of it (fd_limit.c). */
#ifndef NORST_FD_LIMIT_H
#define NORST_FD_LIMIT_H

/* One above the highest fd this process may ever hold: the hard limit,
 * because the application may raise its soft limit up to it at any time,
 * with no call a hook sees. At most cap, also when the limit is unknown or
 * unlimited. For tables that must cover every number (the fd table). */
unsigned long fd_limit_ever(unsigned long cap);

/* One above the highest fd that can be opened now: the soft limit (fcntl
 * F_DUPFD refuses a number at or above it, EINVAL in the kernel's
 * f_dupfd()). At most cap, also when the limit is unknown or unlimited.
 * For where the library's own fds can live (internal_fd_top). */
unsigned long fd_limit_now(unsigned long cap);

#endif
