/* NORST_ASYNC=1: close() returns at once, and one background thread, which
 * only reaper.c knows about, lingers on the socket. An event it takes over
 * ends through close_path_end(), as a close done in place does. */
#ifndef NORST_REAPER_H
#define NORST_REAPER_H

struct close_event;

/* Take a socket to drain (our FIN goes out now); 0: drain it in place. */
int reaper_handoff(struct close_event *ev);
/* From a hook that is never a close: start the thread a handoff waits for. */
void reaper_start_pending(void);
/* Finish every lingering socket now. Returns how many there were. */
enum reaper_release {
    RELEASE_FDS,     /* an EMFILE: the application needs the numbers */
    RELEASE_THREAD,  /* before unshare, setns or a seccomp filter: the thread goes
                      * too, and none starts until reaper_resume() */
    RELEASE_AT_EXIT, /* exit: the drains may run out their bound first */
};
int reaper_release(enum reaper_release how);
void reaper_resume(void); /* after the call RELEASE_THREAD was for */
enum fork_stage { FORK_PREPARE, FORK_PARENT, FORK_CHILD };
void reaper_fork(enum fork_stage stage);
enum epoll_change { EPOLL_SET_CREATED, EPOLL_SET_CLOSED };
void reaper_epoll(int epfd, enum epoll_change change);
void reaper_load(void);      /* at load: what the thread may do */
int reaper_thread_tid(void); /* while the thread runs, else 0 */

#endif
