import MCP

/// JSON Schema fragments for tool inputs.
enum ToolSchema {
    static func object(_ properties: [String: Value], required: [String] = []) -> Value {
        var schema: [String: Value] = [
            "type": "object", "properties": .object(properties), "additionalProperties": false,
        ]
        if !required.isEmpty { schema["required"] = .array(required.map { .string($0) }) }
        return .object(schema)
    }

    static func string(_ description: String, minLength: Int? = nil, pattern: String? = nil) -> Value {
        var schema: [String: Value] = ["type": "string", "description": .string(description)]
        if let minLength { schema["minLength"] = .int(minLength) }
        if let pattern { schema["pattern"] = .string(pattern) }
        return .object(schema)
    }

    static func integer(_ description: String, minimum: Int? = nil) -> Value {
        var schema: [String: Value] = ["type": "integer", "description": .string(description)]
        if let minimum { schema["minimum"] = .int(minimum) }
        return .object(schema)
    }

    static func number(_ description: String) -> Value {
        .object(["type": "number", "description": .string(description)])
    }

    static func boolean(_ description: String) -> Value {
        .object(["type": "boolean", "description": .string(description)])
    }

    /// An object of string values (params, tags).
    static func stringMap(_ description: String) -> Value {
        .object([
            "type": "object", "description": .string(description),
            "additionalProperties": .object(["type": "string"]),
        ])
    }

    /// An array of strings (names).
    static func stringArray(_ description: String) -> Value {
        .object(["type": "array", "description": .string(description), "items": .object(["type": "string"])])
    }

    static func run(_ what: String = "The run id (from start_run or list_runs).") -> Value {
        integer(what, minimum: 1)
    }
}
