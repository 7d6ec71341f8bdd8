/* Naming a return address (callsite.c). */
#ifndef NORST_CALLSITE_H
#define NORST_CALLSITE_H

#include <stddef.h>

#include "event.h" /* enum site_lookup */
#include "fmt.h"

/* "symbol+0xoff in /path/object" for a return address; the
 * JSON form is that text's first max bytes as a JSON string literal,
 * escaped as it is written (no copy of it on the stack). */
void fmt_callsite(struct fmtbuf *b, const void *caller, enum site_lookup how);
void fmt_callsite_json(struct fmtbuf *b, const void *caller, size_t max, enum site_lookup how);
/* Name the call site now, for a later SITE_REMEMBERED. */
void callsite_remember(const void *caller);

/* One frame of the "stack" field for a return address, as a JSON object
 * (libnorst(7)); it takes at most FRAME_JSON_MAX bytes of b. */
#define FRAME_JSON_MAX 3072
void fmt_frame_json(struct fmtbuf *b, const void *pc, enum site_lookup how);
/* Name the frame now, for a later SITE_REMEMBERED. */
void callsite_remember_frame(const void *pc);

#endif
