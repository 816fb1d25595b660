"""The API's payloads as typed models: what requests may hold, and what answers hold."""
