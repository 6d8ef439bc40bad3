#define _GNU_SOURCE
#include "copenat2.h"

#include <errno.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/syscall.h>
#ifndef SYS_openat2
#define SYS_openat2 437 /* the same number on every architecture */
#endif

/* struct open_how of <linux/openat2.h> */
struct copenat2_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};

int copenat2_open(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct copenat2_how how = {.flags = flags, .mode = mode, .resolve = resolve};
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}
#else
int copenat2_open(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    (void)dirfd; (void)path; (void)flags; (void)mode; (void)resolve;
    errno = ENOSYS;
    return -1;
}
#endif
