"""The Gradio review UI, mounted into the API app (built by the review-UI issue; empty so far)."""
