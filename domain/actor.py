"""Who is acting: the domain's view of the authenticated caller."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: str
    is_admin: bool = False


#: Commands issued by the service itself (CLI bootstrap, migrations) rather than a user.
SYSTEM = Actor(user_id="system", is_admin=True)


def slugify(text: str) -> str:
    """Free text -> a slug: lower case ASCII words joined by dashes ("My OCR" -> "my-ocr")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
