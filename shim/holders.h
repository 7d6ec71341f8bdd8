/* The /proc search behind sharing_check (holders.c). */
#ifndef NORST_HOLDERS_H
#define NORST_HOLDERS_H

#include "sharing.h" /* enum share_verdict */

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

#endif
