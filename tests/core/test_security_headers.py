import json
import re

import pytest

from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_pages_carry_a_nonce_based_csp_without_inline_scripts(client):
    client.force_login(UserFactory())
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", policy).group(1)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    nonce = re.search(r"'nonce-([^']+)'", script_src).group(1)
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts, "the page loads htmx and app.js"
    for tag in scripts:
        assert f'nonce="{nonce}"' in tag, tag
        assert "src=" in tag, f"inline script found: {tag}"
    assert "cdn" not in html.lower()


def test_htmx_requests_send_the_csrf_token_from_body(client):
    client.force_login(UserFactory())
    html = client.get("/").content.decode()
    assert re.search(r"<body[^>]+hx-headers='\{\"x-csrftoken\": \"[^\"]+\"\}'", html)


def test_framing_is_denied(client):
    response = client.get("/accounts/login/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_htmx_config_sits_in_the_head_and_swaps_form_errors(client):
    html = client.get("/accounts/login/").content.decode()
    head = html.split("</head>")[0]
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', head)
    assert config, "htmx reads its config from the head"
    assert "{#" not in html and "{%" not in html, "a template comment leaked into the page"
    handling = {rule["code"]: rule for rule in json.loads(config.group(1))["responseHandling"]}
    assert handling["422"]["swap"] and handling["400"]["swap"]
    assert handling["[45].."]["swap"] is False
