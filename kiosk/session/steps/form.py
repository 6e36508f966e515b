"""The form step: the item's form with what the terminal already knows filled in."""

from __future__ import annotations

from collections.abc import Mapping

from kiosk import logsetup
from kiosk.session.context import SessionContext
from kiosk.session.forms import known_values
from kiosk.session.machine import SessionData, Step
from kiosk.session.steps.card import complete_qr_identity
from kiosk.session.values import FormField


def _card_source(source: str | None) -> bool:
    """Whether a form field's value comes from the ID card."""
    return source is not None and source.startswith("idcard.")


def session_known_values(ctx: SessionContext, data: SessionData) -> dict[str, str]:
    """Source key → value for what the card and the extracted materials of ``data`` say."""
    materials = {t: {k: f.value for k, f in r.fields.items()} for t, r in data.application.materials.items()}
    card = data.identity.card.text if data.identity.card is not None else None
    return known_values(card, materials, ctx.clock().date())


class FormStep:
    def __init__(self, ctx: SessionContext) -> None:
        self.ctx = ctx

    def fields(self) -> list[FormField]:
        """The item's form with what the terminal already knows filled in."""
        data = self.ctx.data
        applying = self.ctx.applying(data)  # 一件事: the life event's one form
        known = session_known_values(self.ctx, data)
        fields: list[FormField] = []
        for spec in applying.form:
            current = data.application.form.get(spec.key)
            value = current if current is not None else known.get(spec.source or "", spec.default or "")
            readonly = spec.readonly
            if (
                readonly
                and not value
                and (
                    data.identity.identity_source in ("qr", "ssc")
                    or (current is None and _card_source(spec.source))
                )
            ):
                # what the identity should fill but cannot (the address: not in a QR identity,
                # not on a foreigner's card): the citizen types it
                readonly = False
            fields.append(
                FormField(
                    key=spec.key,
                    label=(spec.label_zh, spec.label_en),
                    value=value,
                    readonly=readonly,
                    prefilled=current is None and bool(value),
                    required=spec.required,
                    kind=spec.type,
                )
            )
        return fields

    def known_values(self) -> dict[str, str]:
        """Source key → value for everything the current session knows (card, materials)."""
        return session_known_values(self.ctx, self.ctx.data)

    def submit(self, values: Mapping[str, str]) -> dict[str, str]:
        """Validate the form; on success go on.  Returns field key → i18n error key."""
        data = self.ctx.data
        pkg = self.ctx.package(data)
        applying = self.ctx.applying(data)
        errors = applying.validate_form(values)
        self.ctx.touch()
        if errors:
            return errors
        data.application.form = dict(values)
        # the principal named on the form (代办) is personal data like the card's
        logsetup.register_sensitive(
            *(values.get(k, "").strip() for k in ("principal_id_number", "principal_name"))
        )
        if data.identity.identity_source in ("qr", "ssc"):  # no address on the carrier
            complete_qr_identity(data, pkg, values)
        self.ctx.go(Step.MATERIALS if applying.materials else Step.REVIEW)
        return {}
