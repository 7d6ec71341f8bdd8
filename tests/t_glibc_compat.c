/* The library must load on a glibc without close_range/closefrom (before
 * 2.34): it may import no symbol version newer than the architecture's
 * baseline, and must not import those two at all (they are looked up at
 * run time and may be missing). */
#include <stdio.h>
#include <string.h>

#include "harness.h"

int main(void)
{
    char line[512];
    int newer = 0, imports_range = 0, lines = 0;
    case_begin("no glibc 2.34+ symbol versions, close_range/closefrom not imported");
    FILE *dump = popen("objdump -T ./libnorst.so", "r");
    CHECK(dump != NULL, "objdump");
    while (dump && fgets(line, sizeof line, dump)) {
        lines++;
        if (!strstr(line, "*UND*"))
            continue;
        const char *v = strstr(line, "GLIBC_2.");
        if (v) {
            int minor = 0;
            sscanf(v, "GLIBC_2.%d", &minor);
            if (minor > 17) {
                newer = 1;
                printf("    needs %s", line);
            }
        }
        if (strstr(line, " close_range\n") || strstr(line, " closefrom\n"))
            imports_range = 1;
    }
    if (dump)
        pclose(dump);
    CHECK(lines > 10, "objdump printed %d lines", lines);
    CHECK(!newer, "the library needs a symbol version newer than GLIBC_2.17");
    CHECK(!imports_range, "close_range or closefrom imported");
    case_end();
    return harness_done();
}
