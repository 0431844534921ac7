"""What every method shares: settings, images, files, errors, caches, quiet start-up, limits and cost models."""
