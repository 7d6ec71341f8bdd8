/* The norst command: the pieces shared between its source files.
 *
 *   norst.c    options, finding libnorst.so, LD_PRELOAD, exec;
 *   elfinfo.c  what a program's ELF headers say about interposing close();
 *   report.c   "norst report": a summary of a JSON-lines event log;
 *   json.c     a small strict parser for one JSON object per line;
 *   status.c   "norst status": the live counters of running processes.
 */
#ifndef NORST_TOOL_H
#define NORST_TOOL_H

#include <stddef.h>

/* ---- helpers (norst.c) ---- */
void *xrealloc(void *ptr, size_t size); /* exits with status 1 when out of memory */
char *xstrdup(const char *s);

/* ---- ELF inspection (elfinfo.c) ---- */
struct elf_info {
    int elf_class;    /* ELFCLASS32 or ELFCLASS64 */
    unsigned machine; /* e_machine */
    int has_interp;   /* a PT_INTERP program header: dynamically linked */
    int is_go;        /* a .go.buildinfo or .note.go.buildid section, or a Go build-id note */
};
/* 1: path is an ELF executable or shared object, *out filled in;
 * 0: not ELF (a script, say) or unreadable; never fails otherwise. */
int elf_inspect(const char *path, struct elf_info *out);

/* ---- JSON (json.c) ---- */
enum json_type { JSON_ABSENT, JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_OTHER };
struct json_field {
    const char *name;   /* the key to capture; set by the caller */
    enum json_type type;
    char *str;          /* JSON_STRING: the decoded value, NUL-terminated (malloc'ed) */
    double num;         /* JSON_NUMBER */
};
/* Parses text[0..len) as exactly one JSON object (surrounding white space
 * allowed). Top-level members named in fields[] are captured (the last of
 * duplicate keys wins); everything else is validated and skipped.
 * Returns 0, or -1 when the text is not a valid object. */
int json_parse_object(const char *text, size_t len, struct json_field *fields, size_t nfields);
void json_fields_clear(struct json_field *fields, size_t nfields);

/* ---- norst report (report.c) ---- */
int report_main(int argc, char **argv);

/* ---- norst status (status.c) ---- */
int status_main(int argc, char **argv);

#endif
