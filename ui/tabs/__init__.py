"""The review desk's tabs: each builds its components and wires them to the desk."""
