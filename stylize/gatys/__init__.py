"""Gatys et al.'s method: VGG feature networks, the loss terms, the objective, optimizers, the pace and the loop."""
