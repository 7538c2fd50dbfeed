"""devrel-assistant: drafts for the people who run open-source communities, reviewed by humans."""

__version__ = "0.1.0"
