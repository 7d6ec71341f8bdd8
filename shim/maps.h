/* Which mapping of the process holds an address (maps.c). */
#ifndef NORST_MAPS_H
#define NORST_MAPS_H

#include <stddef.h>
#include <stdint.h>

/* A maps line's head (addresses, perms, offset, dev, inode and the padding
 * to the path's column) takes under 110 bytes on 64-bit: a path shorter
 * than PATH_ROOM always fits whole in line, and a longer one still shows as
 * at least PATH_ROOM long, which is refused. */
#define PATH_ROOM 256

struct mapping {
    uintptr_t start, end, offset;
    uintptr_t base;   /* where the same file's offset 0 is mapped (its ELF header), or 0 */
    int exec;         /* mapped executable: the address may be code */
    const char *path; /* in line; NULL for anonymous and special ([vdso]) mappings */
    char line[PATH_ROOM + 128];
};

/* The line of /proc/self/maps that holds addr, read with raw system calls
 * and this 256-byte stack buffer; 0 when none. budget: bytes of maps it may
 * still read (a process may have tens of thousands of mappings); lowered by
 * what this lookup read, NULL for no bound. */
int maps_find(uintptr_t addr, struct mapping *m, size_t *budget);

#endif
