/* Whether another fd or process still holds the socket, and the fd table
 * that remembers what the library saw of each number (sharing.c). */
#ifndef NORST_SHARING_H
#define NORST_SHARING_H

#include "classify.h" /* enum born_as */

/* SHARE_BATCH_PEER: a lower fd of ours, closed in the same batch, holds the
 * same socket and makes its one decision. */
enum share_verdict { SHARE_SOLE, SHARE_SHARED, SHARE_UNKNOWN, SHARE_BATCH_PEER, SHARE_NOT_ASKED };
void fdtab_init(void);
/* tcp: born a TCP socket (a hint for classify's first call, never trusted
 * for a decision). */
void fdtab_created(int fd, enum born_as born, long birth);
enum born_as fdtab_born(int fd);
/* Is a listening socket TCP (asked once, then remembered in its slot)? */
int fdtab_listener_is_tcp(int listen_fd);
void fdtab_duped(int oldfd, int newfd);
void fdtab_given(int fd);
/* Returns the fd's flags before forgetting (FD_EPOLL tells an epoll fd). */
unsigned fdtab_forget(int fd);
enum { FD_TRACKED = 1, FD_DUPED = 2, FD_GIVEN = 4, FD_REAPER = 8, FD_EPOLL = 16,
       FD_TCP = 32, FD_KIND_KNOWN = 64, FD_ACCEPTED = 128 };
int fdtab_set_reaper(int fd, int on);
int fdtab_is_reaper(int fd);
int fdtab_lowest_reaper(unsigned first, unsigned last);
void fdtab_close_reaper_fds(void);
void fdtab_mark_epoll(int fd);
/* epoll_closed: told of each epoll set among them (the range close's
 * caller passes the reaper's; the table does not call up). */
void fdtab_forget_range(unsigned first, unsigned last, void (*epoll_closed)(int fd));
void fdtab_spawned(void);
/* In a forked child: the births the parent recorded are no evidence here. */
void fdtab_after_fork_child(void);
void fdtab_ring_created(void);
/* The fds of ours that a range close or exit closes together. */
struct batch_scope {
    unsigned first, last;
};
/* How far to look: SEARCH_TABLE_ONLY answers from the fd table or says
 * unknown, never scanning /proc (for a close that only may reset). */
enum share_search { SEARCH_ALL, SEARCH_TABLE_ONLY };
enum share_verdict sharing_check(int fd, const struct batch_scope *scope, enum share_search depth,
                                 int *holder_pid,
                                 const char **why);

#endif
