/* libnorst(7)'s schema of the JSON log against the list the library writes
 * from (shim/event_fields.h): the same fields in the same order, each with
 * its kind, and for a field that takes names, exactly the names the code
 * has. The page lists the fields as ".TP" / ".B field" / "kind: meaning",
 * and a field's names in an indented list (".RS", ".TP" / ".B name"...). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../shim/event_fields.h"
#include "harness.h"

#define MAN_PAGE "../docs/libnorst.7"
#define MAX_DOCUMENTED 64

/* How the page names each kind: the words that start a field's text. */
static const char *const kind_words[] = {
    [FIELD_STRING] = "string",
    [FIELD_NUMBER] = "number",
    [FIELD_NAME] = "name",
    [FIELD_BOOL_OR_NULL] = "true, false or null",
    [FIELD_STRING_OR_NULL] = "string or null",
    [FIELD_ARRAY] = "array",
};

struct documented {
    char name[64];
    char text[256];   /* the first line of its description */
    char values[32][64];
    int nvalues;
};

static char *read_page(void)
{
    static char page[1 << 17];
    FILE *f = fopen(MAN_PAGE, "r");
    size_t len = f ? fread(page, 1, sizeof page - 1, f) : 0;
    CHECK(f && len > 0 && len < sizeof page - 1, "reading %s", MAN_PAGE);
    if (f)
        fclose(f);
    page[len] = '\0';
    return page;
}

/* "skip\-shared" -> "skip-shared" */
static void unescape(char *out, size_t cap, const char *in, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap; i++)
        if (!(in[i] == '\\' && i + 1 < len && in[i + 1] == '-'))
            out[n++] = in[i];
    out[n] = '\0';
}

/* The line at *cursor, unescaped, into out; moves past it. 0 at the end. */
static int next_line(const char **cursor, char *out, size_t cap)
{
    const char *p = *cursor, *end = strchr(p, '\n');
    if (!*p)
        return 0;
    if (!end)
        end = p + strlen(p);
    unescape(out, cap, p, (size_t)(end - p));
    *cursor = *end ? end + 1 : end;
    return 1;
}

/* The tagged entries of the section "LOG FORMAT", subsection "JSON". */
static int read_schema(const char *page, struct documented *docs, int max)
{
    const char *p = strstr(page, "\n.SS JSON\n");
    char line[256], tag[256];
    int depth = 0, count = 0;
    CHECK(p, "no JSON subsection in %s", MAN_PAGE);
    if (!p)
        return 0;
    p += 1;
    while (next_line(&p, line, sizeof line) && strncmp(line, ".SH", 3) != 0) {
        depth += strncmp(line, ".RS", 3) == 0;
        depth -= strncmp(line, ".RE", 3) == 0;
        if (strcmp(line, ".TP") != 0 || !next_line(&p, tag, sizeof tag))
            continue;
        CHECK(strncmp(tag, ".B ", 3) == 0, "a tag that is not \".B name\": %s", tag);
        if (depth == 0 && count < max) {
            struct documented *d = &docs[count++];
            memset(d, 0, sizeof *d);
            snprintf(d->name, sizeof d->name, "%.63s", tag + 3);
            next_line(&p, d->text, sizeof d->text);
        } else if (depth == 1 && count > 0 && docs[count - 1].nvalues < 32) {
            struct documented *d = &docs[count - 1];
            snprintf(d->values[d->nvalues++], sizeof d->values[0], "%.63s", tag + 3);
        }
    }
    return count;
}

static int documents(const struct documented *d, const char *value)
{
    for (int i = 0; i < d->nvalues; i++)
        if (strcmp(d->values[i], value) == 0)
            return 1;
    return 0;
}

/* Exactly these names, in any order. */
static void check_names(const struct documented *d, const char *const *names, int count)
{
    CHECK(d->nvalues == count, "%s: %d names documented, %d in the code", d->name, d->nvalues,
          count);
    for (int i = 0; i < count; i++)
        CHECK(documents(d, names[i]), "%s: the name %s is not documented", d->name, names[i]);
}

/* Every share reason the page lists is one the library can write: a string
 * literal in its sources. */
static void check_reasons_exist(const struct documented *d)
{
    static char source[1 << 18];
    size_t len = 0;
    DIR *dir = opendir("../shim");
    struct dirent *e;
    CHECK(dir, "opening ../shim");
    while (dir && (e = readdir(dir))) {
        char path[300];
        size_t n = strlen(e->d_name);
        if (n < 3 || strcmp(e->d_name + n - 2, ".c") != 0)
            continue;
        snprintf(path, sizeof path, "../shim/%s", e->d_name);
        FILE *f = fopen(path, "r");
        CHECK(f, "reading %s", path);
        if (f) {
            len += fread(source + len, 1, sizeof source - 1 - len, f);
            fclose(f);
        }
    }
    if (dir)
        closedir(dir);
    source[len] = '\0';
    CHECK(d->nvalues > 0, "no share reasons documented");
    for (int i = 0; i < d->nvalues; i++) {
        char quoted[80];
        snprintf(quoted, sizeof quoted, "\"%s\"", d->values[i]);
        CHECK(strstr(source, quoted), "share reason %s is written nowhere", d->values[i]);
    }
}

int main(void)
{
    static struct documented docs[MAX_DOCUMENTED];

    case_begin("libnorst(7) lists the event's fields in order, with their kinds");
    int count = read_schema(read_page(), docs, MAX_DOCUMENTED);
    CHECK(count == EVENT_FIELD_COUNT, "%d fields documented, %d in event_fields.h", count,
          EVENT_FIELD_COUNT);
    for (int i = 0; i < count && i < EVENT_FIELD_COUNT; i++) {
        const char *kind = kind_words[event_fields[i].kind];
        size_t n = strlen(kind);
        CHECK(strcmp(docs[i].name, event_fields[i].json) == 0, "field %d: documented %s, is %s",
              i, docs[i].name, event_fields[i].json);
        char after = docs[i].text[n];
        CHECK(strncmp(docs[i].text, kind, n) == 0 && (after == ':' || after == ','),
              "%s: its text should start \"%s:\": %s", docs[i].name, kind, docs[i].text);
        CHECK(event_fields[i].kind == FIELD_NAME || docs[i].nvalues == 0,
              "%s is not a name but lists values", docs[i].name);
    }
    case_end();

    case_begin("libnorst(7) lists exactly the names of paths, actions, outcomes");
    if (count == EVENT_FIELD_COUNT) {
        check_names(&docs[EF_PATH], close_path_names,
                    sizeof close_path_names / sizeof *close_path_names);
        check_names(&docs[EF_ACTION], action_names, sizeof action_names / sizeof *action_names);
        check_names(&docs[EF_OUTCOME], outcome_names,
                    sizeof outcome_names / sizeof *outcome_names);
        check_reasons_exist(&docs[EF_SHARED]);
    }
    case_end();
    return harness_done();
}
