"""Running the sync by itself: what a job is (spec), how each platform's scheduler spells it
(render, pure), and installing it with that scheduler's own tools (backends)."""
