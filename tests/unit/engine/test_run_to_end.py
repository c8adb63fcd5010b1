"""A replay runs to its end from plain code and from inside a running event loop (a notebook)."""

from __future__ import annotations

import asyncio
import threading

from workbench.engine.loop import run_to_end


async def _where() -> str:
    await asyncio.sleep(0)
    return threading.current_thread().name


def test_from_plain_code_on_this_thread() -> None:
    assert run_to_end(_where()) == threading.current_thread().name


def test_from_inside_a_running_loop_on_a_thread_of_its_own() -> None:
    async def notebook_cell() -> str:
        return run_to_end(_where())

    assert asyncio.run(notebook_cell()).startswith("block-loop")
