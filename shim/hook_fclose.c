/* fclose() closes its fd inside libc (__close_nocancel), never through the
 * close symbol, so a stream over a TCP socket needs its own hook. */
#include <stdio.h>

#include "norst.h"

static int fclose_hooked(FILE *stream, const void *caller)
{
    struct close_event ev;
    int fd = stream ? fileno_unlocked(stream) : -1;
    enum prepared how = PREP_NOTHING;

    if (fd >= 0 && norst_acting()) {
        /* Buffered output must leave before our FIN does. fclose would flush
         * it anyway; flushing first only moves that earlier. */
        fflush(stream);
        how = close_path_prepare(fd, PATH_FCLOSE, caller, &ev);
        fdtab_forget(fd);
    }
    int ret = REAL(real.fclose, "fclose")(stream);
    close_path_finish(&ev, how);
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
