/* The shim's own fds (the log sink, the reaper's eventfd and epoll set, and,
 * through the fd table, every socket the reaper lingers on). The
 * application never sees them: a close(), fcntl() or dup() of one, or a
 * dup2()/dup3() from it, fails with EBADF as if it were not open, a range
 * close steps over it, a dup2() onto its number first moves it out of the
 * way, and an exec or spawn never passes one on. */
#ifndef NORST_INTERNAL_FD_H
#define NORST_INTERNAL_FD_H

/* At most this many fds of the shim's own besides the reaper's duplicates,
 * all at the top of the fd range. */
#define INTERNAL_FDS_MAX 8

/* Returns a slot number for internal_fd_get, or -1 if the table is full. */
int internal_fd_add(int fd);
int internal_fd_get(int slot);
/* Move fd to the highest free number below internal_fd_top(), then
 * internal_fd_add it. */
int internal_fd_adopt(int fd);
/* The soft RLIMIT_NOFILE, capped: the shim's fds live just below it. */
long internal_fd_top(void);
/* A close-on-exec duplicate of fd at the highest free number from start
 * down to floor (a few tries), or -errno. */
long internal_fd_dup_high(int fd, long start, long floor);
/* How many of the shim's own fds (log, epoll set, eventfd) are open. */
int internal_fd_count(void);
void internal_fd_remove(int fd);
/* No longer ours, wherever it was listed (it was closed behind our back). */
void internal_fd_forget(int fd);
int internal_fd_is(int fd);
/* Move any internal fd out of [first, last] (or give it up if it cannot
 * move), so that the application can have those numbers. */
void internal_fd_evacuate(unsigned first, unsigned last);
/* Who wakes the reaper: anyone, or the mover in the middle of a move (the
 * number is held still, so the write needs no enter/leave). */
enum nudge_from { NUDGE_OUTSIDE_MOVE, NUDGE_IN_MOVE };
/* What the reaper lends for a move (its fds live here too): it registers
 * them when it is set up, so this table never calls up into it. */
struct internal_fd_mover {
    void (*lock)(void);                  /* the reaper uses none of its fds meanwhile */
    void (*unlock)(void);
    void (*nudge)(enum nudge_from from); /* wake it out of its wait */
    void (*release_fd)(int fd);  /* move or finish a lingering socket's fd */
};
void internal_fd_set_mover(const struct internal_fd_mover *mover);
/* The lowest internal fd in [first, last], or -1. */
int internal_fd_lowest_in(unsigned first, unsigned last);
/* Around a use of an internal fd's number without the reaper's lock (a log
 * write, the reaper's wait, the wake-up write): while a use is under way,
 * a dup2() onto that number does not move the fd and let the application's
 * file take the number. 0 from enter: a move is under way, do not use. */
int internal_fd_enter(void);
void internal_fd_leave(void);
/* fork: the threads that were using internal fds are not in the child. */
void internal_fd_after_fork_child(void);
/* Before an exec or a spawn: every internal fd close-on-exec again, however
 * its flag was cleared (ioctl FIONCLEX, a raw fcntl), so no new program is
 * handed one. */
void internal_fd_cloexec_all(void);

#endif
