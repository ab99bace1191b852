"""The directory the server's processes share for their metrics (prometheus-client multiprocess).

Kept apart from `bot.services.metrics`: it must run before prometheus-client is imported,
which picks its storage on import.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

ENV = "PROMETHEUS_MULTIPROC_DIR"


def use_multiprocess_dir() -> None:
    """Give this server's processes a shared metrics directory, removed when the server exits."""
    if os.environ.get(ENV):
        return
    path = tempfile.mkdtemp(prefix="clearance-metrics-")
    os.environ[ENV] = path
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:  # not when a forked worker exits
            shutil.rmtree(path, ignore_errors=True)

    atexit.register(remove)
