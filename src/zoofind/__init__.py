"""zoofind: find and fetch pretrained models and deep-learning resources for science."""

__version__ = "0.1.0"
