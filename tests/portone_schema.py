"""PortOne's official V1 REST contract as a test oracle: ``schema/v1.openapi.json`` read from
the portone-mcp-server wheel that ``make test`` fetches into ``.cache/portone`` (never copied
into the repository)."""

import copy
import functools
import json
import re
import zipfile
from pathlib import Path

from .services import need

WHEELS = Path(__file__).resolve().parent.parent / ".cache" / "portone"
MEMBER = "portone_mcp_server/resources/docs/schema/v1.openapi.json"


@functools.cache
def _document() -> dict | None:
    wheels = sorted(WHEELS.glob("portone_mcp_server-*.whl"))
    if not wheels:
        return None
    with zipfile.ZipFile(wheels[-1]) as wheel:
        return json.loads(wheel.read(MEMBER))


def document() -> dict:
    doc = _document()
    need(doc is not None, f"PortOne's V1 OpenAPI (run `make test`, which fetches it into {WHEELS})")
    return doc


def _nullable(schema: dict) -> dict:
    """Swagger 2 has no ``nullable``; PortOne answers null for a property it does not require.
    Required properties stay strict."""
    schema = copy.deepcopy(schema)
    required = set(schema.get("required", ()))
    for name, prop in schema.get("properties", {}).items():
        if name not in required and "type" in prop:
            prop["type"] = [prop["type"], "null"]
        for limit in ("maxLength", "minLength"):  # written as strings here and there ("20")
            if isinstance(prop.get(limit), str) and prop[limit].isdigit():
                prop[limit] = int(prop[limit])
    return schema


def validator(definition: str, *, ignore_required: bool = False):
    """A JSON Schema validator for one of the contract's definitions (e.g. PaymentAnnotation),
    with jsonschema_rs (schemathesis's own validator, so no further dependency)."""
    import jsonschema_rs

    doc = document()
    # Only the definitions this one reaches: elsewhere the contract has a few entries a strict
    # meta-schema refuses (a maxLength written as a string), which are not ours to judge.
    wanted, todo = set(), [definition]
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo.extend(re.findall(r'"#/definitions/([^"]+)"', json.dumps(doc["definitions"][name])))
    definitions = {name: _nullable(doc["definitions"][name]) for name in wanted}
    if ignore_required:  # for a definition whose "required" list the contract got wrong
        definitions[definition].pop("required", None)
    root = {"definitions": definitions, "$ref": f"#/definitions/{definition}"}
    return jsonschema_rs.Draft4Validator(root)
