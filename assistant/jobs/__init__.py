"""The task queue: Huey (SQLite file by default, Redis when scaled out) runs drafting jobs."""
