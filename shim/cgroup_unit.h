/* The systemd unit a process runs in, from its /proc/PID/cgroup
 * (cgroup_unit.c). */
#ifndef NORST_CGROUP_UNIT_H
#define NORST_CGROUP_UNIT_H

#include <stddef.h>

/* Into unit[cap]: the innermost .service or .scope on the cgroup path,
 * else the path (cut to fit), or "" in the root cgroup or when the text
 * names none. The path is that of the unified hierarchy ("0::"), else of
 * systemd's own v1 hierarchy, else the first that is not the root. text is
 * cut into lines where it stands. */
void cgroup_unit(char *text, char *unit, size_t cap);

#endif
