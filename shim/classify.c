/* What kind of fd is being closed, as cheaply as the kernel lets us tell.
 *
 * SO_PROTOCOL first: it fails at once on a non-socket and names UDP, UNIX and
 * MPTCP (262) sockets, so anything that is not TCP costs one syscall. Then
 * SO_MEMINFO: a TCP socket with no receive memory charged has nothing queued,
 * the common clean close, two syscalls in all. Only a socket with something
 * queued is asked FIONREAD (which would also answer on pipes and files).
 *
 * A socket the hooks saw born TCP (socket(), or accept() on a TCP listener)
 * is asked SO_MEMINFO first: no receive memory means nothing to do whatever
 * the fd is now, so its clean close costs one call. The hint only orders the
 * calls; SO_PROTOCOL still comes before any decision to act. */
#include <errno.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "aside.h"
#include "classify.h"
#include "sys.h"

/* Bytes __tcp_close() would count as unread (it walks the whole receive
 * queue): FIONREAD, plus an urgent byte waiting at the mark, which FIONREAD
 * leaves out when SO_OOBINLINE is off but which still makes close reset.
 * Returns -1 on a listening socket (FIONREAD: EINVAL). */
long unread_bytes(int fd)
{
    int queued = 0, at_mark = 0;
    if (probe_checked(sys3(SYS_ioctl, fd, FIONREAD, &queued)) < 0)
        return -1;
    if (queued == 0 && sys3(SYS_ioctl, fd, SIOCATMARK, &at_mark) == 0 && at_mark)
        return 1;
    return queued;
}

/* 0 when nothing at all is queued for reading: sk_rmem_alloc is charged for
 * every skb of the receive queue (and the out-of-order queue), urgent byte
 * and lone FIN included. Segments that came while another thread held the
 * socket wait in the backlog, charged apart, and join the receive queue
 * when that thread lets go, before __tcp_close() looks: both must be 0.
 * -ENOPROTOOPT where the kernel has no SO_MEMINFO (before 4.6): ask
 * FIONREAD, which waits for the lock's owner. */
static long receive_memory(int fd)
{
    unsigned int meminfo[SK_MEMINFO_VARS] = {0};
    socklen_t len = sizeof meminfo;
    long ret = probe_checked(sys5(SYS_getsockopt, fd, SOL_SOCKET, SO_MEMINFO, meminfo, &len));
    if (ret < 0)
        return ret; /* -errno: -ENOTSOCK, -EBADF, -ENOPROTOOPT */
    if (len <= SK_MEMINFO_BACKLOG * sizeof meminfo[0])
        return -ENOPROTOOPT;
    return (long)meminfo[SK_MEMINFO_RMEM_ALLOC] + meminfo[SK_MEMINFO_BACKLOG];
}

int is_tcp(int fd)
{
    int protocol = 0;
    socklen_t len = sizeof protocol;
    return probe_checked(sys5(SYS_getsockopt, fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len)) == 0 &&
           protocol == IPPROTO_TCP;
}

static int tcp_state(int fd)
{
    struct tcp_info info;
    socklen_t len = sizeof info;
    if (probe_checked(sys5(SYS_getsockopt, fd, IPPROTO_TCP, TCP_INFO, &info, &len)) < 0)
        return -1;
    return info.tcpi_state;
}

/* Is the peer still sending, though nothing is queued? A byte that arrives
 * after the close makes the kernel reset as surely as one left unread
 * (tcp_rcv_state_process(): TCPAbortOnData), and the case is common: an
 * upload the server rejected early, still in flight on a long path; a
 * client that sends its request at once to a server that answers "too
 * many clients" and closes. TCP_INFO tells how long ago data last arrived
 * (tcpi_last_data_recv, ms, in jiffies: 4 ms steps at HZ=250; on a fresh
 * connection, the time since the handshake, icsk_ack.lrcvtime) and the
 * smoothed RTT. A peer that sent within a few round trips may have more
 * on the way; one silent for longer has stopped (a keep-alive peer
 * waiting, a peer waiting for our reply). The floor covers the tick and
 * sub-millisecond RTTs. Only while the peer's side is open: in
 * CLOSE_WAIT its FIN said it is done. */
#define PEER_RECENT_FLOOR_MS 20

static enum peer_activity peer_activity(int fd)
{
    struct tcp_info info;
    socklen_t len = sizeof info;
    if (probe_checked(sys5(SYS_getsockopt, fd, IPPROTO_TCP, TCP_INFO, &info, &len)) < 0)
        return PEER_QUIET;
    /* FIN_WAIT1/2: the application's own shutdown(SHUT_WR) sent our FIN
     * (haproxy does, before it closes); the peer's side is still open. */
    if (info.tcpi_state != TCP_ESTABLISHED && info.tcpi_state != TCP_FIN_WAIT1 &&
        info.tcpi_state != TCP_FIN_WAIT2)
        return PEER_QUIET;
    unsigned long recent_ms = (2UL * info.tcpi_rtt + 4UL * info.tcpi_rttvar) / 1000;
    if (recent_ms < PEER_RECENT_FLOOR_MS)
        recent_ms = PEER_RECENT_FLOOR_MS;
    return info.tcpi_last_data_recv <= recent_ms ? PEER_SENDING : PEER_QUIET;
}

/* tcp_poll() reports RDHUP once RCV_SHUTDOWN is set, by the peer's FIN
 * (tcp_fin(), which also leaves ESTABLISHED or FIN_WAIT) or by the
 * application's own shutdown(SHUT_RD) (inet_shutdown(), state unchanged).
 * So RDHUP in ESTABLISHED or FIN_WAIT1/2 is the application's doing. */
int read_side_shut_here(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLRDHUP};
    struct timespec now = {0, 0};
    if (sys5(SYS_ppoll, &pfd, 1, &now, NULL, 0) != 1 || !(pfd.revents & POLLRDHUP))
        return 0;
    switch (tcp_state(fd)) {
    case TCP_ESTABLISHED:
    case TCP_FIN_WAIT1:
    case TCP_FIN_WAIT2:
        return 1;
    }
    return 0;
}

/* PROBE_CONNECTED: the caller lingers on clean closes too (NORST_MODE=
 * always), so an established socket with nothing unread is still of
 * interest, and its state is asked. */
void classify(int fd, enum probe_need need, enum born_as born, struct tcp_probe *out)
{
    int want_state = need == PROBE_CONNECTED, likely_tcp = born != BORN_UNKNOWN;
    /* Accepted, nothing queued: the peer may still be sending. */
    int ask_peer = need == PROBE_IN_FLIGHT && born == BORN_ACCEPTED;
    out->kind = KIND_OTHER;
    out->unread = 0;
    out->peer = PEER_NOT_ASKED;
    /* Born TCP: the queue first, so that a clean close costs one call. */
    int memory_first = likely_tcp && !want_state;
    long rmem = -1;
    if (memory_first) {
        rmem = receive_memory(fd);
        if (rmem == -ENOTSOCK || rmem == -EBADF || !norst_acting())
            return;
        /* listening sockets too: nothing to read */
        if (rmem == 0 && (!ask_peer || (out->peer = peer_activity(fd)) == PEER_QUIET)) {
            out->kind = KIND_IDLE;
            return;
        }
    }
    if (!is_tcp(fd))
        return;
    if (!want_state && !memory_first && receive_memory(fd) == 0) {
        out->kind = KIND_IDLE;
        return;
    }

    out->unread = rmem == 0 ? 0 : unread_bytes(fd);
    if (out->unread < 0) {
        out->kind = KIND_IDLE; /* listening: nothing to read, nothing to reset */
        out->unread = 0;
        return;
    }
    if (out->unread == 0 && !want_state) {
        if (ask_peer && out->peer == PEER_NOT_ASKED)
            out->peer = peer_activity(fd); /* a FIN or out-of-order data queued */
        out->kind = out->peer == PEER_SENDING ? KIND_CONNECTED : KIND_IDLE;
        return;
    }
    /* Bytes in the receive queue: a connected (or closing) socket, and the
     * state is not worth a TCP_INFO call. */
    if (out->unread > 0 && !want_state) {
        out->kind = KIND_CONNECTED;
        return;
    }
    /* Unconnected and half-open sockets have nothing to protect. */
    switch (tcp_state(fd)) {
    case TCP_ESTABLISHED:
    case TCP_CLOSE_WAIT:
    case TCP_FIN_WAIT1:
    case TCP_FIN_WAIT2:
    case TCP_CLOSING:
    case TCP_LAST_ACK:
        out->kind = KIND_CONNECTED;
        break;
    default:
        out->kind = KIND_IDLE;
    }
}
