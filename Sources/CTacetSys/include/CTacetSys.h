#ifndef CTACETSYS_H
#define CTACETSYS_H

/// System calls Swift cannot reach directly (variadic syscall(2)).

/// openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS: opens `path` relative to `dirfd`
/// only if its resolution, symlinks included, never leaves `dirfd`. Returns the descriptor, or
/// -errno (-ENOSYS where the kernel or platform has no openat2).
int tacet_openat_beneath(int dirfd, const char *path, int flags);

#endif
