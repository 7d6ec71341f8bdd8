/* cgroup_unit(), the pure part of shim/identity.c's "unit" field, on the
 * /proc/PID/cgroup texts of machines the tests do not run on. */
#include <stdio.h>
#include <string.h>

#include "cgroup_unit.h"
#include "harness.h"

static const struct row {
    const char *why, *text, *unit;
} rows[] = {
    {"cgroup v2, a system service", "0::/system.slice/redis-server.service\n",
     "redis-server.service"},
    {"cgroup v2, a service's delegated subgroup", "0::/system.slice/foo.service/payload\n",
     "foo.service"},
    {"a user service under the user manager",
     "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-x.service\n", "app-x.service"},
    {"a login session's scope", "0::/user.slice/user-1000.slice/session-3.scope\n",
     "session-3.scope"},
    {"v1 with systemd's hierarchy (hybrid: unified at the root)",
     "12:pids:/system.slice/nginx.service\n1:name=systemd:/system.slice/nginx.service\n0::/\n",
     "nginx.service"},
    {"v1: systemd's hierarchy before any other",
     "4:memory:/docker/abc\n1:name=systemd:/system.slice/x.service\n", "x.service"},
    {"v1 without systemd: the first path that is not the root",
     "4:memory:/docker/3f2a\n3:cpu:/\n", "/docker/3f2a"},
    {"no unit on the path: the path", "0::/kubepods/besteffort/pod1/c0ffee\n",
     "/kubepods/besteffort/pod1/c0ffee"},
    {"a slice is not a unit a process runs in", "0::/machine.slice\n", "/machine.slice"},
    {"the root cgroup (a cgroup namespace): none", "0::/\n", ""},
    {"an empty or odd text: none", "garbage without colons\n", ""},
    {"no newline at the end", "0::/system.slice/a.service", "a.service"},
};

int main(void)
{
    case_begin("cgroup_unit: the innermost service or scope, else the path, else none");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char text[512], unit[192];
        snprintf(text, sizeof text, "%s", rows[i].text);
        cgroup_unit(text, unit, sizeof unit);
        CHECK(strcmp(unit, rows[i].unit) == 0, "%s: got \"%s\", want \"%s\"", rows[i].why, unit,
              rows[i].unit);
    }
    char text[] = "0::/system.slice/a-very-long-name.service\n", unit[8];
    cgroup_unit(text, unit, sizeof unit);
    CHECK(strcmp(unit, "a-very-") == 0, "cut to fit: got \"%s\"", unit);
    case_end();
    return harness_done();
}
