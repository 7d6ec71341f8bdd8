/* The library's live counters' page (status_page.h for the format):
 * made at a process's first TCP close, removed at a normal exit. */
#ifndef NORST_STATUS_FILE_H
#define NORST_STATUS_FILE_H

#include "status_page.h"

/* At load: the page's path, and whether its directory can be used: 0, or
 * nonzero (status_file_error() says why, or is 0 for NORST_STATUS_DIR=off). */
int status_file_check(void);
/* Makes, maps and fills this process's page, counters named by names[0..n)
 * and zero. NULL: no live view (NORST_STATUS_DIR=off, or the directory
 * refused; status_file_error() says why). Raw system calls only. */
struct status_page *status_file_make(const char *const *names, int n);
/* The page's path (where it will be, before it is made), or NULL. */
const char *status_file_path(void);
/* Why there is no page: 0 (off, or there is one), or a positive errno. */
int status_file_error(void);
/* A forked child: the parent's page is not its own. Unmaps it (NULL: none
 * was mapped) and forgets its path; the parent keeps the file. */
void status_file_drop(struct status_page *parents);
/* At a normal exit: the file goes; the mapping stays until the process ends. */
void status_file_remove(void);

#endif
