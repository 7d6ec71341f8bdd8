/* A change of namespace, through unshare(), setns() or syscall()
 * (hook_unshare.c). */
#ifndef NORST_HOOK_UNSHARE_H
#define NORST_HOOK_UNSHARE_H

/* Before unshare(flags) or setns(fd, flags). */
enum namespace_call { NS_UNSHARE, NS_SETNS };
void namespace_before(long flags, enum namespace_call call);

#endif
