/// Files a new workspace starts with.
enum Templates {
    static let gitignore = """
        # Scratch files that agents should not archive on their branches.
        __pycache__/
        *.pyc
        .venv/
        .ipynb_checkpoints/

        """

    static let researchDirectionsReadme = """
        # research_directions/

        One file per research direction, `<name>.md`, written on `main` only by mlagentd's merge
        actor: status `in_progress` when the direction starts (with its rationale, branch and start
        time), then the final status with a Results section written by the daemon and the agent's
        Learnings. Read every file here before choosing what to try next.

        """

    static let mlrunsReadme = """
        # mlruns/

        Run records of every direction, landed on `main` together with the direction file:
        `mlruns/<direction>/<run-id>/` holds `run.json` (params, tags, status, times, final metrics),
        `metrics.jsonl` (every metric point) and `artifacts/` (the saved model under `model/`).
        Failed runs are kept; nothing here is deleted.

        """
}
