"""Streams that really run asynchronously, in FIFO order.

Each stream owns one worker thread and a queue. Tasks submitted to one stream run one after
another in submission order ("async on one stream is serial"); tasks on two streams run on two
threads and can overlap. A task that fails records its error code; the next
``synchronize_stream`` reports it, as a device reports an asynchronous fault at the next sync.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from pytest_acl.sim.pyargs import AclFail

Task = Callable[[], None]


class Stream:
    """One FIFO task queue with its own worker thread."""

    def __init__(self, handle: int, context_handle: int) -> None:
        self.handle = handle
        self.context_handle = context_handle
        self._tasks: queue.SimpleQueue[Task | None] = queue.SimpleQueue()
        self._error = 0
        self._error_lock = threading.Lock()
        self._worker = threading.Thread(target=self._run, name=f"acl-sim-stream-{handle:#x}",
                                        daemon=True)
        self._worker.start()

    def _run(self) -> None:
        while (task := self._tasks.get()) is not None:
            try:
                task()
            except AclFail as fail:
                self._record(fail.code)
            except Exception:  # a simulator bug must not kill the stream silently
                from pytest_acl.constants import AclError
                self._record(AclError.ACL_ERROR_RT_INTERNAL_ERROR)

    def _record(self, code: int) -> None:
        with self._error_lock:
            if not self._error:
                self._error = int(code)

    def submit(self, task: Task) -> None:
        self._tasks.put(task)

    def synchronize(self) -> int:
        """Wait for every task submitted so far; return (and clear) the first error code."""
        done = threading.Event()
        self._tasks.put(done.set)
        done.wait()
        with self._error_lock:
            code, self._error = self._error, 0
        return code

    def close(self) -> None:
        """Finish pending tasks, then stop the worker."""
        self._tasks.put(None)
        if threading.current_thread() is not self._worker:
            self._worker.join()
