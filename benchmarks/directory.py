"""Directory sync speed: 100,000 users in 500 groups from a private slapd into a fresh hub database.

The AD-like tree of ``tests/slapd.py`` (objectGUID ids, userAccountControl, memberOf, badges in
decimal converted by ``dec2hex|lpad:8:0``) is generated once and bulk-loaded with slapadd into a
cached database (``--cache``, default ``~/.cache/printgate/bench-directory``); every run copies
that cache, so the directory starts identical each time. Each user is directly in two of the 500
groups; groups 0-99 sit inside groups 400-499 (nested, resolved here).

* ``dir_full_sync_s``: first sync into an empty hub (SQLite, the embedded default): read every
  user and group over ldaps:// with paged searches, plan, apply in one transaction.
* ``dir_incremental_s``: then 1 % of the users change in the directory (names, badges, accounts
  disabled, group moves; applied with ldapmodify, not timed) and the sync runs again.

Run: ``.venv/bin/python benchmarks/directory.py [--users 100000] [--groups 500]``. Last line:

    dir_full_sync_s=… dir_incremental_s=… dir_users=… cores=…
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from card_numbers import ConversionChain
from hub_server.dirsync.config import DirectoryConfig, load_source
from hub_server.dirsync.sync import DirectorySync
from hub_server.domain import open_hub_database
from hub_server.domain.dirsync_store import SqlUserStore
from tests.slapd import (
    AD_SUFFIX,
    SERVICE_PASSWORD,
    SiteGroup,
    SiteUser,
    SlapdServer,
    ad_group_dn,
    ad_ldif,
    ad_user_dn,
    make_tls,
    service_dn,
)

CACHE_VERSION = "v1"
BADGE_BASE = 3_000_000_000


def site(users: int, groups: int) -> tuple[list[SiteUser], list[SiteGroup]]:
    """The benchmark population (deterministic)."""
    rng = random.Random(100)
    nested = groups // 5
    site_groups = [
        SiteGroup(
            f"grp{i:03d}",
            groups=[f"grp{groups - nested + i:03d}"] if i < nested else [],
            guid=uuid.UUID(int=rng.getrandbits(128)),
        )
        for i in range(groups)
    ]
    site_users = [
        SiteUser(
            username=f"user{i:06d}",
            full_name=f"User Number {i}",
            email=f"user{i:06d}@example.test",
            department=f"Department {i % 40}",
            badge=str(BADGE_BASE + i),
            disabled=i % 97 == 0,
            groups=sorted({f"grp{i % groups:03d}", f"grp{(i * 7 + 3) % groups:03d}"}),
            guid=uuid.UUID(int=rng.getrandbits(128)),
        )
        for i in range(users)
    ]
    return site_users, site_groups


def prepare_cache(cache: Path, users: int, groups: int) -> Path:
    """The slapd databases with the population, built once (slapadd) and reused."""
    key = cache / f"{CACHE_VERSION}-{users}-{groups}"
    if (key / "ad" / "data.mdb").exists():
        return key
    build = Path(tempfile.mkdtemp(prefix="bench-slapd-build-"))
    server = SlapdServer(build / "slapd", make_tls(build / "tls"))
    server.configure(build / "data" / "ad", build / "data" / "openldap")
    server.seed()
    site_users, site_groups = site(users, groups)
    started = time.monotonic()
    server.load_offline(AD_SUFFIX, ad_ldif(AD_SUFFIX, site_users, site_groups, with_member_of=True))
    print(f"# slapadd of {users} users: {time.monotonic() - started:.1f} s (cached in {key})", flush=True)
    key.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(build / "data"), str(key))
    shutil.rmtree(build, ignore_errors=True)
    return key


def change_one_percent(server: SlapdServer, users: int, groups: int) -> int:
    """Change 1 % of the users online: renames of display names, new badges, disables, group moves."""
    rng = random.Random(7)
    chosen = rng.sample(range(users), users // 100)
    records = []
    for n, i in enumerate(chosen):
        dn = ad_user_dn(AD_SUFFIX, f"user{i:06d}")
        kind = n % 4
        if kind == 0:
            records.append(f"dn: {dn}\nchangetype: modify\nreplace: displayName\ndisplayName: Renamed {i}\n")
        elif kind == 1:
            records.append(
                f"dn: {dn}\nchangetype: modify\nreplace: employeeID\nemployeeID: {BADGE_BASE + users + i}\n"
            )
        elif kind == 2:
            records.append(
                f"dn: {dn}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 514\n"
            )
        else:
            current = {i % groups, (i * 7 + 3) % groups}
            old = f"grp{i % groups:03d}"
            new = f"grp{next(g for g in range(i + 1, i + 4) if g % groups not in current) % groups:03d}"
            records.append(
                f"dn: {ad_group_dn(AD_SUFFIX, old)}\nchangetype: modify\ndelete: member\nmember: {dn}\n\n"
                f"dn: {ad_group_dn(AD_SUFFIX, new)}\nchangetype: modify\nadd: member\nmember: {dn}\n"
            )
    server.modify(AD_SUFFIX, "\n".join(records))
    return len(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=500)
    parser.add_argument(
        "--cache", type=Path, default=Path.home() / ".cache" / "printgate" / "bench-directory"
    )
    args = parser.parse_args()
    cached = prepare_cache(args.cache, args.users, args.groups)
    work = Path(tempfile.mkdtemp(prefix="bench-directory-"))
    server = SlapdServer(work / "slapd")
    try:
        shutil.copytree(cached, work / "data")
        server.configure(work / "data" / "ad", work / "data" / "openldap")
        server.start()
        password = work / "bind.secret"
        password.write_text(SERVICE_PASSWORD)
        password.chmod(0o600)
        source = load_source(
            {
                "name": "bench",
                "kind": "active_directory",
                "servers": [server.ldaps_url],
                "ca_file": str(server.tls.ca_file),
                "bind_dn": service_dn(AD_SUFFIX),
                "bind_password_file": str(password),
                "user_base_dns": [f"ou=people,{AD_SUFFIX}"],
                "group_base_dns": [f"ou=groups,{AD_SUFFIX}"],
                "page_size": 1000,
                "card_conversion": "dec2hex|lpad:8:0",
            },
            0,
        )
        db = open_hub_database(f"sqlite:///{work / 'hub.db'}")
        sync = DirectorySync(
            DirectoryConfig(sources=(source,), max_disable_percent=5.0),
            SqlUserStore(db),
            ConversionChain.parse,
        )
        started = time.monotonic()
        full = sync.sync("bench")
        full_s = time.monotonic() - started
        print(f"# full: read {full.read_s:.1f} s, {full.counts}", flush=True)
        changed = change_one_percent(server, args.users, args.groups)
        started = time.monotonic()
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            incremental = profiler.runcall(sync.sync, "bench")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
        else:
            incremental = sync.sync("bench")
        incremental_s = time.monotonic() - started
        print(
            f"# incremental ({changed} users changed): read {incremental.read_s:.1f} s, {incremental.counts}",
            flush=True,
        )
        users = db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM directory_links"))
        db.close()
        print(
            f"dir_full_sync_s={full_s:.2f} dir_incremental_s={incremental_s:.2f} "
            f"dir_users={users} cores={os.cpu_count()}"
        )
    finally:
        server.stop()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"# kept {work}")


if __name__ == "__main__":
    main()
