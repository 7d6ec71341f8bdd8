/* An errno in words for the library's messages (error_text.c). */
#ifndef NORST_ERROR_TEXT_H
#define NORST_ERROR_TEXT_H

struct fmtbuf;

/* "No such file or directory", or "error 1234" for one the table lacks.
 * Async-signal-safe: a reopen of the log may report from inside close(). */
void fmt_error(struct fmtbuf *b, int err);

#endif
