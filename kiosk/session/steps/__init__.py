"""One service per step of the citizen session (card, face, form, materials, review, submit,
outputs, rating).  Each gets the :class:`kiosk.session.context.SessionContext` and only the
devices and collaborators its step uses; :mod:`kiosk.session.coordinator` ties them together."""
