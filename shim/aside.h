/* Whether the library acts at all: ready after load, aside for good once a
 * seccomp filter governs the process (aside.c). */
#ifndef NORST_ASIDE_H
#define NORST_ASIDE_H

/* set once config, log and symbols are ready; hooks pass through before */
extern int norst_ready;

/* 0 before load and, for good, once a seccomp filter governs the process:
 * then a hook calls the real function and makes no call of its own. */
int norst_acting(void);
void norst_step_aside(void);
/* A probe's raw result, passed through: -EPERM or -ENOSYS where the kernel
 * cannot give them means a seccomp filter with an errno action: step aside. */
long probe_checked(long ret);
/* 1: a seccomp filter or strict mode is in place, 0: none, -1: unknown. */
int seccomp_mode_now(void);

#endif
