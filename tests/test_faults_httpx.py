"""The network and server fault tests of test_e2e_faults.py once more, on `--http-client httpx`
(set in each test's own config file, see conftest's `own_config`): the escape hatch
must survive every fault the default chrome client does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from test_e2e_faults import (  # noqa: F401  (collected here again, on httpx)
    synced,
    test_a_stalled_server_times_out_and_is_retried,
    test_blocks_and_non_json_end_the_run_cleanly,
    test_client_errors_are_not_retried,
    test_mixed_faults_on_a_fifth_of_requests,
    test_retries_run_out_then_partial_failure,
    test_retry_after_as_http_date,
    test_retry_after_is_honoured_and_slows_everyone,
    test_transient_faults_are_retried,
)


@pytest.fixture(autouse=True)
def httpx_client(own_config: Path) -> Iterator[None]:
    """This test's own config file (conftest's `own_config`) chooses httpx."""
    with own_config.open("a", encoding="utf-8") as config:
        config.write('http_client = "httpx"\n')
    yield


def test_the_config_file_chooses_httpx() -> None:
    from conftest import run_cli

    result = run_cli("config", "show", base_url="http://127.0.0.1:1")
    line = next(x for x in result.stdout.splitlines() if x.startswith("http_client"))
    assert '"httpx"' in line and "config file" in line, result.stdout
