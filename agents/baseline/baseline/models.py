"""The model contract: each run's fitted pipeline (preprocessing included) is saved as an MLflow
model directory, and from then on only that directory is used.

`models/run-<id>/model/` is what `mlflow.sklearn.save_model` writes: an `MLmodel` file with the
`sklearn` and `python_function` flavours (pyfunc's predict is `predict_proba`, so it returns one
column per class), the pickled pipeline, an input/output signature inferred from training rows, and
explicitly pinned requirements (scikit-learn, numpy, pandas, scipy at the installed versions, so
MLflow does not spend seconds inferring them). The run's family, direction and parameters are in
the MLmodel's `metadata`. That directory is the artifact uploaded `--as model`; the daemon replays
it to score a submission. Saving touches neither the network nor a tracking server: no tracking
URI is needed.

Pickle, not skops: the daemon loads the model in a sandbox, the blend's FrozenEstimators and
FunctionTransformers would need a skops trusted-type list, and plain pickle needs no package
beyond those pinned. Runs saved before this contract uploaded a `.joblib` file: `load_model`
still reads those, so an old knowledge base keeps working."""

from __future__ import annotations

import logging
import shutil
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import joblib
import mlflow.sklearn
import pandas as pd
import sklearn
from mlflow.models import infer_signature

from .data import Data
from .knowledge import MLMODEL

REQUIREMENTS = [f"{name}=={version(name)}" for name in ("scikit-learn", "numpy", "pandas", "scipy")]
SIGNATURE_ROWS = 5


class _Expected(logging.Filter):
    """Drops MLflow warnings that every save would repeat and that say nothing about this run: the caution on pickle
    (a deliberate choice, see above) and, in a venv without pip (the demo's), that pip's version is unknown."""

    def __init__(self, fragment: str) -> None:
        super().__init__()
        self.fragment = fragment

    def filter(self, record: logging.LogRecord) -> bool:
        return self.fragment not in record.getMessage()


logging.getLogger("mlflow.sklearn").addFilter(_Expected("pickle or cloudpickle format"))
logging.getLogger("mlflow.utils.environment").addFilter(_Expected("Failed to resolve installed pip version"))


def save_model(model: Any, folder: Path, sample: pd.DataFrame, metadata: dict[str, Any]) -> Path:
    """Save a fitted classifier as an MLflow model directory at `folder` (replaced if it exists)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    signature = infer_signature(sample, model.predict_proba(sample))
    mlflow.sklearn.save_model(
        model, str(folder), serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE,
        pyfunc_predict_fn="predict_proba", pip_requirements=REQUIREMENTS, signature=signature, metadata=metadata)
    return folder


def save_run_model(model: Any, run_id: int, family: str, config: dict[str, Any], data: Data, direction: str) -> Path:
    """models/run-<id>/model: the directory to upload as the run's `model` artifact."""
    metadata = {"family": family, "direction": direction, "run_id": run_id, "train_rows": len(data.x_train),
                "predict": "predict_proba(X[features])[:, 1] is P(target = 1)", "features": data.features,
                "sklearn_version": sklearn.__version__, "python_version": sys.version.split()[0],
                "params": {k: v for k, v in config.items() if k != "why"}, "created_by": "agents/baseline"}
    return save_model(model, Path(f"models/run-{run_id}/model"), data.x_train.iloc[:SIGNATURE_ROWS], metadata)


def load_model(path: Path) -> Any:
    """The scikit-learn estimator saved at `path`: an MLflow model directory, or a legacy .joblib file."""
    if path.is_dir() and (path / MLMODEL).is_file():
        return mlflow.sklearn.load_model(str(path))
    if path.suffix == ".joblib":
        return joblib.load(path)
    raise ValueError(f"{path} is neither an MLflow model directory nor a .joblib file")
