/* systemd's system call sets, only for the calls the library makes, and
 * what a unit's SystemCallFilter= assignments leave of them.
 *
 * The sets' contents are those of systemd 252 (Debian 12:
 * "systemd-analyze syscall-filter"); a set that nests others is expanded
 * through nested[]. The library's calls are those docs/design.md lists
 * ("Sandboxes"), each with when it is made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

enum {
    SET_AIO, SET_BASIC_IO, SET_CHOWN, SET_CLOCK, SET_CPU_EMULATION, SET_DEBUG, SET_DEFAULT,
    SET_FILE_SYSTEM, SET_IO_EVENT, SET_IPC, SET_KEYRING, SET_MEMLOCK, SET_MODULE, SET_MOUNT,
    SET_NETWORK_IO, SET_OBSOLETE, SET_PKEY, SET_PRIVILEGED, SET_PROCESS, SET_RAW_IO, SET_REBOOT,
    SET_RESOURCES, SET_SETUID, SET_SIGNAL, SET_SWAP, SET_SYNC, SET_SYSTEM_SERVICE, SET_TIMER,
    SET_KNOWN, SET_COUNT
};

static const char *const set_names[SET_COUNT] = {
    "@aio", "@basic-io", "@chown", "@clock", "@cpu-emulation", "@debug", "@default",
    "@file-system", "@io-event", "@ipc", "@keyring", "@memlock", "@module", "@mount",
    "@network-io", "@obsolete", "@pkey", "@privileged", "@process", "@raw-io", "@reboot",
    "@resources", "@setuid", "@signal", "@swap", "@sync", "@system-service", "@timer", "@known",
};

#define BIT(set) (1ull << (set))

/* The sets each set includes besides its own calls. @known holds every
 * call, and is handled as such. */
static const unsigned long long nested[SET_COUNT] = {
    [SET_PRIVILEGED] = BIT(SET_CHOWN) | BIT(SET_CLOCK) | BIT(SET_MODULE) | BIT(SET_RAW_IO) |
                       BIT(SET_REBOOT) | BIT(SET_SWAP),
    [SET_SYSTEM_SERVICE] = BIT(SET_AIO) | BIT(SET_BASIC_IO) | BIT(SET_CHOWN) | BIT(SET_DEFAULT) |
                           BIT(SET_FILE_SYSTEM) | BIT(SET_IO_EVENT) | BIT(SET_IPC) |
                           BIT(SET_KEYRING) | BIT(SET_MEMLOCK) | BIT(SET_NETWORK_IO) |
                           BIT(SET_PROCESS) | BIT(SET_RESOURCES) | BIT(SET_SETUID) |
                           BIT(SET_SIGNAL) | BIT(SET_SYNC) | BIT(SET_TIMER),
};

/* Each call and the sets that list it by name. */
const struct library_call library_calls[] = {
    {"close", CALL_CLOSE, BIT(SET_BASIC_IO) | BIT(SET_FILE_SYSTEM)},
    {"close_range", CALL_CLOSE, BIT(SET_BASIC_IO)},
    {"read", CALL_CLOSE, BIT(SET_BASIC_IO)},
    {"write", CALL_CLOSE, BIT(SET_BASIC_IO)},
    {"pwrite64", CALL_CLOSE, BIT(SET_BASIC_IO)},
    {"dup3", CALL_CLOSE, BIT(SET_BASIC_IO)},
    {"openat", CALL_CLOSE, BIT(SET_FILE_SYSTEM)},
    {"mkdirat", CALL_CLOSE, BIT(SET_FILE_SYSTEM)},
    {"unlinkat", CALL_CLOSE, BIT(SET_FILE_SYSTEM)},
    {"getdents64", CALL_CLOSE, BIT(SET_FILE_SYSTEM)},
    {"readlinkat", CALL_CLOSE, BIT(SET_FILE_SYSTEM)},
    {"fstat", CALL_CLOSE, BIT(SET_FILE_SYSTEM)},
    {"fcntl", CALL_CLOSE, BIT(SET_FILE_SYSTEM)},
    {"ioctl", CALL_CLOSE, BIT(SET_SYSTEM_SERVICE)},
    {"mmap", CALL_CLOSE, BIT(SET_DEFAULT)},
    {"munmap", CALL_CLOSE, BIT(SET_DEFAULT)},
    {"nanosleep", CALL_CLOSE, BIT(SET_DEFAULT)},
    {"sched_yield", CALL_CLOSE, BIT(SET_DEFAULT)},
    {"getpid", CALL_CLOSE, BIT(SET_DEFAULT)},
    {"gettid", CALL_CLOSE, BIT(SET_DEFAULT)},
    {"geteuid", CALL_CLOSE, BIT(SET_DEFAULT)},
    {"getrlimit", CALL_CLOSE, BIT(SET_DEFAULT)},
    {"clock_gettime", CALL_CLOSE, BIT(SET_DEFAULT)},
    {"ppoll", CALL_CLOSE, BIT(SET_IO_EVENT)},
    {"socket", CALL_CLOSE, BIT(SET_NETWORK_IO)},
    {"connect", CALL_CLOSE, BIT(SET_NETWORK_IO)},
    {"getsockopt", CALL_CLOSE, BIT(SET_NETWORK_IO)},
    {"setsockopt", CALL_CLOSE, BIT(SET_NETWORK_IO)},
    {"getsockname", CALL_CLOSE, BIT(SET_NETWORK_IO)},
    {"getpeername", CALL_CLOSE, BIT(SET_NETWORK_IO)},
    {"shutdown", CALL_CLOSE, BIT(SET_NETWORK_IO)},
    {"recvfrom", CALL_CLOSE, BIT(SET_NETWORK_IO)},
    {"sendto", CALL_CLOSE, BIT(SET_NETWORK_IO)},
    {"tgkill", CALL_CLOSE, BIT(SET_PROCESS)},
    /* the background thread, its epoll set and eventfd (glibc's
     * pthread_create: clone3, mprotect, rt_sigprocmask; futex, madvise) */
    {"epoll_create1", CALL_THREAD, BIT(SET_IO_EVENT)},
    {"epoll_ctl", CALL_THREAD, BIT(SET_IO_EVENT)},
    {"epoll_pwait", CALL_THREAD, BIT(SET_IO_EVENT)},
    {"eventfd2", CALL_THREAD, BIT(SET_IO_EVENT)},
    {"clone3", CALL_THREAD, BIT(SET_PROCESS)},
    {"mprotect", CALL_THREAD, BIT(SET_DEFAULT)},
    {"rt_sigprocmask", CALL_THREAD, BIT(SET_SIGNAL)},
    {"futex", CALL_THREAD, BIT(SET_DEFAULT)},
    {"madvise", CALL_THREAD, BIT(SET_SYSTEM_SERVICE)},
    /* asked only when /proc/self/status says no filter at load */
    {"sched_setscheduler", CALL_UNFILTERED, BIT(SET_RESOURCES)},
    {"process_vm_readv", CALL_UNFILTERED, BIT(SET_IPC)},
};
const size_t library_call_count = sizeof library_calls / sizeof library_calls[0];

static int set_index(const char *name)
{
    for (int i = 0; i < SET_COUNT; i++)
        if (strcmp(set_names[i], name) == 0)
            return i;
    return -1;
}

/* The sets that hold a call listed in direct, with every set nesting them. */
static unsigned long long sets_holding(unsigned long long direct)
{
    unsigned long long all = direct;
    for (int i = 0; i < SET_COUNT; i++)
        if (nested[i] & direct)
            all |= BIT(i);
    return all | BIT(SET_KNOWN);
}

/* Whether the filter's word (a call, or an @set) names call c: 1, 0, or -1
 * for a set this table does not know. */
static int names_call(const char *word, const struct library_call *c)
{
    if (word[0] != '@')
        return strcmp(word, c->name) == 0;
    int set = set_index(word);
    return set < 0 ? -1 : (sets_holding(c->sets) & BIT(set)) != 0;
}

/* One assignment's words applied to allowed[]: listed calls are allowed
 * (deny: denied), whichever list the filter is. systemd's own order:
 * the first assignment sets the kind; an allow list starts from @default. */
static void apply(const char *value, int *kind, int *allowed, struct filter_result *r)
{
    int deny = value[0] == '~';
    char **words;
    size_t n = split_words(value + deny, &words);

    if (*kind == FILTER_NONE) {
        *kind = deny ? FILTER_DENY_LIST : FILTER_ALLOW_LIST;
        for (size_t i = 0; i < library_call_count; i++)
            allowed[i] = deny || names_call("@default", &library_calls[i]) == 1;
    }
    for (size_t w = 0; w < n; w++) {
        char *errno_suffix = strchr(words[w], ':'); /* "name:EPERM" */
        if (errno_suffix)
            *errno_suffix = '\0';
        for (size_t i = 0; i < library_call_count; i++) {
            int hit = names_call(words[w], &library_calls[i]);
            if (hit < 0 && !r->unknown[0])
                snprintf(r->unknown, sizeof r->unknown, "%s", words[w]);
            if (hit == 1)
                allowed[i] = !deny;
        }
        free(words[w]);
    }
    free(words);
}

void filter_evaluate(char *const *assignments, size_t count, struct filter_result *r)
{
    int kind = FILTER_NONE, allowed[sizeof library_calls / sizeof library_calls[0]];

    memset(r, 0, sizeof *r);
    for (size_t a = 0; a < count; a++) {
        if (!assignments[a][0]) { /* an empty assignment resets the filter */
            kind = FILTER_NONE;
            continue;
        }
        apply(assignments[a], &kind, allowed, r);
    }
    r->kind = kind;
    for (size_t i = 0; kind != FILTER_NONE && i < library_call_count; i++)
        if (!allowed[i])
            r->denied[library_calls[i].use] |= 1ull << i;
}
