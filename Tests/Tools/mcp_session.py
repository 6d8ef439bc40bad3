"""An agent that does a whole direction through `mlagentctl mcp` with the official MCP client.

The daemon starts it as the job's agent (with its MLAGENT_TOKEN), in its worktree. It lists the
tools, calls each one the way a model would (reading ids and scores from earlier results), and
writes everything it saw to mcp-report.json, which the test reads from the job's branch.
"""

import asyncio
import json
import os
import shutil
import sys
import traceback

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

PUBLIC = json.loads(os.environ["MCP_TEST_PUBLIC"])
PRIVATE = json.loads(os.environ["MCP_TEST_PRIVATE"])
report = {"calls": [], "tools": []}


def csv(values):
    return "prediction\n" + "".join(f"{v}\n" for v in values)


async def session_body(session):
    init = await session.initialize()
    report["server"] = init.server_info.name
    listed = await session.list_tools()
    report["tools"] = [
        {"name": t.name, "description": t.description, "inputSchema": t.input_schema} for t in listed.tools
    ]

    async def call(tool, /, **arguments):
        result = await session.call_tool(tool, arguments)
        text = "".join(block.text for block in result.content if getattr(block, "type", "") == "text")
        entry = {"tool": tool, "arguments": arguments, "isError": bool(result.is_error), "text": text,
                 "structured": result.structured_content}
        report["calls"].append(entry)
        return entry

    directions = await call("list_directions")
    seed = next(d for d in directions["structured"]["directions"] if d["name"] == "seed")
    await call("leaderboard")
    seed_runs = await call("list_runs", direction=seed["name"])
    seed_run = seed_runs["structured"]["runs"][0]["id"]
    await call("show_run", run=seed_run)
    await call("declare_direction", name="mcp-forest", rationale="forests, after the seed direction's linear baseline")
    started = await call("start_run", name="rf-depth4", rationale="a first forest", params={"depth": 4, "trees": "100"})
    run = started["structured"]["id"]
    points = [{"key": "train_loss", "value": 1 / (i + 1), "step": i} for i in range(20)]
    points += [{"key": "val_loss", "value": 1.5 / (i + 1), "step": i} for i in range(20)]
    await call("log_metrics", run=run, metrics=points, params={"seed": "7"}, tags={"family": "forest"})
    await call("log_metrics", run=run, metrics=points, params={"seed": "7"}, tags={"family": "forest"})
    await call("log_metrics", run=run, metrics=[{"key": "cv_auc", "value": "high"}])
    os.makedirs("model", exist_ok=True)
    with open("model/forest.bin", "w") as f:
        f.write("trees\n")
    with open("model/MLmodel", "w") as f:  # the model contract: an MLflow model directory
        f.write("flavors:\n  python_function:\n    loader_module: mlflow.pyfunc.model\n")
    await call("log_artifact", run=run, path="model", name="model")
    with open("public.csv", "w") as f:
        f.write(csv(PUBLIC))
    with open("private.csv", "w") as f:
        f.write(csv(PRIVATE))
    await call("evaluate_public", run=run, path="public.csv")
    await call("evaluate_public", run=seed_run, path="public.csv")
    await call("compare_runs", run_a=run, run_b=run)
    await call("compare_runs", run_a=run, run_b=seed_run)
    await call("end_run", run=run, analysis="deeper trees overfit less than expected")
    await call("submit_private", run=run, path="private.csv")
    # The operator's message: the test sends it once this job runs.
    for _ in range(600):
        inbox = await call("read_inbox")
        if inbox["structured"] and inbox["structured"]["new"] > 0:
            break
        report["calls"].pop()
        await asyncio.sleep(0.1)
    await call("read_inbox", all=True)
    await call("finish_direction", learnings=f"## What worked\nA forest (run {run}).\n")


async def main():
    server = StdioServerParameters(
        command=shutil.which("mlagentctl"), args=["mcp"],
        env={key: os.environ[key] for key in ("MLAGENT_TOKEN", "MLAGENT_SOCKET") if key in os.environ})
    try:
        async with stdio_client(server) as (read, write):
            async with ClientSession(read, write) as session:
                await session_body(session)
    except BaseException:
        report["exception"] = traceback.format_exc()
    with open("mcp-report.json", "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)


asyncio.run(main())
sys.exit(0 if "exception" not in report else 1)
