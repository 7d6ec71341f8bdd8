/* What a close looks like: what the fd is and what closing it would do
 * (classify.c). */
#ifndef NORST_CLASSIFY_H
#define NORST_CLASSIFY_H

enum fd_kind {
    KIND_OTHER,      /* not a socket, not TCP, or MPTCP: never ours */
    KIND_IDLE,       /* TCP socket whose close sends no RST and needs no linger */
    KIND_CONNECTED,  /* connected TCP socket the close path may act on */
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

#endif
