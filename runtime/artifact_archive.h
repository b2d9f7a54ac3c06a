/* artifact_archive.h — model artifacts as .tar.gz archives (libarchive).
 *
 *   rt_archive_pack("/tmp/saved", "/tmp/v4.tar.gz", &err);
 *   rt_archive_extract_into("/tmp/v4.tar.gz", empty_dir, &err);
 *
 * Packing is deterministic: the same tree gives the same bytes (entries in
 * sorted order, owner and times zeroed, no gzip timestamp), so equal
 * content has an equal sha256.
 *
 * Extraction trusts nothing in the archive. It refuses, naming the entry:
 * absolute paths, ".." components, device files, fifos and sockets, hard
 * links whose target is outside, and symbolic links that are absolute,
 * dangling, or resolve outside the folder. Links are created only after
 * every file is written, so no write can be redirected through one. */
#ifndef RT_ARTIFACT_ARCHIVE_H
#define RT_ARTIFACT_ARCHIVE_H

#include "rt_error.h"

/* Packs the files, folders and links under dir into a gzip'd tar written
 * atomically at out_path. Links must point inside dir; other special files
 * are refused. */
int rt_archive_pack(const char *dir, const char *out_path, rt_error *err);

/* Extracts the archive at path (tar or zip, any compression libarchive
 * reads) into dir, an existing empty folder. On failure dir holds a partial
 * tree that the caller removes: extract into a temp folder and publish it
 * with rt_fs_replace_dir only on success. */
int rt_archive_extract_into(const char *path, const char *dir, rt_error *err);

#endif
