"""Request bodies bounded while they arrive, before Gradio parses them: an ASGI middleware."""

from __future__ import annotations

import json

from stylize.core import images

from .hosting import VIDEO_LIMITS

MAX_JSON_BYTES = 2**20  # a request body that isn't an upload: the page's largest is a few kB
MAX_UPLOAD_FILES = 4  # files in one /upload request: the page sends one at a time
# Four pictures or one clip, and the form's own bytes; Gradio checks each file against hosting.MAX_UPLOAD too.
MAX_UPLOAD_BYTES = max(MAX_UPLOAD_FILES * images.MAX_FILE_BYTES, VIDEO_LIMITS.max_bytes + 2**20)


class BoundedBodies:
    """ASGI middleware: a request body over its bound is refused (413) while it arrives, before it is parsed.

    Gradio parses a JSON body whole and keeps it in the session's state; data URLs in it skip the upload limit.
    A body without Content-Length is counted as it comes, and cut off as a client disconnect at the bound.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        upload = scope["path"].rstrip("/").endswith("/upload")
        limit = MAX_UPLOAD_BYTES if upload else MAX_JSON_BYTES
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"0")
        if not length.isdigit() or int(length) > limit:
            return await refuse(send, f"this request's body is over this server's limit of {limit // 2**20} MB")
        boundary = headers.get(b"content-type", b"").partition(b"boundary=")[2].strip(b'"')
        seen, parts, tail, answered, over = 0, 0, b"", False, ""

        async def counted():
            nonlocal seen, parts, tail, over
            message = await receive()
            if message["type"] == "http.request" and not over:
                body = message.get("body", b"")
                seen += len(body)
                if upload and boundary:  # each part starts with --boundary; the last one ends with it
                    window = tail + body
                    parts += window.count(b"--" + boundary)
                    tail = window[-(len(boundary) + 1) :]
                if seen > limit:
                    over = f"this request's body is over this server's limit of {limit // 2**20} MB"
                elif parts > MAX_UPLOAD_FILES + 1:
                    over = f"one upload request may carry at most {MAX_UPLOAD_FILES} files"
                if over:
                    return {"type": "http.disconnect"}
            return message

        async def tracked(message):
            nonlocal answered
            if not over:  # once over, what the app makes of the cut-off body is replaced by the 413
                answered = answered or message["type"] == "http.response.start"
                await send(message)

        try:
            await self.app(scope, counted, tracked)
        except Exception:
            if not over:
                raise
        if over and not answered:
            await refuse(send, over)


async def refuse(send, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
