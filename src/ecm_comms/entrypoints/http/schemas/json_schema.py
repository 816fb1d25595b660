"""pydantic's JSON schemas as the document shows them."""

from __future__ import annotations

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema


class DocumentSchema(GenerateJsonSchema):
    """Without the titles pydantic makes up from field names ("Twilio Sid"), which say nothing
    the property name does not, and without ``default: null`` on optional fields."""

    def field_title_should_be_set(self, schema: object) -> bool:
        return False

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        if schema.get("default") is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)
