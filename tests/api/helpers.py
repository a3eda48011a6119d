"""Helpers for API tests; data is built through the API itself."""

from __future__ import annotations


def problems(response, status: int = 422) -> list[tuple]:
    """``(row, field, rule)`` of every issue in an error answer with ``status``."""
    assert response.status_code == status, response.text
    return [(d["row"], d["field"], d["rule"]) for d in response.json()["detail"]]


def created(response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


def ok(response) -> dict | list:
    assert response.status_code == 200, response.text
    return response.json()


def make_meter(client, code: str, node: str = "S1", **fields) -> dict:
    body = {"code": code, "name_zh": f"表{code}", "node": node, "carrier": "electricity",
            "unit": "kWh", **fields}
    return created(client.post("/api/meters", json=body))


def post_readings(client, rows: list[dict], **body) -> dict:
    return ok(client.post("/api/readings", json={"readings": rows, **body}))
