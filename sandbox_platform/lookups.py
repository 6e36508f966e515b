"""Platform lookups of the platform API: values the rules of an item read from the platform.

* ``POST /api/v1/lookups``: for one citizen (holder token, as for the citizen lookups:
  ``HMAC-SHA256(lookup_key, ID number)``; the ID number never travels) and one item, the values of
  the ``platform.<name>`` inputs the item's package declares (``review.inputs`` with source
  ``platform``), e.g. ``insured_here`` from the social-security register or ``owns_home`` from the
  real-estate register.  Values are flags and numbers only; ``null`` when the register has nothing
  on the citizen (the rules then send the application to staff).

Per-terminal authorisation: the request's ``terminal_id`` must be the calling terminal's, and a
terminal may look up only the names the item's package declares as platform inputs (403 for any
other name, 404 for an unknown item): a terminal cannot query the registers at will.  The answer is
signed like every ``/api/v1`` answer (X-Platform-Signature).  The sandbox seeds register values for
the demo citizens; ``/_sandbox/lookups`` sets more.
"""

import json
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field

from sandbox_platform.citizens import HOLDER_PATTERN, CitizenRegistry
from sandbox_platform.db import canonical_json, open_sqlite

API = "/api/v1"
ITEM_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
MAX_NAMES = 16
_ID_NUMBER = r"^[0-9]{17}[0-9Xx]$"

LookupValue = bool | int | None

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS register (
        holder TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (holder, name))""",
)


class LookupRequest(BaseModel):
    terminal_id: str = Field(min_length=1, max_length=64)
    holder: str = Field(pattern=HOLDER_PATTERN, description="Holder token of the citizen")
    item_id: str = Field(pattern=ITEM_PATTERN, description="The item whose rules read the values")
    names: list[Annotated[str, Field(pattern=NAME_PATTERN)]] = Field(
        min_length=1, max_length=MAX_NAMES, description="Input names without the platform. prefix"
    )


class LookupAnswer(BaseModel):
    holder: str = Field(pattern=HOLDER_PATTERN)
    item_id: str = Field(pattern=ITEM_PATTERN)
    values: dict[str, LookupValue] = Field(
        max_length=MAX_NAMES, description="Name -> flag or number; null when the register has nothing"
    )
    looked_up_at: float


class LookupSeed(BaseModel):
    id_number: str = Field(pattern=_ID_NUMBER)
    values: dict[str, LookupValue] = Field(max_length=MAX_NAMES)


#: The registers' answers for the demo citizens (ID number -> name -> value).
DEMO_REGISTER: dict[str, dict[str, LookupValue]] = {
    # 李建国 (the business card): insured here, unemployed involuntarily, no home of his own
    "37140219880721003X": {
        "insured_here": True,
        "insured_one_year": True,
        "involuntary": True,
        "unemployment_registered": True,
        "owns_home": False,
        "retired": False,
        "account_frozen": False,
    },
    # 王晓明 (the expired card; the demo agent's principal): no home of his own
    "371428197911020016": {"owns_home": False},
    # 张桂兰 (the senior card): retired, insured elsewhere
    "371402195203140022": {
        "insured_here": False,
        "retired": True,
        "account_frozen": False,
        "owns_home": True,
    },
}


class LookupRegister:
    """The registers the platform looks values up in (the sandbox's own SQLite file)."""

    def __init__(self, path: Path, citizens: CitizenRegistry, *, seed: bool = True) -> None:
        self._conn = open_sqlite(path, _SCHEMA)
        self.citizens = citizens
        self.lock = threading.RLock()
        if seed:
            for id_number, values in DEMO_REGISTER.items():
                self.set(id_number, values, replace=False)

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    def set(self, id_number: str, values: Mapping[str, LookupValue], *, replace: bool = True) -> None:
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        holder = self.citizens.holder(id_number)
        with self.lock:
            for name, value in values.items():
                self._conn.execute(
                    f"{verb} INTO register (holder, name, value) VALUES (?, ?, ?)",
                    (holder, name, canonical_json(value)),
                )

    def values(self, holder: str, names: list[str]) -> dict[str, LookupValue]:
        with self.lock:
            rows = dict(
                self._conn.execute("SELECT name, value FROM register WHERE holder = ?", (holder,)).fetchall()
            )
        return {n: json.loads(rows[n]) if n in rows else None for n in names}


def declared_platform_names(doc: Mapping[str, Any]) -> set[str]:
    """The ``platform.<name>`` inputs a package declares, without the prefix."""
    inputs = doc.get("review", {}).get("inputs") or ()
    return {
        str(d["name"]).split(".", 1)[1]
        for d in inputs
        if d.get("source") == "platform" and str(d.get("name", "")).startswith("platform.")
    }


def lookups_router(
    register: LookupRegister, terminal: Any, package: Callable[[str], Mapping[str, Any] | None]
) -> APIRouter:
    """The lookups, authenticated by ``terminal``; ``package`` gives a served package by item id."""
    router = APIRouter()
    Caller = Annotated[str, Depends(terminal)]

    @router.post(
        f"{API}/lookups",
        response_model=LookupAnswer,
        responses={404: {"description": "No such item"}},
        tags=["lookups"],
    )
    def look_up(req: LookupRequest, caller: Caller) -> LookupAnswer:
        if req.terminal_id != caller:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "terminal_id is not the caller's")
        doc = package(req.item_id)
        if doc is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no item {req.item_id!r}")
        allowed = declared_platform_names(doc)
        refused = sorted(set(req.names) - allowed)
        if refused:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"item {req.item_id!r} does not declare platform inputs {', '.join(refused)}",
            )
        return LookupAnswer(
            holder=req.holder,
            item_id=req.item_id,
            values=register.values(req.holder, list(dict.fromkeys(req.names))),
            looked_up_at=time.time(),
        )

    @router.post("/_sandbox/lookups", status_code=status.HTTP_204_NO_CONTENT, tags=["sandbox"])
    def set_values(seed: LookupSeed) -> None:
        register.set(seed.id_number, seed.values)

    return router
