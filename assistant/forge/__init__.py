"""The forge below the features: the GitHub client, its JSON shapes, the ``Forge`` interface."""
