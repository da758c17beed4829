"""One run at a time in an output folder; a folder never shows a manifest beside another run's files.

A run (or comparison) holds ``DIR/.parksim.lock`` while it works in ``DIR``: an exclusive ``flock`` on the
file, which also holds the owner's PID, host, start time and command for the message a second run gets. The
kernel releases the lock when its owner dies, however it dies (SIGKILL included), so a lock left by a dead
process is simply taken over. On taking the lock, hidden ``.*.part`` files of killed writes are removed (no
other parksim process can be writing them).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from parksim.errors import InputError

__all__ = ["LOCK_NAME", "OutputLock", "output_lock", "remove_part_files"]

LOCK_NAME = ".parksim.lock"
_HELD: dict[Path, list] = {}  # folder -> [lock, depth]: a process may take its own lock again (run, then write)
_HELD_LOCK = threading.Lock()


class LockedError(InputError):
    """The output folder is in use by another parksim process."""


def remove_part_files(directory: Path) -> list[Path]:
    """Remove the hidden ``.NAME.XXXX.part`` files a killed write left in ``directory`` (and its scenario folders)."""
    removed = []
    for pattern in (".*.part", "scenarios/*/.*.part"):
        for p in directory.glob(pattern):
            try:
                p.unlink()
                removed.append(p)
            except FileNotFoundError:
                pass
    return removed


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another parksim process"
    return f"parksim process {info.get('pid')} on {info.get('host')} (since {info.get('started')}: {info.get('command')})"


class OutputLock:
    """An exclusive lock on an output folder (see the module's notes)."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.path = self.directory / LOCK_NAME
        self.fd: int | None = None
        self.created = False

    def acquire(self) -> OutputLock:
        self.created = not self.directory.exists()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise InputError(f"{self.directory}: is a file; expected an output folder") from None
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                os.close(fd)
                if err.errno in (errno.EAGAIN, errno.EACCES):
                    raise LockedError(
                        f"{self.directory} is in use by {_holder(self.path)}; wait for it to finish or choose another --out"
                    ) from None
                raise
            try:  # the file may have been removed by its last owner between our open and our lock: lock the new one
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv) or "python",
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        self.fd = fd
        remove_part_files(self.directory)
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)  # unlinked while still locked: a waiting opener re-checks the inode
        finally:
            os.close(self.fd)
            self.fd = None
        if self.created:  # a run that failed before writing leaves no empty folder behind
            try:
                self.directory.rmdir()
            except OSError:
                pass

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


class output_lock:  # noqa: N801 - used as a context manager, like open()
    """Hold the lock on ``directory`` for the duration of a ``with`` block; re-entrant within a process."""

    def __init__(self, directory: str | Path):
        self.key = Path(directory).resolve()
        self.directory = Path(directory)

    def __enter__(self):
        with _HELD_LOCK:
            held = _HELD.get(self.key)
            if held is not None:
                held[1] += 1
                return held[0]
            lock = OutputLock(self.directory).acquire()
            _HELD[self.key] = [lock, 1]
            return lock

    def __exit__(self, *exc) -> None:
        with _HELD_LOCK:
            held = _HELD[self.key]
            held[1] -= 1
            if held[1] == 0:
                del _HELD[self.key]
                held[0].release()
