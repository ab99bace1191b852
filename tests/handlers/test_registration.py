"""Every registered listener asks Bolt, by parameter name, only for arguments Bolt has."""

from __future__ import annotations

import inspect

from slack_bolt.kwargs_injection.args import Args
from slack_bolt.util.utils import get_arg_names_of_callable

from tests.support.listeners import Listeners

BOLT_ARGS = set(inspect.signature(Args.__init__).parameters) - {"self", "kwargs"}


def test_listeners_name_only_bolt_arguments(app: Listeners) -> None:
    assert len(app.registered) > 30
    for (kind, key), listener in app.registered.items():
        names = get_arg_names_of_callable(listener)
        # `deps` is bound before Bolt sees the listener; a listener Bolt passes nothing is broken.
        assert names, (kind, key)
        assert set(names) <= BOLT_ARGS, (kind, key, set(names) - BOLT_ARGS)
