"""One screen per session step.  Screens are passive: they show the facade's view-models
(:mod:`ui.viewmodels`) and call facade methods; the facade starts the work each step needs."""

from __future__ import annotations

from collections.abc import Callable

from ui.facade import KioskFacade
from ui.screens.base import Screen
from ui.screens.catalogue import CatalogueScreen
from ui.screens.decision import BusyScreen, ConfirmSignScreen, ResultScreen
from ui.screens.form import FormScreen, MaterialsScreen
from ui.screens.identity import FaceScreen, ReadCardScreen, StaffAssistScreen
from ui.screens.out_of_service import OutOfServiceScreen
from ui.screens.problems import DeviceProblemScreen
from ui.screens.rating import RatingScreen
from ui.screens.start import AttractScreen
from ui.viewmodels import Step

__all__ = [
    "AttractScreen",
    "BusyScreen",
    "CatalogueScreen",
    "ConfirmSignScreen",
    "DeviceProblemScreen",
    "FaceScreen",
    "FormScreen",
    "MaterialsScreen",
    "OutOfServiceScreen",
    "RatingScreen",
    "ReadCardScreen",
    "ResultScreen",
    "Screen",
    "StaffAssistScreen",
    "all_screens",
    "screen_factories",
]


def screen_factories(facade: KioskFacade) -> dict[Step, Callable[[], Screen]]:
    """How to build each step's screen; the window builds one when its step is first shown
    (ui/screen_stack.py): the welcome screen comes up without the others being built first."""

    def maintenance() -> Screen:
        from ui.maintenance import MaintenanceScreen

        return MaintenanceScreen(facade)

    return {
        Step.ATTRACT: lambda: AttractScreen(facade),
        Step.CHOOSE_ITEM: lambda: CatalogueScreen(facade),
        Step.READ_CARD: lambda: ReadCardScreen(facade),
        Step.FACE_CHECK: lambda: FaceScreen(facade),
        Step.STAFF_ASSIST: lambda: StaffAssistScreen(facade),
        Step.FORM: lambda: FormScreen(facade),
        Step.MATERIALS: lambda: MaterialsScreen(facade),
        Step.REVIEW: lambda: BusyScreen(facade, Step.REVIEW, "review.running"),
        Step.CONFIRM_SIGN: lambda: ConfirmSignScreen(facade),
        Step.SUBMIT: lambda: BusyScreen(facade, Step.SUBMIT, "submit.running"),
        Step.RESULT: lambda: ResultScreen(facade),
        Step.RATING: lambda: RatingScreen(facade),
        Step.DEVICE_PROBLEM: lambda: DeviceProblemScreen(facade),
        Step.OUT_OF_SERVICE: lambda: OutOfServiceScreen(facade),
        Step.MAINTENANCE: maintenance,
    }


def all_screens(facade: KioskFacade) -> list[Screen]:
    """Every step's screen, built now."""
    return [build() for build in screen_factories(facade).values()]
