"""The guarded IIIF info.json fetch (integrations/iiif.py) against a real server on loopback:
both API versions, redirects, and every way a server can fail — each a clear error naming the
URL, within the time and size bounds."""

from __future__ import annotations

import time

import pytest

from domain.image import ImageNotReachable
from integrations.iiif import IIIFInfoClient
from tests.iiif_server import PAGE_SIZE, IIIFServer


def client(**kwargs: object) -> IIIFInfoClient:
    return IIIFInfoClient(allow_private=True, **kwargs)  # type: ignore[arg-type]


def test_reads_the_size_from_iiif_2_and_3(iiif: IIIFServer) -> None:
    v2 = client()(iiif.image_url("p1", 2))
    assert (v2.width, v2.height, v2.version, v2.max_width) == (*PAGE_SIZE, 2, None)
    v3 = client()(iiif.image_url("p1", 3))
    assert (v3.width, v3.height, v3.version, v3.max_width, v3.max_height) == (*PAGE_SIZE, 3, 4000, 4000)


def test_follows_one_redirect_but_not_a_loop(iiif: IIIFServer) -> None:
    iiif.add_page("p2")
    assert client()(f"{iiif.url}/moved/p2").width == PAGE_SIZE[0]
    with pytest.raises(ImageNotReachable, match="redirects in a loop"):
        client()(f"{iiif.url}/loop/p2")


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("html", "did not answer JSON"),
        ("missing", "answered HTTP 404"),
        ("huge", "more than 1024 KiB"),
    ],
)
def test_a_server_that_is_not_iiif_is_refused_by_name(iiif: IIIFServer, prefix: str, message: str) -> None:
    url = f"{iiif.url}/{prefix}/p3"
    started = time.monotonic()
    with pytest.raises(ImageNotReachable) as refused:
        client()(url)
    assert message in refused.value.message and f"{url}/info.json" in refused.value.message
    assert refused.value.field == "url"
    assert time.monotonic() - started < 5


def test_a_server_that_hangs_is_given_up_on_time(iiif: IIIFServer) -> None:
    started = time.monotonic()
    with pytest.raises(ImageNotReachable, match="did not answer within 1 seconds"):
        client(timeout=1.0)(f"{iiif.url}/hang/p4")
    assert time.monotonic() - started < 3


def test_private_addresses_need_the_switch(iiif: IIIFServer) -> None:
    with pytest.raises(ImageNotReachable) as refused:
        IIIFInfoClient()(iiif.image_url("p5"))
    assert "internal address" in refused.value.message
    assert "WORKER_RUNS_IIIF_ALLOW_PRIVATE=1" in refused.value.message
    assert iiif.requests == []  # refused before any connection


def test_dns_answers_are_pinned_and_checked(iiif: IIIFServer) -> None:
    """A public-looking name resolving to loopback is refused; with the switch, the checked
    address is the one connected to (the name is never resolved again)."""
    resolver_calls: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        resolver_calls.append(host)
        return ["127.0.0.1"]

    url = iiif.image_url("p6").replace("127.0.0.1", "iiif.example.org")
    with pytest.raises(ImageNotReachable, match="internal address"):
        IIIFInfoClient(resolver=resolver)(url)
    assert IIIFInfoClient(allow_private=True, resolver=resolver)(url).width == PAGE_SIZE[0]
    assert resolver_calls == ["iiif.example.org", "iiif.example.org"]


def test_an_unreachable_server_is_named(iiif: IIIFServer) -> None:
    from worker_runs.ports import free_port

    url = f"http://127.0.0.1:{free_port()}/iiif/2/p7"
    with pytest.raises(ImageNotReachable, match="Cannot fetch .*/p7/info.json: connection failed"):
        client()(url)
