"""How requests travel: which HTTP client goes under httpx (clients.py), the chrome transport
that shakes hands as Chrome does (chrome.py), and reading a body within time and size bounds
(body.py). client.py builds on it; the CLI and the sync settings only name the clients."""
