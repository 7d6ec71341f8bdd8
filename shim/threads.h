/* Threads of this process still running. */
#ifndef NORST_THREADS_H
#define NORST_THREADS_H

/* Live threads of this process other than tid_a and tid_b (0: none), from
 * /proc/self/task; a main thread ended by pthread_exit() stays listed as a
 * zombie and is not counted. -1 when /proc cannot tell. */
long threads_alive_except(long tid_a, long tid_b);

#endif
