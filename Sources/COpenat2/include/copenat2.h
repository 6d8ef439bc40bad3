#ifndef COPENAT2_H
#define COPENAT2_H

#include <stdint.h>

/* The RESOLVE_* flags of openat2(2), from <linux/openat2.h>. */
#define COPENAT2_RESOLVE_NO_XDEV 0x01
#define COPENAT2_RESOLVE_NO_MAGICLINKS 0x02
#define COPENAT2_RESOLVE_NO_SYMLINKS 0x04
#define COPENAT2_RESOLVE_BENEATH 0x08

/* openat2(2) through syscall(2): glibc has no wrapper before 2.38, and Swift cannot call the
 * variadic syscall(). Returns a descriptor, or -1 with errno set (ENOSYS where the kernel or
 * the platform has no openat2). */
int copenat2_open(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);

#endif
