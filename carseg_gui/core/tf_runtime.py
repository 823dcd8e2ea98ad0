"""Importing TensorFlow once, without its start-up chatter on the user's terminal.

TensorFlow 2.21 writes oneDNN notes, CUDA probing results ("failed call to cuInit") and an absl
banner straight to file descriptor 2 before any Python logging setting applies, and the
TF_CPP_MIN_LOG_LEVEL variable no longer silences them. Users read "E0000 ... CUDA error" as a
failure. So the first import (and the first device query, which probes CUDA) runs with fd 2
redirected to a temp file; lines that are not known chatter are written back to stderr.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
from types import ModuleType

_NOISE = re.compile(
    r"absl::InitializeLog|oneDNN custom operations|cudart_stub|cuda_platform|cuInit|cpu_feature_guard"
    r"|rebuild TensorFlow with the appropriate compiler flags|AVX2 AVX512|computation_placer|cuda_dnn|cuda_fft"
    r"|cuda_blas|Unable to register cu|TF-TRT Warning"
)
_lock = threading.Lock()
_tf: ModuleType | None = None


def load() -> ModuleType:
    """The tensorflow module, imported quietly the first time."""
    global _tf
    with _lock:
        if _tf is None:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            if sys.stderr is None or not _fd_open(2):
                # A windowed app on Windows has no stderr at all: nothing to keep quiet.
                import tensorflow as tf

                _tf = tf
                return _tf
            with tempfile.TemporaryFile(mode="w+b") as sink:
                sys.stderr.flush()
                saved = os.dup(2)
                os.dup2(sink.fileno(), 2)
                try:
                    import tensorflow as tf

                    tf.config.list_physical_devices("GPU")
                finally:
                    sys.stderr.flush()
                    os.dup2(saved, 2)
                    os.close(saved)
                sink.seek(0)
                for line in sink.read().decode(errors="replace").splitlines():
                    if line.strip() and not _NOISE.search(line):
                        print(line, file=sys.stderr)
            _tf = tf
        return _tf


def _fd_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True
