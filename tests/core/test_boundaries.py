"""The core/Qt line and lazy TensorFlow, checked in a fresh interpreter."""

import subprocess
import sys

CODE = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'pyqtgraph'):
            raise ImportError('blocked ' + name)
sys.meta_path.insert(0, Block())
import pkgutil, importlib, carseg_gui.core as core
for m in pkgutil.iter_modules(core.__path__):
    importlib.import_module('carseg_gui.core.' + m.name)
import carseg_gui.cli
assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow imported at module level'
print('ok')
"""


def test_core_imports_without_qt_and_without_tensorflow() -> None:
    r = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
