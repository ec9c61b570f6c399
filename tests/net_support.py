"""A 127.0.0.1 port that refuses connections, held for as long as a test needs it.

Binding port 0 and closing the socket gives a port that is free *now*; on a busy machine another
process (a parallel test run, an outgoing connection picking an ephemeral port) can take it
before the test connects, and "refused" becomes "connected to something". A socket that is bound
but never listens keeps the port ours, and the kernel refuses every connection to it.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def refusing_port() -> Iterator[int]:
    """A port nobody can listen on while the block runs: connecting to it is refused at once."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]
