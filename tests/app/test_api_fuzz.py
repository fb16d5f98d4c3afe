"""Property-based fuzzing of the whole JSON API from its own OpenAPI schema (schemathesis).

Every operation in /schema/openapi.json — so every route added later too — is called over real
HTTP (the uvicorn live server, real PostgreSQL and Meilisearch) with generated valid and invalid
input, once with a company administrator's bearer token and once with an institution manager's;
an institution's integration client (every scope, its token taken at /oauth/token) takes a share
of the cases, so operations a client may call answer as documented, and the others with 403.
Each answer must be no 5xx, and have a documented status code, content type, headers and body.
The budget is bounded per operation and the generation derandomized, so runs are repeatable.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from marketplace.accounts.models import Role
from marketplace.app import create_app
from marketplace.config import Settings
from tests.accounts.integration_factories import ALL_SCOPES
from tests.support.live_server import LiveServer
from tests.support.world import World

# The budget, a few minutes in all on 2 cores: per operation, at most COVERAGE_CASES fixed cases
# (each sent once, the organizations taking turns) and MAX_EXAMPLES generated ones (sent as both).
COVERAGE_CASES = 60
MAX_EXAMPLES = 20
# Every check that can apply to one operation called alone. Left out:
# - negative_data_rejection: the API forgives on purpose what a schema cannot list as a value — a
#   blank search filter (a plain form's empty field) is no filter, and "null" reads as absent.
# - positive_data_acceptance: rules beyond the schema (an area code from the vocabulary, a member's
#   e-mail address, beds against approved beds) refuse schema-valid input with a 400 field error.
# - allow_header_conformance: Litestar's automatic OPTIONS answer names the methods of one handler
#   of a path, not all of them (e.g. `Allow: OPTIONS, POST` on /api/v1/tokens, which also has GET).
# - missing_required_header: no operation declares a required header (the token is its security).
# - use_after_free, ensure_resource_availability, object_level_authorization: stateful checks over
#   links between operations; the tenancy matrix (test_tenancy.py) covers access across organizations.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,
    ignored_auth,
]
ROLES = (Role.company_admin, Role.tto_manager)
# The integration client's token, beside the people's (an institution's client with every scope).
INTEGRATION = "integration"
IDENTITIES = (*ROLES, INTEGRATION)


def _openapi_document() -> dict:
    """The app's schema, built at collection time (no service is contacted): one test per
    operation. The live server serves this same document."""
    placeholder = Settings(
        data_dir=Path(tempfile.gettempdir()),
        database_url="postgresql+asyncpg://collect@127.0.0.1:1/collect",
        meili_url="http://127.0.0.1:1",
        meili_master_key="collect",
        secret_key="collect",
        demo_data=False,
    )
    return create_app(placeholder).openapi_schema.to_schema()


schema = schemathesis.openapi.from_dict(_openapi_document())


def _operations() -> list[APIOperation]:
    """Every operation; one the schema describes badly fails collection rather than being skipped."""
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operations.append(result.ok())
    return operations


OPERATIONS = _operations()


def coverage_cases(operation: APIOperation) -> list[Case]:
    """Schemathesis' deterministic boundary and invalid-value cases (empty, too long, wrong type,
    missing fields...), evenly thinned to COVERAGE_CASES for the largest bodies."""
    config = schema.config.generation_for(operation=operation)
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    cases = list(schema.iter_coverage_cases(operation, generation_modes=modes, generation_config=config))
    step = max(1, -(-len(cases) // COVERAGE_CASES))
    return cases[::step]


@pytest.fixture
def integration_bearer(live_server: LiveServer, world: World) -> dict[str, str]:
    """An institution's integration client with every scope, registered through the API by its
    TTO manager, and its token taken at /oauth/token."""
    with httpx.Client(base_url=str(live_server), timeout=30) as http:
        registered = http.post(
            "/api/v1/integrations", json={"name": "fuzz", "scopes": ALL_SCOPES}, headers=world.bearer(Role.tto_manager)
        )
        assert registered.status_code == 201, registered.text
        body = registered.json()
        token = http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(body["client_id"], body["client_secret"])
        )
        assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def call_and_check(case: Case, live_server: LiveServer, headers: dict[str, str]) -> None:
    response = case.call(base_url=live_server, headers=headers, timeout=30)
    case.validate_response(response, checks=CHECKS, headers=headers)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation.label for operation in OPERATIONS])
def test_api_operation(
    operation: APIOperation, live_server: LiveServer, world: World, integration_bearer: dict[str, str]
) -> None:
    def headers_of(identity: Role | str) -> dict[str, str]:
        return integration_bearer if identity == INTEGRATION else world.bearer(Role(identity))

    for number, case in enumerate(coverage_cases(operation)):
        call_and_check(case, live_server, headers_of(IDENTITIES[number % len(IDENTITIES)]))

    # Then generated valid input (must succeed or be refused as documented) and invalid input.
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))
    sent: list[Case] = []

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def answers_as_documented(case: Case) -> None:
        for role in ROLES:
            call_and_check(case, live_server, world.bearer(role))
        # Every other generated case also as the integration client.
        sent.append(case)
        if len(sent) % 2:
            call_and_check(case, live_server, integration_bearer)

    answers_as_documented()
