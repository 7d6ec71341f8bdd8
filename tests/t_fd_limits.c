/* The library's fds must cost the application nothing it counts on: they
 * live at the top of the fd range (the application's first socket gets the
 * number it gets without the library), and sockets lingering in async mode
 * are given back when the application's open/pipe/epoll_create hits its fd
 * limit: it opens as many fds as without the library. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

static void run_hog(int with_shim, char *out, size_t outlen)
{
    struct proc hog;
    const char *env[] = {"NORST_ASYNC=1", "NORST_LINGER_MS=10000", NULL};
    const char *argv[] = {"/bin/sh", "-c", "ulimit -n 64 && exec ./tests/progs/fdhog 20 5000", NULL};
    int peers[20];

    proc_start(&hog, with_shim, env, argv, 1);
    for (int i = 0; i < 20; i++) {
        peers[i] = peer_connect(4, 5000);
        peer_send_pattern(peers[i], 10); /* then silent: the close lingers */
    }
    CHECK(proc_finish(&hog, 20000) == 0, "fdhog: %s", hog.err);
    for (int i = 0; i < 20; i++)
        close(peers[i]);
    snprintf(out, outlen, "%.400s", hog.out);
}

static void limit_with_lingering(void)
{
    char without[512], with[512];

    case_begin("async, limit 64, 20 sockets lingering: open, pipe and epoll_create1 as often as without");
    run_hog(0, without, sizeof without);
    run_hog(1, with, sizeof with);
    long opens = number_after(without, "opens=");
    CHECK(opens > 50, "without the library: %s", without);
    CHECK(number_after(with, "opens=") == opens && contains(with, "opens") &&
              number_after(with, "pipes=") == number_after(without, "pipes=") &&
              number_after(with, "epolls=") == number_after(without, "epolls="),
          "with: %s; without: %s", with, without);
    CHECK(contains(with, "opens=") && count_of(with, "errno=EMFILE") == 3, "errno: %s", with);
    case_end();
}

static void first_numbers(const char *name, const char *const *env)
{
    struct proc p;
    const char *argv[] = {"/bin/sh", "-c", "ulimit -n 16 && exec ./tests/progs/fdhog first", NULL};

    case_begin(name);
    proc_start(&p, 1, env, argv, 0);
    CHECK(proc_finish(&p, 5000) == 0, "fdhog: %s", p.err);
    CHECK(contains(p.out, "socket=3 open=4"), "%s %s", p.out, p.err);
    case_end();
}

int main(void)
{
    char setting[96];
    snprintf(setting, sizeof setting, "NORST_LOG=/tmp/norst-fd-limits-%d.log", (int)getpid());
    const char *log_file[] = {setting, NULL};
    const char *log_async[] = {setting, "NORST_ASYNC=1", NULL};

    limit_with_lingering();
    first_numbers("limit 16, NORST_LOG=file: the first socket is fd 3, as without the library", log_file);
    first_numbers("limit 16, NORST_LOG=file, async: the first socket is fd 3", log_async);
    unlink(setting + 10);
    return harness_done();
}
