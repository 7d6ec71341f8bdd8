/* make install / make uninstall, staged under DESTDIR with PREFIX=/usr: the
 * five files land with their modes (the drop-in template naming PREFIX/lib), the installed norst preloads the
 * installed library (found as ../lib from itself) and stops the seed echo
 * server's reset, its compiled-in library directory is PREFIX/lib, and
 * uninstall removes the files.
 *
 * The build for the install goes to a directory of its own (B=...), so the
 * build tree under test is not rebuilt with another PREFIX. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static char tmpdir[] = "/tmp/norst-install-XXXXXX";
static char dest[64], build[64];

static const struct {
    const char *path; /* under DESTDIR */
    unsigned mode;
} installed[] = {
    {"/usr/lib/libnorst.so", 0755},
    {"/usr/bin/norst", 0755},
    {"/usr/share/man/man1/norst.1", 0644},
    {"/usr/share/man/man7/libnorst.7", 0644},
    {"/usr/share/libnorst/systemd/norst.conf", 0644},
};
#define N_INSTALLED (sizeof installed / sizeof installed[0])

/* make TARGET in the source directory (the runner starts us in build/),
 * outside the make that runs the tests. Returns the exit status. */
static int make(const char *target, struct proc *p)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "unset MAKEFLAGS MFLAGS MAKELEVEL; exec make -s -C .. %s DESTDIR=%s PREFIX=/usr B=%s",
             target, dest, build);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    proc_start(p, 0, NULL, argv, 0);
    return proc_finish(p, 120000);
}

static void staged(char *out, size_t len, const char *path)
{
    snprintf(out, len, "%s%s", dest, path);
}

static void case_install(void)
{
    struct proc p;
    char path[256];
    struct stat st;

    case_begin("make install DESTDIR=... PREFIX=/usr: five files, their modes");
    CHECK(access("../Makefile", R_OK) == 0 && access("../mk/install.mk", R_OK) == 0,
          "the source directory is not ..");
    int status = make("install", &p);
    CHECK(status == 0, "make install: status %d\n%s%s", status, p.out, p.err);
    for (size_t i = 0; i < N_INSTALLED; i++) {
        staged(path, sizeof path, installed[i].path);
        CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode), "%s missing", path);
        CHECK((st.st_mode & 07777) == installed[i].mode, "%s: mode %o, want %o", path,
              st.st_mode & 07777, installed[i].mode);
    }
    char text[4096] = "";
    staged(path, sizeof path, "/usr/share/libnorst/systemd/norst.conf");
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    CHECK(contains(text, "\nEnvironment=LD_PRELOAD=/usr/lib/libnorst.so\n") &&
              contains(text, "\nExecPaths=-/usr/lib/libnorst.so\n") &&
              !contains(text, "/usr/local/lib"),
          "the installed template does not name /usr/lib/libnorst.so:\n%s", text);
    case_end();
}

static void case_installed_norst(void)
{
    struct proc p;
    char norst[256], lib[256], resolved[PATH_MAX], want[PATH_MAX + 2], alone[128], cmd[512];

    case_begin("the installed norst preloads the installed library");
    staged(norst, sizeof norst, "/usr/bin/norst");
    staged(lib, sizeof lib, "/usr/lib/libnorst.so");
    snprintf(want, sizeof want, "%s\n", realpath(lib, resolved) ? resolved : lib);
    const char *echo[] = {norst, "--", "sh", "-c", "echo \"$LD_PRELOAD\"", NULL};
    proc_start(&p, 0, NULL, echo, 0);
    CHECK(proc_finish(&p, 10000) == 0, "status; stderr %s", p.err);
    CHECK(strcmp(p.out, want) == 0, "LD_PRELOAD %s, want %s", p.out, want);

    /* Alone, with no ../lib next to it, it falls back to PREFIX/lib. */
    snprintf(alone, sizeof alone, "%s/norst", tmpdir);
    snprintf(cmd, sizeof cmd, "cp %s %s", norst, alone);
    CHECK(system(cmd) == 0, "%s", cmd);
    const char *moved[] = {alone, "--", "sh", "-c", "echo \"$LD_PRELOAD\"", NULL};
    proc_start(&p, 0, NULL, moved, 0);
    int status = proc_finish(&p, 10000);
    if (access("/usr/lib/libnorst.so", R_OK) == 0) {
        CHECK(status == 0 && strcmp(p.out, "/usr/lib/libnorst.so\n") == 0, "got %s", p.out);
    } else {
        CHECK(status == 1, "status %d", status);
        CHECK(contains(p.err, "in /usr/lib)"), "stderr %s", p.err);
    }
    case_end();
}

static void case_on_the_wire(void)
{
    char norst[256], out[4096];
    struct proc server;
    struct counters before;

    case_begin("installed norst -- echo-server: orderly EOF, no RST");
    staged(norst, sizeof norst, "/usr/bin/norst");
    const char *server_argv[] = {norst, "--", "./echo-server", "-n", "1", "5000", NULL};
    const char *client_argv[] = {"./echo-client", "127.0.0.1", "5000", "hello-world", NULL};
    counters_read(&before);
    proc_start(&server, 0, NULL, server_argv, 1);
    int status = run_client(client_argv, out, sizeof out);
    CHECK(proc_finish(&server, 5000) == 0, "server exit: %s", server.err);
    struct counters delta = counters_since(&before);
    CHECK(status == 1 && contains(out, "orderly EOF"), "client status %d: %s", status, out);
    CHECK(delta.out_rsts == 0, "OutRsts %ld", delta.out_rsts);
    CHECK(delta.abort_on_close == 0, "AbortOnClose %ld", delta.abort_on_close);
    case_end();
}

static void case_uninstall(void)
{
    struct proc p;
    char path[256];

    case_begin("make uninstall DESTDIR=... PREFIX=/usr removes the five files");
    int status = make("uninstall", &p);
    CHECK(status == 0, "make uninstall: status %d\n%s%s", status, p.out, p.err);
    for (size_t i = 0; i < N_INSTALLED; i++) {
        staged(path, sizeof path, installed[i].path);
        CHECK(access(path, F_OK) != 0, "%s is still there", path);
    }
    case_end();
}

int main(void)
{
    char cmd[128];
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 99;
    }
    snprintf(dest, sizeof dest, "%s/root", tmpdir);
    snprintf(build, sizeof build, "%s/build", tmpdir);
    case_install();
    case_installed_norst();
    case_on_the_wire();
    case_uninstall();
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? harness_done() : 1;
}
