/* The norst command: the pieces shared between its source files.
 *
 *   norst.c    options, finding libnorst.so, LD_PRELOAD, exec;
 *   elfinfo.c  what a program's ELF headers say about interposing close();
 *   report.c   "norst report": a summary of JSON-lines event logs;
 *   report_out.c  its output, text or JSON (report.h: what they share);
 *   resolve.c  report --resolve: frames named by addr2line;
 *   log_input.c   the logs it reads, gzip'd ones through gzip -dc;
 *   tally.c    counting strings in a bounded table;
 *   json.c     a small strict parser for one JSON object per line;
 *   status.c   "norst status": the live counters of running processes;
 *   check.c    "norst check": what would stop the library in a unit or a command;
 *   unit_settings.c  a systemd unit's settings, from systemctl or its files;
 *   syscall_sets.c   systemd's system call sets, for the calls the library makes;
 *   trace*.c   "norst trace": every RST the kernel sends (trace.h).
 */
#ifndef NORST_TOOL_H
#define NORST_TOOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* ---- helpers (norst.c) ---- */
void *xrealloc(void *ptr, size_t size); /* exits with status 1 when out of memory */
char *xstrdup(const char *s);
/* The library's absolute path (malloc'ed) as norst finds it, or NULL with
 * a message in why (the search, or a bad $NORST_LIBRARY). */
char *library_find(char *why, size_t why_len);
/* The file execvp would run (malloc'ed), or NULL with *err ENOENT (nothing
 * there) or EACCES (found, not executable). */
char *resolve_command(const char *cmd, int *err);
/* Whether a and b name the same file. */
int same_file(const char *a, const char *b);

/* ---- ELF inspection (elfinfo.c) ---- */
#define ELF_BUILD_ID_MAX 64 /* bytes of a build-id kept (GNU ld writes 20) */
struct elf_info {
    int elf_class;    /* ELFCLASS32 or ELFCLASS64 */
    unsigned machine; /* e_machine */
    int has_interp;   /* a PT_INTERP program header: dynamically linked */
    int is_go;        /* a .go.buildinfo or .note.go.buildid section, or a Go build-id note */
    char build_id[2 * ELF_BUILD_ID_MAX + 1]; /* the GNU build-id note, hex; "" if none */
    int has_symtab;     /* a .symtab: not stripped */
    int has_debug_info; /* DWARF: .debug_info */
};
/* 1: path is an ELF executable or shared object, *out filled in;
 * 0: not ELF (a script, say) or unreadable; never fails otherwise. */
int elf_inspect(const char *path, struct elf_info *out);
/* 1 and *vaddr: the virtual address the file offset is loaded at (from the
 * PT_LOAD program headers), as addr2line takes it; 0 if none holds it. */
int elf_vaddr_of(const char *path, uint64_t offset, uint64_t *vaddr);

/* Why preloading lib (may be NULL) into the program at file cannot work:
 * a set of these (0: nothing seen; a file that is not ELF is a script,
 * whose interpreter is what runs). Shared by the warnings before a run
 * and norst check. */
enum preload_obstacle {
    OBSTACLE_SETUID = 1,
    OBSTACLE_SETGID = 2,
    OBSTACLE_STATIC = 4,
    OBSTACLE_GO = 8,
    OBSTACLE_OTHER_ARCH = 16,
};
unsigned preload_obstacles(const char *file, const char *lib);
/* "is statically linked: LD_PRELOAD cannot ...", to follow the file's name
 * (in buf when it names lib). */
const char *preload_obstacle_text(enum preload_obstacle which, const char *lib, char *buf,
                                  size_t len);

/* ---- JSON (json.c) ---- */
enum json_type { JSON_ABSENT, JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_OTHER };
struct json_field {
    const char *name;   /* the key to capture; set by the caller */
    enum json_type type;
    char *str;          /* JSON_STRING: the decoded value, NUL-terminated (malloc'ed) */
    double num;         /* JSON_NUMBER */
    const char *raw;    /* the value's text in the parsed line, raw_len bytes */
    size_t raw_len;
};
/* Parses text[0..len) as exactly one JSON object (surrounding white space
 * allowed). Top-level members named in fields[] are captured (the last of
 * duplicate keys wins); everything else is validated and skipped.
 * Returns 0, or -1 when the text is not a valid object. */
int json_parse_object(const char *text, size_t len, struct json_field *fields, size_t nfields);
void json_fields_clear(struct json_field *fields, size_t nfields);
/* text[0..len) as an array of objects: each element's members named in
 * fields[] captured, then each(ctx, fields). Returns 0, or -1 when the text
 * is not such an array (the elements before the fault were seen). */
int json_each_object(const char *text, size_t len, struct json_field *fields, size_t nfields,
                     void (*each)(void *ctx, const struct json_field *fields), void *ctx);
/* s as a JSON string literal: quotes, backslashes, control bytes escaped. */
void json_put_str(FILE *out, const char *s);

/* ---- counting strings (tally.c) ---- */
struct tally {
    char *key;
    unsigned long count;
    char *sample;       /* the caller's, malloc'ed: what else the first event said */
};
struct table {
    struct tally *slot;
    size_t cap, used;
    size_t max;           /* distinct keys kept; set by the caller */
    unsigned long others; /* events whose key came past max */
};
/* Counts key once: its entry, or NULL when it is new and the table full. */
struct tally *table_add(struct table *t, const char *key);
/* Packs the entries to the front (used of them), most counted first, ties
 * by key; the table takes no more adds after. */
void table_sort(struct table *t);
void table_free(struct table *t);

/* ---- the logs norst report reads (log_input.c) ---- */
struct log_input {
    FILE *file;
    const char *name; /* for messages */
    pid_t gzip;       /* the gzip -dc that feeds file, or -1 */
};
/* path, "-" for standard input; a gzip'd file through gzip -dc. 0, or -1
 * after a message on stderr. */
int log_input_open(struct log_input *in, const char *path);
/* Closes, and checks that gzip read it all; read_errno: 0, or why reading
 * the file failed. 0, or -1 after a message on stderr. */
int log_input_close(struct log_input *in, int read_errno);

/* ---- norst report (report.c) ---- */
int report_main(int argc, char **argv);

/* ---- norst status (status.c) ---- */
int status_main(int argc, char **argv);

/* ---- a systemd unit's settings (unit_settings.c) ---- */
struct unit_assignment {
    char *key, *value;
};
struct unit_settings {
    char *name;   /* "foo.service" */
    char *source; /* what was read: the unit's files, or systemctl show */
    struct unit_assignment *set; /* the [Service] assignments in the order systemd reads them */
    size_t count;
    int from_systemctl; /* values as systemctl show prints them (lists expanded) */
};
/* dirs: a colon-separated unit search path to read the files from; NULL:
 * systemctl show where systemd runs, else the standard directories.
 * 0, or -1 after a message on stderr. */
int unit_settings_read(const char *unit, const char *dirs, struct unit_settings *out);
void unit_settings_free(struct unit_settings *u);
/* The last assignment's value of key, or NULL. */
const char *unit_last(const struct unit_settings *u, const char *key);
/* The words of key's assignments, an empty assignment dropping those
 * before it, as systemd builds a list setting; their count, *words
 * malloc'ed (free each and the array). */
size_t unit_list(const struct unit_settings *u, const char *key, char ***words);
/* value split at white space, "double" and 'single' quotes and backslash
 * escapes as systemd reads a list; the count, *words malloc'ed. */
size_t split_words(const char *value, char ***words);

/* ---- systemd's system call sets (syscall_sets.c) ---- */
enum call_use {
    CALL_CLOSE,      /* in close() itself, always */
    CALL_THREAD,     /* by the background thread, when the library starts it */
    CALL_UNFILTERED, /* only when no seccomp filter was in place at load */
    CALL_USE_COUNT
};
struct library_call {
    const char *name;
    enum call_use use;
    unsigned long long sets; /* the systemd sets that list it (bits of syscall_sets.c) */
};
extern const struct library_call library_calls[];
extern const size_t library_call_count;
enum filter_kind { FILTER_NONE, FILTER_ALLOW_LIST, FILTER_DENY_LIST };
struct filter_result {
    enum filter_kind kind;
    unsigned long long denied[CALL_USE_COUNT]; /* bits: indices into library_calls */
    char unknown[64]; /* the first @set not in the table, whose calls are not known */
};
/* The SystemCallFilter= assignments, in order, applied as systemd does. */
void filter_evaluate(char *const *assignments, size_t count, struct filter_result *r);

/* ---- norst check (check.c) ---- */
int check_main(int argc, char **argv);

/* ---- norst trace (trace.c) ---- */
int trace_main(int argc, char **argv);

#endif
