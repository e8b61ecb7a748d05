"""Handlers of the image commands (issue 10), registered in COMMAND_HANDLERS.

`iiif` is the info.json fetcher built in worker_runs.bootstrap (integrations/iiif.py), injected
by parameter name like `uow` and `actor`: the handler stays a few lines and tests pass a fake.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from commands import image_messages as im
from commands.aliases import IMAGE_SERVER_URL, IMAGE_URL
from commands.bus import Handler
from commands.messages import Command
from commands.unit_of_work import UnitOfWork
from domain.actor import Actor
from domain.image import (
    Image,
    ImageAlreadyExists,
    ImageServer,
    image_server_stream,
    image_stream,
    new_server_url,
    normalize_image_url,
    server_url_candidates,
    url_key,
)
from integrations.iiif import IIIFInfo, InfoFetcher


def _server_for(uow: UnitOfWork, url: str, info: IIIFInfo | None) -> ImageServer:
    """The server whose URL is the longest prefix of the image URL, or a new one."""
    for candidate in server_url_candidates(url):
        stream_id = uow.store.resolve(IMAGE_SERVER_URL.format(url_key(candidate)))
        if stream_id is not None:
            return uow.get(ImageServer, stream_id, "No such image server.")
    server_url = new_server_url(url)
    server_id = uow.new_id()
    server = uow.start(ImageServer, image_server_stream(server_id))
    server.create(
        server_id=server_id, url=server_url, display_name=urlsplit(server_url).netloc,
        version=info.version if info else 2,
        max_width=info.max_width if info else None, max_height=info.max_height if info else None,
    )
    uow.claim(IMAGE_SERVER_URL.format(url_key(server_url)), server.stream_id)
    return server


def create_iiif_url(
    cmd: im.CreateIIIFURL, uow: UnitOfWork, actor: Actor, iiif: InfoFetcher,
) -> dict[str, Any]:
    url = normalize_image_url(cmd.url)
    existing = uow.store.resolve(IMAGE_URL.format(url_key(url)))
    if existing is not None:
        raise ImageAlreadyExists(
            f"An image with the URL {url} already exists.", existing_id=existing.removeprefix("image-"),
        )
    # Asked before anything is decided: an unreachable server leaves nothing stored.
    info = iiif(url) if cmd.width is None or cmd.height is None else None
    server = _server_for(uow, url, info)
    image_id = uow.new_id()
    image = uow.start(Image, image_stream(image_id))
    image.create(
        server, image_id=image_id, url=url, width=info.width if info else cmd.width,
        height=info.height if info else cmd.height, status="checked" if info else "unchecked",
        user_id=actor.user_id,
    )
    uow.claim(IMAGE_URL.format(url_key(url)), image.stream_id)
    return {"image_id": image_id}


def update_image_status(cmd: im.UpdateImageStatus, uow: UnitOfWork, iiif: InfoFetcher) -> dict[str, Any]:
    image = uow.get(Image, image_stream(cmd.image_id), "No such image.")
    if cmd.status == "checked" and image.status != "checked":
        # "checked" means the IIIF server confirmed the size (as when CreateIIIFURL reads it):
        # an image registered with a given size is checked now, or refused with the reason.
        image.confirm_size(iiif(image.url))
    image.update_status(cmd.status)
    return {"image_id": cmd.image_id}


IMAGE_HANDLERS: dict[type[Command], Handler] = {
    im.CreateIIIFURL: create_iiif_url,
    im.UpdateImageStatus: update_image_status,
}
