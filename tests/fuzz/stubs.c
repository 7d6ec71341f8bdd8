/* What shim/log.c and shim/internal_fd.c need from the rest of the library,
 * for the configuration fuzz target: the fd table and the reaper are never
 * involved in loading the configuration, so they hold nothing here, and
 * the event-formatting helpers are never called. */
#include "norst.h"

void fmt_callsite(struct fmtbuf *b, const void *caller, enum site_lookup how)
{
    (void)caller;
    (void)how;
    fmt_str(b, "?");
}

void fmt_callsite_json(struct fmtbuf *b, const void *caller, size_t max, enum site_lookup how)
{
    (void)caller;
    (void)how;
    (void)max;
    fmt_str(b, "\"?\"");
}

int fdtab_is_reaper(int fd)
{
    (void)fd;
    return 0;
}

int fdtab_lowest_reaper(unsigned first, unsigned last)
{
    (void)first;
    (void)last;
    return -1;
}

int fdtab_set_reaper(int fd, int on)
{
    (void)fd;
    (void)on;
    return 0;
}

void reaper_release_fd(int fd)
{
    (void)fd;
}

void reaper_lock(void)
{
}

void reaper_unlock(void)
{
}

void reaper_nudge(int by_mover)
{
    (void)by_mover;
}
