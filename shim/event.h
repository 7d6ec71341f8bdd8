/* One close event: what the close path found, did and reports. */
#ifndef NORST_EVENT_H
#define NORST_EVENT_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "event_fields.h" /* enum close_path_kind, action, outcome */

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
    enum rst_verdict rst;   /* whether this close sends an RST */
    enum action action;
    enum outcome outcome;
    unsigned long long drained;
    long start_ms;          /* our FIN went out (CLOCK_MONOTONIC ms) */
    long last_heard_ms;     /* the peer's last byte, or start_ms */
    long elapsed_ms;
    enum drain_state {
        DRAIN_NOT_STARTED,
        DRAIN_LINGERING,   /* our FIN is out; the drain goes on */
        DRAIN_DONE,        /* outcome says how it ended */
        DRAIN_WITH_REAPER, /* handed off: the reaper ends it */
    } drain_state;
    int linger_timed;       /* SO_LINGER {1,N}: turned off with our FIN */
    enum site_lookup site_lookup; /* how the log may name the caller */
    int stack_slot;         /* SITE_REMEMBERED: the stack taken at the handoff (stack.c), 0: none */
    int holder_pid;         /* ACT_SKIP_SHARED: who else holds it (0: unknown) */
    const char *share_reason;
};

#endif
