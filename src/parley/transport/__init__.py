"""The ASGI edge: HTTP for both AWS services, the admin namespace, later the WebSocket."""
