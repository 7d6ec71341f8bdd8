/* A seccomp filter coming, through prctl(), seccomp() or syscall()
 * (hook_seccomp.c). */
#ifndef NORST_HOOK_SECCOMP_H
#define NORST_HOOK_SECCOMP_H

int seccomp_installs(long op); /* SECCOMP_SET_MODE_STRICT or _FILTER */
void seccomp_before(void);     /* the reaper ends before a filter comes */
long seccomp_after(long ret);  /* installed (ret >= 0): step aside */

#endif
