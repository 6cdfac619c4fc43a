"""Training, evaluation and prediction with PyTorch (imported only by those commands)."""
