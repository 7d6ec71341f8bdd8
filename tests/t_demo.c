/* make demo, as a newcomer reads it: every line fits 80 columns; each of
 * the three cases shows the reset without the library and a clean close
 * with it; the third case says why a successful exchange resets; and it
 * ends with the norst command and the log line that command produced. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

static int longest_line(const char *text)
{
    int longest = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        int len = end ? (int)(end - line) : (int)strlen(line);
        if (len > longest)
            longest = len;
        line += len + (end != NULL);
    }
    return longest;
}

int main(void)
{
    static struct proc p;
    /* the tests run in a network namespace of their own already */
    const char *env[] = {"NORST_DEMO_IN_NS=1", NULL};
    const char *argv[] = {"/bin/sh", "../tools/demo.sh", ".", NULL};

    case_begin("make demo: 80 columns, three cases reset without and close cleanly with");
    proc_start(&p, 0, env, argv, 0);
    CHECK(proc_finish(&p, 30000) == 0, "status %#x, stderr %s", p.status, p.err);
    CHECK(longest_line(p.out) <= 80, "a line of %d columns:\n%s", longest_line(p.out), p.out);
    CHECK(count_of(p.out, "   connection     reset (RST)                    closed cleanly (FIN)\n") == 3,
          "%s", p.out);
    CHECK(count_of(p.out, "   resets sent    1                              0\n") == 3, "%s", p.out);
    CHECK(count_of(p.out, "   verdict read   ERROR                          ERROR\n") == 1, "%s", p.out);
    CHECK(contains(p.out, "   verdict read   OK ") || contains(p.out, "   verdict read   (none) "),
          "%s", p.out);
    CHECK(contains(p.out, "the sixth is unread"), "the third case is not explained: %s", p.out);
    CHECK(p.err[0] == '\0', "stderr: %s", p.err);
    case_end();

    case_begin("make demo ends with the norst command and the log line it wrote");
    const char *command = strstr(p.out, "   ./norst -l stderr -- ./echo-server -n 1 7100\n");
    const char *line = strstr(p.out, "\n   libnorst: 20");
    CHECK(command != NULL, "no norst command: %s", p.out);
    CHECK(line != NULL && line > command, "no log line after it: %s", p.out);
    CHECK(line && contains(line, "action=drain") && contains(line, "outcome=peer-eof"), "%s",
          p.out);
    case_end();
    return harness_done();
}
