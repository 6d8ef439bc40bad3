/// The scorer the daemon runs to replay a saved model (``ModelReplayer``): a Python program,
/// written into each replay's directory, run with the configured Python (which needs MLflow and
/// the libraries the model was saved with).
enum ReplayScript {
    static let fileName = "replay.py"

    static let source = #"""
"""mlagentd's scorer: loads a run's MLflow model and predicts the validation features.

Run by the daemon in a sandbox without network, with the model read-only and only the feature
files: `replay.py --model DIR --out DIR --mode proba|value SPLIT=FEATURES.csv ...`. Writes
OUT/SPLIT.csv (a `prediction` header, one value per feature row, in order). Scores, not labels,
for probability metrics (mode proba):
  1. a model with an sklearn flavour whose estimator has predict_proba: the column of class 1
     in classes_ (the second column when the classes are not 0 and 1);
  2. otherwise the python_function flavour's predict: one column as it is; two columns (as
     pyfunc_predict_fn="predict_proba" returns them): the column named 1, else the second.
The last line of a failure starts with "mlagent-replay:" and says why.
"""
import argparse
import sys
import time


def fail(stage, error):
    print(f"mlagent-replay: the model failed to {stage}: {type(error).__name__}: {error}", flush=True)
    sys.exit(3)


def column(values, names, mode):
    import numpy as np

    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    elif array.ndim == 2 and array.shape[1] == 2 and mode == "proba":
        labels = list(names) if names is not None else []
        positive = next((labels.index(p) for p in (1, "1", True, 1.0) if p in labels), 1)
        array = array[:, positive]
    if array.ndim != 1:
        raise ValueError(f"predictions of shape {array.shape}: expected one value (or two class columns) per row")
    return array.astype(float)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--mode", choices=["proba", "value"], required=True)
    parser.add_argument("splits", nargs="+")
    args = parser.parse_args()
    started = time.time()
    try:
        import pandas as pd
        import mlflow.models
        import mlflow.pyfunc

        flavors = mlflow.models.Model.load(args.model).flavors
        predict = None
        if args.mode == "proba" and "sklearn" in flavors:
            import mlflow.sklearn

            estimator = mlflow.sklearn.load_model(args.model)
            if hasattr(estimator, "predict_proba"):
                classes = getattr(estimator, "classes_", None)
                predict = lambda x: column(estimator.predict_proba(x), None if classes is None else list(classes), "proba")
                how = "sklearn predict_proba, class-1 column"
        if predict is None:
            model = mlflow.pyfunc.load_model(args.model)

            def predict(x):
                output = model.predict(x)
                names = list(output.columns) if hasattr(output, "columns") else None
                return column(output, names, args.mode)

            how = "python_function predict"
    except SystemExit:
        raise
    except BaseException as error:
        fail("load", error)
    print(f"loaded in {time.time() - started:.2f} s ({how})", flush=True)
    for split in args.splits:
        name, path = split.split("=", 1)
        begun = time.time()
        try:
            features = pd.read_csv(path)
            values = predict(features)
            if len(values) != len(features):
                raise ValueError(f"{len(values)} predictions for {len(features)} rows")
        except BaseException as error:
            fail(f"predict the {name} split", error)
        with open(f"{args.out}/{name}.csv", "w") as out:
            out.write("prediction\n")
            out.write("\n".join(repr(float(v)) for v in values))
            out.write("\n")
        print(f"predicted {len(values)} {name} rows in {time.time() - begun:.2f} s", flush=True)


if __name__ == "__main__":
    main()
"""#
}
