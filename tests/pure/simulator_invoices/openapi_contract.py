"""The KSeF API 2.7.0 OpenAPI contract (``tests/spec/openapi``) and a small checker of answers against it.

:func:`violations` checks what the contract states about a JSON value: required properties, types,
``nullable`` and enums, through ``$ref`` / ``allOf``.  Formats and extra properties are not checked
(a newer API may add fields, e.g. ``InvoicePackage.compressionType`` in 2.9.0).
"""

import functools
import json

from siminv_helpers import SPEC

CONTRACT_FILE = SPEC / "openapi" / "ksef-api-v2.7.0-open-api.json"
_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict}


@functools.lru_cache(maxsize=1)
def contract():
    return json.loads(CONTRACT_FILE.read_text(encoding="utf-8"))


def schema(name):
    """``components/schemas/<name>`` with ``$ref`` / ``allOf`` resolved."""
    return resolve(contract()["components"]["schemas"][name])


def resolve(node):
    """``node`` with ``$ref`` followed and ``allOf`` merged (the outer node's own keys win)."""
    if "$ref" in node:
        return resolve(contract()["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]])
    if "allOf" not in node:
        return node
    merged = {k: v for k, v in node.items() if k != "allOf"}
    for sub in node["allOf"]:
        for key, value in resolve(sub).items():
            if key == "properties":
                merged["properties"] = dict(value, **merged.get("properties", {}))
            else:
                merged.setdefault(key, value)
    return merged


def violations(value, node, path="$"):
    """List of the ways ``value`` departs from the schema ``node`` (empty when it conforms)."""
    node = resolve(node)
    if value is None:
        return [] if node.get("nullable") else ["%s is null but not nullable" % path]
    kind = node.get("type") or ("object" if "properties" in node else None)
    if kind and (not isinstance(value, _TYPES[kind]) or (kind in ("integer", "number") and isinstance(value, bool))):
        return ["%s = %r is not of type %s" % (path, value, kind)]
    if "enum" in node and value not in node["enum"]:
        return ["%s = %r is not one of %s" % (path, value, node["enum"])]
    found = []
    if kind == "object":
        properties = node.get("properties", {})
        found += ["%s.%s is required" % (path, name) for name in node.get("required", ()) if name not in value]
        for name, item in value.items():
            if name in properties:
                found += violations(item, properties[name], "%s.%s" % (path, name))
    elif kind == "array" and "items" in node:
        for index, item in enumerate(value):
            found += violations(item, node["items"], "%s[%d]" % (path, index))
    return found
