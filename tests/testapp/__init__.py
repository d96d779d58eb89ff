"""Small models of the machinery's own tests: they run in a copy of the project without the demo
shop (``make test-machinery``), so they must not need its models."""
