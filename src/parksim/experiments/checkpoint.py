"""Checkpoints of a long run: append-only blocks of replications, validated before a run resumes from them.

File layout (``DIR/checkpoint.blocks``)::

    b"PARKSIM-CHECKPOINT 1\\n"
    header length (8 bytes, little-endian) + header (JSON: seed, scenario hash, column names, engine, years)
    block* : b"BLK1" + start, replications, data bytes (3 x 8 bytes) + SHA-256 of the data (32 bytes)
             + the values, float64 little-endian, shape (replications, years, columns)

The first batch writes the file atomically (header and block 0); every later batch appends one block and
syncs it, so saving costs one batch's bytes, not the whole run's (the old single-array file was rewritten
after every batch: 289 MB after 47 s of a run of a billion replications). A block cut short by an
interruption while it was being appended is dropped on resume (its replications run again); anything else
that does not check out (magic, header, a block's shape, order or hash, a value that is not finite or out of
its indicator's range, another scenario, seed or engine) refuses the resume with a message naming the file.

A run on a cluster (:mod:`parksim.experiments.cluster`) finishes its blocks of replications in any order: its
checkpoint's header says ``"order": "finished"``, and each block is appended as it finishes, with its first
replication. Such blocks may come in any order but never overlap; :meth:`Checkpoint.load_blocks` returns them all
(a resumed run computes only the replications none holds), :meth:`Checkpoint.load` their contiguous start.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path

import numpy as np

from parksim.errors import InputError, Problem
from parksim.scenario.finite import ResultError, assessed_parks, check_finite, check_ranges, unlimited

MAGIC = b"PARKSIM-CHECKPOINT 1\n"
BLOCK = b"BLK1"
_BLOCK_HEAD = struct.Struct("<4sQQQ32s")
_LEN = struct.Struct("<Q")
#: largest header accepted (it holds the column names: a few kB)
MAX_HEADER_BYTES = 2**20


class CheckpointError(InputError):
    """A checkpoint that cannot be resumed from: corrupt, forged, or of another run (not a scenario problem)."""


def _err(path, message: str) -> CheckpointError:
    return CheckpointError(f"invalid checkpoint: {Problem(str(path), '', message)}")


class Checkpoint:
    """The checkpoint of one run (scenario, seed, engine) at ``path``."""

    def __init__(self, path, scenario, seed: int, engine: str, any_order: bool = False):
        from parksim.experiments.result import column_names
        from parksim.scenario.loader import scenario_hash

        self.path = Path(path)
        self.scenario = scenario
        self.header = {
            "seed": str(int(seed)),
            # a run from a posterior is another run than the prior's: the given parameters' digest is part of it
            "sha256": scenario_hash(scenario) + (f"+{scenario._given.digest}" if scenario._given is not None else ""),
            "names": column_names(scenario),
            "engine": engine,
            "years": scenario.simulation.years,
        }
        self.count = 0  # replications in the file (None: the file is not this run's yet)
        self.ours = False
        #: blocks are appended as they finish, in any order (a cluster's run): the header says so
        self.any_order = any_order
        self._ranges: list[tuple[int, int]] = []  # (start, stop) of the blocks saved, in any-order files

    def _head(self) -> bytes:
        head = dict(self.header, order="finished") if self.any_order else self.header
        return json.dumps(head).encode("utf-8")

    def _create(self, blocks: bytes) -> None:
        from parksim.results.output import atomic_write

        head = self._head()
        payload = MAGIC + _LEN.pack(len(head)) + head

        def write(p):
            with open(p, "wb") as fh:
                fh.write(payload + blocks)

        atomic_write(self.path, write)
        self.ours = True

    # --- writing -------------------------------------------------------------------------
    def add(self, values: np.ndarray, start: int) -> None:
        """Save replications ``start ..`` (``values``: (n, years, columns)) after those already saved (in an any-order
        checkpoint: beside them, anywhere they do not overlap)."""
        block = _block(values, start)
        if self.any_order:
            stop = start + len(values)
            if any(a < stop and start < b for a, b in self._ranges):
                raise AssertionError(f"block {start}..{stop} overlaps one saved")  # pragma: no cover
            if not self.ours:
                self._create(block)
            else:
                self._append(block)
            if len(values):
                self._ranges.append((start, stop))
            self.count += len(values)
            return
        if not self.ours or start == 0:
            if start != 0:
                raise AssertionError("a checkpoint starts at replication 0")  # pragma: no cover
            self._create(block)
        else:
            if start != self.count:
                raise AssertionError(f"block starts at {start}, checkpoint holds {self.count}")  # pragma: no cover
            self._append(block)
        self.count = start + len(values)

    def _append(self, block: bytes) -> None:
        with open(self.path, "ab") as fh:
            fh.write(block)
            fh.flush()
            os.fsync(fh.fileno())

    # --- reading -------------------------------------------------------------------------
    def load(self) -> np.ndarray | None:
        """The replications saved for this run (None if there is no checkpoint), validated; raises
        :class:`CheckpointError` if the file is not a checkpoint of this run or does not check out.

        Of an any-order checkpoint: its replications from 0 up to the first one no block holds."""
        blocks = self.load_blocks()
        if blocks is None:
            return None
        parts, n = [], 0
        for start, values in blocks:
            if start != n:
                break
            parts.append(values)
            n += len(values)
        years, n_cols = int(self.header["years"]), len(self.header["names"])
        return np.concatenate(parts) if parts else np.empty((0, years, n_cols))

    def load_blocks(self) -> list[tuple[int, np.ndarray]] | None:
        """Every block saved for this run, ``(first replication, values)`` by first replication (None if there is no
        checkpoint), validated as :meth:`load` says. Further blocks are appended to the file; if this run adds
        blocks in any order and the file holds blocks in order, the file is first rewritten as an any-order one."""
        from parksim.scenario.inputs import read_bytes

        if not self.path.exists():
            return None
        size = self.path.stat().st_size if self.path.is_file() else 0
        raw = read_bytes(self.path, max(size, 1), "checkpoint")  # a regular file (a device or pipe is refused)
        if not raw.startswith(MAGIC):
            raise _err(self.path, "not a parksim checkpoint (it does not start with the checkpoint header); delete it to start afresh")
        pos = len(MAGIC)
        if len(raw) < pos + _LEN.size:
            raise _err(self.path, "checkpoint cut short in its header; delete it to start afresh")
        (n_head,) = _LEN.unpack_from(raw, pos)
        pos += _LEN.size
        if n_head > MAX_HEADER_BYTES or len(raw) < pos + n_head:
            raise _err(self.path, "checkpoint cut short in its header (or a header of absurd length); delete it to start afresh")
        try:
            head = json.loads(raw[pos : pos + n_head].decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise _err(self.path, "checkpoint header is not readable; delete it to start afresh") from None
        pos += n_head
        keys = ("seed", "sha256", "names", "engine", "years")
        if not isinstance(head, dict) or any(k not in head for k in keys):
            missing = [k for k in keys if not isinstance(head, dict) or k not in head]
            raise _err(self.path, f"checkpoint header lacks {missing}; delete it to start afresh")
        same_run = all(head[k] == self.header[k] for k in ("seed", "sha256", "names", "years"))
        if same_run and head["engine"] != self.header["engine"]:
            e = head["engine"]
            raise _err(self.path, f"checkpoint of the {e} engine; this run uses the {self.header['engine']} engine (use --engine {e})")
        if not same_run:
            raise _err(
                self.path, "checkpoint of another scenario, seed or parksim version; expected the same run (delete it to start afresh)"
            )
        n_cols, years = len(self.header["names"]), int(self.header["years"])
        file_any = head.get("order") == "finished"
        blocks, ranges, count, good_end = [], [], 0, pos
        while pos < len(raw):
            if len(raw) - pos < _BLOCK_HEAD.size:
                break  # a block header cut short: the last save was interrupted
            tag, start, n, nbytes, digest = _BLOCK_HEAD.unpack_from(raw, pos)
            if tag != BLOCK:
                raise _err(self.path, f"checkpoint block at byte {pos} is not a block; delete it to start afresh")
            overlaps = file_any and any(a < start + n and start < b for a, b in ranges)
            if (start != count and not file_any) or overlaps or nbytes != n * years * n_cols * 8 or n == 0:
                expected = "replications no other block holds" if file_any else f"replications from {count}"
                raise _err(
                    self.path,
                    f"checkpoint block at byte {pos} holds replications {start}.. ({n} of {years} years x {n_cols} columns,"
                    f" {nbytes} bytes); expected {expected} with {n * years * n_cols * 8} bytes. Delete it to start afresh",
                )
            body = raw[pos + _BLOCK_HEAD.size : pos + _BLOCK_HEAD.size + nbytes]
            if len(body) < nbytes:
                break  # the last block cut short: its replications run again
            if hashlib.sha256(body).digest() != digest:
                raise _err(
                    self.path, f"checkpoint block of replications {start}-{start + n - 1} fails its checksum; delete it to start afresh"
                )
            blocks.append((start, np.frombuffer(body, dtype="<f8").reshape(n, years, n_cols).astype(np.float64)))
            ranges.append((start, start + n))
            count += n
            pos += _BLOCK_HEAD.size + nbytes
            good_end = pos
        blocks.sort(key=lambda b: b[0])
        values = np.concatenate([v for _, v in blocks]) if blocks else np.empty((0, years, n_cols))
        scn = self.scenario
        statuses = len(scn.assessment.statuses) if scn.assessment is not None else 0
        try:
            seed, assessed = int(self.header["seed"]), assessed_parks(scn)
            check_finite(values, self.header["names"], scn.simulation.start_year, seed, assessed, infinite_ok=unlimited(scn))
            check_ranges(values, self.header["names"], scn.simulation.start_year, statuses)
        except ResultError as err:
            raise _err(self.path, f"checkpoint holds values no run can produce: {err}; delete it to start afresh") from None
        if good_end < len(raw):
            with open(self.path, "r+b") as fh:  # drop the interrupted save before appending after it
                fh.truncate(good_end)
        self.ours, self.count = True, count
        if file_any or self.any_order:
            self._ranges = sorted(ranges)
            if not file_any:  # blocks of a run in order, continued in any order: the header must say so first
                self.any_order = True
                self._create(b"".join(_block(v, start) for start, v in blocks))
            self.any_order = True
        return blocks


def _block(values: np.ndarray, start: int) -> bytes:
    """One block of a checkpoint: its head (first replication, count, bytes, SHA-256) and ``values`` (b"" if empty)."""
    data = np.ascontiguousarray(values, dtype="<f8").tobytes()
    return _BLOCK_HEAD.pack(BLOCK, start, len(values), len(data), hashlib.sha256(data).digest()) + data if len(values) else b""


def saved_replications(path) -> int:
    """How many replications the checkpoint at ``path`` holds (complete blocks), without checking the run."""
    raw = Path(path).read_bytes()
    pos = len(MAGIC)
    (n_head,) = _LEN.unpack_from(raw, pos)
    pos += _LEN.size + n_head
    count = 0
    while len(raw) - pos >= _BLOCK_HEAD.size:
        _, _, n, nbytes, _ = _BLOCK_HEAD.unpack_from(raw, pos)
        if len(raw) - pos - _BLOCK_HEAD.size < nbytes:
            break
        count += n
        pos += _BLOCK_HEAD.size + nbytes
    return count
