#!/usr/bin/env bash
# Installs the RISC-V C toolchain and QEMU from Debian 12 (bookworm) packages,
# unless they are already present.  Called by `make toolchain`.
#
# Why Debian packages: QEMU is not distributed on PyPI, so one system package is
# needed anyway; Debian's cross GCC (12.2) is 50 MB against ziglang's 400 MB,
# and it is the compiler xv6 is usually built with.  The versions below are the
# ones the project is tested with; a different version prints a warning.
set -euo pipefail

GCC_PKG=gcc-riscv64-unknown-elf
BINUTILS_PKG=binutils-riscv64-unknown-elf
QEMU_PKG=qemu-system-misc
WANT_GCC=12.2.0
WANT_QEMU=7.2

have() { command -v "$1" >/dev/null 2>&1; }

if ! have riscv64-unknown-elf-gcc || ! have riscv64-unknown-elf-objcopy || ! have qemu-system-riscv64; then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        if have sudo; then SUDO=sudo; else
            echo "install-toolchain: need root (or sudo) to install $GCC_PKG $BINUTILS_PKG $QEMU_PKG" >&2
            exit 1
        fi
    fi
    if ! have apt-get; then
        echo "install-toolchain: no apt-get here; install a riscv64-unknown-elf GCC and qemu-system-riscv64 ($WANT_QEMU or newer) yourself" >&2
        exit 1
    fi
    echo "install-toolchain: installing $GCC_PKG $BINUTILS_PKG $QEMU_PKG"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        "$GCC_PKG" "$BINUTILS_PKG" "$QEMU_PKG" >/dev/null
fi

gcc_version=$(riscv64-unknown-elf-gcc -dumpversion)
qemu_version=$(qemu-system-riscv64 --version | head -n1 | sed -E 's/.*version ([0-9]+\.[0-9]+).*/\1/')
[ "$gcc_version" = "$WANT_GCC" ] || echo "install-toolchain: warning: riscv64-unknown-elf-gcc $gcc_version, tested with $WANT_GCC" >&2
[ "$qemu_version" = "$WANT_QEMU" ] || echo "install-toolchain: warning: QEMU $qemu_version, tested with $WANT_QEMU" >&2
echo "install-toolchain: riscv64-unknown-elf-gcc $gcc_version, qemu-system-riscv64 $qemu_version"
