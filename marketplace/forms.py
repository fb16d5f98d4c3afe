"""The one input mechanism for pages, the API and spreadsheet rows: form data or JSON → a msgspec
Struct, or every field error at once.

msgspec stops at the first problem. When the whole value fails, each field is converted again on
its own against the Struct's own field types (nested Structs and lists are walked), so a form
with three bad fields gets three answers, each named by its field path (``inventors[2].name``).
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

import msgspec

from marketplace.errors import FieldError, InvalidInput
from marketplace.i18n import N_, gettext, validation_message

T = TypeVar("T")

REQUIRED = N_("Required.")
UNKNOWN = N_("Unknown field: not part of this request.")
CONTROL_CHARACTER = N_("Contains a control character (such as NUL), which is not allowed.")

# Text may hold tab, line feed and carriage return (multi-line fields); every other C0 control,
# DEL and the C1 controls are refused, and lone surrogates (PostgreSQL stores neither NUL nor them).
# U+2028/U+2029 are ordinary text here: line separators that mail headers fold like line breaks.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def convert(data: Any, struct_type: type[T], *, strict: bool = True) -> T:
    """`data` as `struct_type`; raises InvalidInput naming every bad field."""
    try:
        return msgspec.convert(data, struct_type, strict=strict)
    except msgspec.ValidationError as error:
        raise InvalidInput(*(field_errors(data, struct_type, strict=strict) or [_leaf("", error)])) from error


def try_convert(data: Any, struct_type: type[T], *, strict: bool = True) -> tuple[T | None, list[FieldError]]:
    """(the struct, []) or (None, every field error): for callers that collect rather than raise."""
    try:
        return convert(data, struct_type, strict=strict), []
    except InvalidInput as error:
        return None, error.errors


def field_errors(data: Any, struct_type: type, *, strict: bool = True, prefix: str = "") -> list[FieldError]:
    """Every problem of `data` against `struct_type`; empty when it converts."""
    return _value_errors(data, struct_type, prefix, strict)


def whole_number(text: str, most: int = 18) -> int | None:
    """The whole number a form field holds in ASCII digits (at most `most` of them), else None.
    `str.isdigit()` alone also accepts "²" and other digits that `int()` refuses with a 500."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= most else None


def without_control_characters(text: str) -> str:
    """The text as a form may show it again after refusing it."""
    return _CONTROL.sub("", text)


def control_character_errors(value: Any, path: str = "") -> list[FieldError]:
    """A field error for every text in `value` (nested mappings' keys and values, lists) holding a
    control character, named by its path (``inventors[2].name``); empty when there is none."""
    if isinstance(value, str):
        return [FieldError(path, CONTROL_CHARACTER)] if _CONTROL.search(value) else []
    if isinstance(value, Mapping):
        errors: list[FieldError] = []
        for key, item in value.items():
            name = _join(path, visible(str(key)))
            if isinstance(key, str) and _CONTROL.search(key):
                errors.append(FieldError(name, CONTROL_CHARACTER))
            errors += control_character_errors(item, name)
        return errors
    if isinstance(value, (list, tuple)):
        return [e for i, item in enumerate(value) for e in control_character_errors(item, f"{path}[{i}]")]
    return []


def visible(text: str) -> str:
    """`text` with its control characters written as escapes, to name a field safely."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def by_input(errors: list[FieldError], rename: Mapping[str, str] | None = None, into: dict | None = None) -> dict[str, str]:
    """Field errors as {form input: translated message} for a page: the first per input wins
    (what is already in `into` first), an item's problem shows on its list (``listing_ids[2]``)."""
    shown = into if into is not None else {}
    for error in errors:
        name = error.field.split("[", 1)[0]
        shown.setdefault((rename or {}).get(name, name), gettext(error.message, **error.params))
    return shown


def leaf_error(path: str, msgspec_message: str) -> FieldError:
    """One msgspec message as our field error (its id and parameters, translated when shown)."""
    message, params = validation_message(msgspec_message)
    return FieldError(path, message, params)


def _leaf(path: str, error: msgspec.ValidationError) -> FieldError:
    return leaf_error(path, str(error))


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _struct_errors(data: Mapping, struct_type: type[msgspec.Struct], path: str, strict: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    fields = msgspec.structs.fields(struct_type)
    if struct_type.__struct_config__.forbid_unknown_fields:
        known = {f.encode_name for f in fields}
        errors += [FieldError(_join(path, str(key)), UNKNOWN) for key in data if key not in known]
    for f in fields:
        if f.encode_name in data:
            errors += _value_errors(data[f.encode_name], f.type, _join(path, f.encode_name), strict)
        elif f.required:
            errors.append(FieldError(_join(path, f.encode_name), REQUIRED))
    return errors


def _value_errors(value: Any, type_: Any, path: str, strict: bool) -> list[FieldError]:
    try:
        msgspec.convert(value, type_, strict=strict)
        return []
    except msgspec.ValidationError as error:
        whole = _leaf(path, error)
    # Look inside only when the value has the shape of the one type it may be; else the whole is wrong.
    inner = _inner_type(type_, value)
    if isinstance(value, Mapping) and isinstance(inner, type) and issubclass(inner, msgspec.Struct):
        return _struct_errors(value, inner, path, strict) or [whole]
    if isinstance(value, list) and typing.get_origin(inner) is list:
        (item_type,) = typing.get_args(inner) or (Any,)
        items = [e for i, item in enumerate(value) for e in _value_errors(item, item_type, f"{path}[{i}]", strict)]
        return items or [whole]  # items all fine: the list itself is wrong (too long, too short)
    return [whole]


def _inner_type(type_: Any, value: Any) -> Any:
    """The type under Annotated and Optional that `value` should be, when there is exactly one."""
    while True:
        origin = typing.get_origin(type_)
        if origin is Annotated:
            type_ = typing.get_args(type_)[0]
        elif origin in (typing.Union, types.UnionType):
            # None and UNSET (a PATCH body's "left out") never hold fields of their own.
            candidates = [t for t in typing.get_args(type_) if t not in (type(None), msgspec.UnsetType)]
            if value is None or len(candidates) != 1:
                return None
            type_ = candidates[0]
        else:
            return type_
