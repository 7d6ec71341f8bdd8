/* The line that says the library loaded (load_line.c). */
#ifndef NORST_LOAD_LINE_H
#define NORST_LOAD_LINE_H

/* At load, with NORST_ANNOUNCE=1 and a log: so that an empty log can be
 * told from a library that never loaded. */
void load_line_write(void);

#endif
