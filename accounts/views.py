from django.contrib import messages
from django.contrib.auth.views import LogoutView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from accounts.forms import ApiTokenForm, ProfileForm
from accounts.models import ApiToken
from accounts.selectors import api_tokens_for_user, memberships_for_user
from accounts.services import api_token_issue, api_token_revoke, user_update_profile
from core.forms import add_service_errors
from core.htmx import page_or_partial

PROFILE_TEMPLATE = "accounts/profile.html"


def _profile_context(request: HttpRequest, **extra) -> dict:
    user = request.user
    return {
        "profile_form": ProfileForm(
            initial={
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
                "timezone": user.timezone,
                "notification_email": user.notification_email,
            }
        ),
        "token_form": ApiTokenForm(),
        "tokens": api_tokens_for_user(user),
        "memberships": memberships_for_user(user),
        **extra,
    }


def profile(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                user_update_profile(
                    actor=request.user,
                    user=request.user,
                    first_name=form.cleaned_data["first_name"],
                    last_name=form.cleaned_data["last_name"],
                    email=form.cleaned_data["email"],
                    timezone_name=form.cleaned_data["timezone"],
                    notification_email=form.cleaned_data["notification_email"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Your profile is saved.")
                return redirect("accounts:profile")
        return TemplateResponse(
            request, PROFILE_TEMPLATE, _profile_context(request, profile_form=form), status=400
        )
    return TemplateResponse(request, PROFILE_TEMPLATE, _profile_context(request))


@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    issued = None
    if form.is_valid():
        try:
            issued = api_token_issue(
                actor=request.user,
                user=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=form.expires_at(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
    context = _profile_context(
        request,
        token_form=ApiTokenForm() if issued else form,
        issued_token=issued.raw if issued else None,
    )
    # The raw token is shown in this response only: it is never stored, so no redirect.
    template = page_or_partial(request, PROFILE_TEMPLATE, "tokens")
    return TemplateResponse(request, template, context, status=200 if issued else 400)


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    api_token_revoke(actor=request.user, token=token)
    if request.htmx:
        template = page_or_partial(request, PROFILE_TEMPLATE, "tokens")
        return TemplateResponse(request, template, _profile_context(request))
    messages.success(request, f"Token “{token.name}” is revoked; it no longer works.")
    return redirect("accounts:profile")


class LogoutWithMessageView(LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are logged out.")
        return response
