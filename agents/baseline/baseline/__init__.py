"""mlagent's reference research agent as a package: one concern per module.

Read in this order: `main` (the whole flow), `settings` and `ctl` (the environment and the only
channel to the daemon), `knowledge` and `choose` (what earlier directions found, which direction
to take), `data`, `families/` (the experiment families), `models` (the MLflow model contract),
`records` and `search` (one configuration as a run, the search over them), `submit` and
`learnings`. Behaviour and environment: agents/baseline/README.md.

Importing the package fixes the process-wide environment before numpy or MLflow is imported.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # three agents share two cores: one thread each
# MLflow is used only to save and load model directories: no usage telemetry (a background
# request and an installation id written under $HOME), since the agent talks to mlagentctl alone,
# and no "load the tracing skill" hint in the log when a variable such as AGENT is set.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_DISABLE_AGENT_HINT", "1")
