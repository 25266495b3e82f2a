# Sourced by scripts/socprof and scripts/test: installs what socprof needs on Debian/Ubuntu.
# Usage: socprof_install_deps [--with-perf]

socprof_say() { printf 'socprof: %s\n' "$*" >&2; }

socprof_apt_install() {
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
            socprof_say "need root (or sudo) to install: $*"; return 1
        fi
    fi
    socprof_say "installing $* (apt-get)"
    $sudo apt-get update -qq >&2 || { socprof_say "apt-get update failed"; return 1; }
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >&2
}

socprof_install_deps() {
    local with_perf=0
    [ "${1:-}" = "--with-perf" ] && with_perf=1
    if ! command -v swift >/dev/null 2>&1; then
        socprof_say "Swift is not installed (or not on PATH); socprof needs Swift 6.0 or later from swift.org"
        return 1
    fi
    local missing=()
    [ -f /usr/include/perfmon/pfmlib_perf_event.h ] || missing+=(libpfm4-dev)
    [ -f /usr/include/linux/perf_event.h ] || missing+=(linux-libc-dev)
    if [ ${#missing[@]} -gt 0 ]; then
        if ! command -v apt-get >/dev/null 2>&1; then
            socprof_say "missing ${missing[*]}: install libpfm4's headers and the Linux UAPI headers with your package manager"
            return 1
        fi
        socprof_apt_install "${missing[@]}" || return 1
    fi
    if [ "$with_perf" = 1 ] && ! perf --version >/dev/null 2>&1; then
        # The tests compare socprof stat against perf stat.
        if command -v apt-get >/dev/null 2>&1; then
            if apt-cache show linux-perf >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 || sudo apt-get update -qq >/dev/null 2>&1; apt-cache show linux-perf >/dev/null 2>&1; }; then
                socprof_apt_install linux-perf || socprof_say "could not install linux-perf; the perf comparison test will fail"
            else
                socprof_apt_install linux-tools-common "linux-tools-$(uname -r)" || socprof_say "could not install perf; the perf comparison test will fail"
            fi
        fi
    fi
    return 0
}

# LLVM 15's machine-code analyser and disassembler (package llvm-15: llvm-mca-15, llvm-objdump-15),
# for scripts/bench/arm-kernels. Prints the directory holding them.
socprof_install_llvm_mca() {
    local dir=/usr/lib/llvm-15/bin
    if [ ! -x "$dir/llvm-mca" ] || [ ! -x "$dir/llvm-objdump" ]; then
        if ! command -v apt-get >/dev/null 2>&1; then
            socprof_say "missing llvm-mca-15: install LLVM 15 (Debian/Ubuntu package llvm-15)"
            return 1
        fi
        socprof_apt_install llvm-15 || return 1
    fi
    [ -x "$dir/llvm-mca" ] || { socprof_say "llvm-15 installed, but no $dir/llvm-mca"; return 1; }
    echo "$dir"
}
