"""One set of models for pydantic 2 (standalone) and pydantic 1.10 (inside LNbits 1.6).

LNbits 1.6 runs on pydantic 1.10 and installs no dependency of an extension, so
the models, the routes and the services they reach must work on both majors. The
constrained field types are built here, per major: on pydantic 2 exactly the
`Annotated` forms written before (the same validation, errors and schema); on
pydantic 1 the `constr`/`conint`/`condecimal`/`conlist` classes, with a check
function added as their last validator. A module that declares such types gives
mypy the plain type under `TYPE_CHECKING` (mypy reads no constraints anyway).

The few API calls that differ (`model_dump`/`dict`, `model_validate`/`parse_obj`,
`TypeAdapter`/`parse_obj_as`, `model_fields`/`__fields__`, model validators) go
through the functions below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import pydantic
from pydantic import BaseModel, conint, constr

V2 = pydantic.VERSION.startswith("2.")
_v1: Any = pydantic  # the pydantic 1 spellings, which pydantic 2's stubs do not know
M = TypeVar("M", bound=BaseModel)
Check = Callable[[Any], Any]


def text(
    *,
    strip: bool = False,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
    check: Check | None = None,
) -> Any:
    """A bounded string type; `check(value)` runs last and may raise ValueError."""
    if V2:
        base = constr(
            strip_whitespace=strip, min_length=min_length, max_length=max_length, pattern=pattern
        )
        return base if check is None else Annotated[base, pydantic.AfterValidator(check)]
    base = _v1.constr(
        strip_whitespace=strip, min_length=min_length, max_length=max_length, regex=pattern
    )
    return base if check is None else _checked_v1(base, check)


def _checked_v1(base: Any, check: Check) -> Any:
    """A pydantic 1 constrained type with one more validator after its own."""

    class Checked(base):  # type: ignore[misc, valid-type]
        @classmethod
        def __get_validators__(cls) -> Any:
            yield from super().__get_validators__()
            yield check

    Checked.__name__ = base.__name__
    return Checked


def integer(*, strict: bool = True, ge: int | None = None, le: int | None = None) -> Any:
    """A bounded integer type (strict: a string or a float is refused)."""
    return conint(strict=strict, ge=ge, le=le)


def decimal(
    *,
    ge: int,
    le: int,
    max_digits: int,
    decimal_places: int,
    to_json: Callable[[Decimal], int | float],
) -> Any:
    """An exact decimal type, written to JSON as a number by `to_json`.

    Pydantic 1 (through FastAPI) writes a Decimal as a JSON number already.
    """
    if V2:
        return Annotated[
            Decimal,
            pydantic.Field(ge=ge, le=le, max_digits=max_digits, decimal_places=decimal_places),
            pydantic.PlainSerializer(to_json, return_type=float, when_used="json"),
        ]
    return pydantic.condecimal(ge=ge, le=le, max_digits=max_digits, decimal_places=decimal_places)


def items(
    item: Any,
    *,
    min_length: int | None = None,
    max_length: int | None = None,
    description: str | None = None,
    check: Check | None = None,
) -> Any:
    """A list type of `item` with bounds on its length; `check(list)` runs last."""
    if V2:
        bounds = pydantic.Field(
            min_length=min_length, max_length=max_length, description=description
        )
        typed = Annotated[list[item], bounds]  # type: ignore[valid-type]
        return typed if check is None else Annotated[typed, pydantic.AfterValidator(check)]
    base = _v1.conlist(item, min_items=min_length, max_items=max_length)
    return base if check is None else _checked_v1(base, check)


def custom_error(kind: str, message: str) -> ValueError:
    """A validation error whose `type` is `kind` on pydantic 2 (`value_error` on 1)."""
    if V2:
        from pydantic_core import PydanticCustomError

        return PydanticCustomError(kind, message)  # type: ignore[return-value]
    return ValueError(message)


if TYPE_CHECKING or V2:

    class Body(BaseModel):
        """A request body: unknown fields are an error, not silently dropped."""

        model_config = pydantic.ConfigDict(extra="forbid")

else:

    class Body(BaseModel):
        """A request body: unknown fields are an error, not silently dropped."""

        class Config:
            extra = "forbid"


def model_check(check: Callable[[Mapping[str, Any]], None]) -> Any:
    """A whole-model check run once every field is valid: `check(values)` raises ValueError.

    Assign the result in the class body (`_keys = model_check(check_keys)`).
    """
    if V2:

        def after(self: BaseModel) -> BaseModel:
            check(self.__dict__)
            return self

        return pydantic.model_validator(mode="after")(after)

    def root(cls: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
        check(values)
        return values

    return pydantic.root_validator(skip_on_failure=True, allow_reuse=True)(root)  # type: ignore[call-overload]


def dump(model: BaseModel, **options: Any) -> dict[str, Any]:
    """The model as a dict (`include`, `exclude`, `exclude_unset`, `exclude_none`)."""
    if V2:
        return model.model_dump(**options)
    return model.dict(**options)


def validate(cls: type[M], data: Any, *, from_attributes: bool = False) -> M:
    """`data` validated into `cls`; `from_attributes`: read the fields off an object."""
    if V2:
        return cls.model_validate(data, from_attributes=from_attributes)
    if from_attributes:
        data = {name: getattr(data, name) for name in field_names(cls) if hasattr(data, name)}
    return cls.parse_obj(data)


def validator_for(type_: Any) -> Callable[[Any], Any]:
    """A function validating a value as `type_` (any type a field can have); built once."""
    if V2:
        return pydantic.TypeAdapter(type_).validate_python
    return lambda value: pydantic.parse_obj_as(type_, value)


def field_names(cls: type[BaseModel]) -> tuple[str, ...]:
    """The model's field names, in order."""
    fields: Any = cls.model_fields if V2 else cls.__fields__
    return tuple(fields)


def fields_set(model: BaseModel) -> set[str]:
    """The fields given when the model was made (not defaulted)."""
    return set(model.model_fields_set if V2 else model.__fields_set__)


def copy(model: M, update: Mapping[str, Any]) -> M:
    """A copy with some fields replaced (not validated again)."""
    if V2:
        return model.model_copy(update=dict(update))
    return model.copy(update=dict(update))
