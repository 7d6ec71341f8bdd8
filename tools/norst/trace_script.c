/* The bpftrace program of norst trace. One line per RST, tab-separated:
 *   rst NSECS PID TID REASON STATE INQ FIN CLOSER_PID CLOSER_TID
 *       GONE GONE_PID GONE_TID LOCAL PEER COMM CLOSER_COMM GONE_COMM
 * LOCAL and PEER are five columns each, from the tracepoint's 28-byte
 * sockaddr_in or sockaddr_in6: FAMILY, PORT, then bytes 4-7 (the IPv4
 * address), 8-15 and 16-23 (the IPv6 address) in hexadecimal, most
 * significant first. Numbers cost bpftrace far less to print than the
 * bytes themselves (%rx). NSECS is CLOCK_MONOTONIC; the names come last,
 * as they may hold spaces.
 * GONE is 1 when the socket is the one this CPU destroyed last, whose
 * closer is GONE_*. (bpftrace 0.17 loses a variable assigned inside an
 * if block here, so the choices are made in user space.)
 *
 * Only tracepoints: this kernel may be built without kprobes. The closer
 * of a socket is the task that moved it to FIN_WAIT1 or LAST_ACK
 * (tcp_close -> tcp_close_state), remembered by the socket's address: an
 * RST sent after the close (abort on data: tcp_rcv_state_process) goes out
 * in softirq, where the current task is whoever delivered the segment.
 * That path calls tcp_done, which destroys the orphan before
 * tcp_v4_send_reset, so the entry of the socket destroyed last on each CPU
 * is kept for the RST that follows on the same CPU.
 *
 * Unread: INQ = rcv_nxt - copied_seq, less the peer's FIN once it came
 * (as tcp_inq does: FIN is SOCK_DONE, bit 1 of sk_flags). __tcp_close frees the
 * queue without moving copied_seq, so it still holds at the RST. */
#include <stdio.h>
#include <string.h>

#include "tool.h"
#include "trace.h"

/* Byte i of the tracepoint's address field a, shifted into place. */
#define BYTE(a, i, shift) "((uint64)args->" a "[" #i "] << " #shift ")"
#define WORD4(a) BYTE(a, 4, 24) " | " BYTE(a, 5, 16) " | " BYTE(a, 6, 8) " | " BYTE(a, 7, 0)
#define WORD8(a, i0, i1, i2, i3, i4, i5, i6, i7)                                              \
    BYTE(a, i0, 56) " | " BYTE(a, i1, 48) " | " BYTE(a, i2, 40) " | " BYTE(a, i3, 32) " | " \
    BYTE(a, i4, 24) " | " BYTE(a, i5, 16) " | " BYTE(a, i6, 8) " | " BYTE(a, i7, 0)
#define ENDPOINT(a)                                                                        \
    "args->" a "[0], (args->" a "[2] << 8 | args->" a "[3]),\n"                             \
    "           " WORD4(a) ",\n"                                                          \
    "           " WORD8(a, 8, 9, 10, 11, 12, 13, 14, 15) ",\n"                            \
    "           " WORD8(a, 16, 17, 18, 19, 20, 21, 22, 23) ",\n"
#define ENDPOINT_FORMAT "%u\\t%u\\t%llx\\t%llx\\t%llx"

static const char script_head[] =
    "BEGIN { printf(\"ready\\n\"); }\n"
    "tracepoint:sock:inet_sock_set_state\n"
    "/args->protocol == 6 && (args->newstate == 4 || args->newstate == 9)/\n"
    "{ @closer[args->skaddr] = (pid, tid, comm); }\n"
    "tracepoint:tcp:tcp_destroy_sock\n"
    "{\n"
    "    @gone_sk[cpu] = args->skaddr;\n"
    "    @gone[cpu] = @closer[args->skaddr];\n"
    "    delete(@closer[args->skaddr]);\n"
    "}\n"
    "tracepoint:tcp:tcp_send_reset\n";

/* After the predicate of --port, if any. */
static const char script_tail[] =
    "{\n"
    "    $tp = (struct tcp_sock *)args->skaddr;\n"
    "    $inq = $tp->rcv_nxt - $tp->copied_seq;\n"
    "    $fin = ($tp->inet_conn.icsk_inet.sk.__sk_common.skc_flags & 2) ? 1 : 0;\n"
    "    $c = @closer[args->skaddr];\n"
    "    $g = @gone[cpu];\n"
    "    $gone = (args->skaddr != 0 && @gone_sk[cpu] == args->skaddr) ? 1 : 0;\n"
    "    printf(\"rst\\t%llu\\t%d\\t%d\\t%d\\t%d\\t%u\\t%d\\t%d\\t%d\\t%d\\t%d\\t%d\\t"
    ENDPOINT_FORMAT "\\t" ENDPOINT_FORMAT "\\t%s\\t%s\\t%s\\n\",\n"
    "           nsecs, pid, tid, args->reason, args->state, $inq, $fin, $c.0, $c.1,\n"
    "           $gone, $g.0, $g.1,\n"
    "           " ENDPOINT("saddr") "           " ENDPOINT("daddr")
    "           comm, $c.2, $g.2);\n"
    "}\n"
    "END { clear(@closer); clear(@gone); clear(@gone_sk); }\n";

/* --port filters in the kernel: only the matching resets cross to user
 * space, where each costs far more than the tracepoint (the port is at
 * bytes 2-3 of both sockaddr forms, in network order). */
static const char port_predicate[] =
    "/(args->saddr[2] << 8 | args->saddr[3]) == %ld || (args->daddr[2] << 8 | args->daddr[3]) == %ld/\n";

char *trace_script_for(long port)
{
    char predicate[sizeof port_predicate + 32] = "";
    if (port >= 0)
        snprintf(predicate, sizeof predicate, port_predicate, port, port);
    size_t len = strlen(script_head) + strlen(predicate) + sizeof script_tail;
    char *text = xrealloc(NULL, len);
    snprintf(text, len, "%s%s%s", script_head, predicate, script_tail);
    return text;
}
