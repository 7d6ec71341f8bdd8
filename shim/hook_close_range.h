/* close_range() and closefrom(), also reached through syscall()
 * (hook_close_range.c). */
#ifndef NORST_HOOK_CLOSE_RANGE_H
#define NORST_HOOK_CLOSE_RANGE_H

#include "event_fields.h" /* enum close_path_kind */

/* Returns 0 or -errno. */
long close_range_hooked(unsigned first, unsigned last, int flags,
                        enum close_path_kind path, const void *caller);

#endif
