"""The HTTP service (FastAPI, ``/v1``): thin routers over the services in ``assistant.services``."""
