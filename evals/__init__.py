"""Quality and speed evals of devrel-assistant, run as ``python -m evals.<name>``."""
