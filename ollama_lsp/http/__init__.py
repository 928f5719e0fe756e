"""HTTP plumbing shared by every backend (Ollama's API and OpenAI-compatible servers).

Where a server is (``endpoint``), how requests survive cancellation (``exchange``), the pool
that is rebuilt if it wedges (``connections``), and what TLS trusts (``tls``). Nothing here
knows a backend's routes or bodies.
"""
