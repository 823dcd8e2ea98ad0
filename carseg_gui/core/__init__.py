"""The headless engine: no Qt here, and TensorFlow is imported only inside the functions that need it."""
