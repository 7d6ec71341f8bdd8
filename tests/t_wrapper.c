/* The norst command: it runs the command with the library prepended to
 * LD_PRELOAD and its options in the NORST_* variables, passes the exit status
 * through, fails as a shell does, warns about programs preloading cannot
 * reach (from their ELF headers: real static and Go-marked binaries, and
 * crafted 32-bit and big-endian ones), and, on the wire, stops the seed echo
 * server's reset. */
#include <elf.h>
#include <endian.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define JOURNAL_SOCKET_PATH "/run/systemd/journal/socket"

static char tmpdir[] = "/tmp/norst-wrapper-XXXXXX";
static char library[PATH_MAX]; /* the absolute path norst should preload */

/* Runs argv (norst, from the build directory) with env added; returns the
 * exit status as proc_finish does. */
static int run(struct proc *p, const char *const *env, const char *const *argv)
{
    proc_start(p, 0, env, argv, 0);
    return proc_finish(p, 10000);
}

/* run, and check the exit status */
static void run_expect(struct proc *p, const char *const *env, const char *const *argv, int want)
{
    char command[512] = "";
    for (size_t i = 0, len = 0; argv[i] && len < sizeof command; i++)
        len += (size_t)snprintf(command + len, sizeof command - len, "%s%s", i ? " " : "", argv[i]);
    int status = run(p, env, argv);
    CHECK(status == want, "%s: status %d, want %d; stderr: %s", command, status, want, p->err);
}

/* text holds line as a whole line */
static int has_line(const char *text, const char *line)
{
    size_t len = strlen(line);
    for (const char *at = text; (at = strstr(at, line)); at++)
        if ((at == text || at[-1] == '\n') && (at[len] == '\n' || at[len] == '\0'))
            return 1;
    return 0;
}

static void tmp_path(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", tmpdir, name);
}

static void case_exit_status(void)
{
    struct proc p;
    case_begin("norst passes the command's exit status and signal through");
    const char *exit7[] = {"./norst", "--", "sh", "-c", "exit 7", NULL};
    run_expect(&p, NULL, exit7, 7);
    const char *no_dashes[] = {"./norst", "tests/progs/exit-with", "42", NULL};
    run_expect(&p, NULL, no_dashes, 42);
    const char *killed[] = {"./norst", "--", "sh", "-c", "kill -TERM $$", NULL};
    run(&p, NULL, killed);
    CHECK(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGTERM, "wait status %#x", p.status);
    case_end();
}

static void case_preload(void)
{
    struct proc p;
    char expect[PATH_MAX + 64], same[PATH_MAX + 64];
    const char *echo[] = {"./norst", "--", "sh", "-c", "echo \"$LD_PRELOAD\"", NULL};

    case_begin("LD_PRELOAD: the library's absolute path is prepended, never added twice");
    snprintf(expect, sizeof expect, "%s\n", library);
    run_expect(&p, NULL, echo, 0);
    CHECK(strcmp(p.out, expect) == 0, "without LD_PRELOAD: %s", p.out);

    const char *other[] = {"LD_PRELOAD=/x/other.so", NULL};
    snprintf(expect, sizeof expect, "%s:/x/other.so\n", library);
    run_expect(&p, other, echo, 0);
    CHECK(strcmp(p.out, expect) == 0, "got %s, want %s", p.out, expect);

    snprintf(same, sizeof same, "LD_PRELOAD=/x/other.so:%s", library);
    const char *present[] = {same, NULL};
    snprintf(expect, sizeof expect, "/x/other.so:%s\n", library);
    run_expect(&p, present, echo, 0);
    CHECK(strcmp(p.out, expect) == 0, "got %s, want %s", p.out, expect);

    /* Another path to the same file counts as the same library. */
    const char *relative[] = {"LD_PRELOAD=./libnorst.so /x/other.so", NULL};
    run_expect(&p, relative, echo, 0);
    CHECK(strcmp(p.out, "./libnorst.so /x/other.so\n") == 0, "got %s", p.out);

    /* NORST_LIBRARY chooses the library; made absolute. */
    const char *chosen[] = {"NORST_LIBRARY=./libnorst.so", NULL};
    snprintf(expect, sizeof expect, "%s\n", library);
    run_expect(&p, chosen, echo, 0);
    CHECK(strcmp(p.out, expect) == 0, "got %s", p.out);
    const char *missing[] = {"NORST_LIBRARY=/nonexistent/libnorst.so", NULL};
    run_expect(&p, missing, echo, 1);
    CHECK(contains(p.err, "norst: NORST_LIBRARY=/nonexistent/libnorst.so"), "stderr %s", p.err);
    CHECK(p.out[0] == '\0', "the command ran: %s", p.out);
    case_end();
}

static void case_options(void)
{
    struct proc p;
    case_begin("each option sets its NORST_ variable");
    const char *short_opts[] = {"./norst", "-m", "log", "-t", "300", "--max-bytes", "10", "-l",
                                "stderr", "--json", "--async", "--stats", "--", "sh", "-c",
                                "env", NULL};
    run_expect(&p, NULL, short_opts, 0);
    static const char *const expect[] = {
        "NORST_MODE=log", "NORST_LINGER_MS=300", "NORST_MAX_BYTES=10", "NORST_LOG=stderr",
        "NORST_LOG_FORMAT=json", "NORST_ASYNC=1", "NORST_STATS=1",
    };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
        CHECK(has_line(p.out, expect[i]), "no %s in: %s", expect[i], p.out);

    const char *long_opts[] = {"./norst", "--mode=always", "--linger-ms=0", "--log=stderr",
                               "--max-bytes", "0", "sh", "-c", "env", NULL};
    run_expect(&p, NULL, long_opts, 0);
    CHECK(has_line(p.out, "NORST_MODE=always") && has_line(p.out, "NORST_LINGER_MS=0") &&
              has_line(p.out, "NORST_LOG=stderr") && has_line(p.out, "NORST_MAX_BYTES=0"),
          "env: %s", p.out);
    CHECK(!contains(p.out, "NORST_LOG_FORMAT") && !contains(p.out, "NORST_ASYNC") &&
              !contains(p.out, "NORST_STATS"),
          "unset options set variables: %s", p.out);

    /* A variable no option sets passes through; an option overrides one. */
    const char *env[] = {"NORST_MAX_BYTES=77", "NORST_MODE=off", NULL};
    const char *override[] = {"./norst", "-m", "drain", "sh", "-c", "env", NULL};
    run_expect(&p, env, override, 0);
    CHECK(has_line(p.out, "NORST_MAX_BYTES=77") && has_line(p.out, "NORST_MODE=drain"),
          "env: %s", p.out);

    const char *linger_max[] = {"./norst", "-t", "3600000", "sh", "-c", "env", NULL};
    run_expect(&p, NULL, linger_max, 0);
    CHECK(has_line(p.out, "NORST_LINGER_MS=3600000"), "env: %s", p.out);
    case_end();
}

static void case_bad_values(void)
{
    static const struct {
        const char *option, *value, *named;
    } bad[] = {
        {"-m", "fast", "--mode"},          {"--mode", "", "--mode"},
        {"-t", "3600001", "--linger-ms"},  {"-t", "-1", "--linger-ms"},
        {"-t", "12ms", "--linger-ms"},     {"--linger-ms", " 5", "--linger-ms"},
        {"--max-bytes", "1e3", "--max-bytes"}, {"--max-bytes", "", "--max-bytes"},
        {"--max-bytes", "99999999999999999999999", "--max-bytes"},
        {"-l", "", "--log"},               {"--frobnicate", "x", "frobnicate"},
        {"--syslog-priority", "daemon.loud", "--syslog-priority"},
        {"--syslog-priority", "notice", "--syslog-priority"},
        /* a value that looks like an option: getopt took the next word */
        {"--log", "--", "--log"},          {"-l", "--json", "--log"},
        {"-m", "-t", "--mode"},            {"--log", "-", "--log"},
    };
    struct proc p;
    case_begin("a bad option value exits 2, names the option, runs nothing");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *argv[] = {"./norst", bad[i].option, bad[i].value, "--", "sh", "-c",
                              "echo ran", NULL};
        run_expect(&p, NULL, argv, 2);
        CHECK(contains(p.err, "norst: ") && contains(p.err, bad[i].named),
              "%s '%s': stderr %s", bad[i].option, bad[i].value, p.err);
        CHECK(!contains(p.out, "ran"), "%s '%s': the command ran", bad[i].option, bad[i].value);
    }
    CHECK(access("--", F_OK) != 0 && access("-", F_OK) != 0, "a log file named -- or - exists");
    case_end();
}

/* Keywords in any case, as the library reads them. */
static void case_keywords_any_case(void)
{
    struct proc p;
    case_begin("keywords in any case: -l STDERR is stderr, -m LOG is log, no file made");
    unlink("STDERR");
    const char *argv[] = {"./norst", "-m", "LOG", "-l", "STDERR", "--syslog-priority",
                          "Local0.Info", "sh", "-c", "env", NULL};
    run_expect(&p, NULL, argv, 0);
    CHECK(has_line(p.out, "NORST_MODE=LOG") && has_line(p.out, "NORST_LOG=STDERR") &&
              has_line(p.out, "NORST_SYSLOG_PRIORITY=Local0.Info"),
          "env: %s", p.out);
    CHECK(access("STDERR", F_OK) != 0, "a file named STDERR was created");
    CHECK(!contains(p.err, "warning"), "stderr: %s", p.err);
    case_end();
}

/* The log is tried before the command runs: a target the library could
 * not open is an error, in words, and nothing runs. */
static void case_log_checked(void)
{
    struct proc p;
    char file[PATH_MAX], option[PATH_MAX + 16], probe[PATH_MAX + 64];
    struct stat st;

    case_begin("the log target is checked before the command runs");
    const char *missing_dir[] = {"./norst", "-m", "log", "-l", "/nonexistent/dir/x.json", "--",
                                 "sh", "-c", "echo ran", NULL};
    run_expect(&p, NULL, missing_dir, 2);
    CHECK(contains(p.err, "norst: --log '/nonexistent/dir/x.json': cannot open for appending: "
                          "No such file or directory"),
          "stderr %s", p.err);
    CHECK(!contains(p.out, "ran"), "the command ran");

    const char *from_env[] = {"NORST_LOG=/nonexistent/dir/y.log", NULL};
    const char *plain[] = {"./norst", "sh", "-c", "echo ran", NULL};
    run_expect(&p, from_env, plain, 2);
    CHECK(contains(p.err, "norst: NORST_LOG '/nonexistent/dir/y.log': cannot open"), "stderr %s",
          p.err);
    CHECK(!contains(p.out, "ran"), "the command ran");

    /* a directory is no log file */
    snprintf(option, sizeof option, "--log=%s", tmpdir);
    const char *a_dir[] = {"./norst", option, "sh", "-c", "echo ran", NULL};
    run_expect(&p, NULL, a_dir, 2);
    CHECK(contains(p.err, "Is a directory") && !contains(p.out, "ran"), "stderr %s", p.err);

    /* a good file exists, mode 0600, before the command starts */
    tmp_path(file, sizeof file, "checked.log");
    snprintf(option, sizeof option, "--log=%s", file);
    snprintf(probe, sizeof probe, "test -f %s && echo present", file);
    const char *good[] = {"./norst", option, "sh", "-c", probe, NULL};
    run_expect(&p, NULL, good, 0);
    CHECK(contains(p.out, "present"), "the file was not there: %s", p.out);
    CHECK(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600, "mode %o", st.st_mode & 0777);

    /* the sockets of syslog and journald: where one is missing, its
     * target cannot work (t_syslog runs them where they are) */
    if (access("/dev/log", F_OK) == 0) {
        printf("SKIP -l syslog without a syslog daemon: /dev/log exists here\n");
    } else {
        const char *syslog[] = {"./norst", "-l", "syslog", "sh", "-c", "echo ran", NULL};
        run_expect(&p, NULL, syslog, 2);
        CHECK(contains(p.err, "norst: --log 'syslog': cannot connect to /dev/log: No such file"),
              "stderr %s", p.err);
    }
    if (access(JOURNAL_SOCKET_PATH, F_OK) == 0) {
        printf("SKIP -l journal without journald: %s exists here\n", JOURNAL_SOCKET_PATH);
    } else {
        const char *journal[] = {"./norst", "-l", "Journal", "sh", "-c", "echo ran", NULL};
        run_expect(&p, NULL, journal, 2);
        CHECK(contains(p.err, "cannot connect to journald's " JOURNAL_SOCKET_PATH ": No such file"),
              "stderr %s", p.err);
    }
    case_end();
}

/* Log mode that records nowhere is said before the command runs. */
static void case_log_mode_warning(void)
{
    struct proc p;
    static const char warning[] =
        "norst: warning: mode log without --log: closes change nothing and nothing is recorded";
    case_begin("mode log without a log: a warning, and the command runs");
    const char *bare[] = {"./norst", "-m", "log", "sh", "-c", "echo ran", NULL};
    run_expect(&p, NULL, bare, 0);
    CHECK(has_line(p.err, warning), "stderr %s", p.err);
    CHECK(contains(p.out, "ran"), "the command did not run");
    const char *logged[] = {"./norst", "-m", "log", "-l", "stderr", "sh", "-c", "echo ran", NULL};
    run_expect(&p, NULL, logged, 0);
    CHECK(!contains(p.err, "warning"), "stderr %s", p.err);
    const char *counted[] = {"./norst", "-m", "log", "--stats", "sh", "-c", "echo ran", NULL};
    run_expect(&p, NULL, counted, 0);
    CHECK(!contains(p.err, "warning"), "stderr %s", p.err);
    case_end();
}

static void case_version_help_usage(void)
{
    struct proc p;
    case_begin("--version, --help, and no command");
    const char *version[] = {"./norst", "--version", NULL};
    run_expect(&p, NULL, version, 0);
    unsigned major, minor, patch;
    char end = 0;
    CHECK(sscanf(p.out, "norst %u.%u.%u%c", &major, &minor, &patch, &end) == 4 && end == '\n' &&
              strchr(p.out, '\n') == p.out + strlen(p.out) - 1,
          "version output: %s", p.out);

    const char *help[] = {"./norst", "--help", NULL};
    run_expect(&p, NULL, help, 0);
    CHECK(contains(p.out, "usage: norst") && contains(p.out, "--linger-ms") &&
              contains(p.out, "norst report"),
          "help: %s", p.out);
    CHECK(p.err[0] == '\0', "stderr: %s", p.err);

    const char *nothing[] = {"./norst", NULL};
    const char *options_only[] = {"./norst", "-m", "log", "--", NULL};
    run_expect(&p, NULL, nothing, 2);
    CHECK(contains(p.err, "usage: norst") && !p.out[0], "stderr %s", p.err);
    run_expect(&p, NULL, options_only, 2);
    CHECK(contains(p.err, "usage: norst"), "stderr %s", p.err);
    case_end();
}

static void case_not_found(void)
{
    struct proc p;
    char script[PATH_MAX], plain[PATH_MAX];
    case_begin("a missing command exits 127, a non-executable one 126");
    const char *missing[] = {"./norst", "--", "no-such-command-xyz", "arg", NULL};
    run_expect(&p, NULL, missing, 127);
    CHECK(strcmp(p.err, "norst: no-such-command-xyz: command not found\n") == 0, "stderr %s", p.err);
    const char *missing_path[] = {"./norst", "./no-such-file", NULL};
    run_expect(&p, NULL, missing_path, 127);
    CHECK(contains(p.err, "./no-such-file: No such file or directory"), "stderr %s", p.err);

    tmp_path(plain, sizeof plain, "not-executable");
    CHECK(shell("printf '#!/bin/sh\\necho ran\\n' > %s && chmod 0644 %s", plain, plain) == 0,
          "creating %s", plain);
    const char *denied[] = {"./norst", plain, NULL};
    run_expect(&p, NULL, denied, 126);
    CHECK(contains(p.err, "Permission denied") && !contains(p.out, "ran"), "stderr %s", p.err);

    /* A script without "#!" runs with /bin/sh, as execvp and the shells do. */
    tmp_path(script, sizeof script, "no-shebang");
    CHECK(shell("printf 'exit 9\\n' > %s && chmod 0755 %s", script, script) == 0, "creating");
    const char *bare[] = {"./norst", script, NULL};
    run_expect(&p, NULL, bare, 9);
    case_end();
}

/* ---- warnings ---- */

static void expect_clean_run(const char *what, const char *const *argv, int status)
{
    struct proc p;
    run_expect(&p, NULL, argv, status);
    CHECK(p.err[0] == '\0', "%s: stderr %s", what, p.err);
}

static void expect_warning(const char *file, const char *warning, int status)
{
    struct proc p;
    char line[1024];
    const char *argv[] = {"./norst", "--", file, NULL};
    snprintf(line, sizeof line, "norst: warning: %s %s", file, warning);
    run_expect(&p, NULL, argv, status);
    CHECK(has_line(p.err, line), "%s: want the line \"%s\", stderr: %s", file, line, p.err);
}

static void case_no_warning(void)
{
    char script[PATH_MAX];
    case_begin("no warning for a dynamic program or a script");
    const char *dynamic[] = {"./norst", "--", "tests/progs/exit-with", "3", NULL};
    expect_clean_run("dynamic", dynamic, 3);
    const char *in_path[] = {"./norst", "true", NULL};
    expect_clean_run("true from PATH", in_path, 0);
    tmp_path(script, sizeof script, "script");
    CHECK(shell("printf '#!/bin/sh\\nexit 4\\n' > %s && chmod 0755 %s", script, script) == 0,
          "creating %s", script);
    const char *scripted[] = {"./norst", script, NULL};
    expect_clean_run("script", scripted, 4);
    case_end();
}

static void case_static(void)
{
    const char *prog = "tests/progs/static-true";
    if (access(prog, X_OK) != 0) {
        printf("SKIP static binary warning: the toolchain could not link %s with -static\n", prog);
        return;
    }
    case_begin("warning: a statically linked program");
    expect_warning(prog, "is statically linked: LD_PRELOAD cannot interpose its close()", 0);
    case_end();
}

static void case_set_id(void)
{
    char copy[PATH_MAX];
    static const char tail[] = ": the dynamic loader ignores LD_PRELOAD paths with slashes "
                               "and libnorst's NORST_* settings for it";
    char warning[256];
    case_begin("warning: set-user-ID and set-group-ID programs");
    tmp_path(copy, sizeof copy, "set-id");
    CHECK(shell("cp tests/progs/exit-with %s && chmod 04755 %s", copy, copy) == 0, "cp/chmod");
    snprintf(warning, sizeof warning, "is set-user-ID%s", tail);
    expect_warning(copy, warning, 0);
    CHECK(chmod(copy, 02755) == 0, "chmod g+s");
    snprintf(warning, sizeof warning, "is set-group-ID%s", tail);
    expect_warning(copy, warning, 0);
    case_end();
}

static void case_go(void)
{
    static const char go_warning[] =
        "is a Go program: Go makes its own system calls, libnorst cannot see its closes";
    static const char *const sections[] = {".go.buildinfo", ".note.go.buildid"};
    char data[PATH_MAX], copy[PATH_MAX];

    case_begin("warning: a Go program (its build-ID note)");
    expect_warning("tests/progs/go-note", go_warning, 0);
    case_end();

    if (shell("command -v objcopy >/dev/null") != 0) {
        printf("SKIP Go section warning: no objcopy to add a section\n");
        return;
    }
    case_begin("warning: a Go program (.go.buildinfo or .note.go.buildid section)");
    tmp_path(data, sizeof data, "buildinfo");
    CHECK(shell("printf '\\377 Go buildinf:' > %s", data) == 0, "creating %s", data);
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        tmp_path(copy, sizeof copy, sections[i] + 1);
        CHECK(shell("objcopy --add-section %s=%s tests/progs/exit-with %s && chmod 0755 %s",
                    sections[i], data, copy, copy) == 0,
              "objcopy %s", sections[i]);
        expect_warning(copy, go_warning, 0);
    }
    case_end();
}

/* A minimal 32-bit ELF executable: one PT_LOAD over the whole file whose
 * i386 code exits with status 0, optionally a PT_INTERP, optionally section
 * headers naming a .go.buildinfo section; in either byte order. */
static void write_elf32(const char *path, int big, unsigned machine, const char *interp,
                        int go_section)
{
#define H16(v) (big ? htobe16(v) : htole16(v))
#define H32(v) (big ? htobe32(v) : htole32(v))
    static const unsigned char code[] = {0xb8, 1, 0, 0, 0, 0x31, 0xdb, 0xcd, 0x80};
    static const char names[] = "\0.shstrtab\0.go.buildinfo";
    unsigned char file[1024] = {0};
    const uint32_t base = 0x08048000;
    unsigned phnum = interp ? 2 : 1, shnum = go_section ? 3 : 0;
    size_t interp_off = sizeof(Elf32_Ehdr) + phnum * sizeof(Elf32_Phdr);
    size_t code_off = interp_off + (interp ? strlen(interp) + 1 : 0);
    size_t names_off = code_off + sizeof code;
    size_t shoff = (names_off + sizeof names + 3) & ~(size_t)3;
    size_t size = shoff + shnum * sizeof(Elf32_Shdr);

    Elf32_Ehdr eh = {.e_ident = {ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS32,
                                 big ? ELFDATA2MSB : ELFDATA2LSB, EV_CURRENT}};
    eh.e_type = H16(ET_EXEC);
    eh.e_machine = H16(machine);
    eh.e_version = H32(EV_CURRENT);
    eh.e_entry = H32(base + code_off);
    eh.e_phoff = H32(sizeof eh);
    eh.e_shoff = H32(shnum ? shoff : 0);
    eh.e_ehsize = H16(sizeof eh);
    eh.e_phentsize = H16(sizeof(Elf32_Phdr));
    eh.e_phnum = H16(phnum);
    eh.e_shentsize = H16(sizeof(Elf32_Shdr));
    eh.e_shnum = H16(shnum);
    eh.e_shstrndx = H16(shnum ? 1 : 0);
    memcpy(file, &eh, sizeof eh);

    Elf32_Phdr ph[2] = {{H32(PT_LOAD), 0, H32(base), H32(base), H32(size), H32(size),
                         H32(PF_R | PF_X), H32(0x1000)},
                        {H32(PT_INTERP), H32(interp_off), H32(base + interp_off),
                         H32(base + interp_off), 0, 0, H32(PF_R), H32(1)}};
    if (interp) {
        ph[1].p_filesz = ph[1].p_memsz = H32(strlen(interp) + 1);
        memcpy(file + interp_off, interp, strlen(interp) + 1);
    }
    memcpy(file + sizeof eh, ph, phnum * sizeof ph[0]);
    memcpy(file + code_off, code, sizeof code);
    memcpy(file + names_off, names, sizeof names);

    Elf32_Shdr sh[3] = {{0},
                        {.sh_name = H32(1), .sh_type = H32(SHT_STRTAB),
                         .sh_offset = H32(names_off), .sh_size = H32(sizeof names)},
                        {.sh_name = H32(11), .sh_type = H32(SHT_PROGBITS),
                         .sh_offset = H32(code_off), .sh_size = H32(sizeof code)}};
    memcpy(file + shoff, sh, shnum * sizeof sh[0]);
#undef H16
#undef H32

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    CHECK(fd >= 0 && write(fd, file, size) == (ssize_t)size && close(fd) == 0, "writing %s", path);
}

static void case_crafted_elf(void)
{
    struct proc p;
    char path[PATH_MAX], arch[2 * PATH_MAX + 128];

    case_begin("warnings from 32-bit and big-endian ELF headers");
    /* 32-bit little-endian, no PT_INTERP: runs where the kernel has i386
     * emulation, else the exec fails (126); the warning comes first. */
    tmp_path(path, sizeof path, "elf32-static");
    write_elf32(path, 0, EM_386, NULL, 0);
    const char *static32[] = {"./norst", path, NULL};
    int status = run(&p, NULL, static32);
    CHECK(status == 0 || status == 126, "status %d, stderr %s", status, p.err);
    CHECK(contains(p.err, "is statically linked"), "stderr %s", p.err);

    /* Big-endian 32-bit PowerPC with a loader and a Go section: dynamic (no
     * static warning), the wrong architecture, a Go program; exec fails. */
    tmp_path(path, sizeof path, "elf32-be");
    write_elf32(path, 1, EM_PPC, "/nonexistent/ld.so.1", 1);
    const char *be[] = {"./norst", path, NULL};
    status = run(&p, NULL, be);
    CHECK(status == 126, "status %d, stderr %s", status, p.err);
    CHECK(!contains(p.err, "statically linked"), "stderr %s", p.err);
    CHECK(contains(p.err, "is a Go program"), "stderr %s", p.err);
    snprintf(arch, sizeof arch, "norst: warning: %s is built for another architecture than %s",
             path, library);
    CHECK(contains(p.err, arch), "stderr %s", p.err);
    CHECK(contains(p.err, "cannot execute binary file"), "stderr %s", p.err);
    case_end();
}

static void case_on_the_wire(void)
{
    char out[4096];
    struct proc server;
    struct counters before;
    const char *server_argv[] = {"./norst", "--", "./echo-server", "-n", "1", "5000", NULL};
    const char *client_argv[] = {"./echo-client", "127.0.0.1", "5000", "hello-world", NULL};

    case_begin("norst -- echo-server: the client sees an orderly EOF, no RST");
    counters_read(&before);
    proc_start(&server, 0, NULL, server_argv, 1);
    int status = run_client(client_argv, out, sizeof out);
    CHECK(proc_finish(&server, 5000) == 0, "server exit: %s", server.err);
    struct counters delta = counters_since(&before);
    CHECK(status == 1, "client status %d, output %s", status, out);
    CHECK(contains(out, "orderly EOF"), "client saw: %s", out);
    CHECK(delta.out_rsts == 0, "OutRsts %ld", delta.out_rsts);
    CHECK(delta.abort_on_close == 0, "AbortOnClose %ld", delta.abort_on_close);
    case_end();
}

/* The tests set the variables they mean; none may come from outside. */
static void clear_norst_environment(void)
{
    extern char **environ;
    char name[256];
    for (size_t i = 0; environ[i];) {
        size_t len = strcspn(environ[i], "=");
        if (strncmp(environ[i], "NORST_", 6) == 0 && len < sizeof name) {
            snprintf(name, sizeof name, "%.*s", (int)len, environ[i]);
            unsetenv(name);
        } else {
            i++;
        }
    }
}

int main(void)
{
    clear_norst_environment();
    if (!realpath("libnorst.so", library) || !mkdtemp(tmpdir)) {
        perror("setting up");
        return 99;
    }
    case_exit_status();
    case_preload();
    case_options();
    case_bad_values();
    case_keywords_any_case();
    case_log_checked();
    case_log_mode_warning();
    case_version_help_usage();
    case_not_found();
    case_no_warning();
    case_static();
    case_set_id();
    case_go();
    case_crafted_elf();
    case_on_the_wire();
    shell("rm -rf %s", tmpdir);
    return harness_done();
}
