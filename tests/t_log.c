/* NORST_LOG: a file is created 0600 and appended to, one line per event
 * with time, pid, fd, both addresses (IPv4 and IPv6), unread bytes, action
 * and outcome; NORST_LOG_FORMAT=json writes one object per line. A planted
 * symlink is refused, not followed, and the refusal is said in words. A log
 * rotated away (logrotate's create mode: rename, then a new file at the
 * path) is followed: the next events land in the new file; a new file that
 * cannot be opened is said once, and the old one goes on. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

/* The lines in a file (0 when it is missing). */
static int lines_in_file(const char *path)
{
    static char text[65536];
    text[0] = '\0';
    if (access(path, F_OK) == 0)
        read_text_file(path, text, sizeof text);
    return count_of(text, "\n");
}

/* One connection to the echo server (it reads a byte and closes: an
 * event), then until file holds want lines, at most 3 s: the reaper writes
 * the event once the drain is over. */
static void one_event(const char *file, int want)
{
    char out[4096];
    const char *client[] = {"./echo-client", "127.0.0.1", "5000", "hello-world", NULL};
    run_client(client, out, sizeof out);
    for (int waited = 0; lines_in_file(file) < want && waited < 3000; waited += 20)
        sleep_ms(20);
}

static void rotation_case(const char *path)
{
    char setting[96], first[80], second[80];
    const char *env[] = {setting, NULL};
    const char *server_argv[] = {"./echo-server", "-n", "4", "5000", NULL};
    struct proc server;

    snprintf(setting, sizeof setting, "NORST_LOG=%s", path);
    snprintf(first, sizeof first, "%s.1", path);
    snprintf(second, sizeof second, "%s.2", path);
    unlink(path);
    unlink(first);
    unlink(second);

    case_begin("log file: rotated away, the next event goes to the new file at the path");
    proc_start(&server, 1, env, server_argv, 1);
    one_event(path, 1);
    CHECK(lines_in_file(path) == 1, "%d lines before the rotation", lines_in_file(path));

    /* logrotate's create mode: rename, then a new empty file */
    CHECK(rename(path, first) == 0, "rename");
    close(open(path, O_WRONLY | O_CREAT | O_EXCL, 0600));
    one_event(path, 1);
    CHECK(lines_in_file(path) == 1, "%d lines in the new file", lines_in_file(path));
    CHECK(lines_in_file(first) == 1, "%d lines in the rotated file", lines_in_file(first));

    /* moved away and nothing created: the old file goes on, none is made
     * (creating one could race logrotate's own create) */
    CHECK(rename(path, second) == 0, "rename");
    one_event(second, 2);
    CHECK(lines_in_file(second) == 2, "%d lines in the moved file", lines_in_file(second));
    CHECK(access(path, F_OK) != 0, "the library created a file at the path");

    /* a new file it must not open (a symlink): said once, in words, and
     * the old file goes on */
    CHECK(symlink(first, path) == 0, "symlink");
    one_event(second, 3);
    CHECK(lines_in_file(second) == 3, "%d lines in the moved file", lines_in_file(second));
    CHECK(lines_in_file(first) == 1, "%d lines through the symlink", lines_in_file(first));
    CHECK(proc_finish(&server, 5000) == 0, "server: %s", server.err);
    CHECK(contains(server.err, "libnorst: NORST_LOG=\"") &&
              contains(server.err, "\" names a new file that cannot be opened (Too many levels "
                                   "of symbolic links); still writing to the old one\n"),
          "stderr: %s", server.err);
    CHECK(count_of(server.err, "\n") == 1, "stderr: %s", server.err);
    unlink(path);
    unlink(first);
    unlink(second);
    case_end();
}

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
    CHECK(contains(x.server.err, "cannot open for appending (Too many levels of symbolic links)"),
          "stderr: %s", x.server.err);
    unlink(path);
    case_end();

    rotation_case(path);
    return harness_done();
}
