/* The number of fds this process has open, as /proc/self/fd lists them. */
#ifndef NORST_COUNT_FDS_H
#define NORST_COUNT_FDS_H

#include <dirent.h>
#include <stdlib.h>

static inline int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    while (d && readdir(d))
        n++;
    if (d)
        closedir(d);
    return n - 3; /* ".", ".." and the directory's own fd */
}

/* The same, for fds below limit only: the library's own fds, and the
 * duplicates its reaper lingers on, live at the top of the range. */
static inline int count_fds_below(int limit)
{
    int n = 0;
    struct dirent *e;
    DIR *d = opendir("/proc/self/fd");
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.' && atoi(e->d_name) < limit && atoi(e->d_name) != dirfd(d);
    if (d)
        closedir(d);
    return n;
}

#endif
