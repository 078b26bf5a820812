/*
 * artifacts_fs.h: the runs' artifact folders on the file system.
 *
 * Each run has a folder <root>/<run id>/ that the dispatcher makes and the
 * runner writes into.  Only regular files directly inside it, with valid
 * artifact names, are artifacts; payload.json (what the runner was given)
 * is not one.  Every file is opened relative to the folder's descriptor
 * with O_NOFOLLOW, so neither a name nor a symbolic link planted in the
 * folder can lead outside it.
 */
#ifndef GT_ARTIFACTS_FS_H
#define GT_ARTIFACTS_FS_H

struct artifact_store;
struct artifacts_fs;

/*
 * An adapter for the folders under root (copied).  Returns NULL when
 * memory is short.  Free it with artifacts_fs_free().
 */
struct artifacts_fs	*artifacts_fs_new(const char *root);

/* Frees the adapter.  Accepts NULL. */
void			 artifacts_fs_free(struct artifacts_fs *);

/* Fills port with the adapter, which must outlive it. */
void			 artifacts_fs_port(struct artifacts_fs *,
			    struct artifact_store *port);

#endif
