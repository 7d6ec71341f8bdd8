/* The libc functions behind our hooks, looked up once with RTLD_NEXT.
 *
 * They are resolved in the constructor, before main; a hook that runs even
 * earlier (another library's constructor calling close) finds its pointer
 * NULL and uses the raw system call instead, so nothing here needs dlsym on
 * the close path. close_range and closefrom are glibc 2.34 additions: on an
 * older libc their pointers stay NULL and the raw system call stands in. */
#include <dlfcn.h>

#include "compat.h"
#include "norst.h"

NORST_OLD_SYMBOL(dlsym);

struct real_fns real;

void *real_lookup(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

void real_resolve(void)
{
    real.close = (int (*)(int))real_lookup("close");
    real.fclose = (int (*)(void *))real_lookup("fclose");
    real.dup2 = (int (*)(int, int))real_lookup("dup2");
    real.dup3 = (int (*)(int, int, int))real_lookup("dup3");
    real.close_range = (int (*)(unsigned, unsigned, int))real_lookup("close_range");
    real.closefrom = (void (*)(int))real_lookup("closefrom");
    real.syscall = (long (*)(long, ...))real_lookup("syscall");
}
