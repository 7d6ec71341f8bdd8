/* The real symbols' table (real.h): filled by the constructor, or slot by
 * slot by a hook that runs before it.
 *
 * The guard, after proxychains-ng's load_sym: dlsym(RTLD_NEXT) should find
 * the next object's definition, never one inside libnorst (the library
 * loaded twice, or a dlsym interposed by another library). Such a result is
 * never stored: the hook would call itself. One line on stderr names the
 * symbol; then the stand-in serves, or, where there is none, abort() when a
 * hook needs the symbol (not at load: a process that never calls it runs
 * on). */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "common.h"
#include "compat.h"
#include "real.h"
#include "stderr_sink.h"
#include "sys.h"

NORST_OLD_SYMBOL(dlsym);

#define REAL_NAME_(name, ret, params, policy) #name,
static const char *const names[REAL_SYM_COUNT] = {REAL_SYMBOLS(REAL_NAME_)};
#undef REAL_NAME_
#define REAL_POLICY_(name, ret, params, policy) policy,
static const enum real_policy policies[REAL_SYM_COUNT] = {REAL_SYMBOLS(REAL_POLICY_)};
#undef REAL_POLICY_

void *real_slot[REAL_SYM_COUNT];

/* Set once a slot has been looked up (its pointer, if any, stored first). */
static unsigned char looked_up[REAL_SYM_COUNT];
static int bound; /* the constructor's lookup ran */

/* Where libnorst lies in memory, from its ELF header to its end, as the
 * linker defines them for this object (hidden: never another object's).
 * dladdr would say the same, at the price of a walk of libc's symbols for
 * each lookup (a third of a millisecond per process, measured). */
extern const char __ehdr_start[] __attribute__((visibility("hidden")));
extern const char _end[] __attribute__((visibility("hidden")));

static int inside_libnorst(void *fn)
{
    return (const char *)fn >= __ehdr_start && (const char *)fn < _end;
}

static void complain(enum real_sym sym, const char *what)
{
    /* Before the constructor, fd 2 is still the one it will remember. */
    if (!__atomic_load_n(&bound, __ATOMIC_ACQUIRE))
        stderr_remember();
    struct iovec line[3] = {{"libnorst: ", 10},
                            {(void *)names[sym], strlen(names[sym])},
                            {(void *)what, strlen(what)}};
    stderr_writev(line, 3);
}

static void *look_up(enum real_sym sym)
{
    void *fn = dlsym(RTLD_NEXT, names[sym]);
    if (fn && inside_libnorst(fn)) {
        complain(sym, policies[sym] == MUST_EXIST
                          ? ": dlsym(RTLD_NEXT) found libnorst's own definition\n"
                          : ": dlsym(RTLD_NEXT) found libnorst's own definition; "
                            "using the stand-in\n");
        fn = NULL;
    }
    __atomic_store_n(&real_slot[sym], fn, __ATOMIC_RELAXED);
    __atomic_store_n(&looked_up[sym], 1, __ATOMIC_RELEASE);
    return fn;
}

void *real_lookup(enum real_sym sym)
{
    KEEP_ERRNO;
    void *fn = NULL;
    if (__atomic_load_n(&looked_up[sym], __ATOMIC_ACQUIRE))
        fn = __atomic_load_n(&real_slot[sym], __ATOMIC_RELAXED);
    else if (policies[sym] != BOUND_AT_LOAD)
        fn = look_up(sym);
    if (!fn && policies[sym] == MUST_EXIST) {
        complain(sym, ": no real function to call; aborting\n");
        abort();
    }
    return fn;
}

void real_bind_at_load(void)
{
    KEEP_ERRNO;
    for (int sym = 0; sym < REAL_SYM_COUNT; sym++)
        if (!__atomic_load_n(&looked_up[sym], __ATOMIC_ACQUIRE))
            look_up((enum real_sym)sym);
    __atomic_store_n(&bound, 1, __ATOMIC_RELEASE);
}

/* The real close, exactly once: Linux releases the fd even when close fails
 * with EINTR, so a retry could close a number another thread just got. */
int real_close_fd(int fd)
{
    if (REAL(close))
        return REAL(close)(fd);
    long ret = sys1(SYS_close, fd);
    if (ret < 0) {
        errno = (int)-ret;
        return -1;
    }
    return 0;
}

int raw_close_fd(int fd)
{
    long ret = sys1(SYS_close, fd);
    if (ret < 0) {
        errno = (int)-ret;
        return -1;
    }
    return 0;
}
