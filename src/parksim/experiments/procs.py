"""Worker processes end with the process that started them, even when it is killed (SIGKILL)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Make this (worker) process end when ``parent_pid`` ends.

    On Linux the kernel sends SIGKILL when the parent dies (``prctl(PR_SET_PDEATHSIG)``); elsewhere a daemon
    thread polls the parent's PID once a second. If the parent is already gone (it died before this ran), the
    worker ends at once.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent_pid:
                    os._exit(1)
                return
        except (OSError, AttributeError):  # pragma: no cover - no libc prctl: fall back to polling
            pass

    def watch() -> None:  # pragma: no cover - platforms without prctl
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(1.0)

    threading.Thread(target=watch, name="parksim-parent-watch", daemon=True).start()
