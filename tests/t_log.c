/* NORST_LOG: a file is created 0600 and appended to, one line per event
 * with time, pid, fd, both addresses (IPv4 and IPv6), unread bytes, action
 * and outcome; NORST_LOG_FORMAT=json writes one object per line. A planted
 * symlink is refused, not followed. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

static void logged_close(int family, const char *const *env, struct exchange *x)
{
    exchange_run(x, 1, env, family, "accept queued:10 read:1 close", 10);
    CHECK(x->server_status == 0, "server: %s", x->server.err);
}

int main(void)
{
    static char text[65536];
    char path[64], setting[96];
    static struct exchange x;
    struct stat st;
    const char *env[] = {setting, NULL, NULL};

    snprintf(path, sizeof path, "/tmp/norst-log-%d.log", (int)getpid());
    snprintf(setting, sizeof setting, "NORST_LOG=%s", path);
    unlink(path);

    case_begin("log file: created 0600, one text line per event, IPv4");
    logged_close(4, env, &x);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode %o", st.st_mode & 0777);
    read_text_file(path, text, sizeof text);
    CHECK(contains(text, "libnorst: 20") && contains(text, "Z pid="), "%s", text);
    CHECK(contains(text, " fd=4 path=close local=127.0.0.1:5000 peer=127.0.0.1:"), "%s", text);
    CHECK(contains(text, " unread=9 action=drain outcome=peer-eof drained=9 ms="), "%s", text);
    CHECK(contains(text, " rst=none"), "%s", text);
    CHECK(strchr(text, '\n') == text + strlen(text) - 1, "not exactly one line: %s", text);
    case_end();

    case_begin("log file: appended, IPv6 addresses in brackets");
    logged_close(6, env, &x);
    read_text_file(path, text, sizeof text);
    CHECK(contains(text, "local=[::1]:5000 peer=[::1]:"), "%s", text);
    CHECK(contains(text, "local=127.0.0.1:5000"), "first line lost: %s", text);
    case_end();

    case_begin("log file: JSON, one object per line");
    unlink(path);
    env[1] = "NORST_LOG_FORMAT=json";
    logged_close(6, env, &x);
    read_text_file(path, text, sizeof text);
    CHECK(text[0] == '{' && contains(text, "}\n"), "%s", text);
    CHECK(contains(text, "\"fd\":4,\"path\":\"close\",\"local\":\"[::1]:5000\",\"peer\":\"[::1]:"), "%s", text);
    CHECK(contains(text, "\"unread\":9,\"action\":\"drain\",\"outcome\":\"peer-eof\",\"drained\":9,"), "%s", text);
    CHECK(contains(text, "\"rst\":false"), "%s", text);
    env[1] = NULL;
    case_end();

    case_begin("log file: a symlink planted at the path is not followed");
    unlink(path);
    char target[80];
    snprintf(target, sizeof target, "%s.target", path);
    unlink(target);
    CHECK(symlink(target, path) == 0, "symlink");
    logged_close(4, env, &x);
    CHECK(access(target, F_OK) != 0, "the log was written through the symlink");
    CHECK(contains(x.server.err, "cannot open for appending"), "stderr: %s", x.server.err);
    unlink(path);
    case_end();
    return harness_done();
}
