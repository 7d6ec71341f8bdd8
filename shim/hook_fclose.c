/* fclose() closes its fd inside libc (__close_nocancel), never through the
 * close symbol, so a stream over a TCP socket needs its own hook. */
#include <stdio.h>
#ifndef __GLIBC__
#include <stdio_ext.h>
#endif

#include "aside.h"
#include "close_path.h"
#include "common.h"
#include "event_fields.h"
#include "real.h"

static int libc_fclose(int fd, void *stream)
{
    (void)fd;
    return REAL(fclose)(stream);
}

/* Output still in the stream's buffer. musl's FILE is opaque: its
 * __fpending says the same. */
static int output_buffered(FILE *stream)
{
#ifdef __GLIBC__
    return stream->_IO_write_ptr > stream->_IO_write_base;
#else
    return __fpending(stream) > 0;
#endif
}

static int fclose_hooked(FILE *stream, const void *caller)
{
    int fd = -1;
    if (stream && norst_acting()) {
        KEEP_ERRNO; /* fflush on a read stream over a socket fails: ESPIPE */
        fd = fileno_unlocked(stream);
        /* Buffered output must leave before our FIN does. fclose would
         * flush it anyway; flushing first only moves that earlier. */
        /* What a non-blocking socket did not take stays buffered, and
         * fclose would write it after our FIN, into EPIPE: then the stream
         * closes as without us. */
        if (fd >= 0 && (fflush(stream) != 0 || output_buffered(stream)))
            fd = -1;
    }
    if (fd < 0)
        return libc_fclose(fd, stream);
    const struct real_close by_fclose = {libc_fclose, NULL, stream};
    return close_fd(fd, PATH_FCLOSE, caller, &by_fclose);
}

NORST_API int fclose(FILE *stream)
{
    return fclose_hooked(stream, RETURN_ADDRESS());
}

#ifdef __GLIBC__ /* glibc's internal name for it */
int _IO_fclose(FILE *stream);
NORST_API int _IO_fclose(FILE *stream)
{
    return fclose_hooked(stream, RETURN_ADDRESS());
}
#endif
