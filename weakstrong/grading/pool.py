"""Layer 8: the worker processes that run sympy under a deadline.

The parent hands a worker one pair at a time.  The worker answers ("began", tag) when it starts the
pair and ("done", tag, verdict, reason) when it has a verdict.  A pair's deadline (``timeout``) starts
when "began" arrives, so a worker's cold start (fork, importing sympy, a machine too loaded to schedule
it) never counts against a comparison; a worker gets ``START_TIMEOUT`` seconds to report that it began.
A pair whose worker overruns, dies or never starts is *undecided*: graded not correct, and flagged.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing as mp
import os
import sys
import threading
import time
from multiprocessing.connection import wait as _wait_conns

from weakstrong.grading.compare import _full_equal
from weakstrong.grading.symbolic import _sympy_setup, _to_sympy, _Undecidable

log = logging.getLogger(__package__)  # "weakstrong.grading", as before the split

#: Seconds a worker may take to start and report that it began a pair; not part of the pair's deadline.
START_TIMEOUT = 120.0
#: Why a pair is undecided (``_Undecidable`` messages are the fourth kind, e.g. "numbers too large ...").
TIMEOUT, WORKER_DIED, NOT_STARTED = "timeout", "worker died", "worker did not start"


#: Pairs that walk sympy's main paths once, so that the modules sympy imports lazily (simplify, sets,
#: solvers, evalf) are loaded before any deadline runs: in the parent before it forks, else in the worker.
_WARMUP_PAIRS = (
    (r"\frac{3}{\sqrt{2}}", r"\frac{3\sqrt{2}}{2}"), ("x^2-1", "(x-1)(x+1)"), (r"\sin^2 x", r"1-\cos^2 x"),
    (r"x \ge 2", r"[2,\infty)"), (r"\mathbb{R}\setminus\{2\}", r"(-\infty,2)\cup(2,\infty)"),
    (r"0.577350", r"\frac{\sqrt{3}}{3}"), ("2x+y=0", "y=-2x"), (r"\frac{1}{2}+0.5x", r"\frac{x+1}{2}"),
)
_warmed = False


def _warm_sympy() -> None:
    """Import sympy, warm the LaTeX parser and sympy's lazily imported paths (once per process)."""
    global _warmed
    if _warmed:
        return
    _sympy_setup()
    _to_sympy("1")
    for prediction, gold in _WARMUP_PAIRS:
        try:
            _full_equal(prediction, gold)
        except Exception:  # noqa: BLE001 - warming only
            pass
    _warmed = True


def _warm_worker() -> None:
    """A worker's start-up, before it reads its first pair (not counted in any deadline)."""
    logging.disable(logging.CRITICAL)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    _warm_sympy()


def _worker_main(conn) -> None:
    _warm_worker()
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        tag, prediction, gold = msg
        reason = None
        try:
            conn.send(("began", tag))
            try:
                ok = _full_equal(prediction, gold)
            except _Undecidable as exc:
                ok, reason = None, str(exc)
            except BaseException:  # noqa: BLE001 - RecursionError, MemoryError, sympy bugs: not equal
                ok = False
            conn.send(("done", tag, ok, reason))
        except (EOFError, OSError):
            return


_ctx = None
_ctx_lock = threading.Lock()


def _context():
    global _ctx
    with _ctx_lock:
        if _ctx is None:
            # fork: a worker starts in milliseconds with sympy already imported and never
            # re-imports __main__ (Snakemake scripts and notebooks have no main guard).
            # The worker loop takes no locks of its own.  Elsewhere (macOS, Windows): spawn.
            if "fork" in mp.get_all_start_methods() and sys.platform.startswith("linux"):
                _ctx = mp.get_context("fork")
            else:
                _ctx = mp.get_context("spawn")
        return _ctx


_spawn_lock = threading.Lock()


class _Worker:
    def __init__(self) -> None:
        ctx = _context()
        parent, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child,), daemon=True, name="weakstrong-grader")
        with _spawn_lock:  # one fork at a time: no thread of ours is inside a fork when another forks
            if ctx.get_start_method() == "fork":
                # Import and warm sympy here, once, under the same lock, so that a forked worker
                # imports nothing (no import lock can be inherited half-held) and starts warm.
                _warm_sympy()
            self.proc.start()
        child.close()
        self.conn = parent
        self.tag = None
        self.began = False
        self.deadline = 0.0

    def send(self, tag, prediction: str, gold: str) -> None:
        self.tag = tag
        self.began = False
        self.deadline = time.monotonic() + START_TIMEOUT  # until the worker reports that it began
        self.conn.send((tag, prediction, gold))

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.join(5)
        finally:
            self.conn.close()

    def alive(self) -> bool:
        return self.proc.is_alive()


_idle: list[_Worker] = []
_idle_lock = threading.Lock()


def _available_cpus() -> int:
    """CPUs this process may run on (a Slurm/cgroup CPU set, not the whole machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _checkout(n: int) -> list[_Worker]:
    with _idle_lock:
        got = [w for w in _idle[:n] if w.alive()]
        del _idle[:n]
    return got + [_Worker() for _ in range(n - len(got))]


def _checkin(workers: list[_Worker]) -> None:
    """Keep finished workers for reuse, at most one per CPU; stop the rest."""
    keep = _available_cpus()
    with _idle_lock:
        _idle.extend(w for w in workers if w.alive())
        surplus = _idle[keep:]
        del _idle[keep:]
    for w in surplus:
        w.kill()


@atexit.register
def _shutdown() -> None:
    with _idle_lock:
        workers = list(_idle)
        _idle.clear()
    for w in workers:
        try:
            w.conn.send(None)
        except (OSError, ValueError):
            pass
        w.kill()


def _run_bounded(jobs: list[tuple], timeout: float, workers: int, on_done=None) -> dict:
    """Grade ``jobs`` (tag, prediction, gold) in worker processes: {tag: (verdict, reason)}.

    ``verdict`` is True/False, or None when the pair is undecided, with ``reason`` saying why
    (``TIMEOUT``: it ran past ``timeout`` seconds after the worker began it; ``WORKER_DIED``;
    ``NOT_STARTED``: no report within ``START_TIMEOUT``; or sympy's own "too large" limit).
    A worker past its deadline is killed and replaced.
    """
    results: dict = {}
    if not jobs:
        return results
    pending = list(reversed(jobs))
    pool = _checkout(max(1, min(workers, len(jobs))))
    busy: dict = {}

    def finish(w: _Worker, verdict, reason) -> None:
        results[w.tag] = (verdict, reason)
        busy.pop(w.conn, None)
        w.tag = None
        if on_done:
            on_done()

    def replace(w: _Worker) -> None:
        w.kill()
        pool[pool.index(w)] = _Worker()

    def read(w: _Worker) -> None:
        """Handle every message the worker has sent; its death too."""
        try:
            while w.tag is not None and w.conn.poll():
                msg = w.conn.recv()
                if msg[0] == "began" and msg[1] == w.tag:
                    w.began = True
                    w.deadline = time.monotonic() + timeout
                elif msg[0] == "done" and msg[1] == w.tag:
                    finish(w, None if msg[2] is None else bool(msg[2]), msg[3])
        except (EOFError, OSError):  # the worker died (out of memory, a crash): undecided
            log.warning("a grading worker died during a pair; the pair is undecided")
            finish(w, None, WORKER_DIED)
            replace(w)

    try:
        while pending or busy:
            for i, w in enumerate(pool):
                if w.tag is None and pending:
                    tag, pred, gold = pending.pop()
                    try:
                        w.send(tag, pred, gold)
                    except (OSError, ValueError):
                        w.kill()
                        pool[i] = w = _Worker()
                        w.send(tag, pred, gold)
                    busy[w.conn] = w
            now = time.monotonic()
            wait_for = max(0.0, min(w.deadline for w in busy.values()) - now)
            for conn in _wait_conns(list(busy), timeout=wait_for):
                if conn in busy:
                    read(busy[conn])
            for w in list(busy.values()):
                if time.monotonic() < w.deadline:
                    continue
                read(w)  # a verdict (or a death) that arrived meanwhile wins over the deadline
                if w.tag is None or time.monotonic() < w.deadline:
                    continue
                reason = TIMEOUT if w.began else NOT_STARTED
                log.warning("grading: %s after %.1fs; worker killed, pair undecided", reason,
                            timeout if w.began else START_TIMEOUT)
                finish(w, None, reason)
                replace(w)
    finally:
        for w in list(busy.values()):
            w.kill()
        _checkin([w for w in pool if w.tag is None])
    return results
