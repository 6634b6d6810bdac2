"""A report written in a language triage does not read, sent as a customer's client sends it."""

from __future__ import annotations

from tests.conftest import Bugline
from tests.integration.test_intake import headers

SPANISH = {
    "title": "No puedo pagar",
    "description": "Cuando hago clic en Pagar en la página de pago aparece el error 'Pago rechazado'. "
    "Esperaba que se procesara el pedido. Pasa siempre, a todos nuestros clientes.",
}


async def send_spanish(b: Bugline) -> str:
    """Sends ``SPANISH``, lets triage run, and returns the report's id."""
    res = await b.client.post("/api/v1/reports", json=SPANISH, headers=headers(b))
    assert res.status_code == 201, res.text
    await b.triaged()
    return str(res.json()["id"])
