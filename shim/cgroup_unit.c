/* The systemd unit, or else the cgroup, a /proc/PID/cgroup text names: pure,
 * so that the tests can give it the texts of the machines they do not run
 * on (cgroup v2, v1 with systemd's hierarchy, a container's). */
#include <string.h>

#include "cgroup_unit.h"

/* The cgroup path of the line "hierarchy:controllers:path" that names the
 * process's place best: the unified hierarchy's ("0::"), else systemd's
 * own v1 hierarchy's, else the first that is not the root. */
static const char *cgroup_path(char *text)
{
    const char *best = NULL;
    int best_rank = 0;
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *path = strchr(line, ':') ? strchr(strchr(line, ':') + 1, ':') : NULL;
        if (path && strcmp(++path, "/") != 0) {
            int rank = strncmp(line, "0::", 3) == 0               ? 3
                       : strstr(line, ":name=systemd:") != NULL ? 2
                                                                : 1;
            if (rank > best_rank) {
                best = path;
                best_rank = rank;
            }
        }
        line = next;
    }
    return best;
}

static int ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* The innermost unit on the path (systemd names a service's or a scope's
 * cgroup after it: /system.slice/redis-server.service), else the path. */
static void unit_of(const char *path, char *unit, size_t cap)
{
    const char *found = NULL;
    size_t found_len = 0;
    for (const char *p = path; *p;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (ends_with(p, len, ".service") || ends_with(p, len, ".scope")) {
            found = p;
            found_len = len;
        }
        p += len + (end != NULL);
    }
    if (!found) {
        found = path;
        found_len = strlen(path);
    }
    if (found_len >= cap)
        found_len = cap - 1;
    memcpy(unit, found, found_len);
    unit[found_len] = '\0';
}

void cgroup_unit(char *text, char *unit, size_t cap)
{
    const char *path = cgroup_path(text);
    unit[0] = '\0';
    if (path && cap > 0)
        unit_of(path, unit, cap);
}
