"""GPU assignment for jobs that share one machine.

Snakemake's ``--resources gpu=N`` caps how many GPUs the running jobs request together, but it does
not tell a job *which* devices to use. ``claim_gpus(n)`` does: it picks ``n`` free device ids, holds
an exclusive lock on each for as long as the job runs, and exports ``CUDA_VISIBLE_DEVICES``.

* Under Slurm (or whenever ``CUDA_VISIBLE_DEVICES`` is already set) the devices were chosen for us:
  nothing is claimed and the environment is left alone. Same for ``n == 0``.
* The number of devices comes from ``WEAKSTRONG_NUM_GPUS``, else ``nvidia-smi -L``, else 0.
* Locks are ``fcntl.flock`` locks on ``<lock_dir>/gpu-<id>.lock`` (default lock dir:
  ``WEAKSTRONG_GPU_LOCK_DIR``, else ``<tmp>/weakstrong-gpu-locks``). The kernel drops a lock when its
  holder dies, so a killed job never leaves a device blocked; the PID written into the file is only
  for diagnostics.

In Python::

    with claim_gpus(resources.gpu) as devices:   # e.g. [2, 3]; [] under Slurm, which chose them
        run_vllm(tensor_parallel_size=resources.gpu)

Around a command (shell rules, e.g. ``accelerate launch``)::

    python -m weakstrong.devices run --gpus {resources.gpu} -- \\
        accelerate launch --num_processes {resources.gpu} ...
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ENV_NUM_GPUS = "WEAKSTRONG_NUM_GPUS"
ENV_LOCK_DIR = "WEAKSTRONG_GPU_LOCK_DIR"
VISIBLE = "CUDA_VISIBLE_DEVICES"


class GPUClaimError(RuntimeError):
    """Not enough (free) GPUs for a job."""


def count_gpus() -> int:
    """Devices on this machine: ``WEAKSTRONG_NUM_GPUS``, else ``nvidia-smi -L``, else 0."""
    value = os.environ.get(ENV_NUM_GPUS, "").strip()
    if value:
        if not value.isdigit():
            raise GPUClaimError(f"{ENV_NUM_GPUS} must be a non-negative integer, not {value!r}")
        return int(value)
    smi = shutil.which("nvidia-smi")
    if not smi:
        return 0
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return 0
    if out.returncode != 0:
        return 0
    return sum(1 for line in out.stdout.splitlines() if re.match(r"GPU \d+:", line.strip()))


def default_lock_dir() -> Path:
    return Path(os.environ.get(ENV_LOCK_DIR) or Path(tempfile.gettempdir()) / "weakstrong-gpu-locks")


def _lock_path(lock_dir: Path, device: int) -> Path:
    return lock_dir / f"gpu-{device}.lock"


def _open_lock_file(path: Path) -> int:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except PermissionError:  # created by another user: a read-only descriptor can still be flock'ed
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    with contextlib.suppress(OSError):
        os.fchmod(fd, 0o666)
    return fd


@contextlib.contextmanager
def _scan_lock(lock_dir: Path) -> Iterator[None]:
    """Exclusive, blocking: held only while a claim scans the device locks (microseconds)."""
    fd = _open_lock_file(lock_dir / "scan.lock")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _try_lock(lock_dir: Path, device: int, shared: bool = False) -> int | None:
    """Lock one device's file: the open descriptor, or None if another claim holds it."""
    fd = _open_lock_file(_lock_path(lock_dir, device))
    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except OSError as e:
        os.close(fd)
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return None
        raise
    if not shared:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _release(fds: dict[int, int]) -> None:
    for fd in fds.values():
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    fds.clear()


def _holder(lock_dir: Path, device: int) -> str:
    try:
        return _lock_path(lock_dir, device).read_text().strip() or "?"
    except OSError:
        return "?"


def holders(lock_dir: Path | str | None = None, total: int | None = None) -> dict[int, str | None]:
    """For each device, the PID (as written in its lock file) of the process holding it, or None if free."""
    lock_dir = Path(lock_dir) if lock_dir else default_lock_dir()
    total = count_gpus() if total is None else total
    result: dict[int, str | None] = {}
    for device in range(total):
        if not _lock_path(lock_dir, device).exists():
            result[device] = None
            continue
        fd = _try_lock(lock_dir, device, shared=True)  # probe without taking the device
        if fd is None:
            result[device] = _holder(lock_dir, device)
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            result[device] = None
    return result


def _acquire(n: int, lock_dir: Path | str | None, wait: float, poll: float) -> dict[int, int]:
    """Lock ``n`` free devices: {device id: lock descriptor}. Raises GPUClaimError."""
    total = count_gpus()
    if total < n:
        source = ENV_NUM_GPUS if os.environ.get(ENV_NUM_GPUS, "").strip() else "nvidia-smi -L"
        raise GPUClaimError(
            f"this job needs {n} GPU(s) but the machine has {total} (counted from {source}). Lower the "
            f"rule's gpu resource, or run on a machine/partition with more GPUs.")
    lock_dir = Path(lock_dir) if lock_dir else default_lock_dir()
    lock_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(lock_dir, 0o1777)  # shared by every user's jobs on this machine, like /tmp
    deadline = time.monotonic() + wait
    fds: dict[int, int] = {}
    while True:
        busy = []
        # One claimer scans at a time: two concurrent claims could otherwise each lock half of the free
        # devices, both give up, and neither run although the devices suffice for one of them.
        with _scan_lock(lock_dir):
            for device in range(total):
                if len(fds) == n:
                    break
                fd = _try_lock(lock_dir, device)
                if fd is None:
                    busy.append(device)
                else:
                    fds[device] = fd
            if len(fds) == n:
                return fds
            # Keep nothing while waiting, so two waiting jobs cannot each sit on half of what they need.
            _release(fds)
        if time.monotonic() >= deadline:
            held = {device: _holder(lock_dir, device) for device in busy}
            raise GPUClaimError(
                f"this job needs {n} GPU(s) but only {total - len(busy)} of {total} are free (held by "
                f"PIDs {held}; locks in {lock_dir}). Is --resources gpu=N larger than the number of GPUs, "
                f"or does another workflow use this machine?")
        time.sleep(poll)


@contextlib.contextmanager
def claim_gpus(n: int, lock_dir: Path | str | None = None, wait: float = 0.0,
               poll: float = 0.5) -> Iterator[list[int]]:
    """Claim ``n`` GPUs for the duration of the ``with`` block; yields the device ids.

    Does nothing (yields ``[]``) when ``n == 0`` or ``CUDA_VISIBLE_DEVICES`` is already set. Waits up to
    ``wait`` seconds for busy devices to come free, then raises ``GPUClaimError``; raises at once if the
    machine has fewer than ``n`` devices.
    """
    n = int(n)
    if n < 0:
        raise GPUClaimError(f"cannot claim {n} GPUs")
    if n == 0 or VISIBLE in os.environ:
        yield []
        return
    fds = _acquire(n, lock_dir, wait, poll)
    try:
        devices = sorted(fds)
        os.environ[VISIBLE] = ",".join(map(str, devices))
        try:
            yield devices
        finally:
            os.environ.pop(VISIBLE, None)
    finally:
        _release(fds)


def exec_on_gpus(n: int, cmd: list[str], lock_dir: Path | str | None = None, wait: float = 0.0) -> None:
    """Claim ``n`` GPUs and replace this process by ``cmd`` (never returns).

    The command inherits the lock descriptors, so it holds the devices until it (and every child that
    kept the descriptors) exits; signals and the exit status are the command's own.
    """
    n = int(n)
    if n > 0 and VISIBLE not in os.environ:
        fds = _acquire(n, lock_dir, wait, 0.5)
        for fd in fds.values():
            os.set_inheritable(fd, True)
        os.environ[VISIBLE] = ",".join(map(str, sorted(fds)))
    os.execvp(cmd[0], cmd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m weakstrong.devices", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    run = sub.add_parser("run", help="run a command on N claimed GPUs")
    run.add_argument("--gpus", type=int, required=True)
    run.add_argument("--lock-dir", type=Path, default=None)
    run.add_argument("--wait", type=float, default=0.0, help="seconds to wait for busy GPUs [0]")
    run.add_argument("command", nargs=argparse.REMAINDER)
    status = sub.add_parser("status", help="show which devices are claimed")
    status.add_argument("--lock-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.action == "run":
        cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
        if not cmd:
            parser.error("run: no command given (use: run --gpus N -- CMD ...)")
        try:
            exec_on_gpus(args.gpus, cmd, lock_dir=args.lock_dir, wait=args.wait)
        except GPUClaimError as e:
            print(f"weakstrong.devices: {e}", file=sys.stderr)
            return 3
    for device, pid in holders(args.lock_dir).items():
        print(f"gpu {device}: {'held by pid ' + pid if pid else 'free'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
