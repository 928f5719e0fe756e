"""One place that picks a healthy host from the configured pool (``pool``), and the pool seen
as one provider and one model store (``pooled``)."""

from .pool import HostPool, Member, PoolUnreachable, fails_over
from .pooled import PooledProvider, PooledStore

__all__ = ["HostPool", "Member", "PoolUnreachable", "PooledProvider", "PooledStore", "fails_over"]
