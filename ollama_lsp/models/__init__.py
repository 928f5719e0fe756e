"""Model management: presets, pulls, selection, memory budget."""
