from tests.integration.conftest import http  # noqa: F401 - shared fixture
