"""The LSP features, each a ``register(server)`` that adds its handlers: the handlers convert
LSP positions and parameters and hand the work to the engine or the model manager."""
