/* Configuration only through secure_getenv: in a set-user-ID or otherwise
 * secure-mode program the NORST_* variables are ignored, so an unprivileged
 * user cannot point a privileged program's log at a file of their choice.
 * (The log file's own protections, O_NOFOLLOW and mode 0600, are in t_log;
 * that the peer's bytes never reach the log is in t_hostile.) Checked on
 * the library's imports: secure_getenv, and no getenv. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

int main(void)
{
    char line[512];
    int secure = 0, plain = 0;
    case_begin("configuration is read with secure_getenv, never getenv");
    FILE *dump = popen("objdump -T ./libnorst.so", "r");
    while (dump && fgets(line, sizeof line, dump)) {
        secure += strstr(line, " secure_getenv\n") != NULL;
        plain += strstr(line, " getenv\n") != NULL;
    }
    if (dump)
        pclose(dump);
    CHECK(secure == 1 && plain == 0, "secure_getenv imported %d times, getenv %d times", secure, plain);
    case_end();
    return harness_done();
}
