#ifndef CTACETSYS_H
#define CTACETSYS_H

/// System calls Swift cannot reach directly (variadic syscall(2), GNU-only constants).

/// openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS: opens `path` relative to `dirfd`
/// only if its resolution, symlinks included, never leaves `dirfd`. Returns the descriptor, or
/// -errno (-ENOSYS where the kernel or platform has no openat2).
int tacet_openat_beneath(int dirfd, const char *path, int flags);

/// O_PATH (Linux): a descriptor that names a file without opening it for I/O, enough for fstat;
/// 0 where there is none (the caller then opens read-only).
int tacet_o_path(void);

/// Puts the calling thread under SCHED_BATCH (Linux): it keeps its fair share of CPU but does not
/// preempt the running task when it wakes. Returns 0, or -errno (-ENOSYS elsewhere).
int tacet_set_batch_scheduling(void);

#endif
