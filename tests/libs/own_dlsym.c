/* Preloaded ahead of libnorst: a dlsym that answers libnorst's lookup of
 * the symbol named in OWN_SYMBOL with libnorst's own definition, which is
 * what dlsym(RTLD_NEXT) finds when the lookup order goes wrong. Every other
 * RTLD_NEXT lookup is answered from libc. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#if defined(__aarch64__)
#define BASE_VERSION "GLIBC_2.17"
#else
#define BASE_VERSION "GLIBC_2.2.5"
#endif

void *dlsym(void *handle, const char *name)
{
    static void *(*libc_dlsym)(void *, const char *);
    if (!libc_dlsym)
        libc_dlsym = (void *(*)(void *, const char *))dlvsym(RTLD_NEXT, "dlsym", BASE_VERSION);
    if (handle != RTLD_NEXT)
        return libc_dlsym(handle, name);
    const char *own = getenv("OWN_SYMBOL");
    if (own && strcmp(name, own) == 0)
        return libc_dlsym(RTLD_DEFAULT, name); /* the first definition: libnorst's */
    return libc_dlsym(dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD), name);
}
