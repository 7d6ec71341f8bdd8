/* The decision, shaped like the kernel's __tcp_close(): an ordered chain,
 * the first branch that applies decides, one line of why per branch. It
 * makes no system call: when the chain reaches a fact nobody asked yet, it
 * says which, and the orchestrator asks and calls again, so a fact costs
 * its system calls only when a close gets that far. */
#include "decide.h"

static struct decision need(enum fact_needed what)
{
    return (struct decision){.need = what, .action = ACT_NONE, .rst = RST_NONE};
}

static struct decision act(enum action action, enum rst_verdict rst)
{
    return (struct decision){.need = NEED_NOTHING, .action = action, .rst = rst};
}

struct decision decide(const struct close_facts *f)
{
    int data_was_unread = f->unread > 0; /* as __tcp_close() names it */
    /* What the kernel's close does, unless we act: data unread resets now;
     * a byte still on its way resets when it lands (TCPAbortOnData). */
    enum rst_verdict rst_without_us = data_was_unread          ? RST_SENT
                                      : f->peer == PEER_SENDING ? RST_POSSIBLE
                                                                : RST_NONE;

    /* Off: every close passes through. */
    if (f->mode == MODE_OFF)
        return act(ACT_NONE, RST_NONE);
    /* Not a connected TCP socket: its close resets nothing. */
    if (f->kind != KIND_CONNECTED)
        return act(ACT_NONE, RST_NONE);
    /* Nothing unread, nothing on its way: the close sends a FIN; only
     * "always" lingers on it. */
    if (rst_without_us == RST_NONE && f->mode != MODE_ALWAYS)
        return act(ACT_NONE, RST_NONE);
    /* A vfork or clone child closes a copy, and our tables are not its. */
    if (f->role == ROLE_NOT_ASKED)
        return need(NEED_ROLE);
    if (f->role != ROLE_OWNER)
        return act(ACT_NONE, RST_NONE);
    /* SO_LINGER {1,0}: the application asked for the reset. */
    if (f->linger == LINGER_NOT_ASKED)
        return need(NEED_LINGER);
    if (f->linger == LINGER_ABORT)
        return act(ACT_SKIP_ABORT, RST_SENT);
    /* Nothing unread, only data that may still come: SO_LINGER {1,N} asked
     * the kernel to wait for our FIN's ack in close(), which a drain would
     * turn off; that close is the application's to keep. */
    if (!data_was_unread && f->linger == LINGER_TIMED && f->mode != MODE_ALWAYS)
        return act(ACT_NONE, RST_NONE);
    /* Another holder: this close drops a reference, never the socket; a
     * shutdown or a drain would cut the other holder's connection. */
    if (f->sharing == SHARE_BATCH_PEER)
        return act(ACT_NONE, RST_NONE); /* a lower fd of the same batch decides */
    if (f->sharing == SHARE_SHARED)
        return act(ACT_SKIP_SHARED, RST_NONE);
    /* Only data that may still come, and the table cannot vouch (it was not
     * searched): no event, as for any clean close. */
    if (f->sharing == SHARE_UNKNOWN && !data_was_unread && f->mode != MODE_ALWAYS)
        return act(ACT_NONE, RST_NONE);
    /* Cannot prove this is the last reference: do nothing. */
    if (f->sharing == SHARE_UNKNOWN)
        return act(ACT_SKIP_SHARED, rst_without_us == RST_NONE ? RST_NONE : RST_POSSIBLE);
    if (f->sharing != SHARE_SOLE)
        return need(NEED_SHARING);
    /* Log mode: change nothing, say what the kernel will do. */
    if (f->mode == MODE_LOG)
        return act(ACT_LOG_ONLY, rst_without_us);
    /* The application shut its own read side: a drain would read that EOF
     * and leave the peer on a closed window; the reset is what it gets
     * without us. */
    if (f->read_side == READ_NOT_ASKED)
        return need(NEED_READ_SIDE);
    if (f->read_side == READ_SHUT_HERE)
        return act(ACT_SKIP_READ_SHUT, rst_without_us);
    /* The last reference, ours to close gracefully: FIN, then drain. */
    return act(ACT_DRAIN, RST_NONE);
}
