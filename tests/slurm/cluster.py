"""A real single-node Slurm cluster on this machine, for the test suite.

Brings up ``munged`` (private key and socket), ``slurmctld`` and ``slurmd`` from Debian's packages with
every file under one directory, waits until the node is idle, and stops the daemons by PID afterwards.

Library use (the pytest fixture in ``tests/slurm/fixtures.py``)::

    cluster = LocalSlurm(Path("/tmp/some-dir"))
    cluster.start()            # raises ClusterError with the daemon logs on failure
    subprocess.run(["sinfo"], env=cluster.env())
    cluster.stop()

Command line (from the repository root, as root)::

    python3 tests/slurm/cluster.py start  [--dir DIR]   # installs slurm-wlm + munge if missing
    python3 tests/slurm/cluster.py status [--dir DIR]
    python3 tests/slurm/cluster.py stop   [--dir DIR]

``start`` prints the ``export SLURM_CONF=...`` line that points sbatch/squeue/sinfo at the cluster.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "slurm.conf.in"
DEFAULT_DIR = Path(tempfile.gettempdir()) / f"weakstrong-slurm-{os.getuid()}"
PACKAGES = ("slurm-wlm", "munge")
BINARIES = ("munged", "munge", "unmunge", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol", "scancel")
# Names as they appear in /proc/<pid>/comm (truncated to 15 characters by the kernel).
DAEMONS = ("munged", "slurmctld", "slurmd")
MARK = "WEAKSTRONG_TEST_SLURM"


class ClusterError(RuntimeError):
    """The cluster could not be installed, started or reached."""


def missing_binaries() -> list[str]:
    return [b for b in BINARIES if not shutil.which(b) and not Path("/usr/sbin", b).exists()]


def ensure_installed(log=print) -> str | None:
    """Install Slurm and munge with apt-get when missing. Returns None when ready, else why not."""
    if not missing_binaries():
        return None
    if os.geteuid() != 0:
        return f"Slurm is not installed ({', '.join(missing_binaries())} missing) and we are not root"
    if not shutil.which("apt-get"):
        return "Slurm is not installed and apt-get is not available"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    wait_for_lock = ["-o", "DPkg::Lock::Timeout=300"]  # another apt run on this machine finishes first
    for cmd in (["apt-get", *wait_for_lock, "update"],
                ["apt-get", *wait_for_lock, "install", "-y", "--no-install-recommends", *PACKAGES]):
        log(f"[slurm] {' '.join(cmd)}")
        proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=900)
        if proc.returncode != 0:
            return f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}"
    still = missing_binaries()
    if still:
        return f"after installing {' '.join(PACKAGES)}, still missing: {', '.join(still)}"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _real_memory_mb() -> int:
    """A bit under the machine's memory, so slurmd never finds less than configured."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                total = int(line.split()[1]) // 1024
                return max(256, min(total - 512, int(total * 0.95)))
    raise ClusterError("cannot read MemTotal from /proc/meminfo")


def _sbin(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _alive(pid: int, name: str) -> bool:
    """True if ``pid`` runs and is the daemon we started (guards against a reused PID)."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return False
    return comm == name[:15] and not _zombie(pid)


class LocalSlurm:
    """One single-node cluster whose files all live under ``base``."""

    def __init__(self, base: Path, min_job_age: int = 600):
        self.base = Path(base).resolve()
        self.min_job_age = min_job_age
        # The configuration sits alone in etc/, which slurmd's private mount namespace binds over /etc/slurm:
        # job steps (srun inside a job, as Snakemake's jobstep executor runs it with SLURM_CONF removed
        # from the environment) then find it at the compiled-in default path, as on a real cluster.
        self.etc = self.base / "etc"
        self.conf = self.etc / "slurm.conf"
        self.pids_file = self.base / "pids.json"
        self.host = socket.gethostname().split(".")[0]
        # munged's socket path must stay well under the 108-byte limit of AF_UNIX addresses.
        self.munge_dir = self.base / "munge"
        self._procs: dict[str, subprocess.Popen] = {}

    # --- environment -------------------------------------------------------------------------------
    def env(self, base_env: dict | None = None) -> dict:
        """Environment in which sbatch/squeue/sinfo (and Snakemake) talk to this cluster."""
        env = dict(os.environ if base_env is None else base_env)
        env["SLURM_CONF"] = str(self.conf)
        # Inherited by every job process (sbatch --export=ALL), so stop() can find strays by this mark.
        env[MARK] = str(self.base)
        for var in list(env):  # never inherit a surrounding job's context
            if var.startswith(("SLURM_JOB", "SLURM_STEP", "SBATCH_", "SRUN_")) and var != "SLURM_CONF":
                env.pop(var)
        return env

    def run(self, *cmd: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
        proc = subprocess.run(list(cmd), env=self.env(), capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            raise ClusterError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc

    # --- start -------------------------------------------------------------------------------------
    def start(self, timeout: float = 90) -> None:
        if self.pids_file.exists() and self.running():
            raise ClusterError(f"a cluster already runs from {self.base}; stop it first")
        try:
            self._prepare()
            self._start_munged()
            self._spawn("slurmctld", [_sbin("slurmctld"), "-D", "-i", "-f", str(self.conf)])
            self._wait_for(lambda: self.run("scontrol", "ping", check=False).returncode == 0,
                           timeout, "slurmctld to answer 'scontrol ping'")
            self._spawn("slurmd", self._in_private_etc(
                [_sbin("slurmd"), "-D", "-f", str(self.conf), "-N", self.host]))
            self._wait_for(lambda: self.node_state() == "idle", timeout, "the node to become idle")
        except BaseException:
            self.stop()
            raise

    def _prepare(self) -> None:
        for sub in ("etc", "state", "spool", "run", "log"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        self.munge_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.munge_dir, 0o700)
        (self.etc / "plugstack.conf").write_text("")
        key = self.munge_dir / "munge.key"
        if not key.exists():
            fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(os.urandom(1024))
        values = {
            "host": self.host, "addr": "127.0.0.1", "user": getpass.getuser(),
            "ctld_port": _free_port(), "slurmd_port": _free_port(),
            "munge_socket": self.munge_dir / "munge.socket", "base": self.base,
            "cpus": os.cpu_count() or 1, "real_memory": _real_memory_mb(), "min_job_age": self.min_job_age,
        }
        self.conf.write_text(string.Template(TEMPLATE.read_text()).substitute(values))

    def _in_private_etc(self, cmd: list[str]) -> list[str]:
        """``cmd`` in its own mount namespace where ``self.etc`` is mounted on /etc/slurm."""
        if not Path("/etc/slurm").is_dir():
            Path("/etc/slurm").mkdir(parents=True)  # the mount point only; nothing is written into it
        unshare = shutil.which("unshare") or "/usr/bin/unshare"
        script = 'mount --bind "$0" /etc/slurm && exec "$@"'
        return [unshare, "--mount", "--propagation", "private", "sh", "-c", script, str(self.etc), *cmd]

    def _start_munged(self) -> None:
        sock = self.munge_dir / "munge.socket"
        self._spawn("munged", [
            _sbin("munged"), "--foreground", "--force", f"--socket={sock}",
            f"--key-file={self.munge_dir / 'munge.key'}", f"--pid-file={self.munge_dir / 'munged.pid'}",
            f"--log-file={self.base / 'log' / 'munged.log'}", f"--seed-file={self.munge_dir / 'munged.seed'}",
        ])

        def works() -> bool:
            if not sock.exists():
                return False
            cred = subprocess.run(["munge", "-n", "-S", str(sock)], capture_output=True, timeout=10)
            return cred.returncode == 0 and subprocess.run(
                ["unmunge", "-S", str(sock)], input=cred.stdout, capture_output=True, timeout=10).returncode == 0

        self._wait_for(works, 30, "munged to issue and decode a credential")

    def _spawn(self, name: str, cmd: list[str]) -> None:
        out = open(self.base / "log" / f"{name}.stdout", "ab")
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                env=self.env(), start_new_session=True)
        out.close()
        self._procs[name] = proc
        pids = self._read_pids()
        pids[name] = proc.pid
        self.pids_file.write_text(json.dumps(pids))

    def _wait_for(self, predicate, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self._procs.items():
                if proc.poll() is not None:
                    raise ClusterError(f"{name} exited with {proc.returncode} while waiting for {what}\n"
                                       + self.logs())
            try:
                if predicate():
                    return
            except (subprocess.SubprocessError, OSError):
                pass
            time.sleep(0.5)
        raise ClusterError(f"timed out after {timeout:.0f}s waiting for {what}\n" + self.logs())

    def smoke_test(self, timeout: float = 60) -> None:
        """Run one batch job with a job step whose environment lacks SLURM_CONF, as Snakemake's are."""
        out = self.base / "log" / "smoke-%j.out"
        job = self.run("sbatch", "--parsable", f"--output={out}", "--time=2", "--mem=50", "--ntasks=1",
                       "--wrap", "env -u SLURM_CONF srun -n1 --cpus-per-task=1 echo smoke-ok").stdout.strip()
        job = job.split(";")[0]
        result = self.base / "log" / f"smoke-{job}.out"

        def finished() -> bool:
            state = self.run("squeue", "--noheader", "--states=all", "--format=%T", f"--jobs={job}",
                             check=False).stdout.strip()
            return state in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY")

        self._wait_for(finished, timeout, f"smoke-test job {job}")
        text = result.read_text(errors="replace") if result.exists() else "(no output file)"
        if "smoke-ok" not in text:
            raise ClusterError(f"smoke-test job {job} did not run its step:\n{text}\n{self.logs()}")

    # --- status ------------------------------------------------------------------------------------
    def node_state(self) -> str:
        proc = self.run("sinfo", "--noheader", "--Node", "--format=%T", check=False)
        return proc.stdout.strip().rstrip("*~#!%$@^-") if proc.returncode == 0 else ""

    def _read_pids(self) -> dict[str, int]:
        try:
            return json.loads(self.pids_file.read_text())
        except (OSError, ValueError):
            return {}

    def running(self) -> dict[str, int]:
        return {name: pid for name, pid in self._read_pids().items() if _alive(pid, name)}

    def status(self) -> str:
        lines = [f"base: {self.base}", f"SLURM_CONF={self.conf}"]
        lines += [f"{name}: pid {pid} {'running' if _alive(pid, name) else 'not running'}"
                  for name, pid in self._read_pids().items()]
        if self.running().get("slurmctld"):
            lines.append(self.run("sinfo", check=False).stdout.rstrip())
            lines.append(self.run("squeue", check=False).stdout.rstrip())
        return "\n".join(lines)

    def logs(self, tail: int = 40) -> str:
        parts = []
        for path in sorted((self.base / "log").glob("*")):
            text = path.read_text(errors="replace").splitlines()[-tail:]
            if text:
                parts.append(f"--- {path} ---\n" + "\n".join(text))
        return "\n".join(parts)

    # --- stop --------------------------------------------------------------------------------------
    def cancel_all_jobs(self, timeout: float = 30) -> None:
        """Cancel every job of this cluster and wait until none is left running."""
        if not self.running().get("slurmctld"):
            return
        self.run("scancel", "--full", f"--user={getpass.getuser()}", check=False)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            active = self.run("squeue", "--noheader", "--states=PENDING,RUNNING,COMPLETING,SUSPENDED,"
                              "CONFIGURING,REQUEUED,RESIZING,STOPPED", "--format=%i", check=False)
            if active.returncode != 0 or not active.stdout.strip():
                return
            time.sleep(0.5)

    def stop(self, timeout: float = 15) -> None:
        """Cancel remaining jobs, then stop slurmd, slurmctld and munged by PID."""
        try:
            self.cancel_all_jobs()
        except (subprocess.SubprocessError, OSError, ClusterError):
            pass
        pids = self._read_pids()
        for name in ("slurmd", "slurmctld", "munged"):
            pid = pids.get(name)
            if pid is None or not _alive(pid, name):
                continue
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _alive(pid, name) and time.monotonic() < deadline:
                self._reap(name)
                time.sleep(0.2)
            if _alive(pid, name):
                os.kill(pid, signal.SIGKILL)
            self._reap(name, wait=True)
        self._procs.clear()
        self.pids_file.unlink(missing_ok=True)
        self._kill_strays()

    def _strays(self) -> list[int]:
        """Processes started by this cluster's jobs that outlived them (proctrack/linuxproc loses
        processes that were reparented, e.g. when a job is requeued)."""
        mark = f"{MARK}={self.base}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if mark in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    def _kill_strays(self, grace: float = 5) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            strays = self._strays()
            if strays:
                print(f"[slurm] {signal.Signals(sig).name} to stray job processes {strays}", file=sys.stderr)
            for pid in strays:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + grace
            while strays and time.monotonic() < deadline:
                time.sleep(0.2)
                strays = [pid for pid in strays if not _zombie(pid)]
            if not strays:
                return

    def _reap(self, name: str, wait: bool = False) -> None:
        proc = self._procs.get(name)
        if proc is not None:
            try:
                proc.wait(timeout=5) if wait else proc.poll()
            except subprocess.TimeoutExpired:
                pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"cluster directory [{DEFAULT_DIR}]")
    args = parser.parse_args(argv)
    cluster = LocalSlurm(args.dir)
    if args.action == "start":
        reason = ensure_installed()
        if reason:
            print(f"cannot start Slurm: {reason}", file=sys.stderr)
            return 2
        t0 = time.monotonic()
        try:
            cluster.start()
        except ClusterError as e:
            print(f"cannot start Slurm: {e}", file=sys.stderr)
            return 1
        print(f"Slurm is up after {time.monotonic() - t0:.1f}s ({cluster.node_state()})")
        print(f"export SLURM_CONF={cluster.conf}")
    elif args.action == "stop":
        cluster.stop()
        print("stopped")
    else:
        print(cluster.status())
    return 0


if __name__ == "__main__":
    sys.exit(main())
