#!/bin/busybox sh
# /init of the emulated arm64 board (scripts/arm-board): PID 1 in a busybox initramfs. Mounts the
# kernel's file systems, runs /board/command (written by scripts/arm-board for each run) in /work
# as root or, with /board/user, as the unprivileged user "board" (uid 1000), and powers off.
# The command's stderr goes to the console as it comes; its stdout is kept and printed at the end
# in base64 between markers, so that scripts/arm/console.py gives the host the exact bytes apart
# from kernel messages; the exit status follows in the last marker.
/bin/busybox mkdir -p /proc /sys /dev /tmp /run
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
/bin/busybox mount -t tmpfs tmpfs /tmp
/bin/busybox mkdir -p /dev/pts /dev/shm
/bin/busybox mount -t devpts devpts /dev/pts 2>/dev/null
/bin/busybox mount -t tmpfs tmpfs /dev/shm 2>/dev/null
# Foundation's Process watches its children through CFSocket, whose wakeup socket pair is bound to
# 127.0.0.1: without the loopback interface up, Process.run() logs "Could not create wakeup socket
# pair" and waitUntilExit() never returns.
/bin/busybox ifconfig lo 127.0.0.1 up 2>/dev/null || /bin/busybox ip link set lo up 2>/dev/null
/bin/busybox --install -s /bin 2>/dev/null
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
export HOME=/root LANG=C.UTF-8 TMPDIR=/tmp NO_COLOR=1
export SOCPROF_DATA=/src/socprof
export SOCPROF_MALLOC_COUNTER=/src/socprof/.build/malloc_count.so  # built by scripts/arm-board (no C compiler here)
chmod 1777 /tmp
chown -R 1000:1000 /work
cd /work
stty -onlcr 2>/dev/null
[ -f /board/setup ] && . /board/setup
echo "@@SOCPROF-BEGIN@@"
if [ -f /board/user ]; then
    # busybox's setpriv cannot change the user; its su can (root needs no password).
    su -s /bin/sh board -c 'sh /board/command' >/tmp/stdout 2>/dev/console
    status=$?
else
    sh /board/command >/tmp/stdout 2>/dev/console
    status=$?
fi
echo "@@SOCPROF-STDOUT@@"
base64 /tmp/stdout
echo "@@SOCPROF-EXIT $status@@"
sync
poweroff -f
