/* fclose() closes its fd inside libc (__close_nocancel), never through the
 * close symbol, so a stream over a TCP socket needs its own hook. */
#include <stdio.h>

#include "norst.h"

static int fclose_hooked(FILE *stream, const void *caller)
{
    struct close_event ev;
    int fd = stream ? fileno_unlocked(stream) : -1;
    int recorded = 0;

    if (!real.fclose)
        real.fclose = (int (*)(void *))real_lookup("fclose");
    if (fd >= 0 && norst_ready) {
        /* Buffered output must leave before our FIN does. fclose would flush
         * it anyway; flushing first only moves that earlier. */
        fflush(stream);
        recorded = close_path_begin(fd, PATH_FCLOSE, caller, &ev);
        if (recorded)
            close_path_act(&ev, 1, linger_deadline());
        fdtab_forget(fd);
    }
    int ret = real.fclose(stream);
    if (recorded)
        close_path_end(&ev);
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
