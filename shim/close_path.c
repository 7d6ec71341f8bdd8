/* The one place a close is orchestrated: probe -> decide -> act -> report.
 *
 * Every hook that is about to drop a reference to an fd comes here: one fd
 * through close_fd() (close, __close, syscall(SYS_close), fclose, dup2 and
 * dup3 onto it), many through a batch (close_range, closefrom, exit). The
 * probes (classify.c) say what the fd is; decide() (decide.c, no system
 * call) says what to do, asking for the facts it needs in its chain's
 * order (ask()); the act is a drain here (drain.c) or a handoff to the
 * reaper (reaper.c), which ends the event through close_path_end() as a
 * close done here does. The common case, an fd that is not a connected TCP
 * socket with something unread, leaves after one to three cheap system
 * calls with nothing recorded. */
#include <netinet/in.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "aside.h"
#include "classify.h"
#include "close_path.h"
#include "common.h"
#include "config.h"
#include "config_parse.h"
#include "decide.h"
#include "drain.h"
#include "event.h"
#include "event_fields.h"
#include "log.h"
#include "owner.h"
#include "real.h"
#include "reaper.h"
#include "report.h"
#include "sharing.h"
#include "stats.h"
#include "sys.h"
#include "threads.h"


/* SO_LINGER {1,0}: the application asked for an abort; the RST is its
 * intent. {1,N}: a close that waits up to N s for our FIN to be acked. */
static enum linger_option linger_option(int fd)
{
    struct linger lg = {0, 0};
    socklen_t len = sizeof lg;
    if (probe_checked(sys5(SYS_getsockopt, fd, SOL_SOCKET, SO_LINGER, &lg, &len)) < 0 ||
        !lg.l_onoff)
        return LINGER_OFF;
    return lg.l_linger == 0 ? LINGER_ABORT : LINGER_TIMED;
}

static void record_addresses(int fd, struct close_event *ev)
{
    socklen_t len = sizeof ev->local;
    sys3(SYS_getsockname, fd, &ev->local, &len);
    len = sizeof ev->peer;
    sys3(SYS_getpeername, fd, &ev->peer, &len);
}

/* One fact the decision asks for, by its system calls. */
static void ask(int fd, const struct batch_scope *scope, enum fact_needed what,
                struct close_facts *f, struct close_event *ev)
{
    switch (what) {
    case NEED_ROLE:
        f->role = owner_is_self() ? ROLE_OWNER : ROLE_CHILD_WITHOUT_TABLES;
        break;
    case NEED_LINGER:
        f->linger = linger_option(fd);
        break;
    case NEED_SHARING:
        f->sharing = sharing_check(fd, scope, &ev->holder_pid, &ev->share_reason);
        break;
    case NEED_READ_SIDE:
        f->read_side = read_side_shut_here(fd) ? READ_SHUT_HERE : READ_OPEN;
        break;
    case NEED_NOTHING:
        break;
    }
}

/* probe -> decide (asking what it needs) -> the event. 1 when there is
 * one: its action says what to do. */
static int begin_in(int fd, enum close_path_kind path, const void *caller,
                    const struct batch_scope *scope, struct close_event *ev)
{
    struct tcp_probe probe;
    struct close_facts facts = {.mode = norst_cfg.mode, .sharing = SHARE_NOT_ASKED};
    struct decision d;

    if (!norst_acting() || norst_cfg.mode == MODE_OFF)
        return 0;
    classify(fd, facts.mode == MODE_ALWAYS  ? PROBE_CONNECTED
                 : facts.mode == MODE_DRAIN ? PROBE_IN_FLIGHT
                                            : PROBE_UNREAD,
             fdtab_born(fd), &probe);
    if (path != PATH_EXIT) /* exit offers every open fd; the app closed none */
        stats_add(STAT_CLOSES);
    if (probe.kind == KIND_OTHER)
        return 0;
    if (path != PATH_EXIT)
        stats_add(STAT_TCP);
    facts.kind = probe.kind;
    facts.unread = probe.unread;
    facts.peer = probe.peer;

    memset(ev, 0, sizeof *ev);
    while ((d = decide(&facts)).need != NEED_NOTHING) {
        ask(fd, scope, d.need, &facts, ev);
        if (!norst_acting())
            return 0; /* a probe met a seccomp filter: no further call */
    }
    if (d.action == ACT_NONE)
        return 0;
    ev->fd = fd;
    ev->path = path;
    ev->caller = caller;
    ev->unread = probe.unread;
    ev->unread_at_close = probe.unread;
    ev->action = d.action;
    ev->rst = d.rst;
    ev->linger_timed = d.action == ACT_DRAIN && facts.linger == LINGER_TIMED;
    if (log_enabled()) /* only the log shows them */
        record_addresses(fd, ev);
    return 1;
}

static int close_path_begin(int fd, enum close_path_kind path, const void *caller,
                            struct close_event *ev)
{
    return begin_in(fd, path, caller, NULL, ev);
}

/* A batch that may act asks once, at its first socket to drain, whether
 * another thread runs: that thread may be sending on any of the sockets,
 * and our FIN would fail its send with EPIPE (SIGPIPE would end the
 * process) where the close alone would not. Then the batch only records. */
static int others_running(void)
{
    return threads_alive_except(sys0(SYS_gettid), reaper_thread_tid()) != 0;
}

static void record_only(struct close_event *ev)
{
    if (ev->action == ACT_DRAIN) {
        ev->action = ACT_SKIP_SHARED;
        ev->share_reason = "threads-running";
        ev->rst = ev->unread > 0 ? RST_POSSIBLE : RST_NONE;
    }
    close_path_end(ev);
}

long block_deadline(enum close_path_kind path)
{
    return monotonic_ms() + block_budget_ms(path);
}

/* act: linger here, within the caller's budget, on every socket the
 * decision gave to us (and not to the reaper), together. */
static void close_path_act(struct close_event *evs, int count, long block_deadline_ms)
{
    drain_sockets(evs, count, block_deadline_ms);
    for (int i = 0; i < count; i++)
        if (evs[i].action == ACT_DRAIN && evs[i].drain_state == DRAIN_DONE)
            note_unread_at_close(&evs[i], evs[i].fd);
}

/* Within the caller's budget; what is left then goes on in the reaper (a
 * budget set, NORST_BLOCK_MS > 0), or ends here. */
static void linger_here(struct close_event *ev)
{
    drain_sockets(ev, 1, block_deadline(ev->path));
    if (ev->outcome == OUT_BLOCK_BOUND) {
        ev->drain_state = DRAIN_LINGERING; /* only the caller's part ended */
        if (reaper_handoff(ev)) {
            ev->drain_state = DRAIN_WITH_REAPER;
            return;
        }
        ev->drain_state = DRAIN_DONE;
    }
    note_unread_at_close(ev, ev->fd);
}

/* Our FIN is out: what can finish at once does, a peer whose FIN came
 * already (the common case on a LAN) costs no thread; the rest goes to the
 * reaper, or lingers here within the caller's budget. 1: the reaper has it. */
static int first_look_or_hand_off(struct close_event *ev)
{
    drain_start(ev);
    if (drain_step(ev, ev->fd, 1)) {
        note_unread_at_close(ev, ev->fd);
        return 0;
    }
    if (norst_cfg.block_ms == 0 && reaper_handoff(ev)) {
        ev->drain_state = DRAIN_WITH_REAPER;
        return 1;
    }
    return 0;
}

/* The number is no longer this file: what the table knew of it goes, and
 * an epoll set closed is no longer one the reaper must detach from. */
static void forget_number(int fd)
{
    if (fdtab_forget(fd) & FD_EPOLL)
        reaper_epoll(fd, EPOLL_SET_CLOSED);
}

int close_fd(int fd, enum close_path_kind path, const void *caller, const struct real_close *by)
{
    struct close_event ev;
    enum { NOTHING, EVENT, HANDED_OFF } how = NOTHING;
    {
        KEEP_ERRNO;
        if (close_path_begin(fd, path, caller, &ev)) {
            how = EVENT;
            if (ev.action == ACT_DRAIN) {
                if (!first_look_or_hand_off(&ev) && ev.drain_state == DRAIN_LINGERING)
                    linger_here(&ev);
                if (ev.drain_state == DRAIN_WITH_REAPER)
                    how = HANDED_OFF; /* the reaper logs it when it is done */
            }
        }
        forget_number(fd);
    }
    int ret = how != NOTHING && by->after_event ? by->after_event(fd, by->ctx)
                                                 : by->fn(fd, by->ctx);
    if (how == EVENT) {
        KEEP_ERRNO;
        close_path_end(&ev);
    }
    return ret;
}

/* The first event was recorded in spare. mmap is a plain system call:
 * async-signal-safe, unlike malloc. */
static void batch_take_room(struct close_batch *b)
{
    long map = raw_syscall6(SYS_mmap, 0, (long)(b->capacity * sizeof *b->evs),
                            PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map < 0 && map > -4096) {
        b->evs = b->spare;
        b->capacity = 1;
        return;
    }
    b->evs = (struct close_event *)map;
    b->mapped = 1;
    b->evs[0] = *b->spare;
}

void batch_release(struct close_batch *b)
{
    if (b->mapped)
        sys2(SYS_munmap, b->evs, b->capacity * sizeof *b->evs);
    b->mapped = 0;
    b->evs = NULL;
}

/* Our fds closed in the same batch are not holders of each other's
 * sockets: counted as holders, two fds of one socket (a dup pair, inetd's 0
 * and 1) would each leave the socket to the other and the kernel would
 * reset it. The lowest of them decides once; all are closed after it. */
int batch_offer(struct close_batch *b, int fd)
{
    struct close_event *ev = b->evs ? &b->evs[b->count] : b->spare;
    /* exit closes every fd of ours together */
    struct batch_scope scope = {b->first, b->last};
    if (b->path == PATH_EXIT)
        scope = (struct batch_scope){0, ~0u};
    if (!begin_in(fd, b->path, b->caller, &scope, ev))
        return 0;
    if (b->act == BATCH_ACT_IF_ALONE && ev->action == ACT_DRAIN && others_running())
        b->act = BATCH_RECORD;
    if (b->act == BATCH_RECORD) {
        record_only(ev);
        return 0;
    }
    if (!b->evs) {
        batch_take_room(b);
        ev = &b->evs[0];
    }
    /* Our FIN leaves now, so a peer whose socket waits for a later group
     * has answered by the time that group drains. */
    if (ev->action == ACT_DRAIN)
        drain_start(ev);
    return ++b->count == b->capacity;
}

void batch_flush(struct close_batch *b)
{
    /* A range close gives what does not finish at once to the reaper, as
     * close() does; exit keeps all (no thread goes on after it). */
    for (int i = 0; i < b->count && b->path != PATH_EXIT; i++)
        if (b->evs[i].action == ACT_DRAIN)
            first_look_or_hand_off(&b->evs[i]);
    close_path_act(b->evs, b->count, b->deadline_ms);
    for (int i = 0; i < b->count; i++) {
        forget_number(b->evs[i].fd);
        raw_close_fd(b->evs[i].fd);
        if (b->evs[i].drain_state != DRAIN_WITH_REAPER)
            close_path_end(&b->evs[i]);
    }
    b->count = 0;
}
