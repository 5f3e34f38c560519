"""ccTalk coin acceptor: coin table (header 184), inhibits, buffered credit (header 229)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from cash_devices.base import Denomination
from cash_devices.cctalk import CcTalkLink, Header
from cash_devices.cctalk_acceptor import CcTalkAcceptor
from cash_devices.codes import describe_coin_code
from cash_devices.counter import NewPair
from cash_devices.events import CoinAccepted, CounterState, UnmappedCredit
from cash_devices.profiles import parse_coin_id

__all__ = ["CcTalkCoinAcceptor"]

POSITIONS = range(1, 17)


class CcTalkCoinAcceptor(CcTalkAcceptor):
    """A ccTalk coin acceptor (default address 2).

    A credit pair (result A = coin position 1-255, B = sorter path) becomes
    :class:`CoinAccepted` when the position has a known value and :class:`UnmappedCredit`
    (an operator alarm, no credit) otherwise; result A = 0 carries an error code.
    """

    poll_header: ClassVar[int] = Header.READ_BUFFERED_CREDIT
    default_address: ClassVar[int] = 2

    def __init__(
        self,
        link: CcTalkLink,
        address: int = 2,
        *,
        poll_interval_s: float = 0.1,
        resume: CounterState | None = None,
        owns_link: bool = True,
        offline_after_failures: int = 3,
        coin_values: Mapping[str, tuple[int, str]] | None = None,
    ) -> None:
        super().__init__(
            link,
            address,
            poll_interval_s=poll_interval_s,
            resume=resume,
            owns_link=owns_link,
            offline_after_failures=offline_after_failures,
        )
        self._coin_values = coin_values

    async def _read_denominations(self) -> dict[int, Denomination]:
        table: dict[int, Denomination] = {}
        for position in POSITIONS:
            coin_id = await self._ascii(Header.REQUEST_COIN_ID, bytes([position]))
            parsed = parse_coin_id(coin_id, self._coin_values)
            if parsed is not None:
                table[position] = Denomination(position, coin_id, *parsed)
        return table

    async def _configure(self) -> None:
        """Coin acceptors need nothing beyond the inhibits."""

    def _on_pair(self, pair: NewPair) -> None:
        if pair.result_a == 0:
            if pair.result_b != 0:  # 0/0 is the null event
                self._emit_error(pair.result_b, describe_coin_code(pair.result_b))
            return
        denomination = self.denominations.get(pair.result_a)
        if denomination is None:
            self._health.last_error = f"coin kept in unmapped position {pair.result_a}; not credited"
            self._health.kept_without_credit += 1
            self._emit(
                UnmappedCredit(
                    device_serial=self.device_serial,
                    position=pair.result_a,
                    event_counter=pair.event_counter,
                    epoch=pair.epoch,
                )
            )
            return
        self._emit(
            CoinAccepted(
                device_serial=self.device_serial,
                value_minor=denomination.value_minor,
                currency=denomination.currency,
                event_counter=pair.event_counter,
                epoch=pair.epoch,
                position=pair.result_a,
                coin_id=denomination.code,
                sorter_path=pair.result_b,
            )
        )
