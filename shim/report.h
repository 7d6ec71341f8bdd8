/* The end of an event, in place or in the reaper: what is left unread at
 * its real close, then the counters and the log line (report.c). */
#ifndef NORST_REPORT_H
#define NORST_REPORT_H

struct close_event;

void note_unread_at_close(struct close_event *ev, int fd);
void close_path_end(struct close_event *ev);

#endif
