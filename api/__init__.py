"""The REST API, websocket and key checks; `views_api.api_router` includes them.

Routes are thin: parse, call a service, map a domain error to an HTTP status.
"""
