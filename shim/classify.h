/* What a close looks like: what the fd is and what closing it would do
 * (classify.c). */
#ifndef NORST_CLASSIFY_H
#define NORST_CLASSIFY_H

enum fd_kind {
    KIND_OTHER,      /* not a socket, not TCP, or MPTCP: never ours */
    KIND_IDLE,       /* TCP socket whose close sends no RST and needs no linger */
    KIND_CONNECTED,  /* connected TCP socket the close path may act on */
};

/* Whether the peer may still be sending: asked of accepted sockets with
 * nothing unread (a byte that arrives after the close resets too). */
enum peer_activity { PEER_NOT_ASKED, PEER_QUIET, PEER_SENDING };
struct tcp_probe {
    enum fd_kind kind;
    long unread;    /* FIONREAD, plus a pending urgent byte */
    enum peer_activity peer;
};
/* What the caller needs: unread bytes (log mode reports facts only);
 * those, or an accepted socket whose peer is still sending (drain mode);
 * any connected socket (NORST_MODE=always lingers on every one). */
enum probe_need { PROBE_UNREAD, PROBE_IN_FLIGHT, PROBE_CONNECTED };
/* What the fd table says of the number: born TCP only orders the calls;
 * born by accept() also makes the peer's recent sending worth a look. */
enum born_as { BORN_UNKNOWN, BORN_TCP, BORN_ACCEPTED };
void classify(int fd, enum probe_need need, enum born_as born, struct tcp_probe *out);
int is_tcp(int fd); /* SO_PROTOCOL says IPPROTO_TCP */
long unread_bytes(int fd);
/* shutdown(SHUT_RD) by the application, not the peer's FIN: a drain would
 * read its own EOF, and the peer would wait on a window that never opens. */
int read_side_shut_here(int fd);

#endif
