/* fclose() closes its fd inside libc (__close_nocancel), never through the
 * close symbol, so a stream over a TCP socket needs its own hook. */
#include <stdio.h>

#include "norst.h"

static int fclose_hooked(FILE *stream, const void *caller)
{
    struct close_event ev;
    enum prepared how = PREP_NOTHING;

    if (stream && norst_acting()) {
        KEEP_ERRNO; /* fflush on a read stream over a socket fails: ESPIPE */
        int fd = fileno_unlocked(stream);
        if (fd >= 0) {
            /* Buffered output must leave before our FIN does. fclose would
             * flush it anyway; flushing first only moves that earlier. */
            fflush(stream);
            how = close_path_prepare(fd, PATH_FCLOSE, caller, &ev);
            fdtab_forget(fd);
        }
    }
    int ret = REAL(real.fclose, "fclose")(stream);
    {
        KEEP_ERRNO;
        close_path_finish(&ev, how);
    }
    return ret;
}

NORST_API int fclose(FILE *stream)
{
    return fclose_hooked(stream, RETURN_ADDRESS());
}

int _IO_fclose(FILE *stream);
NORST_API int _IO_fclose(FILE *stream)
{
    return fclose_hooked(stream, RETURN_ADDRESS());
}
