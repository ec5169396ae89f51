"""Supervised worker processes: every call into a target runs in one, so that a segfault, an exit
or a native call that never returns costs one task (a failed row), never the run.

The parent hands tasks to reusable workers over pipes and watches each worker's shared
``watch.Watched`` fields: a worker that dies is replaced, one stuck in a call into the
target past the time limit plus ``GRACE`` is killed, and in both cases the task's
``died`` callback turns what happened into the task's value.
"""
import atexit
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
import warnings
from collections import deque
from contextlib import contextmanager
from multiprocessing.connection import wait
from typing import Callable, NamedTuple

from ..targets import watch

#: Seconds past the per-call time limit before a stuck worker is killed: in Python code the
#: worker's own alarm fires first and reports the hang itself, with the worker kept.
GRACE = 2.0
#: How often the parent looks at the workers' clocks when no result arrives.
POLL_SECONDS = 0.2


class Task(NamedTuple):
    """``fn(*args)`` in a worker (fn importable by name); ``died(what, call, example)`` gives
    the task's value when the worker dies or hangs in it (what happened; the call into the
    target in flight, or "" outside any; the configuration of the example in flight)."""

    fn: Callable
    args: tuple
    died: Callable


def describe_exit(exitcode):
    """'killed by signal 11 (SIGSEGV)' or 'exited with code 3'."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "unknown signal"
        return f"killed by signal {-exitcode} ({name})"
    return f"exited with code {exitcode}"


@contextmanager
def _sigint_deferred():
    """A Ctrl-C that arrives while a worker starts is delivered when the block ends: never inside
    it, where it cut ``Process.start`` between spawning the worker and writing what it reads
    (the worker printed an EOFError traceback), and never lost (an ignored one was, and the run
    went on).  SIGINT is blocked, which the worker inherits until it ignores SIGINT itself, and
    recorded by a handler of its own: the kernel hands a process's signal to any thread that
    does not block it (torch's parent holds one), and Python then raises in the main thread."""
    caught = []
    handler = None
    if threading.current_thread() is threading.main_thread():
        handler = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    except (AttributeError, ValueError):  # no pthread_sigmask here: the handler alone
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)  # a blocked one is recorded now
        if handler is not None:
            signal.signal(signal.SIGINT, handler)
            if caught:
                signal.raise_signal(signal.SIGINT)  # to the handler the caller had


#: The environment that sizes the thread pools of numpy's BLAS (OpenBLAS, MKL) and of OpenMP,
#: read once when a library loads: set for a worker before it starts, never after.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")
#: Where Hypothesis keeps what it writes (it keeps no example database here, but caches the
#: constants it reads from source files): not a ``.hypothesis`` folder in the user's directory.
HYPOTHESIS_STORAGE = "HYPOTHESIS_STORAGE_DIRECTORY"
#: How many compiled kernels oneDNN keeps (torch's CPU RNN, LSTM and GRU in float32, bfloat16 and
#: float16 run through it).  Its default, 1024, suits a model called again and again at one shape;
#: a worker draws a new shape for nearly every call, so a full cache only holds memory, and every
#: new kernel lands on fresh pages the kernel must zero (17% of a default run's CPU time, 1.3 GB
#: per worker).  16 keeps the kernels an example reuses; results do not depend on it.
ONEDNN_CACHE = ("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "16")


def output_file():
    """A new file for what the workers of one run print (the targets' own output): under the
    suite's cache folder, or None when it cannot be made (then it goes to stderr)."""
    folder = os.path.join(os.path.dirname(hypothesis_storage()), "output")
    try:
        os.makedirs(folder, exist_ok=True)
        handle, path = tempfile.mkstemp(prefix=time.strftime("run-%Y%m%d-%H%M%S-"), suffix=".log", dir=folder)
        os.close(handle)
        return path
    except OSError:
        return None


def hypothesis_storage():
    """The suite's Hypothesis folder: under the user's cache folder (XDG_CACHE_HOME, ~/.cache)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "rnn-conformance", "hypothesis")


def worker_variables(threads):
    """The variables a worker starts with where the user set none: every thread pool limited to
    ``threads`` (workers that each spin a BLAS thread per core oversubscribe a busy machine),
    oneDNN's cache sized for a worker (``ONEDNN_CACHE``) and Hypothesis's folder out of the
    user's directory."""
    return {**{name: str(threads) for name in THREAD_VARIABLES}, HYPOTHESIS_STORAGE: hypothesis_storage(),
            ONEDNN_CACHE[0]: ONEDNN_CACHE[1]}


@contextmanager
def _worker_environment(threads):
    """The parent's environment, while a worker starts, that the worker inherits: its
    ``worker_variables``.  A variable the user set is left as set; the parent's own pools,
    already loaded, do not change."""
    wanted = worker_variables(threads)
    added = [name for name in wanted if name not in os.environ]
    os.environ.update({name: wanted[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


class WorkerRaised(RuntimeError):
    """A task function raised in the worker (a bug of the suite): its traceback, re-raised in
    the parent."""


class _Worker:
    def __init__(self, context, threads, slot, jobs, output=None):
        self.watched, self.slot = watch.Watched(context), slot
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, self.watched, threads, slot, jobs, output),
                                       daemon=True, name="rnn-conformance-worker")
        with _worker_environment(threads):  # inherited: BLAS threads, storage
            self.process.start()
        child.close()
        self.task = None  # (index, Task) in flight
        self.told = False  # asked to stop

    def ask_to_stop(self, kill=False):
        """Tells the worker to finish (kills it when ``kill`` or busy), without waiting."""
        if self.told and not kill:
            return
        self.told = True
        if kill or self.task is not None:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                self.process.kill()

    def stop(self, kill=False):
        self.ask_to_stop(kill)
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


#: Most worker processes a run starts by default (each imports torch and holds its own memory).
DEFAULT_MAX_JOBS = 4


class Supervisor:
    """Up to ``jobs`` reusable worker processes with ``threads`` torch threads each, running
    tasks whose calls into the target may last ``timeout`` seconds each.  ``jobs`` None: not
    known yet (set it before ``map``); the threads are then those of the most workers a run
    starts by default on this machine."""

    def __init__(self, jobs=1, timeout=60.0, threads=None, output=None):
        cores = os.cpu_count() or 1
        self.jobs, self.timeout, self.output = jobs and max(1, jobs), timeout, output
        self.threads = threads or max(1, cores // (self.jobs or min(cores, DEFAULT_MAX_JOBS)))
        self._context = multiprocessing.get_context("spawn")
        self._workers = []

    def start(self, workers=1):
        """Starts up to ``workers`` workers ahead of the first task: each spends seconds
        importing torch, which the caller meanwhile spends on its own work (importing torch
        too, loading the targets, planning the rows)."""
        while len(self._workers) < workers:
            self._spawn(workers)

    def map(self, tasks, waiting=None):
        """Runs ``tasks`` and yields (index, value) as each finishes, calling ``waiting()``
        (when given) every POLL_SECONDS while none does.  Stopping early (an exception such as
        KeyboardInterrupt, or closing the generator) kills the busy workers."""
        pending = deque(enumerate(tasks))
        try:
            while pending or any(w.task for w in self._workers):
                self._assign(pending)
                busy = [w for w in self._workers if w.task is not None]
                wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=POLL_SECONDS)
                if waiting is not None:
                    waiting()
                for worker in busy:
                    finished = self._collect(worker)
                    if finished is not None:
                        yield finished
        finally:
            for worker in [w for w in self._workers if w.task is not None]:
                self._retire(worker, kill=True)

    def run(self, fn, *args, died):
        """The value of one task, run in a worker."""
        return next(self.map([Task(fn, args, died)]))[1]

    def close(self, kill=False):
        """Stops every worker (kills them with ``kill``), waiting for them to exit."""
        for worker in self._workers:  # all told first: they exit side by side
            worker.ask_to_stop(kill)
        for worker in list(self._workers):
            self._retire(worker, kill)

    def _assign(self, pending):
        for worker in self._workers:
            if worker.task is None and pending:
                self._send(worker, pending.popleft())
        while pending and len(self._workers) < (self.jobs or 1):
            self._spawn(self.jobs or 1)
            self._send(self._workers[-1], pending.popleft())

    def _spawn(self, slots):
        """Starts a worker in the lowest of ``slots`` slots that none holds."""
        slot = min(set(range(slots)) - {w.slot for w in self._workers})
        with _sigint_deferred():  # a Ctrl-C meanwhile arrives once the worker is held, to be stopped
            self._workers.append(_Worker(self._context, self.threads, slot, self.jobs or 1, self.output))

    def _send(self, worker, item):
        worker.task = item
        _, task = item
        try:
            worker.conn.send((task.fn, task.args))
        except OSError:
            pass  # the worker is dead already: _collect sees it

    def _collect(self, worker):
        """(index, value) when the worker finished, died or hung; None while it runs."""
        index, task = worker.task
        if worker.conn.poll():
            try:
                value = worker.conn.recv()
            except (EOFError, OSError):
                value = None
            else:
                worker.task = None
                if isinstance(value, WorkerRaised):
                    raise value
                return index, value
        if not worker.process.is_alive():
            worker.process.join()
            call, example = worker.watched.read()
            in_call = worker.watched.in_call_for() is not None
            value = task.died(describe_exit(worker.process.exitcode), call if in_call else "", example)
            self._retire(worker, kill=True)
            return index, value
        lasted = worker.watched.in_call_for()
        if lasted is not None and lasted > self.timeout + GRACE:
            call, example = worker.watched.read()
            value = task.died(f"hung: {call} did not return within {self.timeout:g} s (the worker was killed "
                              f"after {lasted:.0f} s)", call, example)
            self._retire(worker, kill=True)
            return index, value
        return None

    def _retire(self, worker, kill=False):
        worker.stop(kill=kill)
        worker.task = None
        self._workers.remove(worker)


def gpu_for(slot, jobs, count, xdist_worker=None):
    """The GPU a worker uses for ``cuda`` rows: the workers of a run (and of every pytest-xdist
    process, ``gw0``, ``gw1``, ...) spread round-robin over the ``count`` GPUs."""
    xdist_index = int((xdist_worker or "gw0").removeprefix("gw") or 0)
    return (xdist_index * jobs + slot) % count


def _serve(conn, watched, threads, slot, jobs, output=None):
    """A worker's loop: run each (fn, args) received and send back its value, until None.
    What a target prints (native code included) goes to the file ``output`` when given, else
    to stderr: never into the summary."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle (blocked until here)
    if output is not None:
        os.dup2(os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644), 2)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    import torch
    torch.set_num_threads(threads)
    if torch.cuda.is_available() and torch.cuda.device_count() > 1:
        torch.cuda.set_device(gpu_for(slot, jobs, torch.cuda.device_count(), os.environ.get("PYTEST_XDIST_WORKER")))
    warnings.simplefilter("ignore", UserWarning)  # torch's notices, once per call
    watch.install(watched)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            task = None
        if task is None:
            exit_now(0)
        watched.clear()
        fn, args = task
        try:
            value = fn(*args)
            conn.send(value)
        except Exception:  # task functions return their own errors: this is the suite's bug
            conn.send(WorkerRaised(traceback.format_exc()))


def exit_now(code):
    """Ends this process with ``code`` once its streams are flushed and its exit handlers have
    run, skipping the interpreter's teardown: an interpreter holding torch spends over half
    a second tearing its modules down, which the run would wait for at every exit."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can reach it
            pass
    atexit._run_exitfuncs()
    os._exit(code)
