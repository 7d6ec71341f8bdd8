/* A change of namespace, through unshare(), setns() or syscall()
 * (hook_unshare.c). */
#ifndef NORST_HOOK_UNSHARE_H
#define NORST_HOOK_UNSHARE_H

/* Before unshare(flags) or setns(fd, flags): the reaper's thread ends and
 * none starts until namespace_after(), when the call needs one thread. */
enum namespace_call { NS_UNSHARE, NS_SETNS };
enum namespace_hold { NAMESPACE_NOTHING_HELD, NAMESPACE_THREAD_HELD };
enum namespace_hold namespace_before(long flags, enum namespace_call call);
void namespace_after(enum namespace_hold held);

#endif
