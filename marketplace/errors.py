"""Errors that services raise and the app turns into clear, translated, field-level answers.

Services raise with English message ids; the exception handlers translate them into the
response's language, so the rules never depend on who is asking.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from marketplace.i18n import N_


@dataclass
class FieldError:
    field: str
    message: str
    params: dict = dataclasses.field(default_factory=dict)  # qualified: the attribute `field` shadows the function here


class DomainError(Exception):
    """A refused request: nothing was written. Carries a status and, where it can, the fields."""

    status_code = 400

    def __init__(self, message: str, *errors: FieldError, status_code: int | None = None, **params) -> None:
        super().__init__(message)
        self.message = message
        self.params = params
        self.errors = list(errors)
        if status_code:
            self.status_code = status_code


class InvalidInput(DomainError):
    status_code = 422

    def __init__(self, *errors: FieldError) -> None:
        super().__init__(N_("The request has invalid fields."), *errors)


class Conflict(DomainError):
    status_code = 409


class Duplicate(Conflict):
    """The record asked for exists already (a form sent twice, two tabs): `existing` is its id, so
    a page can show it instead of an error."""

    def __init__(self, message: str, *errors: FieldError, existing: object, **params) -> None:
        super().__init__(message, *errors, **params)
        self.existing = existing


class Throttled(DomainError):
    """Too many attempts: try again after `retry_after` seconds (the answer's Retry-After)."""

    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(N_("Too many attempts. Please wait %(seconds)d seconds and try again."), seconds=retry_after)
        self.retry_after = retry_after


class NotFound(DomainError):
    """Also what an out-of-scope record answers, so other organizations' ids leak nothing."""

    status_code = 404

    def __init__(self) -> None:
        super().__init__(N_("Not found."))


class NotAuthenticated(DomainError):
    status_code = 401

    def __init__(self) -> None:
        super().__init__(N_("Please sign in."))


class Forbidden(DomainError):
    status_code = 403

    def __init__(self) -> None:
        super().__init__(N_("Your role does not allow this."))


class MissingScope(DomainError):
    """An integration's token calling an operation its scopes do not cover (None: an operation for
    people only). The answer names the scope, so the integration's owner knows what to grant."""

    status_code = 403

    def __init__(self, scope: str | None) -> None:
        if scope is None:
            super().__init__(N_("An integration's token cannot call this operation: it is for people's tokens only."))
        else:
            error = FieldError("scope", N_("This operation needs the scope %(scope)s."), {"scope": scope})
            super().__init__(N_("The token lacks the scope %(scope)s."), error, scope=scope)


def invalid(field_name: str, message: str, **params) -> InvalidInput:
    return InvalidInput(FieldError(field_name, message, params))
