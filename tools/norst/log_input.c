/* The logs norst report reads: a file, standard input ("-"), or a file
 * compressed by gzip (a rotated log: logrotate's "compress"), which is read
 * through "gzip -dc" on a pipe so that norst needs no library beyond libc.
 * A file is taken for gzip's by its first two bytes (RFC 1952: 1f 8b),
 * whatever its name. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tool.h"

static int gzip_magic(int fd)
{
    unsigned char magic[2];
    int gz = pread(fd, magic, sizeof magic, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    return gz;
}

/* gzip -dc with the file on its standard input: the name never reaches an
 * argument list, so a name that starts with '-' is not an option. */
static FILE *through_gzip(int fd, pid_t *child)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return NULL;
    *child = fork();
    if (*child == 0) {
        if (dup2(fd, 0) < 0 || dup2(pipefd[1], 1) < 0)
            _exit(126);
        execlp("gzip", "gzip", "-dc", (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    if (*child < 0) {
        close(pipefd[0]);
        return NULL;
    }
    return fdopen(pipefd[0], "r");
}

int log_input_open(struct log_input *in, const char *path)
{
    memset(in, 0, sizeof *in);
    in->name = strcmp(path, "-") == 0 ? "standard input" : path;
    in->gzip = -1;
    if (strcmp(path, "-") == 0) {
        in->file = stdin;
        return 0;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        fprintf(stderr, "norst report: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (gzip_magic(fd)) {
        in->file = through_gzip(fd, &in->gzip);
        close(fd);
        if (!in->file)
            fprintf(stderr, "norst report: %s: cannot run gzip -dc: %s\n", path, strerror(errno));
    } else if (!(in->file = fdopen(fd, "r"))) {
        close(fd);
    }
    if (!in->file)
        return -1;
    return 0;
}

int log_input_close(struct log_input *in, int read_errno)
{
    int status = 0, ok = !read_errno;
    if (read_errno)
        fprintf(stderr, "norst report: %s: %s\n", in->name, strerror(read_errno));
    if (in->file != stdin)
        fclose(in->file);
    if (in->gzip > 0) {
        while (waitpid(in->gzip, &status, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            ok = 0;
            if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                fprintf(stderr, "norst report: %s: gzip -dc: gzip not found\n", in->name);
            else
                fprintf(stderr, "norst report: %s: gzip -dc failed (%s %d)\n", in->name,
                        WIFEXITED(status) ? "exit status" : "signal",
                        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        }
    }
    return ok ? 0 : -1;
}
