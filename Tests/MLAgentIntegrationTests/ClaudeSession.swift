import Foundation

/// The scripted research session the real Claude Code CLI plays in ``ClaudeCLITests``, turn by
/// turn, through Tests/ScriptedAPI/messages_server.py: a model's tool calls with the tokens each
/// turn reports. Calls labelled `"as"` are the ones later turns take results from
/// (`{{result:run|json:id}}` is the run id that `start_run` returned; see the server's doc).
enum ClaudeSession {
    static let direction = "claude-gbm"
    static let runName = "gbm-5"

    /// The MCP tools as Claude Code names them, loaded with ToolSearch before the first call
    /// (the CLI defers MCP tools: only their names are in the first request).
    static var mcpTools: [String] { MCPTests.tools.map { "mcp__mlagent__" + $0 } }

    static func script() throws -> String {
        let train = String(decoding: try JSONSerialization.data(withJSONObject: trainScript, options: .fragmentsAllowed), as: UTF8.self)
        return turns.replacingOccurrences(of: "@MCP_TOOLS@", with: mcpTools.joined(separator: ","))
            .replacingOccurrences(of: "@TRAIN_PY@", with: train)
    }

    /// The tokens each turn reports (input, output, cache read, cache write), summed.
    static func scriptedTokens() throws -> (input: Int64, output: Int64, cacheRead: Int64, cacheWrite: Int64) {
        let object = try JSONSerialization.jsonObject(with: Data(try script().utf8)) as? [String: Any]
        var sums: (input: Int64, output: Int64, cacheRead: Int64, cacheWrite: Int64) = (0, 0, 0, 0)
        for turn in object?["turns"] as? [[String: Any]] ?? [] {
            let usage = turn["usage"] as? [String: Int] ?? [:]
            sums.input += Int64(usage["input_tokens"] ?? 0)
            sums.output += Int64(usage["output_tokens"] ?? 0)
            sums.cacheRead += Int64(usage["cache_read_input_tokens"] ?? 0)
            sums.cacheWrite += Int64(usage["cache_creation_input_tokens"] ?? 0)
        }
        return sums
    }

    /// The turn that starts the run (its result must reach the turns after it).
    static let startRunTurn = 5

    private static let turns = #"""
        {"final_text": "Nothing more to do.", "turns": [
          {"content": [{"text": "I will read the knowledge base first."},
                       {"tool": "ToolSearch", "as": "schemas", "input": {"query": "select:@MCP_TOOLS@", "max_results": 14}},
                       {"tool": "Bash", "as": "kb", "input": {"command": "ls research_directions && cat research_directions/seed-linear.md && mlagentctl leaderboard", "description": "Read the knowledge base"}},
                       {"tool": "Bash", "as": "cwd", "input": {"command": "pwd", "description": "Where the worktree is"}}],
           "usage": {"input_tokens": 1200, "output_tokens": 90, "cache_creation_input_tokens": 500, "cache_read_input_tokens": 0}},
          {"content": [{"tool": "mcp__mlagent__list_directions", "as": "directions", "input": {}}],
           "usage": {"input_tokens": 100, "output_tokens": 20, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1700}},
          {"content": [{"text": "Linear models are covered; I declare a gradient-boosting direction."},
                       {"tool": "mcp__mlagent__declare_direction", "input": {"name": "claude-gbm", "rationale": "Gradient boosting after seed-linear, whose learnings say: {{result:directions|json:directions.0.learnings}}"}}],
           "usage": {"input_tokens": 300, "output_tokens": 60, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1800}},
          {"content": [{"tool": "Write", "input": {"file_path": "{{result:cwd}}/train.py", "content": @TRAIN_PY@}}],
           "usage": {"input_tokens": 200, "output_tokens": 400, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 2000}},
          {"content": [{"tool": "Bash", "as": "train", "input": {"command": "\"$MLAGENT_PYTHON\" train.py", "description": "Train, save the model, predict both splits"}}],
           "usage": {"input_tokens": 150, "output_tokens": 30, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 2400}},
          {"content": [{"tool": "mcp__mlagent__start_run", "as": "run", "input": {"name": "gbm-5", "rationale": "boosted stumps beat the linear floor of seed-linear in CV", "params": "{{result:train|json:params}}"}}],
           "usage": {"input_tokens": 150, "output_tokens": 50, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 2600}},
          {"content": [{"tool": "mcp__mlagent__log_metrics", "input": {"run": "{{result:run|json:id}}", "metrics": "{{result:train|json:metrics}}", "batch": "curve"}}],
           "usage": {"input_tokens": 150, "output_tokens": 120, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 2800}},
          {"content": [{"tool": "mcp__mlagent__log_metrics", "input": {"run": "{{result:run|json:id}}", "metrics": [{"key": "train_auc", "value": "{{result:train|json:train_auc}}", "step": 5}]}}],
           "usage": {"input_tokens": 100, "output_tokens": 40, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 3000}},
          {"content": [{"tool": "mcp__mlagent__log_artifact", "input": {"run": "{{result:run|json:id}}", "path": "models/model", "name": "model"}}],
           "usage": {"input_tokens": 100, "output_tokens": 40, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 3100}},
          {"content": [{"tool": "mcp__mlagent__evaluate_public", "as": "public", "input": {"run": "{{result:run|json:id}}", "path": "preds/public.csv"}}],
           "usage": {"input_tokens": 100, "output_tokens": 40, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 3200}},
          {"content": [{"tool": "mcp__mlagent__end_run", "input": {"run": "{{result:run|json:id}}", "analysis": "public roc_auc {{result:public|json:score}} (95% interval from {{result:public|json:interval.low}}); the training loss fell at every one of the 5 steps"}}],
           "usage": {"input_tokens": 100, "output_tokens": 40, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 3300}},
          {"content": [{"tool": "mcp__mlagent__submit_private", "as": "private", "input": {"run": "{{result:run|json:id}}"}}],
           "usage": {"input_tokens": 100, "output_tokens": 40, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 3400}},
          {"content": [{"tool": "mcp__mlagent__finish_direction", "input": {"learnings": "Run {{result:run|json:id}} (gbm-5) scored {{result:public|json:score}} public and {{result:private|json:score}} private: boosting beats the linear floor."}}],
           "usage": {"input_tokens": 100, "output_tokens": 60, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 3500}},
          {"content": [{"text": "The direction is finished."}],
           "usage": {"input_tokens": 80, "output_tokens": 20, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 3600}}
        ]}
        """#

    /// What the Write tool writes: scikit-learn on the test's dataset, the model saved as an
    /// MLflow model and loaded back for both splits' predictions, the training curve printed as JSON.
    static let trainScript = #"""
        """Gradient-boosted stumps on data/train.csv; the saved model predicts both validation splits."""
        import csv
        import json
        import os
        import warnings

        warnings.filterwarnings("ignore")
        os.environ["MLFLOW_DISABLE_AGENT_HINT"] = "1"
        os.environ["MLFLOW_LOGGING_LEVEL"] = "ERROR"
        import mlflow.sklearn
        import numpy as np
        from sklearn.ensemble import GradientBoostingClassifier
        from sklearn.metrics import log_loss, roc_auc_score


        def load(path):
            with open(path) as handle:
                rows = list(csv.reader(handle))
            return rows[0], np.array(rows[1:], dtype=float)


        header, train = load("data/train.csv")
        features = [i for i, name in enumerate(header) if name != "target"]
        X, y = train[:, features], train[:, header.index("target")]
        params = {"n_estimators": 5, "max_depth": 2, "learning_rate": 0.3, "random_state": 0}
        model = GradientBoostingClassifier(**params).fit(X, y)
        curve = [{"key": "train_log_loss", "value": round(float(log_loss(y, p[:, 1])), 6), "step": step}
                 for step, p in enumerate(model.staged_predict_proba(X), start=1)]
        os.makedirs("models", exist_ok=True)
        mlflow.sklearn.save_model(model, "models/model", serialization_format="cloudpickle", pyfunc_predict_fn="predict_proba", pip_requirements=["scikit-learn"])
        model = mlflow.sklearn.load_model("models/model")
        os.makedirs("preds", exist_ok=True)
        for split in ("public", "private"):
            _, rows = load("data/val_%s_X.csv" % split)
            np.savetxt("preds/%s.csv" % split, model.predict_proba(rows)[:, 1], fmt="%.6f", header="prediction", comments="")
        print(json.dumps({"params": {key: str(value) for key, value in params.items()}, "metrics": curve,
                          "train_auc": round(float(roc_auc_score(y, model.predict_proba(X)[:, 1])), 6)}))

        """#

    /// A small two-feature dataset with both classes in every split (a noisy linear rule, from a
    /// fixed seed): train.csv with its target, the X and y files of both validation splits.
    static func dataset() -> [String: String] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53) * 2 - 1
        }
        func rows(_ count: Int) -> [(features: String, target: Int)] {
            (0..<count).map { _ in
                let (a, b, noise) = (uniform(), uniform(), uniform())
                return (String(format: "%.4f,%.4f", a, b), a + 0.5 * b + 0.4 * noise > 0 ? 1 : 0)
            }
        }
        let train = rows(80)
        let (publicRows, privateRows) = (rows(30), rows(30))
        var files = ["train.csv": "f00,f01,target\n" + train.map { "\($0.features),\($0.target)\n" }.joined()]
        for (split, rows) in [("public", publicRows), ("private", privateRows)] {
            files["val_\(split)_X.csv"] = "f00,f01\n" + rows.map { $0.features + "\n" }.joined()
            files["val_\(split)_y.csv"] = "target\n" + rows.map { "\($0.target)\n" }.joined()
        }
        return files
    }
}
