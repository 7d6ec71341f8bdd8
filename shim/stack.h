/* The "stack" field of an event: the return addresses of the code that
 * closed, named (stack.c). */
#ifndef NORST_STACK_H
#define NORST_STACK_H

#include "event.h"
#include "fmt.h"

/* Before a handoff, on the closing thread: the caller and its stack are
 * walked and named now, for the reaper's log line, which must not open
 * files (SITE_REMEMBERED). */
enum remember { REMEMBER_CALLER, REMEMBER_STACK /* and the caller */ };
void stack_remember(struct close_event *ev, enum remember what);
/* The field's value, a JSON array of frames (libnorst(7)): walked now
 * (SITE_RESOLVE, on the closing thread, inside the hook) or as remembered.
 * Only the frames that fit whole in b; [] when none does. */
void fmt_stack_json(struct fmtbuf *b, const struct close_event *ev);

#endif
