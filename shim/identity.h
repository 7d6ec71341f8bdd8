/* Who writes the events: the process's name, executable, systemd unit or
 * cgroup, uid and the library's version, read once when the library loads
 * (identity.c), so that writing them later needs no system call. */
#ifndef NORST_IDENTITY_H
#define NORST_IDENTITY_H

#include "fmt.h"

enum identity_field { ID_COMM, ID_EXE, ID_UNIT, ID_UID, ID_VERSION };
enum identity_form { ID_TEXT, ID_JSON };

void identity_load(void);
/* The field's value as log.c writes values: in JSON a string's inside,
 * escaped (its quotes are the caller's), but the unit, a string or null,
 * whole; in text with spaces and control bytes escaped, "-" for none. */
void fmt_identity(struct fmtbuf *b, enum identity_field f, enum identity_form form);

#endif
