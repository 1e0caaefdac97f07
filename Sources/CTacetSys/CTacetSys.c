#define _GNU_SOURCE  /* SCHED_BATCH */
#include "CTacetSys.h"
#include <errno.h>
#include <fcntl.h>

#if defined(__linux__)
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdint.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

struct tacet_open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};

#define TACET_RESOLVE_NO_MAGICLINKS 0x02
#define TACET_RESOLVE_BENEATH 0x08

int tacet_openat_beneath(int dirfd, const char *path, int flags) {
    struct tacet_open_how how = { (uint64_t)(unsigned int)flags, 0, TACET_RESOLVE_BENEATH | TACET_RESOLVE_NO_MAGICLINKS };
    long r = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
    return r < 0 ? -errno : (int)r;
}
#else
int tacet_openat_beneath(int dirfd, const char *path, int flags) {
    (void)dirfd; (void)path; (void)flags;
    return -ENOSYS;
}
#endif

#if defined(__linux__)
int tacet_set_batch_scheduling(void) {
    struct sched_param param = { 0 };
    return sched_setscheduler(0, SCHED_BATCH, &param) == 0 ? 0 : -errno;
}
#else
int tacet_set_batch_scheduling(void) {
    return -ENOSYS;
}
#endif

int tacet_o_path(void) {
#ifdef O_PATH
    return O_PATH;
#else
    return 0;
#endif
}
