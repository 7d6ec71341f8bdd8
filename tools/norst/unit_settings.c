/* A systemd unit's [Service] settings, as systemd would apply them: from
 * "systemctl show" where systemd runs (its effective values), else from
 * the unit file and its drop-ins, read in systemd's order (the first
 * directory of the search path that has the unit; then every .conf file of NAME.d
 * and of service.d, a file name in an earlier directory hiding the
 * same name in later ones, all sorted by file name). See systemd.unit(5). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tool.h"

static const char default_path[] =
    "/etc/systemd/system:/run/systemd/system:/lib/systemd/system:/usr/lib/systemd/system";

/* The settings norst check reads, asked of systemctl show. */
static const char *const shown[] = {
    "ExecStart", "Environment", "EnvironmentFiles", "ExecPaths", "NoExecPaths",
    "InaccessiblePaths", "SystemCallFilter", "SystemCallErrorNumber", "MemoryDenyWriteExecute",
    "RestrictAddressFamilies", "NoNewPrivileges", "ProtectHome", "PrivateTmp",
};

static void add(struct unit_settings *u, const char *key, size_t key_len, const char *value)
{
    u->set = xrealloc(u->set, (u->count + 1) * sizeof *u->set);
    u->set[u->count].key = xrealloc(NULL, key_len + 1);
    memcpy(u->set[u->count].key, key, key_len);
    u->set[u->count].key[key_len] = '\0';
    u->set[u->count].value = xstrdup(value);
    u->count++;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len && strchr(" \t\r\n", s[len - 1]))
        s[--len] = '\0';
    return s;
}

/* One unit file's [Service] assignments, a line ending in a backslash
 * continued on the next. */
static void read_unit_file(struct unit_settings *u, const char *path)
{
    FILE *f = fopen(path, "re");
    char *line = NULL, *joined = NULL;
    size_t cap = 0, joined_len = 0;
    int in_service = 0;

    if (!f)
        return;
    while (getline(&line, &cap, f) >= 0) {
        char *text = trim(line);
        size_t len = strlen(text);
        int more = len && text[len - 1] == '\\';
        if (more)
            text[--len] = ' ';
        if (!joined && (text[0] == '#' || text[0] == ';'))
            continue;
        joined = xrealloc(joined, joined_len + len + 1);
        memcpy(joined + joined_len, text, len + 1);
        joined_len += len;
        if (more)
            continue;
        text = trim(joined);
        if (text[0] == '[')
            in_service = strcmp(text, "[Service]") == 0;
        else if (in_service && strchr(text, '=')) {
            char *eq = strchr(text, '=');
            *eq = '\0';
            char *key = trim(text);
            add(u, key, strlen(key), trim(eq + 1));
        }
        free(joined);
        joined = NULL;
        joined_len = 0;
    }
    free(joined);
    free(line);
    fclose(f);
}

struct dropin {
    char *name, *path;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct dropin *)a)->name, ((const struct dropin *)b)->name);
}

/* dir/NAME.d/ *.conf into *list, except names already there. */
static void collect_dropins(const char *dir, const char *name, struct dropin **list, size_t *n)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.d", dir, name);
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        int seen = 0;
        if (len < 6 || strcmp(e->d_name + len - 5, ".conf") != 0)
            continue;
        for (size_t i = 0; i < *n && !seen; i++)
            seen = strcmp((*list)[i].name, e->d_name) == 0;
        if (seen)
            continue;
        *list = xrealloc(*list, (*n + 1) * sizeof **list);
        (*list)[*n].name = xstrdup(e->d_name);
        (*list)[*n].path = xrealloc(NULL, strlen(path) + len + 2);
        sprintf((*list)[*n].path, "%s/%s", path, e->d_name);
        (*n)++;
    }
    if (d)
        closedir(d);
}

static void append_source(struct unit_settings *u, const char *path)
{
    size_t old = u->source ? strlen(u->source) : 0;
    u->source = xrealloc(u->source, old + strlen(path) + 3);
    sprintf(u->source + old, "%s%s", old ? ", " : "", path);
}

/* The unit's fragment: the first directory that has it, else (an
 * instance "a@b.service") its template "a@.service". */
static char *find_fragment(const char *name, char **dirs, size_t ndirs, char *template_name)
{
    char path[PATH_MAX];
    struct stat st;
    const char *at = strchr(name, '@'), *dot = strrchr(name, '.');

    template_name[0] = '\0';
    if (at && dot && dot > at + 1)
        snprintf(template_name, NAME_MAX + 1, "%.*s%s", (int)(at + 1 - name), name, dot);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < ndirs; i++) {
            const char *try = pass ? template_name : name;
            if (!*try)
                continue;
            snprintf(path, sizeof path, "%s/%s", dirs[i], try);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
                return xstrdup(path);
        }
    return NULL;
}

static int read_files(const char *unit, const char *search, struct unit_settings *u)
{
    char *copy = xstrdup(search), *rest = copy, *dir, template_name[NAME_MAX + 1];
    char **dirs = NULL;
    size_t ndirs = 0;
    while ((dir = strsep(&rest, ":")))
        if (*dir) {
            dirs = xrealloc(dirs, (ndirs + 1) * sizeof *dirs);
            dirs[ndirs++] = dir;
        }
    char *fragment = find_fragment(u->name, dirs, ndirs, template_name);
    if (!fragment) {
        fprintf(stderr, "norst check: %s: no such unit in %s\n", unit, search);
        free(dirs);
        free(copy);
        return -1;
    }
    /* An alias (a symbolic link) takes the drop-ins of the name it points to too. */
    char *real = realpath(fragment, NULL);
    const char *real_name = real && strrchr(real, '/') ? strrchr(real, '/') + 1 : u->name;
    const char *names[] = {u->name, real_name, template_name, "service"};
    struct dropin *list = NULL;
    size_t n = 0;
    for (size_t i = 0; i < ndirs; i++)
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
            if (*names[k] && (k == 0 || strcmp(names[k], names[0]) != 0))
                collect_dropins(dirs[i], names[k], &list, &n);
    if (n) /* no drop-ins: list is NULL */
        qsort(list, n, sizeof *list, by_name);
    read_unit_file(u, fragment);
    append_source(u, fragment);
    for (size_t i = 0; i < n; i++) {
        read_unit_file(u, list[i].path);
        append_source(u, list[i].path);
        free(list[i].name);
        free(list[i].path);
    }
    free(list);
    free(real);
    free(fragment);
    free(dirs);
    free(copy);
    return 0;
}

/* systemctl show's effective values; -1 when systemctl cannot say (not
 * installed, no such unit loaded), and the files are read instead. */
static int read_systemctl(struct unit_settings *u)
{
    const char *argv[3 + 2 * sizeof shown / sizeof shown[0] + 4];
    size_t argc = 0;
    int pipefd[2], status, loaded = 0;

    argv[argc++] = "systemctl";
    argv[argc++] = "show";
    argv[argc++] = "--no-pager";
    argv[argc++] = "-p";
    argv[argc++] = "LoadState";
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        argv[argc++] = "-p";
        argv[argc++] = shown[i];
    }
    argv[argc++] = u->name;
    argv[argc] = NULL;
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 1);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 2);
        execvp(argv[0], (char **)argv);
        _exit(127);
    }
    close(pipefd[1]);
    FILE *f = pid > 0 ? fdopen(pipefd[0], "r") : NULL;
    char *line = NULL;
    size_t cap = 0;
    while (f && getline(&line, &cap, f) >= 0) {
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        char *value = trim(eq + 1);
        if (strncmp(line, "LoadState=", 10) == 0)
            loaded = strcmp(value, "loaded") == 0;
        else if (*value) /* an empty value: not set */
            add(u, line, (size_t)(eq - line), value);
    }
    free(line);
    if (f)
        fclose(f);
    else
        close(pipefd[0]);
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0 || !loaded) {
        for (size_t i = 0; i < u->count; i++) {
            free(u->set[i].key);
            free(u->set[i].value);
        }
        u->count = 0;
        return -1;
    }
    u->from_systemctl = 1;
    u->source = xstrdup("systemctl show");
    return 0;
}

int unit_settings_read(const char *unit, const char *dirs, struct unit_settings *out)
{
    memset(out, 0, sizeof *out);
    out->name = xrealloc(NULL, strlen(unit) + sizeof ".service");
    sprintf(out->name, "%s%s", unit, strchr(unit, '.') ? "" : ".service");
    /* sd_booted(): systemd runs as the init system */
    if (!dirs && access("/run/systemd/system", F_OK) == 0 && read_systemctl(out) == 0)
        return 0;
    return read_files(unit, dirs ? dirs : default_path, out);
}

void unit_settings_free(struct unit_settings *u)
{
    for (size_t i = 0; i < u->count; i++) {
        free(u->set[i].key);
        free(u->set[i].value);
    }
    free(u->set);
    free(u->name);
    free(u->source);
}

const char *unit_last(const struct unit_settings *u, const char *key)
{
    const char *value = NULL;
    for (size_t i = 0; i < u->count; i++)
        if (strcmp(u->set[i].key, key) == 0)
            value = u->set[i].value;
    return value;
}

size_t unit_list(const struct unit_settings *u, const char *key, char ***words)
{
    size_t n = 0;
    *words = NULL;
    for (size_t i = 0; i < u->count; i++) {
        if (strcmp(u->set[i].key, key) != 0)
            continue;
        char **more;
        size_t k = split_words(u->set[i].value, &more);
        if (k == 0) { /* "Key=": the list so far is dropped */
            while (n)
                free((*words)[--n]);
        }
        *words = xrealloc(*words, (n + k) * sizeof **words);
        if (k)
            memcpy(*words + n, more, k * sizeof *more);
        n += k;
        free(more);
    }
    return n;
}

size_t split_words(const char *value, char ***words)
{
    size_t n = 0;
    *words = NULL;
    for (const char *p = value;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            return n;
        char *word = xrealloc(NULL, strlen(p) + 1);
        size_t len = 0;
        char quote = 0;
        for (; *p && (quote || (*p != ' ' && *p != '\t')); p++) {
            if (quote && *p == quote)
                quote = 0;
            else if (!quote && (*p == '"' || *p == '\''))
                quote = *p;
            else if (*p == '\\' && p[1])
                word[len++] = *++p;
            else
                word[len++] = *p;
        }
        word[len] = '\0';
        *words = xrealloc(*words, (n + 1) * sizeof **words);
        (*words)[n++] = word;
    }
}
