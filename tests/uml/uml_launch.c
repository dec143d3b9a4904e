/* uml_launch: exec linux.uml (argv[1...]) so that it saves and restores
 * its guests' registers in the FXSAVE format instead of XSAVE.
 *
 * Debian's user-mode-linux 6.1 sizes its XSAVE buffer for AVX. A host
 * whose XSAVE area is larger (AVX-512, AMX: 11008 bytes here) refuses
 * PTRACE_SETREGSET(NT_X86_XSTATE) with a buffer of another size (EFAULT),
 * and the guest's init dies at its first system call ("ptrace set fp regs
 * failed, errno = 14"). UML uses XSAVE only when its probe,
 * PTRACE_GETREGSET(NT_X86_XSTATE), succeeds: a seccomp filter makes that
 * request fail with EIO, and UML falls back to PTRACE_GETFPREGS, which
 * every x86-64 host takes. That format holds x87 and SSE state only: a
 * page fault in a guest process then resets its AVX registers (its
 * host-side handler runs with a fresh vector state that UML does not
 * restore; with XSAVE the same happens to AVX-512 state), so the guest
 * must not use AVX: the init script sets GLIBC_TUNABLES and
 * OPENSSL_ia32cap, and our own code is built for baseline x86-64. The filter touches nothing else; the guest's own
 * system calls are emulated by UML and never reach it.
 *
 * Exit 127 when exec fails, 1 when the filter cannot be installed. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RS_PTRACE_GETREGSET 0x4204
#define RS_PTRACE_SETREGSET 0x4205
#define RS_NT_X86_XSTATE 0x202

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s linux.uml [ARG]...\n", argv[0]);
		return 2;
	}
#if defined(__x86_64__)
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 7),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ptrace, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, RS_PTRACE_GETREGSET, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, RS_PTRACE_SETREGSET, 0, 2),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, RS_NT_X86_XSTATE, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EIO),
	};
	struct sock_fprog prog = { (unsigned short)(sizeof(f) / sizeof(f[0])), f };

	/* No new privileges: an unprivileged process may then filter itself. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
		fprintf(stderr, "uml_launch: seccomp: %s\n", strerror(errno));
		return 1;
	}
#endif
	execvp(argv[1], argv + 1);
	fprintf(stderr, "uml_launch: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
