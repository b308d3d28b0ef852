"""The 1 MiB body cap holds for the bytes actually read: a chunked body over it is 413, nothing stored."""

from __future__ import annotations

import io

from tests.web.conftest import SECRET
from tests.web.test_hooks import amo_add, stored
from webhook_app.web.app import MAX_BODY_BYTES

FORM = "application/x-www-form-urlencoded"


def padded(size: int) -> bytes:
    """A valid amoCRM webhook of exactly `size` bytes (an extra field carries the padding)."""
    body = amo_add("1").encode() + b"&pad="
    return body + b"x" * (size - len(body))


def post_streamed(stack, body: bytes):
    """POST without Content-Length, read to its end by the server (as gunicorn does with chunked)."""
    return stack.client.post(
        f"/hooks/amocrm/{SECRET}",
        input_stream=io.BytesIO(body),
        content_type=FORM,
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_streamed_body_over_the_cap_gets_413_and_nothing_is_stored(stack):
    response = post_streamed(stack, padded(2 * 1024 * 1024))
    assert response.status_code == 413 and stored(stack) == 0


def test_a_streamed_body_one_byte_over_the_cap_gets_413(stack):
    assert post_streamed(stack, padded(MAX_BODY_BYTES + 1)).status_code == 413
    assert stored(stack) == 0


def test_a_streamed_body_of_exactly_the_cap_is_stored(stack):
    response = post_streamed(stack, padded(MAX_BODY_BYTES))
    assert response.status_code == 200, response.json
    assert stored(stack) == 1
