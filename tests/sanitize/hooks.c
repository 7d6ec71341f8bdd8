/* Sanitizer settings that no environment variable can make, for make
 * check-asan. Built twice:
 *
 * hooks.o, linked into every program of the AddressSanitizer build.
 *   LeakSanitizer stops the threads and reads their registers through
 *   /proc/PID/task at exit; where /proc is hidden (t_proc_hidden mounts an
 *   empty tmpfs over it) it cannot, and it ends the process with
 *   "LeakSanitizer has encountered a fatal error". The runtimes also read
 *   their *_OPTIONS from /proc/self/environ, so no setting reaches a program
 *   started there: leak checking is off for exactly that case, and
 *   verify_asan_link_order=0 (hooks_host.so comes before the runtime) is
 *   compiled in.
 *
 * hooks_host.so (-DUNSANITIZED_HOST), preloaded ahead of the runtime into the
 *   programs the tests run with the shim that are not ours and not
 *   sanitized: sh, python3, perl, java... The leaks LeakSanitizer would find
 *   there are theirs (the shim allocates no memory), and in the JVM the leak
 *   check itself crashes. A sanitized program's own definition comes first
 *   and wins. Memory errors in the shim are still detected there.
 *
 * Both: GCC's UBSan runtime (libubsan) does not honour UBSAN_OPTIONS'
 * log_path next to libasan, whose __sanitizer_set_report_path takes its
 * call; the constructor calls libubsan's own, so that UBSan reports land in
 * the report directory too. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int __lsan_is_turned_off(void);

int __lsan_is_turned_off(void)
{
#ifdef UNSANITIZED_HOST
    return 1;
#else
    return access("/proc/self/task", R_OK) != 0;
#endif
}

#ifndef UNSANITIZED_HOST
const char *__asan_default_options(void);

const char *__asan_default_options(void)
{
    return "verify_asan_link_order=0";
}
#endif

__attribute__((constructor)) static void ubsan_report_path(void)
{
    static char path[4096];
    const char *options = getenv("UBSAN_OPTIONS");
    const char *value = options ? strstr(options, "log_path=") : NULL;
    void *ubsan = dlopen("libubsan.so.1", RTLD_LAZY | RTLD_NOLOAD);
    void (*set_path)(const char *) =
        ubsan ? (void (*)(const char *))dlsym(ubsan, "__sanitizer_set_report_path") : NULL;
    if (!value || !set_path)
        return;
    value += strlen("log_path=");
    size_t len = strcspn(value, ":");
    if (len >= sizeof path)
        return;
    memcpy(path, value, len);
    set_path(path);
}
