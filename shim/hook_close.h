/* The whole close of one fd, as close() does it (hook_close.c). */
#ifndef NORST_HOOK_CLOSE_H
#define NORST_HOOK_CLOSE_H

#include "event_fields.h" /* enum close_path_kind */

int close_one(int fd, enum close_path_kind path, const void *caller);

#endif
