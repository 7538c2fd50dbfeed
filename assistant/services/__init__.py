"""Services: the operations the CLI, the API and the review UI share."""
