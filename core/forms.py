from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError next to the matching fields, or above the form."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def attempt_service[T](
    form: forms.Form | None, write: Callable[[], T]
) -> tuple[T | None, ValidationError | None]:
    """Call a service. Field errors land on the form (result None, None); a refusal of the
    state of things (no field) is handed back for a 409, with nothing written either way."""
    try:
        return write(), None
    except ValidationError as exc:
        if form is None or not hasattr(exc, "error_dict"):
            return None, exc
        add_service_errors(form, exc)
        return None, None
