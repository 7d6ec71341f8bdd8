/* One line per event, written with a single write() (log.c). */
#ifndef NORST_LOG_H
#define NORST_LOG_H

#include "config_parse.h" /* enum log_format */

struct close_event;

/* Opens the sink the configuration names (at load); a failure is said on
 * stderr, in words, and leaves logging off. */
void log_open(const struct norst_config *cfg);
int log_enabled(void); /* a sink is open: events are written somewhere */
int log_is_json(void);
void log_event(const struct close_event *ev);
void log_text(const char *line);   /* a ready-made line, newline added */
void warn_stderr(const char *line);

#endif
