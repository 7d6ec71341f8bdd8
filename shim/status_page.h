/* The live counters' page: one small file per process that loaded the
 * library, mapped shared, read by "norst status". This header is the whole
 * format (library and command both include it); status_file.c makes the
 * library's page, status_name.c reads the start time for both.
 *
 * DIR/libnorst-EUID/PID-START, DIR being NORST_STATUS_DIR or /dev/shm,
 * START the process's start time in clock ticks since boot (field 22 of
 * /proc/PID/stat), so that a reused pid never reads as the old process. */
#ifndef NORST_STATUS_PAGE_H
#define NORST_STATUS_PAGE_H

#include <stddef.h>
#include <stdint.h>

#define STATUS_DEFAULT_DIR "/dev/shm"
#define STATUS_SUBDIR_PREFIX "libnorst-" /* then the effective uid */
#define STATUS_MAGIC "libnorst"          /* 8 bytes, no NUL; written last */
#define STATUS_VERSION 1
#define STATUS_PAGE_SIZE 4096
#define STATUS_NAME_MAX 24
#define STATUS_COUNTERS_MAX 32

/* Each counter names itself, so a newer library may add counters that an
 * older command still prints. Values only grow; the library adds to them
 * with relaxed atomic adds, the command reads them with plain loads of
 * aligned 64-bit words (never torn on the 64-bit targets the library has). */
struct status_counter {
    char name[STATUS_NAME_MAX]; /* [a-z0-9_], NUL-padded */
    uint64_t value;
};

struct status_page {
    char magic[8];     /* STATUS_MAGIC once the rest is filled in */
    uint32_t version;  /* STATUS_VERSION: the layout below */
    uint32_t size;     /* STATUS_PAGE_SIZE */
    int32_t pid;
    uint32_t uid;      /* effective, when the page was made */
    uint64_t start_ticks;
    int64_t made_at;   /* CLOCK_REALTIME seconds: at load; a forked child's at its first TCP close */
    char library[16];  /* the library's version */
    char mode[16];     /* NORST_MODE in force */
    uint32_t async;    /* NORST_ASYNC in force */
    uint32_t ncounters;
    char reserved[48];
    struct status_counter counters[STATUS_COUNTERS_MAX];
};
_Static_assert(sizeof(struct status_page) <= STATUS_PAGE_SIZE, "one page");

/* Field 22 of a /proc/PID/stat text; 0, or -1 when it cannot be read. */
int status_start_ticks(const char *stat_text, size_t len, unsigned long long *out);

#endif
