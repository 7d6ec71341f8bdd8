/* Bind libc symbols to their original versions.
 *
 * Built against glibc 2.34+, dlsym and the pthread calls below would be
 * bound to GLIBC_2.34 (when libdl and libpthread moved into libc) and the
 * library would not load on an older libc. The original versions exist in
 * every glibc: in libdl/libpthread before 2.34, as compatibility symbols in
 * libc after. The Makefile links libdl.so.2 and libpthread.so.0 explicitly
 * so that an older loader finds them. */
#ifndef NORST_COMPAT_H
#define NORST_COMPAT_H

#include <features.h>

/* musl (make CC=musl-gcc) has no symbol versions: the plain names. */
#if !defined(__GLIBC__)
#elif defined(__x86_64__)
#define NORST_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define NORST_GLIBC_BASE "GLIBC_2.17"
#endif

#ifdef NORST_GLIBC_BASE
#define NORST_OLD_SYMBOL(name) __asm__(".symver " #name "," #name "@" NORST_GLIBC_BASE)
#else
#define NORST_OLD_SYMBOL(name)
#endif

#endif
