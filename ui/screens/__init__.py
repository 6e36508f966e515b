"""One screen per session step.  Screens are passive: they show the facade's view-models
(:mod:`ui.viewmodels`) and call facade methods; the facade starts the work each step needs."""

from __future__ import annotations

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
]


def all_screens(facade: KioskFacade) -> list[Screen]:
    from ui.maintenance import MaintenanceScreen

    return [
        AttractScreen(facade),
        CatalogueScreen(facade),
        ReadCardScreen(facade),
        FaceScreen(facade),
        StaffAssistScreen(facade),
        FormScreen(facade),
        MaterialsScreen(facade),
        BusyScreen(facade, Step.REVIEW, "review.running"),
        ConfirmSignScreen(facade),
        BusyScreen(facade, Step.SUBMIT, "submit.running"),
        ResultScreen(facade),
        RatingScreen(facade),
        DeviceProblemScreen(facade),
        OutOfServiceScreen(facade),
        MaintenanceScreen(facade),
    ]
