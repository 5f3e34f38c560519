"""The host side of ``printgate image build``: each stage is cached by a hash of its inputs."""
