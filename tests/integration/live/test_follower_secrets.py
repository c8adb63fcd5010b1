"""The follower forks a node whose URL carries a key (userinfo and a query): the key is
on no command line and in no environment of the Anvil it starts, nor in its log's tail, and the
follower works (it forked the node at the head asked for)."""

from __future__ import annotations

from pathlib import Path

from live.follower import Follower
from workbench.chain.anvil import Anvil

SECRET = "s3cr3tKEYs3cr3tKEYs3cr3tKEY0123"


def _proc(pid: int, what: str) -> bytes:
    return Path(f"/proc/{pid}/{what}").read_bytes()


def test_the_nodes_key_never_reaches_the_followers_process() -> None:
    with Anvil() as node:
        for _ in range(3):
            node.mine()
        url = f"http://searcher:{SECRET}@127.0.0.1:{node.port}/?key={SECRET}"
        follower = Follower(url, 2).start()
        try:
            fork = follower.node
            assert fork.proc is not None
            assert int(fork.rpc.call("eth_blockNumber"), 16) == 2
            head = node.rpc.call("eth_getBlockByNumber", ["0x2", False])["hash"]
            assert fork.rpc.call("eth_getBlockByNumber", ["0x2", False])["hash"] == head
            for what in ("cmdline", "environ"):
                assert SECRET.encode() not in _proc(fork.proc.pid, what), what
            follower.recover(1)  # a re-fork goes the same way
            assert int(fork.rpc.call("eth_blockNumber"), 16) == 1
            assert fork.log_path is not None
            fork.log_path.write_text(f"Fork: {url}\n")  # were Anvil ever to print it
            assert SECRET not in fork.log_tail() and "127.0.0.1" in fork.log_tail()
        finally:
            follower.stop()
