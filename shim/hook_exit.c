/* Normal process exit (exit(), return from main): the kernel closes what is
 * still open, and resets every socket with unread data. A destructor runs
 * before that, so those sockets get the same decision as a close, and the
 * ones to linger on drain within one overall bound.
 * _exit(), fatal signals and exec run no destructor: see the README. */
#include <fcntl.h>
#include <stdio.h>

#include "aside.h"
#include "classify.h"
#include "close_path.h"
#include "common.h"
#include "config.h"
#include "config_parse.h"
#include "event.h"
#include "event_fields.h"
#include "fdwalk.h"
#include "internal_fd.h"
#include "owner.h"
#include "reaper.h"
#include "stats.h"
#include "sys.h"
#include "threads.h"

#ifdef __GLIBC__
/* glibc's list of open streams, and its lock (both exported since 2.2.5). */
extern FILE *_IO_list_all;
void _IO_list_lock(void);
void _IO_list_unlock(void);
#endif

#define MAX_UNFLUSHED 16

struct exit_walk {
    struct close_batch *batch;
    int unflushed[MAX_UNFLUSHED]; /* sockets whose stream we could not flush */
    int nunflushed;
};

/* exit() flushes stdio after this destructor: output buffered for a socket
 * must leave before our FIN, so those streams are flushed now. Only streams
 * with output pending on a TCP socket, and only when their lock is free: a
 * thread blocked in fgets(stdin) holds stdin's lock until the process dies,
 * and glibc's own exit flush takes no stream lock. A stream we cannot flush
 * keeps its socket out of the batch: no FIN goes ahead of its bytes. */
#ifdef __GLIBC__
static int flush_socket_streams(struct exit_walk *w)
{
    int complete = 1;
    _IO_list_lock();
    for (FILE *fp = _IO_list_all; fp; fp = fp->_chain) {
        if (fp->_IO_write_ptr <= fp->_IO_write_base || fp->_fileno < 0 || !is_tcp(fp->_fileno))
            continue;
        if (ftrylockfile(fp) == 0) {
            /* What a non-blocking socket did not take stays buffered: exit
             * would write it after our FIN, into EPIPE. */
            if (fflush_unlocked(fp) != 0 || fp->_IO_write_ptr > fp->_IO_write_base)
                complete = 0;
            funlockfile(fp);
        } else if (w->nunflushed < MAX_UNFLUSHED) {
            w->unflushed[w->nunflushed++] = fp->_fileno;
        } else {
            complete = 0;
        }
    }
    _IO_list_unlock();
    return complete;
}
#else
/* musl exports no list of its streams, and fflush(NULL) takes every
 * stream's lock (the hang above): whether a socket's stream holds output
 * cannot be known, so exit only records, as when a stream cannot be
 * flushed. */
static int flush_socket_streams(struct exit_walk *w)
{
    (void)w;
    return 0;
}
#endif

static int is_unflushed(const struct exit_walk *w, int fd)
{
    for (int i = 0; i < w->nunflushed; i++)
        if (w->unflushed[i] == fd)
            return 1;
    return 0;
}

static long offer_fd(int dirfd, const char *name, long fd, void *ctx)
{
    struct exit_walk *w = ctx;
    (void)name;
    if (fd != dirfd && !internal_fd_is((int)fd) && !is_unflushed(w, (int)fd) &&
        batch_offer(w->batch, (int)fd))
        batch_flush(w->batch);
    return 0;
}

__attribute__((destructor)) static void norst_at_exit(void)
{
    /* Static, so that up to 256 sockets drain as one group. */
    static struct close_event evs[256];
    static struct close_batch batch = {.evs = evs, .capacity = 256};
    static struct exit_walk walk = {.batch = &batch};

    /* A child that runs no atfork handler and then calls exit() (a vfork
     * child must not, but some do): not our tables, not our sockets. */
    if (!norst_acting() || norst_cfg.mode == MODE_OFF || !owner_is_self())
        return;
    KEEP_ERRNO; /* later exit handlers see the errno the application left */
    /* One wait for all: what the reaper holds and what is still open end
     * within the same exit budget. */
    batch.path = PATH_EXIT;
    batch.deadline_ms = block_deadline(batch.path);
    reaper_release(RELEASE_AT_EXIT);
    /* Another thread may still be writing to any socket: our FIN would
     * make its send fail with EPIPE, and SIGPIPE kill the process, where
     * without us the kernel closes everything once the process is gone.
     * Then, and in log mode, exit only records; the walk is the same. */
    batch.act = BATCH_ACT_IF_ALONE;
    if (norst_cfg.mode == MODE_LOG || threads_alive_except(sys0(SYS_gettid), reaper_thread_tid()) != 0 ||
        !flush_socket_streams(&walk))
        batch.act = BATCH_RECORD;
    fdwalk_self(offer_fd, &walk);
    if (batch.count)
        batch_flush(&batch);
    stats_report();
}
