/* Whether the calling thread may be inside a signal handler. */
#ifndef NORST_HANDLER_CONTEXT_H
#define NORST_HANDLER_CONTEXT_H

/* 0 only when no handler can be running on this thread: then a call that
 * is not async-signal-safe (pthread_create) may be made from a hook that is
 * (close). 1 in doubt. About 70 system calls, and a walk of the stack
 * where they leave doubt: for rare paths only. */
int handler_may_be_running(void);

#endif
