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

/* ---- norst trace (trace.c) ---- */
int trace_main(int argc, char **argv);

#endif
