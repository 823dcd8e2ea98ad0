"""Loading TensorFlow on a worker thread without freezing the window."""

from __future__ import annotations

import ctypes
import gc
import importlib.util
import logging
import os
import sys
import threading
from pathlib import Path

log = logging.getLogger("carseg_gui")
_preload_lock = threading.Lock()
_preloaded = False


def preload_tensorflow() -> None:
    """Import TensorFlow and Keras in this (worker) thread without freezing the GUI thread.

    Two things held the GIL long enough to freeze the window while ``import tensorflow`` ran:

    * the dlopen of its 1 GB library (about 0.4 s). Calling ``dlopen`` through ctypes releases
      the GIL; the import then finds the library already mapped;
    * Python's cyclic garbage collector, walking the ever larger heap of the import's objects
      (passes of 0.1 to 0.2 s, every half second). The collector is paused during the import and
      the imported objects are then frozen out of its way (``gc.freeze``): they live as long as
      the process anyway.

    Best effort: any failure leaves the normal import to do the work.
    """
    global _preloaded
    with _preload_lock:
        if _preloaded or "keras" in sys.modules:
            return
        _preloaded = True
        if sys.platform.startswith("linux"):
            try:
                spec = importlib.util.find_spec("tensorflow")
                if spec is not None and spec.submodule_search_locations:
                    folder = Path(next(iter(spec.submodule_search_locations)))
                    dlopen = ctypes.CDLL(None).dlopen
                    dlopen.restype = ctypes.c_void_p
                    dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
                    for name in ("libtensorflow_framework.so.2", "libtensorflow_cc.so.2"):
                        if (folder / name).exists():
                            dlopen(str(folder / name).encode(), os.RTLD_NOW | os.RTLD_LOCAL)
            except Exception:  # never let an optimisation break training
                log.debug("tensorflow library preload skipped", exc_info=True)
        collecting = gc.isenabled()
        gc.disable()
        try:
            from ..core import tf_runtime

            tf_runtime.load()  # core's quiet import: TensorFlow's start-up chatter stays off stderr
            import keras  # noqa: F401
        except Exception:
            log.debug("tensorflow import failed in preload; the job will report it", exc_info=True)
        finally:
            gc.freeze()
            if collecting:
                gc.enable()
