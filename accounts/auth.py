"""Bearer-token authentication for the JSON API, with a scope per endpoint."""

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer

from accounts.models import ApiScope, ApiToken
from accounts.services import api_token_authenticate


class ApiTokenAuth(HttpBearer):
    """`auth=ApiTokenAuth(ApiScope.WRITE)`: a valid, unrevoked token that carries the scope."""

    def __init__(self, scope: str = ApiScope.READ) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        api_token = api_token_authenticate(raw=token)
        if api_token is None:
            return None  # ninja answers 401
        if self.scope not in api_token.scopes:
            raise HttpError(
                403,
                f"This token lacks the “{self.scope}” scope. Issue a token with it on your "
                "profile page.",
            )
        request.user = api_token.user
        return api_token
