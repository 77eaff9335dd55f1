"""The form dialect: field types, compilation to JSON Schema, validation to typed answers, versions."""
