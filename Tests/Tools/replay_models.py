"""Models for the replay tests, saved as MLflow model directories in the working directory.

  replay_models.py good DIR            a scaled logistic regression; DIR-public.csv from the saved model
  replay_models.py mismatch DIR        DIR-public.csv from one model, another model saved in DIR
  replay_models.py broken DIR          a model whose MLmodel names a loader module that does not exist
  replay_models.py hostile DIR ACTION ARG
                                       a python_function model whose predict does ACTION (read, connect,
                                       write, sleep, eat) with ARG; DIR-public.csv from the good model
  replay_models.py auc TARGETS PREDICTIONS
                                       scikit-learn's ROC AUC, printed with 17 digits
"""
import os
import sys
import warnings

warnings.filterwarnings("ignore")
import mlflow.pyfunc
import mlflow.sklearn
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

REQUIREMENTS = ["scikit-learn", "pandas"]


def train(columns=None):
    data = pd.read_csv("data/train.csv")
    y = data.pop("target")
    keep = ColumnTransformer([("keep", "passthrough", columns or list(data.columns))])
    return make_pipeline(keep, StandardScaler(), LogisticRegression()).fit(data, y)


def save(model, directory):
    mlflow.sklearn.save_model(model, directory, pyfunc_predict_fn="predict_proba", pip_requirements=REQUIREMENTS)


def write_public(model, directory):
    os.makedirs(os.path.dirname(directory) or ".", exist_ok=True)
    features = pd.read_csv("data/val_public_X.csv")
    values = model.predict_proba(features)[:, 1]
    with open(f"{directory}-public.csv", "w") as out:
        out.write("prediction\n" + "".join(f"{float(v)!r}\n" for v in values))


class Hostile(mlflow.pyfunc.PythonModel):
    def __init__(self, action, argument):
        self.action, self.argument = action, argument

    def predict(self, context, model_input, params=None):
        if self.action == "read":
            with open(self.argument) as handle:
                print("read:", handle.read()[:20])
        elif self.action == "connect":
            import socket

            host, port = self.argument.rsplit(":", 1)
            socket.create_connection((host, int(port)), timeout=5).sendall(b"leak\n")
        elif self.action == "write":
            with open(self.argument, "w") as handle:
                handle.write("escaped\n")
        elif self.action == "sleep":
            import time

            time.sleep(float(self.argument))
        elif self.action == "eat":
            hoard = b"x" * (int(self.argument) << 20)
            print(len(hoard))
        return [0.5] * len(model_input)


def main():
    kind = sys.argv[1]
    if kind == "auc":
        from sklearn.metrics import roc_auc_score

        truth = pd.read_csv(sys.argv[2]).iloc[:, 0]
        predictions = pd.read_csv(sys.argv[3]).iloc[:, 0]
        print(repr(float(roc_auc_score(truth, predictions))))
        return
    directory = sys.argv[2]
    if kind == "good":
        model = train()
        save(model, directory)
        write_public(mlflow.sklearn.load_model(directory), directory)
    elif kind == "mismatch":
        write_public(train(), directory)
        save(train(columns=["f00"]), directory)
    elif kind == "broken":
        model = train()
        save(model, directory)
        write_public(model, directory)
        path = f"{directory}/MLmodel"
        text = open(path).read().replace("loader_module: mlflow.sklearn", "loader_module: mlagent_no_such_module")
        open(path, "w").write(text.replace("  sklearn:\n", "  sklearn_gone:\n"))
    elif kind == "hostile":
        write_public(train(), directory)
        mlflow.pyfunc.save_model(directory, python_model=Hostile(sys.argv[3], sys.argv[4]), pip_requirements=REQUIREMENTS)
    else:
        sys.exit(f"unknown kind {kind}")


if __name__ == "__main__":
    main()
