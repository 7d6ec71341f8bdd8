/* The "stack" field: up to STACK_FRAMES return addresses, innermost first,
 * each named by callsite.c. The walk (unwind.c) must run on the thread
 * that closes, inside the hook, while the frames are there: at the log
 * line for a close that ends in place, at the handoff for one the reaper
 * ends, whose line then shows the frames named at the handoff. */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "callsite.h"
#include "stack.h"
#include "unwind.h"

#define STACK_FRAMES 8

/* Stacks taken at handoffs, for the reaper's lines: an event carries the
 * slot's number, not the addresses, which would grow every event on the
 * close path's small stack. A program closes its sockets from a few code
 * paths, so a few slots, each filled once and kept: past them, a handed-off
 * event shows its caller's frame alone. */
#define STACK_SLOTS 64
enum slot_state { SLOT_FREE, SLOT_FILLING, SLOT_READY };
static struct {
    _Atomic int state;
    int depth;
    const void *pcs[STACK_FRAMES];
} stacks[STACK_SLOTS];

/* The slot's number (from 1) holding this stack, or 0 when none is free. */
static int stack_slot(const void *const *pcs, int depth)
{
    for (int i = 0; i < STACK_SLOTS; i++) {
        int state = atomic_load_explicit(&stacks[i].state, memory_order_acquire);
        if (state == SLOT_READY && stacks[i].depth == depth &&
            memcmp(stacks[i].pcs, pcs, (size_t)depth * sizeof *pcs) == 0)
            return i + 1;
        if (state == SLOT_FREE &&
            atomic_compare_exchange_strong(&stacks[i].state, &state, SLOT_FILLING)) {
            stacks[i].depth = depth;
            memcpy(stacks[i].pcs, pcs, (size_t)depth * sizeof *pcs);
            atomic_store_explicit(&stacks[i].state, SLOT_READY, memory_order_release);
            return i + 1;
        }
    }
    return 0;
}

void stack_remember(struct close_event *ev, enum remember what)
{
    const void *pcs[STACK_FRAMES];
    callsite_remember(ev->caller);
    if (what != REMEMBER_STACK) /* a text line shows the caller only */
        return;
    int depth = unwind_stack(ev->caller, pcs, STACK_FRAMES);
    for (int i = 0; i < depth; i++)
        callsite_remember_frame(pcs[i]);
    ev->stack_slot = depth > 1 ? stack_slot(pcs, depth) : 0;
}

void fmt_stack_json(struct fmtbuf *b, const struct close_event *ev)
{
    const void *walked[STACK_FRAMES];
    const void *const *pcs = walked;
    int count = 0;
    fmt_str(b, "[");
    if (b->cap - b->len < FRAME_JSON_MAX + 2) {
        /* no room for a frame: not walked */
    } else if (ev->site_lookup == SITE_REMEMBERED && ev->stack_slot > 0) {
        pcs = stacks[ev->stack_slot - 1].pcs;
        count = stacks[ev->stack_slot - 1].depth;
    } else if (ev->site_lookup == SITE_REMEMBERED) {
        walked[0] = ev->caller;
        count = ev->caller != NULL;
    } else {
        count = unwind_stack(ev->caller, walked, STACK_FRAMES);
    }
    for (int i = 0; i < count && b->cap - b->len >= FRAME_JSON_MAX + 2; i++) {
        if (i)
            fmt_str(b, ",");
        fmt_frame_json(b, pcs[i], ev->site_lookup);
    }
    fmt_str(b, "]");
}
