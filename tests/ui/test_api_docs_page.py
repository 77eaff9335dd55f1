"""/api/docs renders every operation of the OpenAPI document in Chromium, from the server alone."""

from __future__ import annotations

from playwright.sync_api import expect


def test_the_docs_page_renders_every_operation_without_leaving_the_server(page, live_server, client):
    document = client.get("/api/v1/openapi.json").get_json()
    operations = sum(1 for item in document["paths"].values() for method in item if method in {"get", "put", "post", "delete", "patch"})

    page.goto(f"{live_server}/api/docs")

    expect(page.locator(".opblock")).to_have_count(operations)  # waits for Swagger UI to render them
    assert page.locator(".info .title").inner_text().startswith(document["info"]["title"])
    assert page.watch.foreign_requests == []
    assert page.watch.errors == []


def test_an_operation_opens_with_its_parameters_and_responses(page, live_server):
    page.goto(f"{live_server}/api/docs")
    booking = page.locator(".opblock-post", has_text="/api/v1/t/{tenant_slug}/bookings").first
    booking.locator(".opblock-summary").click()

    body = booking.locator(".opblock-body")
    expect(body).to_contain_text("Idempotency-Key")
    expect(booking.locator(".responses-table .response").first).to_be_visible()
    assert booking.locator(".responses-table .response").count() >= 2
