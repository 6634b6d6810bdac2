"""Renderers: one ``ReportDocument`` into each target's format, the customer's text escaped.

``text``, ``markdown``, ``html`` and ``adf`` have ``report(doc)`` and ``update(change)``;
``blockkit`` has ``message(doc)`` and ``update(change)``. ``common`` holds ``title`` and
``labels`` and the helpers they share; ``outline`` decides the content once for all five.
"""
