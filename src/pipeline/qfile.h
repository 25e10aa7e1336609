/* qfile.h - the quarantine Maildirs, one per account:
 * <data-dir>/quarantine/<account id>/{tmp,new,cur}.
 *
 * A quarantined message is written (tmp/ then new/, fsync'd) before the
 * write transaction that adds its row opens, so the file work never holds
 * the database lock. A row names its file by Maildir base name (the part
 * before ':'); qfile_path() finds it in new/ or cur/, so a file flagged
 * Seen or Trashed (renamed to cur/base:2,S) is found whether the rename
 * happened before or after the commit that changed the row. */
#ifndef TRACKMAIL_QFILE_H
#define TRACKMAIL_QFILE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Writes raw to the account's quarantine Maildir with
 * X-Trackmail-Quarantine-Reason/-Detail headers in front; fsyncs file and
 * directory. Returns 0 and the base name (malloc'ed) in *base_r, or
 * -errno (-ENOSPC: disk full) with *path_r naming the file that failed
 * (malloc'ed, may be NULL). */
int qfile_write(const char *data_dir, int64_t account_id, const char *raw,
		size_t len, const char *reason, const char *detail,
		char **base_r, char **failed_path_r);

/* The file of base name `base`: new/base, else cur/base:2,... Returns 0
 * and the path (malloc'ed), -ENOENT, or -EINVAL for a base name that is
 * not one (a '/' or a leading dot). */
int qfile_path(const char *data_dir, int64_t account_id, const char *base,
	       char **path_r);

/* Moves the file to cur/base:2,FLAGS (S seen, T trashed) and fsyncs
 * cur/. */
int qfile_flag(const char *data_dir, int64_t account_id, const char *base,
	       const char *flags);

/* Removes a file written for a row that never committed. */
void qfile_remove(const char *data_dir, int64_t account_id, const char *base);

/* Where the original message starts: after the leading
 * X-Trackmail-Quarantine-* header lines. */
size_t qfile_skip_headers(const char *raw, size_t len);

/* Moves files of the single quarantine folder of schema version 1
 * (<data-dir>/quarantine/{new,cur}) into their account's folder, found by
 * the row with that base name. Files no row names stay where they are
 * (logged). Cheap when there is no old folder. Returns 0 or -errno. */
int qfile_migrate(const char *data_dir, struct store *store);

#endif
