"""Directory passwords by bind; the scheduler and its lease. (DirectoryService over gRPC, with
the hub's admin check, and the admin verbs are tested against a whole hub in test_hub_wiring.py.)"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from card_numbers import ConversionChain
from hub_server.dirsync.config import DirectoryConfig
from hub_server.dirsync.passwords import DirectoryPasswords, Verdict
from hub_server.dirsync.scheduler import SyncScheduler
from hub_server.dirsync.sync import DirectorySync
from hub_server.domain.dirsync_store import SqlUserStore
from tests.hub_server.dirsync.conftest import Subtree
from tests.slapd import SiteGroup, SiteUser


@pytest.fixture
def directory(ad_tree: Subtree, store: SqlUserStore) -> DirectorySync:
    ad_tree.add(
        [
            SiteUser("ann", full_name="Ann A", badge="10", groups=["staff"], password="ann-directory-pw"),
            SiteUser("bob", full_name="Bob B", badge="11", groups=["staff"], password="bob-directory-pw"),
        ],
        [SiteGroup("staff")],
    )
    return DirectorySync(DirectoryConfig(sources=(ad_tree.source(),)), store, ConversionChain.parse)


async def test_directory_passwords_bind_as_the_user(directory: DirectorySync, ad_tree: Subtree) -> None:
    await asyncio.to_thread(directory.sync, "ad")
    passwords = DirectoryPasswords(directory.config, directory.store)
    check = passwords.verify
    assert await asyncio.to_thread(check, "ann", "ann-directory-pw") is Verdict.MATCH
    assert await asyncio.to_thread(check, "ann", "bob-directory-pw") is Verdict.MISMATCH
    assert await asyncio.to_thread(check, "ann", "") is Verdict.MISMATCH  # never an anonymous bind
    assert await asyncio.to_thread(check, "nobody", "x") is Verdict.NOT_DIRECTORY_USER
    # disabled in the directory: refused even with the right password
    ad_tree.modify(
        f"dn: cn=bob,ou=people,{ad_tree.base}\nchangetype: modify\n"
        "replace: userAccountControl\nuserAccountControl: 514\n"
    )
    assert await asyncio.to_thread(check, "bob", "bob-directory-pw") is Verdict.MISMATCH
    # the directory is down: unavailable (the hub applies password_outage), not a mismatch
    down = DirectoryConfig(sources=(ad_tree.source(servers=["ldaps://127.0.0.1:9"], connect_timeout_s=1.0),))
    assert (
        await asyncio.to_thread(DirectoryPasswords(down, directory.store).verify, "ann", "ann-directory-pw")
        is Verdict.UNAVAILABLE
    )
    assert not passwords.outage_falls_back_to_local


async def _rounds(scheduler: SyncScheduler, count: int) -> None:
    for _ in range(600):
        if scheduler.completed_rounds >= count:
            return
        await asyncio.sleep(0.05)


async def test_the_scheduler_syncs_every_source_and_records_failures(
    directory: DirectorySync, ad_tree: Subtree
) -> None:
    scheduler = SyncScheduler(directory, interval_s=3600, first_run_after_s=0)
    started_us = directory.clock_us()
    scheduler.start()
    await _rounds(scheduler, 1)
    assert scheduler.completed_rounds == 1
    # the next round is recorded with the lease, for status in any process
    next_run_us = directory.store.scheduled_run_us()
    assert started_us + 3600 * 1_000_000 <= next_run_us <= directory.clock_us() + 3600 * 1_000_000
    assert directory.status()[0].next_run_us == 0  # this hub's config schedules nothing
    directory.config = replace(directory.config, sync_interval_s=3600)
    assert directory.status()[0].next_run_us == next_run_us
    await scheduler.stop()
    assert directory.store.linked_counts("ad") == (2, 0)
    assert [run.outcome for run in directory.store.runs("ad", 5)] == ["applied"]
    # a refused scheduled run is recorded, never forced
    ad_tree.directory.server.delete(
        ad_tree.suffix, f"cn=ann,ou=people,{ad_tree.base}", f"cn=bob,ou=people,{ad_tree.base}"
    )
    await scheduler.run_once()
    assert [run.outcome for run in directory.store.runs("ad", 5)] == ["refused", "applied"]
    assert directory.store.linked_counts("ad") == (2, 0)
    with pytest.raises(ValueError):
        SyncScheduler(directory, interval_s=0)


async def test_one_process_of_the_site_runs_the_schedule(directory: DirectorySync) -> None:
    """Two hub processes on one database: the lease holder syncs, the other stands by and takes
    over once the holder stopped renewing (its lease ran out: two intervals later)."""
    later_us = [0]
    holder = SyncScheduler(directory, interval_s=3600, first_run_after_s=0, holder="hub-a")
    standby = SyncScheduler(
        directory,
        interval_s=3600,
        first_run_after_s=0,
        holder="hub-b",
        standby_check_s=0.05,
        wall_clock_us=lambda: directory.clock_us() + later_us[0],
    )
    holder.start()
    await _rounds(holder, 1)
    standby.start()
    await asyncio.sleep(0.5)  # ten standby checks, each refused: hub-a holds the schedule
    assert (holder.completed_rounds, standby.completed_rounds) == (1, 0)
    assert [run.outcome for run in directory.store.runs("ad", 5)] == ["applied"]
    await holder.stop()  # killed: it renews nothing any more
    later_us[0] = 3 * 3600 * 1_000_000  # past the lease of two intervals after its last claim
    await _rounds(standby, 1)
    await standby.stop()
    assert (holder.completed_rounds, standby.completed_rounds) == (1, 1)
    assert [run.outcome for run in directory.store.runs("ad", 5)] == ["applied", "applied"]
    assert not await holder.claim(0)  # hub-b holds it now
