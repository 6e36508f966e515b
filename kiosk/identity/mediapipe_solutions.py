"""MediaPipe's legacy solutions (face detection, face mesh) without the rest of MediaPipe.

``import mediapipe`` runs the package's ``__init__``, which imports every solution (hands, pose,
holistic, objectron...), their drawing utilities and with them matplotlib, and the Tasks API:
about 500 modules and 50 MB of resident memory that the face check never uses (measured: face
mesh + face detection loaded and run once, 142 MB peak with the package's ``__init__``, 90 MB
without).  Here the two package levels whose ``__init__`` does that are registered as bare
packages (their search path, not their code), so importing one solution module loads only what
that module imports, plus the calculators' option messages (``*_pb2``): the package's ``__init__``
registers them as a side effect, and a graph whose options' message is not registered runs with
default options (measured: face detection then skips its non-maximum suppression and finds 11
faces where there is one).  When MediaPipe was already imported in full, it is used as it is.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from pathlib import Path

_BARE = ("mediapipe", "mediapipe.python.solutions")
# where the option messages of the calculators the face graphs use are (not the Tasks API's)
_OPTIONS = ("calculators", "framework", "gpu", "util", "modules/face_detection", "modules/face_landmark")
_lock = threading.Lock()


def _bare_package(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError(f"No module named {name!r}")
    module = types.ModuleType(name)
    module.__path__ = list(spec.submodule_search_locations)
    module.__spec__ = spec
    module.__file__ = spec.origin
    sys.modules[name] = module


def _register_options() -> None:
    root = Path(sys.modules[_BARE[0]].__path__[0])
    for sub in _OPTIONS:
        for path in sorted((root / sub).rglob("*_pb2.py")):
            module = ".".join(("mediapipe", *path.relative_to(root).with_suffix("").parts))
            importlib.import_module(module)


def solution(name: str) -> types.ModuleType:
    """``mediapipe.python.solutions.<name>`` (e.g. "face_mesh"); ImportError when MediaPipe is
    not installed (aarch64 has no wheel)."""
    with _lock:
        _bare_package(_BARE[0])
        importlib.import_module("mediapipe.python")  # the framework bindings: needed, and small
        _register_options()
        _bare_package(_BARE[1])
        return importlib.import_module(f"{_BARE[1]}.{name}")
