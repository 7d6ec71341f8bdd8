/* libnorst internals: one header for the pieces of the close path.
 *
 *   hook_*.c   the interposed libc entry points; each one calls
 *   close_path.c   classify -> decide -> act, in one place;
 *   classify.c     what the fd is and what closing it would do;
 *   sharing.c      whether another fd or process still holds the socket;
 *   drain.c        FIN, then read-and-discard to the peer's EOF or a bound;
 *   log.c          one line per event, written with a single write().
 */
#ifndef NORST_H
#define NORST_H

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "event_fields.h" /* enum close_path_kind, action, outcome */

#define NORST_API __attribute__((visibility("default")))
#define RETURN_ADDRESS() __builtin_extract_return_addr(__builtin_return_address(0))

/* A hook hands the application exactly the errno of the real call: the
 * shim's own work in a hook (a flush, a lookup, starting the reaper, a
 * close of its own) runs in a block that begins with KEEP_ERRNO, and errno
 * is put back as it was when the block ends, however it ends. */
static inline void keep_errno_restore(const int *saved)
{
    errno = *saved;
}
#define KEEP_ERRNO const int keep_errno_ __attribute__((cleanup(keep_errno_restore))) = errno

/* ---- configuration (config.c; the contract: config_parse.h) ---- */
#include "config_parse.h"
extern struct norst_config norst_cfg;
void config_load(void);

/* set once config, log and symbols are ready; hooks pass through before */
extern int norst_ready;

/* ---- stepping aside (aside.c) ---- */
/* 0 before load and, for good, once a seccomp filter governs the process:
 * then a hook calls the real function and makes no call of its own. */
int norst_acting(void);
void norst_step_aside(void);
/* A probe's raw result, passed through: -EPERM or -ENOSYS where the kernel
 * cannot give them means a seccomp filter with an errno action: step aside. */
long probe_checked(long ret);
/* 1: a seccomp filter or strict mode is in place, 0: none, -1: unknown. */
int seccomp_mode_now(void);

/* ---- what a close looks like (classify.c) ---- */
enum fd_kind {
    KIND_OTHER,      /* not a socket, not TCP, or MPTCP: never ours */
    KIND_IDLE,       /* TCP socket whose close sends no RST and needs no linger */
    KIND_CONNECTED,  /* connected TCP socket the close path may act on */
};

/* A TCP socket's address as the log shows it: 28 bytes where a
 * sockaddr_storage takes 128 (a close may run on a small signal stack). */
union sock_addr {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
};

enum site_lookup {
    SITE_RESOLVE,     /* open what the lookup needs */
    SITE_REMEMBERED,  /* the reaper thread: only a name remembered, else the address */
};

struct close_event {
    int fd;
    enum close_path_kind path;
    const void *caller;
    union sock_addr local, peer;
    long unread;            /* bytes unread when the app asked to close */
    long unread_at_close;   /* bytes unread when the real close ran */
    int rst;                /* 1: this close sends an RST, 0: it does not, -1: may */
    enum action action;
    enum outcome outcome;
    unsigned long long drained;
    long elapsed_ms;
    int fin_sent;           /* drain_start ran: our FIN is queued */
    int linger_timed;       /* SO_LINGER {1,N}: turned off with our FIN */
    enum site_lookup site_lookup; /* how the log may name the caller */
    int holder_pid;         /* ACT_SKIP_SHARED: who else holds it (0: unknown) */
    const char *share_reason;
};

struct tcp_probe {
    enum fd_kind kind;
    long unread;    /* FIONREAD, plus a pending urgent byte */
};
/* What the caller needs: a connected socket with nothing unread matters
 * only when every connected close lingers (NORST_MODE=always). */
enum probe_need { PROBE_UNREAD, PROBE_CONNECTED };
/* What the fd table says of the number: born TCP only orders the calls. */
enum born_as { BORN_UNKNOWN, BORN_TCP };
void classify(int fd, enum probe_need need, enum born_as born, struct tcp_probe *out);
int is_tcp(int fd); /* SO_PROTOCOL says IPPROTO_TCP */
long unread_bytes(int fd);
/* shutdown(SHUT_RD) by the application, not the peer's FIN: a drain would
 * read its own EOF, and the peer would wait on a window that never opens. */
int read_side_shut_here(int fd);

/* ---- the orchestrator (close_path.c): probe -> decide -> act -> report ---- */
long linger_deadline(void);
/* report.c: the end of an event, in place or in the reaper: what is left
 * unread at its real close, then the counters and the log line. */
void note_unread_at_close(struct close_event *ev, int fd);
void close_path_end(struct close_event *ev);

/* How the application's own close of one fd is done: fn(fd, ctx); after an
 * event, after_event(fd, ctx) where fn is a cancellation point (close()). */
struct real_close {
    int (*fn)(int fd, void *ctx);
    int (*after_event)(int fd, void *ctx); /* NULL: fn */
    void *ctx;
};
/* The whole close of one fd the application gives up (close, __close,
 * syscall(SYS_close), fclose, dup2/dup3 onto it): decide; drain here or
 * hand the socket to the reaper; forget what the fd table knew of the
 * number; the real close; the event's log line. Returns what the real close
 * returned, with the errno it left. */
int close_fd(int fd, enum close_path_kind path, const void *caller, const struct real_close *by);

/* Many fds at once (a range close, exit): offer each one; the sockets to act
 * on get their FIN at once and are drained in groups of up to `capacity`
 * under the batch's one deadline, then closed: batch_offer returns 1 when
 * the group is full, and the caller flushes it (a range close first leaves
 * its walk of /proc/self/fd, so the drain and the log lines do not stack on
 * top of the walk's frames). With evs NULL the events get pages of their
 * own at the first one (batch_release gives them back), so a range close in
 * a signal handler keeps them off a small stack: the first is recorded in
 * spare, which holds one event at a time if the pages cannot be had. */
enum batch_act {
    BATCH_ACT_IF_ALONE, /* act, unless another thread of ours still runs */
    BATCH_RECORD,       /* log what would be done; change and close nothing */
};
struct close_batch {
    struct close_event *evs, *spare;
    int capacity, count, mapped;
    enum batch_act act;
    long deadline_ms;
    const void *caller;
    enum close_path_kind path;
    unsigned first, last; /* the range, for range closes */
};
int batch_offer(struct close_batch *b, int fd);
void batch_flush(struct close_batch *b);
void batch_release(struct close_batch *b);

/* hook_close.c: the whole close of one fd */
int close_one(int fd, enum close_path_kind path, const void *caller);
/* real.c: the real close, exactly once; and the close system call itself,
 * never a cancellation point (glibc's close acts on a pending cancel before
 * closing, and would leak the fd). */
int real_close_fd(int fd);
int raw_close_fd(int fd);
/* hook_close_range.c: returns 0 or -errno */
long close_range_hooked(unsigned first, unsigned last, int flags,
                        enum close_path_kind path, const void *caller);

/* ---- hook_seccomp.c, hook_unshare.c (also reached through syscall()) ---- */
int seccomp_installs(long op); /* SECCOMP_SET_MODE_STRICT or _FILTER */
void seccomp_before(void);     /* the reaper ends before a filter comes */
long seccomp_after(long ret);  /* installed (ret >= 0): step aside */
/* Before unshare(flags) or setns(fd, flags). */
enum namespace_call { NS_UNSHARE, NS_SETNS };
void namespace_before(long flags, enum namespace_call call);

/* ---- calls that make a new fd (hook_newfd.c) ---- */
/* Before: a safe place to start the reaper's thread. After an EMFILE while
 * the reaper holds fds: finish those, and 1 to call once more (errno is
 * left exactly as the failed call set it when there is no retry). */
void new_fd_before(void);
int new_fd_retry(void);
#define NEW_FD(call, failed)                                                   \
    ({                                                                         \
        int errno_before_ = errno;                                             \
        new_fd_before();                                                       \
        __auto_type ret_ = (call);                                             \
        if (ret_ == (failed) && new_fd_retry()) {                              \
            errno = errno_before_; /* a retry that succeeds leaves it */       \
            ret_ = (call);                                                     \
        }                                                                      \
        ret_;                                                                  \
    })

/* ---- sharing (sharing.c) ---- */
/* SHARE_BATCH_PEER: a lower fd of ours, closed in the same batch, holds the
 * same socket and makes its one decision. */
enum share_verdict { SHARE_SOLE, SHARE_SHARED, SHARE_UNKNOWN, SHARE_BATCH_PEER, SHARE_NOT_ASKED };
void fdtab_init(void);
/* tcp: born a TCP socket (a hint for classify's first call, never trusted
 * for a decision). */
void fdtab_created(int fd, int tcp, long birth);
int fdtab_hinted_tcp(int fd);
/* Is a listening socket TCP (asked once, then remembered in its slot)? */
int fdtab_listener_is_tcp(int listen_fd);
void fdtab_duped(int oldfd, int newfd);
void fdtab_given(int fd);
/* Returns the fd's flags before forgetting (FD_EPOLL tells an epoll fd). */
unsigned fdtab_forget(int fd);
enum { FD_TRACKED = 1, FD_DUPED = 2, FD_GIVEN = 4, FD_REAPER = 8, FD_EPOLL = 16,
       FD_TCP = 32, FD_KIND_KNOWN = 64 };
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
enum share_verdict sharing_check(int fd, const struct batch_scope *scope, int *holder_pid,
                                 const char **why);

/* holders.c: the /proc search behind sharing_check */
struct holder_query {
    int fd;              /* the fd being closed */
    int self_only;       /* only this process can hold it */
    int batch;           /* our fds in [first, last] close with this one */
    unsigned first, last;
    unsigned long long ino;
    long birth_ns;       /* CLOCK_BOOTTIME before the socket existed; 0: unknown */
};
enum share_verdict holders_find(const struct holder_query *q, int *holder_pid, const char **why);
/* The clock a socket's birth is read on, before the call that makes it. */
long holders_birth_clock(void);

/* ---- the drain (drain.c) ---- */
/* FIN, then discard on every event's socket together, until each peer's EOF,
 * its byte bound, or the shared deadline (CLOCK_MONOTONIC ms). */
void drain_sockets(struct close_event *evs, int count, long deadline_ms,
                   unsigned long long max_bytes);
/* FIN now, drain later (drain_sockets skips the FIN for such an event). */
void drain_start(struct close_event *ev);
/* The two halves of drain_start: our FIN; readiness for discarding. */
void drain_send_fin(struct close_event *ev);
void drain_prepare_read(int fd);
/* Discard what is queued on fd for ev; 1 when this socket is finished.
 * to_empty: go on after a short discard until EAGAIN, for a first look at
 * a socket whose peer may have sent its FIN already. */
int drain_step(struct close_event *ev, int fd, unsigned long long max_bytes, int to_empty);

/* ---- hook_socket.c, drain.c ---- */
int epoll_created(int epfd); /* hook_socket.c: note a new epoll fd, return it */
long monotonic_ms(void);

/* ---- logging (log.c) ---- */
/* target: NULL or "" for none, "stderr", "syslog", or a file. */
void log_open(const char *target, enum log_format format);
int log_enabled(void); /* a sink is open: events are written somewhere */
int log_is_json(void);
void log_event(const struct close_event *ev);
void log_text(const char *line);   /* a ready-made line, newline added */
void warn_stderr(const char *line);
/* stderr_sink.c: fd 2 as it was at load, or nowhere (see there) */
void stderr_remember(void);
struct iovec;
void stderr_writev(const struct iovec *iov, int count);
void stderr_write(const char *buf, size_t len);

/* ---- async-signal-safe formatting (fmt.c) ---- */
struct fmtbuf { char *buf; size_t len, cap; };
void fmt_str(struct fmtbuf *b, const char *s);
void fmt_ulong(struct fmtbuf *b, unsigned long long v);
void fmt_long(struct fmtbuf *b, long long v);
void fmt_hex(struct fmtbuf *b, unsigned long long v);
void fmt_addr(struct fmtbuf *b, const union sock_addr *addr);
void fmt_utc_time(struct fmtbuf *b);
void fmt_json_str(struct fmtbuf *b, const char *s);
/* The inside of a JSON string literal: the first n bytes of s, escaped. */
void fmt_json_chars(struct fmtbuf *b, const char *s, size_t n);
/* callsite.c: "symbol+0xoff in /path/object" for a return address; the
 * JSON form is that text's first max bytes as a JSON string literal,
 * escaped as it is written (no copy of it on the stack). */
void fmt_callsite(struct fmtbuf *b, const void *caller, enum site_lookup how);
void fmt_callsite_json(struct fmtbuf *b, const void *caller, size_t max, enum site_lookup how);
/* Name the call site now, for a later SITE_REMEMBERED. */
void callsite_remember(const void *caller);

/* ---- NORST_STATS=1 (stats.c) ---- */
enum stat_counter {
    STAT_CLOSES, STAT_TCP, STAT_WOULD_RESET, STAT_DRAINED_CLEAN, STAT_BOUND_HIT,
    STAT_SKIPPED_SHARED, STAT_COUNT
};
void stats_add(enum stat_counter which);
void stats_count_event(const struct close_event *ev);
void stats_report(void);

#endif
