#!/usr/bin/env python3
"""Runs the emulated board (a qemu-system command line) and turns its serial console back into the
guest command's stderr, stdout and exit status (see guest-init.sh for the markers).

    console.py [--timeout S] [--log FILE] -- QEMU ARGS...

Exit status: the guest command's; 124 when the timeout ran out (the guest is killed); 125 when the
guest never reached its command or never reported a status (the console so far is printed).
"""
import base64
import os
import subprocess
import sys
import threading

BEGIN, STDOUT, EXIT = b"@@SOCPROF-BEGIN@@", b"@@SOCPROF-STDOUT@@", b"@@SOCPROF-EXIT "


def main(argv):
    timeout, log_path = None, None
    while argv and argv[0] != "--":
        if argv[0] == "--timeout":
            timeout = float(argv[1]); argv = argv[2:]
        elif argv[0] == "--log":
            log_path = argv[1]; argv = argv[2:]
        else:
            sys.exit(f"console.py: unknown option {argv[0]}")
    qemu = argv[1:]
    if not qemu:
        sys.exit("console.py: no qemu command after --")
    log = open(log_path, "wb") if log_path else None
    proc = subprocess.Popen(qemu, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    timed_out = threading.Event()

    def expire():
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout, expire) if timeout else None
    if timer:
        timer.daemon = True
        timer.start()
    state, boot, encoded, status = "boot", [], [], None
    err = sys.stderr.buffer
    for raw in proc.stdout:
        if log:
            log.write(raw); log.flush()
        line = raw.replace(b"\r", b"")
        if state == "boot":
            if line.rstrip(b"\n") == BEGIN:
                state = "stderr"
            else:
                boot.append(line)
        elif state == "stderr":
            if line.rstrip(b"\n") == STDOUT:
                state = "stdout"
            else:
                err.write(line); err.flush()
        elif state == "stdout":
            if line.startswith(EXIT):
                status = int(line[len(EXIT):].split(b"@@")[0])
                state = "done"
            else:
                encoded.append(line.strip())
    proc.wait()
    if timer:
        timer.cancel()
    if encoded:
        sys.stdout.buffer.write(base64.b64decode(b"".join(encoded)))
        sys.stdout.buffer.flush()
    if timed_out.is_set():
        print(f"arm-board: the guest was stopped after {timeout:g} s (--timeout)", file=sys.stderr)
        return 124
    if status is None:
        if state == "boot":
            err.write(b"".join(boot[-40:]))
            print("arm-board: the guest did not reach its command (console above)", file=sys.stderr)
        else:
            print("arm-board: the guest stopped without reporting the command's exit status", file=sys.stderr)
        return 125
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
