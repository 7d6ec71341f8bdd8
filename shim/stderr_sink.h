/* fd 2 as it was at load, or nowhere (stderr_sink.c). */
#ifndef NORST_STDERR_SINK_H
#define NORST_STDERR_SINK_H

#include <stddef.h>

struct iovec;

void stderr_remember(void);
void stderr_writev(const struct iovec *iov, int count);
void stderr_write(const char *buf, size_t len);

#endif
