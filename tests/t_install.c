/* make install-strip / make uninstall, staged under DESTDIR with PREFIX=/usr:
 * the files land with their modes in the multiarch library directory
 * (LIBDIR), the library as its versioned file with the SONAME link, the
 * binaries stripped with their debug information kept by build-id; the
 * installed norst preloads the installed library (found relative to
 * itself) and stops the seed echo server's reset, its compiled-in library
 * directory is LIBDIR, the systemd drop-in template names the installed
 * library, and uninstall removes the files.
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
static char libdir[128]; /* make print-libdir PREFIX=/usr */

static struct {
    const char *path; /* under DESTDIR; a leading "LIB/" is libdir */
    unsigned mode;
} installed[] = {
    {"LIB/libnorst.so.0.1.0", 0644},
    {"/usr/bin/norst", 0755},
    {"/usr/share/man/man1/norst.1", 0644},
    {"/usr/share/man/man7/libnorst.7", 0644},
    {"/usr/share/doc/norst/README.md", 0644},
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
    if (strncmp(path, "LIB/", 4) == 0)
        snprintf(out, len, "%s%s/%s", dest, libdir, path + 4);
    else
        snprintf(out, len, "%s%s", dest, path);
}

/* The first line of a shell command's output, in out; its exit status. */
static int first_line(const char *cmd, char *out, size_t len)
{
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    if (!fgets(out, (int)len, f))
        out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    return pclose(f);
}

static int stripped(const char *path)
{
    char cmd[1024], out[64];
    snprintf(cmd, sizeof cmd, "readelf -S %s | grep -c '\\.debug_info\\|\\.symtab'", path);
    first_line(cmd, out, sizeof out);
    return strcmp(out, "0") == 0;
}

static void case_install(void)
{
    struct proc p;
    char path[512];
    struct stat st;

    char link[512], target[64], cmd[1024], out[256];

    case_begin("make install-strip DESTDIR=... PREFIX=/usr: the files, their modes, links");
    CHECK(access("../Makefile", R_OK) == 0 && access("../mk/install.mk", R_OK) == 0,
          "the source directory is not ..");
    int status = make("install-strip", &p);
    CHECK(status == 0, "make install-strip: status %d\n%s%s", status, p.out, p.err);
    for (size_t i = 0; i < N_INSTALLED; i++) {
        staged(path, sizeof path, installed[i].path);
        CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode), "%s missing", path);
        CHECK((st.st_mode & 07777) == installed[i].mode, "%s: mode %o, want %o", path,
              st.st_mode & 07777, installed[i].mode);
    }
    /* The loader finds the SONAME link; the unversioned one is for people. */
    static const char *const links[][2] = {{"LIB/libnorst.so.0", "libnorst.so.0.1.0"},
                                           {"LIB/libnorst.so", "libnorst.so.0"}};
    for (size_t i = 0; i < 2; i++) {
        staged(link, sizeof link, links[i][0]);
        ssize_t n = readlink(link, target, sizeof target - 1);
        target[n > 0 ? n : 0] = '\0';
        CHECK(strcmp(target, links[i][1]) == 0, "%s -> '%s', want %s", link, target, links[i][1]);
    }
    staged(path, sizeof path, installed[0].path);
    snprintf(cmd, sizeof cmd, "readelf -d %s | sed -n 's/.*Library soname: \\[\\(.*\\)\\]/\\1/p'",
             path);
    CHECK(first_line(cmd, out, sizeof out) == 0 && strcmp(out, "libnorst.so.0") == 0,
          "SONAME '%s'", out);
    CHECK(strncmp(libdir, "/usr/lib", 8) == 0, "LIBDIR %s", libdir);
    case_end();

    case_begin("install-strip: binaries stripped, debug information kept by build-id");
    const char *binaries[] = {installed[0].path, "/usr/bin/norst"};
    for (size_t i = 0; i < 2; i++) {
        staged(path, sizeof path, binaries[i]);
        CHECK(stripped(path), "%s still has .symtab or .debug_info", path);
        snprintf(cmd, sizeof cmd, "readelf -n %s | awk '/Build ID:/ { print $3 }'", path);
        first_line(cmd, out, sizeof out);
        CHECK(strlen(out) > 2, "%s: no build-id", path);
        snprintf(link, sizeof link, "%s/usr/lib/debug/.build-id/%.2s/%s.debug", dest, out,
                 out + 2);
        snprintf(cmd, sizeof cmd, "readelf -S %s 2>/dev/null | grep -c '\\.debug_info'", link);
        CHECK(first_line(cmd, out, sizeof out) == 0 && strcmp(out, "1") == 0,
              "%s: no .debug_info", link);
    }
    char text[4096] = "", want[256];
    staged(path, sizeof path, "/usr/share/libnorst/systemd/norst.conf");
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    snprintf(want, sizeof want, "\nEnvironment=LD_PRELOAD=%s/libnorst.so.0\n", libdir);
    CHECK(contains(text, want) && !contains(text, "/usr/local/lib"),
          "the installed template does not name %s/libnorst.so.0:\n%s", libdir, text);
    case_end();
}

static void case_installed_norst(void)
{
    struct proc p;
    char norst[256], lib[512], resolved[PATH_MAX], want[PATH_MAX + 32], alone[128], cmd[512];

    case_begin("the installed norst preloads the installed library, by its SONAME");
    staged(norst, sizeof norst, "/usr/bin/norst");
    staged(lib, sizeof lib, "LIB/");
    snprintf(want, sizeof want, "%s/libnorst.so.0\n", realpath(lib, resolved) ? resolved : lib);
    const char *echo[] = {norst, "--", "sh", "-c", "echo \"$LD_PRELOAD\"", NULL};
    proc_start(&p, 0, NULL, echo, 0);
    CHECK(proc_finish(&p, 10000) == 0, "status; stderr %s", p.err);
    CHECK(strcmp(p.out, want) == 0, "LD_PRELOAD %s, want %s", p.out, want);

    /* Alone, with no library near it, it falls back to LIBDIR. */
    snprintf(alone, sizeof alone, "%s/norst", tmpdir);
    snprintf(cmd, sizeof cmd, "cp %s %s", norst, alone);
    CHECK(system(cmd) == 0, "%s", cmd);
    const char *moved[] = {alone, "--", "sh", "-c", "echo \"$LD_PRELOAD\"", NULL};
    proc_start(&p, 0, NULL, moved, 0);
    int status = proc_finish(&p, 10000);
    snprintf(lib, sizeof lib, "%s/libnorst.so.0", libdir);
    snprintf(want, sizeof want, "%s\n", lib);
    if (access(lib, R_OK) == 0) {
        CHECK(status == 0 && strcmp(p.out, want) == 0, "got %s", p.out);
    } else {
        snprintf(want, sizeof want, "in %s)", libdir);
        CHECK(status == 1, "status %d", status);
        CHECK(contains(p.err, want), "stderr %s", p.err);
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
    char path[512];

    case_begin("make uninstall DESTDIR=... PREFIX=/usr removes the files");
    int status = make("uninstall", &p);
    CHECK(status == 0, "make uninstall: status %d\n%s%s", status, p.out, p.err);
    for (size_t i = 0; i < N_INSTALLED; i++) {
        staged(path, sizeof path, installed[i].path);
        CHECK(access(path, F_OK) != 0, "%s is still there", path);
    }
    char cmd[512], out[64];
    snprintf(cmd, sizeof cmd, "find %s -type f -o -type l | wc -l", dest);
    CHECK(first_line(cmd, out, sizeof out) == 0 && strcmp(out, "0") == 0,
          "%s files or links left under DESTDIR", out);
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
    if (first_line("unset MAKEFLAGS MFLAGS MAKELEVEL; make -s -C .. PREFIX=/usr print-libdir",
                   libdir, sizeof libdir) != 0 || libdir[0] != '/') {
        fprintf(stderr, "make print-libdir: '%s'\n", libdir);
        return 1;
    }
    case_install();
    case_installed_norst();
    case_on_the_wire();
    case_uninstall();
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? harness_done() : 1;
}
