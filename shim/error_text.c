/* The errno texts of the failures a log sink meets: opening a file,
 * connecting to a local socket, writing.
 *
 * Not strerror(): it may translate (a locale lookup that can take locks and
 * allocate) and builds "Unknown error N" in a shared buffer, so it is not
 * async-signal-safe, and this runs inside close(), maybe in a signal
 * handler. strerrordesc_np() is an array lookup but glibc 2.32's alone,
 * and the library also builds against musl. The texts are glibc's C-locale
 * ones, so a message reads as the norst command's (strerror) would. */
#include <errno.h>

#include "error_text.h"
#include "fmt.h"

static const struct {
    int err;
    const char *text;
} texts[] = {
    {EPERM, "Operation not permitted"},
    {ENOENT, "No such file or directory"},
    {EIO, "Input/output error"},
    {EBADF, "Bad file descriptor"},
    {EAGAIN, "Resource temporarily unavailable"},
    {ENOMEM, "Cannot allocate memory"},
    {EACCES, "Permission denied"},
    {EFAULT, "Bad address"},
    {EBUSY, "Device or resource busy"},
    {EEXIST, "File exists"},
    {ENODEV, "No such device"},
    {ENOTDIR, "Not a directory"},
    {EISDIR, "Is a directory"},
    {EINVAL, "Invalid argument"},
    {ENFILE, "Too many open files in system"},
    {EMFILE, "Too many open files"},
    {ETXTBSY, "Text file busy"},
    {EFBIG, "File too large"},
    {ENOSPC, "No space left on device"},
    {EROFS, "Read-only file system"},
    {EPIPE, "Broken pipe"},
    {ENAMETOOLONG, "File name too long"},
    {ELOOP, "Too many levels of symbolic links"},
    {ENOTSOCK, "Socket operation on non-socket"},
    {EPROTOTYPE, "Protocol wrong type for socket"},
    {EAFNOSUPPORT, "Address family not supported by protocol"},
    {ENOBUFS, "No buffer space available"},
    {ECONNREFUSED, "Connection refused"},
    {EDQUOT, "Disk quota exceeded"},
    {ENXIO, "No such device or address"},
};

void fmt_error(struct fmtbuf *b, int err)
{
    for (unsigned i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (texts[i].err == err) {
            fmt_str(b, texts[i].text);
            return;
        }
    }
    fmt_str(b, "error ");
    fmt_long(b, err);
}
