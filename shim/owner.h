/* Which process the library's tables describe.
 *
 * The fd table, the reaper and the internal fds are memory of the process
 * that loaded the library, kept current across fork() by pthread_atfork.
 * A vfork() child, a clone() child and a child of _Fork() or of a raw fork
 * system call run no atfork handler: they either share the parent's memory
 * (vfork, CLONE_VM), so a change made there lands in the parent's tables,
 * or hold a copy that describes the parent's fds. In such a process the
 * library decides nothing and changes nothing: the application behaves as
 * without it. */
#ifndef NORST_OWNER_H
#define NORST_OWNER_H

/* At load and in a child that fork()'s atfork handler reached. */
void owner_set_self(void);
/* 1 in the process the tables describe. One getpid() call: asked only on
 * the rare paths that would act on a socket or change shared state. */
int owner_is_self(void);

#endif
