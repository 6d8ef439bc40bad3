#!/usr/bin/env python3
"""mlagent's reference research agent: a careful, scripted scikit-learn researcher.

The entry point the daemon's `baseline` profile runs (`{python} {agents_dir}/baseline/agent.py`,
in the job's worktree). The agent itself is the `baseline` package beside this file, one concern
per module; importing it first sets the thread variables (OMP_NUM_THREADS…) before numpy loads.
Environment, usage and behaviour: agents/baseline/README.md.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the package, wherever the worktree is

from baseline.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
