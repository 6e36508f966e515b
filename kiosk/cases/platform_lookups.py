"""Client of the platform's lookups (contract: docs/platform-api/openapi.json, tag ``lookups``).

An item's rules may read ``platform.<name>`` inputs (kiosk/review/inputs.py): values the platform
looks up in its registers for this citizen and this item (insured here, owns a home, …).  The
citizen is named by holder token (the ID number never leaves the terminal in clear); the request is
signed like every terminal request and the answer, signed by the platform, is validated through
:class:`LookupAnswer` and checked to answer this holder, this item and exactly the names asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field

from kiosk.cases.platform_transport import API, PlatformUnavailable

if TYPE_CHECKING:
    from kiosk.cases.platform_client import PlatformClient

HOLDER_PATTERN = r"^[0-9a-f]{64}$"
ITEM_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
MAX_NAMES = 16

LookupValue = bool | int | None


class LookupRequest(BaseModel):
    terminal_id: str = Field(min_length=1, max_length=64)
    holder: str = Field(pattern=HOLDER_PATTERN)
    item_id: str = Field(pattern=ITEM_PATTERN)
    names: list[Annotated[str, Field(pattern=NAME_PATTERN)]] = Field(min_length=1, max_length=MAX_NAMES)


class LookupAnswer(BaseModel):
    model_config = ConfigDict(frozen=True)

    holder: str = Field(pattern=HOLDER_PATTERN)
    item_id: str = Field(pattern=ITEM_PATTERN)
    values: dict[str, LookupValue] = Field(max_length=MAX_NAMES)
    looked_up_at: float


LOOKUP_MODELS: dict[str, type[BaseModel]] = {m.__name__: m for m in (LookupRequest, LookupAnswer)}


class LookupPlatform:
    """The lookups over one :class:`PlatformClient`'s signed transport."""

    def __init__(self, client: PlatformClient) -> None:
        self.client = client

    def look_up(self, id_number: str, item_id: str, names: list[str]) -> dict[str, LookupValue]:
        """``platform.<name>`` -> value for ``names`` (with the prefix), as the platform answered.

        Raises the client's :class:`PlatformError` family; an answer for another holder, item or
        other names is :class:`PlatformUnavailable` (nothing is read from it)."""
        bare = [n.removeprefix("platform.") for n in names]
        holder = self.client.holder_token(id_number)
        body = LookupRequest(terminal_id=self.client.terminal_id, holder=holder, item_id=item_id, names=bare)
        reply = self.client.transport.request("POST", f"{API}/lookups", json_body=body.model_dump())
        answer = self.client.transport.parse(reply, LookupAnswer, "platform lookup")
        if answer.holder != holder or answer.item_id != item_id or set(answer.values) != set(bare):
            raise PlatformUnavailable("the platform's lookup answer is not for this citizen, item and names")
        return {f"platform.{name}": answer.values[name] for name in bare}
