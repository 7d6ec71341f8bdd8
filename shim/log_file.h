/* A log file that follows its path across rotation (log_file.c). */
#ifndef NORST_LOG_FILE_H
#define NORST_LOG_FILE_H

/* Opens path for appending (created 0600, a symlink refused) and remembers
 * it, made absolute, for log_file_follow. The fd, or -errno. Load time. */
long log_file_open(const char *path);
/* Before a write to fd, the log file: if the path now names another file
 * (logrotate's create mode renamed ours away and created a new one), fd
 * becomes that file, under the same number. Async-signal-safe. */
void log_file_follow(int fd);

#endif
